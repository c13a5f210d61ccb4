//! The advisory lock on a stack directory (`.stackctl/lock`, `flock(2)`).
//!
//! `render`, `init`, `up` and `down` hold it while they read and write the
//! directory, so two runs never interleave their writes (which left tree ≠
//! manifest). A second run waits briefly (`STACKCTL_LOCK_WAIT`, default 5s),
//! then gives up naming the holder, whose pid and command are written into
//! the lock file. The kernel drops the lock when its holder dies, so a killed
//! run never leaves the directory locked. Within one process the lock is
//! re-entrant (`up` renders under the lock it already holds).

use crate::render::write::atomic::{StackDir, WriteError};
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const LOCK_FILE: &str = ".stackctl/lock";
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "`{dir}` is locked by {holder}; gave up after {waited:.1}s\n  = help: run the command again when that one has finished"
    )]
    Busy {
        dir: String,
        holder: String,
        waited: f64,
    },
    #[error(transparent)]
    Path(#[from] WriteError),
    #[error("cannot lock `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Directories this process holds, with how many guards are alive for each.
static HELD: Mutex<BTreeMap<PathBuf, usize>> = Mutex::new(BTreeMap::new());

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub struct StackLock {
    key: Option<PathBuf>,
    _file: Option<std::fs::File>,
}

impl Drop for StackLock {
    fn drop(&mut self) {
        let Some(key) = &self.key else { return };
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                held.remove(key);
            }
        }
    }
}

/// How long a second run waits: `STACKCTL_LOCK_WAIT` (`500ms`, `30s`), else 5s.
pub fn wait_from_env() -> Duration {
    std::env::var("STACKCTL_LOCK_WAIT")
        .ok()
        .and_then(|v| crate::model::types::Duration::parse(&v).ok())
        .map(|d| d.as_std())
        .unwrap_or(DEFAULT_WAIT)
}

/// Locks `dir` for `command` (shown to whoever waits), waiting up to
/// [`wait_from_env`]. A directory that does not exist has nothing to protect:
/// the command itself reports it.
pub fn acquire(dir: &Path, command: &str) -> Result<StackLock, LockError> {
    acquire_with(dir, command, wait_from_env())
}

pub fn acquire_with(dir: &Path, command: &str, wait: Duration) -> Result<StackLock, LockError> {
    if !dir.is_dir() {
        return Ok(StackLock {
            key: None,
            _file: None,
        });
    }
    let stack = StackDir::open(dir)?;
    let key = std::fs::canonicalize(dir).map_err(|source| LockError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&key) {
            *n += 1;
            return Ok(StackLock {
                key: Some(key),
                _file: None,
            });
        }
    }
    let path = stack.prepare(LOCK_FILE, 0o755)?;
    let io = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        // A planted link is refused (ELOOP), never followed.
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(io)?;
    let started = Instant::now();
    loop {
        // SAFETY: flock on a descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io(err));
        }
        if started.elapsed() >= wait {
            return Err(LockError::Busy {
                dir: dir.display().to_string(),
                holder: holder(&mut file),
                waited: started.elapsed().as_secs_f64(),
            });
        }
        std::thread::sleep(POLL);
    }
    let me = format!("pid {}, `stackctl {command}`\n", std::process::id());
    (|| -> std::io::Result<()> {
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(me.as_bytes())?;
        file.flush()
    })()
    .map_err(io)?;
    HELD.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone(), 1);
    Ok(StackLock {
        key: Some(key),
        _file: Some(file),
    })
}

/// Who holds the lock, as its holder wrote it.
fn holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let read = file
        .rewind()
        .and_then(|()| file.take(200).read_to_string(&mut text));
    match read.map(|_| text.trim().to_string()) {
        Ok(who) if !who.is_empty() => format!("another stackctl ({who})"),
        _ => "another stackctl (it has not said who it is yet)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_entrant_within_a_process() {
        let dir = tempfile::tempdir().unwrap();
        let outer = acquire_with(dir.path(), "up", Duration::ZERO).unwrap();
        let inner = acquire_with(dir.path(), "render", Duration::ZERO).unwrap();
        drop(inner);
        drop(outer);
        // Released: a fresh acquisition works at once.
        let again = acquire_with(dir.path(), "render", Duration::ZERO).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(
            text,
            format!("pid {}, `stackctl render`\n", std::process::id())
        );
        drop(again);
    }

    #[test]
    fn a_lock_file_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "v").unwrap();
        std::fs::create_dir(dir.path().join(".stackctl")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(LOCK_FILE)).unwrap();
        let err = acquire_with(dir.path(), "render", Duration::ZERO).unwrap_err();
        assert!(matches!(err, LockError::Io { .. }), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"v");
    }
}
