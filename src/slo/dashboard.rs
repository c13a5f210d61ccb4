//! The generated dashboard of a service's SLOs (`slo-SERVICE`): per SLO, the
//! SLI over the period against its objective, the error budget remaining,
//! the burn rate now and per alert window, and the burn-rate alerts firing.
//! Built as a spec dashboard, so it is checked and rendered as one.

use super::rules::{BUDGET_REMAINING, CURRENT_BURN, ERROR_RATIO, OBJECTIVE};
use super::{Ids, windows};
use crate::model::slo::Slo;
use crate::model::stack::{Dashboard, Panel, PanelKind, Query, Row, Threshold};
use crate::model::types::Duration;

/// The dashboard UID of a service's SLOs.
pub fn uid(service: &str) -> String {
    format!("slo-{service}")
}

pub fn dashboard(service: &str, slos: &[&Slo]) -> Dashboard {
    Dashboard {
        uid: uid(service),
        title: Some(format!("SLOs: {service}")),
        folder: Some("SLOs".into()),
        file: None,
        bind_inputs: None,
        inputs: Default::default(),
        tags: vec!["slo".into(), service.to_string()],
        refresh: Duration::parse("1m").ok(),
        time_from: Some("now-7d".into()),
        timezone: None,
        variables: Vec::new(),
        rows: slos.iter().map(|slo| row(slo)).collect(),
    }
}

fn row(slo: &Slo) -> Row {
    let ids = Ids::of(slo);
    let sel = ids.selector();
    let period = windows::duration_text(ids.period_ms);
    let objective = ids.objective_ratio();
    let budget = windows::number(ids.budget);
    let burn = windows::burn_windows(ids.period_ms);
    let mut burn_queries: Vec<Query> = windows::all_windows(ids.period_ms)
        .into_iter()
        .filter(|&w| w != ids.period_ms)
        .map(|w| {
            let w = windows::duration_text(w);
            query(&format!("{ERROR_RATIO}{w}{sel} / {budget}"), &w, false)
        })
        .collect();
    burn_queries.truncate(7);
    let title = format!(
        "{}: {}% over {period}",
        slo.name,
        windows::number(slo.objective)
    );
    Row {
        title: Some(title),
        collapsed: None,
        panels: vec![
            Panel {
                description: slo.description.clone(),
                decimals: Some(3),
                thresholds: vec![steps(None, "red"), steps(Some(objective), "green")],
                ..panel(
                    &format!(
                        "SLI over {period} (objective {}%)",
                        windows::number(slo.objective)
                    ),
                    PanelKind::Stat,
                    6,
                    "percentunit",
                    vec![query(
                        &format!("1 - {ERROR_RATIO}{period}{sel}"),
                        "SLI",
                        true,
                    )],
                )
            },
            Panel {
                min: Some(0.0),
                max: Some(1.0),
                thresholds: vec![
                    steps(None, "red"),
                    steps(Some(0.25), "orange"),
                    steps(Some(0.5), "green"),
                ],
                ..panel(
                    &format!("Error budget remaining ({period})"),
                    PanelKind::Gauge,
                    6,
                    "percentunit",
                    vec![query(
                        &format!("{BUDGET_REMAINING}{sel}"),
                        "remaining",
                        true,
                    )],
                )
            },
            Panel {
                decimals: Some(2),
                thresholds: vec![
                    steps(None, "green"),
                    steps(Some(1.0), "orange"),
                    steps(Some(burn[0].factor), "red"),
                ],
                ..panel(
                    &format!(
                        "Burn rate now ({})",
                        windows::duration_text(windows::all_windows(ids.period_ms)[0])
                    ),
                    PanelKind::Stat,
                    6,
                    "short",
                    vec![query(&format!("{CURRENT_BURN}{sel}"), "burn rate", true)],
                )
            },
            Panel {
                thresholds: vec![steps(None, "green"), steps(Some(1.0), "red")],
                ..panel(
                    "Burn-rate alerts firing",
                    PanelKind::Stat,
                    6,
                    "short",
                    vec![query(
                        &format!(
                            "count(ALERTS{{alertname=\"{}\", slo_id=\"{}\", alertstate=\"firing\"}}) or vector(0)",
                            ids.alert_name, ids.id
                        ),
                        "firing",
                        true,
                    )],
                )
            },
            Panel {
                min: None,
                max: Some(1.0),
                ..panel(
                    "SLI vs objective",
                    PanelKind::Timeseries,
                    8,
                    "percentunit",
                    vec![
                        query(
                            &format!(
                                "1 - {ERROR_RATIO}{}{sel}",
                                windows::duration_text(burn[0].short_ms)
                            ),
                            "SLI (short window)",
                            false,
                        ),
                        query(
                            &format!(
                                "1 - {ERROR_RATIO}{}{sel}",
                                windows::duration_text(burn[0].long_ms)
                            ),
                            "SLI (long window)",
                            false,
                        ),
                        query(&format!("{OBJECTIVE}{sel}"), "objective", false),
                    ],
                )
            },
            Panel {
                thresholds: vec![steps(None, "green"), steps(Some(0.0), "red")],
                ..panel(
                    &format!("Error budget remaining over {period}"),
                    PanelKind::Timeseries,
                    8,
                    "percentunit",
                    vec![query(
                        &format!("{BUDGET_REMAINING}{sel}"),
                        "remaining",
                        false,
                    )],
                )
            },
            Panel {
                min: Some(0.0),
                thresholds: vec![
                    steps(None, "green"),
                    steps(Some(1.0), "orange"),
                    steps(Some(burn[0].factor), "red"),
                ],
                ..panel(
                    "Burn rate per window",
                    PanelKind::Timeseries,
                    8,
                    "short",
                    burn_queries,
                )
            },
        ],
    }
}

fn panel(title: &str, kind: PanelKind, width: u8, unit: &str, queries: Vec<Query>) -> Panel {
    Panel {
        title: title.to_string(),
        kind,
        description: None,
        width: Some(width),
        height: Some(if kind == PanelKind::Timeseries { 8 } else { 5 }),
        datasource: None,
        unit: Some(unit.to_string()),
        min: None,
        max: None,
        decimals: None,
        thresholds: Vec::new(),
        reduce: None,
        stacked: None,
        axis_label: None,
        queries,
    }
}

fn steps(value: Option<f64>, color: &str) -> Threshold {
    Threshold {
        value,
        color: color.to_string(),
    }
}

fn query(expr: &str, legend: &str, instant: bool) -> Query {
    Query {
        expr: expr.to_string(),
        legend: Some(legend.to_string()),
        instant: instant.then_some(true),
        metric: None,
        field: None,
        group_by: None,
        service: None,
        operation: None,
        tags: None,
        min_duration: None,
        max_duration: None,
        limit: None,
    }
}
