//! Where an alert goes (issue 14 item 2): the rendered Alertmanager
//! configuration (`alertmanager/alertmanager.yml`, as the plan writes it, so
//! routes and receivers the plan adds count too) walked as Alertmanager's
//! dispatcher walks it, for one concrete label set:
//!
//! - a route matches when all its matchers do (a missing label is the empty
//!   string; regexes are anchored); children are tried in order and the first
//!   match takes the alert unless it has `continue: true`; a route none of
//!   whose children matched keeps the alert itself; the receiver is
//!   inherited from the parent when not set. The receivers in that order are
//!   `amtool config routes test`'s answer (tests/routes.rs compares them).
//! - time intervals are then applied at a given time: a route whose
//!   `mute_time_intervals` contain it, or whose `active_time_intervals` do
//!   not, notifies no one then (Alertmanager does not inherit either list).
//! - inhibit rules whose target matchers match the alert are listed: the
//!   alert is muted while another alert matching the source fires with the
//!   same values of the `equal` labels.

pub mod config;
pub mod expect;
pub mod interval;

use config::{Config, Route};
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

/// A route that took the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Reached {
    /// `route.routes[1].routes[0]` in alertmanager.yml.
    pub path: String,
    /// The matchers of every route on the way, from the root's children down.
    pub matchers: Vec<String>,
    pub receiver: String,
    /// Time intervals that mute this route at the time asked about.
    pub muted_by: Vec<String>,
    /// `active_time_intervals` none of which contains the time.
    pub inactive: Vec<String>,
    /// The route's own `mute_time_intervals` and `active_time_intervals`.
    pub mute: Vec<String>,
    pub active: Vec<String>,
}

impl Reached {
    pub fn notifies(&self) -> bool {
        self.muted_by.is_empty() && self.inactive.is_empty()
    }
}

/// An inhibit rule that can mute the alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Inhibitor {
    pub index: usize,
    pub source: Vec<String>,
    pub equal: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub reached: Vec<Reached>,
    pub inhibitors: Vec<Inhibitor>,
}

impl Answer {
    /// The receivers in Alertmanager's order, as amtool prints them.
    pub fn receivers(&self) -> Vec<&str> {
        self.reached.iter().map(|r| r.receiver.as_str()).collect()
    }

    /// The receivers notified at the time asked about.
    pub fn notified(&self) -> Vec<&str> {
        self.reached
            .iter()
            .filter(|r| r.notifies())
            .map(|r| r.receiver.as_str())
            .collect()
    }
}

/// Routes `labels` through `config` at `at`.
pub fn evaluate(config: &Config, labels: &Labels, at: jiff::Timestamp) -> Result<Answer, String> {
    let mut reached = Vec::new();
    let root = &config.route;
    let receiver = root.receiver.clone().unwrap_or_default();
    if matches(root, labels)? {
        walk(
            root,
            "route",
            &receiver,
            &mut Vec::new(),
            labels,
            &mut reached,
        )?;
    }
    for r in &mut reached {
        for name in &r.mute {
            if config.interval_contains(name, at)? {
                r.muted_by.push(name.clone());
            }
        }
        let mut any = r.active.is_empty();
        for name in &r.active {
            any |= config.interval_contains(name, at)?;
        }
        if !any {
            r.inactive = r.active.clone();
        }
    }
    let mut inhibitors = Vec::new();
    for (index, rule) in config.inhibit_rules.iter().enumerate() {
        if config::all_match(&rule.target(), labels)? {
            inhibitors.push(Inhibitor {
                index,
                source: rule.source().iter().map(|m| m.to_alertmanager()).collect(),
                equal: rule.equal.clone(),
            });
        }
    }
    Ok(Answer {
        reached,
        inhibitors,
    })
}

fn matches(route: &Route, labels: &Labels) -> Result<bool, String> {
    config::all_match(&route.all_matchers()?, labels)
}

/// Alertmanager's `Route.Match`: returns whether this route or a child took it.
fn walk(
    route: &Route,
    path: &str,
    receiver: &str,
    trail: &mut Vec<String>,
    labels: &Labels,
    out: &mut Vec<Reached>,
) -> Result<(), String> {
    let before = out.len();
    for (i, child) in route.routes.iter().enumerate() {
        if !matches(child, labels)? {
            continue;
        }
        let child_path = format!("{path}.routes[{i}]");
        let child_receiver = child.receiver.as_deref().unwrap_or(receiver);
        let pushed = child.all_matchers()?.len();
        trail.extend(child.all_matchers()?.iter().map(|m| m.to_alertmanager()));
        walk(child, &child_path, child_receiver, trail, labels, out)?;
        trail.truncate(trail.len() - pushed);
        if !child.continue_.unwrap_or(false) {
            break;
        }
    }
    if out.len() == before {
        out.push(Reached {
            path: path.to_string(),
            matchers: trail.clone(),
            receiver: receiver.to_string(),
            muted_by: Vec::new(),
            inactive: Vec::new(),
            mute: route.mute_time_intervals.clone(),
            active: route.active_time_intervals.clone(),
        });
    }
    Ok(())
}

/// Parses `name=value` arguments (the value may contain `=`).
pub fn parse_labels(args: &[String]) -> Result<Labels, String> {
    let mut labels = Labels::new();
    for a in args {
        let Some((k, v)) = a.split_once('=') else {
            return Err(format!("`{a}` is not `name=value`"));
        };
        let k = k.trim();
        if !crate::model::types::LabelName::is_valid(k) {
            return Err(format!("`{k}` is not a label name"));
        }
        let v = v.trim().trim_matches('"');
        labels.insert(k.to_string(), v.to_string());
    }
    Ok(labels)
}

/// An RFC 3339 time (`2026-12-06T03:00:00Z`), or a civil time in UTC
/// (`2026-12-06 03:00`).
pub fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            format!("`{text}` is not a time: write RFC 3339, e.g. `2026-12-06T03:00:00Z`")
        })
}
