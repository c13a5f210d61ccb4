//! Grafana Alloy, the log shipper: `alloy/config.alloy` from `logs.sources`.
//!
//! A `docker: true` source finds containers through the Docker API
//! (`discovery.docker`), names them (`container`, and `service` from the
//! Compose label) and drops the stack's own ones (`discovery.relabel`), and
//! reads their logs through the API (`loki.source.docker`): the socket is
//! mounted read-only, Docker's log directory is not mounted at all.
//!
//! The config is laid out by a minijinja template; every user string reaches
//! it as data and is quoted by the `alloy_str` filter, never pasted as source.

use crate::plan::{Condition, Deployment, Service};
use crate::resolve::Resolved;

use crate::model::catalog::Component;
use crate::model::stack::LogSource;
use serde::Serialize;

pub const CONFIG: &str = "alloy/config.alloy";
/// The Docker Engine socket, at the same path inside the container.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const TEMPLATE: &str = include_str!("../../../templates/config.alloy.j2");

#[derive(Serialize)]
struct SourceView {
    name: String,
    id: String,
    docker: bool,
    /// Labels of every line of a Docker source.
    labels: Vec<(String, String)>,
    /// The Compose project whose containers a Docker source leaves out.
    exclude_project: Option<String>,
    exclude_regex: Option<String>,
    targets: Vec<Vec<(String, String)>>,
    stages: Vec<StageView>,
}

#[derive(Serialize, Default)]
struct StageView {
    kind: &'static str,
    pairs: Vec<(String, String)>,
    source: Option<String>,
    expression: Option<String>,
    format: Option<String>,
}

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let mut service = Service::for_component(stack, c);
    let http = c.kind.port("http").map_or(12345, |p| p.container);
    service.command = vec![
        "run".into(),
        // Alloy listens on 127.0.0.1 by default, unreachable from outside the container.
        format!("--server.http.listen-addr=0.0.0.0:{http}"),
        "--storage.path=/var/lib/alloy/data".into(),
        "--disable-reporting".into(),
    ];
    service.command.extend(c.common.extra_args.iter().cloned());
    service.command.push("/etc/alloy/config.alloy".into());
    service.mount_config("alloy", "/etc/alloy");
    let (docker, files): (Vec<LogSource>, Vec<LogSource>) = stack
        .logs
        .sources
        .iter()
        .cloned()
        .partition(|s| s.docker == Some(true));
    for dir in crate::plan::promtail::host_dirs(&files) {
        service.host_mount(&dir, &dir);
    }
    if !docker.is_empty() {
        // Read-only: Alloy lists containers and reads their logs, nothing more.
        service.host_mount(DOCKER_SOCKET, DOCKER_SOCKET);
    }
    service.after("loki", Condition::Started);
    d.files
        .insert(CONFIG.into(), config(&stack.logs.sources, &stack.name));
    d.services.push(service);
}

/// The config for `sources`; `project` is the stack's Compose project.
pub fn config(sources: &[LogSource], project: &str) -> String {
    let mut used = std::collections::BTreeSet::new();
    let views: Vec<SourceView> = sources
        .iter()
        .map(|s| {
            let mut id = identifier(&s.name);
            while !used.insert(id.clone()) {
                id.push('_');
            }
            view(s, id, project)
        })
        .collect();
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("alloy_str", alloy_str);
    env.add_filter("alloy_key", alloy_key);
    // The template is part of the binary and covered by tests; a failure here
    // is a stackctl bug, reported as such rather than hidden.
    match env.render_str(
        TEMPLATE,
        minijinja::context! {
            sources => minijinja::value::Serde(&views),
            loki_url => crate::components::loki::push_url(),
            docker_host => format!("unix://{DOCKER_SOCKET}"),
        },
    ) {
        Ok(text) => text,
        Err(e) => format!("// stackctl bug: the Alloy template failed to render: {e}\n"),
    }
}

fn view(s: &LogSource, id: String, project: &str) -> SourceView {
    let docker = s.docker == Some(true);
    let paths: Vec<String> = if docker { Vec::new() } else { s.paths.clone() };
    let mut labels = vec![("job".to_string(), s.name.clone())];
    labels.extend(s.labels.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let exclude = docker && s.include_stack != Some(true);
    let targets = paths
        .iter()
        .map(|p| {
            let mut t = vec![
                ("__path__".to_string(), p.clone()),
                ("job".to_string(), s.name.clone()),
            ];
            t.extend(s.labels.iter().map(|(k, v)| (k.to_string(), v.clone())));
            t
        })
        .collect();
    // The Docker API hands over decoded lines: no `stage.docker`.
    let mut stages = Vec::new();
    for st in &s.pipeline {
        if let Some(j) = &st.json {
            stages.push(StageView {
                kind: "json",
                pairs: j
                    .expressions
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                source: j.source.clone(),
                ..Default::default()
            });
        } else if let Some(r) = &st.regex {
            stages.push(StageView {
                kind: "regex",
                expression: Some(r.expression.clone()),
                source: r.source.clone(),
                ..Default::default()
            });
        } else if let Some(t) = &st.timestamp {
            stages.push(StageView {
                kind: "timestamp",
                source: Some(t.source.clone()),
                format: Some(t.format.clone()),
                ..Default::default()
            });
        } else if let Some(labels) = &st.labels {
            stages.push(StageView {
                kind: "labels",
                pairs: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone().unwrap_or_default()))
                    .collect(),
                ..Default::default()
            });
        } else if let Some(o) = &st.output {
            stages.push(StageView {
                kind: "output",
                source: Some(o.source.clone()),
                ..Default::default()
            });
        }
    }
    SourceView {
        name: s.name.clone(),
        id,
        docker,
        labels,
        exclude_project: exclude.then(|| project.to_string()),
        // Relabel regexes are anchored; the name is matched literally.
        exclude_regex: exclude.then(|| regex::escape(project)),
        targets,
        stages,
    }
}

/// A component label/identifier: letters, digits and `_`, not starting with a digit.
fn identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    id
}

/// An Alloy string literal: double quotes with Go-style escapes (Alloy reads
/// strings like Go's `strconv.Unquote`). Every control, line-break and
/// invisible formatting character is escaped, so the literal is always one
/// line: it is also how user text is written into a `//` comment, which a raw
/// line break would end.
pub fn alloy_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go's `\x` is a byte, so only ASCII goes that way.
            c if (c as u32) < 0x80 && crate::yaml::emit::needs_escape(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 && crate::yaml::emit::needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if crate::yaml::emit::needs_escape(c) => {
                out.push_str(&format!("\\U{:08x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An object key: bare when it is an identifier, quoted otherwise.
fn alloy_key(key: &str) -> String {
    let bare = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare {
        key.to_string()
    } else {
        alloy_str(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_not_pasted() {
        assert_eq!(alloy_str(r#"a "b" \d+"#), r#""a \"b\" \\d+""#);
        assert_eq!(alloy_key("level"), "level");
        assert_eq!(alloy_key("request_User-Agent"), "\"request_User-Agent\"");
        assert_eq!(identifier("pynomaly-api"), "pynomaly_api");
        assert_eq!(identifier("1x"), "_1x");
        assert_eq!(
            alloy_str("a\u{2028}b\u{85}\u{7f}"),
            r#""a\u2028b\u0085\x7f""#
        );
    }

    #[test]
    fn a_source_name_cannot_end_its_comment() {
        let source = LogSource {
            name: "x\nlocal.file \"shadow\" { filename = \"/etc/shadow\" }\r\u{2028}y".into(),
            paths: vec!["/var/log/app/*.log".into()],
            docker: None,
            include_stack: None,
            labels: Default::default(),
            pipeline: Vec::new(),
        };
        let text = config(&[source], "t");
        assert!(!text.contains("stackctl bug"), "{text}");
        let comment = text
            .lines()
            .find(|l| l.starts_with("// Log source"))
            .expect("the comment line");
        assert_eq!(
            comment,
            r#"// Log source "x\nlocal.file \"shadow\" { filename = \"/etc/shadow\" }\r\u2028y""#
        );
        // Every line is a comment, a block, an attribute or a closing brace:
        // nothing of the name starts a line of its own.
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("local.file ")),
            "{text}"
        );
    }
}
