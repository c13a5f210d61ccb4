//! The parts of a rendered `alertmanager.yml` that decide where an alert
//! goes: the route tree, receiver names, inhibit rules and time intervals.
//! Read from the YAML text the plan writes (any other key is ignored).

use super::Labels;
use crate::model::types::{MatchOp, Matcher};
use crate::yaml::node::{Content, Node, Style};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub route: Route,
    #[serde(default)]
    pub receivers: Vec<Receiver>,
    #[serde(default)]
    pub inhibit_rules: Vec<Inhibit>,
    #[serde(default)]
    pub time_intervals: Vec<NamedInterval>,
    /// The older name of `time_intervals` (still read by Alertmanager).
    #[serde(default)]
    pub mute_time_intervals: Vec<NamedInterval>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Receiver {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Route {
    pub receiver: Option<String>,
    #[serde(default)]
    pub matchers: Vec<String>,
    #[serde(default, rename = "match")]
    pub match_: BTreeMap<String, String>,
    #[serde(default)]
    pub match_re: BTreeMap<String, String>,
    #[serde(default, rename = "continue")]
    pub continue_: Option<bool>,
    #[serde(default)]
    pub mute_time_intervals: Vec<String>,
    #[serde(default)]
    pub active_time_intervals: Vec<String>,
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Inhibit {
    #[serde(default)]
    pub source_matchers: Vec<String>,
    #[serde(default)]
    pub target_matchers: Vec<String>,
    #[serde(default)]
    pub source_match: BTreeMap<String, String>,
    #[serde(default)]
    pub target_match: BTreeMap<String, String>,
    #[serde(default)]
    pub equal: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedInterval {
    pub name: String,
    #[serde(default)]
    pub time_intervals: Vec<TimeRange>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TimeRange {
    #[serde(default)]
    pub times: Vec<Clock>,
    #[serde(default)]
    pub weekdays: Vec<String>,
    #[serde(default)]
    pub days_of_month: Vec<String>,
    #[serde(default)]
    pub months: Vec<String>,
    #[serde(default)]
    pub years: Vec<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Clock {
    pub start_time: String,
    pub end_time: String,
}

impl Config {
    /// Reads a rendered `alertmanager.yml`.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut problems = Vec::new();
        let root = crate::yaml::node::parse(text, &mut problems)
            .map_err(|p| format!("alertmanager.yml: {}", p.message))?;
        serde_json::from_value(to_json(&root)).map_err(|e| format!("alertmanager.yml: {e}"))
    }

    pub fn interval_contains(&self, name: &str, at: jiff::Timestamp) -> Result<bool, String> {
        let Some(interval) = self
            .time_intervals
            .iter()
            .chain(&self.mute_time_intervals)
            .find(|i| i.name == name)
        else {
            return Err(format!("time interval `{name}` is not defined"));
        };
        for range in &interval.time_intervals {
            if super::interval::contains(range, at)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Route {
    /// `matchers` plus the legacy `match` / `match_re` maps.
    pub fn all_matchers(&self) -> Result<Vec<Matcher>, String> {
        let mut out = Vec::new();
        for m in &self.matchers {
            out.extend(parse_matchers(m)?);
        }
        legacy(&self.match_, &self.match_re, &mut out);
        Ok(out)
    }
}

impl Inhibit {
    pub fn source(&self) -> Vec<Matcher> {
        let mut out: Vec<Matcher> = self
            .source_matchers
            .iter()
            .filter_map(|m| parse_matchers(m).ok())
            .flatten()
            .collect();
        legacy(&self.source_match, &BTreeMap::new(), &mut out);
        out
    }

    pub fn target(&self) -> Vec<Matcher> {
        let mut out: Vec<Matcher> = self
            .target_matchers
            .iter()
            .filter_map(|m| parse_matchers(m).ok())
            .flatten()
            .collect();
        legacy(&self.target_match, &BTreeMap::new(), &mut out);
        out
    }
}

fn legacy(eq: &BTreeMap<String, String>, re: &BTreeMap<String, String>, out: &mut Vec<Matcher>) {
    for (name, value) in eq {
        out.push(Matcher {
            name: name.clone(),
            op: MatchOp::Eq,
            value: value.clone(),
        });
    }
    for (name, value) in re {
        out.push(Matcher {
            name: name.clone(),
            op: MatchOp::Re,
            value: value.clone(),
        });
    }
}

/// One `matchers` entry: `a="b"`, or several separated by commas
/// (`{a="b", c=~"d"}`), as Alertmanager's parser takes them.
fn parse_matchers(text: &str) -> Result<Vec<Matcher>, String> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(inner);
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(Matcher::parse)
        .collect()
}

/// Whether every matcher matches (a missing label is the empty string;
/// regexes are anchored at both ends, as in Alertmanager).
pub fn all_match(matchers: &[Matcher], labels: &Labels) -> Result<bool, String> {
    for m in matchers {
        let value = labels.get(&m.name).map_or("", String::as_str);
        let ok = match m.op {
            MatchOp::Eq => value == m.value,
            MatchOp::NotEq => value != m.value,
            MatchOp::Re | MatchOp::NotRe => {
                let re = regex::Regex::new(&format!("^(?:{})$", m.value))
                    .map_err(|e| format!("matcher `{}`: {e}", m.to_alertmanager()))?;
                re.is_match(value) == (m.op == MatchOp::Re)
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The YAML tree as JSON: plain `true`/`false` become booleans, every other
/// scalar a string (no field read here is a number).
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.content {
        Content::Scalar { value, style } => match (style, value.as_str()) {
            (Style::Plain, "true") => Value::Bool(true),
            (Style::Plain, "false") => Value::Bool(false),
            (Style::Plain, "null" | "~" | "") => Value::Null,
            _ => Value::String(value.clone()),
        },
        Content::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Content::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| {
                    (
                        e.key.scalar_str().unwrap_or_default().to_string(),
                        to_json(&e.value),
                    )
                })
                .collect(),
        ),
    }
}
