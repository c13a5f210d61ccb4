//! alertmanager.yml onto `alerting:` — the route tree (deprecated `match` and
//! `match_re` become `matchers`), receivers (inline URLs and keys become
//! secrets), inhibit rules (`source_match` too) and time intervals.

use super::Ctx;
use super::report::Outcome;
use super::source::{self, Keys, SourceFile};
use crate::yaml::node::Node;
use serde_json::{Map, Value, json};

pub fn read(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    ctx.compared.push((
        crate::plan::alertmanager::CONFIG.into(),
        file.name.clone(),
        file.root.clone(),
    ));
    let root = Keys::new(&file.root);
    if ctx.get(&["components", "alertmanager"]).is_none() {
        ctx.set(&["components", "alertmanager"], json!({}));
    }
    ctx.from("/alerting".into(), f, 1);
    let mut alerting = Map::new();
    if let Some(g) = root.take("global") {
        let keys = Keys::new(g);
        if let Some(v) = keys.take_str("resolve_timeout") {
            alerting.insert("resolve_timeout".into(), json!(v));
        }
        if let Some(host) = keys.take_str("smtp_smarthost") {
            let mut smtp = Map::new();
            smtp.insert("smarthost".into(), json!(host));
            smtp.insert(
                "from".into(),
                json!(keys.take_str("smtp_from").unwrap_or_default()),
            );
            if let Some(v) = keys.take_str("smtp_hello") {
                smtp.insert("hello".into(), json!(v));
            }
            if let Some(v) = keys.take_str("smtp_auth_username") {
                smtp.insert("auth_username".into(), json!(v));
            }
            if let Some(s) = secret_of(
                ctx,
                f,
                &keys,
                "smtp_auth_password",
                "smtp_password",
                "SMTP password",
            ) {
                smtp.insert("auth_password_secret".into(), json!(s));
            }
            if let Some(v) = keys.take("smtp_require_tls") {
                smtp.insert("require_tls".into(), source::to_value(v));
            }
            alerting.insert("smtp".into(), Value::Object(smtp));
        }
        if let Some(s) = secret_of(
            ctx,
            f,
            &keys,
            "slack_api_url",
            "slack_webhook_url",
            "Slack webhook URL",
        ) {
            alerting.insert("slack_api_url_secret".into(), json!(s));
        }
        rest(ctx, f, &keys, "global");
    }
    if let Some(r) = root.take("route") {
        alerting.insert("route".into(), route(ctx, f, r));
    }
    let mut receivers = Vec::new();
    for r in root
        .take("receivers")
        .map(source::items)
        .unwrap_or_default()
    {
        if is_generated_null_receiver(r) {
            ctx.note(
                Outcome::AsIs,
                f,
                source::line(r),
                "stackctl's generated receiver for the `Watchdog`: render writes it again",
            );
            continue;
        }
        receivers.push(receiver(ctx, f, r));
    }
    alerting.insert("receivers".into(), Value::Array(receivers));
    let mut inhibits = Vec::new();
    for r in root
        .take("inhibit_rules")
        .map(source::items)
        .unwrap_or_default()
    {
        let keys = Keys::new(r);
        let mut m = Map::new();
        for side in ["source", "target"] {
            let list = matchers(
                ctx,
                f,
                &keys,
                &format!("{side}_matchers"),
                &format!("{side}_match"),
                &format!("{side}_match_re"),
            );
            if !list.is_empty() {
                m.insert(format!("{side}_matchers"), Value::Array(list));
            }
        }
        if let Some(e) = keys.take("equal") {
            m.insert("equal".into(), source::to_value(e));
        }
        rest(ctx, f, &keys, "an inhibit rule");
        inhibits.push(Value::Object(m));
    }
    if !inhibits.is_empty() {
        alerting.insert("inhibit_rules".into(), Value::Array(inhibits));
    }
    let mut intervals = Vec::new();
    for key in ["time_intervals", "mute_time_intervals"] {
        let Some(list) = root.take(key) else { continue };
        if key == "mute_time_intervals" {
            ctx.note(
                Outcome::Modernised,
                f,
                source::line(list),
                "`mute_time_intervals` (deprecated) imported as `time_intervals`",
            );
        }
        for t in source::items(list) {
            let keys = Keys::new(t);
            let name = keys.take_str("name").unwrap_or_default();
            let ranges: Vec<Value> = keys
                .take("time_intervals")
                .map(source::items)
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    let rk = Keys::new(r);
                    let mut m = Map::new();
                    if let Some(times) = rk.take("times") {
                        m.insert("times".into(), source::to_value(times));
                    }
                    for k in ["weekdays", "days_of_month", "months", "years"] {
                        if let Some(v) = rk.take(k) {
                            let list: Vec<Value> = source::items(v)
                                .iter()
                                .filter_map(source::text)
                                .map(Value::String)
                                .collect();
                            m.insert(k.into(), Value::Array(list));
                        }
                    }
                    if let Some(v) = rk.take_str("location") {
                        m.insert("location".into(), json!(v));
                    }
                    rest(ctx, f, &rk, "a time range");
                    Value::Object(m)
                })
                .collect();
            rest(ctx, f, &keys, "a time interval");
            intervals.push(json!({"name": name, "time_intervals": ranges}));
        }
    }
    if !intervals.is_empty() {
        alerting.insert("time_intervals".into(), Value::Array(intervals));
    }
    if let Some(t) = root.take("templates") {
        ctx.note(Outcome::NotExpressed, f, source::line(t), "`templates`: stackctl has no notification template files; write the text into each receiver (`subject`, `text`, `title`)");
    }
    rest(ctx, f, &root, "alertmanager.yml");
    ctx.set(&["alerting"], Value::Object(alerting));
}

fn rest(ctx: &mut Ctx, f: &str, keys: &Keys<'_>, what: &str) {
    for (k, l) in keys.rest() {
        ctx.note(
            Outcome::NotExpressed,
            f,
            l,
            format!("`{k}` in {what}: stackctl has no setting for it"),
        );
    }
}

/// `KEY` written inline (moved to a secret) or `KEY_file` (the secret it names).
fn secret_of(
    ctx: &mut Ctx,
    f: &str,
    keys: &Keys<'_>,
    key: &str,
    hint: &str,
    what: &str,
) -> Option<String> {
    if let Some(v) = keys.take(key) {
        let value = source::text(v).unwrap_or_default();
        return Some(ctx.secret(hint, &value, f, source::line(v), what));
    }
    let v = keys.take(&format!("{key}_file"))?;
    let path = source::text(v)?;
    let name = path
        .strip_prefix("/run/secrets/")
        .map(str::to_string)
        .unwrap_or_else(|| {
            std::path::Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| hint.into())
        });
    let host = ctx.host_path(&path);
    Some(ctx.secret_from_file(&name, host.as_deref(), f, source::line(v)))
}

fn quote(v: &str) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `matchers` as written, plus the deprecated maps turned into matchers.
fn matchers(ctx: &mut Ctx, f: &str, keys: &Keys<'_>, list: &str, eq: &str, re: &str) -> Vec<Value> {
    let mut out: Vec<Value> = keys
        .take(list)
        .map(source::items)
        .unwrap_or_default()
        .iter()
        .filter_map(source::text)
        .map(Value::String)
        .collect();
    for (key, op) in [(eq, "="), (re, "=~")] {
        if let Some(m) = keys.take(key) {
            let converted: Vec<String> = source::entries(m)
                .into_iter()
                .map(|(k, v)| format!("{k}{op}{}", quote(&source::text(v).unwrap_or_default())))
                .collect();
            ctx.note(
                Outcome::Modernised,
                f,
                source::line(m),
                format!("`{key}` (deprecated) imported as matchers {converted:?}"),
            );
            out.extend(converted.into_iter().map(Value::String));
        }
    }
    out
}

fn route(ctx: &mut Ctx, f: &str, r: &Node) -> Value {
    let keys = Keys::new(r);
    let mut m = Map::new();
    if let Some(v) = keys.take_str("receiver") {
        m.insert("receiver".into(), json!(v));
    }
    let list = matchers(ctx, f, &keys, "matchers", "match", "match_re");
    if !list.is_empty() {
        m.insert("matchers".into(), Value::Array(list));
    }
    if let Some(v) = keys.take("group_by") {
        let list: Vec<Value> = source::items(v)
            .iter()
            .filter_map(source::text)
            .map(Value::String)
            .collect();
        m.insert("group_by".into(), Value::Array(list));
    }
    for k in ["group_wait", "group_interval", "repeat_interval"] {
        if let Some(v) = keys.take_str(k) {
            m.insert(k.into(), json!(v));
        }
    }
    if let Some(v) = keys.take("continue") {
        m.insert("continue".into(), source::to_value(v));
    }
    for k in ["mute_time_intervals", "active_time_intervals"] {
        if let Some(v) = keys.take(k) {
            m.insert(k.into(), source::to_value(v));
        }
    }
    if let Some(v) = keys.take("routes") {
        let mut list = Vec::new();
        for child in source::items(v) {
            if is_generated_watchdog_route(child) {
                ctx.note(
                    Outcome::AsIs,
                    f,
                    source::line(child),
                    "stackctl's generated `Watchdog` route: render writes it again",
                );
                continue;
            }
            list.push(route(ctx, f, child));
        }
        if !list.is_empty() {
            m.insert("routes".into(), Value::Array(list));
        }
    }
    rest(ctx, f, &keys, "a route");
    Value::Object(m)
}

/// The first child route render adds for the generated `Watchdog` alert.
fn is_generated_watchdog_route(r: &Node) -> bool {
    let receiver = source::get(r, "receiver").and_then(source::str_of);
    let matchers: Vec<String> = source::get(r, "matchers")
        .map(source::items)
        .unwrap_or_default()
        .iter()
        .filter_map(source::str_of)
        .collect();
    receiver.as_deref() == Some(crate::plan::watchdog::NULL_RECEIVER)
        && matchers == ["alertname=\"Watchdog\""]
        && source::entries(r).len() == 2
}

/// The receiver without notifiers render adds for the `Watchdog`.
fn is_generated_null_receiver(r: &Node) -> bool {
    source::get(r, "name").and_then(source::str_of).as_deref()
        == Some(crate::plan::watchdog::NULL_RECEIVER)
        && source::entries(r).len() == 1
}

fn receiver(ctx: &mut Ctx, f: &str, r: &Node) -> Value {
    let keys = Keys::new(r);
    let name = keys.take_str("name").unwrap_or_default();
    let hint = super::prometheus::slug(&name);
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    let mut email = Vec::new();
    for c in keys
        .take("email_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        let k = Keys::new(c);
        let mut e = Map::new();
        e.insert("to".into(), json!(k.take_str("to").unwrap_or_default()));
        if let Some(h) = k.take("headers") {
            let hk = Keys::new(h);
            if let Some(s) = hk.take_str("Subject").or_else(|| hk.take_str("subject")) {
                e.insert("subject".into(), json!(s));
            }
            rest(ctx, f, &hk, "email headers");
        }
        for key in ["text", "html"] {
            if let Some(v) = k.take_str(key) {
                e.insert(key.into(), json!(v));
            }
        }
        if let Some(v) = k.take("send_resolved") {
            e.insert("send_resolved".into(), source::to_value(v));
        }
        rest(ctx, f, &k, &format!("an email config of receiver `{name}`"));
        email.push(Value::Object(e));
    }
    let mut slack = Vec::new();
    for c in keys
        .take("slack_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        let k = Keys::new(c);
        let mut s = Map::new();
        s.insert(
            "channel".into(),
            json!(k.take_str("channel").unwrap_or_default()),
        );
        if let Some(secret) = secret_of(
            ctx,
            f,
            &k,
            "api_url",
            &format!("{hint}_slack_webhook_url"),
            "Slack webhook URL",
        ) {
            s.insert("api_url_secret".into(), json!(secret));
        }
        for key in ["title", "text"] {
            if let Some(v) = k.take_str(key) {
                s.insert(key.into(), json!(v));
            }
        }
        if let Some(v) = k.take("send_resolved") {
            s.insert("send_resolved".into(), source::to_value(v));
        }
        rest(ctx, f, &k, &format!("a Slack config of receiver `{name}`"));
        slack.push(Value::Object(s));
    }
    let mut pagerduty = Vec::new();
    for c in keys
        .take("pagerduty_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        let k = Keys::new(c);
        let mut p = Map::new();
        let secret = secret_of(
            ctx,
            f,
            &k,
            "routing_key",
            &format!("{hint}_pagerduty_key"),
            "PagerDuty routing key",
        );
        if let Some(v) = k.take("service_key") {
            ctx.note(Outcome::NotExpressed, f, source::line(v), format!("receiver `{name}`: `service_key` is PagerDuty's Events API v1; stackctl sends Events v2 (`routing_key`), so it is not imported"));
        }
        if let Some(s) = secret {
            p.insert("routing_key_secret".into(), json!(s));
        }
        for key in ["description", "severity"] {
            if let Some(v) = k.take_str(key) {
                p.insert(key.into(), json!(v));
            }
        }
        if let Some(v) = k.take("send_resolved") {
            p.insert("send_resolved".into(), source::to_value(v));
        }
        rest(
            ctx,
            f,
            &k,
            &format!("a PagerDuty config of receiver `{name}`"),
        );
        if p.contains_key("routing_key_secret") {
            pagerduty.push(Value::Object(p));
        }
    }
    let mut webhook = Vec::new();
    for c in keys
        .take("webhook_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        let k = Keys::new(c);
        let mut w = Map::new();
        if let Some(v) = k.take_str("url") {
            w.insert("url".into(), json!(v));
        }
        if let Some(v) = k.take("url_file") {
            let path = source::text(v).unwrap_or_default();
            let n = path
                .strip_prefix("/run/secrets/")
                .unwrap_or(&path)
                .rsplit('/')
                .next()
                .unwrap_or("webhook_url")
                .to_string();
            let host = ctx.host_path(&path);
            let s = ctx.secret_from_file(&n, host.as_deref(), f, source::line(v));
            w.insert("url_secret".into(), json!(s));
        }
        for key in ["send_resolved", "max_alerts"] {
            if let Some(v) = k.take(key) {
                w.insert(key.into(), source::to_value(v));
            }
        }
        rest(
            ctx,
            f,
            &k,
            &format!("a webhook config of receiver `{name}`"),
        );
        webhook.push(Value::Object(w));
    }
    for (key, list) in [
        ("email", email),
        ("slack", slack),
        ("pagerduty", pagerduty),
        ("webhook", webhook),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), Value::Array(list));
        }
    }
    rest(
        ctx,
        f,
        &keys,
        &format!("receiver `{name}` (stackctl notifies by email, Slack, PagerDuty and webhook)"),
    );
    let i = ctx.get(&["alerting"]).map(|_| 0).unwrap_or(0);
    let _ = i;
    ctx.from(
        format!("/alerting/receivers/{}", receiver_index(ctx)),
        f,
        source::line(r),
    );
    Value::Object(m)
}

/// Receivers are collected before `alerting` is set; count the comments so far.
fn receiver_index(ctx: &Ctx) -> usize {
    ctx.comments
        .keys()
        .filter(|k| k.starts_with("/alerting/receivers/"))
        .count()
}
