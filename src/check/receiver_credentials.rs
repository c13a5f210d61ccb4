//! Which receiver needs which notifier credential (SMTP password, Slack
//! webhook URL, PagerDuty routing key, webhook URL, Teams/Discord webhook URL,
//! Opsgenie API key, Telegram bot token), and which receivers
//! cannot deliver yet because such a file is empty. Shared by `up` (one
//! warning per receiver, or an error with `--strict-credentials`) and
//! `verify` (one failing check per receiver and file), so both name the
//! same files.

use super::files::secret_file;
use crate::model::Stack;
use std::path::Path;

/// A receiver and the secrets its notifiers read, in spec order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverCredentials {
    pub receiver: String,
    pub secrets: Vec<String>,
}

/// Every receiver that reads at least one credential.
pub fn by_receiver(stack: &Stack) -> Vec<ReceiverCredentials> {
    let Some(alerting) = &stack.alerting else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for receiver in &alerting.receivers {
        let mut secrets: Vec<String> = Vec::new();
        let mut add = |name: Option<&String>| {
            if let Some(name) = name {
                if !secrets.contains(name) {
                    secrets.push(name.clone());
                }
            }
        };
        if !receiver.email.is_empty() {
            add(alerting
                .smtp
                .as_ref()
                .and_then(|s| s.auth_password_secret.as_ref()));
        }
        for slack in &receiver.slack {
            add(slack
                .api_url_secret
                .as_ref()
                .or(alerting.slack_api_url_secret.as_ref()));
        }
        for pagerduty in &receiver.pagerduty {
            add(Some(&pagerduty.routing_key_secret));
        }
        for webhook in &receiver.webhook {
            add(webhook.url_secret.as_ref());
        }
        for c in crate::model::receivers::credentials(receiver) {
            add(Some(&c.secret.to_string()));
        }
        if !secrets.is_empty() {
            out.push(ReceiverCredentials {
                receiver: receiver.name.clone(),
                secrets,
            });
        }
    }
    out
}

/// A receiver that cannot deliver, with the files (relative to the stack
/// directory) that are empty or missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undeliverable {
    pub receiver: String,
    pub files: Vec<String>,
}

/// The receivers whose credentials are not filled in, judged by `is_empty`
/// on each secret's name (the caller knows where the values are).
pub fn undeliverable(stack: &Stack, is_empty: impl Fn(&str) -> bool) -> Vec<Undeliverable> {
    by_receiver(stack)
        .into_iter()
        .filter_map(|r| {
            let files: Vec<String> = r
                .secrets
                .iter()
                .filter(|name| is_empty(name))
                .map(|name| secret_file(stack, name))
                .collect();
            (!files.is_empty()).then_some(Undeliverable {
                receiver: r.receiver,
                files,
            })
        })
        .collect()
}

/// `undeliverable` with the values read from the stack directory: a file
/// that is missing or holds only whitespace counts as empty.
pub fn undeliverable_in(stack: &Stack, dir: &Path) -> Vec<Undeliverable> {
    undeliverable(stack, |name| {
        std::fs::read_to_string(dir.join(secret_file(stack, name)))
            .map(|v| v.trim().is_empty())
            .unwrap_or(true)
    })
}

/// The verify check's name for one file, as CI reads it.
pub fn check_name(file: &str) -> String {
    format!("cannot deliver: `{file}` is empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(yaml: &str) -> Stack {
        let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
        loaded.stack.expect("loads")
    }

    const SPEC: &str = "stackctl: 1\nname: t\nsecrets:\n  slack_webhook_url: {}\n  smtp_password: {}\n  pd: {}\ncomponents:\n  alertmanager: {}\nalerting:\n  smtp:\n    smarthost: mail:587\n    from: a@example.com\n    auth_username: a@example.com\n    auth_password_secret: smtp_password\n  slack_api_url_secret: slack_webhook_url\n  route:\n    receiver: team\n  receivers:\n    - name: team\n      email: [{to: t@example.com}]\n      slack: [{channel: '#a'}, {channel: '#b'}]\n    - name: pager\n      pagerduty: [{routing_key_secret: pd}]\n    - name: quiet\n";

    #[test]
    fn each_receiver_lists_its_credentials_once() {
        assert_eq!(
            by_receiver(&stack(SPEC)),
            [
                ReceiverCredentials {
                    receiver: "team".into(),
                    secrets: vec!["smtp_password".into(), "slack_webhook_url".into()],
                },
                ReceiverCredentials {
                    receiver: "pager".into(),
                    secrets: vec!["pd".into()],
                },
            ]
        );
    }

    #[test]
    fn only_empty_files_make_a_receiver_undeliverable() {
        let s = stack(SPEC);
        let found = undeliverable(&s, |name| name == "slack_webhook_url");
        assert_eq!(
            found,
            [Undeliverable {
                receiver: "team".into(),
                files: vec!["secrets/slack_webhook_url".into()],
            }]
        );
        assert!(undeliverable(&s, |_| false).is_empty());
    }
}
