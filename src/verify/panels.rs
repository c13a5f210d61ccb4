//! `--deep` for dashboards: every panel's PromQL returns data from Prometheus,
//! after the Grafana variables are replaced the way Grafana would (template
//! variables from `label_values(…)` asked of Prometheus, `$__rate_interval`
//! from the scrape interval, `$__range` from the dashboard's time range).

use super::check::Finding;
use super::context::Context;
use super::http::{Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::{all, prometheus_api};
use super::yamlvalue::str_at;
use crate::model::Kind;
use crate::model::stack::DatasourceKind;
use crate::model::types::Duration;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Check {
    pub prometheus: String,
    pub variables: Vec<Variable>,
    /// Built-in variables (`__rate_interval` → `1m`).
    pub builtins: BTreeMap<String, String>,
    /// One entry per check: the PromQL of the panel's queries.
    pub panels: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    pub source: VariableSource,
    /// Multi-value or "All": Grafana substitutes a regex alternation.
    pub multi: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VariableSource {
    /// `label_values(label)` or `label_values(selector, label)`.
    LabelValues {
        selector: Option<String>,
        label: String,
    },
    /// Custom, constant, interval or text variables: their values as written.
    Fixed(Vec<String>),
}

pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let sources = cx.stack.datasources();
    let prometheus_uids: Vec<&str> = sources
        .iter()
        .filter(|d| d.kind == DatasourceKind::Prometheus)
        .map(|d| d.uid.as_str())
        .collect();
    let default_is_prometheus = sources
        .iter()
        .find(|d| d.default == Some(true))
        .or_else(|| {
            sources
                .iter()
                .find(|d| d.kind == DatasourceKind::Prometheus)
        })
        .is_some_and(|d| d.kind == DatasourceKind::Prometheus);
    let scrape = cx
        .stack
        .components
        .prometheus
        .as_ref()
        .and_then(|p| p.scrape_interval.as_ref())
        .map_or(15_000, Duration::millis);
    for dash in &cx.stack.dashboards {
        let Some(json) = cx.dashboard_json(&dash.uid) else {
            continue;
        };
        let mut names = Vec::new();
        let mut panels = Vec::new();
        for panel in flatten_panels(&json) {
            let exprs: Vec<String> = panel
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| {
                    is_prometheus(
                        t.get("datasource").or(panel.get("datasource")),
                        &prometheus_uids,
                        default_is_prometheus,
                    )
                })
                .filter(|t| t.get("hide") != Some(&Value::Bool(true)))
                .map(|t| str_at(t, "expr").to_string())
                .filter(|e| !e.trim().is_empty())
                .collect();
            if exprs.is_empty() {
                continue;
            }
            let mut name = format!("panel `{}` ({})", str_at(panel, "title"), dash.uid);
            let mut n = 2;
            while names.contains(&name) {
                name = format!("panel `{}` ({}) #{n}", str_at(panel, "title"), dash.uid);
                n += 1;
            }
            names.push(name);
            panels.push(exprs);
        }
        if panels.is_empty() {
            continue;
        }
        let base = match cx.endpoints.base(Kind::Prometheus, "web") {
            Ok(b) => b.to_string(),
            Err(reason) => {
                out.push(Probe::unreachable(Kind::Grafana, names, reason));
                continue;
            }
        };
        let range = json
            .get("time")
            .map(|t| str_at(t, "from"))
            .and_then(|f| f.strip_prefix("now-"))
            .and_then(|d| Duration::parse(d).ok())
            .map_or(6 * 3_600_000, |d| d.millis());
        let check = Check {
            prometheus: base.clone(),
            variables: variables_of(&json),
            builtins: builtins(scrape, range),
            panels,
        };
        out.push(Probe::new(
            Kind::Grafana,
            names,
            Some(join(&base, "/api/v1/query")),
            check,
        ));
    }
}

fn is_prometheus(ds: Option<&Value>, uids: &[&str], default_is_prometheus: bool) -> bool {
    match ds {
        None | Some(Value::Null) => default_is_prometheus,
        Some(Value::String(uid)) => {
            uids.contains(&uid.as_str()) || uid.eq_ignore_ascii_case("prometheus")
        }
        Some(obj) => {
            let kind = str_at(obj, "type");
            if kind.is_empty() {
                uids.contains(&str_at(obj, "uid"))
            } else {
                kind == "prometheus"
            }
        }
    }
}

/// Panels in dashboard order, including those inside collapsed rows.
fn flatten_panels(dash: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dash
        .get("panels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_at(p, "type") == "row" {
            out.extend(
                p.get("panels")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        } else {
            out.push(p);
        }
    }
    out
}

fn variables_of(dash: &Value) -> Vec<Variable> {
    let list = dash
        .get("templating")
        .and_then(|t| t.get("list"))
        .and_then(Value::as_array);
    let mut out = Vec::new();
    for v in list.into_iter().flatten() {
        let name = str_at(v, "name").to_string();
        let multi = v.get("multi") == Some(&Value::Bool(true))
            || v.get("includeAll") == Some(&Value::Bool(true));
        let query = match v.get("query") {
            Some(Value::String(q)) => q.clone(),
            Some(q) => str_at(q, "query").to_string(),
            None => String::new(),
        };
        let source = match str_at(v, "type") {
            "query" => match parse_label_values(&query) {
                Some((selector, label)) => VariableSource::LabelValues { selector, label },
                None => continue,
            },
            "custom" | "interval" => VariableSource::Fixed(
                query
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            "constant" | "textbox" => VariableSource::Fixed(vec![query]),
            _ => continue,
        };
        out.push(Variable {
            name,
            source,
            multi,
        });
    }
    out
}

/// `label_values(up{job="a"}, instance)` → (Some(`up{job="a"}`), `instance`).
pub fn parse_label_values(query: &str) -> Option<(Option<String>, String)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    match inner.rsplit_once(',') {
        Some((selector, label)) => {
            Some((Some(selector.trim().to_string()), label.trim().to_string()))
        }
        None => Some((None, inner.trim().to_string())),
    }
}

/// Grafana's built-in variables for a dashboard range at a scrape interval:
/// `$__interval` is the scrape interval (the datasource's `timeInterval`
/// floor) and `$__rate_interval` four times it, as Grafana computes it when
/// the step is not larger.
pub fn builtins(scrape_ms: u64, range_ms: u64) -> BTreeMap<String, String> {
    let fmt = |ms: u64| {
        if ms % 1000 == 0 {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        }
    };
    BTreeMap::from([
        ("__interval".into(), fmt(scrape_ms)),
        ("__interval_ms".into(), scrape_ms.to_string()),
        ("__rate_interval".into(), fmt(4 * scrape_ms)),
        ("__range".into(), fmt(range_ms)),
        ("__range_s".into(), (range_ms / 1000).to_string()),
        ("__range_ms".into(), range_ms.to_string()),
    ])
}

/// Replaces `$name`, `${name}`, `${name:format}` and `[[name]]`; unknown names stay.
pub fn substitute(expr: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while !rest.is_empty() {
        let (name, consumed) = if let Some(after) = rest.strip_prefix("${") {
            match after.find('}') {
                Some(end) => (
                    Some(after[..end].split(':').next().unwrap_or_default()),
                    end + 3,
                ),
                None => (None, 1),
            }
        } else if let Some(after) = rest.strip_prefix("[[") {
            match after.find("]]") {
                Some(end) => (
                    Some(after[..end].split(':').next().unwrap_or_default()),
                    end + 4,
                ),
                None => (None, 1),
            }
        } else if let Some(after) = rest.strip_prefix('$') {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                (None, 1)
            } else {
                (Some(&after[..len]), len + 1)
            }
        } else {
            (None, rest.chars().next().map_or(1, char::len_utf8))
        };
        match name.and_then(|n| values.get(n)) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[..consumed]),
        }
        rest = &rest[consumed..];
    }
    out
}

/// How Grafana writes a multi-value variable into PromQL: `(a|b)`, regex-escaped.
fn alternation(values: &[String]) -> String {
    let escaped: Vec<String> = values
        .iter()
        .map(|v| {
            v.chars()
                .flat_map(|c| {
                    let special = "\\^$.|?*+()[]{}".contains(c);
                    // PromQL strings need the backslash itself escaped too.
                    if special {
                        vec!['\\', '\\', c]
                    } else {
                        vec![c]
                    }
                })
                .collect()
        })
        .collect();
    format!("({})", escaped.join("|"))
}

impl Work for Check {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        Box::pin(run(self, http, checks))
    }
}

async fn run(check: &Check, http: &Http, checks: &[String]) -> Vec<Finding> {
    let mut values = check.builtins.clone();
    for v in &check.variables {
        let found = match &v.source {
            VariableSource::Fixed(list) => Ok(list.clone()),
            VariableSource::LabelValues { selector, label } => {
                label_values(http, &check.prometheus, selector.as_deref(), label).await
            }
        };
        match found {
            Ok(list) if !list.is_empty() => {
                values.insert(
                    v.name.clone(),
                    if v.multi {
                        alternation(&list)
                    } else {
                        list[0].clone()
                    },
                );
            }
            Ok(_) => {
                return all(
                    checks,
                    format!(
                        "dashboard variable `${}` has no values in Prometheus",
                        v.name
                    ),
                );
            }
            Err(e) => return all(checks, format!("dashboard variable `${}`: {e}", v.name)),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, exprs) in check.panels.iter().enumerate() {
        for expr in exprs {
            let (http, base, query) = (
                http.clone(),
                check.prometheus.clone(),
                substitute(expr, &values),
            );
            tasks.spawn(
                async move { (i, query.clone(), instant_query(&http, &base, &query).await) },
            );
        }
    }
    let mut problems: Vec<Vec<String>> = vec![Vec::new(); check.panels.len()];
    let mut series: Vec<usize> = vec![0; check.panels.len()];
    while let Some(done) = tasks.join_next().await {
        let Ok((i, query, result)) = done else {
            continue;
        };
        match result {
            Ok(0) => problems[i].push(format!("`{query}` returned no data")),
            Ok(n) => series[i] += n,
            Err(e) => problems[i].push(format!("`{query}`: {e}")),
        }
    }
    checks
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if problems[i].is_empty() {
                Finding::pass(name, format!("{} series", series[i]))
            } else {
                problems[i].sort();
                Finding::fail(name, problems[i].join("\n"))
            }
        })
        .collect()
}

async fn label_values(
    http: &Http,
    base: &str,
    selector: Option<&str>,
    label: &str,
) -> Result<Vec<String>, String> {
    let mut path = format!("/api/v1/label/{}/values", super::http::encode(label));
    if let Some(s) = selector {
        path.push_str(&format!("?match[]={}", super::http::encode(s)));
    }
    let data = prometheus_api(http, base, &path).await?;
    Ok(data
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Number of series (or 1 for a scalar) an instant query returns.
async fn instant_query(http: &Http, base: &str, query: &str) -> Result<usize, String> {
    let url = join(base, "/api/v1/query");
    let reply = http.post_form(&url, &[("query", query)]).await?;
    let body = reply.json().map_err(|e| format!("{url}: {e}"))?;
    if str_at(&body, "status") != "success" {
        return Err(format!(
            "Prometheus says {}: {}",
            str_at(&body, "errorType"),
            str_at(&body, "error")
        ));
    }
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    Ok(match str_at(&data, "resultType") {
        "scalar" | "string" => 1,
        _ => data
            .get("result")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_every_variable_syntax() {
        let mut values = builtins(15_000, 3_600_000);
        values.insert("job".into(), "node".into());
        values.insert(
            "instance".into(),
            alternation(&["a:1".into(), "b.c:2".into()]),
        );
        assert_eq!(
            substitute(
                "rate(x{job=\"$job\",instance=~\"${instance:regex}\"}[$__rate_interval]) / [[job]] $unknown $",
                &values
            ),
            "rate(x{job=\"node\",instance=~\"(a:1|b\\\\.c:2)\"}[60s]) / node $unknown $"
        );
        assert_eq!(
            substitute("increase(x[$__range])", &values),
            "increase(x[3600s])"
        );
    }

    #[test]
    fn reads_label_values_queries() {
        assert_eq!(
            parse_label_values("label_values(job)"),
            Some((None, "job".into()))
        );
        assert_eq!(
            parse_label_values("label_values(up{job=\"a,b\"}, instance)"),
            Some((Some("up{job=\"a,b\"}".into()), "instance".into()))
        );
        assert_eq!(parse_label_values("query_result(up)"), None);
    }
}
