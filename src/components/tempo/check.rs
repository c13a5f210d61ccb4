//! Tempo's checks: the release the generated config is written for, and
//! what the metrics generator needs from Prometheus.

use crate::check::Findings;
use crate::model::{Kind, Stack};
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    let Some(spec) = &stack.components.tempo else {
        return;
    };
    if !stack.has(Kind::Tempo) {
        return;
    }
    let version = stack.version_of(Kind::Tempo);
    if version.major() < 3 {
        found.error(
            path!["components", "tempo", "version"],
            format!(
                "Tempo {version} is not supported: stackctl writes the Tempo 3 configuration \
                 (no ingester or compactor sections)"
            ),
            "pin a Tempo 3 release such as `3.0.3` (`tempo-cli migrate config` converts a 2.x config)",
        );
    }
    if spec.metrics_generator == Some(true) {
        match &stack.components.prometheus {
            Some(p) if stack.has(Kind::Prometheus) => {
                if p.remote_write_receiver != Some(true) {
                    found.error(
                        path!["components", "tempo", "metrics_generator"],
                        "Tempo's metrics generator remote-writes to Prometheus, whose remote-write receiver is off",
                        "set `remote_write_receiver: true` under `components.prometheus`",
                    );
                }
            }
            _ => found.error(
                path!["components", "tempo", "metrics_generator"],
                "Tempo's metrics generator needs the `prometheus` component to write to",
                "add `prometheus: {remote_write_receiver: true}` under `components:`, or drop `metrics_generator`",
            ),
        }
    }
    if stack.has(Kind::Jaeger) {
        // Both are allowed (moving from one to the other), but an SDK sends
        // its spans to one endpoint: say which one gets what.
        found.warning(
            path!["components", "tempo"],
            "both `tempo` and `jaeger` are enabled as trace backends; each application's spans reach only the one it sends to",
            "keep one trace backend, or give one of them other host ports (`ports: {otlp_grpc: 4327, otlp_http: 4328}`)",
        );
    }
}
