//! Quiet enough to gate CI: findings silenced on purpose — `validate.ignore`
//! in the spec (everywhere, or in one rule group or dashboard) and
//! `# stackctl: ignore[CODE]` on the line — and repeated findings folded
//! into one with the count and the other places. Errors are never silenced
//! nor folded: only warnings and notes. Unknown codes are errors.

use super::{Diagnostic, Severity};
use crate::model::Stack;
use crate::yaml::node::{LineIndex, Node, Path, Pos, Region, Seg};
use std::collections::{BTreeMap, BTreeSet};

/// Every finding code (`code` in JSON): the check modules' own and the
/// specific ones. `tests` keeps it in step with the sources.
pub const CODES: [&str; 36] = [
    "alert-severity",
    "alert-unrouted",
    "alerting",
    "components",
    "credentials",
    "dashboard-datasource",
    "dashboard-file",
    "dashboard-input",
    "dashboard-variable",
    "dashboards",
    "deployment",
    "exposed-without-auth",
    "hosts",
    "keys",
    "logs",
    "metric-exporter-missing",
    "metric-unknown",
    "metrics",
    "mount-path",
    "ports",
    "privileged-service",
    "promql",
    "recording-rule-missing",
    "routing",
    "rule-duplicate",
    "rules",
    "scrape",
    "secret-file",
    "secrets",
    "security",
    "slo",
    "spec",
    "template",
    "tests",
    "tls-file",
    "version",
];

const MARKER: &str = "# stackctl: ignore[";

/// The codes whose repeats `group` folds.
const FOLDED: [&str; 3] = [
    "metric-unknown",
    "metric-exporter-missing",
    "recording-rule-missing",
];

/// Applies the ignores, then folds repeats. `tree` positions the problems of
/// `validate.ignore` itself.
pub fn apply(
    diags: Vec<Diagnostic>,
    stack: Option<&Stack>,
    source: &str,
    tree: Option<&Node>,
) -> Vec<Diagnostic> {
    let index = LineIndex::new(source);
    let (inline, mut problems) = inline_ignores(source);
    let ignores = stack
        .and_then(|s| s.validate.as_ref())
        .map(|v| v.ignore.as_slice())
        .unwrap_or_default();
    for (i, ignore) in ignores.iter().enumerate() {
        if !CODES.contains(&ignore.code.as_str()) {
            let mut d =
                unknown_code(&ignore.code).at(crate::path!["validate", "ignore", i, "code"]);
            if let Some(tree) = tree {
                d.resolve_in(tree, &index);
            }
            problems.push(d);
        }
    }
    let kept = diags.into_iter().filter(|d| {
        if d.severity == Severity::Error {
            return true;
        }
        let code = d.code.unwrap_or("spec");
        // The markers are the spec's lines; a finding in a dashboard file
        // (JSON, no comments) has its own line numbers.
        let on_line = d
            .region
            .filter(|_| d.source.is_none())
            .and_then(|r| inline.get(&r.start.line))
            .is_some_and(|codes| codes.contains(code));
        let in_spec = ignores.iter().any(|ig| {
            ig.code == code
                && stack.is_some_and(|s| {
                    scope_matches(
                        s,
                        d.path.as_ref(),
                        ig.rule_group.as_deref(),
                        ig.dashboard.as_deref(),
                    )
                })
        });
        !on_line && !in_spec
    });
    let mut out = group(kept.collect());
    out.extend(problems);
    super::sort(&mut out);
    out
}

fn unknown_code(code: &str) -> Diagnostic {
    let hint = match crate::yaml::de::did_you_mean(code, &CODES) {
        Some(best) => format!("did you mean `{best}`?"),
        None => {
            "the codes are those `stackctl validate --format json` reports (`code`)".to_string()
        }
    };
    Diagnostic::error(format!("unknown finding code `{code}`"))
        .with_hint(hint)
        .with_code("spec")
}

/// Whether a finding at `path` is inside the rule group or dashboard named.
fn scope_matches(
    stack: &Stack,
    path: Option<&Path>,
    group: Option<&str>,
    dashboard: Option<&str>,
) -> bool {
    let segs = path.map(Vec::as_slice).unwrap_or_default();
    let in_group = || match segs {
        [Seg::Key(r), Seg::Key(file), Seg::Index(g), ..] if r == "rules" => stack
            .rules
            .get(file)
            .and_then(|groups| groups.get(*g))
            .is_some_and(|grp| Some(grp.name.as_str()) == group),
        _ => false,
    };
    let in_dashboard = || match segs {
        [Seg::Key(d), Seg::Index(i), ..] if d == "dashboards" => stack
            .dashboards
            .get(*i)
            .is_some_and(|dash| Some(dash.uid.as_str()) == dashboard),
        _ => false,
    };
    match (group, dashboard) {
        (None, None) => true,
        (Some(_), None) => in_group(),
        (None, Some(_)) => in_dashboard(),
        (Some(_), Some(_)) => in_group() || in_dashboard(),
    }
}

/// `# stackctl: ignore[a, b]` by line number, and errors for unknown codes.
fn inline_ignores(source: &str) -> (BTreeMap<usize, BTreeSet<String>>, Vec<Diagnostic>) {
    let mut by_line = BTreeMap::new();
    let mut problems = Vec::new();
    if !source.contains(MARKER) {
        return (by_line, problems);
    }
    for (n, line) in source.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let rest = &line[at + MARKER.len()..];
        let col = line[..at].chars().count() + 1;
        let region = |len: usize| Region {
            start: Pos { line: n + 1, col },
            end: Pos {
                line: n + 1,
                col: col + len,
            },
        };
        let Some(end) = rest.find(']') else {
            problems.push(
                Diagnostic::error("unclosed `# stackctl: ignore[`")
                    .with_hint("write `# stackctl: ignore[CODE]`, e.g. `# stackctl: ignore[metric-unknown]`")
                    .with_code("spec")
                    .at_region(region(MARKER.len())),
            );
            continue;
        };
        let codes: BTreeSet<String> = rest[..end]
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        for code in codes.iter().filter(|c| !CODES.contains(&c.as_str())) {
            problems.push(unknown_code(code).at_region(region(MARKER.len() + end + 1)));
        }
        by_line.insert(n + 1, codes);
    }
    (by_line, problems)
}

/// How `group` keys a folded finding, beyond its severity, code and file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fold {
    /// The same message: one metric in many places.
    Message,
    /// The same exporter (its hint): `metric-exporter-missing`.
    Exporter,
    /// The same metric family (`http_` of `http_requests_total`): "no scrape
    /// job in this stack produces `X`", where no exporter owns the names.
    Family,
}

const NOT_PRODUCED: &str = "no scrape job in this stack produces `";

/// The family of a metric name: up to and with its first `_` (`node_`,
/// `http_`), or the whole name.
fn family(metric: &str) -> &str {
    match metric.find('_') {
        Some(i) if i > 0 => &metric[..=i],
        _ => metric,
    }
}

/// Folds the metric findings (`FOLDED`) that say the same thing in many
/// places of one file into one finding at the first place: the same message
/// (one metric in many rules); for `metric-exporter-missing`, the same
/// exporter (its hint); for "no scrape job in this stack produces `X`", the
/// same metric family (`node_*`, `http_*`). The message of a finding that
/// stands for several metrics names the first others and how many there are;
/// `also` keeps every other place (the JSON output lists them all).
/// Linear: one pass and a map.
pub fn group(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    type Key = (Option<String>, Severity, &'static str, Fold, String);
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    let mut first: BTreeMap<Key, usize> = BTreeMap::new();
    let mut names: BTreeMap<usize, (Fold, Vec<String>)> = BTreeMap::new();
    for d in diags {
        let Some(region) = d.region.filter(|_| d.severity != Severity::Error) else {
            out.push(d);
            continue;
        };
        let code = d.code.unwrap_or("spec");
        // Only findings about what a query reads repeat by nature; every
        // other warning (a credential, a port) is news at each place.
        if !FOLDED.contains(&code) {
            out.push(d);
            continue;
        }
        let metric = first_quoted(&d.message);
        let (fold, key_text) = if code == "metric-exporter-missing" {
            (Fold::Exporter, d.hint.clone().unwrap_or_default())
        } else if d.message.starts_with(NOT_PRODUCED) {
            (Fold::Family, family(&metric).to_string())
        } else {
            (Fold::Message, d.message.clone())
        };
        let file = d.source.as_ref().map(|s| s.name.clone());
        let key = (file, d.severity, code, fold, key_text);
        match first.get(&key) {
            Some(&i) => {
                out[i].also.push(region);
                if fold != Fold::Message {
                    let list = &mut names.entry(i).or_insert((fold, Vec::new())).1;
                    if !list.contains(&metric) {
                        list.push(metric);
                    }
                }
            }
            None => {
                first.insert(key, out.len());
                if fold != Fold::Message {
                    names.insert(out.len(), (fold, vec![metric]));
                }
                out.push(d);
            }
        }
    }
    for (i, (fold, list)) in names {
        if list.len() > 1 {
            const SHOWN: usize = 5;
            let shown: Vec<String> = list
                .iter()
                .skip(1)
                .take(SHOWN)
                .map(|n| format!("`{n}`"))
                .collect();
            let more = list.len().saturating_sub(1 + SHOWN);
            let plural = if list.len() == 2 { "" } else { "s" };
            let what = match fold {
                Fold::Family => format!("`{}*` metric{plural}", family(&list[0])),
                _ => format!("metric{plural} from the same exporter"),
            };
            let d = &mut out[i];
            d.message = format!(
                "{} (and {} other {what}: {}{})",
                d.message,
                list.len() - 1,
                shown.join(", "),
                if more > 0 {
                    format!(", … {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    out
}

/// The first `name` in backticks of a message.
fn first_quoted(message: &str) -> String {
    message.split('`').nth(1).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(message: &str, code: &'static str, hint: &str, line: usize) -> Diagnostic {
        Diagnostic::warning(message)
            .with_code(code)
            .with_hint(hint)
            .at_region(Region {
                start: Pos { line, col: 5 },
                end: Pos { line, col: 9 },
            })
    }

    #[test]
    fn repeats_fold_into_one_finding_with_every_place() {
        let diags = vec![
            warning(
                "no scrape job in this stack produces `x`",
                "metric-unknown",
                "h",
                3,
            ),
            warning(
                "no scrape job in this stack produces `y`",
                "metric-unknown",
                "h",
                4,
            ),
            warning(
                "no scrape job in this stack produces `x`",
                "metric-unknown",
                "h",
                7,
            ),
            warning(
                "`node_load1` comes from node_exporter, which this stack does not run",
                "metric-exporter-missing",
                "add node",
                8,
            ),
            warning(
                "`node_load5` comes from node_exporter, which this stack does not run",
                "metric-exporter-missing",
                "add node",
                9,
            ),
            warning(
                "`node_load1` comes from node_exporter, which this stack does not run",
                "metric-exporter-missing",
                "add node",
                10,
            ),
            warning("w", "credentials", "h", 13),
            warning("w", "credentials", "h", 14),
            Diagnostic::error("e").at_region(Region {
                start: Pos { line: 11, col: 1 },
                end: Pos { line: 11, col: 2 },
            }),
            Diagnostic::error("e").at_region(Region {
                start: Pos { line: 12, col: 1 },
                end: Pos { line: 12, col: 2 },
            }),
        ];
        let out = group(diags);
        assert_eq!(out.len(), 7, "{out:#?}");
        assert_eq!(
            out[0].also.iter().map(|r| r.start.line).collect::<Vec<_>>(),
            vec![7]
        );
        assert!(out[1].also.is_empty());
        assert_eq!(
            out[2].message,
            "`node_load1` comes from node_exporter, which this stack does not run (and 1 other metric from the same exporter: `node_load5`)"
        );
        assert_eq!(out[2].also.len(), 2);
        // Errors, and warnings other than the metric ones, are never folded.
        assert!(out[3..].iter().all(|d| d.also.is_empty()));
    }

    #[test]
    fn unknown_metrics_fold_by_family_within_one_file() {
        let not_produced = |m: &str, line| {
            warning(
                &format!("no scrape job in this stack produces `{m}`"),
                "metric-unknown",
                "add a scrape job",
                line,
            )
        };
        let dashboard = std::sync::Arc::new(super::super::Source {
            name: "dashboards/app.json".into(),
            text: String::new(),
        });
        let diags = vec![
            not_produced("http_requests_total", 3),
            not_produced("http_errors_total", 4),
            not_produced("http_requests_total", 5),
            not_produced("queue_depth", 6),
            // The same family in another file is its own finding there.
            not_produced("http_requests_total", 9).in_source(
                &dashboard,
                Region {
                    start: Pos { line: 9, col: 3 },
                    end: Pos { line: 9, col: 4 },
                },
            ),
            // A typo keeps its own message (and its own did-you-mean).
            warning(
                "node_exporter does not export `node_lod1`",
                "metric-unknown",
                "did you mean `node_load1`?",
                7,
            ),
        ];
        let out = group(diags);
        assert_eq!(out.len(), 4, "{out:#?}");
        assert_eq!(
            out[0].message,
            "no scrape job in this stack produces `http_requests_total` (and 1 other `http_*` metric: `http_errors_total`)"
        );
        assert_eq!(
            out[0].also.iter().map(|r| r.start.line).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert_eq!(
            out[1].message,
            "no scrape job in this stack produces `queue_depth`"
        );
        assert!(out[2].source.is_some() && out[2].also.is_empty());
        assert!(out[3].message.contains("node_lod1"));
    }

    #[test]
    fn spec_markers_do_not_silence_dashboard_file_lines() {
        let source = "a: 1 # stackctl: ignore[metric-unknown]\n";
        let dashboard = std::sync::Arc::new(super::super::Source {
            name: "dashboards/app.json".into(),
            text: String::new(),
        });
        let at_line_1 = Region {
            start: Pos { line: 1, col: 1 },
            end: Pos { line: 1, col: 2 },
        };
        let diags = vec![
            warning(
                "no scrape job in this stack produces `x`",
                "metric-unknown",
                "h",
                1,
            ),
            warning(
                "no scrape job in this stack produces `x`",
                "metric-unknown",
                "h",
                1,
            )
            .in_source(&dashboard, at_line_1),
        ];
        let out = apply(diags, None, source, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(out[0].source.is_some());
    }

    #[test]
    fn inline_markers_and_unknown_codes() {
        let source = "a: 1 # stackctl: ignore[metric-unknown, version]\nb: 2 # stackctl: ignore[metric-unkown]\nc: 3 # stackctl: ignore[\n";
        let (by_line, problems) = inline_ignores(source);
        assert_eq!(
            by_line
                .get(&1)
                .map(|c| c.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["metric-unknown".to_string(), "version".to_string()])
        );
        let messages: Vec<(usize, &str, Option<&str>)> = problems
            .iter()
            .map(|d| {
                (
                    d.region.unwrap().start.line,
                    d.message.as_str(),
                    d.hint.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            messages,
            vec![
                (
                    2,
                    "unknown finding code `metric-unkown`",
                    Some("did you mean `metric-unknown`?")
                ),
                (
                    3,
                    "unclosed `# stackctl: ignore[`",
                    Some(
                        "write `# stackctl: ignore[CODE]`, e.g. `# stackctl: ignore[metric-unknown]`"
                    )
                ),
            ]
        );
    }

    #[test]
    fn every_code_in_the_sources_is_known() {
        // `with_code("…")` and the check modules' `run("…", …)` in src/.
        let mut seen = BTreeSet::new();
        let re = regex::Regex::new(r#"(?:with_code\(|run\()"([a-z0-9-]+)""#).unwrap();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for c in re.captures_iter(&text) {
                        seen.insert(c[1].to_string());
                    }
                }
            }
        }
        let unknown: Vec<&String> = seen
            .iter()
            .filter(|c| !CODES.contains(&c.as_str()))
            .collect();
        assert!(unknown.is_empty(), "codes missing from CODES: {unknown:?}");
        assert!(
            seen.contains("metric-unknown") && seen.len() > 20,
            "{seen:?}"
        );
    }
}
