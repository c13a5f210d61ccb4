//! Benchmark of `stackctl verify` (run by scripts/bench-verify.sh): the wall
//! time of one verify of the pynomaly check set against fake services that
//! each answer with a realistic delay, versus the sum of the individual probe
//! times (what probing one after another would cost), versus the reference
//! guide's own method (`sleep 30`, then `curl` three endpoints in turn).
//!
//! Usage: cargo bench --bench verify -- [--quick] [--runs N] [--spec FILE]

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::Value;
use stackctl::model::Kind;
use std::process::Command;
use std::time::{Duration, Instant};

/// Per-service answer latency: API servers that query storage are slower
/// than exporters; Elasticsearch-backed and Grafana calls the slowest.
fn delay(kind: Kind) -> Duration {
    Duration::from_millis(match kind {
        Kind::Prometheus => 40,
        Kind::Alertmanager => 20,
        Kind::Grafana => 60,
        Kind::Loki => 50,
        Kind::Jaeger => 40,
        Kind::NodeExporter | Kind::Cadvisor => 45,
        Kind::Elasticsearch | Kind::Kibana => 80,
        _ => 25,
    })
}

fn stackctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .output()
        .expect("stackctl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` (CI) does
    // not: there this runs once as a smoke test that must pass, and no
    // figure is a test target.
    let bench = args.iter().any(|a| a == "--bench");
    let quick = !bench || args.iter().any(|a| a == "--quick");
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if bench { 5 } else { 1 });
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path().to_str().expect("utf-8 path");
    let spec = args
        .iter()
        .position(|a| a == "--spec")
        .and_then(|i| args.get(i + 1));
    let source = match spec {
        Some(file) => {
            std::fs::copy(file, dir.path().join("stack.yaml")).expect("copy --spec file");
            format!("{file} (--spec)")
        }
        None => {
            let (code, _, err) = stackctl(&["init", "--profile", "pynomaly", "--dir", d]);
            assert_eq!(code, 0, "init --profile pynomaly failed: {err}");
            "the `pynomaly` profile".to_string()
        }
    };
    let (code, _, err) = stackctl(&["render", "--dir", d]);
    assert_eq!(code, 0, "render failed: {err}");
    // Fill the notifier credentials `init` leaves empty: verify fails a
    // "cannot deliver" check for each empty one, which is not what this
    // benchmark measures.
    if let Ok(entries) = std::fs::read_dir(dir.path().join("secrets")) {
        for entry in entries.flatten() {
            if entry.metadata().is_ok_and(|m| m.len() == 0) {
                std::fs::write(entry.path(), "bench-credential").expect("fill credential");
            }
        }
    }
    let fake = support::fakes::FakeStack::start(dir.path(), &delay);
    let urls = fake.args();

    println!("check set: {source}");
    for deep in [false, true] {
        let mut walls = Vec::new();
        let mut last: Value = Value::Null;
        for _ in 0..runs {
            let mut a: Vec<&str> = vec!["verify", "--dir", d, "--format", "json"];
            if deep {
                a.push("--deep");
            }
            a.extend(urls.iter().map(String::as_str));
            let started = Instant::now();
            let (code, out, err) = stackctl(&a);
            walls.push(started.elapsed());
            last = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
            if code != 0 {
                assert!(bench, "verify failed against the fakes:\n{out}\n{err}");
                eprintln!("warning: verify failed against the fakes:\n{out}");
            }
        }
        walls.sort();
        let median = walls[walls.len() / 2];
        // Checks of one probe share its calls: count each probe once.
        let mut probes: std::collections::BTreeMap<u64, f64> = std::collections::BTreeMap::new();
        for c in last["checks"].as_array().into_iter().flatten() {
            probes.insert(
                c["probe"].as_u64().unwrap_or(0),
                c["elapsed_ms"].as_f64().unwrap_or(0.0),
            );
        }
        let sum: f64 = probes.values().sum();
        let slowest = probes.values().cloned().fold(0.0, f64::max);
        println!(
            "verify{}: {} checks in {} probes; wall {:.0} ms (median of {runs}, process start included); in-process {:.0} ms; slowest probe {:.0} ms; sum of probes {:.0} ms ({:.1}x the wall time)",
            if deep { " --deep" } else { "" },
            last["checks"].as_array().map_or(0, Vec::len),
            probes.len(),
            median.as_secs_f64() * 1000.0,
            last["elapsed_ms"].as_f64().unwrap_or(0.0),
            slowest,
            sum,
            sum / (median.as_secs_f64() * 1000.0)
        );
    }

    // The guide: `sleep 30`, then curl Prometheus, Grafana and Alertmanager in turn.
    let url = |service: &str, port: &str| {
        fake.urls
            .iter()
            .find_map(|u| u.strip_prefix(&format!("{service}.{port}=")))
            .expect("fake url")
            .to_string()
    };
    let endpoints = [
        format!("{}/-/healthy", url("prometheus", "web")),
        format!("{}/api/health", url("grafana", "web")),
        format!("{}/-/healthy", url("alertmanager", "web")),
    ];
    let started = Instant::now();
    if !quick {
        std::thread::sleep(Duration::from_secs(30));
    }
    let curls = Instant::now();
    for e in &endpoints {
        let ok = Command::new("curl")
            .args(["-fsS", "-o", "/dev/null", e])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "curl {e} failed");
    }
    let curl_ms = curls.elapsed().as_secs_f64() * 1000.0;
    let total = if quick {
        30_000.0 + curl_ms
    } else {
        started.elapsed().as_secs_f64() * 1000.0
    };
    println!(
        "reference guide method: sleep 30 + 3 sequential curls = {total:.0} ms{} (the curls alone {curl_ms:.0} ms), checking 3 endpoints",
        if quick {
            " (sleep not waited, --quick)"
        } else {
            ""
        }
    );
}
