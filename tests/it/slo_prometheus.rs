//! An SLO's rules in a real `prometheus` process of both generations (Debian
//! 2.42 and 3.5): six hours of request counters ending now are written as
//! TSDB blocks with `promtool tsdb create-blocks-from openmetrics`, the server
//! starts on them with the rule file `render` wrote, and its `/api/v1/alerts`
//! answers whether the page alert fires. A 2% error ratio for 50 minutes
//! (20× a 99.9% SLO's budget) pages, as the workbook's 1h/14.4× condition is
//! met after about 43 minutes; for 35 minutes it does not yet; a healthy
//! 0.05% never alerts.
//!
//! Only the page is asserted: the day-long windows are derived from recorded
//! rates, which a freshly started server has only just begun to record
//! (`tests/slo_rules.rs` covers tickets under promtool).

use crate::common;

use common::Generation;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SPEC: &str = r#"stackctl: 1
name: slo-prometheus
components:
  prometheus:
    version: v3.14.0
    retention_time: 30d
scrape_jobs:
  - name: api
    targets: [localhost:8000]
slos:
  - name: availability
    service: api
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="api",code=~"5.."}
        total: http_requests_total{job="api"}
"#;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Six hours of counters at one sample a minute, the last at `now`:
/// 0.05% errors, and `burn` (errors per 100 requests) for the last `minutes`.
fn openmetrics(now: u64, burn: f64, minutes: u64) -> String {
    let start = now - 6 * 3600;
    let (mut errors, mut ok) = (0.0, 0.0);
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for m in 0..=360u64 {
        let ts = start + m * 60;
        let rate = if ts > now - minutes * 60 { burn } else { 0.05 };
        errors += rate;
        ok += 100.0 - rate;
        bad.push(format!(
            "http_requests_total{{job=\"api\",code=\"500\"}} {errors} {ts}"
        ));
        good.push(format!(
            "http_requests_total{{job=\"api\",code=\"200\"}} {ok} {ts}"
        ));
    }
    format!(
        "# TYPE http_requests_total counter\n{}\n{}\n# EOF\n",
        bad.join("\n"),
        good.join("\n")
    )
}

fn get(port: u16, path: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-fsS", &format!("http://127.0.0.1:{port}{path}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The severities of the SLO alerts firing once the rules have run.
fn firing(prometheus: &Path, promtool: &Path, rules: &str, burn: f64, minutes: u64) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
        * 60;
    std::fs::write(dir.path().join("data.om"), openmetrics(now, burn, minutes)).unwrap();
    let out = Command::new(promtool)
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "data.om",
            "tsdb",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.path().join("slo.yml"), rules).unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [slo.yml]\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Killed(
        Command::new(prometheus)
            .current_dir(dir.path())
            .args([
                "--config.file=prometheus.yml",
                "--storage.tsdb.path=tsdb",
                &format!("--web.listen-address=127.0.0.1:{port}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until the alert group has been evaluated (its health is `ok`).
    let mut evaluated = false;
    for _ in 0..300 {
        if let Some(rules) = get(port, "/api/v1/rules?type=alert") {
            let v: serde_json::Value = serde_json::from_str(&rules).unwrap();
            let groups = v["data"]["groups"].as_array().cloned().unwrap_or_default();
            if groups.iter().any(|g| {
                g["lastEvaluation"]
                    .as_str()
                    .is_some_and(|t| !t.starts_with("0001"))
            }) {
                evaluated = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(evaluated, "prometheus never evaluated the SLO alerts");
    // Two more evaluations, so the recorded ratios the alerts read exist.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let alerts: serde_json::Value =
        serde_json::from_str(&get(port, "/api/v1/alerts").expect("alerts")).unwrap();
    let mut out: Vec<String> = alerts["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["state"] == "firing" && a["labels"]["alertname"] == "ApiAvailabilityBudgetBurn"
        })
        .map(|a| a["labels"]["slo_severity"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn a_fast_burn_pages_in_a_real_prometheus_of_both_generations() {
    let loaded = stackctl::load::load_text("stack.yaml", SPEC.to_string());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let deployment = stackctl::plan::plan(
        &stackctl::resolve::Resolved::from_loaded(&loaded).unwrap(),
        &Default::default(),
    );
    let rules = &deployment.files["prometheus/rules/slo-api-availability.yml"];
    for generation in [Generation::Bookworm, Generation::Current] {
        let why = "SLO alerts in a real Prometheus";
        let (Some(prometheus), Some(promtool)) = (
            common::require_consumer(generation, "prometheus", why),
            common::require_consumer(generation, "promtool", why),
        ) else {
            continue;
        };
        let label = generation.label();
        let fast = firing(&prometheus, &promtool, rules, 2.0, 50);
        assert!(fast.contains(&"page".to_string()), "{label}: {fast:?}");
        let early = firing(&prometheus, &promtool, rules, 2.0, 35);
        assert!(!early.contains(&"page".to_string()), "{label}: {early:?}");
        let healthy = firing(&prometheus, &promtool, rules, 0.05, 0);
        assert!(healthy.is_empty(), "{label}: {healthy:?}");
        eprintln!(
            "{label}: 50 minutes of 2% errors page ({fast:?}); 35 minutes do not ({early:?}); 0.05% raises nothing"
        );
    }
}
