//! The backup file: a tar archive compressed with zstd (with its frame
//! checksum, so a flipped bit is caught by the decompressor too). Volume
//! parts are stored entry by entry under `volumes/SERVICE/`, so nothing is
//! spooled: each entry's size is known from the engine's own tar stream.
//! `manifest.json` comes last, when every part's hash is known.
//!
//! Reading is in two passes: `verify` reads the whole file and checks every
//! part against the manifest (before anything is changed); `replay` then
//! hands each volume part, as a tar stream of its own, to the caller.

use super::manifest::{self, EntryMeta, Manifest, PartHasher};
use super::meter::Meter;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// zstd's default level: about 3× on a TSDB, faster than the disk here.
const LEVEL: i32 = 3;
/// A file part (spec, secret, render manifest) is small; more is refused.
const MAX_FILE: u64 = 64 * 1024 * 1024;
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

type Encoder = zstd::stream::write::Encoder<'static, BufWriter<File>>;

pub struct Writer {
    tar: tar::Builder<Encoder>,
}

/// What one volume part came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
    pub sha256: String,
}

fn header(
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(mtime);
    h.set_size(size);
    h
}

fn kind_char(t: tar::EntryType) -> Option<char> {
    match t {
        tar::EntryType::Directory => Some('d'),
        tar::EntryType::Regular | tar::EntryType::Continuous => Some('f'),
        tar::EntryType::Symlink => Some('l'),
        tar::EntryType::Link => Some('h'),
        _ => None,
    }
}

/// `prometheus/wal/00000001` → `wal/00000001`; the top entry → ``.
fn below_top(path: &str) -> String {
    let path = path.trim_start_matches("./");
    match path.split_once('/') {
        Some((_, rest)) => rest.trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// Counts what passes through for the progress line.
struct Counting<'a, R> {
    inner: R,
    meter: &'a mut Meter,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}

impl Writer {
    /// Creates `path`, which must not exist yet.
    pub fn create(path: &Path) -> std::io::Result<Writer> {
        use std::os::unix::fs::OpenOptionsExt;
        // Owner only: Grafana's database holds API keys and password hashes.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        let mut enc =
            zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, file), LEVEL)?;
        enc.include_checksum(true)?;
        let mut tar = tar::Builder::new(enc);
        tar.mode(tar::HeaderMode::Complete);
        Ok(Writer { tar })
    }

    /// A small file part; returns its hash.
    pub fn add_file(&mut self, name: &str, bytes: &[u8], mode: u32) -> std::io::Result<Stats> {
        let mut h = header(tar::EntryType::Regular, mode, 0, 0, 0, bytes.len() as u64);
        self.tar.append_data(&mut h, name, bytes)?;
        Ok(file_stats(bytes))
    }

    /// Copies the engine's tar stream of a directory in as part `name`
    /// (`volumes/SERVICE`), leaving out what `skip` names (paths below the
    /// directory). Entry types other than files, directories and links are
    /// left out too (a data directory has none).
    pub fn add_volume(
        &mut self,
        name: &str,
        source: impl Read,
        skip: &dyn Fn(&str) -> bool,
        meter: &mut Meter,
    ) -> std::io::Result<Stats> {
        let mut hasher = PartHasher::new();
        let mut archive = tar::Archive::new(Counting {
            inner: source,
            meter,
        });
        for entry in archive.entries()? {
            let mut entry = entry?;
            let raw = entry.path()?.to_string_lossy().into_owned();
            let rel = below_top(&raw);
            let Some(kind) = kind_char(entry.header().entry_type()) else {
                continue;
            };
            if !rel.is_empty() && skip(&rel) {
                continue;
            }
            let h = entry.header();
            let (mode, uid, gid, mtime) = (
                h.mode().unwrap_or(0o644),
                h.uid().unwrap_or(0),
                h.gid().unwrap_or(0),
                h.mtime().unwrap_or(0),
            );
            let size = if kind == 'f' { entry.size() } else { 0 };
            let link = entry
                .link_name()?
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            // A hard link names its target inside the part.
            let hashed_link = if kind == 'h' {
                below_top(&link)
            } else {
                link.clone()
            };
            hasher.entry(&EntryMeta {
                path: &rel,
                kind,
                mode,
                uid,
                gid,
                mtime,
                size,
                link: &hashed_link,
            });
            let mut out = header(entry.header().entry_type(), mode, uid, gid, mtime, size);
            let path = if rel.is_empty() {
                format!("{name}/")
            } else if kind == 'd' {
                format!("{name}/{rel}/")
            } else {
                format!("{name}/{rel}")
            };
            match kind {
                'l' | 'h' => {
                    let target = if kind == 'h' {
                        // Hard links name the target by its path in the same archive.
                        format!("{name}/{}", below_top(&link))
                    } else {
                        link.clone()
                    };
                    self.tar.append_link(&mut out, &path, &target)?;
                }
                'f' => {
                    let mut tee = Tee {
                        inner: &mut entry,
                        hasher: &mut hasher,
                    };
                    self.tar.append_data(&mut out, &path, &mut tee)?;
                }
                _ => self.tar.append_data(&mut out, &path, std::io::empty())?,
            }
        }
        Ok(Stats {
            entries: hasher.entries,
            bytes: hasher.bytes,
            sha256: hasher.finish(),
        })
    }

    /// Writes the manifest last, ends the zstd frame and syncs the file.
    pub fn finish(mut self, manifest: &Manifest) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
        let mut h = header(tar::EntryType::Regular, 0o644, 0, 0, 0, json.len() as u64);
        self.tar
            .append_data(&mut h, manifest::NAME, json.as_slice())?;
        let enc = self.tar.into_inner()?;
        let mut buf = enc.finish()?;
        buf.flush()?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

fn file_stats(bytes: &[u8]) -> Stats {
    let mut h = PartHasher::new();
    h.data(bytes);
    Stats {
        entries: 1,
        bytes: bytes.len() as u64,
        sha256: h.finish(),
    }
}

/// Hashes file contents as they are copied.
struct Tee<'a, R> {
    inner: R,
    hasher: &'a mut PartHasher,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.data(&buf[..n]);
        Ok(n)
    }
}

/// Why an archive is not accepted. Each says what is wrong in the file.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot read `{file}`: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("`{file}` is damaged: {reason}")]
    Damaged { file: String, reason: String },
}

fn open(
    path: &Path,
) -> std::io::Result<tar::Archive<zstd::stream::read::Decoder<'static, BufReader<File>>>> {
    let file = File::open(path)?;
    let dec = zstd::stream::read::Decoder::new(file)?;
    Ok(tar::Archive::new(dec))
}

/// Which part an archive path belongs to, and its path inside the part.
fn classify(path: &str) -> (String, String) {
    if let Some(rest) = path.strip_prefix(manifest::VOLUMES) {
        let (service, rel) = rest.split_once('/').unwrap_or((rest, ""));
        return (
            format!("{}{service}", manifest::VOLUMES),
            rel.trim_end_matches('/').to_string(),
        );
    }
    (path.to_string(), String::new())
}

/// What `verify` found: the manifest, every part checked, and the small
/// file parts' contents.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Reads the whole archive and checks each part's hash, entry count and
/// size against the manifest; a part missing, extra or different, a bad
/// zstd frame or tar header is an error. Changes nothing.
pub fn verify(path: &Path, meter: &mut Meter) -> Result<Verified, ArchiveError> {
    let file = path.display().to_string();
    let damaged = |reason: String| ArchiveError::Damaged {
        file: file.clone(),
        reason,
    };
    let mut archive = open(path).map_err(|e| ArchiveError::Unreadable {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let mut hashers: BTreeMap<String, PartHasher> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut files = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    let entries = archive
        .entries()
        .map_err(|e| damaged(format!("not a backup archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(e.to_string()))?;
        let raw = entry
            .path()
            .map_err(|e| damaged(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if manifest.is_some() {
            return Err(damaged(format!(
                "`{raw}` follows the manifest, which must come last"
            )));
        }
        if raw == manifest::NAME {
            if entry.size() > MAX_MANIFEST {
                return Err(damaged("the manifest is too large".into()));
            }
            let mut text = Vec::new();
            entry
                .read_to_end(&mut text)
                .map_err(|e| damaged(e.to_string()))?;
            let m: Manifest = serde_json::from_slice(&text)
                .map_err(|e| damaged(format!("its manifest does not parse: {e}")))?;
            manifest = Some(m);
            continue;
        }
        let (part, rel) = classify(&raw);
        if !hashers.contains_key(&part) {
            order.push(part.clone());
        }
        let hasher = hashers.entry(part.clone()).or_default();
        let volume = part.starts_with(manifest::VOLUMES);
        if volume {
            let h = entry.header();
            let Some(kind) = kind_char(h.entry_type()) else {
                return Err(damaged(format!("`{raw}` is of a type backups never hold")));
            };
            let link = entry
                .link_name()
                .map_err(|e| damaged(e.to_string()))?
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            // A hard link names its target inside the part.
            let link = if kind == 'h' { classify(&link).1 } else { link };
            let meta = (
                h.mode().unwrap_or(0),
                h.uid().unwrap_or(0),
                h.gid().unwrap_or(0),
                h.mtime().unwrap_or(0),
            );
            let size = if kind == 'f' { entry.size() } else { 0 };
            hasher.entry(&EntryMeta {
                path: &rel,
                kind,
                mode: meta.0,
                uid: meta.1,
                gid: meta.2,
                mtime: meta.3,
                size,
                link: &link,
            });
        } else if entry.size() > MAX_FILE {
            return Err(damaged(format!(
                "`{raw}` is larger than a spec or secret can be"
            )));
        }
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut buf).map_err(|e| damaged(e.to_string()))?;
            if n == 0 {
                break;
            }
            meter.add(n as u64);
            hasher.data(&buf[..n]);
            if !volume {
                kept.extend_from_slice(&buf[..n]);
            }
        }
        if !volume {
            files.insert(part, kept);
        }
    }
    // The end of the zstd frame (and its checksum) is read only when asked.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| damaged(e.to_string()))?;
    let manifest = manifest
        .ok_or_else(|| damaged("it has no manifest (the backup did not finish?)".into()))?;
    if manifest.format != manifest::FORMAT {
        return Err(damaged(format!(
            "it is in format `{}`; this stackctl reads `{}`",
            manifest.format,
            manifest::FORMAT
        )));
    }
    for part in &manifest.parts {
        let Some(hasher) = hashers.remove(&part.name) else {
            return Err(damaged(format!(
                "part `{}` listed in its manifest is missing",
                part.name
            )));
        };
        let (entries, bytes) = (hasher.entries, hasher.bytes);
        let sha = hasher.finish();
        if sha != part.sha256
            || bytes != part.bytes
            || (part.kind == manifest::PartKind::Volume && entries != part.entries)
        {
            return Err(damaged(format!(
                "part `{}` does not match its manifest: SHA-256 {sha} ({bytes} bytes), the manifest says {} ({} bytes)",
                part.name, part.sha256, part.bytes
            )));
        }
    }
    if let Some(extra) = order.iter().find(|p| hashers.contains_key(*p)) {
        return Err(damaged(format!("`{extra}` is not listed in its manifest")));
    }
    Ok(Verified { manifest, files })
}

/// Reads the (verified) archive again and, for each volume part, asks
/// `start(service)` where to write it: a tar stream of the part's entries
/// relative to its directory (the directory itself as `./`). `None` skips
/// the part. The writer is dropped at the part's end, which ends the stream.
pub fn replay<W: Write>(
    path: &Path,
    meter: &mut Meter,
    start: &mut dyn FnMut(&str) -> Option<W>,
) -> std::io::Result<()> {
    let mut archive = open(path)?;
    let mut current: Option<(String, tar::Builder<W>)> = None;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = entry.path()?.to_string_lossy().into_owned();
        let (part, rel) = classify(&raw);
        let Some(service) = part.strip_prefix(manifest::VOLUMES).map(str::to_string) else {
            continue;
        };
        if current.as_ref().is_none_or(|(s, _)| *s != service) {
            if let Some((_, b)) = current.take() {
                b.into_inner()?.flush()?;
            }
            if let Some(w) = start(&service) {
                let mut b = tar::Builder::new(w);
                b.mode(tar::HeaderMode::Complete);
                current = Some((service.clone(), b));
            }
        }
        let Some((_, builder)) = current.as_mut() else {
            continue;
        };
        let h = entry.header().clone();
        let kind = h.entry_type();
        let mut out = header(
            kind,
            h.mode()?,
            h.uid()?,
            h.gid()?,
            h.mtime()?,
            if kind.is_file() { entry.size() } else { 0 },
        );
        let name = if rel.is_empty() {
            "./".to_string()
        } else if kind.is_dir() {
            format!("{rel}/")
        } else {
            rel.clone()
        };
        match kind {
            tar::EntryType::Symlink => {
                let target = entry.link_name()?.unwrap_or_default().into_owned();
                builder.append_link(&mut out, &name, target)?;
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()?
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let (_, target) = classify(&target);
                builder.append_link(&mut out, &name, target)?;
            }
            _ if kind.is_file() => {
                let mut counted = Counting {
                    inner: &mut entry,
                    meter,
                };
                builder.append_data(&mut out, &name, &mut counted)?;
            }
            _ => builder.append_data(&mut out, &name, std::io::empty())?,
        }
    }
    if let Some((_, b)) = current.take() {
        b.into_inner()?.flush()?;
    }
    Ok(())
}
