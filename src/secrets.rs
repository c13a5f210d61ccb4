//! Secret files: generated once by `init`, never regenerated, never copied into
//! a rendered file. Values are written without a trailing newline because
//! Alertmanager before 0.27 sends the file's bytes as they are.

use crate::model::Stack;
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// A random password of 32 characters from a 62-letter alphabet (~190 bits).
pub fn generate_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(32);
    let mut buf = [0u8; 64];
    while out.len() < 32 {
        getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("cannot get random bytes: {e}"))?;
        // Rejection sampling keeps every letter equally likely.
        for b in buf {
            if (b as usize) < ALPHABET.len() * 4 && out.len() < 32 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

pub struct Written {
    pub name: String,
    pub file: String,
    pub generated: bool,
}

/// Why a secret file cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "secret `{name}`: `{file}` does not exist and is outside the stack directory; stackctl only creates secret files inside it\n  = help: create the file yourself, or use a relative `file:` inside the stack directory"
    )]
    Outside { name: String, file: String },
    #[error(transparent)]
    Write(#[from] crate::render::write::atomic::WriteError),
    #[error("cannot get random bytes: {0}")]
    Random(String),
}

/// The relative files of the secrets the spec generates (`generate: true`).
pub fn generated_files(stack: &Stack) -> Vec<(String, String)> {
    stack
        .secrets
        .iter()
        .filter(|(_, s)| s.generate == Some(true))
        .map(|(name, _)| (name.clone(), crate::resolve::secret_file(stack, name)))
        .collect()
}

/// Creates every declared secret file that does not exist yet; existing files
/// (or links, or anything else at the path) are left exactly as they are.
/// Files are created inside the stack directory only, mode 0600, in
/// directories created 0700, never through a link leading out.
pub fn materialise(stack: &Stack, dir: &Path) -> Result<Vec<Written>, SecretError> {
    use crate::render::write::atomic::{self, StackDir};
    let root = StackDir::open(dir)?;
    let mut written = Vec::new();
    for (name, secret) in &stack.secrets {
        let rel = crate::resolve::secret_file(stack, name);
        let rel = rel.trim_start_matches("./").to_string();
        if !atomic::is_normalized(&rel) {
            if std::fs::symlink_metadata(dir.join(&rel)).is_ok() {
                continue;
            }
            return Err(SecretError::Outside {
                name: name.clone(),
                file: rel,
            });
        }
        if std::fs::symlink_metadata(root.check(&rel)?).is_ok() {
            continue;
        }
        let path = root.prepare(&rel, DIR_MODE)?;
        let generated = secret.generate == Some(true);
        let value = if generated {
            generate_password().map_err(|e| SecretError::Random(e.to_string()))?
        } else {
            String::new()
        };
        atomic::replace(&path, value.as_bytes(), FILE_MODE)?;
        written.push(Written {
            name: name.clone(),
            file: rel,
            generated,
        });
    }
    Ok(written)
}

/// Every non-empty secret value of the stack, for tests and scans that prove
/// no value leaked into a rendered file.
pub fn values(stack: &Stack, dir: &Path) -> Vec<String> {
    stack
        .secrets
        .keys()
        .filter_map(|name| {
            let path = dir.join(crate::resolve::secret_file(stack, name));
            crate::fsutil::read_regular_text(&path, crate::fsutil::MAX_SECRET_BYTES).ok()
        })
        .filter(|v| !v.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_distinct() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
