//! Every PromQL expression of a stack — rule expressions, dashboard queries,
//! dashboard variable queries — located in the spec and analysed once, in
//! parallel, before the checks that read their facts run.

use super::{Dialect, Facts, PromqlError, analyse_in, find_chars, grafana};
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

fn analyse_job(job: &Job<'_>, dialect: &Dialect) -> Result<Facts, PromqlError> {
    if !job.grafana {
        return analyse_in(job.text, dialect);
    }
    let substituted = grafana::substitute(job.text);
    analyse_in(&substituted.text, dialect).map_err(|mut e| {
        e.offset = substituted.original_offset(e.offset);
        e
    })
}

/// Parsing dominates validation time on large stacks; it is spread over the
/// machine's cores, keeping results in input order.
/// Results prefetched while the YAML was read (`check::prefetch`) are used
/// only when the stack's dialect is the one they were analysed in (the
/// default release's): the pinned version is not known while reading.
fn run_parallel(
    jobs: &[Job<'_>],
    dialect: &Dialect,
    prefetched: &mut Prefetched,
) -> Vec<Result<Facts, PromqlError>> {
    let analyse_job = |job: &Job<'_>| analyse_job(job, dialect);
    let usable = *dialect == Dialect::latest();
    let known: Vec<Option<Result<Facts, PromqlError>>> = jobs
        .iter()
        .map(|job| {
            (usable && !job.grafana)
                .then(|| prefetched.take(job.text))
                .flatten()
        })
        .collect();
    let missing: Vec<&Job<'_>> = jobs
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .map(|(job, _)| job)
        .collect();
    // One computed result per `None`, in the same order.
    let mut computed = analyse_all(&missing, dialect).into_iter();
    known
        .into_iter()
        .zip(jobs)
        .map(|(k, job)| {
            k.or_else(|| computed.next())
                .unwrap_or_else(|| analyse_job(job))
        })
        .collect()
}

fn analyse_all(jobs: &[&Job<'_>], dialect: &Dialect) -> Vec<Result<Facts, PromqlError>> {
    let analyse_job = |job: &Job<'_>| analyse_job(job, dialect);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || jobs.len() < 256 {
        return jobs.iter().map(|job| analyse_job(job)).collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|job| analyse_job(job)).collect::<Vec<_>>())
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
