//! Validation of `slos:`: names, objectives, windows, SLI queries and the
//! metrics they read, latency thresholds against histogram buckets, labels
//! and alerting. Every finding points at the field it is about.

use super::rules::WINDOW;
use super::{Ids, RESERVED_LABELS, is_selector, windows};
use crate::check::promql::{self, Dialect};
use crate::diag::Diagnostic;
use crate::model::slo::Slo;
use crate::model::{Kind, Stack};
use crate::yaml::node::Path;
use std::collections::{BTreeMap, BTreeSet};

const CODE: &str = "slo";

/// Histograms whose buckets are fixed by the program that exports them.
const KNOWN_BUCKETS: [(&str, &[f64]); 1] = [(
    // prometheus/web/web.go: the HTTP API's request durations.
    "prometheus_http_request_duration_seconds",
    &[0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0],
)];

/// Prometheus keeps 15 days unless told otherwise.
const DEFAULT_RETENTION_MS: u64 = 15 * 86_400_000;

/// The findings, and the SLOs with an error (not expanded into rules).
pub fn check(stack: &Stack) -> (Vec<Diagnostic>, BTreeSet<usize>) {
    let mut out = Vec::new();
    let mut failed = BTreeSet::new();
    if stack.slos.is_empty() {
        return (out, failed);
    }
    if !stack.has(Kind::Prometheus) {
        out.push(
            Diagnostic::error(
                "`slos:` need Prometheus, and `components.prometheus` is not enabled",
            )
            .with_hint("add `prometheus: {}` under `components:`, or remove `slos:`")
            .with_code(CODE)
            .at_key(crate::path!["slos"]),
        );
    }
    let dialect = Dialect::of(stack);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, slo) in stack.slos.iter().enumerate() {
        let mut found = Vec::new();
        let at = |field: &str| crate::path!["slos", i, field];
        for (field, value) in [("name", &slo.name), ("service", &slo.service)] {
            if !is_slug(value) {
                found.push(error(
                    at(field),
                    format!("invalid SLO {field} `{value}`"),
                    "use lower-case letters, digits and `-` (it names rule files, series labels and the dashboard), e.g. `requests-availability`",
                ));
            }
        }
        let ids = Ids::of(slo);
        if let Some(first) = seen.insert(ids.id.clone(), i) {
            found.push(error(
                at("name"),
                format!("duplicate SLO `{}` of service `{}`", slo.name, slo.service),
                format!(
                    "`slos[{first}]` has the same service and name; names are unique per service"
                ),
            ));
        }
        // A stack serialised after loading holds the expansion already: the
        // same groups are not a clash (expansion is idempotent).
        if stack
            .rules
            .get(&ids.file)
            .is_some_and(|existing| *existing != super::rules::groups(slo, &ids))
        {
            found.push(error(
                at("name"),
                format!("the rule file `{}` of this SLO is also defined under `rules:`", ids.file),
                "rename the SLO or that rule file: the SLO's rules are written to `prometheus/rules/slo-SERVICE-NAME.yml`",
            ));
        }
        let uid = super::dashboard::uid(&slo.service);
        let same_service: Vec<&Slo> = stack
            .slos
            .iter()
            .filter(|s| s.service == slo.service)
            .collect();
        if stack
            .dashboards
            .iter()
            .any(|d| d.uid == uid && *d != super::dashboard::dashboard(&slo.service, &same_service))
        {
            found.push(error(
                at("service"),
                format!(
                    "the dashboard UID `{}` of this service's SLOs is also used under `dashboards:`",
                    super::dashboard::uid(&slo.service)
                ),
                "change that dashboard's `uid`: stackctl generates `slo-SERVICE` for each service with SLOs",
            ));
        }
        objective(slo, at("objective"), &mut found);
        window(stack, slo, i, &mut found);
        sli(stack, slo, i, &dialect, &mut found);
        labels(slo, i, &mut found);
        alerting(slo, i, &mut found);
        if found.iter().any(Diagnostic::is_error) {
            failed.insert(i);
        }
        out.extend(found);
    }
    (out, failed)
}

fn error(path: Path, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::error(message)
        .with_hint(hint)
        .with_code(CODE)
        .at(path)
}

fn warning(path: Path, message: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(message)
        .with_hint(hint)
        .with_code(CODE)
        .at(path)
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn objective(slo: &Slo, path: Path, found: &mut Vec<Diagnostic>) {
    let o = slo.objective;
    if !o.is_finite() || o <= 0.0 || o >= 100.0 {
        found.push(error(
            path,
            format!("objective {} is out of range", windows::number(o)),
            "the objective is a percentage above 0 and below 100, e.g. `99.9` (100% leaves no error budget to alert on)",
        ));
    } else if o < 1.0 {
        found.push(error(
            path,
            format!(
                "objective {} is a percentage, not a ratio",
                windows::number(o)
            ),
            format!("did you mean `{}`?", windows::number(o * 100.0)),
        ));
    } else if windows::round(o, 6) != o {
        found.push(warning(
            path,
            format!("objective {o} has more than six decimals"),
            "round it: burn-rate thresholds are printed with ten",
        ));
    }
}

fn window(stack: &Stack, slo: &Slo, i: usize, found: &mut Vec<Diagnostic>) {
    let path = crate::path!["slos", i, "window"];
    let period = Ids::of(slo).period_ms;
    let day = 86_400_000;
    if period < day {
        found.push(error(
            path,
            format!("an SLO window of {} is shorter than a day", windows::duration_text(period).max("0m".into())),
            "an SLO window is a compliance period, usually `28d` or `30d`; burn-rate windows are scaled from it",
        ));
        return;
    }
    if period > 366 * day {
        found.push(error(
            path,
            format!("an SLO window of {} is longer than a year", windows::duration_text(period)),
            "use at most `365d`; Prometheus would have to keep and re-read more than a year of samples",
        ));
        return;
    }
    if period % 60_000 != 0 {
        found.push(error(
            path,
            "an SLO window must be whole minutes",
            "e.g. `30d`, `28d`, `7d`",
        ));
        return;
    }
    let Some(prom) = stack.components.prometheus.as_ref() else {
        return;
    };
    let retention = prom
        .retention_time
        .as_ref()
        .map_or(DEFAULT_RETENTION_MS, |d| d.millis());
    if retention < period {
        let what = prom
            .retention_time
            .as_ref()
            .map_or("15d (the default)".to_string(), |d| d.as_str().to_string());
        found.push(warning(
            path.clone(),
            format!(
                "Prometheus keeps {what} of samples, less than this SLO's {} window",
                windows::duration_text(period)
            ),
            format!(
                "set `components.prometheus.retention_time` to at least `{}`: the SLI over the window and the budget remaining are computed from the samples kept",
                windows::duration_text(period)
            ),
        ));
    }
    let base = windows::all_windows(period)[0];
    let scrape = stack
        .scrape_jobs
        .iter()
        .filter(|j| j.enabled != Some(false))
        .filter_map(|j| j.interval.as_ref().map(|d| d.millis()))
        .chain(prom.scrape_interval.as_ref().map(|d| d.millis()))
        .max()
        .unwrap_or(15_000);
    if base < 4 * scrape {
        found.push(warning(
            path.clone(),
            format!(
                "the shortest burn-rate window of this SLO is {}, less than four scrape intervals ({})",
                windows::duration_text(base),
                crate::model::types::Duration::parse(&format!("{}s", scrape / 1000))
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            "a rate over fewer than four samples is noisy and can be empty: use a longer `window` or scrape more often",
        ));
    }
    let eval = prom
        .evaluation_interval
        .as_ref()
        .map_or(60_000, |d| d.millis());
    if eval > base {
        found.push(warning(
            path,
            format!(
                "Prometheus evaluates rules every {}, less often than this SLO's shortest window ({})",
                windows::duration_text(eval),
                windows::duration_text(base)
            ),
            "set `components.prometheus.evaluation_interval` to at most the shortest window: the long windows are derived from its recorded samples",
        ));
    }
}

/// A query with `$window` replaced by `5m`, and how to map offsets back.
struct Prepared {
    text: String,
    /// (offset in `text`, shift to apply to offsets after it).
    shifts: Vec<(usize, isize)>,
}

impl Prepared {
    fn new(query: &str) -> Prepared {
        let mut text = String::new();
        let mut shifts = Vec::new();
        let mut rest = query;
        let mut shift = 0isize;
        if is_selector(query.trim()) && !query.contains(WINDOW) {
            // Read as `sum(rate(SELECTOR[$window]))`: offsets move by the prefix.
            text.push_str("sum(rate(");
            shift -= 9;
            shifts.push((9, shift));
            text.push_str(query.trim());
            text.push_str("[5m]))");
            return Prepared { text, shifts };
        }
        while let Some(pos) = rest.find(WINDOW) {
            text.push_str(&rest[..pos]);
            text.push_str("5m");
            shift += (WINDOW.chars().count() - 2) as isize;
            shifts.push((text.chars().count(), shift));
            rest = &rest[pos + WINDOW.len()..];
        }
        text.push_str(rest);
        Prepared { text, shifts }
    }

    fn original(&self, offset: usize) -> usize {
        let shift = self
            .shifts
            .iter()
            .rev()
            .find(|(at, _)| offset >= *at)
            .map_or(0, |(_, s)| *s);
        (offset as isize + shift).max(0) as usize
    }
}

/// Parses one PromQL field of an SLI and judges the metrics it reads.
fn query(
    stack: &Stack,
    text: &str,
    path: Path,
    windowed: bool,
    dialect: &Dialect,
    found: &mut Vec<Diagnostic>,
) {
    let prepared = if windowed {
        Prepared::new(text)
    } else {
        Prepared {
            text: text.to_string(),
            shifts: Vec::new(),
        }
    };
    if windowed && !text.contains(WINDOW) && !is_selector(text.trim()) {
        found.push(error(
            path.clone(),
            "this SLI query has no `$window`",
            "write the range as `[$window]`, e.g. `sum(rate(http_requests_total{code=~\"5..\"}[$window]))`, or give a bare selector",
        ));
        return;
    }
    match promql::analyse_in(&prepared.text, dialect) {
        Err(e) => found.push(
            Diagnostic::error(format!("invalid PromQL in the SLI: {}", e.message))
                .with_hint(crate::check::rules_promql_hint(&e.message))
                .with_code("promql")
                .at(path)
                .at_offset(prepared.original(e.offset).min(text.chars().count())),
        ),
        Ok(facts) => metrics(stack, text, &facts.metrics, path, found),
    }
}

fn metrics(stack: &Stack, text: &str, names: &[String], path: Path, found: &mut Vec<Diagnostic>) {
    for (metric, d) in crate::check::metrics_catalog::judge_metrics(stack, names) {
        let offset = text.find(metric).map_or(0, |b| text[..b].chars().count());
        found.push(d.at(path.clone()).at_offset(offset));
    }
}

fn sli(stack: &Stack, slo: &Slo, i: usize, dialect: &Dialect, found: &mut Vec<Diagnostic>) {
    let at = |rest: &[&str]| {
        let mut p = crate::path!["slos", i, "sli"];
        p.extend(
            rest.iter()
                .map(|s| crate::yaml::node::Seg::Key(s.to_string())),
        );
        p
    };
    if slo.sli.kinds_set() != 1 {
        found.push(error(
            at(&[]),
            if slo.sli.kinds_set() == 0 {
                "the SLI has no kind".to_string()
            } else {
                "the SLI has more than one kind".to_string()
            },
            "give exactly one of `ratio` (errors or good over total), `latency` (a histogram and a threshold) or `threshold` (a gauge and a min or max)",
        ));
        return;
    }
    if let Some(r) = &slo.sli.ratio {
        match (&r.errors, &r.good) {
            (Some(_), Some(_)) | (None, None) => found.push(error(
                at(&["ratio"]),
                if r.errors.is_some() {
                    "a ratio SLI has `errors` or `good`, not both"
                } else {
                    "a ratio SLI needs `errors` or `good` besides `total`"
                },
                "`errors: QUERY` counts bad events, `good: QUERY` good ones; `total: QUERY` counts all",
            )),
            _ => {}
        }
        for (field, text) in [("errors", &r.errors), ("good", &r.good)] {
            if let Some(text) = text {
                query(stack, text, at(&["ratio", field]), true, dialect, found);
            }
        }
        query(
            stack,
            &r.total,
            at(&["ratio", "total"]),
            true,
            dialect,
            found,
        );
    }
    if let Some(l) = &slo.sli.latency {
        let name_ok = l
            .histogram
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && l.histogram
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if !name_ok {
            found.push(error(
                at(&["latency", "histogram"]),
                format!("`{}` is not a metric name", l.histogram),
                "give the histogram's name, e.g. `http_request_duration_seconds`",
            ));
            return;
        }
        if let Some(base) = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| l.histogram.strip_suffix(s))
        {
            found.push(error(
                at(&["latency", "histogram"]),
                format!(
                    "give the histogram's name without its suffix, not `{}`",
                    l.histogram
                ),
                format!("write `{base}`: stackctl reads its `_bucket` and `_count` series"),
            ));
            return;
        }
        for (m, matcher) in l.matchers.iter().enumerate() {
            let text = format!("{}{{{matcher}}}", l.histogram);
            if let Err(e) = promql::analyse_in(&text, dialect) {
                let mut path = at(&["latency", "matchers"]);
                path.push(crate::yaml::node::Seg::Index(m));
                found.push(error(
                    path,
                    format!("invalid label matcher `{matcher}`: {}", e.message),
                    "write a PromQL matcher: `job=\"api\"`, `code!~\"5..\"`",
                ));
            }
        }
        let t = l.threshold;
        if !t.is_finite() || t <= 0.0 {
            found.push(error(
                at(&["latency", "threshold"]),
                format!("latency threshold {} must be above 0", windows::number(t)),
                "give the bucket boundary in the histogram's unit, e.g. `0.5` for 500ms",
            ));
        } else {
            let known = KNOWN_BUCKETS
                .iter()
                .find(|(name, _)| *name == l.histogram)
                .map(|(_, b)| *b);
            let (buckets, whose) = if l.buckets.is_empty() {
                (known.unwrap_or_default(), "its exporter's")
            } else {
                (l.buckets.as_slice(), "the listed")
            };
            if !buckets.is_empty() && !buckets.contains(&t) {
                let list: Vec<String> = buckets.iter().map(|b| windows::number(*b)).collect();
                let closest = buckets
                    .iter()
                    .min_by(|a, b| (*a - t).abs().total_cmp(&(*b - t).abs()))
                    .copied()
                    .unwrap_or(t);
                found.push(error(
                    at(&["latency", "threshold"]),
                    format!(
                        "`{}` has no bucket `le=\"{}\"`: {whose} buckets are {}",
                        l.histogram,
                        windows::number(t),
                        list.join(", ")
                    ),
                    format!(
                        "a latency SLI counts the requests in one bucket, so the threshold must be a bucket boundary: use `{}`, or add the bucket to the histogram",
                        windows::number(closest)
                    ),
                ));
            }
            if t > 1000.0 && l.histogram.ends_with("_seconds") {
                found.push(warning(
                    at(&["latency", "threshold"]),
                    format!("a threshold of {} seconds", windows::number(t)),
                    "`_seconds` histograms count seconds: 500ms is `0.5`",
                ));
            }
        }
        let names = vec![
            format!("{}_bucket", l.histogram),
            format!("{}_count", l.histogram),
        ];
        let mut histogram_warnings = Vec::new();
        metrics(
            stack,
            &l.histogram,
            &names,
            at(&["latency", "histogram"]),
            &mut histogram_warnings,
        );
        // Both series come from the same histogram: one finding is enough.
        found.extend(histogram_warnings.into_iter().take(1));
    }
    if let Some(t) = &slo.sli.threshold {
        if t.min.is_some() == t.max.is_some() {
            found.push(error(
                at(&["threshold"]),
                "a threshold SLI has exactly one of `min` and `max`",
                "`min: 0.9`: good while the gauge is at least 0.9; `max: 0.5`: good while at most 0.5",
            ));
        }
        if t.min.or(t.max).is_some_and(|v| !v.is_finite()) {
            found.push(error(
                at(&["threshold"]),
                "the threshold is not a finite number",
                "give a number, e.g. `min: 0.9`",
            ));
        }
        query(
            stack,
            &t.query,
            at(&["threshold", "query"]),
            false,
            dialect,
            found,
        );
    }
}

fn reserved(name: &str) -> bool {
    RESERVED_LABELS.contains(&name) || name.starts_with("__")
}

fn labels(slo: &Slo, i: usize, found: &mut Vec<Diagnostic>) {
    for name in slo.labels.keys() {
        if reserved(name.as_str()) || name.as_str() == "severity" {
            found.push(
                Diagnostic::error(format!("label `{name}` is set by stackctl on SLO series"))
                    .with_hint(if name.as_str() == "severity" {
                        "set `severity` per alert: `alerting.page.labels` and `alerting.ticket.labels`"
                    } else {
                        "`slo_id`, `slo_service`, `slo_name`, `slo_window` and `slo_severity` identify the SLO; choose another name"
                    })
                    .with_code(CODE)
                    .at_key(crate::path!["slos", i, "labels", name.as_str()]),
            );
        }
    }
}

fn alerting(slo: &Slo, i: usize, found: &mut Vec<Diagnostic>) {
    if let Some(url) = &slo.runbook_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            found.push(warning(
                crate::path!["slos", i, "runbook_url"],
                format!("runbook URL `{url}` is not an http(s) URL"),
                "give the full address, e.g. `https://runbooks.example.com/payments/availability`",
            ));
        }
    }
    let Some(a) = &slo.alerting else { return };
    if let Some(name) = &a.name {
        let ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            found.push(error(
                crate::path!["slos", i, "alerting", "name"],
                format!("invalid alert name `{name}`"),
                "alert names are letters, digits and `_`, e.g. `PaymentsAvailabilityBudgetBurn`",
            ));
        }
    }
    let sections = [
        (vec!["alerting", "labels"], &a.labels),
        (
            vec!["alerting", "page", "labels"],
            a.page.as_ref().map_or(&EMPTY, |p| &p.labels),
        ),
        (
            vec!["alerting", "ticket", "labels"],
            a.ticket.as_ref().map_or(&EMPTY, |p| &p.labels),
        ),
    ];
    for (section, labels) in sections {
        for name in labels.keys() {
            if reserved(name.as_str()) {
                let mut path = crate::path!["slos", i];
                path.extend(
                    section
                        .iter()
                        .map(|s| crate::yaml::node::Seg::Key(s.to_string())),
                );
                path.push(crate::yaml::node::Seg::Key(name.to_string()));
                found.push(
                    Diagnostic::error(format!("label `{name}` is set by stackctl on SLO alerts"))
                        .with_hint("choose another name; `severity` and routing labels such as `team` are yours")
                        .with_code(CODE)
                        .at_key(path),
                );
            }
        }
    }
    if a.strategy == Some(crate::model::slo::AlertStrategy::None)
        && (a.page.is_some() || a.ticket.is_some() || a.name.is_some())
    {
        found.push(warning(
            crate::path!["slos", i, "alerting", "strategy"],
            "`strategy: none` generates no alerts, so their settings are unused",
            "remove `name`, `page` and `ticket`, or use `strategy: multiwindow`",
        ));
    }
}

static EMPTY: BTreeMap<crate::model::types::LabelName, String> = BTreeMap::new();
