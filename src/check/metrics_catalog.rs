//! Metrics that nothing in the stack produces. Every metric a rule or a
//! dashboard reads is judged against what the stack scrapes: recording rules,
//! Prometheus' own per-target series (`up`, `scrape_*`, `ALERTS`), and the
//! catalog of what each built-in exporter exports (`catalog/metrics.txt`).
//!
//! - a metric of an exporter the stack does not run: warning naming the exporter;
//! - a name in a closed exporter namespace that the exporter does not export
//!   (usually a typo): warning with the closest real name;
//! - any other name: possibly the application's own, when the stack scrapes
//!   applications (`scrape_jobs`) or accepts pushes; otherwise a warning;
//! - a `level:metric:operation` name that no recording rule records: warning.

use super::Findings;
use super::promql::Index;
use crate::diag::Diagnostic;
use crate::model::{Kind, Stack, catalog};
use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

const DATA: &str = include_str!("catalog/metrics.txt");

/// Series Prometheus itself writes for every target or alert.
const UNIVERSAL: [&str; 10] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
    "ALERTS",
    "ALERTS_FOR_STATE",
];

/// Every Go program with the Prometheus client exports these.
const RUNTIME: [&str; 3] = ["go_", "process_", "promhttp_"];

#[derive(Debug, Default)]
pub struct Exporter {
    pub name: String,
    /// The `components:` key that runs it; `probes` for blackbox probe results.
    pub component: String,
    pub namespaces: Vec<String>,
    pub closed: bool,
    pub open: Vec<String>,
    pub names: BTreeSet<String>,
}

impl Exporter {
    fn owns(&self, metric: &str) -> bool {
        self.names.contains(metric)
            || self
                .namespaces
                .iter()
                .any(|p| metric.starts_with(p.as_str()))
    }

    /// Whether the exporter exports `metric` (as far as the catalog knows).
    fn exports(&self, metric: &str) -> bool {
        let base = base_name(metric);
        !self.closed
            || self.names.contains(metric)
            || self.names.contains(base)
            || self.open.iter().any(|p| metric.starts_with(p.as_str()))
    }
}

/// `x_bucket`, `x_sum`, `x_count` are series of histogram or summary `x`.
fn base_name(metric: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| metric.strip_suffix(s))
        .unwrap_or(metric)
}

pub fn exporters() -> &'static [Exporter] {
    static PARSED: OnceLock<Vec<Exporter>> = OnceLock::new();
    PARSED.get_or_init(|| parse(DATA))
}

fn parse(data: &str) -> Vec<Exporter> {
    let mut out: Vec<Exporter> = Vec::new();
    for line in data.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Exporter {
                name: name.to_string(),
                ..Exporter::default()
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        let words = |v: &str| v.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        match line.split_once(" = ") {
            Some(("component", v)) => current.component = v.to_string(),
            Some(("namespaces", v)) => current.namespaces = words(v),
            Some(("closed", v)) => current.closed = v == "true",
            Some(("open", v)) => current.open = words(v),
            _ => {
                current.names.insert(line.to_string());
            }
        }
    }
    out
}

/// What the stack can produce, decided once.
struct Sources<'a> {
    recorded: HashSet<&'a str>,
    provided: Vec<&'static Exporter>,
    /// Applications are scraped, or metrics are pushed: any name may exist.
    open_world: bool,
    any_target: bool,
    /// User scrape jobs that look like they scrape an exporter themselves.
    user_jobs: Vec<(String, Option<u16>)>,
    /// blackbox_exporter runs (its probe metrics still need `probes:` jobs).
    blackbox_runs: bool,
}

impl Sources<'_> {
    fn provides(&self, exporter: &Exporter) -> bool {
        self.provided.iter().any(|e| e.name == exporter.name) || self.user_job_for(exporter)
    }

    /// A user job named after the exporter, or scraping its usual port.
    fn user_job_for(&self, exporter: &Exporter) -> bool {
        let short = exporter.name.split('_').next().unwrap_or(&exporter.name);
        let port = component_kind(&exporter.component).and_then(|k| {
            k.info()
                .metrics
                .and_then(|(port, _)| k.port(port))
                .map(|p| p.container)
        });
        self.user_jobs
            .iter()
            .any(|(name, p)| name.contains(short) || (port.is_some() && *p == port))
    }
}

fn component_kind(key: &str) -> Option<Kind> {
    catalog::ALL.into_iter().find(|k| k.key() == key)
}

fn sources(stack: &Stack) -> Sources<'_> {
    let recorded = stack
        .rules
        .values()
        .flatten()
        .flat_map(|g| g.rules.iter())
        .filter_map(|r| r.record.as_deref())
        .collect();
    let provided = exporters()
        .iter()
        .filter(|e| match e.component.as_str() {
            "probes" => !stack.probes.is_empty() && stack.has(Kind::BlackboxExporter),
            key => component_kind(key)
                .is_some_and(|k| stack.component(k).is_some_and(|c| c.scrape_enabled())),
        })
        .collect::<Vec<_>>();
    let user_jobs: Vec<(String, Option<u16>)> = stack
        .scrape_jobs
        .iter()
        .filter(|j| j.enabled != Some(false))
        .flat_map(|j| {
            let ports: Vec<Option<u16>> = if j.targets.is_empty() {
                vec![None]
            } else {
                j.targets
                    .iter()
                    .map(|t| t.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
                    .collect()
            };
            ports.into_iter().map(move |p| (j.name.to_lowercase(), p))
        })
        .collect();
    let pushes = stack.has(Kind::Pushgateway)
        || stack
            .components
            .prometheus
            .as_ref()
            .is_some_and(|p| p.remote_write_receiver == Some(true));
    Sources {
        recorded,
        any_target: !provided.is_empty() || !user_jobs.is_empty(),
        open_world: !user_jobs.is_empty() || pushes,
        provided,
        user_jobs,
        blackbox_runs: stack.has(Kind::BlackboxExporter),
    }
}

pub fn check(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    if !stack.has(Kind::Prometheus) {
        return;
    }
    let sources = sources(stack);
    let mut recorded_sorted: Vec<&str> = sources.recorded.iter().copied().collect();
    recorded_sorted.sort_unstable();
    for entry in &index.entries {
        let Ok(facts) = &entry.result else { continue };
        for metric in &facts.metrics {
            if let Some(d) = judge(metric, &sources, &recorded_sorted) {
                let text = entry.site.text(stack);
                let offset = text.and_then(|t| find_word(t, metric)).unwrap_or(0);
                found.push(d.at(entry.site.path()).at_offset(offset));
            }
        }
    }
}

/// The finding for each metric of `metrics` that nothing in the stack
/// produces, for expressions outside `rules:` and `dashboards:` (an SLO's SLI).
pub fn judge_metrics<'m>(stack: &Stack, metrics: &'m [String]) -> Vec<(&'m str, Diagnostic)> {
    let Some(judge) = Judge::new(stack) else {
        return Vec::new();
    };
    metrics
        .iter()
        .filter_map(|m| judge.judge(m).map(|d| (m.as_str(), d)))
        .collect()
}

/// What the stack produces, worked out once, for judging the metrics of
/// many expressions outside the index (the targets of a dashboard file).
pub struct Judge<'a> {
    sources: Sources<'a>,
    recorded: Vec<&'a str>,
}

impl<'a> Judge<'a> {
    /// `None` when the stack runs no Prometheus (nothing to judge against).
    pub fn new(stack: &'a Stack) -> Option<Judge<'a>> {
        if !stack.has(Kind::Prometheus) {
            return None;
        }
        let sources = sources(stack);
        let mut recorded: Vec<&str> = sources.recorded.iter().copied().collect();
        recorded.sort_unstable();
        Some(Judge { sources, recorded })
    }

    /// The finding for `metric` when nothing in the stack produces it.
    pub fn judge(&self, metric: &str) -> Option<Diagnostic> {
        judge(metric, &self.sources, &self.recorded)
    }
}

fn judge(metric: &str, sources: &Sources<'_>, recorded: &[&str]) -> Option<Diagnostic> {
    if sources.recorded.contains(metric) || UNIVERSAL.contains(&metric) {
        return None;
    }
    // `level:metric:operations`: a name that starts with `:` has no level and is
    // not a recording rule (TensorFlow Serving exports `:tensorflow:…` as is).
    if metric.contains(':') && !metric.starts_with(':') {
        let hint = match crate::yaml::de::did_you_mean(metric, recorded) {
            Some(best) => format!("did you mean `{best}`?"),
            None => {
                "add a recording rule with this `record:` name, or use the expression it stands for"
                    .into()
            }
        };
        return Some(
            Diagnostic::warning(format!("no recording rule records `{metric}`"))
                .with_hint(hint)
                .with_code("recording-rule-missing"),
        );
    }
    if RUNTIME.iter().any(|p| metric.starts_with(p)) {
        return (!sources.any_target).then(|| nothing_scrapes(metric));
    }
    if let Some(owner) = exporters().iter().find(|e| e.owns(metric)) {
        if !sources.provides(owner) && owner.component == "probes" && sources.blackbox_runs {
            // The exporter runs; what is missing is a probe for it to run.
            return Some(
                Diagnostic::warning(format!(
                    "`{metric}` is recorded by {} probes, and this stack defines no `probes:` job",
                    owner.name
                ))
                .with_hint("add a `probes:` job; blackbox_exporter only answers what Prometheus asks it to probe")
                .with_code("metric-exporter-missing"),
            );
        }
        if !sources.provides(owner) {
            let enable = match owner.component.as_str() {
                "probes" => "add `probes:` jobs (and `blackbox_exporter: {}` under `components:`)"
                    .to_string(),
                key => format!(
                    "add `{key}: {{}}` under `components:`, or a scrape job for an existing one"
                ),
            };
            return Some(
                Diagnostic::warning(format!(
                    "`{metric}` comes from {}, which this stack does not run",
                    owner.name
                ))
                .with_hint(enable)
                .with_code("metric-exporter-missing"),
            );
        }
        if !owner.exports(metric) && !sources.user_job_for(owner) {
            let names: Vec<&str> = owner.names.iter().map(String::as_str).collect();
            let hint = match crate::yaml::de::did_you_mean(metric, &names) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("see the metrics {} exports", owner.name),
            };
            return Some(
                Diagnostic::warning(format!("{} does not export `{metric}`", owner.name))
                    .with_hint(hint)
                    .with_code("metric-unknown"),
            );
        }
        return None;
    }
    if sources.open_world {
        return None;
    }
    Some(nothing_scrapes(metric))
}

fn nothing_scrapes(metric: &str) -> Diagnostic {
    Diagnostic::warning(format!("no scrape job in this stack produces `{metric}`"))
        .with_hint(
            "add a scrape job for the service that exports it (`scrape_jobs:`), or fix the name",
        )
        .with_code("metric-unknown")
}

/// Character offset of `word` where it stands as a whole name.
pub fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(pos) = text[from..].find(word) {
        let start = from + pos;
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(is_name) && !after.is_some_and(is_name) {
            return Some(text[..start].chars().count());
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_and_every_component_exists() {
        let all = exporters();
        assert!(all.len() >= 12);
        for e in all {
            assert!(
                e.component == "probes" || component_kind(&e.component).is_some(),
                "{} names unknown component {}",
                e.name,
                e.component
            );
            assert!(!e.namespaces.is_empty(), "{}", e.name);
        }
        let node = all.iter().find(|e| e.name == "node_exporter").unwrap();
        assert!(node.closed && node.names.contains("node_cpu_seconds_total"));
        assert!(node.exports("node_netstat_Tcp_ActiveOpens"));
        assert!(!node.exports("node_cpu_secnds_total"));
        assert!(node.exports("node_memory_MemAvailable_bytes"));
    }

    #[test]
    fn whole_words() {
        assert_eq!(find_word("up_time + up", "up"), Some(10));
        assert_eq!(find_word("rate(x[5m])", "x"), Some(5));
        assert_eq!(find_word("job:x:rate5m", "x"), None);
    }
}
