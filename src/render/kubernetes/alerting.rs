//! The route tree, receivers, inhibit rules and time intervals as one
//! `AlertmanagerConfig` (v1alpha1, the version the operator stores).
//!
//! How the operator merges it (pkg/alertmanager/amcfg.go): the resource's
//! top-level route becomes a child of the chart's root route, placed *before*
//! the chart's own routes and forced to `continue: true`; receiver and
//! interval names are prefixed with `namespace/name/`. By default it also adds
//! a `namespace="<resource namespace>"` matcher to that route and to every
//! inhibit rule, which would limit the spec's routing to alerts from the
//! monitoring namespace; the values select the
//! `OnNamespaceExceptForAlertmanagerNamespace` strategy instead, so a config in
//! Alertmanager's own namespace routes every alert, as in the compose target.
//!
//! The chart's always-firing `Watchdog` and `InfoInhibitor` alerts would reach
//! the spec's root receiver through that first route; the route skips them
//! (unless the spec defines alerts of those names itself).
//!
//! Matchers are objects here (`{name, value, matchType}`), not strings, and
//! credentials are `SecretKeySelector`s.

use super::{Ctx, Resource, join};
use crate::model::stack::{Alerting, Receiver, Route, TimeInterval};
use crate::model::types::Matcher;
use crate::path;
use crate::yaml::node::Path;
use serde_json::{Map, Value, json};

pub const API_VERSION: &str = "monitoring.coreos.com/v1alpha1";
/// Alerts kube-prometheus-stack fires all the time (a heartbeat, and a helper
/// for inhibiting `info` alerts); its own config routes them to a null receiver.
pub const CHART_HEARTBEATS: [&str; 2] = ["Watchdog", "InfoInhibitor"];

pub fn alertmanager_config(ctx: &mut Ctx<'_>, out: &mut Vec<Resource>) {
    let stack = ctx.stack;
    let Some(alerting) = &stack.alerting else {
        return;
    };
    if !stack.has(crate::model::Kind::Alertmanager) {
        ctx.warn(
            path!["alerting"],
            "`alerting` is set but `components.alertmanager` is not enabled; the AlertmanagerConfig is rendered but no Alertmanager reads it",
            "enable `components.alertmanager`",
        );
    }
    let name = ctx.name("AlertmanagerConfig", &stack.name, path!["alerting"]);
    let mut spec = Map::new();
    let mut top = route(&alerting.route);
    let defined: Vec<&str> = stack
        .rules
        .values()
        .flatten()
        .flat_map(|g| g.rules.iter())
        .filter_map(|r| r.alert.as_deref())
        .collect();
    let skip: Vec<&str> = CHART_HEARTBEATS
        .iter()
        .copied()
        .filter(|a| !defined.contains(a))
        .collect();
    if !skip.is_empty() {
        if let Value::Object(m) = &mut top {
            let mut matchers = m
                .remove("matchers")
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default();
            matchers.push(json!({"name": "alertname", "value": skip.join("|"), "matchType": "!~"}));
            // Keep the key order of `route()`: receiver first, then matchers.
            let mut ordered = Map::new();
            for (k, v) in std::mem::take(m) {
                ordered.insert(k.clone(), v);
                if k == "receiver" {
                    ordered.insert("matchers".into(), Value::Array(matchers.clone()));
                }
            }
            if !ordered.contains_key("matchers") {
                ordered.insert("matchers".into(), Value::Array(matchers));
            }
            *m = ordered;
        }
    }
    spec.insert("route".into(), top);
    let receivers: Vec<Value> = alerting
        .receivers
        .iter()
        .enumerate()
        .map(|(i, r)| receiver(ctx, alerting, r, path!["alerting", "receivers", i]))
        .collect();
    spec.insert("receivers".into(), Value::Array(receivers));
    if !alerting.inhibit_rules.is_empty() {
        let rules: Vec<Value> = alerting
            .inhibit_rules
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("sourceMatch".into(), matchers(&r.source_matchers));
                m.insert("targetMatch".into(), matchers(&r.target_matchers));
                if !r.equal.is_empty() {
                    m.insert("equal".into(), json!(r.equal));
                }
                Value::Object(m)
            })
            .collect();
        spec.insert("inhibitRules".into(), Value::Array(rules));
    }
    if !alerting.time_intervals.is_empty() {
        let intervals: Vec<Value> = alerting
            .time_intervals
            .iter()
            .enumerate()
            .map(|(i, t)| time_interval(ctx, t, path!["alerting", "time_intervals", i]))
            .collect();
        spec.insert("muteTimeIntervals".into(), Value::Array(intervals));
    }
    let value = ctx.object(
        API_VERSION,
        "AlertmanagerConfig",
        ctx.metadata(&name),
        Value::Object(spec),
    );
    out.push(Resource {
        kind: "AlertmanagerConfig",
        name,
        value,
    });
}

pub fn matcher(m: &Matcher) -> Value {
    json!({"name": m.name, "value": m.value, "matchType": m.op.as_str()})
}

fn matchers(list: &[Matcher]) -> Value {
    Value::Array(list.iter().map(matcher).collect())
}

fn route(r: &Route) -> Value {
    let mut m = Map::new();
    if let Some(receiver) = &r.receiver {
        m.insert("receiver".into(), json!(receiver));
    }
    if !r.matchers.is_empty() {
        m.insert("matchers".into(), matchers(&r.matchers));
    }
    if let Some(group_by) = &r.group_by {
        m.insert("groupBy".into(), json!(group_by));
    }
    for (key, value) in [
        ("groupWait", &r.group_wait),
        ("groupInterval", &r.group_interval),
        ("repeatInterval", &r.repeat_interval),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), json!(v.as_str()));
        }
    }
    if let Some(c) = r.continue_ {
        m.insert("continue".into(), json!(c));
    }
    if !r.mute_time_intervals.is_empty() {
        m.insert("muteTimeIntervals".into(), json!(r.mute_time_intervals));
    }
    if !r.active_time_intervals.is_empty() {
        m.insert("activeTimeIntervals".into(), json!(r.active_time_intervals));
    }
    if !r.routes.is_empty() {
        m.insert(
            "routes".into(),
            Value::Array(r.routes.iter().map(route).collect()),
        );
    }
    Value::Object(m)
}

fn receiver(ctx: &mut Ctx<'_>, alerting: &Alerting, r: &Receiver, at: Path) -> Value {
    let user = format!("receiver `{}`", r.name);
    let mut m = Map::new();
    m.insert("name".into(), json!(r.name));
    if !r.email.is_empty() {
        let mut configs = Vec::new();
        for e in &r.email {
            let mut c = Map::new();
            c.insert("to".into(), json!(e.to));
            if let Some(smtp) = &alerting.smtp {
                // The resource has no global section: each email config carries the relay.
                c.insert("smarthost".into(), json!(smtp.smarthost));
                c.insert("from".into(), json!(smtp.from));
                if let Some(hello) = non_empty(&smtp.hello) {
                    c.insert("hello".into(), json!(hello));
                }
                if let Some(u) = non_empty(&smtp.auth_username) {
                    c.insert("authUsername".into(), json!(u));
                }
                if let Some(secret) = &smtp.auth_password_secret {
                    c.insert("authPassword".into(), ctx.secret(secret, &user));
                }
                if let Some(tls) = smtp.require_tls {
                    c.insert("requireTLS".into(), json!(tls));
                }
            }
            if let Some(s) = e.send_resolved {
                c.insert("sendResolved".into(), json!(s));
            }
            if let Some(subject) = &e.subject {
                c.insert(
                    "headers".into(),
                    json!([{"key": "Subject", "value": subject}]),
                );
            }
            if let Some(text) = non_empty(&e.text) {
                c.insert("text".into(), json!(text));
            }
            if let Some(html) = &e.html {
                c.insert("html".into(), json!(html));
            }
            configs.push(Value::Object(c));
        }
        m.insert("emailConfigs".into(), Value::Array(configs));
    }
    if !r.slack.is_empty() {
        let mut configs = Vec::new();
        for (i, s) in r.slack.iter().enumerate() {
            let mut c = Map::new();
            match s
                .api_url_secret
                .as_ref()
                .or(alerting.slack_api_url_secret.as_ref())
            {
                Some(secret) => {
                    c.insert("apiURL".into(), ctx.secret(secret, &user));
                }
                None => ctx.warn(
                    join(&at, path!["slack", i]),
                    format!(
                        "receiver `{}`: a Slack notifier without a webhook URL secret",
                        r.name
                    ),
                    "set `api_url_secret` here or `alerting.slack_api_url_secret`",
                ),
            }
            c.insert("channel".into(), json!(s.channel));
            if let Some(v) = s.send_resolved {
                c.insert("sendResolved".into(), json!(v));
            }
            if let Some(t) = non_empty(&s.title) {
                c.insert("title".into(), json!(t));
            }
            if let Some(t) = non_empty(&s.text) {
                c.insert("text".into(), json!(t));
            }
            configs.push(Value::Object(c));
        }
        m.insert("slackConfigs".into(), Value::Array(configs));
    }
    if !r.pagerduty.is_empty() {
        let mut configs = Vec::new();
        for p in &r.pagerduty {
            let mut c = Map::new();
            c.insert(
                "routingKey".into(),
                ctx.secret(&p.routing_key_secret, &user),
            );
            if let Some(v) = p.send_resolved {
                c.insert("sendResolved".into(), json!(v));
            }
            if let Some(t) = non_empty(&p.description) {
                c.insert("description".into(), json!(t));
            }
            if let Some(t) = non_empty(&p.severity) {
                c.insert("severity".into(), json!(t));
            }
            configs.push(Value::Object(c));
        }
        m.insert("pagerdutyConfigs".into(), Value::Array(configs));
    }
    if !r.webhook.is_empty() {
        let mut configs = Vec::new();
        for w in &r.webhook {
            let mut c = Map::new();
            if let Some(url) = &w.url {
                c.insert("url".into(), json!(url));
            }
            if let Some(secret) = &w.url_secret {
                c.insert("urlSecret".into(), ctx.secret(secret, &user));
            }
            if let Some(v) = w.send_resolved {
                c.insert("sendResolved".into(), json!(v));
            }
            if let Some(v) = w.max_alerts {
                c.insert("maxAlerts".into(), json!(v));
            }
            configs.push(Value::Object(c));
        }
        m.insert("webhookConfigs".into(), Value::Array(configs));
    }
    super::receivers::render(ctx, r, &user, &mut m);
    Value::Object(m)
}

fn time_interval(ctx: &mut Ctx<'_>, t: &TimeInterval, at: Path) -> Value {
    let mut ranges = Vec::new();
    for (j, r) in t.time_intervals.iter().enumerate() {
        let mut m = Map::new();
        if !r.times.is_empty() {
            let times: Vec<Value> = r
                .times
                .iter()
                .map(|c| json!({"startTime": c.start_time, "endTime": c.end_time}))
                .collect();
            m.insert("times".into(), Value::Array(times));
        }
        if !r.weekdays.is_empty() {
            m.insert("weekdays".into(), json!(r.weekdays));
        }
        if !r.days_of_month.is_empty() {
            let mut days = Vec::new();
            for (k, d) in r.days_of_month.iter().enumerate() {
                match day_range(d) {
                    Some(range) => days.push(range),
                    None => ctx.warn(
                        join(&at, path!["time_intervals", j, "days_of_month", k]),
                        format!("time interval `{}`: `{d}` is not a day of the month or a range of them; left out", t.name),
                        "write a day (`1`, `-1` for the last) or a range (`1:7`)",
                    ),
                }
            }
            m.insert("daysOfMonth".into(), Value::Array(days));
        }
        if !r.months.is_empty() {
            m.insert("months".into(), json!(r.months));
        }
        if !r.years.is_empty() {
            m.insert("years".into(), json!(r.years));
        }
        // The resource has no time zone; UTC is what it means anyway.
        if let Some(location) = r
            .location
            .as_ref()
            .filter(|l| !matches!(l.as_str(), "UTC" | "Etc/UTC"))
        {
            ctx.warn(
                join(&at, path!["time_intervals", j, "location"]),
                format!(
                    "time interval `{}`: `location: {location}` has no AlertmanagerConfig equivalent; the times are read as UTC",
                    t.name
                ),
                "write the times in UTC",
            );
        }
        ranges.push(Value::Object(m));
    }
    json!({"name": t.name, "timeIntervals": ranges})
}

/// `1:5` → `{start: 1, end: 5}`, `-1` → `{start: -1, end: -1}`.
pub fn day_range(text: &str) -> Option<Value> {
    let (a, b) = match text.split_once(':') {
        Some((a, b)) => (a, b),
        None => (text, text),
    };
    let start: i64 = a.trim().parse().ok()?;
    let end: i64 = b.trim().parse().ok()?;
    Some(json!({"start": start, "end": end}))
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_become_objects() {
        let m = Matcher::parse("team=~\"ml|data\"").unwrap();
        assert_eq!(
            matcher(&m),
            json!({"name": "team", "value": "ml|data", "matchType": "=~"})
        );
    }

    const SPEC: &str = r##"stackctl: 1
name: shop
secrets:
  smtp_pw: {}
  slack_url: {}
  pd_key: {}
  hook_url: {}
components:
  prometheus:
  alertmanager:
rules:
  meta:
    - name: heartbeat
      rules:
        - alert: Watchdog
          expr: vector(1)
alerting:
  smtp:
    smarthost: mail:587
    from: am@shop.test
    auth_password_secret: smtp_pw
    require_tls: false
  slack_api_url_secret: slack_url
  route:
    receiver: ops
    routes:
      - receiver: pager
        matchers: ['severity="critical"']
        mute_time_intervals: [nights]
  receivers:
    - name: ops
      email:
        - to: ops@shop.test
      slack:
        - channel: "#ops"
    - name: pager
      pagerduty:
        - routing_key_secret: pd_key
      webhook:
        - url_secret: hook_url
  time_intervals:
    - name: nights
      time_intervals:
        - times:
            - start_time: "22:00"
              end_time: "24:00"
          days_of_month: ["1:7", "-1", "x"]
          location: Europe/Berlin
"##;

    #[test]
    fn renders_receivers_routes_and_intervals() {
        let loaded = crate::load::load_text("stack.yaml", SPEC.to_string());
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let stack = crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec");
        let mut ctx = Ctx::new(
            &stack,
            &super::super::Options {
                namespace: None,
                release: None,
            },
        );
        let mut out = Vec::new();
        alertmanager_config(&mut ctx, &mut out);
        let sel = |key: &str| json!({"name": "shop-secrets", "key": key});
        assert_eq!(
            out[0].value["spec"],
            json!({
                "route": {
                    "receiver": "ops",
                    // Watchdog is the spec's own alert here, so only InfoInhibitor is skipped.
                    "matchers": [{"name": "alertname", "value": "InfoInhibitor", "matchType": "!~"}],
                    "routes": [{
                        "receiver": "pager",
                        "matchers": [{"name": "severity", "value": "critical", "matchType": "="}],
                        "muteTimeIntervals": ["nights"],
                    }],
                },
                "receivers": [
                    {
                        "name": "ops",
                        "emailConfigs": [{
                            "to": "ops@shop.test",
                            "smarthost": "mail:587",
                            "from": "am@shop.test",
                            "authPassword": sel("smtp_pw"),
                            "requireTLS": false,
                        }],
                        "slackConfigs": [{"apiURL": sel("slack_url"), "channel": "#ops"}],
                    },
                    {
                        "name": "pager",
                        "pagerdutyConfigs": [{"routingKey": sel("pd_key")}],
                        "webhookConfigs": [{"urlSecret": sel("hook_url")}],
                    },
                ],
                "muteTimeIntervals": [{
                    "name": "nights",
                    "timeIntervals": [{
                        "times": [{"startTime": "22:00", "endTime": "24:00"}],
                        "daysOfMonth": [{"start": 1, "end": 7}, {"start": -1, "end": -1}],
                    }],
                }],
            })
        );
        let messages: Vec<&str> = ctx.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "time interval `nights`: `x` is not a day of the month or a range of them; left out",
                "time interval `nights`: `location: Europe/Berlin` has no AlertmanagerConfig equivalent; the times are read as UTC",
            ]
        );
    }

    #[test]
    fn day_ranges() {
        assert_eq!(day_range("1:5"), Some(json!({"start": 1, "end": 5})));
        assert_eq!(day_range("-1"), Some(json!({"start": -1, "end": -1})));
        assert_eq!(day_range("x"), None);
    }
}
