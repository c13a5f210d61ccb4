//! The notifier kinds added after email, Slack, PagerDuty and webhook:
//! Microsoft Teams (the Workflows integration, `msteamsv2_configs`),
//! Opsgenie, Telegram and Discord. Every credential is the name of a secret;
//! the renderers write it as the `*_file` form, and `check::receivers` says
//! which Alertmanager version first offers that form.

use serde::{Deserialize, Serialize};

/// Microsoft Teams through a Workflows (Power Automate) webhook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsNotifier {
    /// Secret holding the Workflows webhook URL.
    pub webhook_url_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieNotifier {
    /// Secret holding the Opsgenie API key.
    pub api_key_secret: String,
    /// API endpoint (default Alertmanager's, `https://api.opsgenie.com/`;
    /// `https://api.eu.opsgenie.com/` for the EU instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `P1` … `P5` (or a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Comma-separated tags (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<OpsgenieResponder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

/// Who Opsgenie notifies: a team, user, escalation or schedule, named by
/// one of `name`, `id` or `username`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieResponder {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelegramNotifier {
    /// Secret holding the bot token.
    pub bot_token_secret: String,
    /// The chat (user, group or channel) ID.
    pub chat_id: i64,
    /// Bot API endpoint (default `https://api.telegram.org`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `HTML` (Alertmanager's default), `Markdown` or `MarkdownV2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_notifications: Option<bool>,
    /// Topic of a forum group (Alertmanager 0.28 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiscordNotifier {
    /// Secret holding the channel's webhook URL.
    pub webhook_url_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

/// One secret a newer notifier reads: its kind's spec key (`msteams`, …),
/// its index in that list, the field that names the secret, and the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    pub kind: &'static str,
    pub index: usize,
    pub field: &'static str,
    pub secret: &'a str,
}

/// The secrets of a receiver's Teams, Opsgenie, Telegram and Discord
/// notifiers, in spec order.
pub fn credentials(r: &super::stack::Receiver) -> Vec<Credential<'_>> {
    fn one<'a>(
        kind: &'static str,
        index: usize,
        field: &'static str,
        secret: &'a str,
    ) -> Credential<'a> {
        Credential {
            kind,
            index,
            field,
            secret,
        }
    }
    let mut out = Vec::new();
    for (i, t) in r.msteams.iter().enumerate() {
        out.push(one(
            "msteams",
            i,
            "webhook_url_secret",
            &t.webhook_url_secret,
        ));
    }
    for (i, o) in r.opsgenie.iter().enumerate() {
        out.push(one("opsgenie", i, "api_key_secret", &o.api_key_secret));
    }
    for (i, t) in r.telegram.iter().enumerate() {
        out.push(one("telegram", i, "bot_token_secret", &t.bot_token_secret));
    }
    for (i, d) in r.discord.iter().enumerate() {
        out.push(one(
            "discord",
            i,
            "webhook_url_secret",
            &d.webhook_url_secret,
        ));
    }
    out
}
