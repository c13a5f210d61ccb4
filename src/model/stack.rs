//! `Stack`: the whole `stack.yaml`, exactly as written (unknown keys rejected).
//!
//! Field names are the YAML keys. Optional fields stay `Option` so that an
//! absent value is visibly "the default", resolved in `catalog.rs`.

use super::components::Components;
use super::types::{Duration, LabelName, Matcher};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The spec format this build reads.
pub const SPEC_VERSION: u32 = 1;

thread_local! {
    static WITHOUT_RULES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn skip_rules(rules: &BTreeMap<String, Vec<RuleGroup>>) -> bool {
    rules.is_empty() || WITHOUT_RULES.with(|w| w.get())
}

/// Runs `f` with `rules` left out of every `Stack` serialised on this thread:
/// the checks that walk every string of the spec take the rule groups (nearly
/// all of a large spec) one at a time instead of holding a copy of all of them.
pub fn serialising_without_rules<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            WITHOUT_RULES.with(|w| w.set(self.0));
        }
    }
    let _reset = Reset(WITHOUT_RULES.with(|w| w.replace(true)));
    f()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// Spec format version; must be 1.
    pub stackctl: u32,
    /// Project name: the Compose project, prefix of containers, network and volumes.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub network: Network,
    /// Secret files by name; configs reference them, never their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, Secret>,
    pub components: Components,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scrape_jobs: Vec<ScrapeJob>,
    /// Blackbox probe jobs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeJob>,
    /// Rule groups by rule file: `alerts: [...]` becomes `prometheus/rules/alerts.yml`.
    #[serde(default, skip_serializing_if = "skip_rules")]
    pub rules: BTreeMap<String, Vec<RuleGroup>>,
    /// Service level objectives: each becomes a rule file
    /// (`prometheus/rules/slo-SERVICE-NAME.yml`) and a part of its service's
    /// dashboard (see `crate::slo`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<super::slo::Slo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting: Option<Alerting>,
    /// Grafana datasources; derived from the components when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasources: Option<Vec<Datasource>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<Dashboard>,
    #[serde(default)]
    pub logs: Logs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<Kubernetes>,
    /// What `stackctl validate` leaves out on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<ValidateSettings>,
    /// Authentication and TLS for the UIs and APIs (see `security.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<super::security::Security>,
    /// Remote hosts with their agents (see `hosts.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, super::hosts::Host>,
    /// Rule unit tests (`stackctl test`), rendered to `prometheus/tests/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<super::ruletests::RuleTest>,
}

/// `validate:` — findings silenced on purpose.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValidateSettings {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<Ignore>,
}

/// One silenced finding code: everywhere, or only inside one rule group
/// (by name, in any rule file) or one dashboard (by `uid`). Errors are never
/// silenced: only warnings and notes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Host address ports are published on (default `127.0.0.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_address: Option<String>,
    /// Registry or mirror prefixed to every default image, e.g. `registry.local:5000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
            RestartPolicy::OnFailure => "on-failure",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Existing Docker networks to join, where the monitored services run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attach: Vec<String>,
    /// Hosts outside the stack that scrape jobs may name. The value is an IP
    /// address, `host-gateway`, or empty when the name resolves on an attached network.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub external_hosts: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// File holding the value, relative to the stack directory (default `secrets/NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `init` writes a random value (a password or key) instead of an empty placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScrapeJob {
    /// The Prometheus `job_name` (and the `job` label).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Static targets, `host:port`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Labels added to every target of the job.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Scheme>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honor_labels: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honor_timestamps: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// Secret holding a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_secret: Option<String>,
    /// A bearer token file inside the Prometheus container (e.g. a Kubernetes
    /// service-account token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// Kubernetes service discovery, for a Prometheus that runs in a cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd: Vec<KubernetesSd>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relabel_configs: Vec<Relabel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_relabel_configs: Vec<Relabel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_limit: Option<u64>,
    /// How the Kubernetes target selects this job's pods or services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesJob>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    /// Secret holding the password.
    pub password_secret: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Paths inside the Prometheus container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSd {
    pub role: KubernetesRole,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KubernetesRole {
    Node,
    Service,
    Pod,
    Endpoints,
    Endpointslice,
    Ingress,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Relabel {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modulus: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<RelabelAction>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RelabelAction {
    Replace,
    Keep,
    Drop,
    Keepequal,
    Dropequal,
    Hashmod,
    Labelmap,
    Labeldrop,
    Labelkeep,
    Lowercase,
    Uppercase,
}

impl RelabelAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RelabelAction::Replace => "replace",
            RelabelAction::Keep => "keep",
            RelabelAction::Drop => "drop",
            RelabelAction::Keepequal => "keepequal",
            RelabelAction::Dropequal => "dropequal",
            RelabelAction::Hashmod => "hashmod",
            RelabelAction::Labelmap => "labelmap",
            RelabelAction::Labeldrop => "labeldrop",
            RelabelAction::Labelkeep => "labelkeep",
            RelabelAction::Lowercase => "lowercase",
            RelabelAction::Uppercase => "uppercase",
        }
    }
}

/// Where the Kubernetes target finds a scrape job's endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KubernetesJob {
    /// `service` (ServiceMonitor, the default) or `pod` (PodMonitor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<MonitorKind>,
    /// Label selector of the Services or Pods (default `app.kubernetes.io/name: JOB`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
    /// Name of the port to scrape (default `metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Namespaces to look in (default the release namespace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MonitorKind {
    Service,
    Pod,
}

/// Settings for `render --target kubernetes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Kubernetes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Helm release name of kube-prometheus-stack (its `release` label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// A blackbox exporter probe job: each target is probed with `module`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeJob {
    /// The Prometheus `job_name`.
    pub name: String,
    pub module: String,
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// Most alerts or series a rule of the group may produce (0 = no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    pub rules: Vec<Rule>,
}

/// A recording rule (`record`) or an alerting rule (`alert`), as in Prometheus.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub for_: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<Duration>,
    /// Any non-empty names (Prometheus 3 takes UTF-8 names); names the
    /// pinned release rejects are reported by `check::rules`.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "LabelName::deserialize_utf8_map"
    )]
    pub labels: BTreeMap<LabelName, String>,
    /// Prometheus template text: `{{ $value }}`, `{{ $labels.instance }}` reach
    /// the rule file unchanged.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "LabelName::deserialize_utf8_map"
    )]
    pub annotations: BTreeMap<LabelName, String>,
}

impl Rule {
    pub fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RemoteWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub write_relabel_configs: Vec<Relabel>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alerting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    /// Secret with the default Slack webhook URL for every Slack receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_api_url_secret: Option<String>,
    pub route: Route,
    pub receivers: Vec<Receiver>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inhibit_rules: Vec<InhibitRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<TimeInterval>,
    /// The generated always-firing `Watchdog` alert and where it goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<super::watchdog::Watchdog>,
    /// Routing expectations, checked by `validate` (see `routes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<super::ruletests::RouteTest>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// `host:port` of the mail relay.
    pub smarthost: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// Secret holding the SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_password_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<Matcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<Duration>,
    #[serde(rename = "continue", default, skip_serializing_if = "Option::is_none")]
    pub continue_: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<EmailNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack: Vec<SlackNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pagerduty: Vec<PagerdutyNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook: Vec<WebhookNotifier>,
    /// Microsoft Teams (Workflows webhook; Alertmanager 0.28 and later).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub msteams: Vec<super::receivers::MsTeamsNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opsgenie: Vec<super::receivers::OpsgenieNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telegram: Vec<super::receivers::TelegramNotifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discord: Vec<super::receivers::DiscordNotifier>,
}

impl Receiver {
    pub fn notifier_count(&self) -> usize {
        self.email.len()
            + self.slack.len()
            + self.pagerduty.len()
            + self.webhook.len()
            + self.msteams.len()
            + self.opsgenie.len()
            + self.telegram.len()
            + self.discord.len()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailNotifier {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Plain-text body (Alertmanager template syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackNotifier {
    pub channel: String,
    /// Secret with this receiver's webhook URL (default: `alerting.slack_api_url_secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyNotifier {
    /// Secret with the Events API v2 routing (integration) key.
    pub routing_key_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifier {
    /// The URL written into the config (not secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Secret holding the URL instead (Alertmanager 0.26 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_alerts: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InhibitRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_matchers: Vec<Matcher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_matchers: Vec<Matcher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}

/// A named set of time ranges for muting (maintenance windows) or activating routes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimeInterval {
    pub name: String,
    pub time_intervals: Vec<TimeRange>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<ClockRange>,
    /// e.g. `monday:friday`, `saturday`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<String>,
    /// e.g. `1:5`, `-1`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_of_month: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<String>,
    /// IANA time zone, e.g. `Europe/Berlin` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClockRange {
    /// `HH:MM`.
    pub start_time: String,
    pub end_time: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Datasource {
    pub name: String,
    /// Stable UID that dashboards refer to.
    pub uid: String,
    #[serde(rename = "type")]
    pub kind: DatasourceKind,
    /// Default: the stack's own component of that type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<bool>,
    /// Elasticsearch: index pattern, e.g. `app-logs-*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Elasticsearch: the time field (default `@timestamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_field: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum DatasourceKind {
    Prometheus,
    Loki,
    Jaeger,
    Tempo,
    Elasticsearch,
    Alertmanager,
}

impl DatasourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasourceKind::Prometheus => "prometheus",
            DatasourceKind::Loki => "loki",
            DatasourceKind::Jaeger => "jaeger",
            DatasourceKind::Tempo => "tempo",
            DatasourceKind::Elasticsearch => "elasticsearch",
            DatasourceKind::Alertmanager => "alertmanager",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// Stable UID (also the file name: `grafana/dashboards/UID.json`).
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// A dashboard JSON file brought as is, relative to the stack directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A `file` exported for sharing (`__inputs`, `${DS_PROMETHEUS}`): bind
    /// each datasource input to the stack's datasource of its type, and each
    /// constant to its default, when rendering (file provisioning does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_inputs: Option<bool>,
    /// Explicit bindings of a `file`'s `__inputs`: input name → datasource
    /// UID (or a constant's value). Implies binding these inputs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Duration>,
    /// Start of the default time range, e.g. `now-1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Row>,
}

/// A dashboard template variable filled from a Prometheus label.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// e.g. `label_values(up, job)`.
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_all: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Row {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapsed: Option<bool>,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: PanelKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Width in grid columns, 1–24 (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u8>,
    /// Height in grid rows (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u8>,
    /// Datasource UID (default: the default datasource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource: Option<String>,
    /// Grafana unit ID, e.g. `reqps`, `s`, `percent`, `percentunit`, `bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Colour steps; the first one has no value (the base colour).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
    /// How stat and gauge panels reduce a series (default `last`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce: Option<Reduce>,
    /// Stack the series of a time series panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacked: Option<bool>,
    /// Label of the value axis of a time series panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_label: Option<String>,
    pub queries: Vec<Query>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    Timeseries,
    Stat,
    Gauge,
    Table,
    Bargauge,
    Piechart,
    Logs,
    /// Removed in Grafana 12 (Angular); accepted only to say so precisely.
    Graph,
    /// Removed in Grafana 8; accepted only to say so precisely.
    Singlestat,
}

impl PanelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PanelKind::Timeseries => "timeseries",
            PanelKind::Stat => "stat",
            PanelKind::Gauge => "gauge",
            PanelKind::Table => "table",
            PanelKind::Bargauge => "bargauge",
            PanelKind::Piechart => "piechart",
            PanelKind::Logs => "logs",
            PanelKind::Graph => "graph",
            PanelKind::Singlestat => "singlestat",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    pub color: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Reduce {
    Last,
    Mean,
    Max,
    Min,
    Sum,
}

impl Reduce {
    pub fn grafana_calc(self) -> &'static str {
        match self {
            Reduce::Last => "lastNotNull",
            Reduce::Mean => "mean",
            Reduce::Max => "max",
            Reduce::Min => "min",
            Reduce::Sum => "sum",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// PromQL for a Prometheus datasource, LogQL for Loki, a Lucene query
    /// for Elasticsearch (empty: every document), a trace ID for Jaeger.
    #[serde(default)]
    pub expr: String,
    /// Legend, Grafana syntax: `{{instance}}` (the alias pattern for Elasticsearch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
    /// Evaluate at one instant instead of over the range (tables, stats);
    /// Prometheus and Loki only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instant: Option<bool>,
    /// Elasticsearch: the metric aggregation (default `count`; `logs` for a
    /// logs panel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<EsMetric>,
    /// Elasticsearch: the field `avg`, `sum`, `min`, `max` or `cardinality` reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Elasticsearch: split into one series per value of this field (a
    /// `terms` aggregation, top 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Jaeger: search the traces of this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Jaeger: only spans of this operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Jaeger: tag filter, logfmt (`error=true http.status_code=500`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Jaeger: traces at least this long, e.g. `500ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration: Option<String>,
    /// Jaeger: traces at most this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<String>,
    /// Jaeger: at most this many traces (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// An Elasticsearch metric aggregation, as Grafana's Elasticsearch query
/// names it (`MetricAggregationType`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EsMetric {
    Count,
    Avg,
    Sum,
    Min,
    Max,
    Cardinality,
    Logs,
    RawData,
}

impl EsMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            EsMetric::Count => "count",
            EsMetric::Avg => "avg",
            EsMetric::Sum => "sum",
            EsMetric::Min => "min",
            EsMetric::Max => "max",
            EsMetric::Cardinality => "cardinality",
            EsMetric::Logs => "logs",
            EsMetric::RawData => "raw_data",
        }
    }

    /// Whether the aggregation reads a field.
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            EsMetric::Avg | EsMetric::Sum | EsMetric::Min | EsMetric::Max | EsMetric::Cardinality
        )
    }

    /// Whether it returns documents rather than numbers over time.
    pub fn is_documents(self) -> bool {
        matches!(self, EsMetric::Logs | EsMetric::RawData)
    }
}

/// What the log shipper (Alloy or Promtail) collects.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<LogSource>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSource {
    /// Becomes the `job` label.
    pub name: String,
    /// Host file globs, e.g. `/var/log/app/*.log`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Read every container's log through the Docker API (Alloy: Docker
    /// discovery; Promtail: Docker's json-file logs). With Alloy each line
    /// carries `container` (the container name) and `service` (the Compose
    /// service) labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<bool>,
    /// With `docker`, also ship the monitoring stack's own containers' logs
    /// (default false: only the other containers on the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_stack: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipeline: Vec<Stage>,
}

/// One processing stage; exactly one key is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<RegexStage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampStage>,
    /// Extracted values to turn into labels: `level:` (same name) or `lvl: level`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<LabelName, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputStage>,
}

impl Stage {
    pub fn kinds_set(&self) -> usize {
        [
            self.json.is_some(),
            self.regex.is_some(),
            self.timestamp.is_some(),
            self.labels.is_some(),
            self.output.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonStage {
    /// Extracted name → JMESPath expression.
    pub expressions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegexStage {
    /// RE2 with named groups.
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TimestampStage {
    pub source: String,
    /// Go layout or a name: `RFC3339`, `RFC3339Nano`, `Unix`, …
    pub format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputStage {
    pub source: String,
}
