//! `slos:` — service level objectives as the spec writes them. `crate::slo`
//! checks them and turns each into its recording and alerting rules and its
//! service's dashboard; nothing here decides a default.

use super::types::{Duration, LabelName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One SLO: a service keeps `objective` percent of its events (or of the time)
/// good over `window`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Lower-case letters, digits and `-`, unique within the service.
    pub name: String,
    /// The service the SLO is about (lower-case letters, digits and `-`); its
    /// SLOs share one dashboard.
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Percent of good events, above 0 and below 100, e.g. `99.9`.
    pub objective: f64,
    /// The compliance period (default `30d`); burn-rate windows scale with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Duration>,
    pub sli: Sli,
    /// Added to every recorded series and alert of the SLO.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
    /// The alerts' `runbook_url` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerting: Option<SloAlerting>,
}

/// How the SLI is measured; exactly one kind is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sli {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<RatioSli>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySli>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSli>,
}

impl Sli {
    pub fn kinds_set(&self) -> usize {
        [
            self.ratio.is_some(),
            self.latency.is_some(),
            self.threshold.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

/// Bad (or good) events over all events. Each query is PromQL with `$window`
/// where the range goes (`sum(rate(x{code=~"5.."}[$window]))`), or a bare
/// selector (`x{code=~"5.."}`), read as `sum(rate(SELECTOR[$window]))`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RatioSli {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    pub total: String,
}

/// The fraction of requests faster than `threshold`, read from a classic
/// histogram's `_bucket{le="THRESHOLD"}` and `_count` series.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencySli {
    /// The histogram's name without `_bucket`, e.g. `http_request_duration_seconds`.
    pub histogram: String,
    /// PromQL label matchers selecting the series, e.g. `job="api"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    /// The bucket boundary (in the histogram's unit) a good request is under.
    pub threshold: f64,
    /// The histogram's bucket boundaries, when known: `threshold` must be one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<f64>,
    /// Labels kept: one SLI series per value (default: one for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<LabelName>,
}

/// The fraction of time a gauge expression is good: at least `min` or at
/// most `max` (exactly one), e.g. model accuracy at least 0.9.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSli {
    /// PromQL giving the gauge, e.g. `avg(model_accuracy_score)`.
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SloAlerting {
    /// `multiwindow` (the default): multi-window, multi-burn-rate alerts as in
    /// the SRE workbook; `none`: recording rules only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<AlertStrategy>,
    /// The alert name (default from service and SLO, e.g. `PaymentsApiAvailabilityBudgetBurn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels of both alerts, for routing (e.g. `team: payments`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
    /// Annotations of both alerts; they replace the generated ones of the same name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<LabelName, String>,
    /// The fast-burn alert (default label `severity: critical`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<SloAlert>,
    /// The slow-burn alert (default label `severity: warning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<SloAlert>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SloAlert {
    /// Replaces the default `severity` and adds any other label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlertStrategy {
    Multiwindow,
    None,
}
