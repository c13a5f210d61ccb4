//! `stackctl import` of a hand-written, dockprom-style monitoring folder
//! (fixtures written here): inline credentials end up in secrets only,
//! deprecated keys are modernised, and what cannot be expressed is reported
//! with its file and line.

use stackctl::import::report::Outcome;

const COMPOSE: &str = "version: '3.8'
services:
  prometheus:
    image: prom/prometheus:latest
    command:
      - '--config.file=/etc/prometheus/prometheus.yml'
      - '--storage.tsdb.path=/prometheus'
      - '--web.console.libraries=/etc/prometheus/console_libraries'
      - '--storage.tsdb.retention.time=200h'
      - '--web.enable-lifecycle'
    volumes:
      - ./prometheus:/etc/prometheus
      - prometheus_data:/prometheus
    ports:
      - 9090:9090
  grafana:
    image: grafana/grafana:10.4.2
    environment:
      - GF_SECURITY_ADMIN_USER=admin
      - GF_SECURITY_ADMIN_PASSWORD=hunter2-grafana
      - GF_USERS_ALLOW_SIGN_UP=false
    ports:
      - 3000:3000
  nodeexporter:
    image: prom/node-exporter:v1.8.2
    ports:
      - 9100:9100
  myapp:
    image: example/app:1.0
volumes:
  prometheus_data: {}
";

const PROMETHEUS: &str = "global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - alert.rules
scrape_configs:
  - job_name: nodeexporter
    scrape_interval: 5s
    static_configs:
      - targets: ['nodeexporter:9100']
  - job_name: prometheus
    static_configs:
      - targets: ['localhost:9090']
  - job_name: app
    basic_auth:
      username: scraper
      password: s3cret-basic
    consul_sd_configs:
      - server: consul:8500
    static_configs:
      - targets: ['app.example.com:8080']
";

const RULES: &str = "groups:
- name: targets
  rules:
  - alert: monitor_service_down
    expr: up == 0
    for: 30s
    labels:
      severity: critical
";

const ALERTMANAGER: &str = "global:
  slack_api_url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
route:
  receiver: slack
  routes:
    - match:
        severity: critical
      receiver: slack
inhibit_rules:
  - source_match:
      severity: critical
    target_match:
      severity: warning
    equal: [alertname]
receivers:
  - name: slack
    slack_configs:
      - channel: '#alerts'
        send_resolved: true
  - name: ops
    opsgenie_configs:
      - api_key: og-key
templates:
  - /etc/alertmanager/templates/*.tmpl
";

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("docker-compose.yml", COMPOSE);
    write("prometheus/prometheus.yml", PROMETHEUS);
    write("prometheus/alert.rules.yml", RULES);
    write("alertmanager/config.yml", ALERTMANAGER);
    dir
}

fn find<'a>(
    notes: &'a [stackctl::import::report::Note],
    outcome: Outcome,
    file: &str,
    needle: &str,
) -> &'a stackctl::import::report::Note {
    notes
        .iter()
        .find(|n| n.outcome == outcome && n.file == file && n.text.contains(needle))
        .unwrap_or_else(|| panic!("no {outcome:?} note in {file} about `{needle}`:\n{notes:#?}"))
}

#[test]
fn dockprom_style_folder_imports_with_secrets_moved_and_a_positioned_report() {
    let dir = folder();
    // `rule_files: alert.rules` names a file without `.yml`; this fixture's file has it, so it is reported.
    let imported = stackctl::import::import_dir(dir.path(), &Default::default()).unwrap();
    let yaml = &imported.stack_yaml;
    for secret in ["hunter2-grafana", "s3cret-basic", "XXXXSECRET"] {
        assert!(
            !yaml.contains(secret),
            "`{secret}` leaked into stack.yaml:\n{yaml}"
        );
        assert!(
            imported.secrets.values().any(|v| v.contains(secret)),
            "`{secret}` not kept in a secret"
        );
    }
    let notes = &imported.report.notes;
    // Modernised, each with its position.
    assert_eq!(
        find(
            notes,
            Outcome::Modernised,
            "docker-compose.yml",
            "not pinned"
        )
        .line,
        4
    );
    assert_eq!(
        find(
            notes,
            Outcome::Modernised,
            "docker-compose.yml",
            "--web.console.libraries"
        )
        .line,
        8
    );
    assert_eq!(
        find(
            notes,
            Outcome::Modernised,
            "alertmanager/config.yml",
            "`match`"
        )
        .line,
        7
    );
    assert_eq!(
        find(
            notes,
            Outcome::Modernised,
            "alertmanager/config.yml",
            "`source_match`"
        )
        .line,
        11
    );
    find(
        notes,
        Outcome::Modernised,
        "prometheus/prometheus.yml",
        "built-in job",
    );
    // Not expressible, each with its position.
    assert_eq!(
        find(notes, Outcome::NotExpressed, "docker-compose.yml", "myapp").line,
        29
    );
    assert_eq!(
        find(
            notes,
            Outcome::NotExpressed,
            "prometheus/prometheus.yml",
            "consul_sd_configs"
        )
        .line,
        18
    );
    assert_eq!(
        find(
            notes,
            Outcome::NotExpressed,
            "alertmanager/config.yml",
            "opsgenie_configs"
        )
        .line,
        21
    );
    assert_eq!(
        find(
            notes,
            Outcome::NotExpressed,
            "alertmanager/config.yml",
            "templates"
        )
        .line,
        24
    );
    // The spec loads and validates, and says where things came from.
    let loaded = stackctl::load::load_text("stack.yaml", yaml.clone());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{yaml}");
    let stack = loaded.stack.unwrap();
    assert!(yaml.contains("# from docker-compose.yml:4"), "{yaml}");
    let p = stack.components.prometheus.as_ref().unwrap();
    assert_eq!(p.retention_time.as_ref().unwrap().as_str(), "200h");
    assert_eq!(p.enable_lifecycle, Some(true));
    assert_eq!(
        stack
            .components
            .node_exporter
            .as_ref()
            .unwrap()
            .scrape_interval
            .as_ref()
            .unwrap()
            .as_str(),
        "5s"
    );
    let am = stack.alerting.as_ref().unwrap();
    assert_eq!(
        am.route.routes[0].matchers[0].to_alertmanager(),
        "severity=\"critical\""
    );
    assert_eq!(
        am.inhibit_rules[0].source_matchers[0].to_alertmanager(),
        "severity=\"critical\""
    );
    assert!(stack.secrets.contains_key("slack_webhook_url"));
}

/// A hand-written Alloy config: its file and Docker sources become
/// `logs.sources`; what stackctl's Alloy config does not have (another
/// component, a drop stage, a custom relabel rule) is reported with its line.
#[test]
fn alloy_config_is_read_back_and_what_it_cannot_express_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("alloy")).unwrap();
    let alloy = r#"local.file_match "app" {
  path_targets = [{ __path__ = "/var/log/app/*.log", job = "app", env = "prod" }]
}
loki.source.file "app" {
  targets    = local.file_match.app.targets
  forward_to = [loki.process.app.receiver]
}
loki.process "app" {
  forward_to = [loki.write.default.receiver]
  stage.json {
    expressions = { level = "lvl" }
  }
  stage.drop {
    expression = ".*debug.*"
  }
  stage.labels {
    values = { level = "" }
  }
}
discovery.docker "c" {
  host = "unix:///var/run/docker.sock"
}
discovery.relabel "c" {
  targets = discovery.docker.c.targets
  rule {
    source_labels = ["__meta_docker_container_label_team"]
    target_label  = "team"
  }
}
loki.source.docker "c" {
  host       = "unix:///var/run/docker.sock"
  targets    = discovery.relabel.c.output
  labels     = { job = "containers" }
  forward_to = [loki.write.default.receiver]
}
prometheus.scrape "x" {
  targets    = [{ __address__ = "a:1" }]
  forward_to = []
}
loki.write "default" {
  endpoint {
    url = "http://loki:3100/loki/api/v1/push"
  }
}
"#;
    std::fs::write(dir.path().join("alloy/config.alloy"), alloy).unwrap();
    let imported = stackctl::import::import_dir(dir.path(), &Default::default()).unwrap();
    let sources = &imported.spec["logs"]["sources"];
    assert_eq!(
        sources,
        &serde_json::json!([
            {"name": "app", "paths": ["/var/log/app/*.log"], "labels": {"env": "prod"},
             "pipeline": [{"json": {"expressions": {"level": "lvl"}}}, {"labels": {"level": null}}]},
            {"name": "containers", "docker": true, "include_stack": true},
        ]),
        "{}",
        imported.stack_yaml
    );
    let notes = &imported.report.notes;
    let f = "alloy/config.alloy";
    assert_eq!(find(notes, Outcome::NotExpressed, f, "stage.drop").line, 13);
    assert_eq!(
        find(
            notes,
            Outcome::NotExpressed,
            f,
            "__meta_docker_container_label_team"
        )
        .line,
        25
    );
    assert_eq!(
        find(notes, Outcome::NotExpressed, f, "prometheus.scrape").line,
        36
    );
    // The imported spec renders, and the file differs from stackctl's: said so.
    find(
        notes,
        Outcome::NotExpressed,
        f,
        "renders `alloy/config.alloy` differently",
    );
}
