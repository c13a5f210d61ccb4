//! Writing a rendered tree safely.
//!
//! `.stackctl/manifest.json` records what render wrote (path → SHA-256). Before
//! anything is written, every target is classified against the disk and the
//! manifest; a generated file the user edited is only replaced with `--force`
//! (the edited copy is kept beside it), and a file render never created is
//! never touched. All checks happen first, so a refusal writes nothing.

use super::{MANIFEST, Tree, sha256};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    /// Relative path → SHA-256 of the contents render wrote.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn read(dir: &Path) -> anyhow::Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .with_context(|| format!("`{}` is not a stackctl manifest", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        }
    }

    fn for_tree(tree: &Tree) -> Manifest {
        Manifest {
            generator: format!("stackctl {}", env!("CARGO_PKG_VERSION")),
            files: tree
                .iter()
                .map(|(p, c)| (p.clone(), sha256(c.as_bytes())))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    /// A generated file changed on disk since the last render.
    Edited,
    /// A file at a target path that render did not create.
    Foreign,
    /// Generated before, no longer part of the tree, untouched since: removed.
    Remove,
    /// Generated before, no longer part of the tree, but edited: left alone.
    Orphaned,
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub path: String,
    pub change: Change,
    /// What is on disk now, when there is something.
    pub old: Option<String>,
    /// What render would write (None for removals).
    pub new: Option<String>,
}

/// Compares the tree with the disk. Unchanged files are left out.
pub fn plan_changes(dir: &Path, tree: &Tree) -> anyhow::Result<Vec<Planned>> {
    let manifest = Manifest::read(dir)?.unwrap_or_default();
    let mut out = Vec::new();
    for (path, contents) in tree {
        let full = dir.join(path);
        let old = read_optional(&full)?;
        let change = match &old {
            None => Some(Change::Create),
            Some(text) if text == contents => None,
            Some(text) => match manifest.files.get(path) {
                Some(hash) if *hash == sha256(text.as_bytes()) => Some(Change::Update),
                Some(_) => Some(Change::Edited),
                None => Some(Change::Foreign),
            },
        };
        if let Some(change) = change {
            out.push(Planned {
                path: path.clone(),
                change,
                old,
                new: Some(contents.clone()),
            });
        }
    }
    for (path, hash) in &manifest.files {
        if tree.contains_key(path) || path == MANIFEST || !same_target(tree, path) {
            continue;
        }
        if let Some(text) = read_optional(&dir.join(path))? {
            let change = if *hash == sha256(text.as_bytes()) {
                Change::Remove
            } else {
                Change::Orphaned
            };
            out.push(Planned {
                path: path.clone(),
                change,
                old: Some(text),
                new: None,
            });
        }
    }
    Ok(out)
}

/// The Kubernetes target writes only under `kubernetes/`, the compose target
/// everything else; a render of one target never removes the other's files.
fn same_target(tree: &Tree, path: &str) -> bool {
    let kubernetes = |p: &str| p.starts_with(&format!("{}/", super::kubernetes::DIR));
    let tree_is_kubernetes = tree.keys().next().is_some_and(|p| kubernetes(p));
    kubernetes(path) == tree_is_kubernetes
}

fn read_optional(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

/// Where `--force` keeps the user's edited copy of a generated file.
pub fn edited_copy(path: &str) -> String {
    format!("{path}.edited")
}

#[derive(Debug)]
pub enum Outcome {
    Written(Vec<Planned>),
    /// Nothing written: these files would be lost.
    Refused(Vec<Planned>),
}

/// Applies the changes. Refuses (writing nothing) when a file the user edited
/// would be overwritten without `force`, or a foreign file is in the way.
pub fn apply(dir: &Path, tree: &Tree, force: bool) -> anyhow::Result<Outcome> {
    let changes = plan_changes(dir, tree)?;
    let blocked: Vec<Planned> = changes
        .iter()
        .filter(|c| c.change == Change::Foreign || (c.change == Change::Edited && !force))
        .cloned()
        .collect();
    if !blocked.is_empty() {
        return Ok(Outcome::Refused(blocked));
    }
    for change in &changes {
        let full = dir.join(&change.path);
        match change.change {
            Change::Create | Change::Update => {
                crate::fsutil::write_atomic(
                    &full,
                    change.new.as_deref().unwrap_or("").as_bytes(),
                    0o644,
                )?;
            }
            Change::Edited => {
                let keep = dir.join(edited_copy(&change.path));
                std::fs::copy(&full, &keep)
                    .with_context(|| format!("cannot keep the edited `{}`", full.display()))?;
                crate::fsutil::write_atomic(
                    &full,
                    change.new.as_deref().unwrap_or("").as_bytes(),
                    0o644,
                )?;
            }
            Change::Remove => {
                std::fs::remove_file(&full)
                    .with_context(|| format!("cannot remove `{}`", full.display()))?;
                remove_empty_parents(dir, &full);
            }
            Change::Orphaned | Change::Foreign => {}
        }
    }
    let mut manifest = Manifest::for_tree(tree);
    // An orphaned file stays recorded so a later render still knows it is ours.
    if let Some(old) = Manifest::read(dir)? {
        for change in changes.iter().filter(|c| c.change == Change::Orphaned) {
            if let Some(hash) = old.files.get(&change.path) {
                manifest.files.insert(change.path.clone(), hash.clone());
            }
        }
        // So do the other target's files, which this render did not look at.
        for (path, hash) in &old.files {
            if !same_target(tree, path) {
                manifest.files.insert(path.clone(), hash.clone());
            }
        }
    }
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    crate::fsutil::write_atomic(&dir.join(MANIFEST), text.as_bytes(), 0o644)?;
    Ok(Outcome::Written(changes))
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// A unified diff of one planned change.
pub fn unified_diff(change: &Planned) -> String {
    let old = change.old.as_deref().unwrap_or("");
    let new = change.new.as_deref().unwrap_or("");
    let (a, b) = match change.change {
        Change::Create => ("/dev/null".to_string(), format!("b/{}", change.path)),
        Change::Remove => (format!("a/{}", change.path), "/dev/null".to_string()),
        _ => (format!("a/{}", change.path), format!("b/{}", change.path)),
    };
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}
