//! Rule groups: unique names, each rule either recording or alerting, fields
//! that belong to its kind, valid recording-rule names.

use super::names::{is_file_stem, is_metric_name};
use super::{Findings, duplicates};
use crate::model::Stack;
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    let mut groups = Vec::new();
    for (file, list) in &stack.rules {
        if !is_file_stem(file) {
            found.error_at_key(
                path!["rules", file],
                format!("invalid rule file name `{file}`"),
                "rule file names are letters, digits, `-`, `_` and `.`; it becomes `prometheus/rules/NAME.yml`",
            );
        }
        for (g, group) in list.iter().enumerate() {
            groups.push((group.name.as_str(), path!["rules", file, g, "name"]));
            if group.rules.is_empty() {
                found.error(
                    path!["rules", file, g, "rules"],
                    format!("rule group `{}` has no rules", group.name),
                    "",
                );
            }
            for (r, rule) in group.rules.iter().enumerate() {
                let at = path!["rules", file, g, "rules", r];
                check_rule(found, rule, at);
            }
        }
    }
    duplicates(found, "rule group", groups);
}

fn check_rule(found: &mut Findings, rule: &crate::model::stack::Rule, at: crate::yaml::node::Path) {
    let with = |seg: &str| {
        let mut p = at.clone();
        p.push(crate::yaml::node::Seg::Key(seg.to_string()));
        p
    };
    match (&rule.record, &rule.alert) {
        (Some(_), Some(_)) => found.error(
            with("alert"),
            "a rule has both `record` and `alert`",
            "split it into a recording rule and an alerting rule",
        ),
        (None, None) => found.error(
            at.clone(),
            "a rule needs `record` (recording rule) or `alert` (alerting rule)",
            "",
        ),
        (Some(record), None) => {
            if !is_metric_name(record) {
                found.error(
                    with("record"),
                    format!("`{record}` is not a valid metric name"),
                    "recording rule names are letters, digits, `_` and `:`, e.g. `job:http_requests:rate5m`",
                );
            }
            if rule.for_.is_some() {
                found.error(
                    with("for"),
                    "`for` applies to alerting rules only",
                    "remove it from this recording rule",
                );
            }
            if rule.keep_firing_for.is_some() {
                found.error(
                    with("keep_firing_for"),
                    "`keep_firing_for` applies to alerting rules only",
                    "",
                );
            }
            if !rule.annotations.is_empty() {
                found.error(
                    with("annotations"),
                    "annotations apply to alerting rules only",
                    "",
                );
            }
        }
        (None, Some(alert)) => {
            if alert.trim().is_empty() {
                found.error(with("alert"), "alert name is empty", "");
            }
        }
    }
    if rule.expr.trim().is_empty() {
        found.error(
            with("expr"),
            "`expr` is empty",
            "write the PromQL expression",
        );
    }
}
