//! Orchestration against the fake engine: ordering, idempotence, orphans,
//! failure paths, down. The deployments come from the real planner.

use super::Engine;
use super::down::down;
use super::fake::{Behaviour, Fake};
use super::progress::Recorder;
use super::spec;
use super::up::{Options, Outcome, Summary, up};
use super::{EngineError, Problem};
use crate::plan::{Condition, Dependency, Deployment};
use std::collections::BTreeMap;
use std::time::Duration;

const SPEC: &str = r#"
stackctl: 1
name: demo
secrets:
  smtp_password: {}
components:
  prometheus:
    image: test/prometheus
    version: v2.42.0
    ports: {web: 19090}
  alertmanager:
    image: test/alertmanager
    version: v0.25.0
  node_exporter:
    image: test/node-exporter
    version: v1.5.0
    host_root: false
rules:
  r:
    - name: g
      rules:
        - record: job:up:sum
          expr: sum by (job) (up)
alerting:
  smtp:
    smarthost: smtp.example.com:587
    from: am@example.com
    auth_username: am@example.com
    auth_password_secret: smtp_password
  route:
    receiver: default
  receivers:
    - name: default
      email:
        - to: ops@example.com
"#;

const IMAGES: [&str; 3] = [
    "test/prometheus:v2.42.0",
    "test/alertmanager:v0.25.0",
    "test/node-exporter:v1.5.0",
];

/// A stack directory with the rendered config and the secret, plus its plan.
struct Stack {
    dir: tempfile::TempDir,
    d: Deployment,
}

fn plan(text: &str) -> Deployment {
    let loaded = crate::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    crate::plan::plan(
        &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
        &crate::plan::Inputs::default(),
    )
}

fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let d = plan(SPEC);
    write(&dir, &d);
    std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/smtp_password"), "hunter2").unwrap();
    Stack { dir, d }
}

fn write(dir: &tempfile::TempDir, d: &Deployment) {
    for (rel, text) in &d.files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn options(s: &Stack) -> Options {
    Options {
        dir: s.dir.path().to_path_buf(),
        wait: Duration::from_secs(3600),
        remove_orphans: false,
        poll: Duration::ZERO,
        preflight_only: false,
    }
}

fn run_up(
    engine: &Fake,
    d: &Deployment,
    opts: &Options,
) -> (Result<Outcome, EngineError>, Vec<String>) {
    let mut progress = Recorder::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let outcome = rt.block_on(up(engine, d, opts, &mut progress));
    (outcome, progress.lines)
}

fn summary(outcome: Result<Outcome, EngineError>) -> Summary {
    match outcome {
        Ok(Outcome::Up(summary)) => summary,
        other => panic!("expected the stack up, got {other:?}"),
    }
}

fn problems(outcome: Result<Outcome, EngineError>) -> Vec<Problem> {
    match outcome {
        Ok(Outcome::Failed(problems)) => problems,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The fake engine with the images; the plan's `secrets-init` job (Alertmanager
/// reads `smtp_password`) exits 0 as the real one does.
fn fake(images: &[&str]) -> Fake {
    let engine = Fake::with_images(images);
    engine.behave(
        crate::plan::secrets::INIT_SERVICE,
        Behaviour {
            exit: Some(0),
            ..Default::default()
        },
    );
    engine
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cold_up_creates_everything_in_dependency_order() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.behave(
        "alertmanager",
        Behaviour {
            healthy_after: 2,
            ..Default::default()
        },
    );
    let (outcome, lines) = run_up(&engine, &s.d, &options(&s));
    let sum = summary(outcome);
    assert_eq!(
        sum.created,
        names(&[
            "secrets-init",
            "prometheus",
            "alertmanager",
            "node-exporter"
        ])
    );
    assert!(sum.unchanged.is_empty() && sum.recreated.is_empty());

    let calls = engine.calls();
    assert_eq!(
        calls[..8],
        names(&[
            "create network demo_default",
            "create volume demo_alertmanager_data",
            "create volume demo_alertmanager_secrets",
            "create volume demo_prometheus_data",
            // Every container is created at once, the secrets job first.
            "create secrets-init",
            "create prometheus",
            "create alertmanager",
            "create node-exporter",
        ])
    );
    let pos = |call: &str| {
        calls
            .iter()
            .position(|c| c == call)
            .unwrap_or_else(|| panic!("{call} in {calls:?}"))
    };
    // Prometheus waits for Alertmanager (condition: started), Alertmanager
    // for its secrets (condition: completed successfully).
    assert!(pos("start alertmanager") < pos("start prometheus"));
    assert!(pos("start secrets-init") < pos("start alertmanager"));

    let am = engine.container("alertmanager").unwrap();
    assert_eq!(am.spec.name, "demo-alertmanager-1");
    assert!(
        am.spec
            .binds
            .contains(&"demo_alertmanager_secrets:/run/secrets:ro".to_string()),
        "{:?}",
        am.spec.binds
    );
    let job = engine.container("secrets-init").unwrap();
    assert_eq!(job.spec.user.as_deref(), Some("0"));
    assert_eq!(
        job.spec.cmd[1..],
        names(&["secrets-init", "alertmanager_secrets:65534:smtp_password"])
    );
    assert!(
        lines.contains(&"alertmanager: created, started".to_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("alertmanager: healthy (")),
        "{lines:?}"
    );
}

#[test]
fn second_up_touches_nothing() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let ids = engine.ids();
    engine.clear_calls();
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(
        sum.unchanged,
        names(&[
            "secrets-init",
            "prometheus",
            "alertmanager",
            "node-exporter"
        ])
    );
    assert!(sum.created.is_empty() && sum.recreated.is_empty());
    assert_eq!(engine.calls(), Vec::<String>::new());
    assert_eq!(engine.ids(), ids);
}

#[test]
fn a_changed_rule_reloads_prometheus_in_place_and_a_rerun_keeps_it() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let before = engine.ids();
    engine.clear_calls();

    let changed = plan(&SPEC.replace("sum by (job) (up)", "count by (job) (up)"));
    write(&s.dir, &changed);
    let (outcome, lines) = run_up(&engine, &changed, &options(&s));
    let sum = summary(outcome);
    assert_eq!(sum.reloaded, names(&["prometheus"]));
    assert_eq!(sum.recreated, Vec::<String>::new());
    assert_eq!(engine.calls(), names(&["signal HUP prometheus"]));
    assert_eq!(engine.ids(), before);
    assert!(
        lines.iter().any(|l| l.starts_with(
            "prometheus: config changed: reloaded in place (SIGHUP, confirmed by its reload metric"
        )),
        "{lines:?}"
    );
    // The reload is remembered: the next up changes nothing, status agrees.
    engine.clear_calls();
    let sum = summary(run_up(&engine, &changed, &options(&s)).0);
    assert_eq!(sum.unchanged.len(), 4, "{sum:?}");
    assert_eq!(engine.calls(), Vec::<String>::new());
}

#[test]
fn a_rejected_reload_falls_back_to_recreating_only_prometheus() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let before = engine.ids();
    engine.clear_calls();
    engine.world.borrow_mut().reload_fails = true;

    let changed = plan(&SPEC.replace("sum by (job) (up)", "count by (job) (up)"));
    write(&s.dir, &changed);
    let (outcome, lines) = run_up(&engine, &changed, &options(&s));
    let sum = summary(outcome);
    assert_eq!(sum.recreated, names(&["prometheus"]));
    assert_eq!(
        sum.unchanged,
        names(&["secrets-init", "alertmanager", "node-exporter"])
    );
    assert_eq!(
        engine.calls(),
        names(&[
            "signal HUP prometheus",
            "remove prometheus",
            "create prometheus",
            "start prometheus"
        ])
    );
    assert!(
        lines.iter().any(|l| l
            == "prometheus: reload not confirmed (`prometheus_config_last_reload_successful` is 0: the new config was rejected): recreating"),
        "{lines:?}"
    );
    let after = engine.ids();
    assert_ne!(after["prometheus"], before["prometheus"]);
    assert_eq!(after["alertmanager"], before["alertmanager"]);
    assert_eq!(after["node-exporter"], before["node-exporter"]);
}

#[test]
fn a_changed_secret_recreates_the_service_that_reads_it() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    std::fs::write(s.dir.path().join("secrets/smtp_password"), "new password").unwrap();
    engine.clear_calls();
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    // The job installs the new value, then its reader is recreated.
    assert_eq!(sum.recreated, names(&["secrets-init", "alertmanager"]));
    let calls = engine.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| !c.starts_with("remove"))
            .collect::<Vec<_>>(),
        [
            "create secrets-init",
            "create alertmanager",
            "start secrets-init",
            "start alertmanager"
        ],
        "{calls:?}"
    );
}

#[test]
fn a_rebuilt_image_recreates_its_service() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    engine
        .world
        .borrow_mut()
        .images
        .insert("test/node-exporter:v1.5.0".into(), "sha256:rebuilt".into());
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(sum.recreated, names(&["node-exporter"]));
    assert_eq!(
        engine.container("node-exporter").unwrap().image_id,
        "sha256:rebuilt"
    );
}

#[test]
fn removed_service_is_an_orphan_until_asked() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let mut smaller = s.d.clone();
    smaller.services.retain(|svc| svc.name != "node-exporter");
    engine.clear_calls();

    let (outcome, lines) = run_up(&engine, &smaller, &options(&s));
    let sum = summary(outcome);
    assert_eq!(sum.orphans, names(&["node-exporter"]));
    assert!(engine.container("node-exporter").is_some());
    assert_eq!(engine.calls(), Vec::<String>::new());
    assert!(
        lines.contains(
            &"node-exporter: orphan: container `demo-node-exporter-1` is not in the spec (`--remove-orphans` removes it)"
                .to_string()
        ),
        "{lines:?}"
    );

    let opts = Options {
        remove_orphans: true,
        ..options(&s)
    };
    let sum = summary(run_up(&engine, &smaller, &opts).0);
    assert_eq!(sum.removed_orphans, names(&["node-exporter"]));
    assert!(engine.container("node-exporter").is_none());
    assert_eq!(engine.calls(), names(&["remove node-exporter"]));
}

#[test]
fn an_exiting_container_fails_fast_with_code_and_logs() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.behave(
        "node-exporter",
        Behaviour {
            exit: Some(2),
            ..Default::default()
        },
    );
    // An hour to wait: only failing fast lets this test finish.
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(found.len(), 1, "{found:?}");
    let p = &found[0];
    assert!(
        p.message
            .starts_with("service `node-exporter` exited with code 2\n  last log lines:\n"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("    node-exporter log line 30"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("    node-exporter log line 11"),
        "{}",
        p.message
    );
    assert!(
        !p.message.contains("log line 10\n"),
        "only the last 20 lines: {}",
        p.message
    );
    assert!(
        p.hint
            .as_deref()
            .unwrap()
            .contains("`docker logs demo-node-exporter-1`")
    );
}

#[test]
fn an_unhealthy_service_shows_its_last_health_output() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.behave(
        "prometheus",
        Behaviour {
            unhealthy: true,
            ..Default::default()
        },
    );
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(
        found[0].message,
        "service `prometheus` is unhealthy: its healthcheck kept failing\n  last healthcheck output:\n    \
         wget: can't connect to remote host: Connection refused"
    );
}

#[test]
fn a_service_that_never_gets_healthy_times_out_with_its_health_output() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.behave(
        "alertmanager",
        Behaviour {
            never_healthy: true,
            ..Default::default()
        },
    );
    let opts = Options {
        wait: Duration::from_millis(50),
        ..options(&s)
    };
    let found = problems(run_up(&engine, &s.d, &opts).0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "service `alertmanager` did not become healthy within 0s\n  last healthcheck output:\n    \
         wget: server returned error: HTTP/1.1 503 Service Unavailable"
    );
}

#[test]
fn a_taken_port_stops_up_before_anything_is_created() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.world.borrow_mut().taken_ports.insert(19090);
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(
        found,
        [Problem::new(
            "port 127.0.0.1:19090 for service `prometheus` is already in use on this host".into(),
            Some(
                "stop what listens there, or set `components.prometheus.ports.web` to a free port"
            ),
        )]
    );
    assert_eq!(engine.calls(), Vec::<String>::new());
}

#[test]
fn the_stacks_own_ports_do_not_count_as_taken() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    // The running Prometheus holds the port; changing Prometheus must not trip over it.
    engine.world.borrow_mut().taken_ports.insert(19090);
    // A recreate, not a reload, is what has to get past its own port.
    engine.world.borrow_mut().reload_fails = true;
    let changed = plan(&SPEC.replace("sum by (job) (up)", "max by (job) (up)"));
    write(&s.dir, &changed);
    assert_eq!(
        summary(run_up(&engine, &changed, &options(&s)).0).recreated,
        names(&["prometheus"])
    );
}

#[test]
fn a_missing_image_says_how_to_load_it_and_nothing_is_created() {
    let s = stack();
    let engine = fake(&IMAGES[..2]);
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "image `test/node-exporter:v1.5.0` (service `node-exporter`) is not present and cannot be pulled: \
         pull access denied for test/node-exporter:v1.5.0"
    );
    let hint = found[0].hint.as_deref().unwrap();
    assert!(hint.contains("`docker load -i image.tar`"), "{hint}");
    assert!(
        hint.contains("`docker build -t test/node-exporter:v1.5.0 .`"),
        "{hint}"
    );
    assert!(hint.contains("`defaults.image_registry`"), "{hint}");
    assert_eq!(engine.calls(), names(&["pull test/node-exporter:v1.5.0"]));
}

#[test]
fn a_pullable_image_is_pulled_first() {
    let s = stack();
    let engine = fake(&IMAGES[..2]);
    engine
        .world
        .borrow_mut()
        .pullable
        .insert("test/node-exporter:v1.5.0".into(), "sha256:pulled".into());
    summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(engine.calls()[0], "pull test/node-exporter:v1.5.0");
    assert_eq!(
        engine.container("node-exporter").unwrap().image_id,
        "sha256:pulled"
    );
}

#[test]
fn missing_files_and_secrets_are_all_reported_before_anything_runs() {
    let s = stack();
    std::fs::remove_dir_all(s.dir.path().join("prometheus")).unwrap();
    std::fs::remove_file(s.dir.path().join("secrets/smtp_password")).unwrap();
    let engine = fake(&IMAGES);
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("secret `smtp_password`: cannot read `"),
        "{messages:?}"
    );
    assert_eq!(
        messages[1],
        format!(
            "service `prometheus`: mount source `{}` (for `/etc/prometheus`) does not exist",
            s.dir.path().join("prometheus").display()
        )
    );
    assert_eq!(engine.calls(), Vec::<String>::new());
}

#[test]
fn an_unreachable_engine_is_an_error_not_a_failure() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.world.borrow_mut().unreachable = true;
    match run_up(&engine, &s.d, &options(&s)).0 {
        Err(EngineError::Unreachable { host, reason }) => {
            assert_eq!(host, "unix:///fake.sock");
            assert_eq!(reason, "connection refused");
        }
        other => panic!("expected unreachable, got {other:?}"),
    }
}

#[test]
fn a_rerun_after_a_failure_converges_without_duplicates() {
    let s = stack();
    let engine = fake(&IMAGES);
    let bad = plan(&SPEC.replace(
        "host_root: false",
        "host_root: false\n    extra_args: [--no-such-flag]",
    ));
    write(&s.dir, &bad);
    engine.behave(
        "node-exporter",
        Behaviour {
            exit: Some(1),
            ..Default::default()
        },
    );
    problems(run_up(&engine, &bad, &options(&s)).0);
    // Same broken spec again: the same container fails again, nothing duplicated.
    problems(run_up(&engine, &bad, &options(&s)).0);
    assert_eq!(engine.world.borrow().containers.len(), 4);

    engine.behave("node-exporter", Behaviour::default());
    write(&s.dir, &s.d);
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(sum.recreated, names(&["node-exporter"]));
    let w = engine.world.borrow();
    let mut services: Vec<&str> = w.containers.values().map(|c| c.service()).collect();
    services.sort();
    assert_eq!(
        services,
        [
            "alertmanager",
            "node-exporter",
            "prometheus",
            "secrets-init"
        ]
    );
}

#[test]
fn healthy_and_completed_conditions_wait_for_their_dependency() {
    let s = stack();
    let mut d = s.d.clone();
    // A setup job that needs a healthy Alertmanager, and a service that needs the job done.
    let mut job = d.service("node-exporter").unwrap().clone();
    job.name = "setup".into();
    job.one_shot = true;
    job.restart = "no".into();
    job.ports.clear();
    job.healthcheck = None;
    job.depends_on = vec![Dependency {
        service: "alertmanager".into(),
        condition: Condition::Healthy,
    }];
    d.services.push(job);
    let ne = d
        .services
        .iter_mut()
        .find(|x| x.name == "node-exporter")
        .unwrap();
    ne.depends_on = vec![Dependency {
        service: "setup".into(),
        condition: Condition::CompletedSuccessfully,
    }];
    let engine = fake(&IMAGES);
    engine.behave(
        "alertmanager",
        Behaviour {
            healthy_after: 3,
            ..Default::default()
        },
    );
    engine.behave(
        "setup",
        Behaviour {
            exit: Some(0),
            ..Default::default()
        },
    );
    let (outcome, lines) = run_up(&engine, &d, &options(&s));
    summary(outcome);
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {lines:?}"))
    };
    assert!(at("alertmanager: healthy") < at("setup: created, started"));
    assert!(at("setup: completed") < at("node-exporter: created, started"));

    // The finished job is not run again.
    engine.clear_calls();
    summary(run_up(&engine, &d, &options(&s)).0);
    assert_eq!(engine.calls(), Vec::<String>::new());
}

#[test]
fn a_failed_job_blocks_its_dependents_and_is_reported() {
    let s = stack();
    let mut d = s.d.clone();
    let mut job = d.service("node-exporter").unwrap().clone();
    job.name = "setup".into();
    job.one_shot = true;
    job.restart = "no".into();
    job.ports.clear();
    d.services.push(job);
    d.services
        .iter_mut()
        .find(|x| x.name == "prometheus")
        .unwrap()
        .depends_on
        .push(Dependency {
            service: "setup".into(),
            condition: Condition::CompletedSuccessfully,
        });
    let engine = fake(&IMAGES);
    engine.behave(
        "setup",
        Behaviour {
            exit: Some(3),
            ..Default::default()
        },
    );
    let found = problems(run_up(&engine, &d, &options(&s)).0);
    assert!(
        found[0]
            .message
            .starts_with("service `setup` exited with code 3"),
        "{found:?}"
    );
    // Created with the others, but never started.
    assert_eq!(engine.container("prometheus").unwrap().state, "created");
    assert!(!engine.calls().contains(&"start prometheus".to_string()));
}

#[test]
fn labels_and_names_are_the_compose_ones() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let w = engine.world.borrow();
    assert_eq!(w.networks["demo_default"][spec::PROJECT], "demo");
    assert_eq!(w.networks["demo_default"][spec::NETWORK], "default");
    assert_eq!(
        w.volumes["demo_prometheus_data"][spec::VOLUME],
        "prometheus_data"
    );
    let p = w
        .containers
        .values()
        .find(|c| c.service() == "prometheus")
        .unwrap();
    assert_eq!(p.spec.name, "demo-prometheus-1");
    assert_eq!(p.spec.labels[spec::ONEOFF], "False");
    assert!(
        p.spec
            .binds
            .contains(&"demo_prometheus_data:/prometheus".to_string())
    );
}

#[test]
fn down_removes_containers_and_network_and_keeps_volumes() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    engine.clear_calls();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut progress = Recorder::default();
    let removed = rt
        .block_on(down(&engine, "demo", &s.d.volumes, false, &mut progress))
        .unwrap();
    assert_eq!(removed.containers.len(), 4);
    assert!(removed.network);
    assert_eq!(
        removed.kept_volumes,
        names(&[
            "demo_alertmanager_data",
            "demo_alertmanager_secrets",
            "demo_prometheus_data"
        ])
    );
    assert!(engine.world.borrow().containers.is_empty());
    assert_eq!(engine.world.borrow().volumes.len(), 3);

    let removed = rt
        .block_on(down(&engine, "demo", &s.d.volumes, true, &mut progress))
        .unwrap();
    assert_eq!(
        removed.volumes,
        names(&[
            "demo_alertmanager_data",
            "demo_alertmanager_secrets",
            "demo_prometheus_data"
        ])
    );
    assert!(engine.world.borrow().volumes.is_empty());
}

#[test]
fn status_rows_come_from_labels() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let mut d = s.d.clone();
    d.services.retain(|x| x.name != "node-exporter");
    let hashes = d
        .services
        .iter()
        .map(|x| {
            let c = engine.container(&x.name).unwrap();
            (x.name.clone(), c.spec.labels.clone())
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rows = rt
        .block_on(super::status::status(
            &engine,
            &d,
            &hashes,
            &Default::default(),
        ))
        .unwrap();
    let summary: Vec<(&str, &str, bool, &str)> = rows
        .iter()
        .map(|r| {
            (
                r.service.as_str(),
                r.state.as_str(),
                r.planned,
                r.ports.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("secrets-init", "exited (0)", true, ""),
            ("prometheus", "running", true, "127.0.0.1:19090->9090/tcp"),
            ("alertmanager", "running", true, "127.0.0.1:9093->9093/tcp"),
            (
                "node-exporter",
                "running",
                false,
                "127.0.0.1:9100->9100/tcp"
            ),
        ]
    );
}

#[test]
fn a_registry_mirror_reaches_the_containers_exactly_as_planned() {
    let text = SPEC
        .replace(
            "stackctl: 1\n",
            "stackctl: 1\ndefaults:\n  image_registry: registry.local:5000/\n",
        )
        .replace("    image: test/node-exporter\n", "");
    let d = plan(&text);
    let planned = d.service("node-exporter").unwrap().image.clone();
    assert_eq!(planned, "registry.local:5000/prom/node-exporter:v1.5.0");
    let s = stack();
    let engine = fake(&[IMAGES[0], IMAGES[1], planned.as_str()]);
    summary(run_up(&engine, &d, &options(&s)).0);
    // A per-component `image:` wins over the mirror.
    assert_eq!(
        engine.container("node-exporter").unwrap().spec.image,
        planned
    );
    assert_eq!(
        engine.container("prometheus").unwrap().spec.image,
        "test/prometheus:v2.42.0"
    );

    // Missing, it is named as planned, mirror and all.
    let engine = fake(&IMAGES[..2]);
    let found = problems(run_up(&engine, &d, &options(&s)).0);
    assert!(
        found[0]
            .message
            .starts_with("image `registry.local:5000/prom/node-exporter:v1.5.0`"),
        "{found:?}"
    );
}

#[test]
fn a_service_without_healthcheck_is_probed_on_its_ready_endpoint() {
    let s = stack();
    let mut d = s.d.clone();
    // As for the FROM-scratch exporters: no shell, so no in-container check.
    let ne = d
        .services
        .iter_mut()
        .find(|x| x.name == "node-exporter")
        .unwrap();
    ne.healthcheck = None;
    ne.ports[0].host_port = 19100;
    let engine = fake(&IMAGES);
    engine.world.borrow_mut().http_down = true;
    let opts = Options {
        wait: Duration::from_millis(50),
        ..options(&s)
    };
    let found = problems(run_up(&engine, &d, &opts).0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "service `node-exporter` did not become healthy within 0s (`/metrics` on port 9100 did not answer)"
    );
    assert_eq!(
        engine.world.borrow().probes.first().map(String::as_str),
        Some("127.0.0.1:19100 /metrics"),
        "probed through the published port"
    );

    engine.world.borrow_mut().http_down = false;
    let (outcome, lines) = run_up(&engine, &d, &options(&s));
    summary(outcome);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("node-exporter: unchanged, ready (")),
        "{lines:?}"
    );

    // Not published: probed on its address on the project network.
    d.services
        .iter_mut()
        .find(|x| x.name == "node-exporter")
        .unwrap()
        .ports
        .clear();
    engine.world.borrow_mut().probes.clear();
    summary(run_up(&engine, &d, &options(&s)).0);
    assert!(
        engine
            .world
            .borrow()
            .probes
            .contains(&"172.30.0.2:9100 /metrics".to_string())
    );
}

#[test]
fn several_missing_images_are_listed_in_one_problem() {
    let s = stack();
    let engine = fake(&IMAGES[..1]);
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "2 images are not present and cannot be pulled\n    \
         test/alertmanager:v0.25.0 (service `alertmanager`): pull access denied for test/alertmanager:v0.25.0\n    \
         test/node-exporter:v1.5.0 (service `node-exporter`): pull access denied for test/node-exporter:v1.5.0"
    );
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("`docker save IMAGE -o image.tar`")
    );
}

#[test]
fn own_healthcheck_runs_make_a_service_healthy_before_dockers_first_check() {
    let s = stack();
    let engine = fake(&IMAGES);
    for service in ["prometheus", "alertmanager", "node-exporter"] {
        // Docker never gets round to its first check (10 s after start);
        // the healthcheck command run through exec passes on its third run.
        engine.behave(
            service,
            Behaviour {
                never_healthy: true,
                exec_healthy_after: Some(2),
                ..Default::default()
            },
        );
    }
    // Bounded, so that without own checks this fails instead of hanging.
    let opts = Options {
        wait: Duration::from_secs(5),
        ..options(&s)
    };
    let (outcome, lines) = run_up(&engine, &s.d, &opts);
    assert_eq!(summary(outcome).created.len(), 4, "{lines:?}");
    let probes = engine.world.borrow().probes.clone();
    for service in ["prometheus", "alertmanager", "node-exporter"] {
        let runs = probes
            .iter()
            .filter(|p| **p == format!("exec {service} healthcheck"))
            .count();
        assert_eq!(runs, 3, "{service}: {probes:?}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("{service}: healthy ("))),
            "{lines:?}"
        );
    }
}

#[test]
fn a_timeout_before_dockers_first_check_says_what_stackctl_saw() {
    let s = stack();
    let engine = fake(&IMAGES);
    engine.behave(
        "alertmanager",
        Behaviour {
            never_healthy: true,
            no_docker_check_yet: true,
            ..Default::default()
        },
    );
    let opts = Options {
        wait: Duration::from_secs(1),
        poll: Duration::from_millis(10),
        ..options(&s)
    };
    let found = problems(run_up(&engine, &s.d, &opts).0);
    assert_eq!(found.len(), 1, "{found:?}");
    let m = &found[0].message;
    assert!(
        m.starts_with(
            "service `alertmanager` did not become healthy within 1s: Docker had not run its first healthcheck yet; \
             stackctl ran its healthcheck command "
        ),
        "{m}"
    );
    assert!(
        m.ends_with(
            "time(s), the last one ended with exit code 1\n  its output:\n    \
             wget: server returned error: HTTP/1.1 503 Service Unavailable"
        ),
        "{m}"
    );
    assert!(!m.contains("did not answer"), "{m}");
}

#[test]
fn every_preflight_problem_is_reported_in_one_run() {
    let s = stack();
    std::fs::remove_dir_all(s.dir.path().join("prometheus")).unwrap();
    // Two images missing as well: all of it in one report, nothing created.
    let engine = Fake::with_images(&IMAGES[..1]);
    engine.world.borrow_mut().taken_ports.insert(19090);
    let found = problems(run_up(&engine, &s.d, &options(&s)).0);
    let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("mount source"), "{messages:?}");
    assert!(
        messages[1].starts_with("port 127.0.0.1:19090"),
        "{messages:?}"
    );
    assert!(
        messages[2].starts_with("2 images are not present and cannot be pulled"),
        "{messages:?}"
    );
    assert_eq!(
        found[0].hint.as_deref(),
        Some(
            "`stackctl render` writes the config tree again (or `stackctl render --force` if you edited it)"
        )
    );
    let created: Vec<String> = engine
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("pull "))
        .collect();
    assert_eq!(created, Vec::<String>::new());
}

#[test]
fn a_missing_builtin_host_mount_gets_a_hint_that_can_be_followed() {
    let mut d = plan(
        "stackctl: 1\nname: cad\ncomponents:\n  cadvisor:\n    image: test/cadvisor\n    version: v0.49.1\n",
    );
    let cadvisor = d
        .services
        .iter_mut()
        .find(|s| s.name == "cadvisor")
        .unwrap();
    let mount = cadvisor
        .mounts
        .iter_mut()
        .find(|m| m.target == "/dev/disk")
        .unwrap();
    mount.source = crate::plan::MountSource::Host("/nonexistent-stackctl-test/disk".into());
    let found = super::preflight::check_mounts(&d, std::path::Path::new("/tmp"));
    assert_eq!(found.len(), 1, "{found:?}");
    let hint = found[0].hint.as_deref().unwrap();
    assert_eq!(
        hint,
        "`/nonexistent-stackctl-test/disk` is one of the paths `cadvisor` always mounts (it is not in stack.yaml); \
         create it on this host (`sudo mkdir -p /nonexistent-stackctl-test/disk`; a host without udev has no `/dev/disk`), \
         or disable the component with `components.cadvisor.enabled: false`"
    );
    assert!(!hint.contains("remove the volume"), "{hint}");
}

#[test]
fn up_and_down_converge_from_duplicate_networks_and_created_containers() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    // What two concurrent runs leave: a second network of the same name, and
    // a container created but never started.
    {
        let mut w = engine.world.borrow_mut();
        w.duplicate_networks
            .insert("net-dup-id".into(), "demo_default".into());
        let c = w
            .containers
            .values_mut()
            .find(|c| c.service() == "alertmanager")
            .unwrap();
        c.state = "created".into();
    }
    let before = engine.ids();
    engine.clear_calls();
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(sum.recreated, names(&["alertmanager"]));
    assert!(engine.world.borrow().duplicate_networks.is_empty());
    assert!(
        engine
            .calls()
            .contains(&"remove network net-dup-id".to_string()),
        "{:?}",
        engine.calls()
    );
    assert_ne!(engine.ids()["alertmanager"], before["alertmanager"]);

    // And down, with duplicates again, removes every one of them by ID.
    engine
        .world
        .borrow_mut()
        .duplicate_networks
        .insert("net-dup-2".into(), "demo_default".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let removed = rt
        .block_on(down(&engine, "demo", &[], false, &mut Recorder::default()))
        .unwrap();
    assert!(removed.network);
    let w = engine.world.borrow();
    assert!(w.duplicate_networks.is_empty() && w.networks.is_empty());
}

/// Makes the containers look as Compose v2 creates them from the rendered
/// file: Compose's labels and the file's own, none of stackctl's.
fn as_if_compose_created(engine: &Fake) {
    for c in engine.world.borrow_mut().containers.values_mut() {
        c.spec.labels.retain(|k, _| {
            k.starts_with("com.docker.compose.") || k == crate::render::compose::CONFIG_FILES_LABEL
        });
    }
}

#[test]
fn containers_compose_created_are_kept_and_a_later_secret_change_is_noticed() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    as_if_compose_created(&engine);
    let ids = engine.ids();
    engine.clear_calls();
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(sum.unchanged.len(), 4, "{sum:?}");
    assert_eq!(engine.calls(), Vec::<String>::new());
    assert_eq!(engine.ids(), ids);
    // What Compose does not see (the secrets) is recorded from now on.
    let reloads = super::reload::Reloads::load(s.dir.path());
    assert_eq!(reloads.0.len(), 4, "{reloads:?}");

    std::fs::write(s.dir.path().join("secrets/smtp_password"), "rotated").unwrap();
    let sum = summary(run_up(&engine, &s.d, &options(&s)).0);
    assert_eq!(sum.recreated, names(&["secrets-init", "alertmanager"]));
}

#[test]
fn a_compose_created_container_of_another_definition_is_recreated_and_outdated() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    as_if_compose_created(&engine);
    let changed = plan(&SPEC.replace(
        "version: v1.5.0",
        "version: v1.5.0\n    extra_args: [--log.level=debug]",
    ));
    let wanted: std::collections::BTreeMap<_, _> = changed
        .services
        .iter()
        .map(|x| {
            let c = spec::container(&changed, x, s.dir.path(), &Default::default());
            (x.name.clone(), c.labels)
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rows = rt
        .block_on(super::status::status(
            &engine,
            &changed,
            &wanted,
            &Default::default(),
        ))
        .unwrap();
    let outdated: Vec<&str> = rows
        .iter()
        .filter(|r| r.outdated)
        .map(|r| r.service.as_str())
        .collect();
    // Only the service whose definition changed; the secrets are not part
    // of Compose's hash, so the reader of one is current too.
    assert_eq!(outdated, ["node-exporter"]);
    let sum = summary(run_up(&engine, &changed, &options(&s)).0);
    assert_eq!(sum.recreated, names(&["node-exporter"]));
}

#[test]
fn start_interval_is_set_only_where_the_engine_api_has_it() {
    for (api, want) in [
        ((1, 41), None),
        ((1, 43), None),
        ((1, 44), Some(1)),
        ((1, 47), Some(1)),
    ] {
        let s = stack();
        let engine = fake(&IMAGES);
        engine.world.borrow_mut().api = Some(api);
        summary(run_up(&engine, &s.d, &options(&s)).0);
        let prometheus = engine.container("prometheus").unwrap();
        assert_eq!(prometheus.spec.start_interval_s, want, "API {api:?}");
        // Only a service with a healthcheck gets one.
        let job = engine.container("secrets-init").unwrap();
        assert_eq!(job.spec.start_interval_s, None);
    }
}

#[test]
fn containers_carry_the_image_id_compose_compares() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let c = engine.container("prometheus").unwrap();
    assert_eq!(
        c.spec.labels.get(super::compose_hash::IMAGE_LABEL),
        Some(&c.image_id)
    );
}

#[test]
fn a_stuck_reload_is_not_confirmed_by_an_old_timestamp_and_recreates() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    engine.clear_calls();
    engine.world.borrow_mut().reload_stuck = true;
    let changed = plan(&SPEC.replace("sum by (job) (up)", "count by (job) (up)"));
    write(&s.dir, &changed);
    let (outcome, lines) = run_up(&engine, &changed, &options(&s));
    let sum = summary(outcome);
    assert_eq!(sum.recreated, names(&["prometheus"]), "{lines:?}");
    assert!(sum.reloaded.is_empty());
    assert!(
        lines.iter().any(|l| l.starts_with("prometheus: reload not confirmed (`prometheus_config_last_reload_success_timestamp_seconds` did not move past 4000000000")),
        "{lines:?}"
    );
}

#[test]
fn the_reload_is_confirmed_under_the_external_url_path() {
    let spec = SPEC.replace(
        "    ports: {web: 19090}",
        "    ports: {web: 19090}\n    external_url: http://mon.example.com/prom/",
    );
    let s = stack();
    let d = plan(&spec);
    write(&s.dir, &d);
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &d, &options(&s)).0);
    let changed = plan(&spec.replace("sum by (job) (up)", "count by (job) (up)"));
    write(&s.dir, &changed);
    let sum = summary(run_up(&engine, &changed, &options(&s)).0);
    assert_eq!(sum.reloaded, names(&["prometheus"]));
    let bodies = engine.world.borrow().bodies.clone();
    assert!(!bodies.is_empty());
    assert!(
        bodies.iter().all(|b| b == "127.0.0.1:19090/prom/metrics"),
        "{bodies:?}"
    );
}

/// How often the engine was asked about each container (inspect).
fn looks(engine: &Fake) -> BTreeMap<String, u32> {
    engine
        .world
        .borrow()
        .containers
        .values()
        .map(|c| (c.service().to_string(), c.looks))
        .collect()
}

#[test]
fn a_no_change_re_up_of_a_healthy_stack_only_lists() {
    let s = stack();
    let engine = fake(&IMAGES);
    summary(run_up(&engine, &s.d, &options(&s)).0);
    let before = looks(&engine);
    engine.clear_calls();
    engine.world.borrow_mut().probes.clear();
    let (outcome, lines) = run_up(&engine, &s.d, &options(&s));
    assert_eq!(summary(outcome).unchanged.len(), 4, "{lines:?}");
    assert_eq!(engine.calls(), Vec::<String>::new());
    // Docker reports them healthy in the list: no inspect, exec or probe.
    assert_eq!(looks(&engine), before, "{lines:?}");
    assert_eq!(engine.world.borrow().probes, Vec::<String>::new());
    assert!(
        lines.contains(&"prometheus: unchanged, healthy".to_string()),
        "{lines:?}"
    );
}

#[test]
fn a_re_up_before_dockers_first_check_trusts_what_up_saw_for_that_start_only() {
    let s = stack();
    let engine = fake(&IMAGES);
    for service in ["prometheus", "alertmanager", "node-exporter"] {
        // Docker has not run its first check; the command passes at once.
        engine.behave(
            service,
            Behaviour {
                never_healthy: true,
                exec_healthy_after: Some(0),
                ..Default::default()
            },
        );
    }
    let opts = Options {
        wait: Duration::from_secs(5),
        ..options(&s)
    };
    summary(run_up(&engine, &s.d, &opts).0);
    assert!(s.dir.path().join(".stackctl/ready.json").is_file());
    engine.world.borrow_mut().probes.clear();
    let (outcome, lines) = run_up(&engine, &s.d, &opts);
    assert_eq!(summary(outcome).unchanged.len(), 4, "{lines:?}");
    assert_eq!(
        engine.world.borrow().probes,
        Vec::<String>::new(),
        "the healthcheck was run again: {lines:?}"
    );
    // A restart is another run: checked again.
    let id = engine.ids()["prometheus"].clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(engine.start(&id)).unwrap();
    let (outcome, lines) = run_up(&engine, &s.d, &opts);
    summary(outcome);
    assert_eq!(
        engine.world.borrow().probes,
        vec!["exec prometheus healthcheck".to_string()],
        "{lines:?}"
    );
}
