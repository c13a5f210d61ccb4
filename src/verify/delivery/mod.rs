//! `verify --alerts`: alerts proven end to end through the running stack.
//!
//! - **Watchdog**: the always-firing alert the plan generates (or the
//!   spec's own `Watchdog`) must be in Alertmanager within two evaluation
//!   intervals, routed to its receiver: Prometheus evaluates rules and
//!   reaches Alertmanager.
//! - **Per receiver** a route names: one synthetic alert
//!   (`alertname="StackctlDeliveryTest"`, a run ID, labels that the route's
//!   matchers accept) is posted to Alertmanager's API v2. `routes to` passes
//!   when Alertmanager itself lists the receiver for it. `delivers to` —
//!   only for receivers chosen with `--live` — passes when Alertmanager's
//!   counters show the receiver's integrations sent it, and fails with the
//!   error Alertmanager logged. Without `--live` every synthetic alert is
//!   covered by a silence made first, so no one is notified.
//! - Afterwards the alerts are resolved and the silence expired.

mod counters;
mod logs;
pub mod targets;

use super::check::{CheckResult, Status};
use super::http::{Http, encode, join};
use super::yamlvalue::parse_yaml;
use crate::check::receiver_credentials::Undeliverable;
use crate::model::Kind;
use crate::model::stack::Receiver;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use targets::{LIVE_LABEL, RECEIVER_LABEL, RUN_LABEL, Target};

pub const SERVICE: &str = "delivery";
/// How long after `group_wait` a notification may take to be counted.
const SEND_SLACK: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(250);

/// Which receivers may really be notified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    Off,
    All,
    Only(Vec<String>),
}

impl Live {
    fn includes(&self, receiver: &str) -> bool {
        match self {
            Live::Off => false,
            Live::All => true,
            Live::Only(list) => list.iter().any(|r| r == receiver),
        }
    }
}

pub struct Options {
    pub live: Live,
    pub wait: Option<Duration>,
    pub timeout: Duration,
    /// Alertmanager's log when it is not a container of this stack.
    pub log_file: Option<PathBuf>,
    /// Receivers whose credential files are empty (not attempted).
    pub empty: Vec<Undeliverable>,
}

/// The integration name Alertmanager's counters and logs use for each kind
/// of notifier, and how many of that kind the receiver has.
fn integrations(r: &Receiver) -> Vec<(&'static str, usize)> {
    [
        ("email", r.email.len()),
        ("slack", r.slack.len()),
        ("pagerduty", r.pagerduty.len()),
        ("webhook", r.webhook.len()),
        ("msteamsv2", r.msteams.len()),
        ("opsgenie", r.opsgenie.len()),
        ("telegram", r.telegram.len()),
        ("discord", r.discord.len()),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

/// The receivers `--live` names must exist.
pub fn check_live(live: &Live, cx: &super::Context<'_>) -> Result<(), String> {
    let Live::Only(list) = live else {
        return Ok(());
    };
    let names: Vec<&str> = cx
        .stack
        .alerting
        .as_ref()
        .map(|a| a.receivers.iter().map(|r| r.name.as_str()).collect())
        .unwrap_or_default();
    match list.iter().find(|r| !names.contains(&r.as_str())) {
        Some(bad) => Err(format!(
            "`--live {bad}`: no receiver `{bad}` in the spec\n  = help: receivers are {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

pub fn run(cx: &super::Context<'_>, opts: &Options) -> anyhow::Result<Vec<CheckResult>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let http = Http::new(opts.timeout)?;
    Ok(rt.block_on(Run::new(cx, opts, http).go()))
}

struct Run<'a> {
    cx: &'a super::Context<'a>,
    opts: &'a Options,
    http: Http,
    started: Instant,
    results: Vec<CheckResult>,
}

/// One synthetic alert and what became of it.
struct Sent<'a> {
    target: Target<'a>,
    labels: BTreeMap<String, String>,
    live: bool,
    /// Why it is not delivered, when it is not.
    skip: Option<String>,
}

impl<'a> Run<'a> {
    fn new(cx: &'a super::Context<'a>, opts: &'a Options, http: Http) -> Self {
        Run {
            cx,
            opts,
            http,
            started: Instant::now(),
            results: Vec::new(),
        }
    }

    fn push(&mut self, check: String, status: Status, message: String, url: Option<String>) {
        // Messages are written with their hint after `= help:`; the report
        // carries the hint as its own field (JSON, JUnit).
        let (message, hint) = match message.split_once("\n  = help: ") {
            Some((m, h)) => (m.to_string(), Some(h.to_string())),
            None => (message, None),
        };
        self.results.push(CheckResult {
            service: SERVICE.into(),
            check,
            status,
            message,
            hint,
            url,
            // Renumbered by the caller, after the probes' own numbers.
            probe: 0,
            elapsed: self.started.elapsed(),
            attempts: 1,
        });
    }

    async fn go(mut self) -> Vec<CheckResult> {
        let stack = self.cx.stack;
        let Some(alerting) = &stack.alerting else {
            self.push(
                "alerting".into(),
                Status::Skip,
                "the spec has no `alerting`: no receiver to deliver to".into(),
                None,
            );
            return self.results;
        };
        let base = match self.cx.endpoints.base(Kind::Alertmanager, "web") {
            Ok(b) => b.to_string(),
            Err(e) => {
                self.push(
                    "alertmanager reachable".into(),
                    Status::Fail,
                    format!("{}\n  = help: {}", e.message, e.hint),
                    None,
                );
                return self.results;
            }
        };
        if let Err(e) = self.ready(&base).await {
            self.push(
                "alertmanager reachable".into(),
                Status::Fail,
                format!("{e}\n  = help: pass `--wait 1m` when Alertmanager is still starting"),
                Some(join(&base, "/-/ready")),
            );
            return self.results;
        }
        if stack.has(Kind::Prometheus) {
            self.watchdog(&base).await;
        }
        let run_id = run_id();
        let since = chrono::Utc::now() - chrono::Duration::seconds(1);
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut sent: Vec<Sent<'_>> = Vec::new();
        for target in targets::targets(alerting) {
            let name = target.receiver.name.clone();
            let mut labels = target.labels.clone();
            labels.insert(RUN_LABEL.into(), run_id.clone());
            labels.insert(RECEIVER_LABEL.into(), name.clone());
            let empty = self.opts.empty.iter().find(|u| u.receiver == name);
            let skip = if target.receiver.notifier_count() == 0 {
                Some("the receiver has no notifiers: nothing to deliver".to_string())
            } else if let Some(u) = empty {
                Some(format!(
                    "not attempted: {} empty",
                    u.files
                        .iter()
                        .map(|f| format!("`{f}` is"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else if !self.opts.live.includes(&name) {
                Some("not delivered: the test alert was silenced, so no one was notified; pass `--live` (or `--live RECEIVER`) to deliver it".to_string())
            } else {
                None
            };
            let live = skip.is_none() && target.unreachable.is_none();
            labels.insert(LIVE_LABEL.into(), live.to_string());
            sent.push(Sent {
                target,
                labels,
                live,
                skip,
            });
        }
        if sent.is_empty() {
            return self.results;
        }
        let posted: Vec<&Sent<'_>> = sent
            .iter()
            .filter(|s| s.target.unreachable.is_none())
            .collect();
        let before = self.counters(&base).await;
        let silence = if posted.iter().any(|s| !s.live) {
            match self.silence(&base, &run_id).await {
                Ok(id) => Some(id),
                Err(e) => {
                    // Without the silence the alerts would notify people.
                    self.push(
                        "test alerts silenced".into(),
                        Status::Fail,
                        format!("{e}; no test alert was sent"),
                        Some(join(&base, "/api/v2/silences")),
                    );
                    return self.results;
                }
            }
        } else {
            None
        };
        let alerts_url = join(&base, "/api/v2/alerts");
        let now = chrono::Utc::now();
        // Resolves itself even if stackctl dies before resolving it.
        let ends = now + chrono::Duration::minutes(10);
        let body = alerts_body(&posted, now, ends);
        let post = self.http.post_json(&alerts_url, &body, None).await;
        let post_error = match post {
            Ok(r) if r.ok() => None,
            Ok(r) => Some(format!("{alerts_url} answered {}", r.describe())),
            Err(e) => Some(e),
        };
        let routed = match &post_error {
            Some(_) => BTreeMap::new(),
            None => self.routed(&base, &run_id, posted.len()).await,
        };
        let outcomes = match (&post_error, &before) {
            (None, Ok(before)) => self.deliveries(&base, &posted, before, &since).await,
            _ => BTreeMap::new(),
        };
        if post_error.is_none() {
            let resolved = alerts_body(&posted, now, chrono::Utc::now());
            let _ = self.http.post_json(&alerts_url, &resolved, None).await;
        }
        if let Some(id) = silence {
            let _ = self
                .http
                .delete(&join(&base, &format!("/api/v2/silence/{id}")))
                .await;
        }
        for s in &sent {
            let name = &s.target.receiver.name;
            let routes = format!("routes to `{name}`");
            let delivers = format!("delivers to `{name}`");
            if let Some(why) = &s.target.unreachable {
                self.push(routes, Status::Skip, format!("not checked: {why}"), None);
                self.push(
                    delivers,
                    Status::Skip,
                    "not checked: no test alert reaches it".into(),
                    None,
                );
                continue;
            }
            let shown = targets::show(&s.target.labels);
            match (&post_error, routed.get(name.as_str())) {
                (Some(e), _) => {
                    self.push(routes, Status::Fail, format!("the test alert was not accepted: {e}"), Some(alerts_url.clone()));
                    self.push(delivers, Status::Fail, "no test alert was sent".into(), None);
                    continue;
                }
                (None, Some(list)) if list.contains(name) => self.push(
                    routes,
                    Status::Pass,
                    format!("Alertmanager routes {shown} to `{name}`{}", also(list, name)),
                    Some(alerts_url.clone()),
                ),
                (None, Some(list)) => self.push(
                    routes,
                    Status::Fail,
                    format!(
                        "Alertmanager routes {shown} to {} instead\n  = help: the running config differs from the spec: run `stackctl render`, then reload Alertmanager",
                        list.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
                    ),
                    Some(alerts_url.clone()),
                ),
                (None, None) => self.push(
                    routes,
                    Status::Fail,
                    format!("the test alert {shown} was accepted but Alertmanager does not list it"),
                    Some(alerts_url.clone()),
                ),
            }
            if let Some(why) = &s.skip {
                self.push(delivers, Status::Skip, why.clone(), None);
                continue;
            }
            let (status, message) = match (&before, outcomes.get(name.as_str())) {
                (Err(e), _) => (
                    Status::Fail,
                    format!("cannot read Alertmanager's notification counters: {e}"),
                ),
                (Ok(_), Some(o)) => o.clone(),
                (Ok(_), None) => (Status::Fail, "not judged".into()),
            };
            self.push(delivers, status, message, Some(join(&base, "/metrics")));
        }
        self.results
    }

    async fn ready(&self, base: &str) -> Result<(), String> {
        let url = join(base, "/-/ready");
        let end = Instant::now() + self.opts.wait.unwrap_or(Duration::ZERO);
        loop {
            let last = match self.http.get(&url, None).await {
                Ok(r) if r.ok() => return Ok(()),
                Ok(r) => format!("{url} answered {}", r.describe()),
                Err(e) => e,
            };
            if Instant::now() >= end {
                return Err(last);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The Prometheus → Alertmanager leg.
    async fn watchdog(&mut self, base: &str) {
        let stack = self.cx.stack;
        let (receiver, generated) = match crate::plan::watchdog::of(stack) {
            Some(w) => (Some(w.receiver), true),
            None if crate::plan::watchdog::spec_defines_it(stack) => (None, false),
            None => return,
        };
        let interval = evaluation_interval(self.cx);
        let resend = resend_delay(self.cx);
        // Prometheus sends a firing alert at an evaluation, then again only
        // every resend delay: one sent before it discovered Alertmanager (in
        // its first seconds) is dropped and the next comes a resend later.
        let bound = (interval * 2)
            .max(resend + interval)
            .max(self.opts.wait.unwrap_or_default());
        let filter = encode(&format!("alertname=\"{}\"", crate::plan::watchdog::ALERT));
        let url = join(base, &format!("/api/v2/alerts?filter={filter}"));
        let check = "watchdog arrives".to_string();
        let begun = Instant::now();
        let end = begun + bound + Duration::from_secs(1);
        let mut first = true;
        loop {
            let got = self.http.get_json(&url, None).await;
            if let Ok(Value::Array(alerts)) = &got {
                if let Some(a) = alerts.first() {
                    let names = receivers_of(a);
                    let when = if first {
                        let updated = a.get("updatedAt").and_then(Value::as_str).unwrap_or("?");
                        format!("is in Alertmanager (last sent by Prometheus at {updated})")
                    } else {
                        format!(
                            "arrived in Alertmanager after {:.1}s (evaluation interval {}s, resend delay {}s)",
                            begun.elapsed().as_secs_f64(),
                            interval.as_secs(),
                            resend.as_secs()
                        )
                    };
                    let (status, message) = match &receiver {
                        Some(r) if !names.contains(r) => (
                            Status::Fail,
                            format!(
                                "`Watchdog` {when} but goes to {}, not `{r}`\n  = help: the running config differs from the rendered one: run `stackctl render`, then reload Alertmanager",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                        _ => (
                            Status::Pass,
                            format!(
                                "`Watchdog` {when}, routed to {}{}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                if generated {
                                    ""
                                } else {
                                    " (the spec's own Watchdog)"
                                }
                            ),
                        ),
                    };
                    self.push(check, status, message, Some(url));
                    return;
                }
            }
            first = false;
            if Instant::now() >= end {
                let why = match got {
                    Err(e) => e,
                    Ok(_) => format!(
                        "no `Watchdog` alert in Alertmanager within {}s (evaluation interval {}s, Prometheus resends every {}s): Prometheus does not evaluate its rules or does not reach Alertmanager\n  = help: see the `prometheus` checks `alertmanager discovered` and the rule groups",
                        bound.as_secs(),
                        interval.as_secs(),
                        resend.as_secs()
                    ),
                };
                self.push(check, Status::Fail, why, Some(url));
                return;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn counters(&self, base: &str) -> Result<counters::Snapshot, String> {
        let url = join(base, "/metrics");
        match self.http.get(&url, None).await {
            Ok(r) if r.ok() => Ok(counters::parse(&r.body)),
            Ok(r) => Err(format!("{url} answered {}", r.describe())),
            Err(e) => Err(e),
        }
    }

    async fn silence(&self, base: &str, run_id: &str) -> Result<String, String> {
        let url = join(base, "/api/v2/silences");
        let now = chrono::Utc::now();
        let body = json!({
            "matchers": [
                {"name": RUN_LABEL, "value": run_id, "isRegex": false, "isEqual": true},
                {"name": LIVE_LABEL, "value": "false", "isRegex": false, "isEqual": true},
            ],
            "startsAt": now.to_rfc3339(),
            "endsAt": (now + chrono::Duration::minutes(15)).to_rfc3339(),
            "createdBy": "stackctl verify --alerts",
            "comment": "silences stackctl's synthetic delivery-test alerts that were not asked to be delivered (--live)",
        });
        let reply = self.http.post_json(&url, &body, None).await?;
        if !reply.ok() {
            return Err(format!(
                "cannot create the silence: {url} answered {}",
                reply.describe()
            ));
        }
        let v = reply.json()?;
        v.get("silenceID")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("{url} answered without a `silenceID`"))
    }

    /// The receivers Alertmanager lists for each test alert, by the receiver
    /// it was meant for.
    async fn routed(
        &self,
        base: &str,
        run_id: &str,
        count: usize,
    ) -> BTreeMap<String, Vec<String>> {
        let filter = encode(&format!("{RUN_LABEL}=\"{run_id}\""));
        let url = join(base, &format!("/api/v2/alerts?filter={filter}"));
        let end = Instant::now() + self.opts.timeout;
        let mut out = BTreeMap::new();
        loop {
            if let Ok(Value::Array(alerts)) = self.http.get_json(&url, None).await {
                out = alerts
                    .iter()
                    .filter_map(|a| {
                        let meant = a.get("labels")?.get(RECEIVER_LABEL)?.as_str()?.to_string();
                        Some((meant, receivers_of(a)))
                    })
                    .collect();
            }
            if out.len() >= count || Instant::now() >= end {
                return out;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls the counters (and the log) until every live alert's receiver
    /// has sent it or failed, or the route's `group_wait` plus a margin is over.
    async fn deliveries(
        &self,
        base: &str,
        posted: &[&Sent<'_>],
        before: &counters::Snapshot,
        since: &str,
    ) -> BTreeMap<String, (Status, String)> {
        let live: Vec<&Sent<'_>> = posted.iter().copied().filter(|s| s.live).collect();
        let mut out = BTreeMap::new();
        if live.is_empty() {
            return out;
        }
        let names: Vec<&str> = live
            .iter()
            .map(|s| s.target.receiver.name.as_str())
            .collect();
        let longest = live
            .iter()
            .map(|s| Duration::from_millis(s.target.group_wait_ms))
            .max()
            .unwrap_or_default();
        let bound = (longest + SEND_SLACK).max(self.opts.wait.unwrap_or_default());
        let end = Instant::now() + bound;
        let mut log_note = String::new();
        loop {
            let now = self.counters(base).await.unwrap_or_default();
            let (log, note) = self.log().await;
            log_note = note.unwrap_or(log_note);
            let failures = logs::failures(&log, since, &names);
            let labelled = counters::per_receiver(&now);
            let failed_on = |name: &str, integration: &str| {
                failures
                    .iter()
                    .filter(|f| f.receiver == name && f.integration.starts_with(integration))
                    .max_by_key(|f| f.gave_up)
            };
            // With unlabelled counters one integration's successes are shared:
            // they must cover every live receiver that did not log a failure.
            let mut need: BTreeMap<&str, usize> = BTreeMap::new();
            for s in &live {
                for (i, n) in integrations(s.target.receiver) {
                    if failed_on(&s.target.receiver.name, i).is_none() {
                        *need.entry(i).or_default() += n;
                    }
                }
            }
            let mut done = true;
            out.clear();
            for s in &live {
                let name = s.target.receiver.name.as_str();
                let mut sent = Vec::new();
                let mut failed = Vec::new();
                let mut pending = Vec::new();
                for (i, n) in integrations(s.target.receiver) {
                    if let Some(f) = failed_on(name, i) {
                        failed.push(format!("{}: {}", f.integration, f.error));
                        continue;
                    }
                    let key = labelled.then_some(name);
                    let delta = counters::get(&now, i, key).minus(&counters::get(before, i, key));
                    let expected = if labelled { n } else { need[i] };
                    if delta.successes() >= expected as f64 {
                        sent.push(format!("`{i}` ×{n}"));
                    } else {
                        pending.push((i, n, delta));
                    }
                }
                if !failed.is_empty() {
                    let mut m = format!("failed: {}", failed.join("; "));
                    if !sent.is_empty() {
                        m.push_str(&format!(" (sent by {})", sent.join(", ")));
                    }
                    out.insert(name.to_string(), (Status::Fail, m));
                } else if pending.is_empty() {
                    out.insert(
                        name.to_string(),
                        (
                            Status::Pass,
                            format!(
                                "delivered: Alertmanager counted {} successful notification request{} ({}) after {:.1}s",
                                sent.join(", "),
                                if labelled { " for this receiver" } else { "s" },
                                "`alertmanager_notification_requests_total` − `_failed_total`",
                                self.started.elapsed().as_secs_f64()
                            ),
                        ),
                    );
                } else {
                    done = false;
                    let detail: Vec<String> = pending
                        .iter()
                        .map(|(i, _, d)| {
                            format!(
                                "`{i}`: {} sent, {} failed request{}",
                                d.successes(),
                                d.requests_failed,
                                if d.requests_failed == 1.0 { "" } else { "s" }
                            )
                        })
                        .collect();
                    let failing = pending.iter().any(|(_, _, d)| d.requests_failed > 0.0);
                    let m = if failing {
                        format!(
                            "failed: Alertmanager counted failed notification requests ({}); which receiver and why is in its log{}",
                            detail.join(", "),
                            log_note_suffix(&log_note)
                        )
                    } else {
                        format!(
                            "not sent within {}s (route `group_wait` {}s + {}s): {}\n  = help: a test alert that joins an alert group that already exists waits for the next `group_interval` ({}s); pass `--wait` to wait that long",
                            bound.as_secs(),
                            s.target.group_wait_ms / 1000,
                            SEND_SLACK.as_secs(),
                            detail.join(", "),
                            s.target.group_interval_ms / 1000
                        )
                    };
                    out.insert(name.to_string(), (Status::Fail, m));
                }
            }
            if done || Instant::now() >= end {
                return out;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Alertmanager's log text, and a note when it could not be read.
    async fn log(&self) -> (String, Option<String>) {
        if let Some(file) = &self.opts.log_file {
            return match crate::fsutil::read_regular_text(file, 64 * 1024 * 1024) {
                Ok(t) => (t, None),
                Err(e) => (String::new(), Some(format!("`{}`: {e}", file.display()))),
            };
        }
        let container = crate::docker::spec::container_name(
            &self.cx.deployment.project,
            Kind::Alertmanager.service(),
        );
        let read = async {
            use crate::docker::engine::Engine;
            let engine = crate::docker::bollard_engine::BollardEngine::connect()
                .await
                .map_err(|e| e.to_string())?;
            engine
                .logs(&container, 2000)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(self.opts.timeout, read).await {
            Ok(Ok(t)) => (t, None),
            Ok(Err(e)) => (String::new(), Some(format!("container `{container}`: {e}"))),
            Err(_) => (
                String::new(),
                Some(format!(
                    "container `{container}`: no answer from the Docker engine"
                )),
            ),
        }
    }
}

fn log_note_suffix(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(", which could not be read ({note}); pass `--alertmanager-log FILE`")
    }
}

fn also(list: &[String], name: &str) -> String {
    let others: Vec<String> = list
        .iter()
        .filter(|r| *r != name)
        .map(|r| format!("`{r}`"))
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" (and, through `continue`, {})", others.join(", "))
    }
}

fn receivers_of(alert: &Value) -> Vec<String> {
    alert
        .get("receivers")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn alerts_body(
    posted: &[&Sent<'_>],
    starts: chrono::DateTime<chrono::Utc>,
    ends: chrono::DateTime<chrono::Utc>,
) -> Value {
    Value::Array(
        posted
            .iter()
            .map(|s| {
                json!({
                    "labels": s.labels,
                    "annotations": {
                        "summary": format!("stackctl delivery test for receiver `{}`: not a real alert", s.target.receiver.name),
                        "description": "Sent by `stackctl verify --alerts` to prove this receiver gets alerts; it resolves itself. Nothing is wrong.",
                    },
                    "startsAt": starts.to_rfc3339(),
                    "endsAt": ends.to_rfc3339(),
                })
            })
            .collect(),
    )
}

fn run_id() -> String {
    let mut buf = [0u8; 6];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!("{nanos:x}");
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prometheus's evaluation interval in the rendered config (default 1m).
fn evaluation_interval(cx: &super::Context<'_>) -> Duration {
    cx.deployment
        .files
        .get("prometheus/prometheus.yml")
        .and_then(|t| parse_yaml(t).ok())
        .and_then(|c| {
            c.get("global")?
                .get("evaluation_interval")?
                .as_str()
                .map(str::to_string)
        })
        .and_then(|t| crate::model::types::Duration::parse(&t).ok())
        .map_or(Duration::from_secs(60), |d| d.as_std())
}

/// Prometheus's `--rules.alert.resend-delay` in the plan (default 1m).
fn resend_delay(cx: &super::Context<'_>) -> Duration {
    cx.deployment
        .service(Kind::Prometheus.service())
        .and_then(|s| {
            s.command
                .iter()
                .find_map(|a| a.strip_prefix("--rules.alert.resend-delay="))
        })
        .and_then(|t| crate::model::types::Duration::parse(t).ok())
        .map_or(Duration::from_secs(60), |d| d.as_std())
}
