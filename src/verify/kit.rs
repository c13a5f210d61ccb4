//! What a component module needs to contribute its own verify probes
//! (`components::<name>::verify`): the context checks are derived from, the
//! probe and its `Work`, the HTTP client and the shared helpers. A façade
//! over the lower layers, so component modules never reach into the check
//! modules of `verify/`.

pub use super::check::Finding;
pub use super::context::Context;
pub use super::http::{Http, join};
pub use super::probe::{Attempt, Probe, Work};
pub use super::shared::{all, poll, send_test_span};
pub use super::yamlvalue::str_at;
