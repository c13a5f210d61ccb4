//! `up` on any `Engine`: decide per service whether its container is kept,
//! created or recreated (by the config hash and the image ID), check
//! everything before touching anything, then create network, volumes and
//! containers, start them in dependency order and wait until each is healthy
//! (or ready, or completed for one-shot jobs), failing fast and specifically.

use super::engine::{ContainerSpec, Engine, EngineError, Exec, Existing, State};
use super::progress::Progress;
use super::spec;
use super::{Problem, failure, preflight};
use crate::plan::{Condition, Deployment, Service};
use futures_util::future::join_all;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Options {
    /// The stack directory, absolute (bind sources and labels use it).
    pub dir: PathBuf,
    /// How long to wait for every service to be healthy.
    pub wait: Duration,
    pub remove_orphans: bool,
    /// Pause between two rounds of inspecting the containers.
    pub poll: Duration,
    /// Only check (the caller found problems of its own, e.g. an empty
    /// notifier secret, and reports them together with preflight's): nothing
    /// is created.
    pub preflight_only: bool,
}

/// How many log lines a failure shows.
const LOG_LINES: usize = 20;
/// stackctl runs a service's healthcheck command itself (exec API) while
/// Docker's own schedule has not reported yet: Docker runs the first check
/// one `interval` (10 s) after start, and API 1.41 has no `start_interval`.
/// First after this long, then backing off to `OWN_CHECK_MAX_GAP`: kept
/// short, because the gap after the process got ready is pure delay (with a
/// 1 s cap a process ready at 2.2 s was seen at 3.1 s); one check is a
/// cheap exec of `wget` against localhost.
const OWN_CHECK_FIRST_GAP: Duration = Duration::from_millis(50);
const OWN_CHECK_MAX_GAP: Duration = Duration::from_millis(250);
/// Engines from this API version on run the healthcheck every
/// `start_interval` during the start period (Docker 25+); older ones ignore
/// the field, and Compose v2 refuses it in a file for them, so it is set
/// only by `up`, from the negotiated version, never rendered.
const START_INTERVAL_API: (u32, u32) = (1, 44);
const START_INTERVAL_S: u32 = 1;

/// stackctl's own runs of one service's healthcheck command.
#[derive(Debug, Clone)]
struct OwnCheck {
    next: Instant,
    gap: Duration,
    runs: u32,
    last: Option<Exec>,
    /// Exec itself failed (no such binary, …): leave it to Docker.
    unusable: Option<String>,
}

impl OwnCheck {
    fn new() -> OwnCheck {
        OwnCheck {
            next: Instant::now(),
            gap: OWN_CHECK_FIRST_GAP,
            runs: 0,
            last: None,
            unusable: None,
        }
    }
}

/// The command Docker would run for the healthcheck (`CMD-SHELL` runs
/// through `/bin/sh -c`, as Docker does on Linux).
pub fn healthcheck_command(h: &crate::plan::Healthcheck) -> Vec<String> {
    if h.shell {
        vec!["/bin/sh".into(), "-c".into(), h.test.join(" ")]
    } else {
        h.test.clone()
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    pub created: Vec<String>,
    pub recreated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Only their config files changed: reloaded in place (SIGHUP, confirmed).
    pub reloaded: Vec<String>,
    /// Containers of services no longer in the spec (left in place).
    pub orphans: Vec<String>,
    pub removed_orphans: Vec<String>,
}

#[derive(Debug)]
pub enum Outcome {
    Up(Summary),
    /// Nothing was created (preflight), or a service failed.
    Failed(Vec<Problem>),
}

#[derive(Debug, Clone)]
enum Action {
    Keep(Existing),
    /// Only mounted config files changed and the component reloads on
    /// SIGHUP: signal it; recreate if the reload is not confirmed.
    Reload(Existing),
    Create,
    /// Replace these containers (the spec or a file changed, or duplicates).
    Recreate(Vec<Existing>),
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Pending,
    Running {
        id: String,
        /// Restarts seen before we looked; more means the process died again.
        baseline: Option<i64>,
        last: Option<Box<State>>,
    },
    Ready,
    Completed,
}

pub async fn up<E: Engine>(
    engine: &E,
    d: &Deployment,
    opts: &Options,
    progress: &mut dyn Progress,
) -> Result<Outcome, EngineError> {
    let started = Instant::now();
    engine.ping().await?;
    let (secrets, mut problems) = preflight::read_secrets(d, &opts.dir);
    let specs: BTreeMap<&str, ContainerSpec> = d
        .services
        .iter()
        .map(|s| (s.name.as_str(), spec::container(d, s, &opts.dir, &secrets)))
        .collect();
    let existing = engine.containers(&d.project).await?;
    // Several networks of the project's name (two `up` at once on API <
    // 1.44) make the name ambiguous: keep the oldest, and recreate the
    // containers that never ran, which may sit on one of the others.
    let networks = engine
        .networks_named(&spec::network_name(&d.project))
        .await?;
    let converge = networks.len() > 1;
    let mut reloads = super::reload::Reloads::load(&opts.dir);

    // One round trip for all of them, not one after the other: a no-change
    // re-up is mostly these look-ups.
    let images: BTreeSet<&str> = d.services.iter().map(|s| s.image.as_str()).collect();
    let mut image_ids: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (image, id) in join_all(
        images
            .iter()
            .map(|i| async move { (*i, engine.image_id(i).await) }),
    )
    .await
    {
        image_ids.insert(image.to_string(), id?);
    }
    let mut actions: BTreeMap<&str, Action> = BTreeMap::new();
    for s in &d.services {
        let mine: Vec<Existing> = existing
            .iter()
            .filter(|c| c.service == s.name)
            .cloned()
            .collect();
        let want = &specs[s.name.as_str()];
        let current = |c: &Existing| {
            reloads.effective(c, &want.labels).as_ref() == want.labels.get(spec::STACKCTL_HASH)
        };
        let action = match mine.as_slice() {
            [] => Action::Create,
            _ if converge && mine.iter().any(|c| c.state == "created") => Action::Recreate(mine),
            [one]
                if one.name == want.name
                    && (current(one) || (!engine.copies_files() && reloadable(s, one, want)))
                    // A rebuilt or re-pulled tag recreates; a tag deleted
                    // locally says nothing about the running container.
                    && image_ids
                        .get(&s.image)
                        .cloned()
                        .flatten()
                        .is_none_or(|id| id == one.image_id) =>
            {
                if current(one) {
                    Action::Keep(one.clone())
                } else {
                    Action::Reload(one.clone())
                }
            }
            _ => Action::Recreate(mine),
        };
        actions.insert(&s.name, action);
    }
    // Containers Compose created and `up` keeps: record the hash in effect,
    // so that a later change of what Compose does not see (a secret) is noticed.
    let mut adopted = false;
    for (name, action) in &actions {
        if let Action::Keep(c) = action {
            adopted |= reloads.adopt(c, &specs[name].labels);
        }
    }
    let planned: BTreeSet<&str> = d.services.iter().map(|s| s.name.as_str()).collect();
    let orphans: Vec<&Existing> = existing
        .iter()
        .filter(|c| !planned.contains(c.service.as_str()))
        .collect();

    // Preflight: nothing is created unless all of it passes.
    let changing: Vec<&Service> = d
        .services
        .iter()
        .filter(|s| {
            !matches!(
                actions[s.name.as_str()],
                Action::Keep(_) | Action::Reload(_)
            )
        })
        .collect();
    problems.extend(preflight::check_mounts(d, &opts.dir));
    problems.extend(preflight::check_networks(engine, d).await?);
    let mut held: BTreeSet<(u16, bool)> = BTreeSet::new();
    for c in &existing {
        let leaving = planned.contains(c.service.as_str()) || opts.remove_orphans;
        if leaving {
            held.extend(c.ports.iter().map(|p| (p.host_port, p.udp)));
            // A container in a restart loop publishes its ports only while
            // its process runs (docker-proxy comes and goes): count the
            // ports its service publishes too, it is removed before the
            // new one starts.
            if let Some(s) = d.service(&c.service).filter(|_| c.state != "running") {
                held.extend(s.ports.iter().map(|p| (p.host_port, p.udp)));
            }
        }
    }
    problems.extend(preflight::check_ports(engine, &changing, &held));
    // Images too, whatever else is wrong: every problem in one run, not in
    // rounds (a pull creates nothing of the stack).
    problems.extend(preflight::ensure_images(engine, &changing, &mut image_ids, progress).await?);
    if !problems.is_empty() || opts.preflight_only {
        return Ok(Outcome::Failed(problems));
    }

    let mut summary = Summary::default();
    for o in &orphans {
        if opts.remove_orphans {
            engine.remove(&o.id).await?;
            progress.line(
                &o.service,
                &format!("removed orphan container `{}`", o.name),
            );
            summary.removed_orphans.push(o.service.clone());
        } else {
            progress.line(
                &o.service,
                &format!(
                    "orphan: container `{}` is not in the spec (`--remove-orphans` removes it)",
                    o.name
                ),
            );
            summary.orphans.push(o.service.clone());
        }
    }
    let network = spec::network_name(&d.project);
    if networks.is_empty() {
        match engine
            .create_network(&network, &spec::network_labels(&d.project))
            .await
        {
            Ok(()) => progress.line(&network, "network created"),
            // Another run created it meanwhile: use that one.
            Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    for extra in networks.iter().skip(1) {
        // Containers of a failed run may still hold one; those are recreated.
        match engine.remove_network(extra).await {
            Ok(()) => progress.line(&network, "duplicate network removed"),
            Err(e @ EngineError::Unreachable { .. }) => return Err(e),
            Err(e) => progress.line(&network, &format!("duplicate network kept: {e}")),
        }
    }
    let volumes = join_all(d.volumes.iter().map(|v| async move {
        let name = spec::volume_name(&d.project, v);
        let exists = engine.volume_exists(&name).await;
        (v, name, exists)
    }))
    .await;
    for (v, name, exists) in volumes {
        if !exists? {
            engine
                .create_volume(&name, &spec::volume_labels(&d.project, v))
                .await?;
            progress.line(&name, "volume created");
        }
    }
    // Reload in place what only changed its config files; what does not
    // confirm the reload is recreated instead.
    let mut reloaded = Vec::new();
    for s in &d.services {
        let Some(Action::Reload(c)) = actions.get(s.name.as_str()).cloned() else {
            continue;
        };
        let result = match metrics_address(s, c.ports.as_slice(), engine, &c.id).await {
            Some((addr, path)) => super::reload::reload(engine, s, &c, &addr, &path).await,
            None => Err("no address to read its metrics from".to_string()),
        };
        match result {
            Ok(took) => {
                progress.line(
                    &s.name,
                    &format!(
                        "config changed: reloaded in place (SIGHUP, confirmed by its reload metric in {:.1}s)",
                        took.as_secs_f64()
                    ),
                );
                if let Some(hash) = specs[s.name.as_str()].labels.get(spec::STACKCTL_HASH) {
                    reloads.0.insert(c.id.clone(), hash.clone());
                }
                reloaded.push(s.name.clone());
                actions.insert(&s.name, Action::Keep(c));
            }
            Err(why) => {
                progress.line(
                    &s.name,
                    &format!("reload not confirmed ({why}): recreating"),
                );
                actions.insert(&s.name, Action::Recreate(vec![c]));
            }
        }
    }
    let ids: Vec<String> = existing.iter().map(|c| c.id.clone()).collect();
    if adopted || !reloaded.is_empty() || !reloads.0.is_empty() {
        if let Err(e) = reloads.save(&opts.dir, &ids) {
            progress.line(
                "stackctl",
                &format!("note: cannot record the reload: {e:#}"),
            );
        }
    }
    // Each removal waits for the process to stop: do them all at once.
    let removals = actions.iter().filter_map(|(name, a)| match a {
        Action::Recreate(old) => Some(async move {
            for c in old {
                engine.remove(&c.id).await?;
            }
            Ok::<_, EngineError>(*name)
        }),
        _ => None,
    });
    for removed in join_all(removals).await {
        progress.line(removed?, "changed: recreating");
    }
    for s in &d.services {
        match &actions[s.name.as_str()] {
            Action::Keep(_) if reloaded.contains(&s.name) => summary.reloaded.push(s.name.clone()),
            Action::Keep(_) => summary.unchanged.push(s.name.clone()),
            Action::Reload(_) => summary.unchanged.push(s.name.clone()),
            Action::Create => summary.created.push(s.name.clone()),
            Action::Recreate(_) => summary.recreated.push(s.name.clone()),
        }
    }

    // What only the engine knows: the image ID (Compose v2 compares its
    // `com.docker.compose.image` label) and whether it has `start_interval`.
    let start_interval = engine.api_version() >= START_INTERVAL_API;
    let specs: BTreeMap<&str, ContainerSpec> = specs
        .into_iter()
        .map(|(name, mut spec)| {
            if let Some(Some(id)) = image_ids.get(&spec.image) {
                spec.labels
                    .insert(super::compose_hash::IMAGE_LABEL.into(), id.clone());
            }
            if start_interval && spec.healthcheck.is_some() {
                spec.start_interval_s = Some(START_INTERVAL_S);
            }
            (name, spec)
        })
        .collect();
    let failures = run(engine, d, opts, &actions, &specs, started, progress).await?;
    progress.finish();
    if failures.is_empty() {
        Ok(Outcome::Up(summary))
    } else {
        Ok(Outcome::Failed(failures))
    }
}

/// What stackctl's own runs of the healthcheck command saw, for a timeout.
fn own_check_report(o: &OwnCheck) -> String {
    let mut m = String::from(": Docker had not run its first healthcheck yet");
    if let Some(why) = &o.unusable {
        m.push_str(&format!("; stackctl could not run it itself: {why}"));
        return m;
    }
    let last = o.last.as_ref();
    let result = match last.and_then(|e| e.exit_code) {
        Some(code) => format!("exit code {code}"),
        None => "no result within its timeout".to_string(),
    };
    m.push_str(&format!(
        "; stackctl ran its healthcheck command {} time(s), the last one ended with {result}",
        o.runs
    ));
    if let Some(output) = last.map(|e| e.output.trim()).filter(|o| !o.is_empty()) {
        m.push_str(&failure::indented_block("its output", output));
    }
    m
}

/// Same container settings, image and secrets; only the hash of its mounted
/// config files differs (so Compose's hash too); running; and the component reloads on SIGHUP.
fn reloadable(s: &Service, one: &Existing, want: &ContainerSpec) -> bool {
    let same = |label: &str| {
        one.labels.contains_key(label) && one.labels.get(label) == want.labels.get(label)
    };
    one.state == "running"
        && super::reload::metric_prefix(s.kind).is_some()
        && same(spec::SETTINGS_HASH)
        && same(super::reload::SECRETS_HASH)
}

/// Where the component's `/metrics` is reachable from here: its published
/// web port, else its address on the project network.
async fn metrics_address<E: Engine>(
    s: &Service,
    published: &[super::engine::Published],
    engine: &E,
    id: &str,
) -> Option<(String, String)> {
    let port = s
        .ready
        .as_ref()
        .map(|r| r.container_port)
        .or_else(|| s.ports.first().map(|p| p.container_port))?;
    let path = super::reload::metrics_path(s);
    if let Some(p) = published
        .iter()
        .find(|p| p.container_port == port && !p.udp)
    {
        let host = match p.host_ip.as_str() {
            "0.0.0.0" | "" => "127.0.0.1".to_string(),
            "::" => "[::1]".to_string(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        return Some((format!("{host}:{}", p.host_port), path));
    }
    let ip = engine.inspect(id).await.ok()?.ip?;
    Some((format!("{ip}:{port}"), path))
}

/// Starts services as their dependencies allow and waits for all of them.
/// Returns the failures (empty when every service is up).
#[allow(clippy::too_many_arguments)]
async fn run<E: Engine>(
    engine: &E,
    d: &Deployment,
    opts: &Options,
    actions: &BTreeMap<&str, Action>,
    specs: &BTreeMap<&str, ContainerSpec>,
    started: Instant,
    progress: &mut dyn Progress,
) -> Result<Vec<Problem>, EngineError> {
    let mut phases: BTreeMap<&str, Phase> = BTreeMap::new();
    // Readiness this stackctl established in an earlier run (see readiness.rs).
    let mut seen_ready = super::readiness::Ready::load(&opts.dir);
    let before = seen_ready.clone();
    for s in &d.services {
        let phase = match &actions[s.name.as_str()] {
            // Unchanged, running, and Docker's own check passed: the list
            // says so, nothing to inspect or probe (a no-change re-up).
            Action::Keep(c)
                if c.state == "running" && !s.one_shot && c.status.contains("(healthy)") =>
            {
                progress.line(&s.name, "unchanged, healthy");
                Phase::Ready
            }
            Action::Keep(c) if matches!(c.state.as_str(), "running" | "restarting") => {
                Phase::Running {
                    id: c.id.clone(),
                    baseline: None,
                    last: None,
                }
            }
            // A finished job that did not change is not run again; a failed
            // one is (its cause may be gone), as Compose would.
            Action::Keep(c) if s.one_shot && c.state == "exited" => {
                // The list's status text says `Exited (0) 3 minutes ago`.
                if c.status.starts_with("Exited (0)") {
                    Phase::Completed
                } else {
                    match engine.inspect(&c.id).await? {
                        st if st.exit_code == 0 => Phase::Completed,
                        _ => Phase::Pending,
                    }
                }
            }
            _ => Phase::Pending,
        };
        phases.insert(&s.name, phase);
    }
    // Create every new container up front, all at once: only starting has
    // to wait for dependencies, and creation is most of a container's setup.
    let creations = d
        .services
        .iter()
        .filter(|s| !matches!(actions[s.name.as_str()], Action::Keep(_)))
        .map(|s| async move { (s, engine.create(&specs[s.name.as_str()]).await) });
    let mut created: BTreeMap<&str, String> = BTreeMap::new();
    let mut failures = Vec::new();
    for (s, result) in join_all(creations).await {
        match result {
            Ok(id) => {
                created.insert(&s.name, id);
            }
            Err(e @ EngineError::Unreachable { .. }) => return Err(e),
            Err(e) => failures.push(failure::start_failure(s, &e)),
        }
    }
    if !failures.is_empty() {
        return Ok(failures);
    }
    let deadline = started + opts.wait;
    let mut own: BTreeMap<&str, OwnCheck> = BTreeMap::new();
    loop {
        // Start every pending service whose dependencies are satisfied.
        let ready_to_start: Vec<&Service> = d
            .services
            .iter()
            .filter(|s| {
                phases[s.name.as_str()] == Phase::Pending && dependencies_met(d, s, &phases)
            })
            .collect();
        let launches = ready_to_start.iter().map(|s| {
            let id = match &actions[s.name.as_str()] {
                Action::Keep(c) => c.id.clone(),
                _ => created[s.name.as_str()].clone(),
            };
            async move { (*s, engine.start(&id).await.map(|()| id)) }
        });
        let mut failures = Vec::new();
        let launched = join_all(launches).await;
        // What just started may unblock others (condition `started`): look
        // again at once rather than after a pause.
        let again = !launched.is_empty();
        for (s, result) in launched {
            match result {
                Ok(id) => {
                    let verb = match &actions[s.name.as_str()] {
                        Action::Keep(_) | Action::Reload(_) => "started (unchanged)",
                        Action::Create => "created, started",
                        Action::Recreate(_) => "recreated, started",
                    };
                    progress.line(&s.name, verb);
                    let baseline = if matches!(actions[s.name.as_str()], Action::Keep(_)) {
                        None
                    } else {
                        Some(0)
                    };
                    phases.insert(
                        &s.name,
                        Phase::Running {
                            id,
                            baseline,
                            last: None,
                        },
                    );
                }
                Err(e @ EngineError::Unreachable { .. }) => return Err(e),
                Err(e) => failures.push(failure::start_failure(s, &e)),
            }
        }
        if !failures.is_empty() {
            return Ok(failures);
        }

        // Look at everything that runs and is not ready yet.
        let running: Vec<(&Service, String)> = d
            .services
            .iter()
            .filter_map(|s| match &phases[s.name.as_str()] {
                Phase::Running { id, .. } => Some((s, id.clone())),
                _ => None,
            })
            .collect();
        let now = Instant::now();
        let inspections = join_all(running.iter().map(|(s, id)| {
            let due = own
                .get(s.name.as_str())
                .is_none_or(|o| o.unusable.is_none() && o.next <= now);
            let seen_ready = &seen_ready;
            async move {
                let state = engine.inspect(id).await;
                let mut ran = None;
                let ready = match &state {
                    // stackctl saw this very run of it healthy before:
                    // Docker's schedule has not caught up yet.
                    Ok(st)
                        if st.status == "running"
                            && st.health.as_deref() == Some("starting")
                            && seen_ready.holds(id, st.started_at.as_deref()) =>
                    {
                        true
                    }
                    Ok(st) if st.status == "running" && st.health.is_none() => {
                        probe(engine, s, st).await
                    }
                    // Docker has not run its first check yet: run it ourselves.
                    Ok(st)
                        if st.status == "running"
                            && st.health.as_deref() == Some("starting")
                            && due =>
                    {
                        match &s.healthcheck {
                            Some(h) => {
                                let timeout = Duration::from_secs(u64::from(h.timeout_s.max(1)));
                                let result =
                                    engine.exec(id, &healthcheck_command(h), timeout).await;
                                let ok = matches!(&result, Ok(e) if e.exit_code == Some(0));
                                ran = Some(result);
                                ok
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                (*s, id.clone(), state, ready, ran)
            }
        }))
        .await;
        for (s, id, state, probed, ran) in inspections {
            if let Some(result) = ran {
                let o = own.entry(&s.name).or_insert_with(OwnCheck::new);
                o.runs += 1;
                match result {
                    Ok(exec) => o.last = Some(exec),
                    Err(e @ EngineError::Unreachable { .. }) => return Err(e),
                    Err(e) => o.unusable = Some(e.to_string()),
                }
                o.next = Instant::now() + o.gap;
                o.gap = (o.gap * 3 / 2).min(OWN_CHECK_MAX_GAP);
            }
            let state = match state {
                Ok(st) => st,
                Err(e @ EngineError::Unreachable { .. }) => return Err(e),
                Err(e) => {
                    failures.push(Problem::new(
                        format!("service `{}`: cannot inspect its container: {e}", s.name),
                        None,
                    ));
                    continue;
                }
            };
            let Some(Phase::Running { baseline, .. }) = phases.get(s.name.as_str()).cloned() else {
                continue;
            };
            let baseline = baseline.unwrap_or(state.restart_count);
            let elapsed = started.elapsed().as_secs_f64();
            let unchanged = if matches!(actions[s.name.as_str()], Action::Keep(_)) {
                "unchanged, "
            } else {
                ""
            };
            let died = matches!(state.status.as_str(), "exited" | "dead");
            if died && s.one_shot && state.exit_code == 0 {
                progress.line(&s.name, &format!("{unchanged}completed ({elapsed:.1}s)"));
                phases.insert(&s.name, Phase::Completed);
            } else if died || state.status == "restarting" || state.restart_count > baseline {
                let state = settle(engine, &id, state).await;
                let logs = engine.logs(&id, LOG_LINES).await.unwrap_or_default();
                failures.push(failure::exited(
                    s,
                    &specs[s.name.as_str()].name,
                    &state,
                    &logs,
                ));
            } else if state.health.as_deref() == Some("unhealthy") {
                failures.push(failure::unhealthy(s, &specs[s.name.as_str()].name, &state));
            } else if state.health.as_deref() == Some("healthy") {
                progress.line(&s.name, &format!("{unchanged}healthy ({elapsed:.1}s)"));
                phases.insert(&s.name, Phase::Ready);
            } else if probed && state.health.is_some() && !s.one_shot {
                // Its own healthcheck command passed; Docker reports the same
                // at its next scheduled run. Remembered for this start, so a
                // re-up before then need not run it again.
                progress.line(&s.name, &format!("{unchanged}healthy ({elapsed:.1}s)"));
                if let Some(t) = &state.started_at {
                    seen_ready.0.insert(id.clone(), t.clone());
                }
                phases.insert(&s.name, Phase::Ready);
            } else if probed && !s.one_shot {
                let what = if s.ready.is_some() {
                    "ready"
                } else {
                    "running"
                };
                progress.line(&s.name, &format!("{unchanged}{what} ({elapsed:.1}s)"));
                phases.insert(&s.name, Phase::Ready);
            } else {
                phases.insert(
                    &s.name,
                    Phase::Running {
                        id,
                        baseline: Some(baseline),
                        last: Some(Box::new(state)),
                    },
                );
            }
        }
        if !failures.is_empty() {
            return Ok(failures);
        }
        if phases
            .values()
            .all(|p| matches!(p, Phase::Ready | Phase::Completed))
        {
            if seen_ready != before {
                remember(&mut seen_ready, engine, d, opts, progress).await;
            }
            return Ok(Vec::new());
        }
        if Instant::now() >= deadline {
            return Ok(timeouts(d, &phases, &own, opts.wait));
        }
        let pending: Vec<String> = d
            .services
            .iter()
            .filter(|s| !matches!(phases[s.name.as_str()], Phase::Ready | Phase::Completed))
            .map(|s| s.name.clone())
            .collect();
        progress.waiting(&pending, started.elapsed());
        if !again {
            // Never past the deadline: the report then comes on time.
            let left = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(opts.poll.min(left)).await;
        }
    }
}

/// Saves what `up` saw ready, pruned to the project's containers now.
async fn remember<E: Engine>(
    seen: &mut super::readiness::Ready,
    engine: &E,
    d: &Deployment,
    opts: &Options,
    progress: &mut dyn Progress,
) {
    let Ok(now) = engine.containers(&d.project).await else {
        return;
    };
    let ids: Vec<String> = now.into_iter().map(|c| c.id).collect();
    if let Err(e) = seen.save(&opts.dir, &ids) {
        progress.line(
            "stackctl",
            &format!("note: cannot record what was seen ready: {e:#}"),
        );
    }
}

/// Docker resets the exit code once a restarted process runs again; it is
/// visible only while the container waits to restart (or has stopped). Looks
/// again for a moment to catch it.
async fn settle<E: Engine>(engine: &E, id: &str, mut state: State) -> State {
    let until = Instant::now() + Duration::from_secs(3);
    while state.status == "running" && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
        match engine.inspect(id).await {
            Ok(next) => state = next,
            Err(_) => break,
        }
    }
    state
}

/// A running service without a Docker healthcheck is ready when its `ready`
/// endpoint answers (through its published port, else its address on the
/// project network), or at once when it has none.
async fn probe<E: Engine>(engine: &E, s: &Service, state: &State) -> bool {
    let Some(check) = &s.ready else { return true };
    let published = s
        .ports
        .iter()
        .find(|p| p.container_port == check.container_port && !p.udp);
    let addr = match (published, &state.ip) {
        (Some(p), _) => {
            let host = match p.host_ip.as_str() {
                "0.0.0.0" | "" => "127.0.0.1".to_string(),
                "::" => "[::1]".to_string(),
                ip if ip.contains(':') => format!("[{ip}]"),
                ip => ip.to_string(),
            };
            format!("{host}:{}", p.host_port)
        }
        (None, Some(ip)) => format!("{ip}:{}", check.container_port),
        (None, None) => return false,
    };
    engine.http_ok(&addr, &check.path).await
}

fn dependencies_met(d: &Deployment, s: &Service, phases: &BTreeMap<&str, Phase>) -> bool {
    s.depends_on.iter().all(|dep| {
        let Some(target) = d.service(&dep.service) else {
            return true;
        };
        let Some(phase) = phases.get(dep.service.as_str()) else {
            return true;
        };
        match dep.condition {
            Condition::Started => !matches!(phase, Phase::Pending),
            // Waiting for health needs something to tell health by; like the
            // Compose file, a dependency without any check only has to start.
            Condition::Healthy if target.healthcheck.is_none() && target.ready.is_none() => {
                !matches!(phase, Phase::Pending)
            }
            Condition::Healthy => matches!(phase, Phase::Ready | Phase::Completed),
            Condition::CompletedSuccessfully => matches!(phase, Phase::Completed),
        }
    })
}

fn timeouts(
    d: &Deployment,
    phases: &BTreeMap<&str, Phase>,
    own: &BTreeMap<&str, OwnCheck>,
    wait: Duration,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for s in &d.services {
        let message = match &phases[s.name.as_str()] {
            Phase::Ready | Phase::Completed => continue,
            Phase::Pending => {
                let waiting: Vec<&str> = s
                    .depends_on
                    .iter()
                    .map(|dep| dep.service.as_str())
                    .collect();
                format!(
                    "service `{}` was not started: still waiting for {}",
                    s.name,
                    waiting.join(", ")
                )
            }
            Phase::Running { last, .. } => {
                let what = if s.one_shot {
                    "did not complete"
                } else {
                    "did not become healthy"
                };
                let mut m = format!(
                    "service `{}` {what} within {}",
                    s.name,
                    failure::human(wait)
                );
                let docker_output = last
                    .as_ref()
                    .and_then(|st| st.last_health_output.as_deref())
                    .filter(|o| !o.is_empty());
                let own = own.get(s.name.as_str());
                if let Some(output) = docker_output {
                    m.push_str(&failure::indented_block("last healthcheck output", output));
                } else if let Some(o) = own.filter(|o| o.runs > 0) {
                    // Docker had not run its first check yet; say what ours saw.
                    m.push_str(&own_check_report(o));
                } else if s.healthcheck.is_some() {
                    m.push_str(
                        " (Docker had not run its first healthcheck yet, and stackctl could not run it itself)",
                    );
                } else if let Some(check) = &s.ready {
                    m.push_str(&format!(
                        " (`{}` on port {} did not answer)",
                        check.path, check.container_port
                    ));
                }
                m
            }
        };
        out.push(Problem::new(
            message,
            Some("raise `--wait`, or look at `stackctl status` and the service's logs"),
        ));
    }
    out
}
