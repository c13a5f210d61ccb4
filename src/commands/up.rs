//! `stackctl up`: render (refusing on errors, respecting edited files), warn
//! once per receiver whose notifier credential is still empty (an error with
//! `--strict-credentials`, as is every empty secret in use), then bring
//! the stack up through the Docker Engine API from the same plan the Compose
//! file was rendered from.

use super::Exit;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use crate::docker::up::{Options, Outcome, up};
use crate::model::types::Duration;
use std::path::Path;
use std::time::Instant;

pub fn run(
    dir: &Path,
    wait: &str,
    remove_orphans: bool,
    strict_credentials: bool,
    host: Option<&str>,
) -> anyhow::Result<Exit> {
    let wait = Duration::parse(wait).map_err(|e| {
        anyhow::anyhow!("--wait: {e}\n  = help: a duration such as `90s`, `3m` or `1m30s`")
    })?;
    // Held until the stack is up (down), so no render or other run interleaves.
    let lock = crate::lock::acquire(dir, "up")?;
    let started = Instant::now();
    let Some((planned, spec_errors)) =
        super::docker::prepare_planned(dir, strict_credentials, &lock)?
    else {
        return Ok(Exit::Failed);
    };
    // `--host NAME`: that host's bundle, through its engine.
    let remote = match host {
        Some(name) => Some(super::docker::remote(
            planned.resolved.stack(),
            &planned.inputs,
            dir,
            name,
        )?),
        None => None,
    };
    let (d, abs) = match &remote {
        Some(r) => (r.deployment.clone(), r.bundle_dir.clone()),
        None => (planned.deployment, super::docker::absolute(dir)?),
    };
    let opts = Options {
        dir: abs,
        wait: wait.as_std(),
        remove_orphans,
        poll: std::time::Duration::from_millis(100),
        preflight_only: spec_errors > 0,
    };
    if spec_errors == 0 {
        match &remote {
            Some(r) => say!(
                "starting `{}` ({} services) on host `{}` through `{}`",
                d.project,
                d.services.len(),
                r.name,
                r.url
            ),
            None => say!("starting `{}` ({} services)", d.project, d.services.len()),
        }
    }
    let web = crate::web_secrets::up_client(dir)?;
    let outcome = super::docker::runtime()?.block_on(async {
        match &remote {
            // The bundles' agents run without the `security:` web configs.
            Some(r) => up(&r.engine().await?, &d, &opts, &mut Stderr::new()).await,
            None => {
                let engine = BollardEngine::connect().await?.with_web(web)?;
                up(&engine, &d, &opts, &mut Stderr::new()).await
            }
        }
    });
    let secs = started.elapsed().as_secs_f64();
    // The spec is wrong whatever the engine says (exit 1); an engine that
    // does not answer only means the rest could not be checked.
    if spec_errors > 0 {
        if let Err(crate::docker::EngineError::Unreachable { host, .. }) = &outcome {
            eprintln!(
                "note: the engine at `{host}` did not answer, so images, ports and networks were not checked"
            );
            return Ok(Exit::Failed);
        }
    }
    match outcome.map_err(super::docker::engine_error)? {
        Outcome::Up(s) => {
            let mut parts = Vec::new();
            for (n, what) in [
                (s.created.len(), "created"),
                (s.recreated.len(), "recreated"),
                (s.reloaded.len(), "reloaded"),
                (s.unchanged.len(), "unchanged"),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {what}"));
                }
            }
            say!("{}", up_line(&d, &parts, secs));
            if !s.orphans.is_empty() {
                eprintln!(
                    "note: {} orphan container(s) left running ({}); `stackctl up --remove-orphans` removes them",
                    s.orphans.len(),
                    s.orphans.join(", ")
                );
            }
            Ok(Exit::Ok)
        }
        Outcome::Failed(problems) => {
            for p in &problems {
                eprint!("{}", p.render());
            }
            if spec_errors > 0 {
                eprintln!(
                    "nothing was created: {spec_errors} spec error(s) and {} other problem(s) above",
                    problems.len()
                );
            }
            eprintln!(
                "`stackctl up` failed after {secs:.1}s; fix the above and run it again (it picks up where it stopped)"
            );
            Ok(Exit::Failed)
        }
    }
}

/// `` `mon` is up: 5 services healthy, 1 job completed (6 created) in 6.2s ``:
/// a one-shot job (`secrets-init`) completes, it is not "healthy".
fn up_line(d: &crate::plan::Deployment, parts: &[String], secs: f64) -> String {
    let jobs = d.services.iter().filter(|s| s.one_shot).count();
    let services = d.services.len() - jobs;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut what = format!("{} healthy", plural(services, "service", "services"));
    if jobs > 0 {
        what.push_str(&format!(", {} completed", plural(jobs, "job", "jobs")));
    }
    format!(
        "`{}` is up: {what} ({}) in {secs:.1}s",
        d.project,
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_counted_apart_from_services() {
        let profile = crate::profiles::find("minimal").unwrap();
        let loaded = crate::load::load_text("stack.yaml", profile.text.to_string());
        let d = crate::plan::plan(
            &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
            &Default::default(),
        );
        assert_eq!(
            up_line(&d, &["5 created".to_string()], 6.24),
            "`minimal` is up: 4 services healthy, 1 job completed (5 created) in 6.2s"
        );
        let mut one = d.clone();
        one.services.retain(|s| s.name == "prometheus");
        assert_eq!(
            up_line(&one, &["1 unchanged".to_string()], 0.1),
            "`minimal` is up: 1 service healthy (1 unchanged) in 0.1s"
        );
    }
}
