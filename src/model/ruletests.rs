//! The spec's tests: rule unit tests (`tests:`, the shape of `promtool test
//! rules` test groups, rendered to `prometheus/tests/*.yml`) and routing
//! expectations (`alerting.tests`: labels → the receivers they reach).
//!
//! Field names are promtool's, so a test group can be pasted in from an
//! existing promtool test file (less `rule_files`, which the stack knows).

use super::types::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule test group: input series and what the rules produce from them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    /// Names the test in reports and its rendered file `prometheus/tests/NAME.yml`.
    pub name: String,
    /// Spacing of the input samples (default `1m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Duration>,
    /// How often the rules are evaluated in this test; Prometheus's
    /// `evaluation_interval` by default. A suite spanning days can
    /// evaluate every few minutes: promtool evaluates every rule file at
    /// each step, so at 15s a week costs minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_interval: Option<Duration>,
    /// `$externalLabels` for annotation templates; Prometheus's
    /// `external_labels` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_labels: Option<BTreeMap<String, String>>,
    /// `$externalURL` for annotation templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_series: Vec<InputSeries>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_rule_test: Vec<AlertTest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promql_expr_test: Vec<ExprTest>,
}

/// A series and its samples in expanding notation: `0+10x20`, `1 _ 3`, `stale`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    /// `metric{label="value", ...}`.
    pub series: String,
    pub values: String,
}

/// The alerts of one alerting rule (by its name) at one time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    pub eval_time: Duration,
    pub alertname: String,
    /// The firing alerts expected; empty: the rule does not fire.
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    /// Every label of the alert but `alertname` (the rule's labels included).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exp_labels: BTreeMap<String, String>,
    /// Every annotation, with its templates expanded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exp_annotations: BTreeMap<String, String>,
}

/// A PromQL expression (a recorded series' name, typically) at one time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExprTest {
    pub expr: String,
    pub eval_time: Duration,
    /// The expected result; empty: no series.
    #[serde(default)]
    pub exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    /// `metric{label="value"}` or `{label="value"}`; empty for a scalar.
    #[serde(default)]
    pub labels: String,
    pub value: f64,
}

/// `alerting.tests[]`: an alert with these labels reaches these receivers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteTest {
    pub labels: BTreeMap<String, String>,
    /// Receivers in Alertmanager's order (`amtool config routes test`'s answer).
    pub receivers: Vec<String>,
    /// RFC 3339 time: then routes muted (or not active) at that time are left
    /// out of the answer, as Alertmanager would not notify them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}
