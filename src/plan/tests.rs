//! Version-aware output: the same spec pinned to different releases renders
//! what each release accepts.

use super::*;

fn plan_of(yaml: &str) -> Deployment {
    let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    plan(
        &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
        &Inputs::default(),
    )
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
        &format!("secrets:\n{ELASTIC_SECRETS}"),
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

/// Every secret a full ELK stack with Grafana and Jaeger on it reads.
const ELASTIC_SECRETS: &str = "  elastic_password: {}\n  kibana_system_password: {}\n  elasticsearch_grafana_password: {}\n  elasticsearch_logstash_password: {}\n  elasticsearch_jaeger_password: {}\n  kibana_encryption_key: {generate: true}\n";

/// ELK with two Logstash pipelines, Kibana, Grafana, and Jaeger on Elasticsearch.
fn elk() -> Deployment {
    plan_of(
        &spec(
            "  grafana: {}\n  jaeger:\n    storage: elasticsearch\n    span_retention: 3d\n  elasticsearch: {}\n  kibana: {}\n  logstash:\n    pipelines:\n      app:\n        index: app-logs-%{+YYYY.MM.dd}\n        inputs: {tcp: 5000}\n        categorize: true\n      audit:\n        index: audit-%{+YYYY.MM}\n        inputs: {http: 8080}\n        parse_json: false\n",
        )
        .replace("secrets:\n", &format!("secrets:\n{ELASTIC_SECRETS}")),
    )
}

/// A rendered YAML file as JSON, read by saphyr (a YAML 1.2 reader).
fn yaml(text: &str) -> serde_json::Value {
    use saphyr::{LoadableYamlNode, Scalar, Yaml};
    fn conv(y: &Yaml) -> serde_json::Value {
        match y {
            Yaml::Value(Scalar::String(s)) => serde_json::json!(s.to_string()),
            Yaml::Value(Scalar::Integer(i)) => serde_json::json!(i),
            Yaml::Value(Scalar::FloatingPoint(f)) => serde_json::json!(f.into_inner()),
            Yaml::Value(Scalar::Boolean(b)) => serde_json::json!(b),
            Yaml::Sequence(items) => items.iter().map(conv).collect(),
            Yaml::Mapping(m) => m
                .iter()
                .map(|(k, v)| (conv(k).as_str().unwrap_or_default().to_string(), conv(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            _ => serde_json::Value::Null,
        }
    }
    conv(&Yaml::load_from_str(text).expect("rendered YAML parses")[0])
}

#[test]
fn jaeger_badger_volume_is_handed_to_the_image_user_before_jaeger_starts() {
    let d = plan_of(&spec("  jaeger:\n    storage: badger\n"));
    let jaeger = d.service("jaeger").unwrap();
    assert_eq!(jaeger.uid, 10001);
    let volume = jaeger
        .mounts
        .iter()
        .find(|m| m.target == "/badger")
        .expect("the badger volume");
    let MountSource::Volume(name) = &volume.source else {
        panic!("badger data is a named volume");
    };
    let job = d
        .service(secrets::INIT_SERVICE)
        .expect("a job prepares the volume even without secrets");
    assert_eq!(job.user.as_deref(), Some("0"));
    assert!(
        job.command.contains(&format!("+{name}:10001")),
        "{:?}",
        job.command
    );
    assert!(
        job.mounts.iter().any(|m| m.source == volume.source
            && m.target == format!("/out/{name}")
            && !m.read_only)
    );
    assert!(
        jaeger
            .depends_on
            .iter()
            .any(|dep| dep.service == secrets::INIT_SERVICE
                && dep.condition == Condition::CompletedSuccessfully)
    );
    // Memory storage has no volume to prepare.
    assert!(
        plan_of(&spec("  jaeger: {}\n"))
            .service(secrets::INIT_SERVICE)
            .is_none()
    );
}

#[test]
fn logstash_runs_each_pipeline_separately() {
    let d = elk();
    let list = yaml(&d.files[elastic::PIPELINES_YML]);
    assert_eq!(
        list,
        serde_json::json!([
            {"pipeline.id": "app", "path.config": "/usr/share/logstash/pipeline/app.conf"},
            {"pipeline.id": "audit", "path.config": "/usr/share/logstash/pipeline/audit.conf"},
        ])
    );
    let logstash = d.service("logstash").unwrap();
    assert!(logstash.mounts.contains(&Mount {
        source: MountSource::Generated(elastic::PIPELINES_YML.into()),
        target: "/usr/share/logstash/config/pipelines.yml".into(),
        read_only: true,
    }));
    // Each file holds only its own filters and its own index.
    let app = &d.files["logstash/pipeline/app.conf"];
    let audit = &d.files["logstash/pipeline/audit.conf"];
    assert!(app.contains("add_tag => [\"error\"]") && app.contains("\"app-logs-%{+YYYY.MM.dd}\""));
    assert!(!app.contains("audit-"));
    assert!(!audit.contains("add_tag") && !audit.contains("json {"));
    assert!(audit.contains("\"audit-%{+YYYY.MM}\"") && !audit.contains("app-logs"));
}

#[test]
fn only_the_setup_job_logs_in_as_elastic() {
    let d = elk();
    let setup = &d.files["elasticsearch/setup/setup.sh"];
    for (user, role) in [
        ("stackctl_grafana", "stackctl_grafana_reader"),
        ("stackctl_logstash", "stackctl_logstash_writer"),
        ("stackctl_jaeger", "stackctl_jaeger_writer"),
    ] {
        assert!(
            setup.contains(&format!("/_security/user/{user}\"")),
            "{user}"
        );
        assert!(
            setup.contains(&format!("/_security/role/{role}\"")),
            "{role}"
        );
    }
    // Grafana reads the log indices only; Logstash writes its pipelines' ones.
    assert!(setup.contains(r#"{"cluster":["monitor"],"indices":[{"names":["app-logs-*"],"privileges":["read","view_index_metadata"]}]}"#), "{setup}");
    assert!(setup.contains(r#""names":["app-logs-*","audit-*"],"privileges":["write","create","create_index","manage","manage_ilm"]"#), "{setup}");
    let job = d.service(elastic::SETUP_SERVICE).unwrap();
    for secret in [
        "elasticsearch_grafana_password",
        "elasticsearch_logstash_password",
        "elasticsearch_jaeger_password",
    ] {
        assert!(job.secrets.contains(&secret.to_string()), "{secret}");
    }

    let datasources = yaml(&d.files[grafana::DATASOURCES]);
    let es = datasources["datasources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ds| ds["type"] == "elasticsearch")
        .unwrap();
    assert_eq!(es["basicAuthUser"], "stackctl_grafana");
    assert_eq!(
        es["secureJsonData"]["basicAuthPassword"],
        "$__file{/run/secrets/elasticsearch_grafana_password}"
    );
    assert!(d.files["logstash/pipeline/app.conf"].contains("user => \"stackctl_logstash\""));
    let logstash = d.service("logstash").unwrap();
    assert_eq!(logstash.secrets, ["elasticsearch_logstash_password"]);
    let jaeger = yaml(&d.files[jaeger::CONFIG]);
    let auth = &jaeger["extensions"]["jaeger_storage"]["backends"]["main_store"]["elasticsearch"]["auth"]
        ["basic"];
    assert_eq!(auth["username"], "stackctl_jaeger");
    assert_eq!(
        auth["password_file"],
        "/run/secrets/elasticsearch_jaeger_password"
    );
    for name in ["logstash", "jaeger"] {
        assert!(
            d.service(name)
                .unwrap()
                .depends_on
                .iter()
                .any(|dep| dep.service == elastic::SETUP_SERVICE
                    && dep.condition == Condition::CompletedSuccessfully),
            "{name}"
        );
    }
    // Nothing but Elasticsearch itself and the setup jobs holds `elastic`'s password.
    for s in &d.services {
        if s.secrets.contains(&"elastic_password".to_string()) {
            assert!(
                [
                    "elasticsearch",
                    "elasticsearch-setup",
                    "kibana-setup",
                    "secrets-init"
                ]
                .contains(&s.name.as_str()),
                "{} reads the superuser password",
                s.name
            );
        }
    }
}

#[test]
fn jaeger_span_indices_have_no_replica_on_one_node() {
    let d = elk();
    let jaeger = yaml(&d.files[jaeger::CONFIG]);
    let indices = &jaeger["extensions"]["jaeger_storage"]["backends"]["main_store"]["elasticsearch"]
        ["indices"];
    for kind in ["spans", "services", "dependencies", "sampling"] {
        assert_eq!(indices[kind]["replicas"], 0, "{kind}");
    }
}

#[test]
fn kibana_gets_a_fixed_saved_objects_encryption_key() {
    let d = elk();
    let kibana = d.service("kibana").unwrap();
    assert!(
        kibana
            .secrets
            .contains(&"kibana_encryption_key".to_string())
    );
    let entrypoint = kibana.entrypoint.as_ref().unwrap().join(" ");
    assert!(
        entrypoint.contains("export XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY=\"$(cat /run/secrets/kibana_encryption_key)\""),
        "{entrypoint}"
    );
}

#[test]
fn alloy_reads_docker_logs_through_discovery_with_container_and_service_labels() {
    let d = plan_of(&spec(
        "  loki: {}\n  alloy: {}\nlogs:\n  sources:\n    - name: containers\n      docker: true\n    - name: app\n      paths: [/var/log/app/*.log]\n",
    ));
    let config = &d.files[alloy::CONFIG];
    for needle in [
        "discovery.docker \"containers\" {\n  host = \"unix:///var/run/docker.sock\"\n}",
        "targets = discovery.docker.containers.targets",
        "source_labels = [\"__meta_docker_container_label_com_docker_compose_project\"]\n    regex         = \"t\"\n    action        = \"drop\"",
        "source_labels = [\"__meta_docker_container_name\"]\n    regex         = \"/(.*)\"\n    target_label  = \"container\"",
        "source_labels = [\"__meta_docker_container_label_com_docker_compose_service\"]\n    target_label  = \"service\"",
        "source_labels = [\"__meta_docker_container_log_stream\"]\n    target_label  = \"stream\"",
        "loki.source.docker \"containers\" {\n  host          = \"unix:///var/run/docker.sock\"\n  targets       = discovery.relabel.containers.output\n  labels        = { job = \"containers\" }\n  relabel_rules = discovery.relabel.containers.rules\n  forward_to    = [loki.process.containers.receiver]",
    ] {
        assert!(config.contains(needle), "missing {needle:?} in\n{config}");
    }
    assert!(
        !config.contains("-json.log") && !config.contains("stage.docker"),
        "{config}"
    );
    let alloy = d.service("alloy").unwrap();
    assert!(alloy.mounts.contains(&Mount {
        source: MountSource::Host("/var/run/docker.sock".into()),
        target: "/var/run/docker.sock".into(),
        read_only: true,
    }));
    assert!(
        !alloy
            .mounts
            .iter()
            .any(|m| m.target == "/var/lib/docker/containers")
    );

    // Asked for, the stack's own containers are shipped too.
    let all = plan_of(&spec(
        "  loki: {}\n  alloy: {}\nlogs:\n  sources:\n    - name: containers\n      docker: true\n      include_stack: true\n",
    ));
    assert!(!all.files[alloy::CONFIG].contains("action        = \"drop\""));
}

#[test]
fn dashboards_get_each_datasource_kind_its_own_target_shape() {
    let d = plan_of(&spec(
        "  prometheus: {}\n  grafana: {}\n  jaeger: {}\n  elasticsearch: {}\ndashboards:\n  - uid: d\n    title: D\n    rows:\n      - panels:\n          - title: Errors by service\n            type: timeseries\n            datasource: elasticsearch\n            queries:\n              - {expr: 'level:error', group_by: service, legend: '{{term service}}'}\n          - title: Slow requests\n            type: stat\n            datasource: elasticsearch\n            queries:\n              - {expr: '*', metric: avg, field: duration_ms}\n          - title: Log lines\n            type: logs\n            datasource: elasticsearch\n            queries:\n              - {expr: 'level:error'}\n          - title: Slow traces\n            type: table\n            datasource: jaeger\n            queries:\n              - {service: api, tags: 'error=true', min_duration: 500ms, limit: 20}\n",
    ).replace("secrets:\n", "secrets:\n  elastic_password: {}\n  elasticsearch_grafana_password: {}\n"));
    let path = d.files.keys().find(|k| k.ends_with("/d.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&d.files[path]).unwrap();
    let target = |title: &str| {
        let panel = dash["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == title)
            .unwrap();
        let mut t = panel["targets"][0].clone();
        t.as_object_mut().unwrap().remove("datasource");
        t
    };
    assert_eq!(
        target("Errors by service"),
        serde_json::json!({
            "refId": "A", "queryType": "lucene", "query": "level:error", "alias": "{{term service}}",
            "metrics": [{"id": "1", "type": "count"}],
            "bucketAggs": [
                {"id": "2", "type": "terms", "field": "service", "settings": {"size": "10", "order": "desc", "orderBy": "_count", "min_doc_count": "1"}},
                {"id": "3", "type": "date_histogram", "field": "@timestamp", "settings": {"interval": "auto"}},
            ],
            "timeField": "@timestamp",
        })
    );
    assert_eq!(
        target("Slow requests")["metrics"],
        serde_json::json!([{"id": "1", "type": "avg", "field": "duration_ms"}])
    );
    assert_eq!(
        target("Log lines")["metrics"],
        serde_json::json!([{"id": "1", "type": "logs"}])
    );
    assert_eq!(target("Log lines")["bucketAggs"], serde_json::json!([]));
    assert_eq!(
        target("Slow traces"),
        serde_json::json!({
            "refId": "A", "queryType": "search", "service": "api", "tags": "error=true", "minDuration": "500ms", "limit": 20,
        })
    );
}

#[test]
fn jaeger_span_indices_are_deleted_after_the_retention() {
    let d = elk();
    let cleaner = d
        .service(jaeger::CLEANER_SERVICE)
        .expect("a retention service");
    assert!(!cleaner.one_shot);
    assert!(cleaner.healthcheck.is_some());
    assert_eq!(cleaner.secrets, ["elasticsearch_jaeger_password"]);
    let script = &d.files["jaeger/cleaner/clean.sh"];
    assert!(script.contains("keep_days=3\n"), "{script}");
    assert!(
        script.contains("_cat/indices/jaeger-main-jaeger-*?h=index"),
        "{script}"
    );
    // Without Jaeger on this Elasticsearch there is nothing to clean.
    let memory = plan_of(&spec("  jaeger: {}\n"));
    assert!(memory.service(jaeger::CLEANER_SERVICE).is_none());
}
