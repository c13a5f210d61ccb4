//! `stackctl up`, `status` and `down` on the real Docker engine, with small
//! images built here from the Debian packages (`scripts/build-test-images.sh`;
//! no registry is needed). Without an engine these tests print `SKIPPED: …`;
//! in CI (`STACKCTL_REQUIRE_TOOLS=1`) a missing engine or package fails them.
//!
//! Every test uses its own project name and host ports, so they run in
//! parallel, and removes its containers, network and volumes even when it fails.

use crate::common;

use common::{path_str, require_tool, run, tools_required};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Spec key → (repository, version) of the locally built test images.
pub(crate) type Images = BTreeMap<String, (String, String)>;

/// The engine and the test images, or `None` after a loud SKIPPED line.
pub(crate) fn setup(test: &str) -> Option<&'static Images> {
    static IMAGES: OnceLock<Result<Images, String>> = OnceLock::new();
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    if !Path::new(&socket).exists() {
        if tools_required() {
            panic!(
                "{test}: no Docker engine at `{socket}`; CI must run these tests on a machine with one"
            );
        }
        common::skipped(format_args!(
            "{test}: no Docker engine at `{socket}`; `stackctl up` was not tested on a real engine"
        ));
        return None;
    }
    let why = "building the Debian-based test images";
    let tools = [
        "docker",
        "busybox",
        "prometheus",
        "prometheus-alertmanager",
        "prometheus-node-exporter",
        "prometheus-blackbox-exporter",
        "prometheus-pushgateway",
    ];
    for tool in tools {
        require_tool(tool, why)?;
    }
    let images = IMAGES.get_or_init(build_images);
    match images {
        Ok(images) => Some(images),
        Err(e) => panic!("{e}"),
    }
}

fn build_images() -> Result<Images, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-images.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut images = Images::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [key, repo, version] = parts[..] {
            images.insert(key.to_string(), (repo.to_string(), version.to_string()));
        }
    }
    assert_eq!(images.len(), 5, "five images: {images:?}");
    Ok(images)
}

/// A project on the engine; whatever it left behind is removed on drop.
struct Project {
    name: String,
    dir: tempfile::TempDir,
}

impl Project {
    fn new(tag: &str) -> Project {
        Project {
            name: format!("sce2e-{tag}-{}", std::process::id()),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &str {
        path_str(self.dir.path())
    }

    fn write_spec(&self, text: &str) {
        std::fs::write(self.dir.path().join("stack.yaml"), text).expect("write spec");
    }

    fn stackctl(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = args.to_vec();
        all.extend(["--dir", self.path()]);
        run(&all)
    }

    fn label(&self) -> String {
        format!("label=com.docker.compose.project={}", self.name)
    }

    /// Service → container ID, for every container of the project.
    fn containers(&self) -> BTreeMap<String, String> {
        let out = docker(&[
            "ps",
            "-a",
            "--no-trunc",
            "--filter",
            &self.label(),
            "--format",
            "{{.Label \"com.docker.compose.service\"}} {{.ID}}",
        ]);
        out.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(s, id)| (s.to_string(), id.to_string()))
            .collect()
    }

    fn count(&self) -> usize {
        docker(&["ps", "-aq", "--filter", &self.label()])
            .lines()
            .count()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let label = self.label();
        let ids = docker(&["ps", "-aq", "--filter", &label]);
        let ids: Vec<&str> = ids.lines().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids);
            docker(&args);
        }
        let _ = Command::new("docker")
            .args(["network", "rm", &format!("{}_default", self.name)])
            .output();
        let volumes = docker(&["volume", "ls", "-q", "--filter", &label]);
        for v in volumes.lines() {
            docker(&["volume", "rm", v]);
        }
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn docker_ok(args: &[&str]) -> bool {
    Command::new("docker")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A host port nothing listens on right now, for Docker to publish. Unlike
/// the ports of in-process fakes and child processes (`support::reserve_port`),
/// it cannot stay bound until used: `up`'s preflight checks that it is free,
/// and docker-proxy binds it itself. Should another process take it in
/// between, `up` names the taken port and fails; it never passes wrongly.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `GET http://127.0.0.1:{port}{path}` → (status, body).
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn component(images: &Images, key: &str, port_name: &str, port: u16, extra: &str) -> String {
    let (repo, version) = &images[key];
    format!(
        "  {key}:\n    image: {repo}\n    version: {version}\n    ports: {{{port_name}: {port}}}\n{extra}"
    )
}

/// The five components Debian packages; Grafana, Loki and Jaeger have no
/// Debian package, so no test image.
fn full_spec(name: &str, images: &Images, ports: &BTreeMap<&str, u16>, rule: &str) -> String {
    let mut text = format!(
        "stackctl: 1\nname: {name}\nsecrets:\n  smtp_password:\n    description: SMTP password\ncomponents:\n"
    );
    text += &component(images, "prometheus", "web", ports["prometheus"], "");
    text += &component(images, "alertmanager", "web", ports["alertmanager"], "");
    text += &component(
        images,
        "node_exporter",
        "metrics",
        ports["node_exporter"],
        "",
    );
    text += &component(
        images,
        "blackbox_exporter",
        "http",
        ports["blackbox_exporter"],
        "",
    );
    text += &component(images, "pushgateway", "web", ports["pushgateway"], "");
    text += &format!(
        r#"rules:
  e2e:
    - name: e2e.rules
      rules:
        - record: e2e:up:sum
          expr: {rule}
alerting:
  smtp:
    smarthost: smtp.example.com:587
    from: alertmanager@example.com
    auth_username: alertmanager@example.com
    auth_password_secret: smtp_password
  route:
    receiver: default
  receivers:
    - name: default
      email:
        - to: ops@example.com
"#
    );
    text
}

fn node_exporter_spec(name: &str, images: &Images, port: u16, extra: &str) -> String {
    format!(
        "stackctl: 1\nname: {name}\ncomponents:\n{}",
        component(images, "node_exporter", "metrics", port, extra)
    )
}

fn health(container: &str) -> String {
    docker(&["inspect", "-f", "{{.State.Health.Status}}", container])
        .trim()
        .to_string()
}

#[test]
fn full_stack_up_rerun_change_and_down() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) = setup("full_stack_up_rerun_change_and_down") else {
        return;
    };
    let p = Project::new("full");
    let ports: BTreeMap<&str, u16> = [
        "prometheus",
        "alertmanager",
        "node_exporter",
        "blackbox_exporter",
        "pushgateway",
    ]
    .into_iter()
    .map(|k| (k, free_port()))
    .collect();
    p.write_spec(&full_spec(&p.name, images, &ports, "sum by (job) (up)"));
    // The secret as `init` leaves it: 0600, owned by root. The container's
    // user (nobody) must still be able to read its copy.
    let secrets = p.dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("smtp_password"), "e2e-smtp-password").unwrap();
    std::fs::set_permissions(
        secrets.join("smtp_password"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();

    // Cold up: every container healthy, Prometheus on its loopback port.
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "`{}` is up: 5 services healthy, 1 job completed (6 created)",
            p.name
        )),
        "{err}"
    );
    let first = p.containers();
    let services: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        services,
        [
            "alertmanager",
            "blackbox-exporter",
            "node-exporter",
            "prometheus",
            "pushgateway",
            "secrets-init"
        ]
    );
    // `up` decides readiness by running each healthcheck command itself;
    // Docker's own first check follows one interval (10 s) after start.
    // Either way each one is healthy or, at most, still on Docker's schedule.
    for service in first.keys().filter(|s| *s != "secrets-init") {
        let h = health(&format!("{}-{service}-1", p.name));
        assert!(h == "healthy" || h == "starting", "{service}: {h}");
    }
    assert_eq!(http_get(ports["prometheus"], "/-/ready").0, 200);
    let (_, rules) = http_get(ports["prometheus"], "/api/v1/rules");
    assert!(rules.contains(r#""query":"sum by (job) (up)""#), "{rules}");
    let secret = docker(&[
        "exec",
        &format!("{}-alertmanager-1", p.name),
        "/bin/busybox",
        "cat",
        "/run/secrets/smtp_password",
    ]);
    assert_eq!(secret, "e2e-smtp-password");

    // Compose v2 sees the same stack.
    if let Some(compose) = common::compose_v2("Compose v2 compatibility of the labels") {
        let out = Command::new(compose)
            .current_dir(p.dir.path())
            .args(["-f", "docker-compose.monitoring.yml", "ps", "-aq"])
            .output()
            .unwrap();
        let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        ids.sort();
        let mut ours: Vec<String> = first.values().cloned().collect();
        ours.sort();
        assert_eq!(ids, ours, "{}", String::from_utf8_lossy(&out.stderr));
    }

    // status: one row per service.
    let (code, out, err) = p.stackctl(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("SERVICE"), "{out}");
    let prometheus_row = out.lines().find(|l| l.starts_with("prometheus ")).unwrap();
    assert!(prometheus_row.contains("running"), "{out}");
    assert!(prometheus_row.contains("healthy"), "{out}");
    assert!(
        prometheus_row.contains(&format!("127.0.0.1:{}->9090/tcp", ports["prometheus"])),
        "{out}"
    );
    assert_eq!(out.lines().count(), 7, "{out}");

    // Nothing changed: nothing touched, quickly.
    let started = Instant::now();
    let (code, _, err) = p.stackctl(&["up"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(6 unchanged)"), "{err}");
    assert_eq!(p.containers(), first);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no-change up took {:?}",
        started.elapsed()
    );

    // One rule changed: Prometheus reloads it in place (SIGHUP), confirmed by
    // its reload metric; no container is recreated, and it serves the rule.
    p.write_spec(&full_spec(&p.name, images, &ports, "count by (job) (up)"));
    let started = Instant::now();
    let (code, _, err) = p.stackctl(&["up"]);
    let reload_took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(1 reloaded, 5 unchanged)"), "{err}");
    assert!(
        err.contains("prometheus               config changed: reloaded in place (SIGHUP, confirmed by its reload metric"),
        "{err}"
    );
    assert_eq!(p.containers(), first, "nothing recreated");
    assert!(
        reload_took < Duration::from_secs(5),
        "reload took {reload_took:?}"
    );
    let (_, rules) = http_get(ports["prometheus"], "/api/v1/rules");
    assert!(
        rules.contains(r#""query":"count by (job) (up)""#),
        "{rules}"
    );
    let (_, metrics) = http_get(ports["prometheus"], "/metrics");
    assert!(
        metrics.contains("prometheus_config_last_reload_successful 1"),
        "{metrics}"
    );
    // The reload is remembered: neither `up` nor `status` sees a change.
    let (code, _, err) = p.stackctl(&["up"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(6 unchanged)"), "{err}");
    let (_, out, _) = p.stackctl(&["status"]);
    assert!(!out.contains("outdated"), "{out}");

    // down: containers and network gone, data volumes kept.
    let (code, _, err) = p.stackctl(&["down"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(p.count(), 0);
    assert!(!docker_ok(&[
        "network",
        "inspect",
        &format!("{}_default", p.name)
    ]));
    assert!(
        docker_ok(&["volume", "inspect", &format!("{}_prometheus_data", p.name)]),
        "{err}"
    );
    assert!(
        err.contains("`stackctl down --volumes` removes them"),
        "{err}"
    );
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !docker_ok(&["volume", "inspect", &format!("{}_prometheus_data", p.name)]),
        "{err}"
    );
}

#[test]
fn an_exiting_container_is_named_fast_and_a_rerun_converges() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) = setup("an_exiting_container_is_named_fast_and_a_rerun_converges") else {
        return;
    };
    let p = Project::new("exit");
    let port = free_port();
    p.write_spec(&node_exporter_spec(
        &p.name,
        images,
        port,
        "    extra_args: [--no-such-flag]\n",
    ));
    let started = Instant::now();
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: service `node-exporter` exited with code 1"),
        "{err}"
    );
    assert!(err.contains("unknown long flag '--no-such-flag'"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );

    p.write_spec(&node_exporter_spec(&p.name, images, port, ""));
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(1 recreated)"), "{err}");
    assert_eq!(p.count(), 1);
    // Healthy by its healthcheck command (Docker's own first check may
    // still be pending: `status` then runs the command itself).
    let (code, out, err) = p.stackctl(&["status"]);
    assert_eq!(code, 0, "{out}{err}");
    let row = out
        .lines()
        .find(|l| l.starts_with("node-exporter "))
        .unwrap_or_default();
    assert!(row.contains("healthy"), "{out}");

    // Compose v2, in the stack directory, stops what stackctl started.
    if let Some(compose) = common::compose_v2("Compose v2 compatibility of the labels") {
        let out = Command::new(compose)
            .current_dir(p.dir.path())
            .args(["-f", "docker-compose.monitoring.yml", "down"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(p.count(), 0);
        assert!(!docker_ok(&[
            "network",
            "inspect",
            &format!("{}_default", p.name)
        ]));
    }
}

#[test]
fn a_taken_port_stops_up_before_anything_is_created() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) = setup("a_taken_port_stops_up_before_anything_is_created") else {
        return;
    };
    let p = Project::new("port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    p.write_spec(&node_exporter_spec(&p.name, images, port, ""));
    let (code, _, err) = p.stackctl(&["up"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "error: port 127.0.0.1:{port} for service `node-exporter` is already in use on this host"
        )),
        "{err}"
    );
    assert!(
        err.contains("`components.node_exporter.ports.metrics`"),
        "{err}"
    );
    assert_eq!(p.count(), 0);
    assert!(!docker_ok(&[
        "network",
        "inspect",
        &format!("{}_default", p.name)
    ]));
    drop(taken);
}

#[test]
fn a_missing_image_is_named_with_how_to_load_it() {
    let _gate = common::serial::gate(module_path!());
    let Some(_) = setup("a_missing_image_is_named_with_how_to_load_it") else {
        return;
    };
    let p = Project::new("img");
    p.write_spec(&format!(
        "stackctl: 1\nname: {}\ncomponents:\n  node_exporter:\n    image: stackctl-test/never-built\n    version: v0.0.1\n    ports: {{metrics: {}}}\n",
        p.name,
        free_port()
    ));
    let (code, _, err) = p.stackctl(&["up"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: image `stackctl-test/never-built:v0.0.1` (service `node-exporter`) is not present and cannot be pulled"),
        "{err}"
    );
    assert!(err.contains("`docker load -i image.tar`"), "{err}");
    assert_eq!(p.count(), 0);
}

/// `(service, check) → (status, message)` of `verify --format json` output.
fn verify_json(out: &str) -> BTreeMap<(String, String), (String, String)> {
    let doc: serde_json::Value = serde_json::from_str(out).expect("verify json");
    doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            ((s("service"), s("check")), (s("status"), s("message")))
        })
        .collect()
}

/// The five-component stack up on the real engine, with a 0600 secret.
fn five_up(p: &Project, images: &Images) -> (BTreeMap<&'static str, u16>, Duration, String) {
    let ports: BTreeMap<&str, u16> = [
        "prometheus",
        "alertmanager",
        "node_exporter",
        "blackbox_exporter",
        "pushgateway",
    ]
    .into_iter()
    .map(|k| (k, free_port()))
    .collect();
    p.write_spec(&full_spec(&p.name, images, &ports, "sum by (job) (up)"));
    let secrets = p.dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("smtp_password"), "e2e-smtp-password").unwrap();
    std::fs::set_permissions(
        secrets.join("smtp_password"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let started = Instant::now();
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    (ports, took, err)
}

#[test]
fn cold_up_does_not_wait_for_dockers_schedule_and_verify_is_green_right_after() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) =
        setup("cold_up_does_not_wait_for_dockers_schedule_and_verify_is_green_right_after")
    else {
        return;
    };
    let p = Project::new("fast");
    let (_, took, err) = five_up(&p, images);
    // Docker runs the first healthcheck one interval (10 s) after start and
    // API 1.41 has no `start_interval`: waiting for it alone took 12 s. On a
    // machine so loaded that the processes themselves take longer than
    // that, the time says nothing; then Docker's own status must still be
    // `starting` for the service started last (Prometheus) when `up` has
    // returned: stackctl decided before Docker's first check.
    let prometheus = health(&format!("{}-prometheus-1", p.name));
    assert!(
        took < Duration::from_secs(10) || prometheus == "starting",
        "cold up took {took:?} and Docker already says `{prometheus}`: no faster than Docker's first healthcheck:\n{err}"
    );
    // Plain verify right away: the first scrapes and rule evaluations have
    // not happened yet; verify waits for them within the bound it prints.
    let (code, out, err) = p.stackctl(&["verify", "--format", "json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let checks = verify_json(&out);
    let secret = &checks[&(
        "alertmanager".into(),
        "secret `smtp_password` readable".into(),
    )];
    assert_eq!(secret.0, "pass", "{secret:?}");
}

#[test]
fn verify_names_a_secret_the_process_cannot_read_and_a_server_stopped_mid_wait() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) =
        setup("verify_names_a_secret_the_process_cannot_read_and_a_server_stopped_mid_wait")
    else {
        return;
    };
    let p = Project::new("truth");
    five_up(&p, images);
    let alertmanager = format!("{}-alertmanager-1", p.name);
    // What a 0600 root-owned secret amounts to: the file is there, the
    // process user (nobody) cannot read it. The service mounts its secrets
    // volume read-only, so the mode is changed through a one-off container of
    // the same image with the volume writable.
    let image = docker(&["inspect", "-f", "{{.Config.Image}}", &alertmanager]);
    assert!(docker_ok(&[
        "run",
        "--rm",
        "-u",
        "0",
        "--entrypoint",
        "/bin/busybox",
        "-v",
        &format!("{}_alertmanager_secrets:/s", p.name),
        image.trim(),
        "chmod",
        "000",
        "/s/smtp_password"
    ]));
    let (code, out, err) = p.stackctl(&["verify", "--only", "alertmanager", "--format", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let checks = verify_json(&out);
    let (status, message) = &checks[&(
        "alertmanager".into(),
        "secret `smtp_password` readable".into(),
    )];
    assert_eq!(status, "fail", "{message}");
    assert_eq!(
        message,
        "the process user cannot read /run/secrets/smtp_password (permission denied)"
    );
    // What to do is the check's `hint`, not part of its message.
    let doc: serde_json::Value = serde_json::from_str(&out).expect("verify JSON");
    let hint = doc["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["check"] == "secret `smtp_password` readable")
        .map(|c| c["hint"].clone());
    assert!(
        hint.as_ref().and_then(|h| h.as_str()).is_some_and(
            |h| h.starts_with("the `secrets-init` job installs `secrets/smtp_password`")
        ),
        "{hint:?}"
    );
    // Every HTTP check of Alertmanager still passes: only this check sees it.
    assert_eq!(checks[&("alertmanager".into(), "ready".into())].0, "pass");

    // A failing service keeps `--wait` going; Prometheus, fine at first, is
    // stopped 2 s in. The report must show it down, not its early passes.
    assert!(docker_ok(&[
        "stop",
        "-t",
        "1",
        &format!("{}-pushgateway-1", p.name)
    ]));
    let child = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args([
            "verify",
            "--wait",
            "8s",
            "--format",
            "json",
            "--dir",
            p.path(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("verify starts");
    std::thread::sleep(Duration::from_secs(2));
    assert!(docker_ok(&[
        "stop",
        "-t",
        "1",
        &format!("{}-prometheus-1", p.name)
    ]));
    let done = child.wait_with_output().expect("verify ends");
    let out = String::from_utf8_lossy(&done.stdout);
    assert_eq!(done.status.code(), Some(1), "{out}");
    let checks = verify_json(&out);
    for check in [
        "healthy",
        "ready",
        "config loaded",
        "scrape job `node-exporter`",
    ] {
        let (status, message) = &checks[&("prometheus".into(), check.into())];
        assert_eq!(status, "fail", "prometheus {check}: {message}");
    }
    assert_eq!(checks[&("pushgateway".into(), "ready".into())].0, "fail");
}

#[test]
fn every_preflight_problem_is_reported_in_one_run() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) = setup("every_preflight_problem_is_reported_in_one_run") else {
        return;
    };
    let p = Project::new("pre");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    // An empty notifier secret (strict check), a taken port, a missing image
    // and a missing external network: one run names all four.
    let mut spec = full_spec(
        &p.name,
        images,
        &[
            ("prometheus", free_port()),
            ("alertmanager", free_port()),
            ("node_exporter", port),
            ("blackbox_exporter", free_port()),
            ("pushgateway", free_port()),
        ]
        .into_iter()
        .collect(),
        "sum by (job) (up)",
    );
    spec = spec.replace(
        &format!("image: {}\n", images["pushgateway"].0),
        "image: stackctl-test/never-built\n",
    );
    spec = spec.replacen(
        "components:\n",
        &format!(
            "network:\n  attach: [{}-missing-net]\ncomponents:\n",
            p.name
        ),
        1,
    );
    p.write_spec(&spec);
    std::fs::create_dir_all(p.dir.path().join("secrets")).unwrap();
    std::fs::write(p.dir.path().join("secrets/smtp_password"), "").unwrap();
    let (code, _, err) = p.stackctl(&["up"]);
    assert_eq!(code, 1, "{err}");
    for expected in [
        "secret `smtp_password` is empty",
        &format!("port 127.0.0.1:{port} for service `node-exporter` is already in use"),
        "image `stackctl-test/never-built:v1.5.1` (service `pushgateway`) is not present",
        &format!(
            "network `{}-missing-net` (from `network.attach`) does not exist",
            p.name
        ),
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(p.count(), 0, "{err}");
    drop(taken);
}

/// What each container of the project was created with, the parts that make
/// it the same container whoever created it: image, user, entrypoint,
/// command, mounts (destination and writability), environment.
fn shape(project: &str) -> BTreeMap<String, String> {
    let ids = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    let mut out = BTreeMap::new();
    for id in ids.lines() {
        let text = docker(&[
            "inspect",
            "-f",
            "{{index .Config.Labels \"com.docker.compose.service\"}}\t{{.Config.Image}}\t{{.Config.User}}\t{{json .Config.Entrypoint}}\t{{json .Config.Cmd}}\t{{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}",
            id,
        ]);
        // Tab-separated: commands contain `|` (regexes), never a tab.
        let (service, rest) = text.trim().split_once('\t').unwrap();
        let mut fields: Vec<String> = rest.split('\t').map(str::to_string).collect();
        // Mount order is the engine's; compare them as a set.
        let mut mounts: Vec<&str> = fields[4].split_whitespace().collect();
        mounts.sort();
        fields[4] = mounts.join(" ");
        out.insert(service.to_string(), fields.join("\t"));
    }
    out
}

/// Waits for a container to be running (or to have exited, for a job).
fn wait_running(container: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if docker(&["inspect", "-f", "{{.State.Running}}", container]).trim() == "true" {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{container} did not start: {}",
        docker(&["logs", container])
    );
}

#[test]
fn secrets_stay_private_on_the_host_and_reach_non_root_services_with_compose_v2_and_up() {
    let _gate = common::serial::gate(module_path!());
    let test =
        "secrets_stay_private_on_the_host_and_reach_non_root_services_with_compose_v2_and_up";
    let Some(images) = setup(test) else {
        return;
    };
    let Some(compose) = common::compose_v2("plain `docker compose up -d` of the rendered file")
    else {
        return;
    };
    let p = Project::new("secrets");
    let ports: BTreeMap<&str, u16> = [
        "prometheus",
        "alertmanager",
        "node_exporter",
        "blackbox_exporter",
        "pushgateway",
    ]
    .into_iter()
    .map(|k| (k, free_port()))
    .collect();
    p.write_spec(&full_spec(&p.name, images, &ports, "sum by (job) (up)"));
    // As `init` leaves it: the directory 0700, the file 0600, owned by us.
    let secrets = p.dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("smtp_password"), "e2e-compose-secret").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        secrets.join("smtp_password"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let (code, _, err) = p.stackctl(&["render"]);
    assert_eq!(code, 0, "{err}");

    let alertmanager = format!("{}-alertmanager-1", p.name);
    let read_secret = || {
        (
            docker(&["exec", &alertmanager, "/bin/busybox", "id", "-u"])
                .trim()
                .to_string(),
            docker(&[
                "exec",
                &alertmanager,
                "/bin/busybox",
                "cat",
                "/run/secrets/smtp_password",
            ]),
        )
    };

    // 1. Plain Compose v2, as rendered, no manual step.
    let out = Command::new(&compose)
        .current_dir(p.dir.path())
        .args(["-f", "docker-compose.monitoring.yml", "up", "-d"])
        .output()
        .unwrap();
    let compose_err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{compose_err}");
    assert!(
        !compose_err.contains("not supported"),
        "Compose warned: {compose_err}"
    );
    wait_running(&alertmanager);
    assert_eq!(
        read_secret(),
        ("65534".to_string(), "e2e-compose-secret".to_string()),
        "under docker compose"
    );
    let by_compose = shape(&p.name);
    let out = Command::new(&compose)
        .current_dir(p.dir.path())
        .args(["-f", "docker-compose.monitoring.yml", "down", "-v"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(p.count(), 0);

    // 2. `stackctl up`: the same containers, the secret readable the same way.
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        read_secret(),
        ("65534".to_string(), "e2e-compose-secret".to_string()),
        "under stackctl up"
    );
    let by_stackctl = shape(&p.name);
    assert_eq!(
        by_compose.keys().collect::<Vec<_>>(),
        by_stackctl.keys().collect::<Vec<_>>()
    );
    for (service, created) in &by_compose {
        assert_eq!(
            created, &by_stackctl[service],
            "{service}: Compose and stackctl up created different containers"
        );
    }
    eprintln!(
        "secrets: {} containers identical under Compose v2 and stackctl up: {}",
        by_compose.len(),
        by_compose.keys().cloned().collect::<Vec<_>>().join(", ")
    );

    // 3. The host copy was never made readable for anyone else.
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{:?} is {mode:o}", entry.path());
    }
    let dir_mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
}

/// `docker compose -f docker-compose.monitoring.yml ARGS` in the stack directory.
fn compose_in(compose: &Path, p: &Project, args: &[&str]) -> String {
    let out = Command::new(compose)
        .current_dir(p.dir.path())
        .args(["-f", "docker-compose.monitoring.yml"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "compose {args:?}: {err}");
    err
}

#[test]
fn switching_between_stackctl_and_compose_v2_recreates_nothing() {
    let _gate = common::serial::gate(module_path!());
    let test = "switching_between_stackctl_and_compose_v2_recreates_nothing";
    let Some(images) = setup(test) else {
        return;
    };
    let Some(compose) = common::compose_v2("Compose v2 keeping stackctl's containers") else {
        return;
    };
    let p = Project::new("switch");
    five_up(&p, images);
    let by_stackctl = p.containers();
    assert_eq!(by_stackctl.len(), 6, "{by_stackctl:?}");

    // stackctl → Compose: Compose finds every container current.
    let err = compose_in(&compose, &p, &["up", "-d"]);
    assert!(!err.contains("Recreate"), "Compose recreated:\n{err}");
    assert_eq!(
        p.containers(),
        by_stackctl,
        "Compose replaced containers:\n{err}"
    );
    let (code, out, err) = p.stackctl(&["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!out.contains("(outdated)"), "{out}");

    // Compose → stackctl: containers Compose created are kept as they are.
    compose_in(&compose, &p, &["down"]);
    assert_eq!(p.count(), 0);
    compose_in(&compose, &p, &["up", "-d", "--wait"]);
    let by_compose = p.containers();
    assert_eq!(by_compose.len(), 6, "{by_compose:?}");
    let (code, out, err) = p.stackctl(&["status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!out.contains("(outdated)"), "{out}");
    let (code, _, err) = p.stackctl(&["up", "--wait", "1m"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        p.containers(),
        by_compose,
        "stackctl replaced containers:\n{err}"
    );
    assert!(err.contains("6 unchanged"), "{err}");
    // And back again: still nothing to do for Compose.
    let err = compose_in(&compose, &p, &["up", "-d"]);
    assert_eq!(p.containers(), by_compose, "{err}");
    eprintln!(
        "switch: {} containers kept across stackctl → Compose v2 → stackctl",
        by_compose.len()
    );
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn two_concurrent_ups_one_waits_one_refuses_and_the_stack_converges() {
    let _gate = common::serial::gate(module_path!());
    let test = "two_concurrent_ups_one_waits_one_refuses_and_the_stack_converges";
    let Some(images) = setup(test) else {
        return;
    };
    let p = Project::new("concurrent");
    let port = free_port();
    p.write_spec(&node_exporter_spec(&p.name, images, port, ""));
    let spawn = |lock_wait: &str| {
        common::stackctl()
            .args(["up", "--wait", "2m", "--dir", p.path()])
            .env("STACKCTL_LOCK_WAIT", lock_wait)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Three at once: one runs, one waits its turn, one will not wait.
    let first = spawn("2m");
    let waiter = spawn("2m");
    let impatient = spawn("0s");
    let outcomes: Vec<(i32, String, String)> = [first, waiter, impatient]
        .into_iter()
        .map(|c| common::decode(c.wait_with_output().unwrap()))
        .collect();
    let ok: Vec<&(i32, String, String)> = outcomes.iter().filter(|o| o.0 == 0).collect();
    let refused: Vec<&(i32, String, String)> = outcomes
        .iter()
        .filter(|o| o.2.contains("is locked by another stackctl"))
        .collect();
    assert!(ok.len() >= 2, "{outcomes:#?}");
    assert!(
        refused.len() <= 1 && refused.iter().all(|o| o.0 == 2),
        "{outcomes:#?}"
    );
    // The runs that went second found everything in place.
    assert!(
        ok.iter().any(|o| o.2.contains("unchanged")),
        "{outcomes:#?}"
    );

    // Converged: one network, every container running or completed, none
    // left in `Created`.
    let networks = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name=^{}_default$", p.name),
    ]);
    assert_eq!(networks.lines().count(), 1, "{networks}");
    let states = docker(&["ps", "-a", "--filter", &p.label(), "--format", "{{.State}}"]);
    assert!(!states.contains("created"), "{states}");
    assert_eq!(
        states.trim(),
        "running",
        "one node-exporter container: {states}"
    );
    let (code, _, err) = p.stackctl(&["up", "--wait", "1m"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("unchanged"), "{err}");
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(p.count(), 0);
    eprintln!(
        "concurrent: {} ups succeeded, {} refused, one network, no leftovers",
        ok.len(),
        refused.len()
    );
}
