//! The advisory lock on a stack directory (`flock(2)` on the directory).
//!
//! `render`, `init`, `up` and `down` hold it while they read and write the
//! directory, so two runs never interleave their writes (which left tree ≠
//! manifest). A second run waits briefly (`STACKCTL_LOCK_WAIT`, default 5s),
//! then gives up naming the holder, whose pid and command the holder wrote
//! to `.stackctl/lock` (removed on release). The kernel drops the lock when
//! its holder dies, so a killed run never leaves the directory locked; the
//! holder file it leaves is only read while someone holds the lock again.
//! Not re-entrant: a command that holds the lock passes its handle to what
//! runs under it (`up` renders through `render::run_held`), so two threads
//! or two calls of one process exclude each other as two processes do
//! (`flock` locks belong to the open file, not to the process).

use crate::render::write::atomic::{self, OnDisk, StackDir, WriteError};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
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

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub struct StackLock {
    /// Removed on release, before the lock itself goes.
    holder_file: Option<PathBuf>,
    _dir: Option<std::fs::File>,
}

impl Drop for StackLock {
    fn drop(&mut self) {
        if let Some(path) = &self.holder_file {
            let _ = std::fs::remove_file(path);
        }
        // Closing the directory's descriptor (`_dir`) releases the flock.
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
            holder_file: None,
            _dir: None,
        });
    }
    let stack = StackDir::open(dir)?;
    // The lock is on the directory itself: it always exists, is never
    // replaced, and locking it creates nothing (a failed render writes nothing).
    let dir_file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|source| LockError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    // Checked before waiting: a `.stackctl` link leading out is refused.
    let holder_file = stack.check(LOCK_FILE)?;
    let started = Instant::now();
    loop {
        // SAFETY: flock on a descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(dir_file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(LockError::Io {
                path: dir.display().to_string(),
                source: err,
            });
        }
        if started.elapsed() >= wait {
            return Err(LockError::Busy {
                dir: dir.display().to_string(),
                holder: holder(&holder_file),
                waited: started.elapsed().as_secs_f64(),
            });
        }
        std::thread::sleep(POLL);
    }
    // Who holds it, for whoever waits; only where stackctl's state already
    // lives (`init` in a fresh directory creates no `.stackctl/` for it).
    let me = format!("pid {}, `stackctl {command}`\n", std::process::id());
    let state = dir.join(crate::render::write::manifest::STATE_DIR);
    let wrote_holder = std::fs::symlink_metadata(&state).is_ok_and(|m| m.is_dir())
        && atomic::replace(&holder_file, me.as_bytes(), 0o644).is_ok();
    Ok(StackLock {
        holder_file: wrote_holder.then_some(holder_file),
        _dir: Some(dir_file),
    })
}

/// Who holds the lock, as its holder wrote it.
fn holder(path: &Path) -> String {
    let who = match atomic::read_no_follow(path) {
        Ok(OnDisk::File(bytes)) => String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            .trim()
            .to_string(),
        _ => String::new(),
    };
    if who.is_empty() {
        "another stackctl (it has not said who it is)".into()
    } else {
        format!("another stackctl ({who})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_handle_in_the_same_process_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".stackctl")).unwrap();
        let outer = acquire_with(dir.path(), "up", Duration::ZERO).unwrap();
        // Another thread of this process is excluded like another process.
        let path = dir.path().to_path_buf();
        let other =
            std::thread::spawn(move || acquire_with(&path, "render", Duration::ZERO).map(|_| ()))
                .join()
                .unwrap();
        match other {
            Err(LockError::Busy { holder, .. }) => assert_eq!(
                holder,
                format!(
                    "another stackctl (pid {}, `stackctl up`)",
                    std::process::id()
                )
            ),
            other => panic!("{other:?}"),
        }
        assert!(acquire_with(dir.path(), "render", Duration::ZERO).is_err());
        drop(outer);
        // Released: a fresh acquisition works at once.
        let again = acquire_with(dir.path(), "render", Duration::ZERO).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(
            text,
            format!("pid {}, `stackctl render`\n", std::process::id())
        );
        drop(again);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn a_planted_holder_file_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "v").unwrap();
        std::fs::create_dir(dir.path().join(".stackctl")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(LOCK_FILE)).unwrap();
        let lock = acquire_with(dir.path(), "render", Duration::ZERO).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"v");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn a_fresh_directory_gets_no_state_dir_from_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        drop(acquire_with(dir.path(), "init", Duration::ZERO).unwrap());
        assert!(!dir.path().join(".stackctl").exists());
    }
}
