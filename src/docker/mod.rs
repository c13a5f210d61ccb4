//! Running the plan on a Docker engine: `up`, `down` and `status` through the
//! Docker Engine API. The orchestration (`up.rs`, `down.rs`, `status.rs`) is
//! written against the `Engine` trait; `bollard_engine.rs` is the real engine,
//! and unit tests use an in-memory fake. Containers, network and volumes are
//! named and labelled as Docker Compose would (`spec.rs`), so the rendered
//! `docker-compose.monitoring.yml` and stackctl manage the same stack.

pub mod bollard_engine;
pub mod compose_hash;
pub mod copy_in;
pub mod dial;
pub mod down;
pub mod endpoint;
pub mod engine;
mod failure;
pub mod preflight;
pub mod progress;
mod readiness;
pub mod reload;
pub mod secret_access;
pub mod spec;
pub mod status;
pub mod up;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

pub use engine::{Engine, EngineError};

/// Something that stops `up`, worded for the user: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: String, hint: Option<&str>) -> Problem {
        Problem {
            message,
            hint: hint.map(str::to_string),
        }
    }

    /// `error: …` plus `  = help: …`, as the other commands print.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = help: {hint}\n"));
        }
        out
    }
}
