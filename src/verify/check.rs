//! What verify reports: one `CheckResult` per check, grouped by service, and
//! the `Report` of a whole run.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Not checked, for a stated reason that is not a failure (e.g. covered by
    /// another check).
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// The outcome of one check of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: String,
    pub status: Status,
    /// Why it failed or was skipped; for a pass, what was seen (may be empty).
    pub message: String,
    /// What to do about a failure, apart from the message (text output
    /// prints it as `= help:`, JSON and JUnit carry it as its own field).
    pub hint: Option<String>,
    /// A failure that only says "not yet" (a target not scraped yet, a rule
    /// not evaluated yet): it resolves by itself within one interval, so even
    /// a plain `verify` waits for it, within a bound it prints.
    pub pending: bool,
}

impl Finding {
    pub fn pass(check: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check: check.into(),
            status: Status::Pass,
            message: message.into(),
            hint: None,
            pending: false,
        }
    }

    pub fn fail(check: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check: check.into(),
            status: Status::Fail,
            message: message.into(),
            hint: None,
            pending: false,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    /// A failure that only means "not yet" (see `pending`).
    pub fn pending(check: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            pending: true,
            ..Finding::fail(check, message)
        }
    }

    pub fn skip(check: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check: check.into(),
            status: Status::Skip,
            message: message.into(),
            hint: None,
            pending: false,
        }
    }
}

/// A finding with where and how long it took, as reported.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub service: String,
    pub check: String,
    pub status: Status,
    pub message: String,
    /// What to do about it (see `Finding::hint`).
    pub hint: Option<String>,
    /// The URL the check talked to, when there was one.
    pub url: Option<String>,
    /// Which probe produced it; checks of one probe share their HTTP calls.
    pub probe: usize,
    /// Time of the probe's last attempt.
    pub elapsed: Duration,
    pub attempts: u32,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub results: Vec<CheckResult>,
    pub elapsed: Duration,
    /// Set when a plain verify waited for "not yet" failures, to this bound.
    pub settled: Option<Duration>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// Services in order of first appearance, with their results.
    pub fn by_service(&self) -> Vec<(&str, Vec<&CheckResult>)> {
        let mut out: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
        for r in &self.results {
            match out.iter_mut().find(|(s, _)| *s == r.service) {
                Some((_, list)) => list.push(r),
                None => out.push((&r.service, vec![r])),
            }
        }
        out
    }
}
