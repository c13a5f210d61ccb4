//! Where each alert rule's alerts end up in Alertmanager's route tree, walked
//! with Alertmanager's semantics: a route matches when all its matchers do; the
//! first matching child takes the alert unless it has `continue: true`; an alert
//! that no child takes stays with the route (receivers are inherited).
//!
//! An alert's labels are only partly known before it fires: its rule's static
//! labels, `alertname`, Prometheus' external labels, and what the expression
//! guarantees (`up{job="api"}` carries `job="api"`; `sum by (job)` carries
//! nothing but `job`). A matcher on an unknown label may go either way, so every
//! possible path is followed. An alert is reported when *every* path ends at
//! receivers without notifiers that it reached by falling through (not by a
//! route that deliberately sends it there, such as a Watchdog to `null`).

use super::Findings;
use super::promql::{Facts, Index};
use crate::diag::Diagnostic;
use crate::model::stack::{Alerting, Route, Rule};
use crate::model::types::{MatchOp, Matcher};
use crate::model::{Kind, Stack};
use crate::path;
use std::collections::{BTreeMap, BTreeSet};

/// A bound on explored paths; beyond it the alert is assumed to be delivered.
const MAX_WORLDS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Is(String),
    Absent,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Yes,
    No,
    Maybe,
}

/// One possible outcome: the receivers that get the alert, and whether a
/// route with matchers chose each of them.
type World<'a> = Vec<(&'a str, bool)>;

pub fn check(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    let Some(alerting) = &stack.alerting else {
        return;
    };
    if !stack.has(Kind::Alertmanager) || !stack.has(Kind::Prometheus) {
        return;
    }
    let silent: BTreeSet<&str> = alerting
        .receivers
        .iter()
        .filter(|r| r.notifier_count() == 0)
        .map(|r| r.name.as_str())
        .collect();
    if silent.is_empty() {
        return;
    }
    let external: BTreeMap<String, String> = stack
        .components
        .prometheus
        .as_ref()
        .map(|p| {
            p.external_labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let facts = index.rule_facts();
    let mut regexes = Regexes::default();
    for (file, groups) in &stack.rules {
        for (g, group) in groups.iter().enumerate() {
            for (r, rule) in group.rules.iter().enumerate() {
                let Some(alert) = &rule.alert else { continue };
                let labels = alert_labels(
                    alert,
                    rule,
                    facts.get(&(file.as_str(), g, r)).copied(),
                    &external,
                );
                let worlds = route_worlds(alerting, &alerting.route, None, &labels, &mut regexes);
                let Some(worlds) = worlds else { continue };
                let falls_through = !worlds.is_empty()
                    && worlds.iter().all(|w| {
                        w.iter()
                            .all(|(recv, chosen)| silent.contains(recv) && !chosen)
                    });
                if falls_through {
                    let receivers: BTreeSet<&str> =
                        worlds.iter().flatten().map(|(r, _)| *r).collect();
                    let names = receivers
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let shown = labels
                        .known()
                        .map(|(k, v)| format!("{k}=\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    found.push(
                        Diagnostic::warning(format!(
                            "alert `{alert}` matches no route and falls through to {names}, which notifies nobody"
                        ))
                        .with_hint(format!(
                            "its labels {{{shown}}} match no route to a receiver with email, Slack, PagerDuty or webhook; \
                             add a route for them or fix the labels"
                        ))
                        .with_code("alert-unrouted")
                        .at(path!["rules", file, g, "rules", r, "alert"]),
                    );
                }
            }
        }
    }
}

/// What is known of an alert's labels before it fires.
#[derive(Debug, Clone, Default)]
struct Labels {
    values: BTreeMap<String, Value>,
    /// No label outside `values` can be present.
    closed: bool,
}

impl Labels {
    fn get(&self, name: &str) -> Value {
        match self.values.get(name) {
            Some(v) => v.clone(),
            None if self.closed => Value::Absent,
            None => Value::Unknown,
        }
    }

    fn known(&self) -> impl Iterator<Item = (&String, &String)> {
        self.values.iter().filter_map(|(k, v)| match v {
            Value::Is(v) => Some((k, v)),
            _ => None,
        })
    }
}

fn alert_labels(
    alert: &str,
    rule: &Rule,
    facts: Option<&Facts>,
    external: &BTreeMap<String, String>,
) -> Labels {
    let mut labels = BTreeMap::new();
    if let Some(f) = facts {
        for (k, v) in &f.labels.known {
            labels.insert(k.clone(), Value::Is(v.clone()));
        }
    }
    for (k, v) in &rule.labels {
        let value = if v.contains("{{") {
            Value::Unknown
        } else {
            Value::Is(v.clone())
        };
        labels.insert(k.to_string(), value);
    }
    labels.insert("alertname".into(), Value::Is(alert.to_string()));
    for (k, v) in external {
        let absent = !labels.contains_key(k) && facts.is_some_and(|f| f.labels.absent(k));
        if absent {
            labels.insert(k.clone(), Value::Is(v.clone()));
        }
    }
    // Labels the expression certainly does not produce are absent; others unknown.
    let only = facts.and_then(|f| f.labels.only.as_ref());
    if let Some(only) = only {
        for l in only {
            labels.entry(l.clone()).or_insert(Value::Unknown);
        }
    }
    Labels {
        values: labels,
        closed: only.is_some(),
    }
}

#[derive(Default)]
struct Regexes {
    cache: BTreeMap<String, Option<regex::Regex>>,
}

impl Regexes {
    /// Alertmanager anchors matcher regexes at both ends.
    fn matches(&mut self, pattern: &str, value: &str) -> Option<bool> {
        let re = self
            .cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok());
        re.as_ref().map(|re| re.is_match(value))
    }
}

fn matcher(m: &Matcher, labels: &Labels, regexes: &mut Regexes) -> Verdict {
    let value = match labels.get(&m.name) {
        Value::Is(v) => v,
        Value::Absent => String::new(),
        Value::Unknown => return Verdict::Maybe,
    };
    let hit = match m.op {
        MatchOp::Eq => Some(value == m.value),
        MatchOp::NotEq => Some(value != m.value),
        MatchOp::Re => regexes.matches(&m.value, &value),
        MatchOp::NotRe => regexes.matches(&m.value, &value).map(|b| !b),
    };
    match hit {
        Some(true) => Verdict::Yes,
        Some(false) => Verdict::No,
        None => Verdict::Maybe,
    }
}

fn route_matches(route: &Route, labels: &Labels, regexes: &mut Regexes) -> Verdict {
    let mut verdict = Verdict::Yes;
    for m in &route.matchers {
        match matcher(m, labels, regexes) {
            Verdict::No => return Verdict::No,
            Verdict::Maybe => verdict = Verdict::Maybe,
            Verdict::Yes => {}
        }
    }
    verdict
}

/// The possible outcomes for an alert that `route` has matched; `None` when
/// there are too many to follow.
fn route_worlds<'a>(
    alerting: &'a Alerting,
    route: &'a Route,
    inherited: Option<&'a str>,
    labels: &Labels,
    regexes: &mut Regexes,
) -> Option<Vec<World<'a>>> {
    let receiver = route.receiver.as_deref().or(inherited)?;
    let chosen = !route.matchers.is_empty();
    let children = children_worlds(alerting, &route.routes, receiver, labels, regexes)?;
    Some(
        children
            .into_iter()
            .map(|w| {
                if w.is_empty() {
                    vec![(receiver, chosen)]
                } else {
                    w
                }
            })
            .collect(),
    )
}

/// Outcomes of offering the alert to `children` in order: each world lists the
/// receivers of the children that took it (empty when none did).
fn children_worlds<'a>(
    alerting: &'a Alerting,
    children: &'a [Route],
    receiver: &'a str,
    labels: &Labels,
    regexes: &mut Regexes,
) -> Option<Vec<World<'a>>> {
    let Some((child, rest)) = children.split_first() else {
        return Some(vec![Vec::new()]);
    };
    let verdict = route_matches(child, labels, regexes);
    let later = children_worlds(alerting, rest, receiver, labels, regexes)?;
    let mut out: Vec<World<'a>> = Vec::new();
    if verdict != Verdict::No {
        for taken in route_worlds(alerting, child, Some(receiver), labels, regexes)? {
            if child.continue_ == Some(true) {
                for w in &later {
                    out.push(taken.iter().chain(w.iter()).copied().collect());
                }
            } else {
                out.push(taken);
            }
        }
    }
    if verdict != Verdict::Yes {
        out.extend(later);
    }
    out.sort();
    out.dedup();
    (out.len() <= MAX_WORLDS).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)], closed: bool) -> Labels {
        Labels {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Is(v.to_string())))
                .collect(),
            closed,
        }
    }

    fn tree() -> Alerting {
        let yaml = r#"
route:
  receiver: "null"
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: "null"
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['severity=~"critical|warning"']
      receiver: chat
receivers:
  - name: "null"
  - name: pager
    webhook: [{url: "http://x"}]
  - name: chat
    webhook: [{url: "http://y"}]
"#;
        let mut problems = Vec::new();
        let tree = crate::yaml::node::parse(yaml, &mut problems).unwrap();
        crate::yaml::de::load::<Alerting>(tree).value.unwrap()
    }

    fn outcome(l: &Labels) -> Vec<Vec<(String, bool)>> {
        let a = tree();
        let mut re = Regexes::default();
        route_worlds(&a, &a.route, None, l, &mut re)
            .unwrap()
            .into_iter()
            .map(|w| w.into_iter().map(|(r, c)| (r.to_string(), c)).collect())
            .collect()
    }

    #[test]
    fn first_match_wins_unless_continue() {
        let w = outcome(&labels(
            &[("severity", "critical"), ("alertname", "A")],
            false,
        ));
        assert_eq!(
            w,
            vec![vec![
                ("pager".to_string(), true),
                ("chat".to_string(), true)
            ]]
        );
        let w = outcome(&labels(&[("severity", "info"), ("alertname", "A")], false));
        assert_eq!(w, vec![vec![("null".to_string(), false)]]);
        let w = outcome(&labels(&[("alertname", "Watchdog")], true));
        assert_eq!(w, vec![vec![("null".to_string(), true)]]);
    }

    #[test]
    fn unknown_labels_follow_every_path() {
        // Matchers on an unknown label are treated independently, so the worlds
        // over-approximate (`[pager]` alone cannot happen); that only makes the
        // fall-through report more cautious.
        let w = outcome(&labels(&[("alertname", "A")], false));
        assert_eq!(w.len(), 4);
        assert!(w.contains(&vec![("null".to_string(), false)]));
        // A closed label set without `severity`: only the fall-through remains.
        let w = outcome(&labels(&[("alertname", "A")], true));
        assert_eq!(w, vec![vec![("null".to_string(), false)]]);
    }
}
