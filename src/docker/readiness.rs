//! Readiness `up` established itself, remembered for the next `up`: right
//! after a cold up Docker still reports a container `starting` (its first
//! scheduled check is one `interval` away), although stackctl's own run of
//! the healthcheck command already passed. A no-change re-up in that window
//! should not run the command again, so `up` keeps `.stackctl/ready.json`
//! (container ID → the start time it saw ready) in the stack directory. The
//! entry holds only for that very start: a container that restarted since
//! has another start time, and is checked again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FILE: &str = ".stackctl/ready.json";

/// Container ID → `StartedAt` of the run stackctl saw healthy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ready(pub BTreeMap<String, String>);

fn file(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl Ready {
    /// Missing or unreadable: nothing known (everything is checked).
    pub fn load(dir: &Path) -> Ready {
        // Bounded and regular-only: a FIFO planted here must not hang `up`.
        crate::fsutil::read_regular(&file(dir), 1024 * 1024)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .map(Ready)
            .unwrap_or_default()
    }

    /// Was this container seen ready in its current run?
    pub fn holds(&self, id: &str, started_at: Option<&str>) -> bool {
        started_at.is_some_and(|t| self.0.get(id).map(String::as_str) == Some(t))
    }

    /// Writes the record, keeping only `keep` (the containers that run now).
    /// Never through a symlinked `.stackctl` (nothing outside the stack
    /// directory is written); unchanged content is not rewritten.
    pub fn save(&mut self, dir: &Path, keep: &[String]) -> anyhow::Result<()> {
        self.0.retain(|id, _| keep.contains(id));
        if Ready::load(dir) == *self {
            return Ok(());
        }
        let text = serde_json::to_vec_pretty(&self.0)?;
        let stack = crate::render::write::atomic::StackDir::open(dir)?;
        let path = stack.prepare(FILE, 0o755)?;
        crate::render::write::atomic::replace(&path, &text, 0o644)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_holds_for_the_same_start_only_and_survives_a_save() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Ready::default();
        r.0.insert("abc".into(), "2026-01-01T00:00:00Z".into());
        r.0.insert("gone".into(), "t".into());
        r.save(dir.path(), &["abc".to_string()]).unwrap();
        let back = Ready::load(dir.path());
        assert!(back.holds("abc", Some("2026-01-01T00:00:00Z")));
        assert!(!back.holds("abc", Some("2026-01-01T00:00:09Z")));
        assert!(!back.holds("abc", None));
        assert!(!back.holds("gone", Some("t")));
    }
}
