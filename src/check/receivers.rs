//! The newer notifier kinds (Teams, Opsgenie, Telegram, Discord): the
//! Alertmanager version that first reads each one's credential from a file
//! (stackctl never writes a credential into the config), and the values
//! Alertmanager itself would reject when it loads the config.
//!
//! Versions, from `config/notifiers.go` and `config/config.go` at the tags:
//! Opsgenie `api_key_file` 0.24; Telegram 0.24, `bot_token_file` 0.26,
//! `message_thread_id` 0.28; Discord 0.25, `webhook_url_file` declared in 0.27
//! but a config using it alone fails to load until 0.28.0 (#3728); Teams
//! Workflows (`msteamsv2_configs`, with `webhook_url_file`) 0.28.

use super::Findings;
use crate::model::stack::Receiver;
use crate::model::types::Version;
use crate::path;
use crate::yaml::node::Path;

pub fn check(receiver: &Receiver, r: usize, version: &Version, found: &mut Findings) {
    let at = |kind: &str, i: usize| path!["alerting", "receivers", r, kind, i];
    let field = |kind: &str, i: usize, key: &str| path!["alerting", "receivers", r, kind, i, key];
    let name = &receiver.name;
    for (i, _) in receiver.msteams.iter().enumerate() {
        if !version.at_least(0, 28, 0) {
            found.error(
                field("msteams", i, "webhook_url_secret"),
                format!("Microsoft Teams with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins {version})"),
                "0.28 adds `msteamsv2_configs` for Teams Workflows webhooks; 0.26 and 0.27 only post to Office 365 connectors, which Microsoft retired, and 0.27 rejects `webhook_url_file` on its own: upgrade Alertmanager",
            );
        }
    }
    for (i, o) in receiver.opsgenie.iter().enumerate() {
        if !version.at_least(0, 24, 0) {
            found.error(
                field("opsgenie", i, "api_key_secret"),
                format!("Opsgenie `api_key_file` needs Alertmanager 0.24 or later (this stack pins {version})"),
                "upgrade Alertmanager",
            );
        }
        if let Some(p) = o.priority.as_deref().filter(|p| !p.contains("{{")) {
            if !matches!(p, "P1" | "P2" | "P3" | "P4" | "P5") {
                found.error(
                    field("opsgenie", i, "priority"),
                    format!("Opsgenie priority `{p}` is not one of `P1` … `P5`"),
                    "write `P1` (highest) to `P5`, or a template",
                );
            }
        }
        http_url(found, field("opsgenie", i, "api_url"), o.api_url.as_deref());
        for (j, who) in o.responders.iter().enumerate() {
            let here = || path!["alerting", "receivers", r, "opsgenie", i, "responders", j];
            if who.name.is_none() && who.id.is_none() && who.username.is_none() {
                found.error(
                    here(),
                    format!("an Opsgenie responder of receiver `{name}` names nobody"),
                    "set `name`, `id` or `username`",
                );
            }
            let kind = who.kind.to_ascii_lowercase();
            if !who.kind.contains("{{")
                && !matches!(
                    kind.as_str(),
                    "team" | "teams" | "user" | "escalation" | "schedule"
                )
            {
                let mut p = here();
                p.push(crate::yaml::node::Seg::Key("type".into()));
                found.error(
                    p,
                    format!("`{}` is not an Opsgenie responder type", who.kind),
                    "write `team`, `teams`, `user`, `escalation` or `schedule`",
                );
            }
        }
    }
    for (i, t) in receiver.telegram.iter().enumerate() {
        if !version.at_least(0, 24, 0) {
            found.error(
                at("telegram", i),
                format!("Telegram needs Alertmanager 0.24 or later (this stack pins {version})"),
                "upgrade Alertmanager",
            );
        } else if !version.at_least(0, 26, 0) {
            found.error(
                field("telegram", i, "bot_token_secret"),
                format!("Telegram `bot_token_file` needs Alertmanager 0.26 or later (this stack pins {version})"),
                "upgrade Alertmanager: before 0.26 the bot token can only be written into the config",
            );
        }
        if t.chat_id == 0 {
            found.error(
                field("telegram", i, "chat_id"),
                "Telegram `chat_id` is 0",
                "write the numeric ID of the user, group or channel (groups and channels are negative)",
            );
        }
        if let Some(mode) = &t.parse_mode {
            if !matches!(mode.as_str(), "HTML" | "Markdown" | "MarkdownV2") {
                found.error(
                    field("telegram", i, "parse_mode"),
                    format!("`{mode}` is not a Telegram parse mode"),
                    "write `HTML`, `Markdown` or `MarkdownV2`",
                );
            }
        }
        if t.message_thread_id.is_some() && !version.at_least(0, 28, 0) {
            found.error(
                field("telegram", i, "message_thread_id"),
                format!("Telegram `message_thread_id` needs Alertmanager 0.28 or later (this stack pins {version})"),
                "remove it or upgrade Alertmanager",
            );
        }
        http_url(found, field("telegram", i, "api_url"), t.api_url.as_deref());
    }
    for (i, _) in receiver.discord.iter().enumerate() {
        if !version.at_least(0, 25, 0) {
            found.error(
                at("discord", i),
                format!("Discord needs Alertmanager 0.25 or later (this stack pins {version})"),
                "upgrade Alertmanager",
            );
        } else if !version.at_least(0, 28, 0) {
            found.error(
                field("discord", i, "webhook_url_secret"),
                format!("Discord with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins {version})"),
                "0.27 declares `webhook_url_file` but refuses a config that uses it alone (fixed in 0.28.0); upgrade Alertmanager",
            );
        }
    }
}

/// `alerting.watchdog.receiver` names a receiver; the generated rule
/// file's name is not taken by the spec.
pub fn watchdog(stack: &crate::model::Stack, found: &mut Findings) {
    use crate::plan::watchdog::{NULL_RECEIVER, RULE_FILE};
    let Some(alerting) = &stack.alerting else {
        return;
    };
    let names: Vec<&str> = alerting.receivers.iter().map(|r| r.name.as_str()).collect();
    if let Some(receiver) = alerting.watchdog.as_ref().and_then(|w| w.receiver.as_ref()) {
        if !names.contains(&receiver.as_str()) {
            found.error(
                path!["alerting", "watchdog", "receiver"],
                format!("the Watchdog goes to undefined receiver `{receiver}`"),
                "define it under `alerting.receivers`, or leave `receiver` out for a receiver without notifiers",
            );
        }
    }
    let generated = crate::plan::watchdog::of(stack).is_some_and(|w| w.generated_receiver);
    if generated && names.contains(&NULL_RECEIVER) {
        found.error(
            path!["alerting", "receivers"],
            format!(
                "receiver name `{NULL_RECEIVER}` is the one stackctl generates for the Watchdog"
            ),
            "rename the receiver, or set `alerting.watchdog.receiver` to it",
        );
    }
    if crate::plan::watchdog::of(stack).is_some() && stack.rules.contains_key(RULE_FILE) {
        found.error_at_key(
            path!["rules", RULE_FILE],
            format!("rule file name `{RULE_FILE}` is the one stackctl generates for the Watchdog"),
            "rename the rule file",
        );
    }
}

fn http_url(found: &mut Findings, at: Path, url: Option<&str>) {
    if let Some(url) = url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            found.error(at, format!("`{url}` is not an http(s) URL"), "");
        }
    }
}

/// The notification texts of the newer kinds (Go templates Alertmanager
/// parses when it sends), with where they are.
pub fn template_texts(receiver: &Receiver, r: usize) -> Vec<(Path, &str)> {
    fn add<'a>(
        out: &mut Vec<(Path, &'a str)>,
        r: usize,
        (kind, i): (&str, usize),
        key: &str,
        value: &'a Option<String>,
    ) {
        if let Some(v) = value {
            out.push((path!["alerting", "receivers", r, kind, i, key], v.as_str()));
        }
    }
    let mut out = Vec::new();
    for (i, t) in receiver.msteams.iter().enumerate() {
        add(&mut out, r, ("msteams", i), "title", &t.title);
        add(&mut out, r, ("msteams", i), "text", &t.text);
    }
    for (i, o) in receiver.opsgenie.iter().enumerate() {
        for (key, value) in [
            ("message", &o.message),
            ("description", &o.description),
            ("priority", &o.priority),
            ("tags", &o.tags),
        ] {
            add(&mut out, r, ("opsgenie", i), key, value);
        }
    }
    for (i, t) in receiver.telegram.iter().enumerate() {
        add(&mut out, r, ("telegram", i), "message", &t.message);
    }
    for (i, d) in receiver.discord.iter().enumerate() {
        add(&mut out, r, ("discord", i), "title", &d.title);
        add(&mut out, r, ("discord", i), "message", &d.message);
    }
    out
}

#[cfg(test)]
mod tests {
    fn messages(version: &str, receiver: &str) -> Vec<String> {
        let spec = format!(
            "stackctl: 1\nname: t\nsecrets:\n  k: {{}}\ncomponents:\n  prometheus: {{}}\n  alertmanager:\n    version: {version}\nalerting:\n  route:\n    receiver: r\n  receivers:\n    - name: r\n{receiver}"
        );
        let loaded = crate::load::load_text("stack.yaml", spec);
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn version_gates_name_the_release_that_adds_the_file_form() {
        let teams = "      msteams: [{webhook_url_secret: k}]\n";
        let telegram = "      telegram: [{bot_token_secret: k, chat_id: -100}]\n";
        let discord = "      discord: [{webhook_url_secret: k}]\n";
        let opsgenie = "      opsgenie: [{api_key_secret: k}]\n";
        let cases = [
            (
                "v0.27.0",
                teams,
                vec![
                    "Microsoft Teams with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins v0.27.0)",
                ],
            ),
            ("v0.28.0", teams, vec![]),
            (
                "v0.25.0",
                telegram,
                vec![
                    "Telegram `bot_token_file` needs Alertmanager 0.26 or later (this stack pins v0.25.0)",
                ],
            ),
            (
                "v0.23.0",
                telegram,
                vec!["Telegram needs Alertmanager 0.24 or later (this stack pins v0.23.0)"],
            ),
            ("v0.26.0", telegram, vec![]),
            (
                "v0.27.0",
                discord,
                vec![
                    "Discord with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins v0.27.0)",
                ],
            ),
            (
                "v0.24.0",
                discord,
                vec!["Discord needs Alertmanager 0.25 or later (this stack pins v0.24.0)"],
            ),
            ("v0.34.0", discord, vec![]),
            (
                "v0.23.0",
                opsgenie,
                vec![
                    "Opsgenie `api_key_file` needs Alertmanager 0.24 or later (this stack pins v0.23.0)",
                ],
            ),
            ("v0.25.0", opsgenie, vec![]),
        ];
        for (version, receiver, expected) in cases {
            assert_eq!(
                messages(version, receiver),
                expected,
                "{version} {receiver}"
            );
        }
    }

    #[test]
    fn values_alertmanager_rejects_are_errors() {
        let got = messages(
            "v0.34.0",
            "      opsgenie: [{api_key_secret: k, priority: P9, api_url: 'ftp://x', responders: [{type: squad, name: a}, {type: team}]}]\n      telegram: [{bot_token_secret: k, chat_id: 0, parse_mode: html}]\n",
        );
        assert_eq!(
            got,
            [
                "Opsgenie priority `P9` is not one of `P1` … `P5`",
                "`ftp://x` is not an http(s) URL",
                "`squad` is not an Opsgenie responder type",
                "an Opsgenie responder of receiver `r` names nobody",
                "Telegram `chat_id` is 0",
                "`html` is not a Telegram parse mode",
            ]
        );
    }

    #[test]
    fn the_watchdog_receiver_must_exist_and_generated_names_are_reserved() {
        let spec = |extra: &str| {
            format!(
                "stackctl: 1\nname: t\ncomponents:\n  prometheus: {{}}\n  alertmanager: {{}}\n{extra}"
            )
        };
        let errors = |text: String| -> Vec<String> {
            crate::load::load_text("stack.yaml", text)
                .diagnostics
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .map(|d| d.message.clone())
                .collect()
        };
        assert_eq!(
            errors(spec(
                "alerting:\n  watchdog: {receiver: snitch}\n  route: {receiver: a}\n  receivers: [{name: a}]\n"
            )),
            ["the Watchdog goes to undefined receiver `snitch`"]
        );
        assert_eq!(
            errors(spec(
                "rules:\n  stackctl-watchdog:\n    - name: g\n      rules: [{record: 'x:y', expr: vector(1)}]\nalerting:\n  route: {receiver: stackctl-null}\n  receivers: [{name: stackctl-null}]\n"
            )),
            [
                "rule file name `stackctl-watchdog` is the one stackctl generates for the Watchdog",
                "receiver name `stackctl-null` is the one stackctl generates for the Watchdog",
            ]
        );
        assert!(errors(spec("alerting:\n  watchdog: {receiver: a}\n  route: {receiver: a}\n  receivers: [{name: a}]\n")).is_empty());
    }
}
