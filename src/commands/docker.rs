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
    Ok(prepare_planned(dir, strict_credentials, held)?.map(|(p, n)| (p.deployment, n)))
}

/// `prepare`, keeping the resolved spec and inputs (`up --host` plans a bundle from them).
pub fn prepare_planned(
    dir: &Path,
    strict_credentials: bool,
    held: &crate::lock::StackLock,
) -> anyhow::Result<Option<(super::render::Planned, usize)>> {
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
    Ok(Some((planned, count)))
}

/// A remote host of the spec (`--host NAME`): its bundle's plan, where the
/// bundle lives, and the engine that runs it.
pub struct Remote {
    pub name: String,
    pub deployment: Deployment,
    /// `DIR/hosts/NAME`, absolute: the plan's paths are relative to it.
    pub bundle_dir: PathBuf,
    /// The stack directory, absolute: what is copied to the remote engine.
    pub stack_dir: PathBuf,
    /// The engine's URL, for messages.
    pub url: String,
    pub endpoint: crate::docker::endpoint::Endpoint,
    /// Where this machine reaches the host's published ports.
    pub address: String,
}

/// The host `name` of a valid spec, with its engine: its `docker:` (and
/// `docker_cert_path`, relative to the stack directory), else `DOCKER_HOST`.
pub fn remote(
    stack: &crate::model::Stack,
    inputs: &crate::plan::Inputs,
    dir: &Path,
    name: &str,
) -> anyhow::Result<Remote> {
    let Some(host) = stack.hosts.get(name) else {
        let known: Vec<String> = stack.hosts.keys().map(|h| format!("`{h}`")).collect();
        anyhow::bail!(
            "--host: the spec has no host `{name}`\n  = help: {}",
            if known.is_empty() {
                "hosts are declared under `hosts:` (see docs/hosts.md)".to_string()
            } else {
                format!("its hosts are {}", known.join(", "))
            }
        );
    };
    let stack_dir = absolute(dir)?;
    let (url, endpoint) = match &host.docker {
        Some(url) => {
            let certs = host.docker_cert_path.as_ref().map(|p| stack_dir.join(p));
            let endpoint = crate::docker::endpoint::Endpoint::parse(url, certs.as_deref())
                .map_err(|e| anyhow::anyhow!("hosts.{name}.docker: {e}"))?;
            (url.clone(), endpoint)
        }
        None => crate::docker::endpoint::Endpoint::from_env().map_err(|e| anyhow::anyhow!(e))?,
    };
    let mut deployment = crate::render::host_deployment(stack, name, host, inputs);
    // The secret files stay in the stack directory, two levels up.
    for file in deployment.secrets.values_mut() {
        *file = format!("../../{file}");
    }
    Ok(Remote {
        name: name.to_string(),
        deployment,
        bundle_dir: stack_dir.join("hosts").join(name),
        stack_dir,
        url,
        endpoint,
        address: host.address.clone(),
    })
}

impl Remote {
    pub async fn engine(
        &self,
    ) -> Result<crate::docker::bollard_engine::BollardEngine, EngineError> {
        Ok(
            crate::docker::bollard_engine::BollardEngine::connect_to(&self.url, &self.endpoint)
                .await?
                .remote(&self.address, &self.stack_dir),
        )
    }
}

/// `remote` for `down` and `status`, which need the spec to validate to know the host.
pub fn existing_remote(dir: &Path, name: &str) -> anyhow::Result<Remote> {
    let loaded = super::load_stack(dir, false)?;
    let Some(resolved) = crate::resolve::Resolved::from_loaded(&loaded) else {
        anyhow::bail!(
            "`{}` does not validate, so host `{name}` and its engine are unknown\n  = help: `stackctl validate --dir {}` shows what to fix",
            loaded.file,
            dir.display()
        );
    };
    let inputs = super::render::read_inputs(resolved.stack(), dir)?;
    remote(resolved.stack(), &inputs, dir, name)
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
