//! Teams, Opsgenie, Telegram and Discord notifiers in an `AlertmanagerConfig`
//! receiver (v1alpha1): camelCase keys, credentials as `SecretKeySelector`s
//! into the stack's Secret. Teams is `msteamsv2Configs` (the Workflows
//! integration, which the operator needs Alertmanager 0.28 for — the same
//! gate `validate` applies to the compose target).

use super::Ctx;
use crate::model::stack::Receiver;
use serde_json::{Map, Value, json};

pub fn render(ctx: &mut Ctx<'_>, r: &Receiver, user: &str, m: &mut Map<String, Value>) {
    if !r.msteams.is_empty() {
        let mut configs = Vec::new();
        for t in &r.msteams {
            let mut c = Map::new();
            c.insert("webhookURL".into(), ctx.secret(&t.webhook_url_secret, user));
            text(&mut c, "title", &t.title);
            text(&mut c, "text", &t.text);
            flag(&mut c, "sendResolved", t.send_resolved);
            configs.push(Value::Object(c));
        }
        m.insert("msteamsv2Configs".into(), Value::Array(configs));
    }
    if !r.opsgenie.is_empty() {
        let mut configs = Vec::new();
        for o in &r.opsgenie {
            let mut c = Map::new();
            c.insert("apiKey".into(), ctx.secret(&o.api_key_secret, user));
            text(&mut c, "apiURL", &o.api_url);
            text(&mut c, "message", &o.message);
            text(&mut c, "description", &o.description);
            text(&mut c, "priority", &o.priority);
            text(&mut c, "tags", &o.tags);
            if !o.responders.is_empty() {
                let list: Vec<Value> = o
                    .responders
                    .iter()
                    .map(|who| {
                        let mut e = Map::new();
                        // The CRD's enum is lower case; Alertmanager lowers it too.
                        e.insert("type".into(), json!(who.kind.to_ascii_lowercase()));
                        text(&mut e, "name", &who.name);
                        text(&mut e, "id", &who.id);
                        text(&mut e, "username", &who.username);
                        Value::Object(e)
                    })
                    .collect();
                c.insert("responders".into(), Value::Array(list));
            }
            flag(&mut c, "sendResolved", o.send_resolved);
            configs.push(Value::Object(c));
        }
        m.insert("opsgenieConfigs".into(), Value::Array(configs));
    }
    if !r.telegram.is_empty() {
        let mut configs = Vec::new();
        for t in &r.telegram {
            let mut c = Map::new();
            c.insert("botToken".into(), ctx.secret(&t.bot_token_secret, user));
            c.insert("chatID".into(), json!(t.chat_id));
            text(&mut c, "apiURL", &t.api_url);
            text(&mut c, "message", &t.message);
            text(&mut c, "parseMode", &t.parse_mode);
            flag(&mut c, "disableNotifications", t.disable_notifications);
            if let Some(id) = t.message_thread_id {
                c.insert("messageThreadID".into(), json!(id));
            }
            flag(&mut c, "sendResolved", t.send_resolved);
            configs.push(Value::Object(c));
        }
        m.insert("telegramConfigs".into(), Value::Array(configs));
    }
    if !r.discord.is_empty() {
        let mut configs = Vec::new();
        for d in &r.discord {
            let mut c = Map::new();
            c.insert("apiURL".into(), ctx.secret(&d.webhook_url_secret, user));
            text(&mut c, "title", &d.title);
            text(&mut c, "message", &d.message);
            flag(&mut c, "sendResolved", d.send_resolved);
            configs.push(Value::Object(c));
        }
        m.insert("discordConfigs".into(), Value::Array(configs));
    }
}

/// The CRD's strings have `minLength: 1`: an empty one is left out.
fn text(c: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
        c.insert(key.into(), json!(v));
    }
}

fn flag(c: &mut Map<String, Value>, key: &str, value: Option<bool>) {
    if let Some(v) = value {
        c.insert(key.into(), json!(v));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Ctx, Options};
    use serde_json::json;

    #[test]
    fn newer_notifiers_map_to_the_crd_fields() {
        let spec = r##"stackctl: 1
name: shop
secrets: {teams: {}, og: {}, tg: {}, dc: {}}
components:
  alertmanager: {}
alerting:
  route:
    receiver: all
  receivers:
    - name: all
      msteams: [{webhook_url_secret: teams, title: "{{ .CommonLabels.alertname }}"}]
      opsgenie:
        - api_key_secret: og
          priority: P2
          responders: [{type: Team, name: sre}]
      telegram: [{bot_token_secret: tg, chat_id: -1001, parse_mode: HTML}]
      discord: [{webhook_url_secret: dc, message: hi, send_resolved: false}]
"##;
        let loaded = crate::load::load_text("stack.yaml", spec.to_string());
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let stack = crate::resolve::Resolved::from_loaded(&loaded).unwrap();
        let mut ctx = Ctx::new(
            &stack,
            &Options {
                namespace: None,
                release: None,
            },
        );
        let mut out = Vec::new();
        super::super::alerting::alertmanager_config(&mut ctx, &mut out);
        let sel = |key: &str| json!({"name": "shop-secrets", "key": key});
        assert_eq!(
            out[0].value["spec"]["receivers"][0],
            json!({
                "name": "all",
                "msteamsv2Configs": [{"webhookURL": sel("teams"), "title": "{{ .CommonLabels.alertname }}"}],
                "opsgenieConfigs": [{"apiKey": sel("og"), "priority": "P2", "responders": [{"type": "team", "name": "sre"}]}],
                "telegramConfigs": [{"botToken": sel("tg"), "chatID": -1001, "parseMode": "HTML"}],
                "discordConfigs": [{"apiURL": sel("dc"), "message": "hi", "sendResolved": false}],
            })
        );
    }
}
