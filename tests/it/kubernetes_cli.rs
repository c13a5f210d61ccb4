//! `stackctl render --target kubernetes` through the real binary: flags,
//! errors (exit 1 for the spec, 2 for the command line, nothing written),
//! findings with their positions, name collisions, secrets kept out of every
//! file, `--check`, and both targets side by side in one directory.

use crate::common;
use crate::kubernetes_support;

use common::{init_profile, list_files, path_str, run, spec_dir};
use kubernetes_support::{crd_errors, doc, manifests};
use serde_json::json;
use std::path::Path;

/// A spec that says things Kubernetes has no words for.
const UNMAPPABLE: &str = r#"stackctl: 1
name: shop
network:
  attach: [shopnet]
  external_hosts:
    api: 10.0.0.5
secrets:
  grafana_admin_password:
    generate: true
  grafana_secret_key:
    generate: true
  api_token:
    generate: true
components:
  prometheus:
    ports:
      web: 19090
    volumes:
      - source: /srv/prom-extra
        target: /extra
  grafana:
  cadvisor:
  loki:
  alloy:
scrape_jobs:
  - name: shop-api
    targets: [api:8000]
    bearer_token_secret: api_token
  - name: shop-pods
    kubernetes_sd:
      - role: pod
    kubernetes:
      monitor: pod
      selector:
        app: shop
      port: http
      namespaces: [shop]
    tls:
      ca_file: /etc/ca.pem
      server_name: shop.internal
rules:
  shop.alerts:
    - name: a
      rules:
        - alert: A
          expr: up == 0
  shop_alerts:
    - name: b
      rules:
        - alert: B
          expr: up{job="prometheus"} == 0
logs:
  sources:
    - name: containers
      docker: true
"#;

/// `stack.yaml:LINE:COL` of the first line containing `needle` (after `after`).
fn position(text: &str, after: &str, needle: &str) -> String {
    let start = text.find(after).expect("anchor");
    let offset = start + text[start..].find(needle).expect("needle");
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("stack.yaml:{line}:{col}")
}

fn render_k8s(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["render", "--target", "kubernetes", "--dir", path_str(dir)];
    args.extend_from_slice(extra);
    run(&args)
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn what_cannot_be_mapped_is_reported_where_the_spec_says_it() {
    let dir = spec_dir(UNMAPPABLE);
    let (code, _, err) = render_k8s(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let t = UNMAPPABLE;
    for (at, message) in [
        (
            position(t, "network:", "[shopnet]"),
            "info: `network.attach` (shopnet) has no Kubernetes equivalent",
        ),
        (
            position(t, "external_hosts:", "10.0.0.5"),
            "info: external host `api` is not mapped",
        ),
        (
            position(t, "ports:", "web: 19090"),
            "info: `components.prometheus.ports` has no Kubernetes equivalent",
        ),
        (
            position(t, "volumes:", "source: /srv"),
            "warning: the mount `/srv/prom-extra` → `/extra` of `prometheus` is compose-only and not mapped",
        ),
        (
            position(t, "  cadvisor:", "cadvisor:"),
            "info: `cadvisor` is not deployed by the Kubernetes target",
        ),
        (
            position(t, "  loki:", "loki:"),
            "info: `loki` is not deployed by the Kubernetes target",
        ),
        (
            position(t, "- name: shop-api", "name: shop-api"),
            "warning: scrape job `shop-api` has no `kubernetes:` block",
        ),
        (
            position(t, "kubernetes_sd:", "- role: pod"),
            "warning: scrape job `shop-pods`: `kubernetes_sd` is not used",
        ),
        (
            position(t, "ca_file:", "/etc/ca.pem"),
            "warning: scrape job `shop-pods`: `tls.ca_file` is a path inside the Prometheus container",
        ),
        (
            position(t, "  shop_alerts:", "- name: b"),
            "warning: `shop_alerts` and `shop.alerts` both become the PrometheusRule name `shop-alerts` in Kubernetes; this one is named `shop-alerts-2`",
        ),
        (
            position(t, "alert: B", "up{job="),
            "warning: rule `B` selects `job=\"prometheus\"`; under kube-prometheus-stack that job is `kube-prometheus-stack-prometheus`",
        ),
        (
            position(t, "sources:", "name: containers"),
            "info: log source `containers` is not mapped",
        ),
    ] {
        let line = format!("{at}: {message}");
        assert!(err.contains(&line), "missing `{line}` in:\n{err}");
    }
    // Reported in the README too, and nothing was dropped on the floor.
    let readme = read(dir.path(), "kubernetes/README.md");
    assert!(
        readme.contains(
            "- `network.attach`: `network.attach` (shopnet) has no Kubernetes equivalent"
        ),
        "{readme}"
    );
    let files = list_files(dir.path());
    assert!(files.contains(&"kubernetes/manifests/prometheusrule-shop-alerts.yaml".to_string()));
    assert!(files.contains(&"kubernetes/manifests/prometheusrule-shop-alerts-2.yaml".to_string()));
    let pods = doc(&read(
        dir.path(),
        "kubernetes/manifests/podmonitor-shop-pods.yaml",
    ));
    assert_eq!(
        pods["spec"],
        json!({
            "selector": {"matchLabels": {"app": "shop"}},
            "namespaceSelector": {"matchNames": ["shop"]},
            "podMetricsEndpoints": [{
                "port": "http",
                "tlsConfig": {"serverName": "shop.internal"},
                "relabelings": [{"action": "replace", "targetLabel": "job", "replacement": "shop-pods"}],
            }],
        })
    );
    let api = doc(&read(
        dir.path(),
        "kubernetes/manifests/servicemonitor-shop-api.yaml",
    ));
    assert_eq!(
        api["spec"]["endpoints"][0]["authorization"],
        json!({"type": "Bearer", "credentials": {"name": "shop-secrets", "key": "api_token"}})
    );
    for (path, m) in manifests(&stackctl_tree(dir.path())) {
        if m["kind"] != "Namespace" && m["kind"] != "ConfigMap" {
            assert!(crd_errors(&m).is_empty(), "{path}: {:?}", crd_errors(&m));
        }
    }
}

/// The `kubernetes/` files on disk as a tree.
fn stackctl_tree(dir: &Path) -> stackctl::render::Tree {
    list_files(dir)
        .into_iter()
        .filter(|p| p.starts_with("kubernetes/"))
        .map(|p| (p.clone(), read(dir, &p)))
        .collect()
}

#[test]
fn namespace_and_release_flags_reach_every_resource_and_the_instructions() {
    let dir = init_profile("pynomaly");
    let (code, _, err) = render_k8s(
        dir.path(),
        &["--namespace", "team-obs", "--release", "prom"],
    );
    assert_eq!(code, 0, "{err}");
    let tree = stackctl_tree(dir.path());
    for (path, m) in manifests(&tree) {
        if m["kind"] == "Namespace" {
            assert_eq!(m["metadata"]["name"], json!("team-obs"));
        } else {
            assert_eq!(m["metadata"]["namespace"], json!("team-obs"), "{path}");
            assert_eq!(m["metadata"]["labels"]["release"], json!("prom"), "{path}");
        }
        if m["kind"] == "Probe" {
            assert_eq!(
                m["spec"]["prober"]["url"],
                json!("blackbox-exporter.team-obs.svc:9115")
            );
        }
    }
    let values = doc(&tree["kubernetes/values.yaml"]);
    assert_eq!(
        values["alertmanager"]["alertmanagerSpec"]["alertmanagerConfigSelector"],
        json!({"matchLabels": {"release": "prom"}})
    );
    let readme = &tree["kubernetes/README.md"];
    assert!(readme.contains(&format!("helm upgrade --install prom prometheus-community/kube-prometheus-stack \\\n  --version {} --namespace team-obs -f kubernetes/values.yaml", stackctl::render::kubernetes::CHART)), "{readme}");
    assert!(
        readme.contains("kubectl --namespace team-obs create secret generic pynomaly-secrets"),
        "{readme}"
    );
}

#[test]
fn a_bad_namespace_flag_is_a_command_line_error_and_writes_nothing() {
    let dir = init_profile("minimal");
    let (code, _, err) = render_k8s(dir.path(), &["--namespace", "Team_A"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: `--namespace Team_A` is not a valid Kubernetes namespace"),
        "{err}"
    );
    let (code, _, err) = render_k8s(dir.path(), &["--release", "-x"]);
    assert_eq!(code, 2, "{err}");
    assert!(!dir.path().join("kubernetes").exists());
}

#[test]
fn a_bad_namespace_or_selector_in_the_spec_fails_with_its_position_and_writes_nothing() {
    let text = format!(
        "{}\nkubernetes:\n  namespace: Shop_NS\n",
        UNMAPPABLE.replace(
            "        app: shop\n",
            "        app: shop\n        \"bad key!\": x\n"
        )
    );
    let dir = spec_dir(&text);
    let (code, _, err) = render_k8s(dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let ns = position(&text, "kubernetes:\n  namespace", "Shop_NS");
    assert!(
        err.contains(&format!(
            "{ns}: error: `Shop_NS` is not a valid Kubernetes namespace"
        )),
        "{err}"
    );
    let key = position(&text, "selector:", "\"bad key!\"");
    assert!(
        err.contains(&format!(
            "{key}: error: `bad key!` is not a valid Kubernetes label key"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!dir.path().join("kubernetes").exists());
}

#[test]
fn no_secret_value_reaches_any_rendered_file() {
    let dir = init_profile("mlops-platform");
    // Fill every placeholder, so each secret has a value to look for.
    for (i, file) in list_files(dir.path())
        .iter()
        .filter(|f| f.starts_with("secrets/"))
        .enumerate()
    {
        let path = dir.path().join(file);
        if std::fs::read(&path).unwrap().is_empty() {
            std::fs::write(&path, format!("s3cr3t-value-{i}-xyz")).unwrap();
        }
    }
    let (code, _, err) = render_k8s(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let values: Vec<String> = list_files(dir.path())
        .iter()
        .filter(|f| f.starts_with("secrets/"))
        .map(|f| read(dir.path(), f))
        .filter(|v| v.len() >= 8)
        .collect();
    assert!(values.len() >= 5, "{values:?}");
    let tree = stackctl_tree(dir.path());
    assert!(tree.contains_key("kubernetes/README.md"));
    for (path, text) in &tree {
        for value in &values {
            assert!(
                !text.contains(value.trim()),
                "{path} contains a secret value"
            );
        }
    }
}

#[test]
fn check_is_clean_after_render_and_both_targets_live_side_by_side() {
    let dir = init_profile("minimal");
    let d = path_str(dir.path());
    let (code, _, err) = run(&["render", "--dir", d]);
    assert_eq!(code, 0, "{err}");
    let compose = list_files(dir.path());
    let (code, _, err) = render_k8s(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("remove:"),
        "rendering kubernetes removed compose files:\n{err}"
    );
    let both = list_files(dir.path());
    assert!(
        compose.iter().all(|f| both.contains(f)),
        "compose files lost"
    );
    let (code, _, err) = render_k8s(dir.path(), &["--check"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["render", "--dir", d, "--check"]);
    assert_eq!(code, 0, "{err}");
    // A second render writes the same bytes.
    let before = stackctl_tree(dir.path());
    let (code, _, err) = render_k8s(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stackctl_tree(dir.path()), before);
    // A drifted manifest is caught.
    let rule = dir
        .path()
        .join("kubernetes/manifests/prometheusrule-minimal-node.yaml");
    std::fs::write(&rule, "edited\n").unwrap();
    let (code, _, err) = render_k8s(dir.path(), &["--check"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("kubernetes/manifests/prometheusrule-minimal-node.yaml"),
        "{err}"
    );
}
