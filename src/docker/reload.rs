//! Reloading a running service in place when only the config files it
//! mounts changed: SIGHUP through the Engine API (no lifecycle endpoint
//! needed), confirmed by the component's own "last reload successful" metric,
//! else `up` recreates the container as before.
//!
//! Which components: at their pinned versions Prometheus (2.x/3.x),
//! Alertmanager (0.2x) and the blackbox exporter (0.2x) re-read their config
//! files on SIGHUP and export `*_config_last_reload_successful` and
//! `*_config_last_reload_success_timestamp_seconds`. Loki reloads only its
//! runtime config on SIGHUP, Grafana and the other exporters not at all:
//! those are recreated.
//!
//! A container's labels cannot change after creation, so the config hash in
//! effect after a reload is kept in `.stackctl/reloads.json` (container ID →
//! hash) inside the stack directory; `up` and `status` read it. The same
//! record holds the hash of a container Compose created that `up` kept.

use super::engine::{Engine, Existing};
use crate::model::Kind;
use crate::plan::Service;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Label: hash of the secrets a container was given (a changed secret needs
/// a new copy in the container, so it always recreates).
pub const SECRETS_HASH: &str = "dev.stackctl.secrets-hash";
/// How long a reload has to show up in the metric.
const CONFIRM_WITHIN: Duration = Duration::from_secs(5);
const CONFIRM_POLL: Duration = Duration::from_millis(100);

/// The metric prefix of a component that reloads on SIGHUP.
pub fn metric_prefix(kind: Option<Kind>) -> Option<&'static str> {
    kind?.info().reload_metric
}

/// Container ID → the config hash in effect after a reload.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reloads(pub BTreeMap<String, String>);

fn file(dir: &Path) -> PathBuf {
    dir.join(".stackctl").join("reloads.json")
}

impl Reloads {
    /// Missing or unreadable: no reloads known (containers then go by label).
    pub fn load(dir: &Path) -> Reloads {
        // Bounded and regular-only: a FIFO planted here must not hang `up`.
        crate::fsutil::read_regular(&file(dir), 1024 * 1024)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .map(Reloads)
            .unwrap_or_default()
    }

    /// Keeps only containers that still exist. Never through a symlinked
    /// `.stackctl` (nothing outside the stack directory is written).
    pub fn save(&mut self, dir: &Path, existing: &[String]) -> anyhow::Result<()> {
        self.0.retain(|id, _| existing.contains(id));
        let text = serde_json::to_vec_pretty(&self.0)?;
        // Resolved inside the stack directory one component at a time, as
        // render writes: a `.stackctl` link leading out is refused.
        let stack = crate::render::write::atomic::StackDir::open(dir)?;
        let path = stack.prepare(".stackctl/reloads.json", 0o755)?;
        crate::render::write::atomic::replace(&path, &text, 0o644)?;
        Ok(())
    }

    /// The stackctl hash a container's config is at: its reload (or
    /// adoption), else its label. A container Compose created has no
    /// stackctl label: when Compose's own hash on it is the one the spec
    /// gives now (`want`, the labels stackctl would create it with), it runs
    /// this very service definition, config files included, and is taken as
    /// current; Compose does not look at secrets, so `up` then records the
    /// hash (see [`Reloads::adopt`]) and a later secret change is noticed.
    pub fn effective(&self, c: &Existing, want: &BTreeMap<String, String>) -> Option<String> {
        use super::spec::{COMPOSE_HASH, STACKCTL_HASH};
        if let Some(hash) = self.0.get(&c.id).or_else(|| c.labels.get(STACKCTL_HASH)) {
            return Some(hash.clone());
        }
        let compose = c.labels.get(COMPOSE_HASH)?;
        (Some(compose) == want.get(COMPOSE_HASH))
            .then(|| want.get(STACKCTL_HASH).cloned())
            .flatten()
    }

    /// Records the hash in effect for a container Compose created that `up`
    /// keeps. True when something was recorded.
    pub fn adopt(&mut self, c: &Existing, want: &BTreeMap<String, String>) -> bool {
        if self.0.contains_key(&c.id) || c.labels.contains_key(super::spec::STACKCTL_HASH) {
            return false;
        }
        match self.effective(c, want) {
            Some(hash) => {
                self.0.insert(c.id.clone(), hash);
                true
            }
            None => false,
        }
    }
}

/// `name value` of one sample without labels, from an exposition text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Signals the container and waits for the component to say its reload
/// succeeded after the signal. `Err` says why not (the caller recreates).
pub async fn reload<E: Engine>(
    engine: &E,
    s: &Service,
    c: &Existing,
    addr: &str,
    metrics_path: &str,
) -> Result<Duration, String> {
    let prefix = metric_prefix(s.kind).ok_or("does not reload on SIGHUP")?;
    let ok_name = format!("{prefix}_config_last_reload_successful");
    let at_name = format!("{prefix}_config_last_reload_success_timestamp_seconds");
    // The success timestamp before the signal: only a later one proves this
    // reload happened (a stuck reload keeps the old value, which may well be
    // from the same second, or ahead of our clock).
    let before = engine
        .http_body(addr, metrics_path)
        .await
        .and_then(|text| sample(&text, &at_name))
        .ok_or_else(|| {
            format!("cannot read `{at_name}` at `{addr}{metrics_path}` before the signal")
        })?;
    let started = Instant::now();
    engine
        .signal(&c.id, "HUP")
        .await
        .map_err(|e| format!("cannot send SIGHUP: {e}"))?;
    loop {
        if let Some(text) = engine.http_body(addr, metrics_path).await {
            let ok = sample(&text, &ok_name);
            let at = sample(&text, &at_name).unwrap_or_default();
            if ok == Some(1.0) && at > before {
                return Ok(started.elapsed());
            }
            if ok == Some(0.0) {
                return Err(format!("`{ok_name}` is 0: the new config was rejected"));
            }
        }
        if started.elapsed() >= CONFIRM_WITHIN {
            return Err(format!(
                "`{at_name}` did not move past {before} within {}s",
                CONFIRM_WITHIN.as_secs()
            ));
        }
        tokio::time::sleep(CONFIRM_POLL).await;
    }
}

/// Where the component serves `/metrics`: under its route prefix (see
/// [`crate::plan::route_prefix`]).
pub fn metrics_path(s: &Service) -> String {
    crate::plan::route_prefix::join(&s.command, "/metrics")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_read_by_exact_name() {
        let text = "# HELP x\nprometheus_config_last_reload_successful 1\n\
                    prometheus_config_last_reload_success_timestamp_seconds 1.7e+09\n\
                    prometheus_config_last_reload_successful_total 7\n";
        assert_eq!(
            sample(text, "prometheus_config_last_reload_successful"),
            Some(1.0)
        );
        assert_eq!(
            sample(
                text,
                "prometheus_config_last_reload_success_timestamp_seconds"
            ),
            Some(1.7e9)
        );
        assert_eq!(sample(text, "absent"), None);
    }

    #[test]
    fn metrics_follow_the_route_prefix() {
        let profile = crate::profiles::find("minimal").unwrap();
        let loaded = crate::load::load_text("stack.yaml", profile.text.to_string());
        let d = crate::plan::plan(
            &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
            &Default::default(),
        );
        let mut s = d.service("prometheus").unwrap().clone();
        let mut path = |args: &[&str]| {
            s.command = args.iter().map(|a| a.to_string()).collect();
            metrics_path(&s)
        };
        assert_eq!(path(&[]), "/metrics");
        assert_eq!(
            path(&["--web.external-url=http://mon.example.com"]),
            "/metrics"
        );
        assert_eq!(
            path(&["--web.external-url=http://mon.example.com/"]),
            "/metrics"
        );
        assert_eq!(
            path(&["--web.external-url=https://example.com/prom/"]),
            "/prom/metrics"
        );
        assert_eq!(
            path(&["--web.external-url=https://example.com/a/b?x=1"]),
            "/a/b/metrics"
        );
        assert_eq!(
            path(&[
                "--web.external-url=https://example.com/prom/",
                "--web.route-prefix=/"
            ]),
            "/metrics"
        );
        assert_eq!(path(&["--web.route-prefix=inner"]), "/inner/metrics");
    }

    #[test]
    fn only_components_that_reload_on_sighup() {
        assert_eq!(metric_prefix(Some(Kind::Prometheus)), Some("prometheus"));
        assert_eq!(
            metric_prefix(Some(Kind::BlackboxExporter)),
            Some("blackbox_exporter")
        );
        assert_eq!(metric_prefix(Some(Kind::Loki)), None);
        assert_eq!(metric_prefix(Some(Kind::Grafana)), None);
        assert_eq!(metric_prefix(None), None);
    }
}
