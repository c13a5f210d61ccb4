//! The archive's manifest (`manifest.json`, the archive's last entry): what
//! each part is, its size and SHA-256, the stack, the component versions
//! and the time. Also the hash of a part, defined here once for the writer
//! and the checker: SHA-256 over each entry's path, type, mode, owner,
//! modification time, size and link target, followed by its contents.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const FORMAT: &str = "stackctl-backup/1";
pub const NAME: &str = "manifest.json";
/// Where the parts sit in the archive.
pub const VOLUMES: &str = "volumes/";
pub const SECRETS: &str = "secrets/";
pub const SPEC: &str = "stack.yaml";
pub const RENDER_MANIFEST: &str = "render-manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The Compose project (the spec's `name`).
    pub stack: String,
    /// When the backup finished, RFC 3339 UTC.
    pub created: String,
    /// The stackctl that wrote it.
    pub stackctl: String,
    /// Service → the version the spec pinned (or defaulted) for it.
    pub components: BTreeMap<String, String>,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    /// A service's data volume.
    Volume,
    /// `stack.yaml` or the rendered tree's manifest.
    File,
    /// A secret file (only with `--include-secrets`).
    Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Where it is in the archive: `volumes/prometheus`, `stack.yaml`, `secrets/x`.
    pub name: String,
    pub kind: PartKind,
    /// Volume parts: the service, its volume (short name) and the
    /// directory it is mounted at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub entries: u64,
    /// Bytes of file contents.
    pub bytes: u64,
    pub sha256: String,
    /// How it was copied: `live`, `stopped` (the service was stopped for
    /// the copy), `not running`, `volume only` (no container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<String>,
    /// How long the service was unavailable for the copy, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_ms: Option<u64>,
}

impl Manifest {
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// The hash, entry count and content size of one part.
pub struct PartHasher {
    sha: Sha256,
    pub entries: u64,
    pub bytes: u64,
}

/// One entry's metadata, as hashed.
pub struct EntryMeta<'a> {
    pub path: &'a str,
    /// `d`, `f`, `l` (symlink), `h` (hard link).
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub size: u64,
    pub link: &'a str,
}

impl Default for PartHasher {
    fn default() -> Self {
        PartHasher::new()
    }
}

impl PartHasher {
    pub fn new() -> PartHasher {
        PartHasher {
            sha: Sha256::new(),
            entries: 0,
            bytes: 0,
        }
    }

    pub fn entry(&mut self, e: &EntryMeta<'_>) {
        self.entries += 1;
        let line = format!(
            "{}\0{}\0{:o}\0{}\0{}\0{}\0{}\0{}\0",
            e.path, e.kind, e.mode, e.uid, e.gid, e.mtime, e.size, e.link
        );
        self.sha.update(line.as_bytes());
    }

    pub fn data(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        self.sha.update(bytes);
    }

    pub fn finish(self) -> String {
        hex(&self.sha.finalize())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3339 UTC of a time since the epoch (civil-from-days, proleptic
/// Gregorian), without a date crate for one timestamp.
pub fn rfc3339(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(Duration::from_secs(0)), "1970-01-01T00:00:00Z");
        // `date -u -d @1796203352 +%FT%TZ`
        assert_eq!(
            rfc3339(Duration::from_secs(1_796_203_352)),
            "2026-12-02T09:22:32Z"
        );
        assert_eq!(
            rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn the_hash_covers_metadata_and_contents() {
        let hash = |mode: u32, data: &[u8]| {
            let mut h = PartHasher::new();
            h.entry(&EntryMeta {
                path: "wal/00000000",
                kind: 'f',
                mode,
                uid: 65534,
                gid: 65534,
                mtime: 1,
                size: data.len() as u64,
                link: "",
            });
            h.data(data);
            h.finish()
        };
        assert_eq!(hash(0o644, b"abc"), hash(0o644, b"abc"));
        assert_ne!(hash(0o644, b"abc"), hash(0o600, b"abc"));
        assert_ne!(hash(0o644, b"abc"), hash(0o644, b"abd"));
    }
}
