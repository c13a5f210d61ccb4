//! Sets `STACKCTL_VERSION` for `stackctl --version`: the package version and,
//! in a git checkout, the short revision (`0.1.0 (abc1234)`). Outside one (a
//! crate tarball, an export without `.git`) it is the version alone.
//!
//! It reruns only when HEAD moves: `.git/HEAD` (a checkout), the branch's ref
//! file and `packed-refs` (a commit, `git gc`). A worktree's HEAD lives under
//! the main repository's `.git/worktrees/`, so paths come from `git rev-parse
//! --git-path`, never from assuming `.git` is a directory.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let version = env!("CARGO_PKG_VERSION");
    // Only a checkout of this package counts: a tarball unpacked inside some
    // other repository must not report that repository's revision.
    let toplevel = git(&["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let ours = toplevel.is_some_and(|top| {
        top.canonicalize().ok()
            == PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .canonicalize()
                .ok()
    });
    let revision = if ours {
        git(&["rev-parse", "--short", "HEAD"])
    } else {
        None
    };
    if ours {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let at = |name: &str| git(&["rev-parse", "--git-path", name]).map(|p| root.join(p));
        // Cargo reruns every build when a watched file does not exist, and
        // scans a watched folder whole: only files that exist are named.
        let mut watched = vec![at("HEAD"), at("packed-refs")];
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let loose = at(&branch);
            // A branch kept only in `packed-refs` gets its loose ref at the
            // next commit, and that commit moves `packed-refs` not at all:
            // watch the folder the ref will be written to (`refs/heads`).
            let folder = loose
                .as_ref()
                .filter(|p| !p.exists())
                .and_then(|p| p.parent().map(PathBuf::from));
            watched.push(loose);
            watched.push(folder);
        }
        for path in watched.into_iter().flatten().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    match revision {
        Some(rev) => println!("cargo:rustc-env=STACKCTL_VERSION={version} ({rev})"),
        None => println!("cargo:rustc-env=STACKCTL_VERSION={version}"),
    }
}
