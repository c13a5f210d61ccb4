//! Which services hold data, where, and how each is copied consistently.
//! The data directories come from the component catalog (`Info::data_dir`)
//! and the volumes from the plan; the copy strategy is decided here:
//!
//! - Prometheus is copied live: its blocks are immutable once written, and
//!   the WAL (checkpoint and segments) is written append-only, so a copy is
//!   what a power cut leaves, which Prometheus repairs on start (a torn last
//!   WAL record is cut off). What can break a live copy is a compaction or
//!   retention run replacing blocks, or a WAL truncation, during the copy;
//!   `prometheus_tsdb_reloads_total` and
//!   `prometheus_tsdb_wal_truncations_total` are read before and after, and
//!   a change means the copy is taken again. The head's memory-mapped chunks
//!   (`chunks_head/`) are left out: the WAL holds the same samples, and
//!   Prometheus rebuilds them from it.
//! - Everything else is stopped for its copy and started again: Alertmanager
//!   and Pushgateway write their state (silences, notification log, pushed
//!   metrics) to disk only every few minutes and on shutdown; Grafana's
//!   SQLite database and Loki's index and WAL are consistent only at rest.

use crate::model::Kind;
use crate::plan::{Deployment, MountSource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Copied while it runs (Prometheus).
    Live,
    /// Stopped for the copy, then started again.
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPart {
    pub service: String,
    pub kind: Kind,
    /// The volume's short name (the plan's), mounted at `path`.
    pub volume: String,
    pub path: String,
    pub how: How,
}

impl DataPart {
    /// The part's name in the archive.
    pub fn name(&self) -> String {
        format!("{}{}", super::manifest::VOLUMES, self.service)
    }
}

/// The services of the plan with a data directory on a named volume, in
/// the plan's order, Prometheus first (its live copy may have to be taken
/// again; nothing else has been stopped by then).
pub fn data_parts(d: &Deployment) -> Vec<DataPart> {
    let mut parts: Vec<DataPart> = d
        .services
        .iter()
        .filter_map(|s| {
            let kind = s.kind?;
            let dir = kind.info().data_dir?;
            let volume = s.mounts.iter().find_map(|m| match &m.source {
                MountSource::Volume(v) if m.target == dir => Some(v.clone()),
                _ => None,
            })?;
            Some(DataPart {
                service: s.name.clone(),
                kind,
                volume,
                path: dir.to_string(),
                how: if kind == Kind::Prometheus {
                    How::Live
                } else {
                    How::Stopped
                },
            })
        })
        .collect();
    parts.sort_by_key(|p| p.kind != Kind::Prometheus);
    parts
}

/// Paths (below the data directory) a copy leaves out: the lock files of a
/// running process, what Prometheus rebuilds (`chunks_head/`), snapshots
/// and directories of an unfinished compaction (`*.tmp-for-creation`,
/// `*.tmp-for-deletion`).
pub fn skip(kind: Kind, rel: &str) -> bool {
    match kind {
        Kind::Prometheus => {
            let top = rel.split('/').next().unwrap_or_default();
            matches!(top, "lock" | "queries.active" | "chunks_head" | "snapshots")
                || top.contains(".tmp")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_copies_blocks_and_wal_only() {
        let skip = |rel| skip(Kind::Prometheus, rel);
        assert!(!skip("01HZX5V3J6N4Q0W2B8C9D7E6F5/chunks/000001"));
        assert!(!skip("wal/00000003"));
        assert!(!skip("wal/checkpoint.00000002/00000000"));
        assert!(skip("chunks_head/000001"));
        assert!(skip("lock"));
        assert!(skip("queries.active"));
        assert!(skip("01HZX5V3J6N4Q0W2B8C9D7E6F5.tmp-for-creation/index"));
        assert!(!super::skip(Kind::Alertmanager, "silences"));
    }
}
