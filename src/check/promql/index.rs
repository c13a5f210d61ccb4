//! Every PromQL expression of a stack — rule expressions, dashboard queries,
//! dashboard variable queries — located in the spec and analysed once, in
//! parallel, before the checks that read their facts run.

use super::{Dialect, Facts, PromqlError, analyse_in, analyse_with, find_chars, grafana};
use crate::check::prefetch::Prefetched;
use crate::model::Stack;
use crate::model::stack::DatasourceKind;

/// Where an expression is in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site<'a> {
    Rule {
        file: &'a str,
        group: usize,
        rule: usize,
    },
    Query {
        dashboard: usize,
        row: usize,
        panel: usize,
        query: usize,
    },
    Variable {
        dashboard: usize,
        variable: usize,
    },
}

impl Site<'_> {
    /// The text of the scalar at `path` (for a variable, its whole query).
    pub fn text<'s>(&self, stack: &'s Stack) -> Option<&'s str> {
        match *self {
            Site::Rule { file, group, rule } => {
                Some(&stack.rules.get(file)?.get(group)?.rules.get(rule)?.expr)
            }
            Site::Query {
                dashboard,
                row,
                panel,
                query,
            } => Some(
                &stack
                    .dashboards
                    .get(dashboard)?
                    .rows
                    .get(row)?
                    .panels
                    .get(panel)?
                    .queries
                    .get(query)?
                    .expr,
            ),
            Site::Variable {
                dashboard,
                variable,
            } => Some(
                &stack
                    .dashboards
                    .get(dashboard)?
                    .variables
                    .get(variable)?
                    .query,
            ),
        }
    }

    /// Character offset of the first occurrence of `needle` in the text.
    pub fn offset_of(&self, stack: &Stack, needle: &str) -> usize {
        self.text(stack)
            .and_then(|t| find_chars(t, needle))
            .unwrap_or(0)
    }

    /// The model path of the expression's scalar.
    pub fn path(&self) -> crate::yaml::node::Path {
        match *self {
            Site::Rule { file, group, rule } => {
                crate::path!["rules", file, group, "rules", rule, "expr"]
            }
            Site::Query {
                dashboard,
                row,
                panel,
                query,
            } => {
                crate::path![
                    "dashboards",
                    dashboard,
                    "rows",
                    row,
                    "panels",
                    panel,
                    "queries",
                    query,
                    "expr"
                ]
            }
            Site::Variable {
                dashboard,
                variable,
            } => crate::path!["dashboards", dashboard, "variables", variable, "query"],
        }
    }
}

/// One analysed expression.
#[derive(Debug)]
pub struct Entry<'a> {
    pub site: Site<'a>,
    /// The PromQL text analysed (variables substituted, for dashboards).
    pub result: Result<Facts, PromqlError>,
    /// Offset of the PromQL inside the spec's scalar (a variable's `label_values(`).
    pub base: usize,
}

/// Every PromQL expression of the stack, analysed.
pub struct Index<'a> {
    pub entries: Vec<Entry<'a>>,
}

struct Job<'a> {
    site: Site<'a>,
    text: &'a str,
    base: usize,
    grafana: bool,
}

impl<'a> Index<'a> {
    pub fn build(stack: &'a Stack) -> Index<'a> {
        Self::build_with(stack, &mut Prefetched::default())
    }

    /// `build`, taking rule expressions already analysed by the load pipeline
    /// (`check::prefetch`) from `prefetched` instead of parsing them again.
    pub fn build_with(stack: &'a Stack, prefetched: &mut Prefetched) -> Index<'a> {
        let mut jobs: Vec<Job<'a>> = Vec::new();
        for (file, groups) in &stack.rules {
            for (g, group) in groups.iter().enumerate() {
                for (r, rule) in group.rules.iter().enumerate() {
                    if !rule.expr.trim().is_empty() {
                        jobs.push(Job {
                            site: Site::Rule {
                                file,
                                group: g,
                                rule: r,
                            },
                            text: &rule.expr,
                            base: 0,
                            grafana: false,
                        });
                    }
                }
            }
        }
        let kinds = datasource_kinds(stack);
        let is_promql = |uid: Option<&String>| match uid {
            None => true,
            Some(uid) => kinds
                .iter()
                .any(|(u, k)| u == uid && *k == DatasourceKind::Prometheus),
        };
        for (d, dash) in stack.dashboards.iter().enumerate() {
            for (r, row) in dash.rows.iter().enumerate() {
                for (p, panel) in row.panels.iter().enumerate() {
                    if !is_promql(panel.datasource.as_ref()) {
                        // LogQL, Lucene or trace queries: not PromQL.
                        continue;
                    }
                    for (q, query) in panel.queries.iter().enumerate() {
                        if !query.expr.trim().is_empty() {
                            jobs.push(Job {
                                site: Site::Query {
                                    dashboard: d,
                                    row: r,
                                    panel: p,
                                    query: q,
                                },
                                text: &query.expr,
                                base: 0,
                                grafana: true,
                            });
                        }
                    }
                }
            }
            for (v, var) in dash.variables.iter().enumerate() {
                if !is_promql(var.datasource.as_ref()) {
                    continue;
                }
                if let Some((base, text)) = variable_promql(&var.query) {
                    jobs.push(Job {
                        site: Site::Variable {
                            dashboard: d,
                            variable: v,
                        },
                        text,
                        base,
                        grafana: true,
                    });
                }
            }
        }
        let results = run_parallel(&jobs, &Dialect::of(stack), prefetched);
        let entries = jobs
            .into_iter()
            .zip(results)
            .map(|(job, result)| Entry {
                site: job.site,
                result,
                base: job.base,
            })
            .collect();
        Index { entries }
    }

    pub fn rules(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries
            .iter()
            .filter(|e| matches!(e.site, Site::Rule { .. }))
    }

    /// The facts of one rule's expression, when it parsed.
    pub fn rule_facts(&self) -> std::collections::HashMap<(&'a str, usize, usize), &Facts> {
        self.entries
            .iter()
            .filter_map(|e| match (e.site, &e.result) {
                (Site::Rule { file, group, rule }, Ok(f)) => Some(((file, group, rule), f)),
                _ => None,
            })
            .collect()
    }
}

fn analyse_job(
    job: &Job<'_>,
    dialect: &Dialect,
    raw: Option<Result<Facts, PromqlError>>,
) -> Result<Facts, PromqlError> {
    if !job.grafana {
        return analyse_with(job.text, dialect, raw);
    }
    let substituted = grafana::substitute(job.text);
    analyse_in(&substituted.text, dialect).map_err(|mut e| {
        e.offset = substituted.original_offset(e.offset);
        e
    })
}

/// Parsing dominates validation time on large stacks; it is spread over the
/// machine's cores, keeping results in input order.
///
/// Rule expressions prefetched while the YAML was read (`check::prefetch`)
/// were parsed as written, before the pinned version was known; the dialect's
/// steps are applied here, so they serve a stack pinned to any release (only
/// a text the dialect rewrites is parsed again).
fn run_parallel(
    jobs: &[Job<'_>],
    dialect: &Dialect,
    prefetched: &mut Prefetched,
) -> Vec<Result<Facts, PromqlError>> {
    let work: Vec<(&Job<'_>, Option<Result<Facts, PromqlError>>)> = jobs
        .iter()
        .map(|job| {
            let raw = (!job.grafana).then(|| prefetched.take(job.text)).flatten();
            (job, raw)
        })
        .collect();
    analyse_all(work, dialect)
}

type Work<'j, 'a> = (&'j Job<'a>, Option<Result<Facts, PromqlError>>);

fn analyse_all(work: Vec<Work<'_, '_>>, dialect: &Dialect) -> Vec<Result<Facts, PromqlError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    // What is left to parse decides whether threads pay off.
    let unparsed = work.iter().filter(|(_, raw)| raw.is_none()).count();
    if threads < 2 || unparsed < 256 {
        return work
            .into_iter()
            .map(|(job, raw)| analyse_job(job, dialect, raw))
            .collect();
    }
    let chunk = work.len().div_ceil(threads);
    let mut parts: Vec<Vec<Work<'_, '_>>> = Vec::new();
    let mut work = work.into_iter().peekable();
    while work.peek().is_some() {
        parts.push(work.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(|(job, raw)| analyse_job(job, dialect, raw))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn datasource_kinds(stack: &Stack) -> Vec<(String, DatasourceKind)> {
    crate::check::dashboards::effective_datasources(stack)
        .into_iter()
        .map(|d| (d.uid, d.kind))
        .collect()
}

/// The PromQL inside a Grafana variable query: `label_values(EXPR, label)` and
/// `query_result(EXPR)`; (offset in the query, text).
pub fn variable_promql(query: &str) -> Option<(usize, &str)> {
    let trimmed = query.trim_start();
    let lead = query.len() - trimmed.len();
    for func in ["label_values(", "query_result("] {
        let Some(rest) = trimmed.strip_prefix(func) else {
            continue;
        };
        let inner = rest.trim_end().strip_suffix(')')?;
        let inner = if func == "label_values(" {
            // The last top-level comma separates the label; with one argument there is no PromQL.
            let mut depth = 0i32;
            let mut split = None;
            let mut quote: Option<char> = None;
            for (i, c) in inner.char_indices() {
                match (quote, c) {
                    (Some(q), _) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'' | '`') => quote = Some(c),
                    (None, '(' | '{' | '[') => depth += 1,
                    (None, ')' | '}' | ']') => depth -= 1,
                    (None, ',') if depth == 0 => split = Some(i),
                    _ => {}
                }
            }
            &inner[..split?]
        } else {
            inner
        };
        let offset = query[..lead + func.len()].chars().count();
        return Some((offset, inner));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::prefetch::Prefetch;

    #[test]
    fn prefetched_results_serve_a_stack_pinned_to_another_release() {
        // 2.42 rejects `== 1h` and reads `1_000` as an error; 3.x accepts both.
        let exprs = [
            "up == 0",
            "up == 1h",
            "rate(x[5m]) > 1_000",
            "sum(x) by job",
        ];
        let rules: String = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("        - alert: A{i}\n          expr: '{e}'\n"))
            .collect();
        for version in ["2.42.0", "3.5.0"] {
            let spec = format!(
                "stackctl: 1\nname: t\ncomponents:\n  prometheus: {{version: \"{version}\"}}\nrules:\n  app:\n    - name: g\n      rules:\n{rules}"
            );
            let loaded = crate::load::load_text("stack.yaml", spec);
            let stack = loaded.stack.expect("loads");
            let prefetch = Prefetch::start(super::super::parse_raw);
            for e in exprs {
                prefetch.submit(e);
            }
            let mut prefetched = prefetch.finish();
            let with = Index::build_with(&stack, &mut prefetched);
            // Every prefetched result was used, whatever the pinned release…
            for e in exprs {
                assert_eq!(
                    prefetched.take(e),
                    None,
                    "{version}: `{e}` was parsed again"
                );
            }
            // …and the verdicts are the ones computed without the pipeline.
            let without = Index::build(&stack);
            let verdicts = |i: &Index<'_>| i.rules().map(|e| e.result.clone()).collect::<Vec<_>>();
            assert_eq!(verdicts(&with), verdicts(&without), "{version}");
            let dialect = Dialect::of(&stack);
            let expected: Vec<_> = exprs.iter().map(|e| analyse_in(e, &dialect)).collect();
            assert_eq!(verdicts(&with), expected, "{version}");
        }
    }

    #[test]
    fn variable_queries() {
        assert_eq!(
            variable_promql("label_values(up{job=\"a,b\"}, instance)"),
            Some((13, "up{job=\"a,b\"}"))
        );
        assert_eq!(variable_promql("label_values(job)"), None);
        assert_eq!(
            variable_promql("query_result(topk(5, x))"),
            Some((13, "topk(5, x)"))
        );
        assert_eq!(variable_promql("metrics(node_.*)"), None);
    }
}
