//! Service level objectives (`slos:`) turned into what a stack runs: each SLO
//! becomes one rule file (`rules.rs`: SLI error ratios per window, budget
//! series, page and ticket burn-rate alerts) and a row of its service's
//! generated dashboard (`dashboard.rs`). `check.rs` validates them.
//!
//! `expand` adds the generated rule files and dashboards to the stack right
//! after loading, so every later step — the other checks, both render targets
//! (the Kubernetes target's PrometheusRules), `up` and `verify` — sees them as
//! it sees hand-written ones, and a finding in generated output is reported at
//! the SLO it came from (`relocate`).

pub mod check;
pub mod dashboard;
pub mod rules;
pub mod windows;

use crate::diag::Diagnostic;
use crate::model::slo::{AlertStrategy, Slo};
use crate::model::types::LabelName;
use crate::model::{Kind as Component, Stack};
use crate::yaml::node::Seg;
use std::collections::{BTreeMap, BTreeSet};

/// The default compliance period.
pub const DEFAULT_WINDOW_MS: u64 = windows::BASE_PERIOD_MS;

/// Labels stackctl sets on every SLO series; a spec's `labels:` may not.
pub const RESERVED_LABELS: [&str; 5] = [
    "slo_id",
    "slo_service",
    "slo_name",
    "slo_window",
    "slo_severity",
];

/// The names and numbers of one SLO that its rules and dashboard share.
#[derive(Debug, Clone)]
pub struct Ids {
    /// `SERVICE-NAME`, the `slo_id` label.
    pub id: String,
    pub service: String,
    pub name: String,
    pub period_ms: u64,
    /// The error budget as a ratio: 0.001 for 99.9%.
    pub budget: f64,
    pub alert_name: String,
    /// Burn-rate alerts are generated (not `strategy: none`).
    pub alerts: bool,
    /// The `rules:` key of its rule file.
    pub file: String,
}

impl Ids {
    pub fn of(slo: &Slo) -> Ids {
        let id = format!("{}-{}", slo.service, slo.name);
        let alerting = slo.alerting.as_ref();
        Ids {
            file: format!("slo-{id}"),
            alert_name: alerting.and_then(|a| a.name.clone()).unwrap_or_else(|| {
                format!("{}{}BudgetBurn", camel(&slo.service), camel(&slo.name))
            }),
            alerts: alerting.and_then(|a| a.strategy) != Some(AlertStrategy::None),
            service: slo.service.clone(),
            name: slo.name.clone(),
            period_ms: slo
                .window
                .as_ref()
                .map_or(DEFAULT_WINDOW_MS, |w| w.millis()),
            // Rounded: `1 - 0.999` is 0.0009999999999999432 in binary.
            budget: windows::round((100.0 - slo.objective) / 100.0, 12),
            id,
        }
    }

    pub fn objective_ratio(&self) -> f64 {
        windows::round(1.0 - self.budget, 12)
    }

    /// The selector of this SLO's recorded series.
    pub fn selector(&self) -> String {
        format!("{{slo_id=\"{}\"}}", self.id)
    }

    /// The SLO's own labels and its identity (and `slo_window` when given).
    pub fn labels(&self, slo: &Slo, window: Option<&str>) -> BTreeMap<LabelName, String> {
        let mut labels = slo.labels.clone();
        labels.insert(rules::label("slo_id"), self.id.clone());
        labels.insert(rules::label("slo_service"), self.service.clone());
        labels.insert(rules::label("slo_name"), self.name.clone());
        if let Some(w) = window {
            labels.insert(rules::label("slo_window"), w.to_string());
        }
        labels
    }

    /// What the SLI measures, as PromQL with `$window` for the range.
    pub fn kind(&self, slo: &Slo) -> Kind {
        kind(slo).unwrap_or(Kind::Gauge {
            bad: "vector(0)".into(),
        })
    }
}

/// An SLI as the rules read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Bad events and all events per second over `$window`.
    Events { errors: String, total: String },
    /// 1 while the gauge is bad, 0 while good (sampled each evaluation).
    Gauge { bad: String },
}

/// The SLI of `slo`; `None` unless exactly one kind is fully given.
pub fn kind(slo: &Slo) -> Option<Kind> {
    let sli = &slo.sli;
    if sli.kinds_set() != 1 {
        return None;
    }
    if let Some(r) = &sli.ratio {
        let total = window_query(&r.total);
        return match (&r.errors, &r.good) {
            (Some(e), None) => Some(Kind::Events {
                errors: window_query(e),
                total,
            }),
            (None, Some(g)) => Some(Kind::Events {
                errors: format!("({total}) - ({})", window_query(g)),
                total,
            }),
            _ => None,
        };
    }
    if let Some(l) = &sli.latency {
        let by = if l.group_by.is_empty() {
            "sum".to_string()
        } else {
            let names: Vec<&str> = l.group_by.iter().map(LabelName::as_str).collect();
            format!("sum by ({}) ", names.join(", "))
        };
        let matchers = l.matchers.join(", ");
        let with_le = if matchers.is_empty() {
            rules::le_matcher(l.threshold)
        } else {
            format!("{matchers}, {}", rules::le_matcher(l.threshold))
        };
        let total = format!(
            "{by}(rate({}_count{{{matchers}}}[{}]))",
            l.histogram,
            rules::WINDOW
        );
        let good = format!(
            "{by}(rate({}_bucket{{{with_le}}}[{}]))",
            l.histogram,
            rules::WINDOW
        );
        return Some(Kind::Events {
            errors: format!("({total}) - ({good})"),
            total,
        });
    }
    let t = sli.threshold.as_ref()?;
    let bad = match (t.min, t.max) {
        (Some(min), None) => format!("({}) < bool {}", t.query.trim(), windows::number(min)),
        (None, Some(max)) => format!("({}) > bool {}", t.query.trim(), windows::number(max)),
        _ => return None,
    };
    Some(Kind::Gauge { bad })
}

/// A ratio query with its `$window`; a bare selector is read as
/// `sum(rate(SELECTOR[$window]))`.
pub fn window_query(query: &str) -> String {
    let query = query.trim();
    if query.contains(rules::WINDOW) {
        query.to_string()
    } else if is_selector(query) {
        format!("sum(rate({query}[{}]))", rules::WINDOW)
    } else {
        query.to_string()
    }
}

/// `name` or `name{…}` (or `{…}`): nothing to aggregate or range over yet.
pub fn is_selector(query: &str) -> bool {
    let name_end = query
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(query.len());
    if query.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let rest = &query[name_end..];
    if rest.is_empty() {
        return name_end > 0;
    }
    if !rest.starts_with('{') {
        return false;
    }
    // The first `}` outside a quoted value must end the query.
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None if c == '}' => return i + 1 == rest.len(),
            None => {}
        }
    }
    false
}

/// `anomaly-detection` → `AnomalyDetection`.
fn camel(text: &str) -> String {
    text.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// What `expand` added, to place later findings at their SLO.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Rule file key → SLO index.
    files: BTreeMap<String, usize>,
    /// Index in `dashboards:` → the first SLO of its service.
    dashboards: BTreeMap<usize, usize>,
}

/// Adds the rule files and dashboards of every SLO that is not in `skip`
/// (those `check` found errors in) to the stack.
pub fn expand(stack: &mut Stack, skip: &BTreeSet<usize>) -> Expansion {
    let mut expansion = Expansion::default();
    if stack.slos.is_empty() || !stack.has(Component::Prometheus) {
        return expansion;
    }
    let mut services: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, slo) in stack.slos.iter().enumerate() {
        if skip.contains(&i) || kind(slo).is_none() {
            continue;
        }
        let ids = Ids::of(slo);
        if stack.rules.contains_key(&ids.file) {
            continue;
        }
        stack
            .rules
            .insert(ids.file.clone(), rules::groups(slo, &ids));
        expansion.files.insert(ids.file, i);
        services.entry(slo.service.clone()).or_default().push(i);
    }
    if stack.has(Component::Grafana) {
        for (service, members) in services {
            let uid = dashboard::uid(&service);
            if stack.dashboards.iter().any(|d| d.uid == uid) {
                continue;
            }
            let slos: Vec<&Slo> = members.iter().map(|&i| &stack.slos[i]).collect();
            let dash = dashboard::dashboard(&service, &slos);
            expansion
                .dashboards
                .insert(stack.dashboards.len(), members[0]);
            stack.dashboards.push(dash);
        }
    }
    expansion
}

impl Expansion {
    /// Findings about generated rules or dashboards are moved to the SLO they
    /// come from; the metric findings are dropped, as `check` reports those at
    /// the SLI query itself.
    pub fn relocate(&self, found: &mut Vec<Diagnostic>) {
        if self.files.is_empty() && self.dashboards.is_empty() {
            return;
        }
        found.retain_mut(|d| {
            let Some(path) = &d.path else { return true };
            let slo = match path.as_slice() {
                [Seg::Key(rules), Seg::Key(file), ..] if rules == "rules" => self.files.get(file),
                [Seg::Key(dash), Seg::Index(i), ..] if dash == "dashboards" => {
                    self.dashboards.get(i)
                }
                _ => return true,
            };
            let Some(&slo) = slo else { return true };
            if d.code
                .is_some_and(|c| c.starts_with("metric-") || c == "recording-rule-missing")
            {
                return false;
            }
            d.message = format!(
                "in the rules and dashboard generated for this SLO: {}",
                d.message
            );
            d.path = Some(crate::path!["slos", slo]);
            d.offset = None;
            d.on_key = false;
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_wrapped_queries_kept() {
        assert_eq!(
            window_query("http_requests_total{code=~\"5..\"}"),
            "sum(rate(http_requests_total{code=~\"5..\"}[$window]))"
        );
        assert_eq!(
            window_query("sum(rate(x[$window]))"),
            "sum(rate(x[$window]))"
        );
        assert!(is_selector("x"));
        assert!(is_selector("{__name__=\"x\"}"));
        assert!(!is_selector("sum(x)"));
        assert!(!is_selector("x > 1"));
        assert!(!is_selector("x{a=\"b\"} / y{c=\"d\"}"));
        assert!(is_selector("x{a=\"}\"}"));
        assert_eq!(camel("anomaly-detection"), "AnomalyDetection");
    }
}

#[cfg(test)]
mod check_tests;
