//! A `Probe` is one unit of work against the running stack (one or a few
//! HTTP calls) that answers one or more named checks. Checks that share a
//! call share a probe: one `/api/v1/targets` answers every scrape job.

use super::check::{Finding, Status};
use super::http::{BasicAuth, Http};
use super::{alertmanager, basic, grafana, panels, prometheus, roundtrip};
use crate::model::Kind;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Probe {
    pub service: &'static str,
    /// The checks this probe answers, in report order.
    pub checks: Vec<String>,
    /// The main URL it talks to, for the report.
    pub url: Option<String>,
    pub work: Work,
}

#[derive(Debug, Clone)]
pub enum Work {
    /// Known without asking the network (unreachable, or covered elsewhere).
    Fixed(Status, String),
    Get {
        url: String,
        expect: basic::Expect,
        auth: Option<BasicAuth>,
    },
    Metrics {
        url: String,
        /// The exporter's gauge of whether it reached what it exports
        /// (`pg_up`, `redis_up`, `nginx_up`), which must be 1.
        up: Option<&'static str>,
    },
    Prometheus(prometheus::Check),
    Alertmanager(alertmanager::Check),
    Grafana(grafana::Check),
    Panels(panels::Check),
    RoundTrip(roundtrip::Check),
}

impl Probe {
    pub fn new(kind: Kind, checks: Vec<String>, url: Option<String>, work: Work) -> Probe {
        Probe {
            service: kind.service(),
            checks,
            url,
            work,
        }
    }

    /// One check: GET `url` answers 2xx.
    pub fn get(kind: Kind, check: &str, url: String) -> Probe {
        Probe::expect(kind, check, url, basic::Expect::Success, None)
    }

    pub fn expect(
        kind: Kind,
        check: &str,
        url: String,
        expect: basic::Expect,
        auth: Option<BasicAuth>,
    ) -> Probe {
        Probe::new(
            kind,
            vec![check.into()],
            Some(url.clone()),
            Work::Get { url, expect, auth },
        )
    }

    pub fn unreachable(kind: Kind, checks: Vec<String>, reason: String) -> Probe {
        Probe::new(kind, checks, None, Work::Fixed(Status::Fail, reason))
    }

    /// Retrying helps only a probe that talks to the network.
    pub fn retryable(&self) -> bool {
        !matches!(self.work, Work::Fixed(..))
    }

    /// One attempt. `deadline` bounds polling inside the attempt; the runner
    /// enforces it as well.
    pub async fn run(&self, http: &Http, deadline: Instant) -> Vec<Finding> {
        match &self.work {
            Work::Fixed(status, message) => self
                .checks
                .iter()
                .map(|c| Finding {
                    check: c.clone(),
                    status: *status,
                    message: message.clone(),
                    pending: false,
                })
                .collect(),
            Work::Get { url, expect, auth } => {
                vec![basic::get(http, url, *expect, auth.as_ref(), &self.checks[0]).await]
            }
            Work::Metrics { url, up } => {
                vec![basic::metrics(http, url, *up, &self.checks[0]).await]
            }
            Work::Prometheus(c) => prometheus::run(c, http, &self.checks).await,
            Work::Alertmanager(c) => alertmanager::run(c, http, &self.checks).await,
            Work::Grafana(c) => grafana::run(c, http, &self.checks).await,
            Work::Panels(c) => panels::run(c, http, &self.checks).await,
            Work::RoundTrip(c) => roundtrip::run(c, http, &self.checks, deadline).await,
        }
    }
}

/// Every check of a probe fails with the same message (the one call failed).
pub fn all(checks: &[String], message: String) -> Vec<Finding> {
    checks
        .iter()
        .map(|c| Finding::fail(c.clone(), message.clone()))
        .collect()
}
