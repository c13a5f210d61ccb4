//! `render --target kubernetes` for every shipped spec: every file parses back,
//! every custom resource validates against the operator's CRD schema, names
//! and labels follow Kubernetes rules, the rules are the compose target's rules
//! (and promtool accepts them), the dashboards are the compose target's
//! dashboards, and credentials are only ever Secret references.

use crate::common;
use crate::kubernetes_support;

use kubernetes_support::{
    crd_errors, dns_label, doc, label_key, label_value, manifests, render, shipped_specs,
};
use serde_json::{Value, json};
use stackctl::model::Kind;
use std::collections::BTreeMap;

const CUSTOM_KINDS: [&str; 5] = [
    "ServiceMonitor",
    "PodMonitor",
    "Probe",
    "PrometheusRule",
    "AlertmanagerConfig",
];

#[test]
fn every_manifest_parses_back_and_every_custom_resource_validates_against_its_crd() {
    let (mut validated, mut expected) = (0, 0);
    for (label, text, dir) in shipped_specs() {
        let r = render(&text, &dir, None, None);
        let (namespace, release) = kubernetes_support::namespace_and_release(&r.stack);
        for (path, contents) in &r.tree {
            if path.ends_with(".yaml") {
                let docs = kubernetes_support::yaml_docs(contents)
                    .unwrap_or_else(|e| panic!("{label}: {path}: {e}"));
                assert!(
                    !docs.is_empty() && docs.iter().all(Value::is_object),
                    "{label}: {path}"
                );
            }
        }
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for (path, resource) in manifests(&r.tree) {
            let kind = resource["kind"].as_str().unwrap_or_default().to_string();
            *by_kind.entry(kind.clone()).or_default() += 1;
            let meta = &resource["metadata"];
            let name = meta["name"].as_str().unwrap_or_default();
            assert!(dns_label(name), "{label}: {path}: name `{name}`");
            for (k, v) in meta["labels"].as_object().expect("labels") {
                assert!(
                    label_key(k) && label_value(v.as_str().unwrap()),
                    "{label}: {path}: label {k}={v}"
                );
            }
            if kind == "Namespace" {
                assert_eq!(name, namespace, "{label}");
                continue;
            }
            assert_eq!(meta["namespace"], json!(namespace), "{label}: {path}");
            assert_eq!(meta["labels"]["release"], json!(release), "{label}: {path}");
            if CUSTOM_KINDS.contains(&kind.as_str()) {
                let errors = crd_errors(&resource);
                assert!(
                    errors.is_empty(),
                    "{label}: {path} does not validate:\n{}",
                    errors.join("\n")
                );
                validated += 1;
            } else {
                assert_eq!(
                    (kind.as_str(), resource["apiVersion"].as_str()),
                    ("ConfigMap", Some("v1")),
                    "{label}: {path}"
                );
            }
        }
        // One resource per thing the spec describes.
        let s = &r.stack;
        let jobs = s
            .scrape_jobs
            .iter()
            .filter(|j| j.enabled != Some(false))
            .count();
        let exporters = [
            Kind::PostgresExporter,
            Kind::RedisExporter,
            Kind::NginxExporter,
            Kind::Pushgateway,
        ]
        .into_iter()
        .filter(|k| s.component(*k).is_some_and(|c| c.scrape_enabled()))
        .count();
        let count = |k: &str| by_kind.get(k).copied().unwrap_or(0);
        assert_eq!(
            count("ServiceMonitor") + count("PodMonitor"),
            jobs + exporters,
            "{label}"
        );
        assert_eq!(count("Probe"), s.probes.len(), "{label}");
        assert_eq!(count("PrometheusRule"), s.rules.len(), "{label}");
        assert_eq!(
            count("AlertmanagerConfig"),
            usize::from(s.alerting.is_some()),
            "{label}"
        );
        assert_eq!(count("Namespace"), 1, "{label}");
        let dashboards = r
            .deployment
            .files
            .keys()
            .filter(|p| p.starts_with("grafana/dashboards/") && p.ends_with(".json"))
            .count();
        assert_eq!(count("ConfigMap"), dashboards, "{label}");
        expected +=
            jobs + exporters + s.probes.len() + s.rules.len() + usize::from(s.alerting.is_some());
    }
    assert!(validated > 0);
    assert_eq!(
        validated, expected,
        "every custom resource was checked against its CRD"
    );
}

/// The schemas are strict enough to catch real mistakes (so a pass means something).
#[test]
fn the_crd_validation_rejects_what_the_api_server_would() {
    let r = render(
        stackctl::profiles::find("minimal").unwrap().text,
        std::path::Path::new("."),
        None,
        None,
    );
    let (_, amc) = manifests(&r.tree)
        .into_iter()
        .find(|(_, m)| m["kind"] == "AlertmanagerConfig")
        .unwrap();
    assert!(crd_errors(&amc).is_empty());

    let mut unknown = amc.clone();
    unknown["spec"]["route"]["group_by"] = json!(["alertname"]);
    assert!(
        crd_errors(&unknown).iter().any(|e| e.contains("group_by")),
        "{:?}",
        crd_errors(&unknown)
    );

    let mut nested = amc.clone();
    nested["spec"]["route"]["routes"][0]["matchers"][0]["matchType"] = json!("==");
    let errors = crd_errors(&nested);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/spec/route/routes/0/matchers/0/matchType")),
        "{errors:?}"
    );

    let mut string_matcher = amc;
    string_matcher["spec"]["route"]["routes"][0]["matchers"] = json!(["severity=\"critical\""]);
    assert!(!crd_errors(&string_matcher).is_empty());

    let monitor = json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": "metrics", "interval": "5 minutes"}]},
    });
    assert!(
        crd_errors(&monitor).iter().any(|e| e.contains("interval")),
        "{:?}",
        crd_errors(&monitor)
    );
}

#[test]
fn rules_are_the_compose_rules_and_promtool_accepts_them() {
    let promtool = common::require_tool("promtool", "PrometheusRule groups checked by promtool");
    for (label, text, dir) in shipped_specs() {
        let r = render(&text, &dir, None, None);
        let compose = stackctl::render::compose_tree(&r.deployment);
        let mut from_compose: Vec<String> = compose
            .iter()
            .filter(|(p, _)| p.starts_with("prometheus/rules/"))
            // The generated Watchdog is the compose target's: on Kubernetes,
            // kube-prometheus-stack's default rules ship the same alert.
            .filter(|(p, _)| {
                **p != format!(
                    "prometheus/rules/{}.yml",
                    stackctl::plan::watchdog::RULE_FILE
                )
            })
            .map(|(_, text)| doc(text)["groups"].to_string())
            .collect();
        let rules: Vec<Value> = manifests(&r.tree)
            .into_iter()
            .filter(|(_, m)| m["kind"] == "PrometheusRule")
            .map(|(_, m)| m)
            .collect();
        let mut from_kubernetes: Vec<String> = rules
            .iter()
            .map(|m| m["spec"]["groups"].to_string())
            .collect();
        from_compose.sort();
        from_kubernetes.sort();
        assert_eq!(from_kubernetes, from_compose, "{label}");
        let Some(promtool) = &promtool else { continue };
        let tmp = tempfile::tempdir().unwrap();
        for m in &rules {
            // A PrometheusRule's spec is a Prometheus rule file.
            let file = tmp
                .path()
                .join(format!("{}.yml", m["metadata"]["name"].as_str().unwrap()));
            std::fs::write(&file, stackctl::yaml::emit::to_yaml(&m["spec"])).unwrap();
            let out = std::process::Command::new(promtool)
                .args(["check", "rules"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{label}: promtool rejects {}:\n{}{}",
                file.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn dashboards_are_the_compose_dashboards_labelled_for_the_sidecar() {
    for (label, text, dir) in shipped_specs() {
        let r = render(&text, &dir, None, None);
        for (path, m) in manifests(&r.tree)
            .into_iter()
            .filter(|(_, m)| m["kind"] == "ConfigMap")
        {
            assert_eq!(
                m["metadata"]["labels"]["grafana_dashboard"],
                json!("1"),
                "{label}: {path}"
            );
            let data = m["data"].as_object().unwrap();
            assert_eq!(data.len(), 1, "{label}: {path}");
            let (key, json_text) = data.iter().next().unwrap();
            let uid = key.strip_suffix(".json").unwrap();
            let dash = r
                .stack
                .dashboards
                .iter()
                .find(|d| d.uid == uid)
                .expect("a spec dashboard");
            let compose_file = r
                .deployment
                .files
                .iter()
                .find(|(p, _)| {
                    p.starts_with("grafana/dashboards/") && p.ends_with(&format!("/{uid}.json"))
                })
                .map(|(_, t)| t)
                .unwrap();
            assert_eq!(
                json_text.as_str().unwrap(),
                compose_file.as_str(),
                "{label}: {path}"
            );
            let folder = m["metadata"]["annotations"]["grafana_folder"].as_str();
            assert_eq!(folder, dash.folder.as_deref(), "{label}: {path}");
        }
    }
}

#[test]
fn credentials_are_references_to_the_one_secret() {
    for (label, text, dir) in shipped_specs() {
        let r = render(&text, &dir, None, None);
        let secret = format!("{}-secrets", r.stack.name.replace('_', "-"));
        let mut selectors = Vec::new();
        for (_, m) in manifests(&r.tree) {
            kubernetes_support::secret_selectors(&m, &mut selectors);
        }
        let values = doc(&r.tree["kubernetes/values.yaml"]);
        kubernetes_support::secret_selectors(&values, &mut selectors);
        assert!(!selectors.is_empty(), "{label}");
        let readme = &r.tree["kubernetes/README.md"];
        for (name, key) in &selectors {
            assert_eq!(name, &secret, "{label}");
            // The README's `kubectl create secret` provides every key used.
            assert!(
                readme.contains(&format!("--from-file={key}="))
                    || readme.contains(&format!("--from-literal={key}=")),
                "{label}: key {key} is not created by the README's command"
            );
        }
        // Grafana never falls back to the chart's default admin password.
        assert_eq!(
            values["grafana"]["admin"]["existingSecret"],
            json!(secret),
            "{label}"
        );
        assert!(
            !r.tree.values().any(|t| t.contains("kind: Secret")),
            "{label}: a Secret manifest was rendered"
        );
    }
}

#[test]
fn values_select_the_rendered_resources() {
    for (label, text, dir) in shipped_specs() {
        let r = render(&text, &dir, None, None);
        let values = doc(&r.tree["kubernetes/values.yaml"]);
        let (_, release) = kubernetes_support::namespace_and_release(&r.stack);
        let spec = &values["prometheus"]["prometheusSpec"];
        for key in [
            "serviceMonitorSelectorNilUsesHelmValues",
            "podMonitorSelectorNilUsesHelmValues",
            "ruleSelectorNilUsesHelmValues",
            "probeSelectorNilUsesHelmValues",
            "scrapeConfigSelectorNilUsesHelmValues",
        ] {
            assert_eq!(spec[key], json!(false), "{label}: {key}");
        }
        // A spec without Alertmanager (examples/traces-tempo) has no selector to set.
        if r.stack.has(Kind::Alertmanager) {
            let am = &values["alertmanager"]["alertmanagerSpec"];
            assert_eq!(
                am["alertmanagerConfigSelector"],
                json!({"matchLabels": {"release": release}}),
                "{label}"
            );
        }
        // The image the compose target runs.
        let prometheus = r.stack.component(Kind::Prometheus).unwrap();
        let image = prometheus.image(r.stack.defaults.image_registry.as_deref());
        let v = &spec["image"];
        let from_values = format!(
            "{}/{}:{}",
            v["registry"].as_str().unwrap(),
            v["repository"].as_str().unwrap(),
            v["tag"].as_str().unwrap()
        );
        assert!(
            from_values == image || from_values == format!("docker.io/{image}"),
            "{label}: {from_values} vs {image}"
        );
        let p = r.stack.components.prometheus.as_ref().unwrap();
        if let Some(retention) = &p.retention_time {
            assert_eq!(spec["retention"], json!(retention.as_str()), "{label}");
        }
        if let Some(size) = &p.retention_size {
            assert_eq!(spec["retentionSize"], json!(size), "{label}");
        }
        assert_eq!(
            spec["externalLabels"].as_object().map_or(0, |m| m.len()),
            p.external_labels.len(),
            "{label}"
        );
        assert_eq!(
            spec["remoteWrite"].as_array().map_or(0, Vec::len),
            r.stack.remote_write.len(),
            "{label}"
        );
    }
}

#[test]
fn output_is_deterministic() {
    for (label, text, dir) in shipped_specs() {
        let a = render(&text, &dir, None, None);
        let b = render(&text, &dir, None, None);
        assert_eq!(a.tree, b.tree, "{label}");
    }
}
