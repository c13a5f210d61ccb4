//! Writing safely: deterministic output, `--check` and `--diff`, edits and
//! foreign files protected, secrets generated once and never copied into a
//! rendered file, user strings reaching the output exactly.

use crate::common;

use common::{init_profile, list_files, path_str, run, spec_dir};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn render(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["render", "--dir", path_str(dir)];
    args.extend_from_slice(extra);
    run(&args)
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn rendered_files(dir: &Path) -> Vec<String> {
    list_files(dir)
        .into_iter()
        .filter(|f| f != "stack.yaml" && !f.starts_with("secrets/"))
        .collect()
}

#[test]
fn render_is_deterministic_and_idempotent() {
    let a = init_profile("minimal");
    let b = init_profile("minimal");
    assert_eq!(render(a.path(), &[]).0, 0);
    assert_eq!(render(b.path(), &[]).0, 0);
    let files = rendered_files(a.path());
    assert_eq!(files, rendered_files(b.path()));
    assert!(files.contains(&"docker-compose.monitoring.yml".to_string()));
    assert!(files.contains(&".stackctl/manifest.json".to_string()));
    for f in &files {
        assert_eq!(
            read(a.path(), f),
            read(b.path(), f),
            "{f} differs between two renders"
        );
    }
    let (code, _, stderr) = render(a.path(), &[]);
    assert_eq!(code, 0);
    assert!(stderr.contains("(0 changed)"), "{stderr}");
    let (code, _, stderr) = render(a.path(), &["--check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("up to date"), "{stderr}");
}

#[test]
fn check_and_diff_report_drift_without_writing() {
    let dir = init_profile("minimal");
    // Before the first render everything is missing.
    let (code, _, stderr) = render(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("create: docker-compose.monitoring.yml"),
        "{stderr}"
    );
    assert_eq!(rendered_files(dir.path()), Vec::<String>::new());

    assert_eq!(render(dir.path(), &[]).0, 0);
    let spec = read(dir.path(), "stack.yaml").replace("retention_time: 15d", "retention_time: 30d");
    std::fs::write(dir.path().join("stack.yaml"), spec).unwrap();
    let before = read(dir.path(), "docker-compose.monitoring.yml");

    let (code, _, stderr) = render(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("update: docker-compose.monitoring.yml"),
        "{stderr}"
    );
    assert!(stderr.contains("1 file(s) differ"), "{stderr}");

    // Differences: exit 1, as `diff` and `git diff --exit-code`.
    let (code, stdout, _) = render(dir.path(), &["--diff"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("--- a/docker-compose.monitoring.yml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-      - --storage.tsdb.retention.time=15d"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+      - --storage.tsdb.retention.time=30d"),
        "{stdout}"
    );
    assert_eq!(
        read(dir.path(), "docker-compose.monitoring.yml"),
        before,
        "--diff wrote"
    );

    assert_eq!(render(dir.path(), &[]).0, 0);
    assert!(read(dir.path(), "docker-compose.monitoring.yml").contains("retention.time=30d"));
}

#[test]
fn an_edited_generated_file_is_not_overwritten_without_force() {
    let dir = init_profile("minimal");
    assert_eq!(render(dir.path(), &[]).0, 0);
    let edited = read(dir.path(), "prometheus/prometheus.yml") + "# my local tweak\n";
    std::fs::write(dir.path().join("prometheus/prometheus.yml"), &edited).unwrap();
    // A spec change that affects another file too: nothing at all may be written.
    let spec = read(dir.path(), "stack.yaml").replace("retention_time: 15d", "retention_time: 20d");
    std::fs::write(dir.path().join("stack.yaml"), spec).unwrap();
    let compose_before = read(dir.path(), "docker-compose.monitoring.yml");

    let (code, _, stderr) = render(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error: `prometheus/prometheus.yml` was edited since the last render"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(read(dir.path(), "prometheus/prometheus.yml"), edited);
    assert_eq!(
        read(dir.path(), "docker-compose.monitoring.yml"),
        compose_before
    );

    let (code, _, stderr) = render(dir.path(), &["--check"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("overwrite edited: prometheus/prometheus.yml"),
        "{stderr}"
    );

    let (code, _, stderr) = render(dir.path(), &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(dir.path(), "prometheus/prometheus.yml.edited"), edited);
    assert!(!read(dir.path(), "prometheus/prometheus.yml").contains("my local tweak"));
    assert!(read(dir.path(), "docker-compose.monitoring.yml").contains("retention.time=20d"));
}

#[test]
fn files_render_did_not_create_are_never_touched() {
    let dir = init_profile("minimal");
    std::fs::create_dir_all(dir.path().join("alertmanager")).unwrap();
    std::fs::write(
        dir.path().join("alertmanager/alertmanager.yml"),
        "# hand written\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine\n").unwrap();
    for force in [false, true] {
        let extra: &[&str] = if force { &["--force"] } else { &[] };
        let (code, _, stderr) = render(dir.path(), extra);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr
                .contains("`alertmanager/alertmanager.yml` exists and was not written by stackctl"),
            "{stderr}"
        );
        assert_eq!(
            read(dir.path(), "alertmanager/alertmanager.yml"),
            "# hand written\n"
        );
        assert!(!dir.path().join("docker-compose.monitoring.yml").exists());
    }
    std::fs::remove_file(dir.path().join("alertmanager/alertmanager.yml")).unwrap();
    assert_eq!(render(dir.path(), &[]).0, 0);
    assert_eq!(read(dir.path(), "notes.txt"), "mine\n");
}

#[test]
fn files_of_a_removed_component_go_unless_edited() {
    let dir = init_profile("minimal");
    assert_eq!(render(dir.path(), &[]).0, 0);
    assert!(
        dir.path()
            .join("grafana/provisioning/datasources/datasources.yaml")
            .exists()
    );
    let dash = "grafana/dashboards/general/node-overview.json";
    let edited = read(dir.path(), dash).replace("Node overview", "My overview");
    std::fs::write(dir.path().join(dash), &edited).unwrap();
    let spec = read(dir.path(), "stack.yaml").replace(
        "  grafana:\n    version: 13.2.0\n",
        "  grafana:\n    enabled: false\n    version: 13.2.0\n",
    );
    let spec = spec.split("\ndashboards:\n").next().unwrap().to_string() + "\n";
    std::fs::write(dir.path().join("stack.yaml"), spec).unwrap();
    let (code, _, stderr) = render(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("remove: grafana/provisioning/datasources/datasources.yaml"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("kept: {dash}")), "{stderr}");
    assert!(!dir.path().join("grafana/provisioning").exists());
    assert_eq!(read(dir.path(), dash), edited);
    assert!(!read(dir.path(), "docker-compose.monitoring.yml").contains("grafana"));
}

#[test]
fn init_writes_private_secrets_once() {
    let dir = init_profile("minimal");
    let secrets = dir.path().join("secrets");
    assert_eq!(
        std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            entry.path()
        );
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "grafana_admin_password",
            "grafana_secret_key",
            "slack_webhook_url",
            "smtp_password"
        ]
    );
    let password = read(dir.path(), "secrets/grafana_admin_password");
    assert_eq!(password.len(), 32);
    assert!(!password.ends_with('\n'));
    assert_eq!(read(dir.path(), "secrets/smtp_password"), "");

    // init refuses to overwrite; with --force it keeps the old spec and every secret.
    let (code, _, stderr) = run(&[
        "init",
        "--profile",
        "minimal",
        "--dir",
        path_str(dir.path()),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (code, _, _) = run(&[
        "init",
        "--profile",
        "minimal",
        "--dir",
        path_str(dir.path()),
        "--force",
    ]);
    assert_eq!(code, 0);
    assert!(dir.path().join("stack.yaml.bak").exists());
    assert_eq!(read(dir.path(), "secrets/grafana_admin_password"), password);
    assert_eq!(render(dir.path(), &[]).0, 0);
    assert_eq!(read(dir.path(), "secrets/grafana_admin_password"), password);
}

#[test]
fn no_secret_value_appears_in_a_rendered_file() {
    let dir = init_profile("minimal");
    std::fs::write(
        dir.path().join("secrets/smtp_password"),
        "smtp-Pa55-value-7781",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("secrets/slack_webhook_url"),
        "https://hooks.slack.com/services/T0/B0/XyZ",
    )
    .unwrap();
    assert_eq!(render(dir.path(), &[]).0, 0);
    let values: Vec<String> = [
        "grafana_admin_password",
        "grafana_secret_key",
        "smtp_password",
        "slack_webhook_url",
    ]
    .iter()
    .map(|n| read(dir.path(), &format!("secrets/{n}")))
    .collect();
    let files = rendered_files(dir.path());
    assert!(files.len() >= 8, "{files:?}");
    for f in files {
        let text = read(dir.path(), &f);
        for v in &values {
            assert!(!text.contains(v.as_str()), "secret value leaked into {f}");
        }
    }
    let compose = read(dir.path(), "docker-compose.monitoring.yml");
    assert!(
        compose.contains("GF_SECURITY_ADMIN_PASSWORD__FILE: /run/secrets/grafana_admin_password")
    );
    assert!(
        read(dir.path(), "alertmanager/alertmanager.yml")
            .contains("smtp_auth_password_file: /run/secrets/smtp_password")
    );
}

const TRICKY: &str = r##"stackctl: 1
name: tricky
secrets:
  grafana_admin_password: {generate: true}
  grafana_secret_key: {generate: true}
components:
  prometheus:
    external_labels:
      cost: "$HOME and ${VAR}"
  grafana:
    environment:
      GF_PANELS_DISABLE_SANITIZE_HTML: "$HOME"
rules:
  app:
    - name: tricky
      rules:
        - alert: Tricky
          expr: 'up{job="a: b # c"} == 0'
          labels:
            severity: "critical"
          annotations:
            summary: "{{ $labels.instance }} is down: 'quoted' \"double\" # not a comment"
            description: "line one\nline two\n"
dashboards:
  - uid: tricky
    title: "Tricky: {{ dashboard }}"
    rows:
      - panels:
          - title: By instance
            type: timeseries
            queries:
              - expr: 'rate(http_requests_total{path="/a#b"}[5m])'
                legend: "{{instance}} {{ method }}"
"##;

#[test]
fn user_strings_reach_the_output_exactly() {
    let dir = spec_dir(TRICKY);
    let (code, _, stderr) = render(dir.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let rules = read(dir.path(), "prometheus/rules/app.yml");
    let mut problems = Vec::new();
    let tree = stackctl::yaml::node::parse(&rules, &mut problems).unwrap();
    use stackctl::yaml::node::Seg::{Index, Key};
    let rule = tree
        .get(&[
            Key("groups".into()),
            Index(0),
            Key("rules".into()),
            Index(0),
        ])
        .unwrap();
    let get = |k: &[&str]| {
        let path: Vec<_> = k.iter().map(|s| Key(s.to_string())).collect();
        rule.get(&path)
            .and_then(|n| n.scalar_str())
            .unwrap()
            .to_string()
    };
    assert_eq!(get(&["expr"]), r#"up{job="a: b # c"} == 0"#);
    assert_eq!(
        get(&["annotations", "summary"]),
        r#"{{ $labels.instance }} is down: 'quoted' "double" # not a comment"#
    );
    assert_eq!(get(&["annotations", "description"]), "line one\nline two\n");
    assert_eq!(get(&["labels", "severity"]), "critical");

    let dashboard: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "grafana/dashboards/general/tricky.json")).unwrap();
    assert_eq!(dashboard["title"], "Tricky: {{ dashboard }}");
    let panel = &dashboard["panels"][0];
    assert_eq!(
        panel["targets"][0]["legendFormat"],
        "{{instance}} {{ method }}"
    );
    assert_eq!(
        panel["targets"][0]["expr"],
        r#"rate(http_requests_total{path="/a#b"}[5m])"#
    );

    // Compose interpolates `$`; the literal survives as `$$`.
    let compose = read(dir.path(), "docker-compose.monitoring.yml");
    assert!(
        compose.contains("GF_PANELS_DISABLE_SANITIZE_HTML: $$HOME"),
        "{compose}"
    );
    // Prometheus 3 expands ${VAR} in external labels; a literal `$` is doubled.
    let prometheus = read(dir.path(), "prometheus/prometheus.yml");
    assert!(
        prometheus.contains(r#"cost: "$$HOME and $${VAR}""#),
        "{prometheus}"
    );
}
