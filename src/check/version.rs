//! What the pinned Prometheus version understands: PromQL functions newer than
//! it, functions Prometheus 3 renamed or gates behind a feature flag, integer
//! `le`/`quantile` matchers that Prometheus 3 silently stops matching, and rule
//! keys newer than it. (Alertmanager keys are checked in `alerting.rs`, Grafana
//! panel types in `dashboards.rs`, Promtail's end of life in `components.rs`.)

use super::Findings;
use super::promql::{Facts, Index};
use crate::diag::Diagnostic;
use crate::model::types::Version;
use crate::model::{Kind, Stack};
use crate::path;

/// A PromQL function (or aggregation) with the first Prometheus release that
/// has it, and whether it needs `--enable-feature=promql-experimental-functions`.
/// Versions from the Prometheus changelog; functions up to 2.42 checked against
/// promtool 2.42.
pub const FUNCTIONS: [(&str, (u64, u64), bool); 46] = [
    ("absent_over_time", (2, 16), false),
    ("last_over_time", (2, 26), false),
    ("clamp", (2, 26), false),
    ("sgn", (2, 26), false),
    ("acos", (2, 26), false),
    ("acosh", (2, 26), false),
    ("asin", (2, 26), false),
    ("asinh", (2, 26), false),
    ("atan", (2, 26), false),
    ("atanh", (2, 26), false),
    ("cos", (2, 26), false),
    ("cosh", (2, 26), false),
    ("sin", (2, 26), false),
    ("sinh", (2, 26), false),
    ("tan", (2, 26), false),
    ("tanh", (2, 26), false),
    ("deg", (2, 26), false),
    ("rad", (2, 26), false),
    ("pi", (2, 26), false),
    ("present_over_time", (2, 29), false),
    ("histogram_count", (2, 40), false),
    ("histogram_sum", (2, 40), false),
    ("histogram_fraction", (2, 40), false),
    ("histogram_stddev", (2, 46), false),
    ("histogram_stdvar", (2, 46), false),
    ("mad_over_time", (2, 49), true),
    ("sort_by_label", (2, 49), true),
    ("sort_by_label_desc", (2, 49), true),
    ("histogram_avg", (2, 53), false),
    ("limitk", (2, 54), true),
    ("limit_ratio", (2, 54), true),
    ("info", (3, 0), true),
    ("double_exponential_smoothing", (3, 0), true),
    ("ts_of_max_over_time", (3, 5), true),
    ("ts_of_min_over_time", (3, 5), true),
    ("ts_of_last_over_time", (3, 5), true),
    ("first_over_time", (3, 7), true),
    ("ts_of_first_over_time", (3, 7), true),
    ("start", (3, 7), true),
    ("end", (3, 7), true),
    ("range", (3, 7), true),
    ("step", (3, 7), true),
    ("histogram_quantiles", (3, 8), true),
    ("max_of", (3, 8), true),
    ("min_of", (3, 8), true),
    ("integral", (3, 8), true),
];

pub fn check(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    if !stack.has(Kind::Prometheus) {
        return;
    }
    let version = stack.version_of(Kind::Prometheus);
    let experimental = experimental_enabled(stack);
    for entry in &index.entries {
        let Ok(facts) = &entry.result else { continue };
        for (needle, d) in expression_findings(facts, &version, experimental) {
            let offset = entry.site.offset_of(stack, &needle);
            found.push(d.at(entry.site.path()).at_offset(offset));
        }
    }
    rule_keys(stack, &version, found);
}

/// Whether `components.prometheus.extra_args` enables the experimental functions.
pub fn experimental_enabled(stack: &Stack) -> bool {
    stack.components.prometheus.as_ref().is_some_and(|p| {
        p.extra_args.iter().any(|a| {
            a.strip_prefix("--enable-feature=").is_some_and(|list| {
                list.split(',')
                    .any(|f| f.trim() == "promql-experimental-functions")
            })
        })
    })
}

/// What the pinned Prometheus `version` makes of one parsed expression: each
/// finding (without a position) with the text it is about, which the caller
/// finds in the expression (spec rules and panels, dashboard files).
pub fn expression_findings(
    facts: &Facts,
    version: &Version,
    experimental_enabled: bool,
) -> Vec<(String, Diagnostic)> {
    let mut out = Vec::new();
    for function in &facts.functions {
        if function == "holt_winters" {
            if version.at_least(3, 0, 0) {
                out.push((
                    "holt_winters".to_string(),
                    Diagnostic::error(format!(
                        "`holt_winters` was renamed `double_exponential_smoothing` in Prometheus 3 (this stack pins {version})"
                    ))
                    .with_hint(
                        "use `double_exponential_smoothing(...)` and add `--enable-feature=promql-experimental-functions` \
                         to `components.prometheus.extra_args`",
                    )
                    .with_code("version"),
                ));
            }
            continue;
        }
        let Some(&(_, (major, minor), experimental)) =
            FUNCTIONS.iter().find(|(f, _, _)| f == function)
        else {
            continue;
        };
        if !version.at_least(major, minor, 0) {
            out.push((
                function.clone(),
                Diagnostic::error(format!(
                    "`{function}` needs Prometheus {major}.{minor} or later (this stack pins {version})"
                ))
                .with_hint("upgrade Prometheus, or rewrite the expression without it")
                .with_code("version"),
            ));
        } else if experimental && !experimental_enabled {
            out.push((
                function.clone(),
                Diagnostic::error(format!(
                    "`{function}` is an experimental PromQL function in Prometheus {version}; it fails unless enabled"
                ))
                .with_hint(
                    "add `--enable-feature=promql-experimental-functions` to `components.prometheus.extra_args`",
                )
                .with_code("version"),
            ));
        }
    }
    if version.at_least(3, 0, 0) {
        for (label, value, negated) in &facts.integer_buckets {
            // `le="1"` finds no series once values are floats; `le!="1"` finds all of them.
            let effect = if *negated {
                "silently matches every series"
            } else {
                "silently matches nothing"
            };
            out.push((
                label.clone(),
                Diagnostic::warning(format!(
                    "`{label}` matcher with integer value `{value}` {effect} on Prometheus 3"
                ))
                .with_hint(format!(
                    "Prometheus 3 writes `{label}` values as floats (`1` is stored as `1.0`); match `{label}=\"{}\"` \
                     or a regex such as `{label}=~\"1(\\\\.0)?\"`",
                    float_form(value)
                ))
                .with_code("version"),
            ));
        }
    }
    out
}

/// `1` → `1.0`; a regex is shown as is.
fn float_form(value: &str) -> String {
    if value
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
    {
        format!("{value}.0")
    } else {
        value.to_string()
    }
}

fn rule_keys(stack: &Stack, version: &Version, found: &mut Findings) {
    for (file, groups) in &stack.rules {
        for (g, group) in groups.iter().enumerate() {
            if group.limit.is_some() && !version.at_least(2, 31, 0) {
                found.error(
                    path!["rules", file, g, "limit"],
                    format!("rule group `limit` needs Prometheus 2.31 or later (this stack pins {version})"),
                    "remove `limit` or upgrade Prometheus",
                );
            }
            for (r, rule) in group.rules.iter().enumerate() {
                if rule.keep_firing_for.is_some() && !version.at_least(2, 42, 0) {
                    found.error(
                        path!["rules", file, g, "rules", r, "keep_firing_for"],
                        format!("`keep_firing_for` needs Prometheus 2.42 or later (this stack pins {version})"),
                        "remove it or upgrade Prometheus",
                    );
                }
            }
        }
    }
    if let Some(p) = &stack.components.prometheus {
        if p.remote_write_receiver == Some(true) && !version.at_least(2, 33, 0) {
            found.error(
                path!["components", "prometheus", "remote_write_receiver"],
                format!("`--web.enable-remote-write-receiver` needs Prometheus 2.33 or later (this stack pins {version})"),
                "upgrade Prometheus",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_table_matches_the_parser() {
        // Every name in the table is a function or aggregation the parser knows.
        for (name, _, _) in FUNCTIONS {
            let expr = match name {
                "limitk" | "limit_ratio" => format!("{name}(1, x)"),
                _ => format!("{name}()"),
            };
            let err = super::super::promql::analyse(&expr)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(!err.contains("unknown function"), "{name}: {err}");
        }
    }
}
