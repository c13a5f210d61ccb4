//! `security:` against real processes: Prometheus, Alertmanager and
//! node-exporter from the Debian packages of both generations (stable 2.42 /
//! 0.25 / 1.5 on PATH, sid 3.5 / 0.33 / 1.11 in target/consumers/sid/bin),
//! each started with the web config `stackctl render` wrote.
//!
//! How the rendered files run outside containers: the secrets are copied to
//! a `run/secrets/` directory exactly as the rendered `secrets-init` job maps
//! them (its `/in/NAME` binds), `/run/secrets/` in the web configs and in
//! `prometheus.yml` is pointed there, and the container addresses
//! (`node-exporter:9100`…) become the processes' `127.0.0.1` ports. Nothing
//! else is changed: the basic-auth users, hashes, TLS settings and the
//! scrape jobs' `basic_auth`/`tls_config` are the rendered ones.

use crate::common;
use crate::support;

use common::{Generation, path_str, require_consumer, run, spec_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Proc, reserve_port};

struct Tools {
    prometheus: PathBuf,
    alertmanager: PathBuf,
    node: PathBuf,
    /// Versions the spec pins, matching the binaries.
    versions: [&'static str; 3],
}

fn tools(g: Generation) -> Option<Tools> {
    let why = "web configs checked by real Prometheus, Alertmanager and node-exporter";
    Some(match g {
        Generation::Bookworm => Tools {
            prometheus: require_consumer(g, "prometheus", why)?,
            alertmanager: require_consumer(g, "prometheus-alertmanager", why)?,
            node: require_consumer(g, "prometheus-node-exporter", why)?,
            versions: ["v2.42.0", "v0.25.0", "v1.5.0"],
        },
        Generation::Current => Tools {
            prometheus: require_consumer(g, "prometheus", why)?,
            alertmanager: require_consumer(g, "alertmanager", why)?,
            node: require_consumer(g, "node-exporter", why)?,
            versions: ["v3.5.0", "v0.33.0", "v1.11.1"],
        },
    })
}

struct Ports {
    prometheus: u16,
    alertmanager: u16,
    node: u16,
}

/// How the stack gets its TLS certificates.
#[derive(Clone, Copy, PartialEq)]
enum Tls {
    Off,
    Generated,
    /// The user's own CA and certificate (made here with rcgen, as files).
    UserFiles,
}

fn spec(t: &Tools, p: &Ports, tls: Tls) -> String {
    let tls = match tls {
        Tls::Off => "",
        Tls::Generated => "  tls: {generate: true}\n",
        Tls::UserFiles => {
            "  tls:\n    cert_file: certs/server.crt\n    key_file: certs/server.key\n    ca_file: certs/ca.crt\n"
        }
    };
    format!(
        r#"stackctl: 1
name: web-auth-real
secrets:
  web_admin_password: {{generate: true}}
  web_ops_password: {{generate: true}}
components:
  prometheus:
    version: {prom}
    ports: {{web: {pp}}}
    scrape_interval: 1s
  alertmanager:
    version: {am}
    ports: {{web: {ap}}}
  node_exporter:
    version: {node}
    ports: {{metrics: {np}}}
alerting:
  route:
    receiver: default
  receivers:
    - name: default
security:
  users:
    admin: {{password_secret: web_admin_password}}
    ops: {{password_secret: web_ops_password}}
{tls}"#,
        prom = t.versions[0],
        am = t.versions[1],
        node = t.versions[2],
        pp = p.prometheus,
        ap = p.alertmanager,
        np = p.node,
    )
}

/// Copies every secret the rendered `secrets-init` job installs (its
/// `source: ./FILE` → `target: /in/NAME` binds) to `run/secrets/NAME`.
fn install_secrets(dir: &Path, run: &Path) -> Vec<String> {
    let compose = std::fs::read_to_string(dir.join("docker-compose.monitoring.yml")).unwrap();
    let out = run.join("secrets");
    std::fs::create_dir_all(&out).unwrap();
    let mut names = Vec::new();
    let lines: Vec<&str> = compose.lines().collect();
    for pair in lines.windows(2) {
        let (Some(source), Some(name)) = (
            pair[0].trim().strip_prefix("source: ./"),
            pair[1].trim().strip_prefix("target: /in/"),
        ) else {
            continue;
        };
        std::fs::copy(dir.join(source), out.join(name)).unwrap();
        names.push(name.to_string());
    }
    names
}

/// A rendered file with container paths and addresses pointed at this host.
fn host_copy(dir: &Path, rel: &str, run: &Path, p: &Ports) -> PathBuf {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap();
    let secrets = format!("{}/", run.join("secrets").display());
    let text = text
        .replace("/run/secrets/", &secrets)
        .replace("prometheus:9090", &format!("127.0.0.1:{}", p.prometheus))
        .replace(
            "alertmanager:9093",
            &format!("127.0.0.1:{}", p.alertmanager),
        )
        .replace("node-exporter:9100", &format!("127.0.0.1:{}", p.node));
    let out = run.join(rel.replace('/', "_"));
    std::fs::write(&out, text).unwrap();
    out
}

/// The HTTP status curl gets (0: no HTTP answer, e.g. a TLS failure).
fn status(url: &str, ca: Option<&Path>, login: Option<(&str, &str)>) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "5",
    ]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    if let Some((user, password)) = login {
        cmd.arg("-u").arg(format!("{user}:{password}"));
    }
    let out = cmd.arg(url).output().expect("curl runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn get(url: &str, ca: Option<&Path>, login: (&str, &str)) -> String {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "--max-time",
        "5",
        "-u",
        &format!("{}:{}", login.0, login.1),
    ]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    let out = cmd.arg(url).output().expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, within: Duration, procs: &[&Proc], mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let logs: Vec<String> = procs
        .iter()
        .map(|p| format!("--- {}:\n{}", p.name, p.log()))
        .collect();
    panic!("{what} not reached within {within:?}\n{}", logs.join("\n"));
}

/// A CA and one certificate for every service name, written as the user's
/// files under `certs/` (PEM, the key PKCS#8).
fn user_certificates(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: with rcgen's default subject for both, OpenSSL would
    // take the server certificate for a self-signed one.
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "user-provided test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let names = [
        "prometheus",
        "alertmanager",
        "node-exporter",
        "localhost",
        "127.0.0.1",
    ];
    let mut params = CertificateParams::new(names.map(String::from).to_vec()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "stack services");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::write(certs.join("ca.crt"), ca_cert.pem()).unwrap();
    std::fs::write(certs.join("server.crt"), cert.pem()).unwrap();
    std::fs::write(certs.join("server.key"), key.serialize_pem()).unwrap();
}

fn check(g: Generation, mode: Tls) {
    let tls = mode != Tls::Off;
    let Some(t) = tools(g) else { return };
    if common::require_tool("curl", "HTTP requests with and without credentials").is_none() {
        return;
    }
    let p = Ports {
        prometheus: reserve_port().release(),
        alertmanager: reserve_port().release(),
        node: reserve_port().release(),
    };
    let dir = spec_dir(&spec(&t, &p, mode));
    if mode == Tls::UserFiles {
        user_certificates(dir.path());
    }
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    let compose =
        std::fs::read_to_string(dir.path().join("docker-compose.monitoring.yml")).unwrap();
    assert_eq!(
        compose
            .matches("--web.config.file=/etc/stackctl-web/web.yml")
            .count(),
        3,
        "every protected service gets the flag:\n{compose}"
    );
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let installed = install_secrets(dir.path(), &run_dir);
    assert!(
        installed.contains(&"web_admin_password".to_string()),
        "{installed:?}"
    );
    let password = std::fs::read_to_string(dir.path().join("secrets/web_admin_password")).unwrap();
    let ops = std::fs::read_to_string(dir.path().join("secrets/web_ops_password")).unwrap();
    assert_eq!(password.len(), 32);
    for service in ["prometheus", "alertmanager", "node-exporter"] {
        let web =
            std::fs::read_to_string(dir.path().join(format!("web/{service}/web.yml"))).unwrap();
        assert!(!web.contains(&password), "no password in a rendered file");
    }
    let web = |s: &str| host_copy(dir.path(), &format!("web/{s}/web.yml"), &run_dir, &p);
    let node = Proc::start(
        "node-exporter",
        &t.node,
        &[
            format!("--web.listen-address=127.0.0.1:{}", p.node),
            format!("--web.config.file={}", web("node-exporter").display()),
            "--collector.disable-defaults".into(),
            "--collector.loadavg".into(),
        ],
        &run_dir,
    );
    let am = Proc::start(
        "alertmanager",
        &t.alertmanager,
        &[
            format!(
                "--config.file={}",
                dir.path().join("alertmanager/alertmanager.yml").display()
            ),
            format!("--storage.path={}", run_dir.join("am").display()),
            format!("--web.listen-address=127.0.0.1:{}", p.alertmanager),
            "--cluster.listen-address=".into(),
            format!("--web.config.file={}", web("alertmanager").display()),
        ],
        &run_dir,
    );
    let prom_config = host_copy(dir.path(), "prometheus/prometheus.yml", &run_dir, &p);
    let prom = Proc::start(
        "prometheus",
        &t.prometheus,
        &[
            format!("--config.file={}", prom_config.display()),
            format!("--storage.tsdb.path={}", run_dir.join("prom").display()),
            format!("--web.listen-address=127.0.0.1:{}", p.prometheus),
            format!("--web.config.file={}", web("prometheus").display()),
        ],
        &run_dir,
    );
    let scheme = if tls { "https" } else { "http" };
    let ca_file = run_dir.join("secrets/tls_ca_crt");
    let ca = tls.then_some(ca_file.as_path());
    let login = ("admin", password.as_str());
    let endpoints = [
        (
            format!("{scheme}://127.0.0.1:{}/-/ready", p.prometheus),
            &prom,
        ),
        (
            format!("{scheme}://127.0.0.1:{}/-/ready", p.alertmanager),
            &am,
        ),
        (format!("{scheme}://127.0.0.1:{}/metrics", p.node), &node),
    ];
    for (url, proc_) in &endpoints {
        wait_for(
            &format!("{url} answering"),
            Duration::from_secs(30),
            &[proc_],
            || status(url, ca, Some(login)) == 200,
        );
        assert_eq!(status(url, ca, None), 401, "anonymous request to {url}");
        assert_eq!(
            status(url, ca, Some(("admin", "not-the-password"))),
            401,
            "wrong password at {url}"
        );
        assert_eq!(
            status(url, ca, Some(("ops", &ops))),
            200,
            "second user at {url}"
        );
        if tls {
            // Plain HTTP and an untrusted CA get no answer with data.
            let plain = url.replacen("https://", "http://", 1);
            assert_ne!(
                status(&plain, None, Some(login)),
                200,
                "plain HTTP to {url}"
            );
            assert_eq!(
                status(url, None, Some(login)),
                0,
                "{url} without the stack's CA"
            );
        }
    }
    // Prometheus scrapes the protected endpoints with the rendered
    // `basic_auth` (password_file) and `tls_config` (the generated CA).
    let targets = format!("{scheme}://127.0.0.1:{}/api/v1/targets", p.prometheus);
    wait_for(
        "every target up",
        Duration::from_secs(30),
        &[&prom, &am, &node],
        || {
            let body = get(&targets, ca, login);
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
                return false;
            };
            let active = v["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            active.len() == 3 && active.iter().all(|t| t["health"] == "up")
        },
    );
    let body = get(&targets, ca, login);
    for job in ["prometheus", "alertmanager", "node-exporter"] {
        assert!(
            body.contains(&format!("\"job\":\"{job}\"")),
            "{job} in {body}"
        );
    }
    if tls {
        assert!(
            body.contains(&format!(
                "\"scrapeUrl\":\"https://127.0.0.1:{}/metrics\"",
                p.node
            )),
            "{body}"
        );
    }
    // verify logs in (and trusts the CA) by itself, from the spec and secrets.
    let (code, out, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--timeout",
        "5s",
        "--only",
        "node-exporter",
        "--only",
        "alertmanager",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    let checks = report["checks"].as_array().unwrap();
    let passed: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| {
            c["status"] == "pass" && c["url"].as_str().is_some_and(|u| u.starts_with(scheme))
        })
        .collect();
    assert!(
        passed.iter().any(|c| c["service"] == "node-exporter")
            && passed.iter().any(|c| c["service"] == "alertmanager"),
        "verify reached the protected endpoints over {scheme}: {report:#}\n{err}"
    );
    let failed: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["status"] == "fail" && c["url"].is_string())
        .collect();
    assert!(
        failed.is_empty(),
        "verify failures: {failed:#?}\n(exit {code})"
    );
}

#[test]
fn basic_auth_bookworm() {
    check(Generation::Bookworm, Tls::Off);
}

#[test]
fn basic_auth_and_generated_tls_bookworm() {
    check(Generation::Bookworm, Tls::Generated);
}

#[test]
fn basic_auth_current() {
    check(Generation::Current, Tls::Off);
}

#[test]
fn basic_auth_and_generated_tls_current() {
    check(Generation::Current, Tls::Generated);
}

#[test]
fn basic_auth_and_user_certificate_files_bookworm() {
    check(Generation::Bookworm, Tls::UserFiles);
}

#[test]
fn basic_auth_and_user_certificate_files_current() {
    check(Generation::Current, Tls::UserFiles);
}
