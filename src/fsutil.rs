//! Plain file I/O outside the render tree: atomic replacement of small state
//! files, and bounded reads of regular files only (never a FIFO or a device).

use anyhow::Context;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replaces `path` atomically with `contents` at exactly `mode`, through the
/// render writer's exclusive, never-following temp files (a predictable
/// temp name would let a planted link redirect the write).
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory `{}`", dir.display()))?;
    crate::render::write::atomic::replace(path, contents, mode)
        .with_context(|| format!("cannot write `{}`", path.display()))
}

pub fn create_dir_with_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(path)
        .with_context(|| format!("cannot create directory `{}`", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions of `{}`", path.display()))
}

/// Upper bound for a secret file: a password, token or webhook URL is short;
/// anything this large is the wrong file (or `/dev/zero`).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;
/// Upper bound for a dashboard JSON file brought by the spec. Grafana's own
/// exports of large dashboards are a few hundred KiB.
pub const MAX_DASHBOARD_BYTES: u64 = 16 * 1024 * 1024;

/// Why a bounded read of an input file failed; every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("`{}` does not exist", path.display())]
    NotFound { path: std::path::PathBuf },
    #[error("`{}` is {kind}, not a regular file", path.display())]
    NotRegular {
        path: std::path::PathBuf,
        kind: &'static str,
    },
    #[error("`{}` is larger than {limit} bytes", path.display())]
    TooLarge {
        path: std::path::PathBuf,
        limit: u64,
    },
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound { .. })
    }

    /// What is wrong, without the path (for messages that name it already).
    pub fn reason(&self) -> String {
        match self {
            ReadError::NotFound { .. } => "it does not exist".into(),
            ReadError::NotRegular { kind, .. } => format!("it is {kind}, not a regular file"),
            ReadError::TooLarge { limit, .. } => format!("it is larger than {limit} bytes"),
            ReadError::Io { source, .. } => source.to_string(),
        }
    }
}

/// What a non-regular file is, for messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Reads at most `limit` bytes of the regular file at `path` (links are
/// followed). Every input stackctl reads goes through here.
///
/// The file is opened with `O_NONBLOCK`, so opening a FIFO without a writer
/// returns at once instead of hanging; `fstat` on the open handle (not a
/// `stat` of the path, which could be swapped in between) then refuses
/// anything that is not a regular file, such as a FIFO or `/dev/zero`. The
/// read itself is bounded by `take`, in case the file grows while it is read.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let io = |source: std::io::Error| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ReadError::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                io(e)
            }
        })?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// `read_regular` for text: invalid UTF-8 is an error naming the path.
pub fn read_regular_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_regular(path, limit)?;
    String::from_utf8(bytes).map_err(|_| ReadError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not valid UTF-8"),
    })
}
