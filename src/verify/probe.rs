//! A `Probe` is one unit of work against the running stack (one or a few
//! HTTP calls) that answers one or more named checks. Checks that share a
//! call share a probe: one `/api/v1/targets` answers every scrape job.
//!
//! What a probe does is a [`Work`] trait object, implemented next to the
//! checks it answers (Prometheus' in `prometheus.rs`, Grafana's in
//! `grafana.rs`, …). This module names none of them: the modules depend on
//! it, never the other way round.

use super::check::{Finding, Status};
use super::endpoints::Unreachable;
use super::http::Http;
use crate::model::Kind;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::time::Instant;

/// The findings of one attempt, as a future a probe's work returns.
pub type Attempt<'a> = Pin<Box<dyn Future<Output = Vec<Finding>> + Send + 'a>>;

/// What a probe does to answer its checks.
pub trait Work: Debug + Send + Sync {
    /// One attempt: a finding per name in `checks` (the probe's checks, in
    /// report order). `deadline` bounds polling inside the attempt; the
    /// runner enforces it as well.
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], deadline: Instant) -> Attempt<'a>;

    /// Retrying helps only work that talks to the network.
    fn retryable(&self) -> bool {
        true
    }
}

#[derive(Debug, Clone)]
pub struct Probe {
    pub service: &'static str,
    /// The checks this probe answers, in report order.
    pub checks: Vec<String>,
    /// The main URL it talks to, for the report.
    pub url: Option<String>,
    /// Shared, so that every round can hand each task its own probe.
    pub work: Arc<dyn Work>,
}

impl Probe {
    pub fn new(
        kind: Kind,
        checks: Vec<String>,
        url: Option<String>,
        work: impl Work + 'static,
    ) -> Probe {
        Probe {
            service: kind.service(),
            checks,
            url,
            work: Arc::new(work),
        }
    }

    /// Checks whose answer is known without asking the network.
    pub fn fixed(kind: Kind, checks: Vec<String>, status: Status, message: String) -> Probe {
        let hint = None;
        Probe::new(
            kind,
            checks,
            None,
            Fixed {
                status,
                message,
                hint,
            },
        )
    }

    /// Checks the host cannot run: each fails with the reason and its hint.
    pub fn unreachable(kind: Kind, checks: Vec<String>, reason: Unreachable) -> Probe {
        let fixed = Fixed {
            status: Status::Fail,
            message: reason.message,
            hint: Some(reason.hint),
        };
        Probe::new(kind, checks, None, fixed)
    }

    pub fn retryable(&self) -> bool {
        self.work.retryable()
    }

    /// One attempt (see [`Work::run`]).
    pub async fn run(&self, http: &Http, deadline: Instant) -> Vec<Finding> {
        self.work.run(http, &self.checks, deadline).await
    }
}

/// Known without asking the network (unreachable, or covered elsewhere).
#[derive(Debug)]
struct Fixed {
    status: Status,
    message: String,
    hint: Option<String>,
}

impl Work for Fixed {
    fn run<'a>(&'a self, _: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        let findings = checks
            .iter()
            .map(|c| Finding {
                check: c.clone(),
                status: self.status,
                message: self.message.clone(),
                hint: self.hint.clone(),
                pending: false,
            })
            .collect();
        Box::pin(std::future::ready(findings))
    }

    fn retryable(&self) -> bool {
        false
    }
}
