//! `status` on any `Engine`: one row per service of the plan (and per orphan
//! container of the project), read from the containers' labels and state.

use super::engine::{Engine, EngineError, Existing};
use crate::plan::Deployment;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub service: String,
    /// `running`, `exited`, `restarting`, … or `not created`.
    pub state: String,
    /// `healthy`, `unhealthy`, `starting`, or `-` without a healthcheck.
    pub health: String,
    /// `127.0.0.1:9090->9090/tcp, …`
    pub ports: String,
    /// The service is in the spec (false: an orphan container).
    pub planned: bool,
    /// The container runs an older version of the spec (`up` would recreate it).
    pub outdated: bool,
}

impl Row {
    /// Running (and healthy where checked), or a one-shot job that finished.
    pub fn ok(&self, one_shot: bool) -> bool {
        if one_shot {
            return self.state == "exited (0)" || self.state == "running";
        }
        self.state == "running" && matches!(self.health.as_str(), "healthy" | "-")
    }
}

pub async fn status<E: Engine>(
    engine: &E,
    d: &Deployment,
    wanted: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    reloads: &super::reload::Reloads,
) -> Result<Vec<Row>, EngineError> {
    engine.ping().await?;
    let containers = engine.containers(&d.project).await?;
    let mut rows = Vec::new();
    for s in &d.services {
        let row = match containers.iter().find(|c| c.service == s.name) {
            Some(c) => {
                let mut r = Row {
                    // A container reloaded in place runs the config of its reload.
                    // A container Compose created counts by Compose's hash.
                    outdated: match wanted.get(&s.name) {
                        Some(want) => {
                            want.get(super::spec::STACKCTL_HASH).cloned()
                                != reloads.effective(c, want)
                        }
                        None => false,
                    },
                    ..row(c, true)
                };
                // Docker's first check comes one interval after start; until
                // then, the same command run now says what it would say.
                if r.health == "starting" && c.state == "running" {
                    if let Some(h) = &s.healthcheck {
                        let timeout = std::time::Duration::from_secs(u64::from(h.timeout_s.max(1)));
                        let cmd = super::up::healthcheck_command(h);
                        if matches!(engine.exec(&c.id, &cmd, timeout).await, Ok(e) if e.exit_code == Some(0))
                        {
                            r.health = "healthy".into();
                        }
                    }
                }
                r
            }
            None => Row {
                service: s.name.clone(),
                state: "not created".into(),
                health: "-".into(),
                ports: String::new(),
                planned: true,
                outdated: false,
            },
        };
        rows.push(row);
    }
    for c in containers
        .iter()
        .filter(|c| d.service(&c.service).is_none())
    {
        rows.push(row(c, false));
    }
    Ok(rows)
}

fn row(c: &Existing, planned: bool) -> Row {
    Row {
        service: c.service.clone(),
        state: state(c),
        health: health(&c.status).to_string(),
        ports: c
            .ports
            .iter()
            .map(|p| {
                let ip = if p.host_ip.contains(':') {
                    format!("[{}]", p.host_ip)
                } else {
                    p.host_ip.clone()
                };
                format!(
                    "{ip}:{}->{}/{}",
                    p.host_port,
                    p.container_port,
                    if p.udp { "udp" } else { "tcp" }
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        planned,
        outdated: false,
    }
}

/// `exited (CODE)` for a stopped container, from the status text `Exited (1) 3 seconds ago`.
fn state(c: &Existing) -> String {
    let code = c
        .status
        .strip_prefix("Exited (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(code, _)| code);
    match code {
        Some(code) if c.state == "exited" => format!("exited ({code})"),
        _ => c.state.clone(),
    }
}

/// The engine's status text carries health: `Up 5 minutes (healthy)`,
/// `Up 2 seconds (health: starting)`, `Up 1 minute (unhealthy)`.
fn health(status: &str) -> &'static str {
    if status.contains("(healthy)") {
        "healthy"
    } else if status.contains("(unhealthy)") {
        "unhealthy"
    } else if status.contains("(health: starting)") {
        "starting"
    } else {
        "-"
    }
}

/// The table `stackctl status` prints.
pub fn table(rows: &[Row]) -> String {
    let mut lines = vec![[
        "SERVICE".to_string(),
        "STATE".into(),
        "HEALTH".into(),
        "PORTS".into(),
    ]];
    for r in rows {
        let mut state = r.state.clone();
        if !r.planned {
            state.push_str(" (orphan)");
        } else if r.outdated {
            state.push_str(" (outdated)");
        }
        lines.push([r.service.clone(), state, r.health.clone(), r.ports.clone()]);
    }
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for l in &lines {
        let line = format!("{:<w0$}  {:<w1$}  {:<w2$}  {}", l[0], l[1], l[2], l[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_from_status_text() {
        assert_eq!(health("Up 5 minutes (healthy)"), "healthy");
        assert_eq!(health("Up 2 seconds (health: starting)"), "starting");
        assert_eq!(health("Up 1 minute (unhealthy)"), "unhealthy");
        assert_eq!(health("Exited (1) 3 seconds ago"), "-");
    }

    #[test]
    fn table_aligns_columns() {
        let rows = vec![
            Row {
                service: "prometheus".into(),
                state: "running".into(),
                health: "healthy".into(),
                ports: "127.0.0.1:9090->9090/tcp".into(),
                planned: true,
                outdated: false,
            },
            Row {
                service: "old".into(),
                state: "exited".into(),
                health: "-".into(),
                ports: String::new(),
                planned: false,
                outdated: false,
            },
        ];
        assert_eq!(
            table(&rows),
            "SERVICE     STATE            HEALTH   PORTS\n\
             prometheus  running          healthy  127.0.0.1:9090->9090/tcp\n\
             old         exited (orphan)  -\n"
        );
    }
}
