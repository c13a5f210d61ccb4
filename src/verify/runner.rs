//! Runs probes concurrently, each attempt bounded by the timeout; with a
//! wait deadline, failing probes are retried with exponential backoff until
//! they pass. Without `--wait`, a probe whose only failures are "not yet"
//! (`Finding::pending`: a target not scraped yet, a rule not evaluated yet)
//! is retried too, up to the `settle` bound.
//!
//! What is reported is always one consistent round: when a retried probe
//! finally passes (or the deadline comes), every probe runs once more and
//! that round is the report. A check that passed early is never reported
//! from a stale attempt (Prometheus stopped mid-wait is seen as down).
//! Nothing here can outlive `max(timeout, wait)` by more than one attempt.

use super::check::{CheckResult, Finding, Report, Status};
use super::http::Http;
use super::probe::Probe;
use super::progress::Watch;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout_at};

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Per attempt of each probe (connect, answer and body included).
    pub timeout: Duration,
    /// Keep retrying failing probes until this much time has passed.
    pub wait: Option<Duration>,
    /// Without `wait`: how long "not yet" failures are waited for.
    pub settle: Duration,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// No retry starts with less time than this left before the deadline.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);
/// The outer guard of an attempt fires this long after its deadline, so that
/// the probe's own, more specific timeout ("no answer from URL within 1s") is
/// the one reported when both run out together; the guard only catches work
/// the probe does not bound itself. Without the margin, which of the two fired
/// first depended on scheduling, and so did the message.
const GUARD_GRACE: Duration = Duration::from_millis(250);
/// Probes in flight at once: plenty for one stack, gentle on its servers.
const MAX_IN_FLIGHT: usize = 64;

/// What to retry, and until when.
#[derive(Debug, Clone, Copy)]
enum Retry {
    /// One attempt per probe.
    Once,
    /// Failures of any kind (`--wait`).
    Failures(Instant),
    /// Only "not yet" failures (plain verify).
    Pending(Instant),
}

impl Retry {
    fn deadline(self) -> Option<Instant> {
        match self {
            Retry::Once => None,
            Retry::Failures(d) | Retry::Pending(d) => Some(d),
        }
    }

    fn wants(self, findings: &[Finding]) -> bool {
        let failed = findings.iter().filter(|f| f.status == Status::Fail);
        match self {
            Retry::Once => false,
            Retry::Failures(_) => failed.count() > 0,
            Retry::Pending(_) => {
                let mut failed = failed.peekable();
                failed.peek().is_some() && failed.all(|f| f.pending)
            }
        }
    }
}

/// One probe's outcome: findings of its last attempt, its time, attempts.
type Outcome = (Vec<Finding>, Duration, u32);

pub fn run(probes: Vec<Probe>, opts: &Options) -> anyhow::Result<Report> {
    run_watched(probes, opts, super::http::WebClient::default(), None)
}

/// `run` with the logins and CA of a stack that `security:` protects, and
/// each attempt's failing checks recorded in `watch` when there is one.
pub fn run_watched(
    probes: Vec<Probe>,
    opts: &Options,
    web: super::http::WebClient,
    watch: Option<Arc<Watch>>,
) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let http = Http::with_web(opts.timeout, web)?;
    let opts = *opts;
    runtime.block_on(async move {
        let start = Instant::now();
        let retry = match opts.wait {
            Some(w) => Retry::Failures(start + w),
            None if opts.settle.is_zero() => Retry::Once,
            None => Retry::Pending(start + opts.settle),
        };
        let mut attempts_so_far = vec![0u32; probes.len()];
        let mut settled = false;
        let done = loop {
            let round = round(&probes, &http, opts.timeout, retry, watch.as_ref()).await?;
            let retried = round.iter().any(|(_, _, attempts)| *attempts > 1);
            for (total, (_, _, attempts)) in attempts_so_far.iter_mut().zip(&round) {
                *total += attempts;
            }
            settled |= retry_was_pending(retry) && retried;
            if !retried {
                // Every probe answered on its one attempt of this round: the
                // round is consistent as it stands.
                break round;
            }
            // Some probe was retried: what the others said is as old as the
            // start of this round. Run everything once more and report that.
            let last =
                self::round(&probes, &http, opts.timeout, Retry::Once, watch.as_ref()).await?;
            for (total, (_, _, attempts)) in attempts_so_far.iter_mut().zip(&last) {
                *total += attempts;
            }
            let time_left = retry
                .deadline()
                .is_some_and(|d| d.saturating_duration_since(Instant::now()) > MIN_ATTEMPT);
            if !time_left || !last.iter().any(|(f, _, _)| retry.wants(f)) {
                break last;
            }
        };
        let mut results = Vec::new();
        for (index, ((probe, (findings, elapsed, _)), attempts)) in
            probes.iter().zip(done).zip(attempts_so_far).enumerate()
        {
            results.extend(to_results(index, probe, findings, elapsed, attempts));
        }
        Ok(Report {
            results,
            elapsed: start.elapsed(),
            settled: settled.then_some(opts.settle),
        })
    })
}

fn retry_was_pending(retry: Retry) -> bool {
    matches!(retry, Retry::Pending(_))
}

/// Every probe, concurrently, each retried as `retry` says.
async fn round(
    probes: &[Probe],
    http: &Http,
    timeout: Duration,
    retry: Retry,
    watch: Option<&Arc<Watch>>,
) -> anyhow::Result<Vec<Outcome>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, probe) in probes.iter().cloned().enumerate() {
        let (http, limit) = (http.clone(), limit.clone());
        let watch = watch.map(|w| (Arc::clone(w), index));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let outcome = attempt_until(&probe, &http, timeout, retry, watch.as_ref()).await;
            (index, outcome)
        });
    }
    let mut done: Vec<Outcome> = vec![Outcome::default(); probes.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => done[index] = outcome,
            Err(e) => anyhow::bail!("a probe task failed: {e}"),
        }
    }
    Ok(done)
}

async fn attempt_until(
    probe: &Probe,
    http: &Http,
    timeout: Duration,
    retry: Retry,
    watch: Option<&(Arc<Watch>, usize)>,
) -> Outcome {
    let deadline = retry.deadline();
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0;
    let mut previous: Option<(Vec<Finding>, Duration)> = None;
    loop {
        attempts += 1;
        let started = Instant::now();
        // The first attempt always gets the full timeout; later ones stop at the deadline.
        let budget = match deadline {
            Some(d) if attempts > 1 => timeout.min(d.saturating_duration_since(started)),
            _ => timeout,
        };
        let attempt_deadline = started + budget;
        let (findings, cut_short) = match timeout_at(
            attempt_deadline + GUARD_GRACE,
            probe.run(http, attempt_deadline),
        )
        .await
        {
            Ok(f) => (f, false),
            Err(_) => (
                super::shared::all(
                    &probe.checks,
                    format!(
                        "no complete answer within {}s{}",
                        budget.as_secs_f64(),
                        probe
                            .url
                            .as_deref()
                            .map(|u| format!(" from {u}"))
                            .unwrap_or_default()
                    ),
                ),
                budget < timeout,
            ),
        };
        let elapsed = started.elapsed();
        if let Some((watch, index)) = watch {
            watch.record(
                *index,
                findings
                    .iter()
                    .filter(|f| f.status == Status::Fail)
                    .map(|f| format!("{} {}", probe.service, f.check))
                    .collect(),
            );
        }
        if cut_short {
            // Only the deadline cut this attempt short; the previous attempt's
            // failure says more than "no answer within 0.3s".
            if let Some((findings, elapsed)) = previous {
                return (findings, elapsed, attempts - 1);
            }
        }
        let Some(deadline) = deadline else {
            return (findings, elapsed, attempts);
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if !retry.wants(&findings) || !probe.retryable() || remaining <= MIN_ATTEMPT {
            return (findings, elapsed, attempts);
        }
        sleep(backoff.min(remaining - MIN_ATTEMPT)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        previous = Some((findings, elapsed));
    }
}

/// One result per declared check, in declared order; a check the probe did
/// not answer is a failure (never silently missing), extra findings follow.
fn to_results(
    index: usize,
    probe: &Probe,
    mut findings: Vec<Finding>,
    elapsed: Duration,
    attempts: u32,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let make = |f: Finding| CheckResult {
        service: probe.service.to_string(),
        check: f.check,
        status: f.status,
        message: f.message,
        hint: f.hint,
        url: probe.url.clone(),
        probe: index,
        elapsed,
        attempts,
    };
    for name in &probe.checks {
        let found = match findings.iter().position(|f| &f.check == name) {
            Some(i) => findings.remove(i),
            None => Finding::fail(
                name.clone(),
                "the probe gave no result for this check (a stackctl bug)",
            ),
        };
        out.push(make(found));
    }
    out.extend(findings.into_iter().map(make));
    out
}
