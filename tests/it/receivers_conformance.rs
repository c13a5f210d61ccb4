//! Every receiver kind (email, Slack, PagerDuty, webhook, Microsoft Teams,
//! Opsgenie, Telegram, Discord) rendered and checked by its real consumers:
//! `amtool check-config` 0.33 (target/consumers/sid/bin) at the default
//! version, `amtool check-config` 0.25 (PATH) for the kinds 0.25 can read
//! from files — and 0.25 refusing the newer kinds' file forms, which is why
//! `validate` rejects them with the version that adds them — and the
//! Kubernetes `AlertmanagerConfig` against the operator's CRD schema.

use crate::common;
use crate::kubernetes_support;

use common::{Generation, path_str, require_consumer, run, spec_dir};
use std::path::Path;
use std::process::Command;

fn spec(version: &str, receivers: &str) -> String {
    format!(
        r##"stackctl: 1
name: receivers
secrets: {{smtp: {{}}, slack: {{}}, pd: {{}}, hook: {{}}, teams: {{}}, og: {{}}, tg: {{}}, dc: {{}}}}
components:
  prometheus: {{}}
  alertmanager:
    version: {version}
alerting:
  smtp:
    smarthost: mail.example.com:587
    from: am@example.com
    auth_username: am@example.com
    auth_password_secret: smtp
  route:
    receiver: everyone
  receivers:
    - name: everyone
{receivers}"##
    )
}

const OLD_KINDS: &str = r##"      email: [{to: ops@example.com}]
      slack: [{channel: "#ops", api_url_secret: slack}]
      pagerduty: [{routing_key_secret: pd}]
      webhook: [{url: "https://hooks.example.com/a"}]
      opsgenie:
        - api_key_secret: og
          api_url: https://api.eu.opsgenie.com/
          message: "{{ .CommonLabels.alertname }}"
          priority: P2
          tags: "stackctl,{{ .CommonLabels.severity }}"
          responders: [{type: team, name: sre}, {type: user, username: a@example.com}]
"##;

const NEW_KINDS: &str = r##"      msteams:
        - webhook_url_secret: teams
          title: "{{ .CommonLabels.alertname }}"
          text: "{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}"
      telegram:
        - bot_token_secret: tg
          chat_id: -1001234567890
          parse_mode: HTML
          message_thread_id: 7
          message: "{{ .CommonLabels.alertname }}"
      discord:
        - webhook_url_secret: dc
          title: "{{ .CommonLabels.alertname }}"
          message: "{{ .CommonAnnotations.summary }}"
"##;

fn amtool(path: &Path, dir: &Path) -> (bool, String) {
    let out = Command::new(path)
        .args(["check-config", "alertmanager/alertmanager.yml"])
        .current_dir(dir)
        .output()
        .expect("amtool runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn rendered(text: &str) -> tempfile::TempDir {
    let dir = spec_dir(text);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    dir
}

#[test]
fn every_kind_is_accepted_by_amtool_0_33_and_the_new_ones_by_no_older_amtool() {
    let all = format!("{OLD_KINDS}{NEW_KINDS}");
    let dir = rendered(&spec("v0.34.0", &all));
    let config = std::fs::read_to_string(dir.path().join("alertmanager/alertmanager.yml")).unwrap();
    for key in [
        "webhook_url_file: /run/secrets/teams",
        "msteamsv2_configs:",
        "api_key_file: /run/secrets/og",
        "bot_token_file: /run/secrets/tg",
        "chat_id: -1001234567890",
        "webhook_url_file: /run/secrets/dc",
    ] {
        assert!(config.contains(key), "{key} in\n{config}");
    }
    if let Some(current) = require_consumer(Generation::Current, "amtool", "new receiver kinds") {
        let (ok, out) = amtool(&current, dir.path());
        assert!(
            ok,
            "amtool 0.33 rejects the rendered config:\n{out}\n{config}"
        );
        assert!(out.contains("SUCCESS"), "{out}");
    }
    // The same file is what 0.25 cannot read: the gates are real.
    if let Some(old) = require_consumer(Generation::Bookworm, "amtool", "receiver version gates") {
        let (ok, out) = amtool(&old, dir.path());
        assert!(!ok, "amtool 0.25 accepted the newer kinds:\n{out}");
        assert!(out.contains("msteamsv2_configs"), "{out}");
    }
}

#[test]
fn the_kinds_alertmanager_0_25_reads_from_files_pass_amtool_0_25() {
    let dir = rendered(&spec("v0.25.0", OLD_KINDS));
    let Some(old) = require_consumer(Generation::Bookworm, "amtool", "receivers at 0.25") else {
        return;
    };
    let (ok, out) = amtool(&old, dir.path());
    assert!(ok, "amtool 0.25:\n{out}");
}

#[test]
fn newer_kinds_on_alertmanager_0_25_are_validation_errors_naming_the_version() {
    let dir = spec_dir(&spec("v0.25.0", &format!("{OLD_KINDS}{NEW_KINDS}")));
    let (code, out, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{out}{err}");
    let text = format!("{out}{err}");
    for message in [
        "Microsoft Teams with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins v0.25.0)",
        "Telegram `bot_token_file` needs Alertmanager 0.26 or later (this stack pins v0.25.0)",
        "Telegram `message_thread_id` needs Alertmanager 0.28 or later (this stack pins v0.25.0)",
        "Discord with the webhook URL from a file needs Alertmanager 0.28 or later (this stack pins v0.25.0)",
    ] {
        assert!(text.contains(message), "{message} in\n{text}");
    }
    assert!(text.contains("stack.yaml:"), "positions: {text}");
    let (code, _, _) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1);
    assert!(!dir.path().join("alertmanager").exists(), "nothing written");
}

#[test]
fn every_kind_maps_to_an_alertmanager_config_the_crd_accepts() {
    let all = format!("{OLD_KINDS}{NEW_KINDS}");
    let dir = tempfile::tempdir().unwrap();
    let r = kubernetes_support::render(&spec("v0.34.0", &all), dir.path(), None, None);
    let configs: Vec<serde_json::Value> = kubernetes_support::manifests(&r.tree)
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["kind"] == "AlertmanagerConfig")
        .collect();
    assert_eq!(configs.len(), 1);
    let errors = kubernetes_support::crd_errors(&configs[0]);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let receiver = &configs[0]["spec"]["receivers"][0];
    for key in [
        "emailConfigs",
        "slackConfigs",
        "pagerdutyConfigs",
        "webhookConfigs",
        "msteamsv2Configs",
        "opsgenieConfigs",
        "telegramConfigs",
        "discordConfigs",
    ] {
        assert!(receiver[key].is_array(), "{key} in {receiver:#}");
    }
    assert_eq!(receiver["telegramConfigs"][0]["chatID"], -1001234567890i64);
    assert_eq!(
        receiver["discordConfigs"][0]["apiURL"],
        serde_json::json!({"name": "receivers-secrets", "key": "dc"})
    );
}
