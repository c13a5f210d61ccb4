//! Compose v2's `com.docker.compose.config-hash`, computed exactly as Compose
//! computes it, so that `docker compose up -d` and `stackctl up` each find the
//! other's containers current and recreate nothing.
//!
//! Compose v2 (2.40, `pkg/compose/hash.go` `ServiceHash`) hashes
//! `json.Marshal` of the service as compose-go (v2.9) loads and normalises it
//! from the file, with `build`, `pull_policy`, `scale`, `deploy.replicas`,
//! `depends_on` and `profiles` cleared: SHA-256, hex. The JSON is Go's: the
//! fields of compose-go's `ServiceConfig` in declaration order with
//! `omitempty` (except `command` and `entrypoint`, always present, `null` when
//! unset), maps with sorted keys, no spaces, and `<`, `>`, `&`, U+2028 and
//! U+2029 escaped as `\u003c`…. Normalisation makes relative bind sources
//! absolute (against the stack directory), spells ports and volumes in long
//! form (`mode: ingress`, `protocol: tcp`, `volume: {}`), adds the implicit
//! `default` network, and undoes the `$$` escaping render applies.
//!
//! This builds that JSON from the same plan `render::compose` writes the file
//! from, for exactly the keys render emits; `tests/it/compose_hash.rs` checks it
//! against `docker compose config --hash '*'` for every profile, and the
//! real-engine tests against `docker compose up -d` itself. Besides the hash,
//! Compose compares `com.docker.compose.image` with the local image's ID.

use crate::plan::{Deployment, MountSource, Service};
use serde_json::{Map, Value, json};
use std::path::Path;

/// Compose v2's label holding the ID of the image a container was created from.
pub const IMAGE_LABEL: &str = "com.docker.compose.image";

/// `ServiceHash` of the service as Compose v2 loads it from the rendered file
/// in `dir` (absolute). `labels` are the service's `labels:` as rendered.
pub fn service_hash(
    d: &Deployment,
    s: &Service,
    dir: &Path,
    labels: &std::collections::BTreeMap<String, String>,
) -> String {
    crate::render::sha256(go_json(&service_json(d, s, dir, labels)).as_bytes())
}

/// The normalised service, fields in compose-go's `ServiceConfig` order.
fn service_json(
    d: &Deployment,
    s: &Service,
    dir: &Path,
    labels: &std::collections::BTreeMap<String, String>,
) -> Value {
    let mut m = Map::new();
    if !s.cap_add.is_empty() {
        m.insert("cap_add".into(), json!(s.cap_add));
    }
    if let Some(cpus) = s.cpus.filter(|c| *c != 0.0) {
        m.insert("cpus".into(), go_float32(cpus));
    }
    m.insert("command".into(), nullable(&s.command, s.command.is_empty()));
    if !s.devices.is_empty() {
        let devices: Vec<Value> = s.devices.iter().map(|d| device(d)).collect();
        m.insert("devices".into(), Value::Array(devices));
    }
    m.insert(
        "entrypoint".into(),
        match &s.entrypoint {
            Some(e) => json!(e),
            None => Value::Null,
        },
    );
    if !s.environment.is_empty() {
        m.insert("environment".into(), json!(s.environment));
    }
    if !s.extra_hosts.is_empty() {
        let mut hosts: Vec<String> = s
            .extra_hosts
            .iter()
            .map(|(h, a)| format!("{h}={}", unbracket(a)))
            .collect();
        hosts.sort();
        m.insert("extra_hosts".into(), json!(hosts));
    }
    if let Some(h) = &s.healthcheck {
        let mut test = vec![if h.shell { "CMD-SHELL" } else { "CMD" }.to_string()];
        test.extend(h.test.iter().cloned());
        m.insert(
            "healthcheck".into(),
            json!({
                "test": test,
                "timeout": go_duration(h.timeout_s),
                "interval": go_duration(h.interval_s),
                "retries": h.retries,
                "start_period": go_duration(h.start_period_s),
            }),
        );
    }
    m.insert("image".into(), json!(s.image));
    if !labels.is_empty() {
        m.insert("labels".into(), json!(labels));
    }
    if let Some(bytes) = s.memory_bytes.filter(|b| *b != 0) {
        m.insert("mem_limit".into(), json!(bytes.to_string()));
    }
    let mut networks = Map::new();
    let mut names: Vec<&str> = vec!["default"];
    names.extend(d.external_networks.iter().map(String::as_str));
    names.sort();
    names.dedup();
    for n in names {
        networks.insert(n.to_string(), Value::Null);
    }
    m.insert("networks".into(), Value::Object(networks));
    if !s.ports.is_empty() {
        let ports: Vec<Value> = s
            .ports
            .iter()
            .map(|p| {
                let mut port = Map::new();
                port.insert("mode".into(), json!("ingress"));
                if !p.host_ip.is_empty() {
                    port.insert("host_ip".into(), json!(p.host_ip));
                }
                port.insert("target".into(), json!(p.container_port));
                port.insert("published".into(), json!(p.host_port.to_string()));
                port.insert("protocol".into(), json!(if p.udp { "udp" } else { "tcp" }));
                Value::Object(port)
            })
            .collect();
        m.insert("ports".into(), Value::Array(ports));
    }
    if s.privileged {
        m.insert("privileged".into(), json!(true));
    }
    if !s.restart.is_empty() {
        m.insert("restart".into(), json!(s.restart));
    }
    if let Some(user) = &s.user {
        m.insert("user".into(), json!(user));
    }
    if !s.mounts.is_empty() {
        let volumes: Vec<Value> = s
            .mounts
            .iter()
            .map(|mount| {
                let mut v = Map::new();
                let (kind, source) = match &mount.source {
                    MountSource::Volume(name) => ("volume", name.clone()),
                    MountSource::Generated(rel) => ("bind", dir.join(rel).display().to_string()),
                    MountSource::Host(path) => ("bind", path.clone()),
                };
                v.insert("type".into(), json!(kind));
                v.insert("source".into(), json!(source));
                v.insert("target".into(), json!(mount.target));
                if mount.read_only {
                    v.insert("read_only".into(), json!(true));
                }
                // Short syntax gives a volume an empty `volume:`; the long
                // syntax render uses for binds gives no `bind:`.
                if kind == "volume" {
                    v.insert("volume".into(), json!({}));
                }
                Value::Object(v)
            })
            .collect();
        m.insert("volumes".into(), Value::Array(volumes));
    }
    Value::Object(m)
}

fn nullable(list: &[String], empty: bool) -> Value {
    if empty { Value::Null } else { json!(list) }
}

/// `host[:container[:permissions]]` as compose-go parses it.
fn device(spec: &str) -> Value {
    let mut parts = spec.splitn(3, ':');
    let source = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or(source);
    let permissions = parts.next().unwrap_or("rwm");
    json!({"source": source, "target": target, "permissions": permissions})
}

/// compose-go strips brackets from an IPv6 `extra_hosts` address.
fn unbracket(ip: &str) -> &str {
    ip.strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip)
}

/// Go's `time.Duration.String()` for whole seconds: `10s`, `1m30s`, `1h0m0s`.
fn go_duration(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `cpus` is a Go `float32`, printed as its shortest decimal: `0.5`, `1`.
fn go_float32(value: f64) -> Value {
    let text = format!("{}", value as f32);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Compact JSON as Go's `encoding/json` writes it: serde_json's compact form
/// plus Go's HTML-safe escapes (those characters only occur inside strings).
fn go_json(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_spelled_as_go_does() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(10), "10s");
        assert_eq!(go_duration(90), "1m30s");
        assert_eq!(go_duration(3600), "1h0m0s");
    }

    #[test]
    fn floats_and_escapes_follow_go() {
        assert_eq!(go_float32(0.5).to_string(), "0.5");
        assert_eq!(go_float32(1.0).to_string(), "1");
        assert_eq!(go_float32(0.1).to_string(), "0.1");
        assert_eq!(
            go_json(&json!({"a": "x<&>\u{2028}\"\n"})),
            r#"{"a":"x\u003c\u0026\u003e\u2028\"\n"}"#
        );
    }

    #[test]
    fn devices_default_to_rwm() {
        assert_eq!(
            device("/dev/kmsg"),
            json!({"source": "/dev/kmsg", "target": "/dev/kmsg", "permissions": "rwm"})
        );
        assert_eq!(device("/dev/a:/dev/b:r")["permissions"], "r");
    }
}
