//! What the host hands to containers, checked before anything is rendered:
//! mount sources and targets, log paths, and the bytes of secret files.
//!
//! Compose short volume syntax is `SOURCE:TARGET[:ro]` and the Docker API's
//! binds are the same string, so a `:` in a path silently moves the split (the
//! `:ro` is lost or the mount is rejected); a line break or other control
//! character is a path nobody meant; `..` escapes the stack directory or hides
//! a host-root mount from review. Secret files are handed to HTTP clients and
//! SMTP as credentials, which cannot carry NUL or line breaks. Everything
//! `validate` accepts here renders and is accepted by Compose and Docker.

use super::Findings;
use crate::diag::Diagnostic;
use crate::fsutil::ReadError;
use crate::model::Stack;
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    for kind in crate::model::catalog::ALL {
        let Some(common) = stack.components.common(kind) else {
            continue;
        };
        for (i, v) in common.volumes.iter().enumerate() {
            let at = |field: &str| path!["components", kind.key(), "volumes", i, field];
            if let Some(problem) = path_problem(&v.source) {
                found.error(
                    at("source"),
                    format!("mount source `{}` {problem}", v.source.escape_debug()),
                    "Compose and Docker split mounts at `:`; use a path without `:` or control characters",
                );
            } else if v.source.starts_with('/') {
                // Host paths are cleaned by the plan (`/var/..` is `/`), so
                // the host-root note in `deployment` sees what Docker mounts.
            } else if v.source.starts_with('.') {
                if v.source.split('/').any(|c| c == "..") {
                    found.error(
                        at("source"),
                        format!("mount source `{}` leaves the stack directory", v.source),
                        "relative sources are inside the stack directory; write a host directory as an absolute path",
                    );
                }
            } else if !is_volume_name(&v.source) {
                found.error(
                    at("source"),
                    format!("invalid volume name `{}`", v.source.escape_debug()),
                    "a named volume is letters, digits, `_`, `.` and `-`; a host directory starts with `/`, one in the stack directory with `./`",
                );
            } else if is_reserved_volume(&v.source) {
                found.error(
                    at("source"),
                    format!("volume name `{}` is reserved", v.source),
                    RESERVED_HINT,
                );
            }
            if let Some(problem) = path_problem(&v.target) {
                found.error(
                    at("target"),
                    format!("mount target `{}` {problem}", v.target.escape_debug()),
                    "write the path inside the container without `:` or control characters",
                );
            } else if v.target.split('/').any(|c| c == "..") {
                found.error(
                    at("target"),
                    format!("mount target `{}` contains `..`", v.target),
                    "write the path inside the container without `..`",
                );
            }
        }
    }
    for kind in crate::model::catalog::ALL {
        let Some(common) = stack.components.common(kind) else {
            continue;
        };
        if let Some(name) = common.data_volume.filter(|n| is_reserved_volume(n)) {
            found.error(
                path!["components", kind.key(), "data_volume"],
                format!("volume name `{name}` is reserved"),
                RESERVED_HINT,
            );
        }
    }
    for (i, source) in stack.logs.sources.iter().enumerate() {
        for (p, glob) in source.paths.iter().enumerate() {
            let at = path!["logs", "sources", i, "paths", p];
            if let Some(problem) = path_problem(glob) {
                found.error(
                    at,
                    format!("log path `{}` {problem}", glob.escape_debug()),
                    "the directory of a log path is mounted into the shipper; use a path without `:` or control characters",
                );
            } else if glob.split('/').any(|c| c == "..") {
                // The shipper mounts the glob's directory: `..` would widen
                // that mount (up to the host root) without saying so.
                found.error(
                    at,
                    format!("log path `{glob}` contains `..`"),
                    format!(
                        "write the directory it means, e.g. `{}`",
                        clean_host_path(glob)
                    ),
                );
            }
        }
    }
}

/// What makes `text` unusable as a mount path, if anything.
fn path_problem(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        Some("is empty")
    } else if text.contains(':') {
        Some("contains `:`")
    } else if text.chars().any(char::is_control) {
        Some("contains a line break or control character")
    } else {
        None
    }
}

/// `<service>_secrets` volumes belong to the `secrets-init` job, which deletes
/// the files there it no longer installs: a user's data there would be lost.
fn is_reserved_volume(name: &str) -> bool {
    name.ends_with("_secrets")
}

const RESERVED_HINT: &str = "names ending in `_secrets` hold the secrets `secrets-init` installs for each service (files no longer used there are deleted on every run); choose another name";

/// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn is_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// An absolute host path cleaned lexically, as Go's `filepath.Clean` (and so
/// Docker) does: `//`, `.` and `..` resolved, `..` above the root dropped.
pub fn clean_host_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A finding about the secret file `rel` of secret `name` from its bounded
/// read, or `None` when the file is fine or absent (`files.rs` reports that).
pub fn secret_value(
    name: &str,
    rel: &str,
    read: &Result<Vec<u8>, ReadError>,
) -> Option<Diagnostic> {
    let d = match read {
        Ok(bytes) => {
            let value = bytes
                .strip_suffix(b"\n")
                .map(|b| b.strip_suffix(b"\r").unwrap_or(b))
                .unwrap_or(bytes);
            let bad = if value.contains(&0) {
                "contains a NUL byte"
            } else if value.iter().any(|b| *b == b'\n' || *b == b'\r') {
                "contains a line break inside the value"
            } else if value
                .iter()
                .any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
            {
                "contains a control character"
            } else if std::str::from_utf8(value).is_err() {
                "is not valid UTF-8"
            } else {
                return None;
            };
            Diagnostic::error(format!("secret `{name}`: `{rel}` {bad}"))
                .with_hint("credentials are sent in HTTP headers, URLs and SMTP, which cannot carry it; write the value on one line of text")
        }
        Err(ReadError::NotFound { .. }) => return None,
        Err(ReadError::Io { source, .. }) => {
            Diagnostic::warning(format!("secret `{name}`: cannot read `{rel}`: {source}"))
                .with_hint("stackctl could not check the value; make the file readable")
        }
        Err(e @ (ReadError::NotRegular { .. } | ReadError::TooLarge { .. })) => {
            Diagnostic::error(format!("secret `{name}`: {e}"))
                .with_hint("a secret is one regular file holding the value")
        }
    };
    Some(d.with_code("secret-file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_are_cleaned_like_go() {
        for (raw, clean) in [
            ("/var/..", "/"),
            ("/var/lib/../log", "/var/log"),
            ("//etc/./x/", "/etc/x"),
            ("/../..", "/"),
        ] {
            assert_eq!(clean_host_path(raw), clean, "{raw}");
        }
    }

    #[test]
    fn secret_values_with_bytes_consumers_cannot_take() {
        let check =
            |bytes: &[u8]| secret_value("s", "secrets/s", &Ok(bytes.to_vec())).map(|d| d.message);
        assert_eq!(check(b"hunter2\n"), None);
        assert_eq!(check(b"hunter2\r\n"), None);
        assert_eq!(check(b""), None);
        assert!(check(b"ab\0cd").unwrap().contains("NUL"));
        assert!(check(b"ab\ncd").unwrap().contains("line break"));
        assert!(check(b"ab\x1bcd").unwrap().contains("control"));
        assert!(check(b"ab\xffcd").unwrap().contains("UTF-8"));
    }
}
