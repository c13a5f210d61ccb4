//! Writes confined to the stack directory.
//!
//! Everything stackctl writes goes through a [`StackDir`]: a relative path is
//! resolved component by component without trusting the tree. A directory on
//! the way that is a symbolic link is followed only when it resolves inside
//! the stack directory; anything else is refused, naming the link. Files are
//! written to a temp file created exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`,
//! random name) in the target's own directory, chmodded through the open file
//! (never by path), then renamed over the target; copies that must not replace
//! each other (`FILE.edited`, `stack.yaml.bak`) are published with `link(2)`,
//! which never overwrites and never follows a link.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Why a write was refused or failed; every variant names its path.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "`{link}` is a symbolic link to `{target}`, outside the stack directory; stackctl never writes through it\n  = help: replace the link with a real directory (or point it inside `{root}`)"
    )]
    LinkOutside {
        link: String,
        target: String,
        root: String,
    },
    #[error(
        "`{link}` is a symbolic link that leads nowhere; stackctl never writes through it\n  = help: remove the link and run the command again"
    )]
    DanglingLink { link: String },
    #[error("`{path}` is in the way: it is not a directory")]
    NotADirectory { path: String },
    #[error(
        "`{path}` is not a path inside the stack directory\n  = help: use a relative path without `..`"
    )]
    Escapes { path: String },
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + use<> {
    let path = path.display().to_string();
    move |source| WriteError::Io {
        action,
        path,
        source,
    }
}

/// A relative path made only of normal components (`a/b.yml`): no `..`, no
/// `.`, no empty component, not absolute.
pub fn is_normalized(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains('\0')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The stack directory, as the root of every write.
#[derive(Debug, Clone)]
pub struct StackDir {
    root: PathBuf,
    canonical: PathBuf,
}

impl StackDir {
    /// The directory must exist (init creates it first).
    pub fn open(root: &Path) -> Result<StackDir, WriteError> {
        let canonical = std::fs::canonicalize(root).map_err(io("resolve", root))?;
        Ok(StackDir {
            root: root.to_path_buf(),
            canonical,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel` after checking every existing directory on the way; missing
    /// directories are left missing.
    pub fn check(&self, rel: &str) -> Result<PathBuf, WriteError> {
        self.walk(rel, None)
    }

    /// `root/rel` with every missing parent directory created (with `mode`),
    /// none of them through a link leading out.
    pub fn prepare(&self, rel: &str, mode: u32) -> Result<PathBuf, WriteError> {
        self.walk(rel, Some(mode))
    }

    fn walk(&self, rel: &str, create: Option<u32>) -> Result<PathBuf, WriteError> {
        if !is_normalized(rel) {
            return Err(WriteError::Escapes { path: rel.into() });
        }
        let parts: Vec<&str> = rel.split('/').collect();
        let mut prefix = String::new();
        for part in &parts[..parts.len() - 1] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            let path = self.root.join(&prefix);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => self.inside(&prefix, &path)?,
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => return Err(WriteError::NotADirectory { path: prefix }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match create {
                    None => break,
                    Some(mode) => match std::fs::DirBuilder::new().mode(mode).create(&path) {
                        Ok(()) => {}
                        // Created meanwhile: look at what it is.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            let meta =
                                std::fs::symlink_metadata(&path).map_err(io("inspect", &path))?;
                            if meta.file_type().is_symlink() {
                                self.inside(&prefix, &path)?;
                            } else if !meta.is_dir() {
                                return Err(WriteError::NotADirectory { path: prefix });
                            }
                        }
                        Err(e) => return Err(io("create directory", &path)(e)),
                    },
                },
                Err(e) => return Err(io("inspect", &path)(e)),
            }
        }
        Ok(self.root.join(rel))
    }

    /// A link on the way is fine only when it resolves inside the stack dir.
    fn inside(&self, rel: &str, path: &Path) -> Result<(), WriteError> {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        match std::fs::canonicalize(path) {
            Ok(resolved) if resolved.starts_with(&self.canonical) && resolved.is_dir() => Ok(()),
            Ok(_) => Err(WriteError::LinkOutside {
                link: rel.into(),
                target,
                root: self.root.display().to_string(),
            }),
            Err(_) => Err(WriteError::DanglingLink { link: rel.into() }),
        }
    }
}

/// What is at a path, links not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDisk {
    Missing,
    File(Vec<u8>),
    /// A link, a directory, a FIFO, …: never read, never replaced.
    NotAFile,
}

/// Reads a regular file without following a link at its last component (and
/// without opening a FIFO, which would block).
pub fn read_no_follow(path: &Path) -> Result<OnDisk, WriteError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Missing),
        Err(e) => return Err(io("inspect", path)(e)),
        Ok(meta) if !meta.is_file() => return Ok(OnDisk::NotAFile),
        Ok(_) => {}
    }
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let mut file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Missing),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(OnDisk::NotAFile),
        Err(e) => return Err(io("read", path)(e)),
    };
    if !file.metadata().map_err(io("inspect", path))?.is_file() {
        return Ok(OnDisk::NotAFile);
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io("read", path))?;
    Ok(OnDisk::File(bytes))
}

/// The temp-file name prefix and suffix for `name`: `.NAME.stackctl-PID-RAND.tmp`.
/// The pid lets a later render tell a dead writer's leftovers from a live one's.
fn temp_name(name: &std::ffi::OsStr) -> Result<OsString, WriteError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| WriteError::Io {
        action: "get random bytes for",
        path: "a temp file name".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut out = OsString::from(".");
    out.push(name);
    out.push(format!(
        ".stackctl-{}-{}.tmp",
        std::process::id(),
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    Ok(out)
}

/// Creates a fresh temp file beside `path` holding `contents` with exactly
/// `mode`; returns its path. Never opens an existing file or a link.
fn write_temp(path: &Path, contents: &[u8], mode: u32) -> Result<PathBuf, WriteError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(WriteError::Escapes {
            path: path.display().to_string(),
        });
    };
    let mut attempts = 0;
    let (tmp, mut file) = loop {
        let tmp = dir.join(temp_name(name)?);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 8 => {
                attempts += 1;
            }
            Err(e) => return Err(io("create a temp file for", path)(e)),
        }
    };
    let result = (|| {
        file.write_all(contents)?;
        // The umask may have narrowed the mode; fchmod the file we created.
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", path)(e));
    }
    Ok(tmp)
}

/// Replaces `path` atomically: readers see the old file or the new one.
/// A link at `path` itself is replaced, never followed.
pub fn replace(path: &Path, contents: &[u8], mode: u32) -> Result<(), WriteError> {
    let tmp = write_temp(path, contents, mode)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", path)(e));
    }
    Ok(())
}

/// Writes `contents` as `base`, or `base.1`, `base.2`, … — whichever name is
/// free — never replacing anything; returns the name used. Published whole
/// (temp file, then `link(2)`), so a crash never leaves half a copy.
pub fn keep_copy(base: &Path, contents: &[u8], mode: u32) -> Result<PathBuf, WriteError> {
    let tmp = write_temp(base, contents, mode)?;
    let mut result = Err(io("keep a copy as", base)(std::io::Error::other(
        "every name is taken",
    )));
    for n in 0..1000 {
        let candidate = if n == 0 {
            base.to_path_buf()
        } else {
            let mut name = base.as_os_str().to_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        match std::fs::hard_link(&tmp, &candidate) {
            Ok(()) => {
                result = Ok(candidate);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                result = Err(io("keep a copy as", base)(e));
                break;
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Makes a finished rename durable (best effort: some filesystems refuse).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The pid in a temp-file name this module creates (`.X.stackctl-PID[-RAND].tmp`;
/// the form without RAND is what earlier versions wrote).
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, tail) = rest.rsplit_once(".stackctl-")?;
    let (pid, random) = match tail.split_once('-') {
        Some((pid, random)) => (pid, Some(random)),
        None => (tail, None),
    };
    if random.is_some_and(|r| r.is_empty() || !r.chars().all(|c| c.is_ascii_hexdigit())) {
        return None;
    }
    pid.parse().ok()
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the temp files that renders which died left in `dirs` (relative
/// to the stack dir). Only regular files whose writer is gone: a live
/// writer's file or anything planted as a link stays. Returns what went.
pub fn clean_stale_temps(stack: &StackDir, dirs: &[String]) -> Vec<String> {
    let mut removed = Vec::new();
    for rel in dirs {
        // Checking `rel/x` checks every directory of `rel`: no link out.
        if !rel.is_empty() && stack.check(&format!("{rel}/x")).is_err() {
            continue;
        }
        let dir = stack.root().join(rel);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_owner) else {
                continue;
            };
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && pid != std::process::id() && !alive(pid) {
                let path = entry.path();
                if std::fs::remove_file(&path).is_ok() {
                    let shown = Path::new(rel).join(&name);
                    removed.push(shown.display().to_string());
                }
            }
        }
    }
    removed
}

/// Removes now-empty directories above `rel`, up to (never including) the
/// stack dir and never `keep` (e.g. `.stackctl`, `secrets`).
pub fn remove_empty_parents(stack: &StackDir, rel: &str, keep: &[&str]) {
    let mut path = Path::new(rel);
    while let Some(parent) = path.parent() {
        if parent.as_os_str().is_empty()
            || parent
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            || keep.iter().any(|k| parent == Path::new(k))
        {
            break;
        }
        let full = stack.root().join(parent);
        // Only a real directory (a link to one is left as it is).
        let real_dir = std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_dir());
        if !real_dir || std::fs::remove_dir(&full).is_err() {
            break;
        }
        path = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn normalized_paths() {
        for ok in ["a", "a/b.yml", ".env", "grafana/dashboards/x/y.json"] {
            assert!(is_normalized(ok), "{ok}");
        }
        for bad in [
            "", "/a", "a/../b", "../a", "./a", "a//b", "a/", "a/.", "a\0b",
        ] {
            assert!(!is_normalized(bad), "{bad:?}");
        }
    }

    #[test]
    fn temp_owner_reads_both_forms() {
        assert_eq!(temp_owner(".x.yml.stackctl-42.tmp"), Some(42));
        assert_eq!(temp_owner(".x.yml.stackctl-42-0a9f.tmp"), Some(42));
        assert_eq!(temp_owner(".x.yml.stackctl-42-zz.tmp"), None);
        assert_eq!(temp_owner("x.yml"), None);
        assert_eq!(temp_owner(".x.stackctl-.tmp"), None);
    }

    #[test]
    fn a_temp_file_never_opens_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "v").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        let target = dir.path().join("out.yml");
        // Every name a writer could pick is random; plant links at a few
        // anyway and prove a write goes around them.
        for i in 0..4 {
            symlink(
                &victim,
                dir.path().join(format!(".out.yml.stackctl-{i}.tmp")),
            )
            .unwrap();
        }
        replace(&target, b"new", 0o644).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"v");
        assert_eq!(
            std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(
            std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "v").unwrap();
        let target = dir.path().join("out.yml");
        symlink(&victim, &target).unwrap();
        assert_eq!(read_no_follow(&target).unwrap(), OnDisk::NotAFile);
        replace(&target, b"new", 0o644).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"v");
        assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
    }

    #[test]
    fn copies_take_the_next_free_name() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("f.edited");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "v").unwrap();
        symlink(&victim, &base).unwrap();
        let one = keep_copy(&base, b"1", 0o644).unwrap();
        let two = keep_copy(&base, b"2", 0o644).unwrap();
        assert_eq!(one, dir.path().join("f.edited.1"));
        assert_eq!(two, dir.path().join("f.edited.2"));
        assert_eq!(std::fs::read(&one).unwrap(), b"1");
        assert_eq!(std::fs::read(&two).unwrap(), b"2");
        assert_eq!(std::fs::read(&victim).unwrap(), b"v");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn links_on_the_way_must_stay_inside() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("stack");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(outer.path().join("away")).unwrap();
        symlink("real", root.join("in")).unwrap();
        symlink(outer.path().join("away"), root.join("out")).unwrap();
        symlink(root.join("nowhere"), root.join("dangling")).unwrap();
        let stack = StackDir::open(&root).unwrap();
        assert!(stack.prepare("in/a/b.yml", 0o755).is_ok());
        assert!(root.join("real/a").is_dir());
        let err = stack.prepare("out/a/b.yml", 0o755).unwrap_err();
        assert!(matches!(&err, WriteError::LinkOutside { link, .. } if link == "out"));
        assert!(!outer.path().join("away/a").exists());
        let err = stack.check("dangling/b.yml").unwrap_err();
        assert!(matches!(&err, WriteError::DanglingLink { link } if link == "dangling"));
        assert!(matches!(
            stack.check("../x").unwrap_err(),
            WriteError::Escapes { .. }
        ));
    }
}
