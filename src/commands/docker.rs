//! What `up`, `down` and `status` share: the plan of the stack directory, the
//! async runtime, and how engine errors reach the user.

use crate::docker::EngineError;
use crate::plan::Deployment;
use std::path::{Path, PathBuf};

/// Renders the compose tree (as `stackctl render` does) and checks the spec
/// for `up`: with `strict_credentials`, an empty secret in use is an error,
/// else each receiver that cannot deliver yet is warned about once, and each
/// other credential in use that is not filled in (validate only notes
/// them). Returns the plan and how many strict-check errors were printed (the caller still runs
/// preflight, so that every problem is reported in one run), or `None` after
/// printing why there is no plan (exit 1).
pub fn prepare(
    dir: &Path,
    strict_credentials: bool,
    held: &crate::lock::StackLock,
) -> anyhow::Result<Option<(Deployment, usize)>> {
    let opts = super::render::Options {
        target: crate::cli::Target::Compose,
        check: false,
        diff: false,
        force: false,
        namespace: None,
        release: None,
    };
    let Some(planned) = super::render::load_and_plan(dir)? else {
        eprintln!("nothing was written");
        return Ok(None);
    };
    if super::render::run_held(dir, opts, &planned, held)? == super::Exit::Failed {
        return Ok(None);
    }
    // Render has printed the warnings; print only what strictness adds.
    let errors = if strict_credentials {
        super::strict_credential_errors(&planned.loaded, dir)
    } else {
        Vec::new()
    };
    for d in &errors {
        eprint!(
            "{}",
            crate::diag::render_text(d, &planned.loaded.file, &planned.loaded.text)
        );
    }
    if !errors.is_empty() {
        eprintln!(
            "{}: {} error(s): `stackctl up` needs them fixed first; checking the rest as well",
            planned.loaded.file,
            errors.len()
        );
    }
    // The strict errors are about secrets' contents; the spec (which render
    // just accepted) still gives the plan preflight checks against.
    let stack = planned.resolved.stack();
    for r in crate::check::receiver_credentials::undeliverable_in(stack, dir) {
        let files: Vec<String> = r.files.iter().map(|f| format!("`{f}`")).collect();
        eprintln!(
            "warning: receiver `{}` cannot deliver until {} is filled in; the stack starts anyway and `stackctl verify` fails until then\n  = help: `stackctl up --strict-credentials` refuses to start instead",
            r.receiver,
            files.join(" and ")
        );
    }
    // validate and render only note an unfilled credential; this is where it
    // starts to matter. Receivers' ones were named above, per receiver.
    if !strict_credentials {
        let notifiers: std::collections::BTreeSet<String> =
            crate::check::receiver_credentials::by_receiver(stack)
                .into_iter()
                .flat_map(|r| r.secrets)
                .collect();
        for (name, file) in crate::check::files::unfilled(stack, dir) {
            if !notifiers.contains(&name) {
                eprintln!(
                    "warning: secret `{name}` is not filled in (`{file}`); the stack starts anyway and what uses it fails until then\n  = help: `stackctl up --strict-credentials` refuses to start instead"
                );
            }
        }
    }
    let count = errors.len();
    Ok(Some((planned.deployment, count)))
}

pub fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::canonicalize(dir)
        .map_err(|e| anyhow::anyhow!("cannot resolve `{}`: {e}", dir.display()))
}

/// One thread is plenty: the work is waiting on the daemon.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Engine errors stop stackctl from doing its job (exit 2).
pub fn engine_error(e: EngineError) -> anyhow::Error {
    match e {
        EngineError::Unreachable { .. } => anyhow::anyhow!(
            "{e}\n  = help: is the Docker daemon running (`docker info`)? Set `DOCKER_HOST` if it listens elsewhere"
        ),
        other => anyhow::anyhow!("the Docker engine refused a request: {other}"),
    }
}

/// The plan of a stack directory for `down` and `status`, which must work
/// even when the spec no longer validates: then only the project name is
/// known (from the spec, or the `.env` that render wrote).
pub fn existing_plan(dir: &Path) -> anyhow::Result<(Deployment, bool)> {
    let loaded = super::load_stack(dir, false);
    if let Ok(loaded) = &loaded {
        if let Some(resolved) = crate::resolve::Resolved::from_loaded(loaded) {
            let inputs = super::render::read_inputs(&resolved, dir)?;
            return Ok((crate::plan::plan(&resolved, &inputs), true));
        }
        if let Some(stack) = &loaded.stack {
            return Ok((empty(&stack.name), false));
        }
    }
    let env = dir.join(crate::render::ENV_FILE);
    let from_env = crate::fsutil::read_regular_text(&env, 64 * 1024)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("COMPOSE_PROJECT_NAME="))
                .map(|name| name.trim().to_string())
        });
    match (from_env, loaded) {
        (Some(name), _) if !name.is_empty() => Ok((empty(&name), false)),
        (_, Err(e)) => Err(e),
        (_, Ok(_)) => anyhow::bail!(
            "cannot tell the project name: `{}` does not load and there is no `{}`",
            dir.join("stack.yaml").display(),
            env.display()
        ),
    }
}

fn empty(project: &str) -> Deployment {
    Deployment {
        project: project.to_string(),
        external_networks: Vec::new(),
        volumes: Vec::new(),
        secrets: Default::default(),
        services: Vec::new(),
        files: Default::default(),
    }
}
