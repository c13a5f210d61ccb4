//! The rendered tree of every profile and example is accepted by its real
//! consumers: `promtool check config` (with its rules), `promtool check rules`,
//! `amtool check-config` and `docker-compose config -q`, in both generations:
//! at the profile's own (current) versions by today's consumers (promtool 3.5,
//! amtool 0.33, Compose v2 from `target/consumers/sid/bin`, fetched by
//! `scripts/fetch-consumers.sh`), and pinned to Prometheus 2.42 / Alertmanager
//! 0.25 by Debian stable's (promtool 2.42, amtool 0.25, Compose 1.29 on PATH).

use crate::common;

use common::{Generation, path_str, require_consumer, run};
use stackctl::model::Stack;
use std::path::Path;
use std::process::Command;

/// Every spec we ship, as (label, text).
fn shipped_specs() -> Vec<(String, String)> {
    common::shipped_specs()
        .into_iter()
        .map(|(label, text, _)| (label, text))
        .collect()
}

/// The spec with Prometheus and Alertmanager pinned to the installed tools'
/// versions, written back through the model (so the edit is typed, not textual).
fn pinned(text: &str) -> String {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let mut stack: Stack = loaded.stack.expect("shipped spec loads");
    if let Some(p) = &mut stack.components.prometheus {
        p.version = Some(stackctl::model::types::Version::parse("v2.42.0").unwrap());
    }
    if let Some(a) = &mut stack.components.alertmanager {
        a.version = Some(stackctl::model::types::Version::parse("v0.25.0").unwrap());
    }
    stackctl::yaml::emit::to_yaml(&serde_json::to_value(&stack).unwrap())
}

fn tool(path: &Path, args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(path)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("tool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn render_spec(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let (code, _, stderr) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{name}: render failed\n{stderr}");
    assert!(!stderr.contains(": error:"), "{name}: {stderr}");
    dir
}

fn check_tree(name: &str, dir: &Path, generation: Generation) -> Vec<String> {
    let require = |tool: &str, why: &str| require_consumer(generation, tool, why);
    let mut failures = Vec::new();
    let mut ran = 0;
    if dir.join("prometheus/prometheus.yml").exists() {
        if let Some(promtool) = require("promtool", "Prometheus config and rules") {
            let (ok, out) = tool(
                &promtool,
                &["check", "config", "prometheus/prometheus.yml"],
                dir,
            );
            if !ok {
                failures.push(format!("{name}: promtool check config\n{out}"));
            }
            let rules: Vec<String> = common::list_files(&dir.join("prometheus/rules"))
                .into_iter()
                .map(|f| format!("prometheus/rules/{f}"))
                .collect();
            if !rules.is_empty() {
                let mut args = vec!["check", "rules"];
                args.extend(rules.iter().map(String::as_str));
                let (ok, out) = tool(&promtool, &args, dir);
                if !ok {
                    failures.push(format!("{name}: promtool check rules\n{out}"));
                }
            }
            ran += 1;
        }
    }
    if dir.join("alertmanager/alertmanager.yml").exists() {
        if let Some(amtool) = require("amtool", "Alertmanager config") {
            let (ok, out) = tool(
                &amtool,
                &["check-config", "alertmanager/alertmanager.yml"],
                dir,
            );
            if !ok {
                failures.push(format!("{name}: amtool check-config\n{out}"));
            }
            ran += 1;
        }
    }
    if let Some(compose) = require("docker-compose", "the Compose file") {
        let (ok, out) = tool(
            &compose,
            &["-f", "docker-compose.monitoring.yml", "config", "-q"],
            dir,
        );
        if !ok {
            failures.push(format!("{name}: docker-compose config -q\n{out}"));
        }
        ran += 1;
    }
    if ran == 0 {
        common::skipped(format_args!(
            "no consumer tool ran for {name} ({})",
            generation.label()
        ));
    }
    failures
}

#[test]
fn shipped_specs_at_their_own_versions_are_accepted_by_todays_consumers() {
    let mut failures = Vec::new();
    for (name, text) in shipped_specs() {
        let dir = render_spec(&name, &text);
        failures.extend(check_tree(&name, dir.path(), Generation::Current));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn shipped_specs_pinned_to_old_versions_are_accepted_by_bookworm_consumers() {
    let mut failures = Vec::new();
    for (name, text) in shipped_specs() {
        let name = format!("{name} (Prometheus 2.42, Alertmanager 0.25)");
        let dir = render_spec(&name, &pinned(&text));
        failures.extend(check_tree(&name, dir.path(), Generation::Bookworm));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_elk_variant_renders_the_elastic_services() {
    let pynomaly = stackctl::profiles::find("pynomaly").unwrap();
    let dir = render_spec("pynomaly ELK", &common::with_elk(pynomaly.text));
    let compose =
        std::fs::read_to_string(dir.path().join("docker-compose.monitoring.yml")).unwrap();
    for service in [
        "elasticsearch:",
        "elasticsearch-setup:",
        "logstash:",
        "kibana:",
        "kibana-setup:",
    ] {
        assert!(
            compose.contains(&format!("\n  {service}\n")),
            "{service} missing"
        );
    }
    assert!(!compose.contains("\n  loki:\n") && !compose.contains("\n  alloy:\n"));
    assert!(
        dir.path()
            .join("logstash/pipeline/pynomaly-logs.conf")
            .exists()
    );
    let datasources = std::fs::read_to_string(
        dir.path()
            .join("grafana/provisioning/datasources/datasources.yaml"),
    )
    .unwrap();
    assert!(
        datasources.contains("type: elasticsearch") && !datasources.contains("type: loki"),
        "{datasources}"
    );
}

#[test]
fn compose_reads_escaped_dollars_back_as_literals() {
    let dir = render_spec(
        "dollars",
        "stackctl: 1\nname: dollars\nsecrets:\n  grafana_admin_password: {generate: true}\n  grafana_secret_key: {generate: true}\ncomponents:\n  grafana:\n    environment:\n      GF_X: \"$HOME ${HOME}\"\n",
    );
    for generation in [Generation::Current, Generation::Bookworm] {
        let Some(compose) = require_consumer(generation, "docker-compose", "Compose `$` escaping")
        else {
            continue;
        };
        let (ok, out) = tool(
            &compose,
            &["-f", "docker-compose.monitoring.yml", "config"],
            dir.path(),
        );
        let who = generation.label();
        assert!(ok, "{who}: {out}");
        assert!(
            out.contains("GF_X: $$HOME $${HOME}") || out.contains("GF_X: $HOME ${HOME}"),
            "{who}: {out}"
        );
        assert!(
            !out.contains("/root"),
            "{who}: compose interpolated $HOME: {out}"
        );
    }
}
