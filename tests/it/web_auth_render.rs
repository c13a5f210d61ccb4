//! What `security:` renders besides the web configs (whose behaviour
//! `web_auth_real.rs` proves with real processes): Grafana datasources with
//! the credentials and CA from secret files, the generated CA kept across
//! renders and written 0600/0700, healthchecks both Compose generations read
//! back with the password left in its file, the Kubernetes finding, and
//! `render --check` clean after a render (the hashes are deterministic).

use crate::common;

use common::{Generation, path_str, require_consumer, run, spec_dir};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const SPEC: &str = r#"stackctl: 1
name: web-auth-render
defaults:
  bind_address: 0.0.0.0
secrets:
  web_admin_password: {generate: true}
  grafana_admin_password: {generate: true}
  grafana_secret_key: {generate: true}
components:
  prometheus: {}
  alertmanager: {}
  grafana: {}
  node_exporter: {}
alerting:
  route:
    receiver: default
  receivers:
    - name: default
security:
  users:
    admin: {password_secret: web_admin_password}
  tls: {generate: true}
"#;

fn rendered(spec: &str) -> tempfile::TempDir {
    let dir = spec_dir(spec);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    dir
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn grafana_datasources_log_in_and_trust_the_ca_from_secret_files() {
    let dir = rendered(SPEC);
    let text = read(
        dir.path(),
        "grafana/provisioning/datasources/datasources.yaml",
    );
    // Scalars come back as strings from this reader.
    let doc: Value = stackctl::verify::parse_yaml(&text).expect("datasources YAML");
    let sources = doc["datasources"].as_array().unwrap();
    for kind in ["prometheus", "alertmanager"] {
        let ds = sources
            .iter()
            .find(|d| d["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} datasource: {text}"));
        assert_eq!(
            ds["url"].as_str().unwrap().split("://").next(),
            Some("https"),
            "{ds}"
        );
        assert_eq!(ds["basicAuth"], "true", "{ds}");
        assert_eq!(ds["basicAuthUser"], "admin", "{ds}");
        assert_eq!(ds["jsonData"]["tlsAuthWithCACert"], "true", "{ds}");
        assert_eq!(
            ds["secureJsonData"]["basicAuthPassword"],
            "$__file{/run/secrets/web_admin_password}"
        );
        assert_eq!(
            ds["secureJsonData"]["tlsCACert"],
            "$__file{/run/secrets/tls_ca_crt}"
        );
    }
    let password = read(dir.path(), "secrets/web_admin_password");
    for entry in walk(dir.path()) {
        if entry.starts_with("secrets/") {
            continue;
        }
        let text = std::fs::read_to_string(dir.path().join(&entry)).unwrap_or_default();
        assert!(
            !text.contains(&password),
            "the password leaked into {entry}"
        );
    }
}

fn walk(root: &Path) -> Vec<String> {
    common::list_files(root)
}

#[test]
fn the_generated_ca_is_private_and_kept_across_renders() {
    let dir = rendered(SPEC);
    let tls = dir.path().join("secrets/tls");
    assert_eq!(
        std::fs::metadata(&tls).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut names: Vec<String> = std::fs::read_dir(&tls)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alertmanager.crt",
            "alertmanager.key",
            "ca.crt",
            "ca.key",
            "node-exporter.crt",
            "node-exporter.key",
            "prometheus.crt",
            "prometheus.key"
        ]
    );
    for name in &names {
        let mode = std::fs::metadata(tls.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let ca = read(dir.path(), "secrets/tls/ca.crt");
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(dir.path(), "secrets/tls/ca.crt"), ca, "the CA is kept");
    let (code, _, err) = run(&["render", "--check", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render --check after render: {err}");
    // A service certificate removed is signed again by the same CA.
    std::fs::remove_file(tls.join("node-exporter.crt")).unwrap();
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("created secrets/tls/node-exporter.crt"),
        "{err}"
    );
    assert_eq!(read(dir.path(), "secrets/tls/ca.crt"), ca);
    if common::require_tool("openssl", "the re-signed certificate chains to the CA").is_some() {
        let out = Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(tls.join("ca.crt"))
            .arg(tls.join("node-exporter.crt"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Half a CA is refused rather than silently replaced.
    std::fs::remove_file(tls.join("ca.key")).unwrap();
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_ne!(code, 0);
    assert!(
        err.contains("`secrets/tls/ca.crt` exists but `secrets/tls/ca.key` does not"),
        "{err}"
    );
}

#[test]
fn both_compose_generations_read_the_healthchecks_with_the_password_left_in_its_file() {
    let dir = rendered(SPEC);
    let file = dir.path().join("docker-compose.monitoring.yml");
    let mut checked = 0;
    for g in [Generation::Bookworm, Generation::Current] {
        let Some(compose) = require_consumer(g, "docker-compose", "the protected healthchecks")
        else {
            continue;
        };
        let out = Command::new(&compose)
            .arg("-f")
            .arg(&file)
            .arg("config")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {}",
            g.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        // `$$` in the file is one `$` for the shell inside the container.
        assert!(
            text.contains("$(cat /run/secrets/web_admin_password)"),
            "{}: {text}",
            g.label()
        );
        assert!(text.contains("https://localhost:9090/-/ready"), "{text}");
        checked += 1;
    }
    println!("checked by {checked} Compose generation(s)");
}

#[test]
fn kubernetes_reports_that_security_is_not_mapped() {
    let dir = spec_dir(SPEC);
    let (code, _, err) = run(&[
        "render",
        "--target",
        "kubernetes",
        "--dir",
        path_str(dir.path()),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: `security:` is not mapped to Kubernetes"),
        "{err}"
    );
}

#[test]
fn allow_unauthenticated_turns_the_error_into_a_note() {
    let spec = "stackctl: 1\nname: t\ncomponents:\n  prometheus:\n    bind_address: 0.0.0.0\nsecurity:\n  allow_unauthenticated: [prometheus]\n";
    let dir = spec_dir(spec);
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("info: prometheus is published on 0.0.0.0:9090 without authentication, as `security.allow_unauthenticated` allows"),
        "{err}"
    );
    let dir = spec_dir(&spec.replace("security:\n  allow_unauthenticated: [prometheus]\n", ""));
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
}
