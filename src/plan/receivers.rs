//! `alertmanager.yml` blocks of the newer notifier kinds (Teams, Opsgenie,
//! Telegram, Discord). Credentials are always the `*_file` form: the secret
//! is mounted, never written into the config. Which version offers each
//! form is checked by `check::receivers` before anything is rendered.

use super::{Service, obj};
use crate::model::stack::Receiver;
use serde_json::{Map, Value, json};

/// Adds the receiver's Teams, Opsgenie, Telegram and Discord configs to `m`.
pub fn render(r: &Receiver, service: &mut Service, m: &mut Map<String, Value>) {
    if !r.msteams.is_empty() {
        let configs = r.msteams.iter().map(|t| {
            let mut c = obj();
            c.insert(
                "webhook_url_file".into(),
                json!(service.use_secret(&t.webhook_url_secret)),
            );
            opt(&mut c, "title", &t.title);
            opt(&mut c, "text", &t.text);
            flag(&mut c, "send_resolved", t.send_resolved);
            Value::Object(c)
        });
        let configs: Vec<Value> = configs.collect();
        // The Workflows integration; the older `msteams_configs` posts to
        // Office 365 connectors, which Microsoft has retired.
        m.insert("msteamsv2_configs".into(), Value::Array(configs));
    }
    if !r.opsgenie.is_empty() {
        let configs: Vec<Value> = r
            .opsgenie
            .iter()
            .map(|o| {
                let mut c = obj();
                c.insert(
                    "api_key_file".into(),
                    json!(service.use_secret(&o.api_key_secret)),
                );
                opt(&mut c, "api_url", &o.api_url);
                opt(&mut c, "message", &o.message);
                opt(&mut c, "description", &o.description);
                opt(&mut c, "priority", &o.priority);
                opt(&mut c, "tags", &o.tags);
                if !o.responders.is_empty() {
                    let list = o.responders.iter().map(|r| {
                        let mut e = obj();
                        e.insert("type".into(), json!(r.kind));
                        opt(&mut e, "name", &r.name);
                        opt(&mut e, "id", &r.id);
                        opt(&mut e, "username", &r.username);
                        Value::Object(e)
                    });
                    c.insert("responders".into(), Value::Array(list.collect()));
                }
                flag(&mut c, "send_resolved", o.send_resolved);
                Value::Object(c)
            })
            .collect();
        m.insert("opsgenie_configs".into(), Value::Array(configs));
    }
    if !r.telegram.is_empty() {
        let configs: Vec<Value> = r
            .telegram
            .iter()
            .map(|t| {
                let mut c = obj();
                c.insert(
                    "bot_token_file".into(),
                    json!(service.use_secret(&t.bot_token_secret)),
                );
                c.insert("chat_id".into(), json!(t.chat_id));
                opt(&mut c, "api_url", &t.api_url);
                opt(&mut c, "message", &t.message);
                opt(&mut c, "parse_mode", &t.parse_mode);
                flag(&mut c, "disable_notifications", t.disable_notifications);
                if let Some(id) = t.message_thread_id {
                    c.insert("message_thread_id".into(), json!(id));
                }
                flag(&mut c, "send_resolved", t.send_resolved);
                Value::Object(c)
            })
            .collect();
        m.insert("telegram_configs".into(), Value::Array(configs));
    }
    if !r.discord.is_empty() {
        let configs: Vec<Value> = r
            .discord
            .iter()
            .map(|d| {
                let mut c = obj();
                c.insert(
                    "webhook_url_file".into(),
                    json!(service.use_secret(&d.webhook_url_secret)),
                );
                opt(&mut c, "title", &d.title);
                opt(&mut c, "message", &d.message);
                flag(&mut c, "send_resolved", d.send_resolved);
                Value::Object(c)
            })
            .collect();
        m.insert("discord_configs".into(), Value::Array(configs));
    }
}

fn opt(c: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        c.insert(key.into(), json!(v));
    }
}

fn flag(c: &mut Map<String, Value>, key: &str, value: Option<bool>) {
    if let Some(v) = value {
        c.insert(key.into(), json!(v));
    }
}
