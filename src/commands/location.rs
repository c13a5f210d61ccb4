//! Which stack directory a command works in. Precedence: `-f FILE`, then
//! `validate PATH`, then `--dir DIR`, then discovery: the nearest directory,
//! this one or a parent, that holds a `stack.yaml` (as git and cargo find
//! theirs). Two of the explicit ways together are a usage error
//! (`cli::Cli::check`). `init` and `import` write a new spec, so they never
//! discover: their directory is `--dir` or `.`.

use crate::cli::SpecArg;
use std::path::{Path, PathBuf};

/// The spec file every stack directory holds.
pub const SPEC: &str = "stack.yaml";

pub fn resolve(arg: &SpecArg, writes_spec: bool) -> anyhow::Result<PathBuf> {
    match arg {
        SpecArg::File(file) => Ok(parent_of(file)),
        SpecArg::Positional(path) if path.is_dir() => Ok(path.clone()),
        SpecArg::Positional(path) if path.file_name().is_some_and(|n| n == SPEC) => {
            Ok(parent_of(path))
        }
        SpecArg::Positional(path) => anyhow::bail!(
            "`{}` is neither a stack directory nor a file named {SPEC}\n  = help: pass the spec (`mon/stack.yaml`) or its directory (`mon`)",
            path.display()
        ),
        SpecArg::Dir(dir) => Ok(dir.clone()),
        SpecArg::Discover if writes_spec => Ok(PathBuf::from(".")),
        SpecArg::Discover => {
            let cwd = std::env::current_dir()
                .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
            Ok(match discover(&cwd) {
                Some(0) | None => PathBuf::from("."),
                Some(up) => {
                    let dir: PathBuf = std::iter::repeat_n("..", up).collect();
                    super::say(&format!(
                        "note: using {} (the nearest stack.yaml above this directory)",
                        dir.join(SPEC).display()
                    ));
                    dir
                }
            })
        }
    }
}

/// How many levels above `start` the nearest `stack.yaml` is (0: in it).
/// Only a regular file counts: a directory named stack.yaml is not a spec.
pub fn discover(start: &Path) -> Option<usize> {
    start
        .ancestors()
        .position(|dir| std::fs::metadata(dir.join(SPEC)).is_ok_and(|m| m.is_file()))
}

/// The directory of a spec file: `stack.yaml` alone is in `.`.
fn parent_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_finds_the_nearest_spec_upwards() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover(&deep), None);
        std::fs::write(root.path().join("a/stack.yaml"), "x").unwrap();
        assert_eq!(discover(&deep), Some(2));
        // A directory called stack.yaml is not a spec.
        std::fs::create_dir(deep.join("stack.yaml")).unwrap();
        assert_eq!(discover(&deep), Some(2));
        std::fs::write(root.path().join("a/b/c/../stack.yaml"), "x").unwrap();
        assert_eq!(discover(&deep), Some(1));
    }

    #[test]
    fn a_file_names_its_directory() {
        assert_eq!(parent_of(Path::new("stack.yaml")), PathBuf::from("."));
        assert_eq!(parent_of(Path::new("mon/stack.yaml")), PathBuf::from("mon"));
        assert_eq!(
            resolve(&SpecArg::File("m/stack.yaml".into()), false).unwrap(),
            PathBuf::from("m")
        );
    }
}
