//! `alerting.watchdog`: the always-firing alert stackctl adds to every stack
//! with Prometheus and Alertmanager, proving the Prometheus → Alertmanager
//! leg (`verify --alerts` looks for it). By default it goes to a receiver
//! without notifiers; point it at a dead man's switch with `receiver`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Watchdog {
    /// `false` leaves the rule and its route out (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The receiver that gets it (default: a generated one without notifiers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
}
