//! The rule file of one SLO: recording rules for the SLI's error ratio at
//! every window the alerts read, the SLO's meta series (objective, budget,
//! burn rate, budget remaining), and the page and ticket burn-rate alerts.
//!
//! Names follow sloth's (`slo:sli_error:ratio_rate5m`, `slo:objective:ratio`,
//! `slo:period_error_budget_remaining:ratio`), with `slo_id`, `slo_service`,
//! `slo_name` and `slo_window` labels where sloth has `sloth_*`; docs/slos.md
//! compares the two rule by rule.
//!
//! Windows of a day or more are derived from the recorded shortest window
//! (`sum_over_time` of the recorded error and event rates) rather than
//! re-reading every raw series over days at each evaluation.

use super::windows::{self, BurnWindow, Severity};
use super::{Ids, Kind};
use crate::model::slo::Slo;
use crate::model::stack::{Rule, RuleGroup};
use crate::model::types::LabelName;
use std::collections::BTreeMap;

pub const ERROR_RATIO: &str = "slo:sli_error:ratio_rate";
pub const ERROR_EVENTS: &str = "slo:sli_error_events:rate";
pub const EVENTS: &str = "slo:sli_events:rate";
pub const INDICATOR: &str = "slo:sli_error:indicator";
pub const OBJECTIVE: &str = "slo:objective:ratio";
pub const BUDGET: &str = "slo:error_budget:ratio";
pub const PERIOD_DAYS: &str = "slo:time_period:days";
pub const CURRENT_BURN: &str = "slo:current_burn_rate:ratio";
pub const PERIOD_BURN: &str = "slo:period_burn_rate:ratio";
pub const BUDGET_REMAINING: &str = "slo:period_error_budget_remaining:ratio";

/// The placeholder for the range in ratio queries.
pub const WINDOW: &str = "$window";

/// The groups of the SLO's rule file.
pub fn groups(slo: &Slo, ids: &Ids) -> Vec<RuleGroup> {
    let period = ids.period_ms;
    let all = windows::all_windows(period);
    let base = all[0];
    let selector = ids.selector();
    let mut sli = Vec::new();
    match ids.kind(slo) {
        Kind::Events { errors, total } => {
            let base_text = windows::duration_text(base);
            sli.push(record(
                &format!("{ERROR_EVENTS}{base_text}"),
                errors.replace(WINDOW, &base_text),
                ids.labels(slo, None),
            ));
            sli.push(record(
                &format!("{EVENTS}{base_text}"),
                total.replace(WINDOW, &base_text),
                ids.labels(slo, None),
            ));
            for &w in &all {
                let text = windows::duration_text(w);
                let expr = if w == base {
                    format!(
                        "{ERROR_EVENTS}{base_text}{selector}\n/\n{EVENTS}{base_text}{selector}\n"
                    )
                } else if windows::derived(w, period) {
                    format!(
                        "sum_over_time({ERROR_EVENTS}{base_text}{selector}[{text}])\n/\nsum_over_time({EVENTS}{base_text}{selector}[{text}])\n"
                    )
                } else {
                    format!(
                        "({})\n/\n({})\n",
                        errors.replace(WINDOW, &text),
                        total.replace(WINDOW, &text)
                    )
                };
                sli.push(record(
                    &format!("{ERROR_RATIO}{text}"),
                    expr,
                    ids.labels(slo, Some(&text)),
                ));
            }
        }
        Kind::Gauge { bad } => {
            sli.push(record(INDICATOR, bad, ids.labels(slo, None)));
            for &w in &all {
                let text = windows::duration_text(w);
                sli.push(record(
                    &format!("{ERROR_RATIO}{text}"),
                    format!("avg_over_time({INDICATOR}{selector}[{text}])"),
                    ids.labels(slo, Some(&text)),
                ));
            }
        }
    }
    let budget = windows::number(ids.budget);
    let base_text = windows::duration_text(base);
    let period_text = windows::duration_text(period);
    let meta = vec![
        record(
            OBJECTIVE,
            format!("vector({})", windows::number(ids.objective_ratio())),
            ids.labels(slo, None),
        ),
        record(BUDGET, format!("vector({budget})"), ids.labels(slo, None)),
        record(
            PERIOD_DAYS,
            format!("vector({})", windows::number(period as f64 / 86_400_000.0)),
            ids.labels(slo, None),
        ),
        record(
            CURRENT_BURN,
            format!("{ERROR_RATIO}{base_text}{selector} / {budget}"),
            ids.labels(slo, None),
        ),
        record(
            PERIOD_BURN,
            format!("{ERROR_RATIO}{period_text}{selector} / {budget}"),
            ids.labels(slo, None),
        ),
        record(
            BUDGET_REMAINING,
            format!("1 - {PERIOD_BURN}{selector}"),
            ids.labels(slo, None),
        ),
    ];
    let mut out = vec![
        RuleGroup {
            name: format!("slo-sli-recordings-{}", ids.id),
            interval: None,
            limit: None,
            rules: sli,
        },
        RuleGroup {
            name: format!("slo-meta-recordings-{}", ids.id),
            interval: None,
            limit: None,
            rules: meta,
        },
    ];
    if ids.alerts {
        out.push(RuleGroup {
            name: format!("slo-alerts-{}", ids.id),
            interval: None,
            limit: None,
            rules: [Severity::Page, Severity::Ticket]
                .into_iter()
                .map(|s| alert(slo, ids, s))
                .collect(),
        });
    }
    out
}

fn record(name: &str, expr: String, labels: BTreeMap<LabelName, String>) -> Rule {
    Rule {
        record: Some(name.to_string()),
        alert: None,
        expr,
        for_: None,
        keep_firing_for: None,
        labels,
        annotations: BTreeMap::new(),
    }
}

/// `(short > f×budget and long > f×budget) or (…)` for the two conditions of
/// one severity, as sloth writes it: `max … without (slo_window)` makes the two
/// windows' series match.
pub fn alert_expr(ids: &Ids, conditions: &[BurnWindow]) -> String {
    let budget = windows::number(ids.budget);
    let selector = ids.selector();
    conditions
        .iter()
        .map(|c| {
            let threshold = format!("({} * {budget})", windows::number(c.factor));
            let side = |w: u64| {
                format!(
                    "    max({ERROR_RATIO}{}{selector} > {threshold}) without (slo_window)",
                    windows::duration_text(w)
                )
            };
            format!("(\n{}\n    and\n{}\n)", side(c.short_ms), side(c.long_ms))
        })
        .collect::<Vec<_>>()
        .join("\nor\n")
        + "\n"
}

fn alert(slo: &Slo, ids: &Ids, severity: Severity) -> Rule {
    let conditions: Vec<BurnWindow> = windows::burn_windows(ids.period_ms)
        .into_iter()
        .filter(|w| w.severity == severity)
        .collect();
    let mut labels = ids.labels(slo, None);
    let (default_severity, own) = match severity {
        Severity::Page => (
            "critical",
            slo.alerting.as_ref().and_then(|a| a.page.as_ref()),
        ),
        Severity::Ticket => (
            "warning",
            slo.alerting.as_ref().and_then(|a| a.ticket.as_ref()),
        ),
    };
    labels.insert(label("severity"), default_severity.to_string());
    labels.insert(label("slo_severity"), severity.as_str().to_string());
    if let Some(alerting) = &slo.alerting {
        labels.extend(alerting.labels.clone());
    }
    if let Some(own) = own {
        labels.extend(own.labels.clone());
    }
    let objective = windows::number(slo.objective);
    let period = windows::duration_text(ids.period_ms);
    let how = conditions
        .iter()
        .map(|c| {
            format!(
                "{}% of the budget burns in {} ({}× the sustainable rate, confirmed over {})",
                windows::number(c.budget_percent),
                windows::duration_text(c.long_ms),
                windows::number(c.factor),
                windows::duration_text(c.short_ms)
            )
        })
        .collect::<Vec<_>>()
        .join(" or ");
    let mut annotations = BTreeMap::new();
    annotations.insert(
        label("summary"),
        format!(
            "{{{{ $labels.slo_service }}}} is burning the error budget of its {{{{ $labels.slo_name }}}} SLO too fast ({})",
            severity.as_str()
        ),
    );
    annotations.insert(
        label("description"),
        format!(
            "The error ratio is {{{{ $value | humanizePercentage }}}} over the short window; the SLO allows {} of errors over {period} (objective {objective}%). This alert fires when {how}.",
            percent(ids.budget),
        ),
    );
    if let Some(url) = &slo.runbook_url {
        annotations.insert(label("runbook_url"), url.clone());
    }
    if let Some(alerting) = &slo.alerting {
        annotations.extend(alerting.annotations.clone());
    }
    Rule {
        record: None,
        alert: Some(ids.alert_name.clone()),
        expr: alert_expr(ids, &conditions),
        for_: None,
        keep_firing_for: None,
        labels,
        annotations,
    }
}

/// `0.001` as `0.1%`.
fn percent(ratio: f64) -> String {
    format!("{}%", windows::number(ratio * 100.0))
}

pub(super) fn label(name: &str) -> LabelName {
    LabelName::new(name).expect("a valid label name written in code")
}

/// `le` as the clients write the bound: `0.5`; `1` (Go) and `1.0` (Python,
/// and Prometheus 3, which normalises classic histograms' `le`) both match 1.
pub fn le_matcher(threshold: f64) -> String {
    let shortest = format!("{threshold}");
    if threshold.fract() == 0.0 && !shortest.contains(['e', '.']) {
        format!("le=~\"{shortest}|{shortest}\\\\.0\"")
    } else {
        format!("le=\"{shortest}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_matches_every_client_spelling() {
        assert_eq!(le_matcher(0.5), "le=\"0.5\"");
        assert_eq!(le_matcher(0.25), "le=\"0.25\"");
        assert_eq!(le_matcher(1.0), "le=~\"1|1\\\\.0\"");
        assert_eq!(le_matcher(10.0), "le=~\"10|10\\\\.0\"");
    }
}
