//! Which receivers `verify --alerts` sends a synthetic alert to, and the
//! labels that make Alertmanager's route tree take it there: for each
//! receiver, the first route (depth first) that names it, and a label set
//! satisfying every matcher on the way down. The set is then walked through
//! the tree with Alertmanager's semantics (first matching child wins unless
//! `continue: true`) to make sure an earlier route does not take it.

use crate::model::stack::{Alerting, Receiver, Route};
use crate::model::types::{MatchOp, Matcher};
use std::collections::BTreeMap;

/// The alert name of every synthetic alert (unless a route matches on
/// `alertname`, in which case the route's value is used).
pub const ALERT: &str = "StackctlDeliveryTest";
/// Label carrying the run's ID, so the run finds (and silences) only its own.
pub const RUN_LABEL: &str = "stackctl_delivery";
/// Label naming the receiver the alert is meant for.
pub const RECEIVER_LABEL: &str = "stackctl_receiver";
/// `"true"` on alerts that may be delivered; the rest are silenced.
pub const LIVE_LABEL: &str = "stackctl_live";

/// Alertmanager's default `group_wait` when no route sets one.
const DEFAULT_GROUP_WAIT_MS: u64 = 30_000;
const DEFAULT_GROUP_INTERVAL_MS: u64 = 300_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    pub receiver: &'a Receiver,
    /// Labels that route the alert to `receiver` (without the run labels).
    pub labels: BTreeMap<String, String>,
    /// The route's effective waits, which bound when Alertmanager sends.
    pub group_wait_ms: u64,
    pub group_interval_ms: u64,
    /// Why no label set reaches the receiver, when none does.
    pub unreachable: Option<String>,
}

/// One target per receiver that a route names, in the order routes name them.
pub fn targets(alerting: &Alerting) -> Vec<Target<'_>> {
    let mut found: Vec<(String, Vec<&Matcher>, u64, u64)> = Vec::new();
    collect(
        &alerting.route,
        Vec::new(),
        DEFAULT_GROUP_WAIT_MS,
        DEFAULT_GROUP_INTERVAL_MS,
        &mut found,
    );
    found
        .into_iter()
        .filter_map(|(name, matchers, wait, interval)| {
            let receiver = alerting.receivers.iter().find(|r| r.name == name)?;
            let (labels, unreachable) = match satisfy(&matchers) {
                Ok(labels) => {
                    let reached = route_to(alerting, &labels);
                    if reached.contains(&name.as_str()) {
                        (labels, None)
                    } else {
                        let why = format!(
                            "labels {} satisfy its route but Alertmanager's tree sends them to {} (an earlier route takes them)",
                            show(&labels),
                            reached.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
                        );
                        (labels, Some(why))
                    }
                }
                Err(why) => (BTreeMap::new(), Some(why)),
            };
            Some(Target {
                receiver,
                labels,
                group_wait_ms: wait,
                group_interval_ms: interval,
                unreachable,
            })
        })
        .collect()
}

fn collect<'a>(
    route: &'a Route,
    mut path: Vec<&'a Matcher>,
    wait: u64,
    interval: u64,
    out: &mut Vec<(String, Vec<&'a Matcher>, u64, u64)>,
) {
    path.extend(route.matchers.iter());
    let wait = route.group_wait.as_ref().map_or(wait, |d| d.millis());
    let interval = route
        .group_interval
        .as_ref()
        .map_or(interval, |d| d.millis());
    if let Some(r) = &route.receiver {
        if !out.iter().any(|(name, ..)| name == r) {
            out.push((r.clone(), path.clone(), wait, interval));
        }
    }
    for child in &route.routes {
        collect(child, path.clone(), wait, interval, out);
    }
}

pub fn show(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// A label set that every matcher accepts.
fn satisfy(matchers: &[&Matcher]) -> Result<BTreeMap<String, String>, String> {
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    labels.insert("alertname".into(), ALERT.into());
    for m in matchers {
        if m.op == MatchOp::Eq {
            labels.insert(m.name.clone(), m.value.clone());
        }
    }
    for m in matchers {
        let current = labels.get(&m.name).cloned();
        if accepts(m, current.as_deref().unwrap_or("")) {
            continue;
        }
        let candidates = match m.op {
            MatchOp::Re => regex_examples(&m.value),
            _ => vec!["stackctl".to_string(), "stackctl-test".to_string()],
        };
        match candidates.into_iter().find(|c| accepts(m, c)) {
            Some(value) => {
                labels.insert(m.name.clone(), value);
            }
            None => {
                return Err(format!(
                    "no label value found that satisfies `{}`",
                    m.to_alertmanager()
                ));
            }
        }
    }
    if let Some(m) = matchers
        .iter()
        .find(|m| !accepts(m, labels.get(&m.name).map_or("", String::as_str)))
    {
        return Err(format!(
            "the route's matchers contradict each other (`{}` is not satisfied)",
            m.to_alertmanager()
        ));
    }
    Ok(labels)
}

/// Alertmanager anchors matcher regexes at both ends.
fn accepts(m: &Matcher, value: &str) -> bool {
    let re = |p: &str| regex::Regex::new(&format!("^(?:{p})$")).ok();
    match m.op {
        MatchOp::Eq => value == m.value,
        MatchOp::NotEq => value != m.value,
        MatchOp::Re => re(&m.value).is_some_and(|r| r.is_match(value)),
        MatchOp::NotRe => re(&m.value).is_some_and(|r| !r.is_match(value)),
    }
}

/// Strings a regex plausibly matches, tried in order: each top-level
/// alternative with its wildcards filled in.
fn regex_examples(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in pattern.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 => {
                parts.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&pattern[start..]);
    for part in parts {
        let filled = part
            .replace(".*", "")
            .replace(".+", "x")
            .replace(['(', ')', '^', '$', '?'], "")
            .replace("\\.", ".");
        out.push(filled.clone());
        out.push(filled.split('|').next().unwrap_or_default().to_string());
    }
    out.push("stackctl".into());
    out
}

/// The receivers Alertmanager's tree delivers `labels` to.
pub fn route_to<'a>(alerting: &'a Alerting, labels: &BTreeMap<String, String>) -> Vec<&'a str> {
    let mut out = Vec::new();
    let root = alerting.route.receiver.as_deref().unwrap_or_default();
    walk(&alerting.route, root, labels, &mut out);
    out
}

/// Offers the alert (already matched by `route`) to its children.
fn walk<'a>(
    route: &'a Route,
    receiver: &'a str,
    labels: &BTreeMap<String, String>,
    out: &mut Vec<&'a str>,
) {
    let mut taken = false;
    for child in &route.routes {
        let matches = child
            .matchers
            .iter()
            .all(|m| accepts(m, labels.get(&m.name).map_or("", String::as_str)));
        if !matches {
            continue;
        }
        taken = true;
        let r = child.receiver.as_deref().unwrap_or(receiver);
        walk(child, r, labels, out);
        if child.continue_ != Some(true) {
            break;
        }
    }
    if !taken && !out.contains(&receiver) {
        out.push(receiver);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerting(yaml: &str) -> Alerting {
        let spec =
            format!("stackctl: 1\nname: t\ncomponents:\n  alertmanager: {{}}\nalerting:\n{yaml}");
        let loaded = crate::load::load_text("stack.yaml", spec);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.stack.unwrap().alerting.unwrap()
    }

    const TREE: &str = r#"  route:
    receiver: default
    group_wait: 5s
    routes:
      - receiver: pager
        matchers: ['severity="critical"', 'team=~"ml|data"']
        group_wait: 1s
      - receiver: ml
        matchers: ['team=~"ml.*"', 'env!="dev"']
      - receiver: pager
        matchers: ['severity="page"']
  receivers:
    - name: default
      webhook: [{url: 'http://127.0.0.1:1/'}]
    - name: pager
      webhook: [{url: 'http://127.0.0.1:2/'}]
    - name: ml
      webhook: [{url: 'http://127.0.0.1:3/'}]
    - name: unused
"#;

    #[test]
    fn each_receiver_gets_labels_its_first_route_accepts() {
        let a = alerting(TREE);
        let got: Vec<(&str, String, u64, Option<String>)> = targets(&a)
            .into_iter()
            .map(|t| {
                (
                    t.receiver.name.as_str(),
                    show(&t.labels),
                    t.group_wait_ms,
                    t.unreachable,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "default",
                    "{alertname=\"StackctlDeliveryTest\"}".to_string(),
                    5000,
                    None
                ),
                (
                    "pager",
                    "{alertname=\"StackctlDeliveryTest\", severity=\"critical\", team=\"ml\"}"
                        .to_string(),
                    1000,
                    None
                ),
                (
                    "ml",
                    "{alertname=\"StackctlDeliveryTest\", team=\"ml\"}".to_string(),
                    5000,
                    None
                ),
            ]
        );
    }

    #[test]
    fn a_receiver_shadowed_by_an_earlier_route_is_named() {
        let a = alerting(
            "  route:\n    receiver: a\n    routes:\n      - receiver: b\n        matchers: ['x=~\".*\"']\n      - receiver: c\n        matchers: ['y=\"1\"']\n  receivers:\n    - name: a\n    - name: b\n    - name: c\n",
        );
        let t = targets(&a);
        assert_eq!(
            t[2].unreachable.as_deref(),
            Some(
                "labels {alertname=\"StackctlDeliveryTest\", y=\"1\"} satisfy its route but Alertmanager's tree sends them to `b` (an earlier route takes them)"
            )
        );
    }

    #[test]
    fn continue_reaches_later_siblings() {
        let a = alerting(
            "  route:\n    receiver: a\n    routes:\n      - receiver: b\n        continue: true\n        matchers: ['x=\"1\"']\n      - receiver: c\n        matchers: ['x=\"1\"']\n  receivers:\n    - name: a\n    - name: b\n    - name: c\n",
        );
        let labels = BTreeMap::from([("x".to_string(), "1".to_string())]);
        assert_eq!(route_to(&a, &labels), ["b", "c"]);
        assert_eq!(route_to(&a, &BTreeMap::new()), ["a"]);
    }
}
