//! Prometheus: alive and ready; runs the config stackctl rendered; every
//! scrape job has its targets and all are up; every rule group is loaded and
//! evaluates without error; an Alertmanager is discovered.

use super::check::{Finding, Status};
use super::context::Context;
use super::http::{Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::{all, group_check, job_check, prometheus_api as api};
use super::yamlvalue::{parse_yaml, str_at};
use crate::model::Kind;
use crate::model::types::Duration;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

const CONFIG_FILE: &str = "prometheus/prometheus.yml";

#[derive(Debug, Clone)]
pub enum Check {
    Config { base: String, expected: Value },
    Targets { base: String, jobs: Vec<Job> },
    Rules { base: String, groups: Vec<Group> },
    Alertmanagers { base: String },
}

/// A scrape job as the rendered config declares it.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// Static targets (`host:port`); discovered jobs have none.
    pub targets: Vec<String>,
    /// A blackbox probe job (`metrics_path: /probe`): its targets are "up"
    /// whenever the exporter answers, so only `probe_success` says whether
    /// the probed endpoints work.
    pub probe: bool,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub file: String,
    pub name: String,
    pub rules: Vec<String>,
}

pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let kind = Kind::Prometheus;
    let Some(base) = super::basic::web_health(cx, kind, out) else {
        return;
    };
    let expected = match cx.deployment.files.get(CONFIG_FILE).map(|t| parse_yaml(t)) {
        Some(Ok(v)) => v,
        // The plan always renders this file; anything else is a stackctl bug.
        _ => Value::Null,
    };
    out.push(Probe::new(
        kind,
        vec!["config loaded".into()],
        Some(join(&base, "/api/v1/status/config")),
        Check::Config {
            base: base.clone(),
            expected: expected.clone(),
        },
    ));
    let mut jobs = jobs_of(&expected);
    file_sd_targets(cx, &expected, &mut jobs);
    if !jobs.is_empty() {
        out.push(Probe::new(
            kind,
            jobs.iter().map(|j| job_check(&j.name)).collect(),
            Some(join(&base, "/api/v1/targets")),
            Check::Targets {
                base: base.clone(),
                jobs,
            },
        ));
    }
    let groups: Vec<Group> = cx
        .stack
        .rules
        .iter()
        .flat_map(|(file, groups)| {
            groups.iter().map(move |g| Group {
                file: format!("{file}.yml"),
                name: g.name.clone(),
                rules: g.rules.iter().map(|r| r.name().to_string()).collect(),
            })
        })
        .collect();
    if !groups.is_empty() {
        out.push(Probe::new(
            kind,
            groups.iter().map(|g| group_check(&g.name)).collect(),
            Some(join(&base, "/api/v1/rules")),
            Check::Rules {
                base: base.clone(),
                groups,
            },
        ));
    }
    if cx.stack.has(Kind::Alertmanager) {
        out.push(Probe::new(
            kind,
            vec!["alertmanager discovered".into()],
            Some(join(&base, "/api/v1/alertmanagers")),
            Check::Alertmanagers { base },
        ));
    }
}

/// The scrape jobs of a rendered config, with their static targets.
pub fn jobs_of(config: &Value) -> Vec<Job> {
    let Some(list) = config.get("scrape_configs").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|job| Job {
            name: str_at(job, "job_name").to_string(),
            targets: static_targets(job).into_iter().collect(),
            probe: str_at(job, "metrics_path") == "/probe",
        })
        .collect()
}

/// The targets of file-discovery jobs (remote hosts), from the target files
/// the plan renders (`/etc/prometheus/X` in the container is `prometheus/X`),
/// so a host that is cut off is named rather than silently missing.
fn file_sd_targets(cx: &Context<'_>, config: &Value, jobs: &mut [Job]) {
    let Some(list) = config.get("scrape_configs").and_then(Value::as_array) else {
        return;
    };
    for (job, spec) in jobs.iter_mut().zip(list) {
        let files = spec
            .get("file_sd_configs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| {
                c.get("files")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(Value::as_str);
        for file in files {
            let Some(rel) = file.strip_prefix("/etc/prometheus/") else {
                continue;
            };
            let Some(text) = cx.deployment.files.get(&format!("prometheus/{rel}")) else {
                continue;
            };
            let groups: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            for group in groups.as_array().into_iter().flatten() {
                for t in group
                    .get("targets")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = t.as_str().filter(|t| !job.targets.iter().any(|j| j == t)) {
                        job.targets.push(t.to_string());
                    }
                }
            }
        }
    }
}

/// How long a plain `verify` waits for "not yet" failures: Prometheus
/// scrapes each target first at an offset within its interval and evaluates
/// each rule group first within the evaluation interval, so one longest
/// interval (plus a scrape's own time) is enough for every first result.
pub fn first_round_bound(cx: &Context<'_>) -> Option<std::time::Duration> {
    if !cx.stack.has(Kind::Prometheus) {
        return None;
    }
    let config = cx
        .deployment
        .files
        .get(CONFIG_FILE)
        .map(|t| parse_yaml(t))?
        .ok()?;
    let global = config.get("global");
    let at = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .and_then(millis)
    };
    // Prometheus' defaults when the file leaves them out.
    let mut longest = at(global, "scrape_interval").unwrap_or(60_000);
    longest = longest.max(at(global, "evaluation_interval").unwrap_or(60_000));
    for job in config
        .get("scrape_configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        longest = longest.max(at(Some(job), "scrape_interval").unwrap_or(0));
    }
    Some(std::time::Duration::from_millis(longest) + FIRST_ROUND_MARGIN)
}

/// A first scrape's own time (bounded by its timeout) and the API's lag.
const FIRST_ROUND_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

fn static_targets(job: &Value) -> BTreeSet<String> {
    job.get("static_configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|sc| {
            sc.get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect()
}

impl Work for Check {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        Box::pin(run(self, http, checks))
    }
}

async fn run(check: &Check, http: &Http, checks: &[String]) -> Vec<Finding> {
    match check {
        Check::Config { base, expected } => config(http, base, expected, &checks[0]).await,
        Check::Targets { base, jobs } => match api(http, base, "/api/v1/targets").await {
            Ok(data) => {
                let mut out = Vec::new();
                for job in jobs {
                    let finding = target_finding(job, &data);
                    out.push(if job.probe && finding.status == Status::Pass {
                        probe_finding(http, base, job, finding).await
                    } else {
                        finding
                    });
                }
                out
            }
            Err(e) => all(checks, e),
        },
        Check::Rules { base, groups } => match api(http, base, "/api/v1/rules").await {
            Ok(data) => groups.iter().map(|g| rule_finding(g, &data)).collect(),
            Err(e) => all(checks, e),
        },
        Check::Alertmanagers { base } => match api(http, base, "/api/v1/alertmanagers").await {
            Ok(data) => vec![alertmanagers_finding(&checks[0], &data)],
            Err(e) => all(checks, e),
        },
    }
}

async fn config(http: &Http, base: &str, expected: &Value, check: &str) -> Vec<Finding> {
    let running = match api(http, base, "/api/v1/status/config").await {
        Ok(data) => data,
        Err(e) => return vec![Finding::fail(check, e)],
    };
    let running = match parse_yaml(str_at(&running, "yaml")) {
        Ok(v) => v,
        Err(e) => {
            return vec![Finding::fail(
                check,
                format!("the loaded config does not parse: {e}"),
            )];
        }
    };
    let mut problems = compare_config(expected, &running);
    // A failed reload leaves the old config running and says so only here.
    if let Ok(info) = api(http, base, "/api/v1/status/runtimeinfo").await {
        if info.get("reloadConfigSuccess") == Some(&Value::Bool(false)) {
            problems.insert(
                0,
                "the last config reload failed (Prometheus still runs the previous config)".into(),
            );
        }
    }
    if problems.is_empty() {
        let jobs = running
            .get("scrape_configs")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        vec![Finding::pass(
            check,
            format!("matches the rendered {CONFIG_FILE} ({jobs} scrape jobs)"),
        )]
    } else {
        vec![
            Finding::fail(
                check,
                format!(
                    "the running config differs from the rendered {CONFIG_FILE}: {}",
                    problems.join("; ")
                ),
            )
            .with_hint("run `stackctl render`, then restart or reload Prometheus"),
        ]
    }
}

fn millis(text: &str) -> Option<u64> {
    Duration::parse(text).ok().map(|d| d.millis())
}

/// Differences that matter between the rendered config and the one
/// Prometheus reports, which it re-serialises with every default filled in
/// and durations normalised (`60s` → `1m`), and with rule file paths made
/// absolute. Container addresses of Alertmanagers are not compared: the
/// "alertmanager discovered" check covers them.
pub fn compare_config(expected: &Value, running: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let null = Value::Null;
    let eg = expected.get("global").unwrap_or(&null);
    let rg = running.get("global").unwrap_or(&null);
    let dur = |v: &Value, key: &str, default: &str| {
        millis(v.get(key).and_then(Value::as_str).unwrap_or(default))
    };
    // An unset scrape_timeout is 10s, or the scrape interval when that is shorter.
    let interval_ms = |g: &Value| dur(g, "scrape_interval", "1m").unwrap_or(60_000);
    for (key, default) in [
        ("scrape_interval", "1m"),
        ("evaluation_interval", "1m"),
        ("scrape_timeout", "10s"),
    ] {
        let (mut e, mut r) = (dur(eg, key, default), dur(rg, key, default));
        if key == "scrape_timeout" {
            e = e.map(|t| {
                if eg.get(key).is_none() {
                    t.min(interval_ms(eg))
                } else {
                    t
                }
            });
            r = r.map(|t| {
                if rg.get(key).is_none() {
                    t.min(interval_ms(rg))
                } else {
                    t
                }
            });
        }
        if e != r {
            out.push(format!(
                "global.{key} is {} (rendered: {})",
                str_or(rg.get(key), default),
                str_or(eg.get(key), default)
            ));
        }
    }
    let labels = |v: &Value| -> BTreeMap<String, String> {
        v.get("external_labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    if labels(eg) != labels(rg) {
        out.push(format!(
            "global.external_labels are {:?} (rendered: {:?})",
            labels(rg),
            labels(eg)
        ));
    }
    let files = |v: &Value| -> Vec<String> {
        v.get("rule_files")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|f| f.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let running_files = files(running);
    for f in files(expected) {
        if !running_files
            .iter()
            .any(|r| r == &f || r.ends_with(&format!("/{f}")))
        {
            out.push(format!("rule_files lacks `{f}`"));
        }
    }
    let jobs = |v: &Value| -> BTreeMap<String, Value> {
        v.get("scrape_configs")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|j| (str_at(j, "job_name").to_string(), j.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ej, rj) = (jobs(expected), jobs(running));
    for name in ej.keys().filter(|n| !rj.contains_key(*n)) {
        out.push(format!("scrape job `{name}` is not loaded"));
    }
    for name in rj.keys().filter(|n| !ej.contains_key(*n)) {
        out.push(format!(
            "scrape job `{name}` is loaded but not in stack.yaml"
        ));
    }
    let global_interval = str_or(eg.get("scrape_interval"), "1m");
    for (name, e) in &ej {
        let Some(r) = rj.get(name) else { continue };
        let e_interval = str_or(e.get("scrape_interval"), &global_interval);
        if millis(&e_interval) != millis(&str_or(r.get("scrape_interval"), &global_interval)) {
            out.push(format!(
                "job `{name}` scrapes every {} (rendered: {e_interval})",
                str_or(r.get("scrape_interval"), &global_interval)
            ));
        }
        for (key, default) in [
            ("metrics_path", "/metrics"),
            ("scheme", "http"),
            ("honor_labels", "false"),
        ] {
            let (ev, rv) = (str_or(e.get(key), default), str_or(r.get(key), default));
            if ev != rv {
                out.push(format!("job `{name}` has {key} `{rv}` (rendered: `{ev}`)"));
            }
        }
        let (et, rt) = (static_targets(e), static_targets(r));
        if et != rt {
            let missing: Vec<&String> = et.difference(&rt).collect();
            let extra: Vec<&String> = rt.difference(&et).collect();
            out.push(format!(
                "job `{name}` targets differ (not loaded: {missing:?}, not rendered: {extra:?})"
            ));
        }
        if e.get("params") != r.get("params") && e.get("params").is_some() {
            out.push(format!("job `{name}` params differ"));
        }
    }
    let am_count = |v: &Value| {
        v.get("alerting")
            .and_then(|a| a.get("alertmanagers"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    if am_count(expected) > 0 && am_count(running) == 0 {
        out.push("no Alertmanager is configured".into());
    }
    let urls = |v: &Value| -> BTreeSet<String> {
        v.get("remote_write")
            .and_then(Value::as_array)
            .map(|l| l.iter().map(|w| str_at(w, "url").to_string()).collect())
            .unwrap_or_default()
    };
    if urls(expected) != urls(running) {
        out.push(format!(
            "remote_write URLs are {:?} (rendered: {:?})",
            urls(running),
            urls(expected)
        ));
    }
    out
}

fn str_or(v: Option<&Value>, default: &str) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => default.to_string(),
    }
}

fn target_finding(job: &Job, data: &Value) -> Finding {
    let check = job_check(&job.name);
    let in_job = |t: &&Value| {
        let pool = str_at(t, "scrapePool");
        let pool = if pool.is_empty() {
            t.get("discoveredLabels").map_or("", |d| str_at(d, "job"))
        } else {
            pool
        };
        pool == job.name
    };
    let list = |key: &str| -> Vec<Value> {
        data.get(key)
            .and_then(Value::as_array)
            .map(|l| l.iter().filter(in_job).cloned().collect())
            .unwrap_or_default()
    };
    let (active, dropped) = (list("activeTargets"), list("droppedTargets"));
    let address = |t: &Value| {
        t.get("discoveredLabels")
            .map(|d| str_at(d, "__address__").to_string())
            .unwrap_or_default()
    };
    let mut problems = Vec::new();
    let mut not_yet = 0;
    for target in &job.targets {
        if active.iter().any(|t| &address(t) == target) {
            continue;
        }
        if dropped.iter().any(|t| &address(t) == target) {
            problems.push(format!("{target} was dropped by relabelling"));
        } else {
            // Just after start, service discovery has not run yet.
            not_yet += 1;
            problems.push(format!("{target} is not among the job's targets"));
        }
    }
    if active.is_empty() && job.targets.is_empty() {
        problems.push("no targets discovered".into());
    }
    let mut up = 0;
    for t in &active {
        let instance = t
            .get("labels")
            .map(|l| str_at(l, "instance"))
            .filter(|s| !s.is_empty())
            .map_or_else(|| address(t), str::to_string);
        let url = str_at(t, "scrapeUrl");
        // Targets of remote hosts carry `host`: name the machine.
        let host = t
            .get("labels")
            .map(|l| str_at(l, "host"))
            .filter(|h| !h.is_empty())
            .map(|h| format!("host `{h}`: "))
            .unwrap_or_default();
        match str_at(t, "health") {
            "up" => up += 1,
            "down" => problems.push(format!(
                "{host}{instance} ({url}) is down: {}",
                str_at(t, "lastError")
            )),
            _ => {
                not_yet += 1;
                problems.push(format!("{instance} ({url}) has not been scraped yet"));
            }
        }
    }
    if problems.is_empty() {
        Finding::pass(check, format!("{up}/{} targets up", active.len()))
    } else if not_yet == problems.len() {
        Finding::pending(check, problems.join("\n"))
    } else {
        Finding::fail(check, problems.join("\n"))
    }
}

/// A probe job whose targets are up (the exporter answered) is healthy only
/// when every probe succeeded: `probe_success` is 1 for each of its targets.
async fn probe_finding(http: &Http, base: &str, job: &Job, up: Finding) -> Finding {
    let query = format!(
        "probe_success{{job=\"{}\"}}",
        job.name.replace(['\\', '"'], "")
    );
    let path = format!("/api/v1/query?query={}", super::http::encode(&query));
    let data = match api(http, base, &path).await {
        Ok(data) => data,
        Err(e) => return Finding::fail(up.check, format!("cannot read `probe_success`: {e}")),
    };
    probe_success_finding(job, up, &data)
}

fn probe_success_finding(job: &Job, up: Finding, data: &Value) -> Finding {
    let series: Vec<(String, String)> = data
        .get("result")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let instance = r
                .get("metric")
                .map(|m| str_at(m, "instance").to_string())
                .unwrap_or_default();
            let value = r
                .get("value")
                .and_then(|v| v.get(1))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (instance, value)
        })
        .collect();
    if series.is_empty() {
        return Finding::pending(
            up.check,
            format!("no `probe_success` for job `{}` yet", job.name),
        );
    }
    let failed: Vec<String> = series
        .iter()
        .filter(|(_, v)| v != "1")
        .map(|(instance, _)| format!("probe of {instance} failed (`probe_success` is 0)"))
        .collect();
    if failed.is_empty() {
        Finding::pass(
            up.check,
            format!("{}/{} probes succeeded", series.len(), series.len()),
        )
    } else {
        Finding::fail(up.check, failed.join("\n")).with_hint(
            "the exporter answers, but the endpoint it probes does not; `curl 'http://BLACKBOX/probe?target=…&module=…&debug=true'` shows why",
        )
    }
}

fn rule_finding(group: &Group, data: &Value) -> Finding {
    let check = group_check(&group.name);
    let found = data
        .get("groups")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find(|g| str_at(g, "name") == group.name));
    let Some(found) = found else {
        return Finding::fail(
            check,
            format!("not loaded (expected from rules/{})", group.file),
        );
    };
    let rules: Vec<&Value> = found
        .get("rules")
        .and_then(Value::as_array)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut not_yet = 0;
    for name in &group.rules {
        if !rules.iter().any(|r| str_at(r, "name") == name) {
            problems.push(format!("rule `{name}` is not loaded"));
        }
    }
    for r in &rules {
        let name = str_at(r, "name");
        match str_at(r, "health") {
            "ok" => {}
            "err" => problems.push(format!("rule `{name}` failed: {}", str_at(r, "lastError"))),
            _ => {
                not_yet += 1;
                problems.push(format!("rule `{name}` has not been evaluated yet"));
            }
        }
    }
    if problems.is_empty() {
        Finding::pass(
            check,
            format!("{} rules evaluated without error", rules.len()),
        )
    } else if not_yet == problems.len() {
        Finding::pending(check, problems.join("\n"))
    } else {
        Finding::fail(check, problems.join("\n"))
    }
}

fn alertmanagers_finding(check: &str, data: &Value) -> Finding {
    let urls = |key: &str| -> Vec<String> {
        data.get(key)
            .and_then(Value::as_array)
            .map(|l| l.iter().map(|a| str_at(a, "url").to_string()).collect())
            .unwrap_or_default()
    };
    let active = urls("activeAlertmanagers");
    if active.is_empty() {
        let dropped = urls("droppedAlertmanagers");
        let detail = if dropped.is_empty() {
            String::new()
        } else {
            format!(" (dropped: {})", dropped.join(", "))
        };
        let message = format!("Prometheus has discovered no Alertmanager{detail}");
        // Discovery runs shortly after start; a dropped one will not come.
        if dropped.is_empty() {
            Finding::pending(check, message)
        } else {
            Finding::fail(check, message)
        }
    } else {
        Finding::pass(check, active.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_compares_semantically() {
        let rendered = parse_yaml(
            "global:\n  scrape_interval: 60s\n  evaluation_interval: 15s\n  external_labels:\n    cluster: a\nrule_files:\n- rules/*.yml\nalerting:\n  alertmanagers:\n  - static_configs:\n    - targets: [alertmanager:9093]\nscrape_configs:\n- job_name: node\n  static_configs:\n  - targets: [node-exporter:9100]\n",
        )
        .unwrap();
        // As Prometheus 2.42 reports it: defaults filled in, 60s → 1m, paths absolute.
        let loaded = parse_yaml(
            "global:\n  scrape_interval: 1m\n  scrape_timeout: 10s\n  evaluation_interval: 15s\n  external_labels:\n    cluster: a\nrule_files:\n- /etc/prometheus/rules/*.yml\nalerting:\n  alertmanagers:\n  - follow_redirects: true\n    static_configs:\n    - targets:\n      - 127.0.0.1:9093\nscrape_configs:\n- job_name: node\n  honor_timestamps: true\n  scrape_interval: 1m\n  metrics_path: /metrics\n  scheme: http\n  static_configs:\n  - targets:\n    - node-exporter:9100\n",
        )
        .unwrap();
        assert_eq!(compare_config(&rendered, &loaded), Vec::<String>::new());
        let stale = parse_yaml("global:\n  scrape_interval: 30s\nscrape_configs:\n- job_name: other\n  static_configs:\n  - targets: [x:1]\n").unwrap();
        assert_eq!(
            compare_config(&rendered, &stale),
            vec![
                "global.scrape_interval is 30s (rendered: 60s)",
                "global.evaluation_interval is 1m (rendered: 15s)",
                "global.external_labels are {} (rendered: {\"cluster\": \"a\"})",
                "rule_files lacks `rules/*.yml`",
                "scrape job `node` is not loaded",
                "scrape job `other` is loaded but not in stack.yaml",
                "no Alertmanager is configured",
            ]
        );
    }

    #[test]
    fn targets_name_the_down_one_and_its_error() {
        let job = Job {
            name: "node".into(),
            targets: vec!["a:1".into(), "b:2".into(), "c:3".into()],
            probe: false,
        };
        let data = json!({
            "activeTargets": [
                {"discoveredLabels": {"__address__": "a:1", "job": "node"}, "labels": {"instance": "a:1", "job": "node"}, "scrapePool": "node", "scrapeUrl": "http://a:1/metrics", "health": "up", "lastError": ""},
                {"discoveredLabels": {"__address__": "b:2", "job": "node"}, "labels": {"instance": "b:2", "job": "node"}, "scrapePool": "node", "scrapeUrl": "http://b:2/metrics", "health": "down", "lastError": "connection refused"},
                {"discoveredLabels": {"__address__": "z:9", "job": "other"}, "labels": {"instance": "z:9"}, "scrapePool": "other", "scrapeUrl": "http://z:9/metrics", "health": "down", "lastError": "x"}
            ],
            "droppedTargets": [{"discoveredLabels": {"__address__": "c:3", "job": "node"}}]
        });
        let f = target_finding(&job, &data);
        assert_eq!(f.status, super::super::check::Status::Fail);
        assert_eq!(
            f.message,
            "c:3 was dropped by relabelling\nb:2 (http://b:2/metrics) is down: connection refused"
        );
    }

    #[test]
    fn not_scraped_yet_is_pending_but_down_is_not() {
        let job = Job {
            name: "node".into(),
            targets: vec!["a:1".into(), "b:2".into()],
            probe: false,
        };
        let target = |addr: &str, health: &str| json!({"discoveredLabels": {"__address__": addr, "job": "node"}, "labels": {"instance": addr}, "scrapePool": "node", "scrapeUrl": format!("http://{addr}/metrics"), "health": health, "lastError": "refused"});
        let unknown = json!({"activeTargets": [target("a:1", "up"), target("b:2", "unknown")]});
        let f = target_finding(&job, &unknown);
        assert!(f.pending && f.status == Status::Fail, "{f:?}");
        let down = json!({"activeTargets": [target("a:1", "down"), target("b:2", "unknown")]});
        let f = target_finding(&job, &down);
        assert!(!f.pending && f.status == Status::Fail, "{f:?}");
    }

    #[test]
    fn a_probe_job_is_healthy_only_when_its_probes_succeed() {
        let job = Job {
            name: "blackbox".into(),
            targets: vec!["http://api:8000".into(), "http://db:5432".into()],
            probe: true,
        };
        let up = || Finding::pass(job_check("blackbox"), "2/2 targets up");
        let series = |a: &str, b: &str| {
            json!({"resultType": "vector", "result": [
                {"metric": {"instance": "http://api:8000", "job": "blackbox"}, "value": [1.0, a]},
                {"metric": {"instance": "http://db:5432", "job": "blackbox"}, "value": [1.0, b]}
            ]})
        };
        let f = probe_success_finding(&job, up(), &series("1", "0"));
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.message
                .starts_with("probe of http://db:5432 failed (`probe_success` is 0)"),
            "{}",
            f.message
        );
        assert!(!f.message.contains("api:8000"), "{}", f.message);
        let f = probe_success_finding(&job, up(), &series("1", "1"));
        assert_eq!(
            (f.status, f.message.as_str()),
            (Status::Pass, "2/2 probes succeeded")
        );
        let f = probe_success_finding(&job, up(), &json!({"result": []}));
        assert!(f.pending && f.status == Status::Fail, "{f:?}");
    }

    #[test]
    fn rules_report_errors_and_missing_groups() {
        let group = Group {
            file: "app.yml".into(),
            name: "app".into(),
            rules: vec!["a".into(), "b".into()],
        };
        let data = json!({"groups": [{"name": "app", "file": "/x/app.yml", "rules": [
            {"name": "a", "health": "ok"},
            {"name": "b", "health": "err", "lastError": "found duplicate series"}
        ]}]});
        assert_eq!(
            rule_finding(&group, &data).message,
            "rule `b` failed: found duplicate series"
        );
        let missing = Group {
            file: "x.yml".into(),
            name: "x".into(),
            rules: vec![],
        };
        assert_eq!(
            rule_finding(&missing, &data).message,
            "not loaded (expected from rules/x.yml)"
        );
    }
}
