//! A pynomaly-shaped stack on the real Docker engine, from `init` to a green
//! `verify`, twice: once brought up by `stackctl up`, once by plain
//! `docker compose up -d` (Compose v2, today's users' command) on the
//! rendered file. The spec is the `pynomaly` profile as `init` writes it,
//! with only what cannot run here taken out (and said so in the output):
//! Prometheus 3.5, Alertmanager 0.33, node/blackbox exporters, a Pushgateway
//! and the postgres, redis and nginx exporters scraping real PostgreSQL,
//! Redis and NGINX servers, all from Debian packages
//! (`scripts/build-test-images.sh sid` and `apps`).
//!
//! Without an engine these tests print `SKIPPED: …`; in CI
//! (`STACKCTL_REQUIRE_TOOLS=1`) a missing engine, image or consumer fails
//! them. Every object the test creates carries its project name and is
//! removed when the test ends, failed or not.

use crate::common;

use common::{path_str, run, tools_required};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Spec key → (repository, version) of locally built test images.
type Images = BTreeMap<String, (String, String)>;

/// True when a Docker engine is reachable; else SKIPPED (a failure in CI).
fn engine(test: &str) -> bool {
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    if Path::new(&socket).exists() {
        return true;
    }
    if tools_required() {
        panic!(
            "{test}: no Docker engine at `{socket}`; CI must run these tests on a machine with one"
        );
    }
    common::skipped(format_args!(
        "{test}: no Docker engine at `{socket}`; the stack was not run on a real engine"
    ));
    false
}

/// The images of one set of `scripts/build-test-images.sh` (built once per
/// test binary; the script itself skips images that are up to date).
fn images(set: &'static str) -> &'static Images {
    static SID: OnceLock<Result<Images, String>> = OnceLock::new();
    static APPS: OnceLock<Result<Images, String>> = OnceLock::new();
    let cell = match set {
        "sid" => &SID,
        _ => &APPS,
    };
    match cell.get_or_init(|| build_images(set)) {
        Ok(images) => images,
        Err(e) => panic!("{e}"),
    }
}

fn build_images(set: &str) -> Result<Images, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-images.sh");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg(set)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {set} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let images: Images = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts[..] {
                [key, repo, version] => {
                    Some((key.to_string(), (repo.to_string(), version.to_string())))
                }
                _ => None,
            }
        })
        .collect();
    eprintln!(
        "test images `{set}` ready in {:.1}s: {}",
        started.elapsed().as_secs_f64(),
        images
            .iter()
            .map(|(k, (r, v))| format!("{k}={r}:{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(images)
}

fn docker(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn docker_ok(args: &[&str]) {
    let (ok, out, err) = docker(args);
    assert!(ok, "docker {}: {out}{err}", args.join(" "));
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

/// `GET http://127.0.0.1:{port}{path}` → (status, body); (0, "") when nothing answers.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
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

/// A stack directory and everything the test starts for it on the engine;
/// all of it is removed on drop, also when the test failed.
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

    /// The network the application (databases, NGINX) runs on, which the
    /// spec's `network.attach` names.
    fn app_network(&self) -> String {
        format!("{}-app", self.name)
    }

    fn stackctl(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = args.to_vec();
        all.extend(["--dir", self.path()]);
        run(&all)
    }

    fn compose(&self, compose: &Path, args: &[&str]) -> (bool, String) {
        let out = Command::new(compose)
            .current_dir(self.dir.path())
            .args(["-f", "docker-compose.monitoring.yml"])
            .args(args)
            .output()
            .expect("docker compose runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    fn app_label(&self) -> String {
        format!("dev.stackctl.e2e={}", self.name)
    }

    /// Starts one application container on the app network, under `aliases`.
    fn start_app(
        &self,
        service: &str,
        image: &str,
        aliases: &[&str],
        env: &[&str],
        files: &[(&str, &Path)],
    ) {
        let container = format!("{}-{service}", self.name);
        let label = self.app_label();
        let network = self.app_network();
        let mut args = vec![
            "create",
            "--name",
            &container,
            "--label",
            &label,
            "--network",
            &network,
        ];
        for alias in aliases {
            args.extend(["--network-alias", alias]);
        }
        for e in env {
            args.extend(["-e", e]);
        }
        args.push(image);
        docker_ok(&args);
        for (target, source) in files {
            docker_ok(&["cp", path_str(source), &format!("{container}:{target}")]);
        }
        docker_ok(&["start", &container]);
    }

    fn project_containers(&self) -> Vec<String> {
        let (_, out, _) = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        out.lines().map(str::to_string).collect()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        for label in [
            format!("label=com.docker.compose.project={}", self.name),
            format!("label={}", self.app_label()),
        ] {
            let (_, ids, _) = docker(&["ps", "-aq", "--filter", &label]);
            let ids: Vec<&str> = ids.lines().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids);
                docker(&args);
            }
            let (_, volumes, _) = docker(&["volume", "ls", "-q", "--filter", &label]);
            for v in volumes.lines() {
                docker(&["volume", "rm", v]);
            }
        }
        docker(&["network", "rm", &format!("{}_default", self.name)]);
        docker(&["network", "rm", &self.app_network()]);
    }
}

/// Components of the profile that cannot run on this machine, and why.
const NOT_RUN: [(&str, &str); 8] = [
    (
        "grafana",
        "Grafana has no Debian package, so no local image (no registry here)",
    ),
    ("loki", "Loki has no Debian package, so no local image"),
    (
        "alloy",
        "Grafana Alloy has no Debian package, so no local image",
    ),
    ("jaeger", "Jaeger has no Debian package, so no local image"),
    (
        "cadvisor",
        "cAdvisor has no Debian package, so no local image",
    ),
    (
        "elasticsearch",
        "Elasticsearch has no Debian package (and is off in the profile)",
    ),
    (
        "logstash",
        "Logstash has no Debian package (and is off in the profile)",
    ),
    (
        "kibana",
        "Kibana has no Debian package (and is off in the profile)",
    ),
];

/// The application's stand-in: NGINX answers on the addresses of the
/// Pynomaly API and its workers with a fixed exposition, and receives what
/// the stack sends out (remote write, Slack) so nothing leaves this machine.
const SITE: &str = r#"server {
    listen 8000;
    listen 8001;
    default_type "text/plain; version=0.0.4; charset=utf-8";
    location = /metrics { alias /srv/pynomaly/api.prom; }
    location = /worker/metrics { alias /srv/pynomaly/worker.prom; }
    location = /health { return 200 "ok\n"; }
}
server {
    listen 8081;
    location = /api/v1/write { return 204; }
    location /notify/ { return 200 "ok"; }
}
"#;

const API_METRICS: &str = r#"# TYPE http_requests_total counter
http_requests_total{method="POST",endpoint="/api/v1/detect",status="200"} 1027
http_requests_total{method="POST",endpoint="/api/v1/detect",status="500"} 3
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 870
http_request_duration_seconds_bucket{le="0.5"} 1020
http_request_duration_seconds_bucket{le="+Inf"} 1030
http_request_duration_seconds_sum 61.5
http_request_duration_seconds_count 1030
# TYPE pynomaly_detections_total counter
pynomaly_detections_total{model_type="isolation_forest",dataset_type="tabular"} 5120
# TYPE pynomaly_model_accuracy gauge
pynomaly_model_accuracy{model_type="isolation_forest"} 0.93
# TYPE pynomaly_circuit_breaker_state gauge
pynomaly_circuit_breaker_state{name="database"} 0
"#;

const WORKER_METRICS: &str = r#"# TYPE pynomaly_worker_jobs_total counter
pynomaly_worker_jobs_total{queue="detections"} 42
"#;

/// What was changed from the profile to run it here, each with its reason,
/// for the test output.
struct Derived {
    spec: String,
    ports: BTreeMap<String, u16>,
    changes: Vec<String>,
    /// Application servers to start: (image key, network alias).
    apps: Vec<(String, String)>,
}

/// The `pynomaly` profile as `init` wrote it into `dir`, made runnable here.
fn derive_pynomaly(p: &Project, sid: &Images) -> Derived {
    let text =
        std::fs::read_to_string(p.dir.path().join("stack.yaml")).expect("init wrote stack.yaml");
    let loaded = stackctl::load::load_text("stack.yaml", text);
    let stack = loaded.stack.expect("the profile loads");
    let mut spec = serde_json::to_value(&stack).expect("spec as JSON");
    let mut changes = Vec::new();
    spec["name"] = Value::from(p.name.clone());
    spec["network"]["attach"] = serde_json::json!([p.app_network()]);
    changes.push(format!(
        "network.attach: `pynomaly` -> `{}` (the test's application network)",
        p.app_network()
    ));
    let components = spec["components"].as_object_mut().expect("components");
    for (key, why) in NOT_RUN {
        if let Some(c) = components.get_mut(key) {
            c["enabled"] = Value::Bool(false);
        }
        changes.push(format!("NOT RUN: {key}: {why}"));
    }
    let dashboards = spec["dashboards"].as_array().map_or(0, Vec::len);
    spec["dashboards"] = serde_json::json!([]);
    changes.push(format!(
        "NOT RUN: {dashboards} dashboards: they need Grafana"
    ));
    if let Some(sources) = spec["logs"].get_mut("sources") {
        let n = sources.as_array().map_or(0, Vec::len);
        *sources = serde_json::json!([]);
        changes.push(format!(
            "NOT RUN: {n} log sources: they need Alloy and Loki"
        ));
    }
    let components = spec["components"].as_object_mut().expect("components");
    // The issue's pynomaly-shaped stack has a Pushgateway; the profile has none.
    components.insert("pushgateway".into(), serde_json::json!({}));
    changes.push("added: pushgateway (not in the profile)".into());
    let mut ports = BTreeMap::new();
    for (key, (repo, version)) in sid {
        let Some(c) = components.get_mut(key) else {
            continue;
        };
        if c.get("enabled") == Some(&Value::Bool(false)) {
            continue;
        }
        let kind = stackctl::model::catalog::ALL
            .into_iter()
            .find(|k| k.key() == key)
            .expect("a catalog key");
        let port_name = kind.info().ports[0].name;
        let port = free_port();
        ports.insert(key.clone(), port);
        let pinned = c
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or(kind.info().version)
            .to_string();
        c["image"] = Value::from(repo.clone());
        c["version"] = Value::from(version.clone());
        c["ports"] = serde_json::json!({ port_name: port });
        changes.push(format!(
            "{key}: {repo}:{version} (Debian sid build) instead of {}:{pinned}; host port {port}",
            kind.info().image
        ));
    }
    // Nothing may leave this machine: the probes, remote write and the SMTP
    // relay point at the application's stand-in instead of the internet.
    for probe in spec["probes"].as_array_mut().expect("probes") {
        let old = probe["targets"].clone();
        probe["targets"] = serde_json::json!([
            "http://pynomaly-api:8000/health",
            "http://pynomaly-api:8000/metrics"
        ]);
        changes.push(format!(
            "probe `{}`: {old} -> the stand-in API (no internet here)",
            probe["name"].as_str().unwrap_or_default()
        ));
    }
    for rw in spec["remote_write"].as_array_mut().expect("remote_write") {
        changes.push(format!(
            "remote_write {} -> http://nginx:8081/api/v1/write (a local sink)",
            rw["url"]
        ));
        rw["url"] = Value::from("http://nginx:8081/api/v1/write");
    }
    if let Some(smtp) = spec["alerting"].get_mut("smtp") {
        changes.push(format!(
            "smtp.smarthost {} -> nginx:2525 (local, nothing sent)",
            smtp["smarthost"]
        ));
        smtp["smarthost"] = Value::from("nginx:2525");
    }
    Derived {
        spec: stackctl::yaml::emit::to_yaml(&spec),
        ports,
        changes,
        apps: Vec::new(),
    }
}

/// Fills the credentials `init` leaves empty, as a user does before `up`,
/// writing through the existing 0600 files.
fn fill_secrets(dir: &Path, db_password: &str) {
    let secrets = dir.join("secrets");
    let values = [
        ("postgres_exporter_password", db_password.to_string()),
        ("remote_write_password", "e2e-remote-write".to_string()),
        ("smtp_password", "e2e-smtp".to_string()),
        (
            "slack_webhook_url",
            "http://nginx:8081/notify/slack".to_string(),
        ),
        (
            "pagerduty_routing_key",
            "e2e-pagerduty-routing-key".to_string(),
        ),
    ];
    for (name, value) in values {
        let file = secrets.join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        f.write_all(value.as_bytes()).unwrap();
    }
}

/// No secret file of the stack directory is readable by group or others.
fn assert_secrets_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let secrets = dir.join("secrets");
    let dir_mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode & 0o077, 0, "secrets/ is {dir_mode:o}");
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{:?} is {mode:o}", entry.path());
    }
}

/// `stackctl verify --wait`: exit 0, no failing check; then every active
/// target up and the database exporters' own `*_up` series at 1.
fn assert_verify_green(p: &Project, how: &str, prometheus_port: u16) {
    let started = Instant::now();
    let (code, out, err) = p.stackctl(&["verify", "--wait", "3m", "--format", "json"]);
    let took = started.elapsed();
    let doc: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("verify json ({e}): {out}\n{err}"));
    let checks = doc["checks"].as_array().expect("checks");
    let mut by_status: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in checks {
        let status = c["status"].as_str().unwrap_or_default().to_string();
        let line = format!(
            "{} {}: {}",
            c["service"].as_str().unwrap_or_default(),
            c["check"].as_str().unwrap_or_default(),
            c["message"].as_str().unwrap_or_default()
        );
        by_status.entry(status).or_default().push(line);
    }
    let failed = by_status.get("fail").cloned().unwrap_or_default();
    assert!(
        code == 0 && failed.is_empty(),
        "{how}: verify exit {code}, failing checks:\n{}\n{err}",
        failed.join("\n")
    );
    for skipped in by_status.get("skip").into_iter().flatten() {
        eprintln!("{how}: verify check not run (not a pass): {skipped}");
    }
    eprintln!(
        "{how}: verify green in {:.1}s: {} checks passed",
        took.as_secs_f64(),
        by_status.get("pass").map_or(0, Vec::len)
    );

    let (_, targets) = http_get(prometheus_port, "/api/v1/targets?state=active");
    let targets: Value = serde_json::from_str(&targets).expect("targets json");
    let active = targets["data"]["activeTargets"]
        .as_array()
        .expect("active targets");
    let mut jobs = BTreeMap::<String, usize>::new();
    for t in active {
        let job = t["labels"]["job"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            t["health"], "up",
            "{how}: target {} of `{job}` is {}: {}",
            t["scrapeUrl"], t["health"], t["lastError"]
        );
        *jobs.entry(job).or_default() += 1;
    }
    for job in [
        "prometheus",
        "alertmanager",
        "node-exporter",
        "postgres-exporter",
        "redis-exporter",
        "nginx-exporter",
        "blackbox-exporter",
        "pushgateway",
        "pynomaly-api",
        "pynomaly-workers",
        "blackbox",
    ] {
        assert!(
            jobs.contains_key(job),
            "{how}: no active target of `{job}`: {jobs:?}"
        );
    }
    eprintln!(
        "{how}: every target up: {}",
        jobs.iter()
            .map(|(j, n)| format!("{j} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for series in ["pg_up", "redis_up", "nginx_up", "nginx_exporter_build_info"] {
        let (_, body) = http_get(prometheus_port, &format!("/api/v1/query?query={series}"));
        let doc: Value = serde_json::from_str(&body).expect("query json");
        let result = doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(result.len(), 1, "{how}: `{series}`: {body}");
        assert_eq!(result[0]["value"][1], "1", "{how}: `{series}`: {body}");
    }
    // pg_up alone is set from a connection attempt; a query of the
    // database's own statistics proves the exporter is logged in.
    let (_, body) = http_get(
        prometheus_port,
        "/api/v1/query?query=pg_stat_database_numbackends%7Bdatname%3D%22pynomaly%22%7D",
    );
    assert!(body.contains(r#""datname":"pynomaly""#), "{how}: {body}");
    eprintln!(
        "{how}: pg_up 1, redis_up 1, nginx_up 1, nginx_exporter_build_info 1, pg_stat_database of `pynomaly` scraped"
    );
}

/// The databases and NGINX the stack scrapes, on the application network.
fn start_applications(p: &Project, apps: &Images, db_password: &str) {
    docker_ok(&[
        "network",
        "create",
        "--label",
        &p.app_label(),
        &p.app_network(),
    ]);
    let image = |key: &str| format!("{}:{}", apps[key].0, apps[key].1);
    p.start_app(
        "postgres",
        &image("postgres"),
        &["postgres"],
        &[
            "POSTGRES_USER=pynomaly",
            &format!("POSTGRES_PASSWORD={db_password}"),
            "POSTGRES_DB=pynomaly",
        ],
        &[],
    );
    p.start_app("redis", &image("redis"), &["redis"], &[], &[]);
    let site = p.dir.path().join("app-site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("pynomaly.conf"), SITE).unwrap();
    let srv = p.dir.path().join("app-srv");
    std::fs::create_dir_all(&srv).unwrap();
    std::fs::write(srv.join("api.prom"), API_METRICS).unwrap();
    std::fs::write(srv.join("worker.prom"), WORKER_METRICS).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        // Read by NGINX's workers (uid 101) inside the container.
        for f in [
            site.join("pynomaly.conf"),
            srv.join("api.prom"),
            srv.join("worker.prom"),
        ] {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        std::fs::set_permissions(&srv, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p.start_app(
        "nginx",
        &image("nginx"),
        &["nginx", "pynomaly-api", "worker-1", "worker-2", "worker-3"],
        &[],
        &[
            (
                "/etc/nginx/conf.d/pynomaly.conf",
                &site.join("pynomaly.conf"),
            ),
            ("/srv/pynomaly", &srv),
        ],
    );
    for service in ["postgres", "redis", "nginx"] {
        let container = format!("{}-{service}", p.name);
        let (_, state, _) = docker(&["inspect", "-f", "{{.State.Running}}", &container]);
        let (_, logs, logs_err) = docker(&["logs", &container]);
        assert_eq!(
            state.trim(),
            "true",
            "{container} is not running:\n{logs}{logs_err}"
        );
    }
}

fn compose_v2_path(why: &str) -> Option<PathBuf> {
    common::compose_v2(why)
}

#[test]
fn pynomaly_stack_is_green_with_stackctl_up_and_with_compose_v2() {
    let _gate = common::serial::gate(module_path!());
    let test = "pynomaly_stack_is_green_with_stackctl_up_and_with_compose_v2";
    if !engine(test) {
        return;
    }
    let Some(compose) =
        compose_v2_path("plain `docker compose up -d` of the rendered pynomaly stack")
    else {
        return;
    };
    let started = Instant::now();
    let sid = images("sid");
    let apps = images("apps");
    let images_took = started.elapsed();

    let p = Project::new("pyn");
    let (code, _, err) = run(&["init", "--profile", "pynomaly", "--dir", p.path()]);
    assert_eq!(code, 0, "init: {err}");
    let derived = derive_pynomaly(&p, sid);
    std::fs::write(p.dir.path().join("stack.yaml"), &derived.spec).unwrap();
    eprintln!("pynomaly profile, as run on this engine:");
    for change in &derived.changes {
        eprintln!("  {change}");
    }
    let db_password = "e2e-Db-pässword'with\"quotes";
    fill_secrets(p.dir.path(), db_password);
    start_applications(&p, apps, db_password);
    let prometheus = derived.ports["prometheus"];

    // 1. stackctl up, then verify.
    let t = Instant::now();
    let (code, _, err) = p.stackctl(&["up", "--wait", "3m"]);
    assert_eq!(code, 0, "stackctl up: {err}");
    assert!(
        !err.contains("warning: receiver"),
        "credentials are filled: {err}"
    );
    eprintln!("stackctl up: {:.1}s", t.elapsed().as_secs_f64());
    assert_verify_green(&p, "stackctl up", prometheus);
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "down: {err}");
    assert!(p.project_containers().is_empty(), "down left containers");

    // 2. Plain Compose v2 on the rendered file, then verify.
    let t = Instant::now();
    let (ok, out) = p.compose(&compose, &["up", "-d"]);
    assert!(ok, "docker compose up -d: {out}");
    assert!(!out.contains("not supported"), "Compose warned: {out}");
    eprintln!(
        "docker compose up -d (v2): {:.1}s",
        t.elapsed().as_secs_f64()
    );
    assert_verify_green(&p, "docker compose v2", prometheus);

    // The exporters still answer with their servers gone; verify must say
    // that they no longer reach them (each one's `*_up` gauge is 0).
    for app in ["postgres", "redis", "nginx"] {
        docker_ok(&["stop", "-t", "1", &format!("{}-{app}", p.name)]);
    }
    let (code, out, err) = p.stackctl(&[
        "verify",
        "--only",
        "postgres-exporter",
        "--only",
        "redis-exporter",
        "--only",
        "nginx-exporter",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "verify with the servers stopped: {out}\n{err}");
    let doc: Value = serde_json::from_str(&out).expect("verify json");
    for (service, gauge) in [
        ("postgres-exporter", "pg_up"),
        ("redis-exporter", "redis_up"),
        ("nginx-exporter", "nginx_up"),
    ] {
        let check = doc["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["service"] == service && c["check"] == "metrics")
            .unwrap_or_else(|| panic!("no metrics check of {service}: {out}"));
        assert_eq!(check["status"], "fail", "{service}: {check}");
        let message = check["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!(
                "`{gauge}` is 0: the exporter answers but cannot reach"
            )),
            "{service}: {message}"
        );
    }
    eprintln!("servers stopped: verify fails each exporter's `metrics` check on its *_up gauge");

    let (ok, out) = p.compose(&compose, &["down", "-v"]);
    assert!(ok, "docker compose down -v: {out}");

    assert_secrets_private(p.dir.path());
    eprintln!(
        "pynomaly e2e: {:.1}s in all ({:.1}s of it building/checking images)",
        started.elapsed().as_secs_f64(),
        images_took.as_secs_f64()
    );
}

/// Every shipped profile and example, as far as it runs here: its
/// Prometheus, Alertmanager and exporters (with real databases where it has
/// database exporters), from `init` (profiles) or `render` (examples), both
/// by `stackctl up` and by Compose v2, `verify` green each time. What is not
/// run is printed with its reason.
fn derive_subset(p: &Project, text: &str, sid: &Images) -> Derived {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let stack = loaded.stack.expect("spec loads");
    let mut spec = serde_json::to_value(&stack).expect("spec as JSON");
    let mut changes = Vec::new();
    spec["name"] = Value::from(p.name.clone());
    if spec["network"]["attach"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        spec["network"]["attach"] = serde_json::json!([p.app_network()]);
    }
    let dashboards = spec["dashboards"].as_array().map_or(0, Vec::len);
    spec["dashboards"] = serde_json::json!([]);
    if dashboards > 0 {
        changes.push(format!(
            "NOT RUN: {dashboards} dashboards: they need Grafana"
        ));
    }
    if let Some(obj) = spec.as_object_mut() {
        obj.remove("datasources");
    }
    if let Some(sources) = spec["logs"].get_mut("sources") {
        let n = sources.as_array().map_or(0, Vec::len);
        *sources = serde_json::json!([]);
        if n > 0 {
            changes.push(format!(
                "NOT RUN: {n} log sources: they need Alloy/Promtail and Loki"
            ));
        }
    }
    // The application's own endpoints are not on this machine.
    let jobs = spec.get_mut("scrape_jobs").and_then(Value::as_array_mut);
    for job in jobs.into_iter().flatten() {
        if job.get("enabled") != Some(&Value::Bool(false)) {
            changes.push(format!(
                "NOT RUN: scrape job `{}` ({}): the application is not here",
                job["name"].as_str().unwrap_or_default(),
                job["targets"]
            ));
            job["enabled"] = Value::Bool(false);
        }
    }
    for probe in spec["probes"].as_array().into_iter().flatten() {
        changes.push(format!(
            "NOT RUN: probe `{}` ({}): its targets are the application's or on the internet",
            probe["name"].as_str().unwrap_or_default(),
            probe["targets"]
        ));
    }
    spec["probes"] = serde_json::json!([]);
    for rw in spec["remote_write"].as_array().into_iter().flatten() {
        changes.push(format!(
            "NOT RUN: remote_write to {}: not on this machine",
            rw["url"]
        ));
    }
    spec["remote_write"] = serde_json::json!([]);
    if let Some(smtp) = spec.get_mut("alerting").and_then(|a| a.get_mut("smtp")) {
        smtp["smarthost"] = Value::from("localhost:2525");
    }
    // verify wants every rule evaluated once; a group evaluated every 5m
    // would hold each path up to 5 minutes.
    for groups in spec["rules"]
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        for group in groups.as_array_mut().into_iter().flatten() {
            let slow = group["interval"]
                .as_str()
                .is_some_and(|i| i.ends_with('m') || i.ends_with('h'));
            if slow {
                changes.push(format!(
                    "rule group `{}`: interval {} -> 30s (first evaluation within the test)",
                    group["name"].as_str().unwrap_or_default(),
                    group["interval"]
                ));
                group["interval"] = Value::from("30s");
            }
        }
    }
    let components = spec["components"].as_object_mut().expect("components");
    let mut apps = Vec::new();
    let keys: Vec<String> = components.keys().cloned().collect();
    for key in keys {
        let c = components.get_mut(&key).unwrap();
        if c.get("enabled") == Some(&Value::Bool(false)) {
            continue;
        }
        let Some((repo, version)) = sid.get(&key) else {
            c["enabled"] = Value::Bool(false);
            changes.push(format!(
                "NOT RUN: {key}: no Debian package, so no local image"
            ));
            continue;
        };
        let kind = stackctl::model::catalog::ALL
            .into_iter()
            .find(|k| k.key() == key)
            .expect("a catalog key");
        let port = free_port();
        c["image"] = Value::from(repo.clone());
        c["version"] = Value::from(version.clone());
        c["ports"] = serde_json::json!({ kind.info().ports[0].name: port });
        let host = |s: &str| {
            s.split("://")
                .last()
                .unwrap_or(s)
                .split([':', '/'])
                .next()
                .unwrap_or(s)
                .to_string()
        };
        match key.as_str() {
            "postgres_exporter" => apps.push((
                "postgres".to_string(),
                c["host"].as_str().map_or("postgres".into(), str::to_string),
            )),
            "redis_exporter" => apps.push((
                "redis".to_string(),
                host(c["address"].as_str().unwrap_or("redis://redis:6379")),
            )),
            "nginx_exporter" => apps.push((
                "nginx".to_string(),
                host(
                    c["scrape_uri"]
                        .as_str()
                        .unwrap_or("http://nginx:8080/stub_status"),
                ),
            )),
            _ => {}
        }
    }
    let ports = components
        .iter()
        .filter_map(|(k, c)| {
            Some((
                k.clone(),
                c["ports"].as_object()?.values().next()?.as_u64()? as u16,
            ))
        })
        .collect();
    Derived {
        spec: stackctl::yaml::emit::to_yaml(&spec),
        ports,
        changes,
        apps,
    }
}

/// Fills every empty secret file (notifier credentials) with a value that
/// keeps everything on this machine.
fn fill_empty_secrets(dir: &Path, db_password: &str, db_secret: Option<&str>) {
    for entry in std::fs::read_dir(dir.join("secrets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let value = if Some(name.as_str()) == db_secret {
            db_password.to_string()
        } else if std::fs::metadata(&path).unwrap().len() == 0 {
            if name.contains("url") {
                "http://localhost:9/notify".to_string()
            } else {
                format!("e2e-{name}")
            }
        } else {
            continue;
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        f.write_all(value.as_bytes()).unwrap();
    }
}

fn run_subset(
    label: &str,
    text: &str,
    from_profile: Option<&str>,
    compose: &Path,
    sid: &Images,
    apps_images: &Images,
) -> Result<String, String> {
    let p = Project::new(&format!(
        "sub{}",
        label.len() + label.bytes().map(usize::from).sum::<usize>() % 997
    ));
    let started = Instant::now();
    if let Some(profile) = from_profile {
        let (code, _, err) = run(&["init", "--profile", profile, "--dir", p.path()]);
        if code != 0 {
            return Err(format!("{label}: init: {err}"));
        }
    }
    let original = match from_profile {
        Some(_) => std::fs::read_to_string(p.dir.path().join("stack.yaml")).unwrap(),
        None => text.to_string(),
    };
    let Derived {
        spec,
        ports,
        changes,
        apps,
    } = derive_subset(&p, &original, sid);
    std::fs::write(p.dir.path().join("stack.yaml"), spec).unwrap();
    if from_profile.is_none() {
        // Examples: `render` creates the secret files they declare.
        let (code, _, err) = p.stackctl(&["render"]);
        if code != 0 {
            return Err(format!("{label}: render: {err}"));
        }
    }
    let loaded = stackctl::load::load_text("stack.yaml", original.clone());
    let db_secret = loaded
        .stack
        .as_ref()
        .and_then(|s| s.components.postgres_exporter.as_ref())
        .and_then(|c| c.password_secret.clone());
    let db_user = loaded
        .stack
        .as_ref()
        .and_then(|s| s.components.postgres_exporter.as_ref())
        .and_then(|c| c.user.clone())
        .unwrap_or_else(|| "postgres".into());
    let db_name = loaded
        .stack
        .as_ref()
        .and_then(|s| s.components.postgres_exporter.as_ref())
        .and_then(|c| c.database.clone())
        .unwrap_or_else(|| "postgres".into());
    let db_password = "e2e-db-password";
    fill_empty_secrets(p.dir.path(), db_password, db_secret.as_deref());
    let attaches = loaded
        .stack
        .as_ref()
        .is_some_and(|s| !s.network.attach.is_empty());
    if !apps.is_empty() || attaches {
        docker_ok(&[
            "network",
            "create",
            "--label",
            &p.app_label(),
            &p.app_network(),
        ]);
    }
    for (app, alias) in &apps {
        let image = format!("{}:{}", apps_images[app].0, apps_images[app].1);
        let env = [
            format!("POSTGRES_USER={db_user}"),
            format!("POSTGRES_PASSWORD={db_password}"),
            format!("POSTGRES_DB={db_name}"),
        ];
        let env: Vec<&str> = if app == "postgres" {
            env.iter().map(String::as_str).collect()
        } else {
            vec![]
        };
        p.start_app(app, &image, &[alias], &env, &[]);
    }
    let mut report = vec![format!("{label}:")];
    report.extend(changes.iter().map(|c| format!("  {c}")));
    let prometheus = ports.get("prometheus").copied();
    let green = |how: &str| -> Result<String, String> {
        let (code, out, err) = p.stackctl(&["verify", "--wait", "3m", "--format", "json"]);
        let doc: Value = serde_json::from_str(&out)
            .map_err(|e| format!("{label} {how}: verify json ({e}): {out}{err}"))?;
        let checks = doc["checks"].as_array().cloned().unwrap_or_default();
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| c["status"] != "pass")
            .map(|c| {
                format!(
                    "{} {} [{}]: {}",
                    c["service"], c["check"], c["status"], c["message"]
                )
            })
            .collect();
        if code != 0 || failed.iter().any(|f| f.contains("[\"fail\"]")) {
            return Err(format!(
                "{label} {how}: verify exit {code}:\n{}",
                failed.join("\n")
            ));
        }
        let mut line = format!("  {how}: verify green, {} checks", checks.len());
        for f in failed {
            line += &format!("\n  {how}: not run (not a pass): {f}");
        }
        if let Some(port) = prometheus {
            let (_, targets) = http_get(port, "/api/v1/targets?state=active");
            let targets: Value =
                serde_json::from_str(&targets).map_err(|e| format!("{label}: targets: {e}"))?;
            let active = targets["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(down) = active.iter().find(|t| t["health"] != "up") {
                return Err(format!("{label} {how}: target down: {down}"));
            }
            line += &format!(", {} targets up", active.len());
            // An exporter answers even when it cannot reach its database:
            // its own `*_up` series says whether it did.
            for (app, _) in &apps {
                let series = match app.as_str() {
                    "postgres" => "pg_up",
                    "redis" => "redis_up",
                    _ => "nginx_up",
                };
                let (_, body) = http_get(port, &format!("/api/v1/query?query={series}"));
                let doc: Value =
                    serde_json::from_str(&body).map_err(|e| format!("{label}: {series}: {e}"))?;
                if doc["data"]["result"][0]["value"][1] != "1" {
                    return Err(format!("{label} {how}: `{series}` is not 1: {body}"));
                }
                line += &format!(", {series} 1");
            }
        }
        Ok(line)
    };
    let (code, _, err) = p.stackctl(&["up", "--wait", "3m"]);
    if code != 0 {
        return Err(format!("{label}: stackctl up: {err}"));
    }
    report.push(green("stackctl up")?);
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    if code != 0 {
        return Err(format!("{label}: down: {err}"));
    }
    let (ok, out) = p.compose(compose, &["up", "-d"]);
    if !ok {
        return Err(format!("{label}: docker compose up -d: {out}"));
    }
    report.push(green("docker compose v2")?);
    let (ok, out) = p.compose(compose, &["down", "-v"]);
    if !ok {
        return Err(format!("{label}: docker compose down -v: {out}"));
    }
    assert_secrets_private(p.dir.path());
    report.push(format!("  {:.1}s", started.elapsed().as_secs_f64()));
    Ok(report.join("\n"))
}

#[test]
fn every_profile_and_example_runs_its_runnable_subset_with_stackctl_up_and_compose_v2() {
    let _gate = common::serial::gate(module_path!());
    let test = "every_profile_and_example_runs_its_runnable_subset_with_stackctl_up_and_compose_v2";
    if !engine(test) {
        return;
    }
    let Some(compose) = compose_v2_path("plain `docker compose up -d` of every shipped spec")
    else {
        return;
    };
    let sid = images("sid");
    let apps = images("apps");
    let mut specs: Vec<(String, String, Option<&str>)> = stackctl::profiles::PROFILES
        .iter()
        // pynomaly runs in full in the test above.
        .filter(|p| p.name != "pynomaly")
        .map(|p| {
            (
                format!("profile {}", p.name),
                p.text.to_string(),
                Some(p.name),
            )
        })
        .collect();
    for (name, dir) in common::example_dirs() {
        let text = std::fs::read_to_string(dir.join("stack.yaml")).unwrap();
        specs.push((format!("example {name}"), text, None));
    }
    let started = Instant::now();
    let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .iter()
            .map(|(label, text, profile)| {
                let compose = compose.clone();
                scope.spawn(move || run_subset(label, text, *profile, &compose, sid, apps))
            })
            .collect();
        handles
            .into_iter()
            .zip(&specs)
            .map(|(h, (label, _, _))| {
                h.join()
                    .unwrap_or_else(|_| Err(format!("{label}: panicked (see above)")))
            })
            .collect()
    });
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(report) => eprintln!("{report}"),
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "{} specs in {:.1}s",
        specs.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
