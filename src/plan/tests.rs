//! Version-aware output: the same spec pinned to different releases renders
//! what each release accepts.

use super::*;

fn plan_of(yaml: &str) -> Deployment {
    let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    plan(&loaded.stack.unwrap(), &Inputs::default())
}

fn spec(components: &str) -> String {
    format!(
        "stackctl: 1\nname: t\nsecrets:\n  grafana_admin_password: {{}}\n  grafana_secret_key: {{}}\ncomponents:\n{components}"
    )
}

fn command(d: &Deployment, service: &str) -> Vec<String> {
    d.service(service).unwrap().command.clone()
}

#[test]
fn node_exporter_flags_follow_the_rename_in_1_2() {
    let old = plan_of(&spec("  node_exporter:\n    version: v1.1.2\n"));
    assert!(
        command(&old, "node-exporter")
            .iter()
            .any(|a| a.starts_with("--collector.filesystem.ignored-mount-points="))
    );
    let new = plan_of(&spec("  node_exporter: {}\n"));
    let args = command(&new, "node-exporter");
    assert!(args.contains(
        &"--collector.filesystem.mount-points-exclude=^/(sys|proc|dev|host|etc)($|/)".to_string()
    ));
    assert!(!args.iter().any(|a| a.contains("ignored-mount-points")));
}

#[test]
fn nginx_exporter_flags_got_double_dashes_in_1_0() {
    let old = plan_of(&spec(
        "  nginx_exporter:\n    version: 0.11.0\n    scrape_uri: http://nginx/stub\n",
    ));
    assert_eq!(
        command(&old, "nginx-exporter"),
        vec!["-nginx.scrape-uri=http://nginx/stub"]
    );
    let new = plan_of(&spec(
        "  nginx_exporter:\n    scrape_uri: http://nginx/stub\n",
    ));
    assert_eq!(
        command(&new, "nginx-exporter"),
        vec!["--nginx.scrape-uri=http://nginx/stub"]
    );
}

#[test]
fn prometheus_3_external_labels_escape_dollars() {
    let labels = "    external_labels:\n      note: a$b\n";
    let v2 = plan_of(&spec(&format!(
        "  prometheus:\n    version: v2.42.0\n{labels}"
    )));
    assert!(v2.files["prometheus/prometheus.yml"].contains("note: a$b\n"));
    let v3 = plan_of(&spec(&format!("  prometheus:\n{labels}")));
    assert!(v3.files["prometheus/prometheus.yml"].contains("note: a$$b\n"));
}

#[test]
fn prometheus_has_no_removed_or_unsafe_flags() {
    let d = plan_of(&spec(
        "  prometheus:\n    retention_time: 30d\n    retention_size: 50GB\n",
    ));
    let args = command(&d, "prometheus");
    assert!(args.contains(&"--storage.tsdb.retention.time=30d".to_string()));
    assert!(args.contains(&"--storage.tsdb.retention.size=50GB".to_string()));
    for banned in [
        "--storage.tsdb.retention=",
        "--web.console",
        "--web.enable-admin-api",
        "--web.enable-lifecycle",
    ] {
        assert!(
            !args.iter().any(|a| a.starts_with(banned)),
            "{banned} in {args:?}"
        );
    }
    let d = plan_of(&spec("  prometheus:\n    enable_lifecycle: true\n"));
    assert!(command(&d, "prometheus").contains(&"--web.enable-lifecycle".to_string()));
}

#[test]
fn distroless_prometheus_is_checked_with_promtool() {
    let d = plan_of(&spec("  prometheus:\n    version: v3.14.0-distroless\n"));
    let h = d
        .service("prometheus")
        .unwrap()
        .healthcheck
        .clone()
        .unwrap();
    assert_eq!(h.test, vec!["/bin/promtool", "check", "ready"]);
}

#[test]
fn loki_from_3_6_has_no_shell_for_a_healthcheck() {
    let old = plan_of(&spec("  loki:\n    version: 3.5.8\n"));
    assert!(old.service("loki").unwrap().healthcheck.is_some());
    let new = plan_of(&spec("  loki: {}\n"));
    let loki = new.service("loki").unwrap();
    assert!(loki.healthcheck.is_none());
    assert_eq!(
        loki.ready,
        Some(HttpCheck {
            container_port: 3100,
            path: "/ready".into()
        })
    );
}

#[test]
fn loki_3_config_has_no_removed_keys() {
    let d = plan_of(&spec("  loki:\n    retention_period: 744h\n"));
    let config = &d.files["loki/loki.yml"];
    for removed in [
        "shared_store",
        "max_transfer_retries",
        "max_look_back_period",
        "boltdb",
        "table_manager",
        "enforce_metric_name",
    ] {
        assert!(!config.contains(removed), "{removed} in loki config");
    }
    for needed in [
        "store: tsdb",
        "schema: v13",
        "delete_request_store: filesystem",
        "retention_period: 744h",
    ] {
        assert!(config.contains(needed), "{needed} missing");
    }
}

#[test]
fn grafana_plugins_and_pruning_follow_the_version() {
    let old = plan_of(&spec(
        "  grafana:\n    version: 11.0.0\n    plugins: [grafana-clock-panel]\n",
    ));
    let g = old.service("grafana").unwrap();
    assert_eq!(
        g.environment.get("GF_INSTALL_PLUGINS").map(String::as_str),
        Some("grafana-clock-panel")
    );
    assert!(!old.files[grafana::DATASOURCES].contains("prune"));
    let new = plan_of(&spec("  grafana:\n    plugins: [grafana-clock-panel]\n"));
    let g = new.service("grafana").unwrap();
    assert_eq!(
        g.environment
            .get("GF_PLUGINS_PREINSTALL_SYNC")
            .map(String::as_str),
        Some("grafana-clock-panel")
    );
    assert!(new.files[grafana::DATASOURCES].contains("prune: true"));
    for off in [
        "GF_USERS_ALLOW_SIGN_UP",
        "GF_AUTH_ANONYMOUS_ENABLED",
        "GF_ANALYTICS_REPORTING_ENABLED",
        "GF_ANALYTICS_CHECK_FOR_UPDATES",
    ] {
        assert_eq!(
            g.environment.get(off).map(String::as_str),
            Some("false"),
            "{off}"
        );
    }
}

#[test]
fn icmp_probing_gets_raw_sockets() {
    let d = plan_of(&spec("  blackbox_exporter: {}\n"));
    assert_eq!(
        d.service("blackbox-exporter").unwrap().cap_add,
        vec!["NET_RAW"]
    );
    let d = plan_of(&spec(
        "  blackbox_exporter:\n    modules:\n      web:\n        prober: http\n",
    ));
    assert!(d.service("blackbox-exporter").unwrap().cap_add.is_empty());
}

#[test]
fn every_long_running_service_can_be_checked_and_publishes_on_loopback() {
    let all = spec(
        "  prometheus: {}\n  alertmanager: {}\n  grafana: {}\n  loki: {}\n  alloy: {}\n  jaeger: {}\n  node_exporter: {}\n  cadvisor: {}\n  blackbox_exporter: {}\n  postgres_exporter:\n    host: db\n  redis_exporter: {}\n  nginx_exporter: {}\n  pushgateway: {}\n  elasticsearch: {}\n  logstash:\n    pipelines:\n      app:\n        index: app-logs\n        inputs: {beats: 5044}\n  kibana: {}\nlogs:\n  sources:\n    - name: docker\n      docker: true\nalerting:\n  route: {receiver: x}\n  receivers: [{name: x}]\n",
    )
    .replace(
        "secrets:\n",
        "secrets:\n  elastic_password: {}\n  kibana_system_password: {}\n",
    );
    let d = plan_of(&all);
    for s in d.services.iter().filter(|s| !s.one_shot) {
        assert!(
            s.healthcheck.is_some() || s.ready.is_some(),
            "{} cannot be checked",
            s.name
        );
        for p in &s.ports {
            assert_eq!(p.host_ip, "127.0.0.1", "{}", s.name);
        }
        assert!(!s.image.ends_with(":latest"), "{}", s.image);
    }
    // Every generated config directory is mounted read-only.
    for s in &d.services {
        for m in &s.mounts {
            if let MountSource::Generated(_) = m.source {
                assert!(m.read_only, "{} mounts config writable", s.name);
            }
        }
    }
}

#[test]
fn grafana_plugin_auto_update_is_off_where_grafana_has_the_setting() {
    let env = |version: &str| {
        plan_of(&spec(&format!("  grafana:\n    version: {version}\n")))
            .service("grafana")
            .unwrap()
            .environment
            .get("GF_PLUGINS_PREINSTALL_AUTO_UPDATE")
            .cloned()
    };
    assert_eq!(env("13.2.0").as_deref(), Some("false"));
    assert_eq!(env("12.3.0").as_deref(), Some("false"));
    // Before 12.3 it was a feature toggle, not this setting.
    assert_eq!(env("12.2.0"), None);
}

#[test]
fn postgres_exporter_healthcheck_does_not_query_the_database() {
    let d = plan_of(&spec("  postgres_exporter:\n    host: db\n"));
    let check = d
        .service("postgres-exporter")
        .unwrap()
        .healthcheck
        .clone()
        .unwrap();
    let url = check.test.last().unwrap();
    // `/metrics` runs every collector's queries against PostgreSQL; the
    // landing page answers without touching it.
    assert!(!url.ends_with("/metrics"), "{url}");
    assert_eq!(url, "http://localhost:9187/");
}
