//! `stackctl backup` and `restore` on the real Docker engine, with the
//! locally built Debian sid images (`scripts/build-test-images.sh sid`:
//! Prometheus 3.5, Alertmanager 0.33, Pushgateway 1.11; nothing is pulled).
//! Without an engine or the images the test prints `SKIPPED: …`; under
//! `STACKCTL_REQUIRE_TOOLS=1` that fails instead.
//!
//! One test, in the order an operator would go: samples and a silence, a
//! backup, three refused restores (corrupted, version mismatch, volumes
//! holding data) that change nothing, `down --volumes` (which suggests a
//! backup), `up`, `restore --force`, and queries proving the old samples,
//! the silence and the pushed group are back.

use crate::common;

use common::{path_str, require_tool, run, tools_required};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Spec key → (repository, version) of the sid test images.
fn images(test: &str) -> Option<BTreeMap<String, (String, String)>> {
    let socket = "/var/run/docker.sock";
    if !Path::new(socket).exists() {
        if tools_required() {
            panic!("{test}: no Docker engine at `{socket}`");
        }
        eprintln!(
            "SKIPPED: {test}: no Docker engine at `{socket}`; backup/restore were not run on a real engine"
        );
        return None;
    }
    require_tool("docker", "backup and restore on the real engine")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-images.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("sid")
        .output()
        .expect("runs");
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        if tools_required() {
            panic!("{test}: {} sid failed:\n{why}", script.display());
        }
        common::skipped(format!("the sid test images could not be built:\n{why}"));
        return None;
    }
    let mut images = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let [key, repo, version] = line.split_whitespace().collect::<Vec<_>>()[..] {
            images.insert(key.to_string(), (repo.to_string(), version.to_string()));
        }
    }
    for key in ["prometheus", "alertmanager", "pushgateway"] {
        assert!(images.contains_key(key), "no {key} image in {images:?}");
    }
    Some(images)
}

/// A project on the engine; whatever it left behind is removed on drop.
struct Project {
    name: String,
    dir: tempfile::TempDir,
}

impl Project {
    fn stackctl(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = args.to_vec();
        all.extend(["--dir", path_str(self.dir.path())]);
        run(&all)
    }

    fn label(&self) -> String {
        format!("label=com.docker.compose.project={}", self.name)
    }

    /// Container IDs and volumes of the project: what "nothing changed" compares.
    fn state(&self) -> (String, String) {
        let ids = docker(&["ps", "-a", "--no-trunc", "-q", "--filter", &self.label()]);
        let volumes = docker(&["volume", "ls", "-q", "--filter", &self.label()]);
        (ids, volumes)
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
        docker(&["network", "rm", &format!("{}_default", self.name)]);
        for v in docker(&["volume", "ls", "-q", "--filter", &label]).lines() {
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// One HTTP/1.0 request to 127.0.0.1 → (status, body).
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
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

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Timestamps (ms) of the samples of `bk_e2e_metric` in the last hour.
fn samples(port: u16) -> Vec<i64> {
    let (status, body) = http(port, "GET", "/api/v1/query?query=bk_e2e_metric%5B1h%5D", "");
    if status != 200 {
        return Vec::new();
    }
    let v = json(&body);
    v["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| series["values"].as_array().cloned().unwrap_or_default())
        .filter_map(|pair| pair[0].as_f64().map(|t| (t * 1000.0) as i64))
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < until, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn backup_down_up_restore_brings_samples_and_silences_back() {
    let test = "backup_down_up_restore_brings_samples_and_silences_back";
    let Some(images) = images(test) else { return };
    let p = Project {
        name: format!("scbk-backup-{}", std::process::id()),
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let ports: BTreeMap<&str, u16> = ["prometheus", "alertmanager", "pushgateway"]
        .into_iter()
        .map(|k| (k, free_port()))
        .collect();
    let component = |key: &str| {
        let (repo, version) = &images[key];
        format!(
            "  {key}:\n    image: {repo}\n    version: {version}\n    ports: {{web: {}}}\n",
            ports[key]
        )
    };
    let spec = format!(
        "stackctl: 1\nname: {}\ncomponents:\n{}{}{}alerting:\n  route:\n    receiver: default\n  receivers:\n    - name: default\n",
        p.name,
        component("prometheus"),
        component("alertmanager"),
        component("pushgateway")
    );
    let spec_path = p.dir.path().join("stack.yaml");
    std::fs::write(&spec_path, &spec).unwrap();
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 0, "{err}");
    let (prom, am, pg) = (
        ports["prometheus"],
        ports["alertmanager"],
        ports["pushgateway"],
    );

    // Samples (pushed, then scraped) and a silence.
    let (status, _) = http(
        pg,
        "PUT",
        "/metrics/job/bk",
        "bk_e2e_metric{kept=\"yes\"} 42\n",
    );
    assert_eq!(status, 200);
    let silence = r#"{"matchers":[{"name":"alertname","value":"BackupE2E","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"backup_e2e","comment":"kept across restore"}"#;
    let (status, body) = http(am, "POST", "/api/v2/silences", silence);
    assert_eq!(status, 200, "{body}");
    let silence_id = json(&body)["silenceID"].as_str().unwrap().to_string();
    wait_for(
        "Prometheus scrapes the pushed sample",
        Duration::from_secs(60),
        || !samples(prom).is_empty(),
    );
    let before = samples(prom);

    // Backup.
    let archive = p.dir.path().join("b.tar.zst");
    let (code, out, err) = p.stackctl(&["backup", "--out", path_str(&archive)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), path_str(&archive));
    assert!(err.contains("copied live: not paused"), "{err}");
    assert!(
        err.contains("stopped for the copy: unavailable for"),
        "{err}"
    );
    let backed_up = samples(prom);
    assert!(backed_up.len() >= before.len());
    let state = p.state();

    // A corrupted archive: refused, nothing changed.
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let bad = p.dir.path().join("bad.tar.zst");
    std::fs::write(&bad, &bytes).unwrap();
    let (code, _, err) = p.stackctl(&["restore", path_str(&bad), "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("is damaged") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(p.state(), state);

    // The spec pins an older Prometheus major: refused, nothing changed.
    let (repo, version) = &images["prometheus"];
    std::fs::write(
        &spec_path,
        spec.replace(&format!("version: {version}"), "version: v2.42.0"),
    )
    .unwrap();
    let (code, _, err) = p.stackctl(&["restore", path_str(&archive), "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "written by Prometheus {version}, a newer major release than the pinned v2.42.0"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(p.state(), state);
    std::fs::write(&spec_path, &spec).unwrap();
    let _ = repo;

    // Volumes holding data, no --force: refused, nothing changed.
    let (code, _, err) = p.stackctl(&["restore", path_str(&archive)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("holds data") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(p.state(), state);
    assert_eq!(
        http(am, "GET", &format!("/api/v2/silence/{silence_id}"), "").0,
        200
    );

    // down --volumes suggests a backup; up starts empty.
    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("volume(s) that hold data") && err.contains("stackctl backup"),
        "{err}"
    );
    let (code, _, err) = p.stackctl(&["up", "--wait", "2m"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        samples(prom).iter().all(|t| !backed_up.contains(t)),
        "a fresh Prometheus has none of the old samples"
    );
    assert_eq!(
        http(am, "GET", &format!("/api/v2/silence/{silence_id}"), "").0,
        404
    );

    // Restore: every old sample, the silence and the pushed group are back.
    let (code, _, err) = p.stackctl(&["restore", path_str(&archive), "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("every SHA-256 matches"), "{err}");
    assert!(err.contains("restored:"), "{err}");
    let restored = samples(prom);
    for t in &backed_up {
        assert!(restored.contains(t), "sample at {t} is back: {restored:?}");
    }
    let (status, body) = http(am, "GET", &format!("/api/v2/silence/{silence_id}"), "");
    assert_eq!(status, 200, "{body}");
    let restored_silence = json(&body);
    assert_eq!(restored_silence["comment"], "kept across restore");
    assert_eq!(restored_silence["status"]["state"], "active");
    let (_, metrics) = http(pg, "GET", "/metrics", "");
    assert!(
        metrics.contains("bk_e2e_metric{") && metrics.contains("kept=\"yes\""),
        "{metrics}"
    );

    let (code, _, err) = p.stackctl(&["down", "--volumes"]);
    assert_eq!(code, 0, "{err}");
}
