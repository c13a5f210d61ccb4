//! Alertmanager: the service and `alertmanager/alertmanager.yml`. Every
//! credential is a `*_file` pointing at a secret; matchers are always written
//! in the `matchers` syntax with quoted values (valid for 0.22 and the UTF-8
//! parser of 0.27+).

use crate::plan::{Deployment, Service, obj};
use crate::resolve::Resolved;

use crate::model::catalog::Component;
use crate::model::stack::{Alerting, Receiver, Route};
use serde_json::{Map, Value, json};

pub const CONFIG: &str = "alertmanager/alertmanager.yml";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let Some(spec) = &stack.components.alertmanager else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    service.command = vec![
        "--config.file=/etc/alertmanager/alertmanager.yml".into(),
        "--storage.path=/alertmanager".into(),
    ];
    if let Some(url) = &spec.external_url {
        service.command.push(format!("--web.external-url={url}"));
    }
    if let Some(retention) = &spec.retention {
        service
            .command
            .push(format!("--data.retention={retention}"));
    }
    if spec.cluster_peers.is_empty() {
        // A single Alertmanager: no gossip listener, nothing to misconfigure.
        service.command.push("--cluster.listen-address=".into());
    } else {
        let port = c.kind.port("cluster").map_or(9094, |p| p.container);
        service
            .command
            .push(format!("--cluster.listen-address=0.0.0.0:{port}"));
        for peer in &spec.cluster_peers {
            service.command.push(format!("--cluster.peer={peer}"));
        }
    }
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("alertmanager", "/etc/alertmanager");
    // Every endpoint is served under the route prefix (external_url's path).
    crate::plan::route_prefix::apply_to_ready(&mut service);
    service.wget_healthcheck(
        crate::components::alertmanager::WEB,
        &crate::plan::route_prefix::join(&service.command, "/-/ready"),
    );

    if let Some(alerting) = &stack.alerting {
        let mut config = config(alerting, &mut service);
        if let Some(w) = crate::plan::watchdog::of(stack) {
            crate::plan::watchdog::amend(&w, &mut config);
        }
        d.add_yaml(CONFIG, &Value::Object(config));
    }
    d.services.push(service);
}

fn config(alerting: &Alerting, service: &mut Service) -> Map<String, Value> {
    let mut root = obj();
    let mut global = obj();
    if let Some(t) = &alerting.resolve_timeout {
        global.insert("resolve_timeout".into(), json!(t.as_str()));
    }
    if let Some(smtp) = &alerting.smtp {
        global.insert("smtp_smarthost".into(), json!(smtp.smarthost));
        global.insert("smtp_from".into(), json!(smtp.from));
        if let Some(hello) = &smtp.hello {
            global.insert("smtp_hello".into(), json!(hello));
        }
        if let Some(user) = &smtp.auth_username {
            global.insert("smtp_auth_username".into(), json!(user));
        }
        if let Some(secret) = &smtp.auth_password_secret {
            global.insert(
                "smtp_auth_password_file".into(),
                json!(service.use_secret(secret)),
            );
        }
        if let Some(tls) = smtp.require_tls {
            global.insert("smtp_require_tls".into(), json!(tls));
        }
    }
    if let Some(secret) = &alerting.slack_api_url_secret {
        global.insert(
            "slack_api_url_file".into(),
            json!(service.use_secret(secret)),
        );
    }
    if !global.is_empty() {
        root.insert("global".into(), Value::Object(global));
    }
    root.insert("route".into(), route(&alerting.route));
    if !alerting.inhibit_rules.is_empty() {
        let rules: Vec<Value> = alerting
            .inhibit_rules
            .iter()
            .map(|r| {
                let mut m = obj();
                m.insert("source_matchers".into(), matchers(&r.source_matchers));
                m.insert("target_matchers".into(), matchers(&r.target_matchers));
                if !r.equal.is_empty() {
                    m.insert("equal".into(), json!(r.equal));
                }
                Value::Object(m)
            })
            .collect();
        root.insert("inhibit_rules".into(), Value::Array(rules));
    }
    let receivers: Vec<Value> = alerting
        .receivers
        .iter()
        .map(|r| receiver(r, service))
        .collect();
    root.insert("receivers".into(), Value::Array(receivers));
    if !alerting.time_intervals.is_empty() {
        let intervals: Vec<Value> = alerting
            .time_intervals
            .iter()
            .map(|t| {
                let ranges: Vec<Value> = t
                    .time_intervals
                    .iter()
                    .map(|r| {
                        let mut m = obj();
                        if !r.times.is_empty() {
                            m.insert(
                                "times".into(),
                                Value::Array(
                                    r.times
                                        .iter()
                                        .map(|c| json!({"start_time": c.start_time, "end_time": c.end_time}))
                                        .collect(),
                                ),
                            );
                        }
                        for (key, list) in [
                            ("weekdays", &r.weekdays),
                            ("days_of_month", &r.days_of_month),
                            ("months", &r.months),
                            ("years", &r.years),
                        ] {
                            if !list.is_empty() {
                                m.insert(key.into(), json!(list));
                            }
                        }
                        if let Some(loc) = &r.location {
                            m.insert("location".into(), json!(loc));
                        }
                        Value::Object(m)
                    })
                    .collect();
                json!({"name": t.name, "time_intervals": ranges})
            })
            .collect();
        root.insert("time_intervals".into(), Value::Array(intervals));
    }
    root
}

fn matchers(list: &[crate::model::types::Matcher]) -> Value {
    Value::Array(list.iter().map(|m| json!(m.to_alertmanager())).collect())
}

fn route(r: &Route) -> Value {
    let mut m = obj();
    if let Some(receiver) = &r.receiver {
        m.insert("receiver".into(), json!(receiver));
    }
    if !r.matchers.is_empty() {
        m.insert("matchers".into(), matchers(&r.matchers));
    }
    if let Some(group_by) = &r.group_by {
        m.insert("group_by".into(), json!(group_by));
    }
    for (key, value) in [
        ("group_wait", &r.group_wait),
        ("group_interval", &r.group_interval),
        ("repeat_interval", &r.repeat_interval),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), json!(v.as_str()));
        }
    }
    if let Some(c) = r.continue_ {
        m.insert("continue".into(), json!(c));
    }
    if !r.mute_time_intervals.is_empty() {
        m.insert("mute_time_intervals".into(), json!(r.mute_time_intervals));
    }
    if !r.active_time_intervals.is_empty() {
        m.insert(
            "active_time_intervals".into(),
            json!(r.active_time_intervals),
        );
    }
    if !r.routes.is_empty() {
        m.insert(
            "routes".into(),
            Value::Array(r.routes.iter().map(route).collect()),
        );
    }
    Value::Object(m)
}

fn receiver(r: &Receiver, service: &mut Service) -> Value {
    let mut m = obj();
    m.insert("name".into(), json!(r.name));
    if !r.email.is_empty() {
        let configs: Vec<Value> = r
            .email
            .iter()
            .map(|e| {
                let mut c = obj();
                c.insert("to".into(), json!(e.to));
                if let Some(s) = e.send_resolved {
                    c.insert("send_resolved".into(), json!(s));
                }
                if let Some(subject) = &e.subject {
                    c.insert("headers".into(), json!({"Subject": subject}));
                }
                if let Some(text) = &e.text {
                    c.insert("text".into(), json!(text));
                }
                if let Some(html) = &e.html {
                    c.insert("html".into(), json!(html));
                }
                Value::Object(c)
            })
            .collect();
        m.insert("email_configs".into(), Value::Array(configs));
    }
    if !r.slack.is_empty() {
        let configs: Vec<Value> = r
            .slack
            .iter()
            .map(|s| {
                let mut c = obj();
                if let Some(secret) = &s.api_url_secret {
                    c.insert("api_url_file".into(), json!(service.use_secret(secret)));
                }
                c.insert("channel".into(), json!(s.channel));
                if let Some(v) = s.send_resolved {
                    c.insert("send_resolved".into(), json!(v));
                }
                if let Some(t) = &s.title {
                    c.insert("title".into(), json!(t));
                }
                if let Some(t) = &s.text {
                    c.insert("text".into(), json!(t));
                }
                Value::Object(c)
            })
            .collect();
        m.insert("slack_configs".into(), Value::Array(configs));
    }
    if !r.pagerduty.is_empty() {
        let configs: Vec<Value> = r
            .pagerduty
            .iter()
            .map(|p| {
                let mut c = obj();
                c.insert(
                    "routing_key_file".into(),
                    json!(service.use_secret(&p.routing_key_secret)),
                );
                if let Some(v) = p.send_resolved {
                    c.insert("send_resolved".into(), json!(v));
                }
                if let Some(t) = &p.description {
                    c.insert("description".into(), json!(t));
                }
                if let Some(t) = &p.severity {
                    c.insert("severity".into(), json!(t));
                }
                Value::Object(c)
            })
            .collect();
        m.insert("pagerduty_configs".into(), Value::Array(configs));
    }
    if !r.webhook.is_empty() {
        let configs: Vec<Value> = r
            .webhook
            .iter()
            .map(|w| {
                let mut c = obj();
                if let Some(url) = &w.url {
                    c.insert("url".into(), json!(url));
                }
                if let Some(secret) = &w.url_secret {
                    c.insert("url_file".into(), json!(service.use_secret(secret)));
                }
                if let Some(v) = w.send_resolved {
                    c.insert("send_resolved".into(), json!(v));
                }
                if let Some(v) = w.max_alerts {
                    c.insert("max_alerts".into(), json!(v));
                }
                Value::Object(c)
            })
            .collect();
        m.insert("webhook_configs".into(), Value::Array(configs));
    }
    crate::plan::receivers::render(r, service, &mut m);
    Value::Object(m)
}
