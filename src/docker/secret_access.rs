//! Can each service's process read its secrets? `verify` asks the running
//! containers through the exec API: the file `/run/secrets/NAME` must be
//! readable by the user the container runs as, and not empty. A service whose
//! secret its user cannot read (a volume filled by hand, a changed image user)
//! passes every HTTP check while, say, Alertmanager cannot read its SMTP
//! password; only this sees it.

use super::engine::{Engine, EngineError};
use crate::plan::Deployment;
use std::time::Duration;

/// What one secret looks like from inside its service's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Readable,
    Unreadable,
    Empty,
    /// Could not be checked, and why (no container, no shell in the image…).
    NotChecked(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretAccess {
    pub service: String,
    pub secret: String,
    pub access: Access,
}

/// Exit codes of the probe script: distinct from a shell's own 126/127.
const UNREADABLE: i64 = 3;
const EMPTY: i64 = 4;
const EXEC_TIMEOUT: Duration = Duration::from_secs(5);

pub fn path(secret: &str) -> String {
    crate::plan::secret_path(secret)
}

/// `test -r` as the container's own user (exec runs as the configured user),
/// then `test -s`; the value itself never leaves the container.
fn command(secret: &str) -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        format!(r#"test -r "$1" || exit {UNREADABLE}; test -s "$1" || exit {EMPTY}"#),
        "sh".into(),
        path(secret),
    ]
}

/// Every secret of every service that has some (only `services`, when given),
/// in the plan's order.
pub async fn check<E: Engine>(
    engine: &E,
    d: &Deployment,
    services: &[&str],
) -> Result<Vec<SecretAccess>, EngineError> {
    let containers = engine.containers(&d.project).await?;
    let mut out = Vec::new();
    for s in &d.services {
        // One-shot jobs (secrets-init, the Elastic setup) have exited by the
        // time anyone verifies; their readers are the long-running services.
        if s.one_shot
            || s.secrets.is_empty()
            || (!services.is_empty() && !services.contains(&s.name.as_str()))
        {
            continue;
        }
        let running = containers
            .iter()
            .find(|c| c.service == s.name && c.state == "running");
        for secret in &s.secrets {
            let access = match running {
                None => Access::NotChecked(format!(
                    "no running container of service `{}` in project `{}`",
                    s.name, d.project
                )),
                Some(c) => match engine.exec(&c.id, &command(secret), EXEC_TIMEOUT).await {
                    Ok(e) => match e.exit_code {
                        Some(0) => Access::Readable,
                        Some(UNREADABLE) => Access::Unreadable,
                        Some(EMPTY) => Access::Empty,
                        Some(code) => Access::NotChecked(format!(
                            "the check inside the container exited with {code} (does the image have `/bin/sh`?)"
                        )),
                        None => Access::NotChecked(
                            "the check inside the container did not finish".into(),
                        ),
                    },
                    Err(e @ EngineError::Unreachable { .. }) => return Err(e),
                    Err(e) => Access::NotChecked(format!("exec refused: {e}")),
                },
            };
            out.push(SecretAccess {
                service: s.name.clone(),
                secret: secret.clone(),
                access,
            });
        }
    }
    Ok(out)
}
