//! Writing a rendered tree safely.
//!
//! `.stackctl/manifest.json` records what render wrote (path → SHA-256). Before
//! anything is written, every target is classified against the disk and what
//! earlier renders left (the manifest, and the journal of a render that was
//! interrupted); a generated file the user edited is only replaced with
//! `--force` (the edited copy is kept beside it), and a file render never
//! created is never touched. All checks happen first, so a refusal writes
//! nothing. Then: stale temp files of dead renders go, the journal is written,
//! the files, and last the manifest — each atomically, none outside the stack
//! directory (`atomic`), none through a link leading out.

pub mod atomic;
pub mod manifest;

use super::{MANIFEST, Tree, sha256};
use atomic::{OnDisk, StackDir, WriteError};
use manifest::{Known, Protected};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    /// A generated file changed on disk since the last render.
    Edited,
    /// A file at a target path that render did not create (or not a regular file).
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
    /// Where `--force` kept the edited version (after `apply`).
    pub kept_as: Option<String>,
}

/// What render would do to the directory, and what it knows of earlier renders.
#[derive(Debug)]
pub struct Plan {
    pub changes: Vec<Planned>,
    pub known: Known,
    dir: StackDir,
    /// The exact bytes of each edited file, for its `.edited` copy (`old` is
    /// text for diffs and may have lost invalid UTF-8).
    edited: BTreeMap<String, Vec<u8>>,
}

/// Compares the tree with the disk. Unchanged files are left out. A link on
/// the way to any path that leads out of the directory is an error.
pub fn plan_changes(dir: &Path, tree: &Tree, protected: &Protected) -> Result<Plan, WriteError> {
    let stack = StackDir::open(dir)?;
    let known = manifest::read(&stack, tree, protected)?;
    let mut out = Vec::new();
    let mut edited = BTreeMap::new();
    for (path, contents) in tree {
        let disk = atomic::read_no_follow(&stack.check(path)?)?;
        let change = match &disk {
            OnDisk::Missing => Some(Change::Create),
            OnDisk::NotAFile => Some(Change::Foreign),
            OnDisk::File(bytes) if bytes == contents.as_bytes() => None,
            OnDisk::File(bytes) if known.is_ours(path, bytes) => Some(Change::Update),
            OnDisk::File(_) if known.hashes.contains_key(path) => Some(Change::Edited),
            OnDisk::File(_) => Some(Change::Foreign),
        };
        if let Some(change) = change {
            if let (Change::Edited, OnDisk::File(bytes)) = (&change, &disk) {
                edited.insert(path.clone(), bytes.clone());
            }
            out.push(Planned {
                path: path.clone(),
                change,
                old: text_of(&disk),
                new: Some(contents.clone()),
                kept_as: None,
            });
        }
    }
    for path in known.hashes.keys() {
        if tree.contains_key(path) || path == MANIFEST || !same_target(tree, path) {
            continue;
        }
        let disk = atomic::read_no_follow(&stack.check(path)?)?;
        if let OnDisk::File(bytes) = &disk {
            let change = if known.is_ours(path, bytes) {
                Change::Remove
            } else {
                Change::Orphaned
            };
            out.push(Planned {
                path: path.clone(),
                change,
                old: text_of(&disk),
                new: None,
                kept_as: None,
            });
        }
    }
    Ok(Plan {
        changes: out,
        known,
        dir: stack,
        edited,
    })
}

fn text_of(disk: &OnDisk) -> Option<String> {
    match disk {
        OnDisk::File(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

/// The Kubernetes target writes only under `kubernetes/`, the compose target
/// everything else; a render of one target never removes the other's files.
fn same_target(tree: &Tree, path: &str) -> bool {
    let kubernetes = |p: &str| p.starts_with(&format!("{}/", super::kubernetes::DIR));
    let tree_is_kubernetes = tree.keys().next().is_some_and(|p| kubernetes(p));
    kubernetes(path) == tree_is_kubernetes
}

/// Where `--force` keeps the user's edited copy of a generated file (or the
/// first free `FILE.edited.N` after it).
pub fn edited_copy(path: &str) -> String {
    format!("{path}.edited")
}

impl Plan {
    /// Files that would be lost: a foreign file in the way, or (without
    /// `force`) a generated file the user edited.
    pub fn blocked(&self, force: bool) -> Vec<Planned> {
        self.changes
            .iter()
            .filter(|c| c.change == Change::Foreign || (c.change == Change::Edited && !force))
            .cloned()
            .collect()
    }

    /// Stale temp files of renders that died, in every directory this render
    /// may touch. Call with the stack locked.
    pub fn clean_stale_temps(&self, tree: &Tree, extra: &[String]) -> Vec<String> {
        let mut dirs: BTreeSet<String> =
            BTreeSet::from([String::new(), manifest::STATE_DIR.into()]);
        for path in tree.keys().chain(self.known.hashes.keys()).chain(extra) {
            let mut p = Path::new(path.as_str());
            while let Some(parent) = p.parent() {
                if parent.as_os_str().is_empty() {
                    break;
                }
                dirs.insert(parent.display().to_string());
                p = parent;
            }
        }
        atomic::clean_stale_temps(&self.dir, &dirs.into_iter().collect::<Vec<_>>())
    }

    /// Applies the changes (after `blocked` came back empty for `force`):
    /// journal first, then the files, the manifest last. `generated_secrets`
    /// is recorded so a later render notices one that disappears.
    pub fn apply(
        mut self,
        tree: &Tree,
        generated_secrets: BTreeSet<String>,
    ) -> Result<Vec<Planned>, WriteError> {
        manifest::write_journal(&self.dir, &self.known, tree)?;
        for change in &mut self.changes {
            match change.change {
                Change::Create | Change::Update | Change::Edited => {
                    let full = self.dir.prepare(&change.path, 0o755)?;
                    if change.change == Change::Edited {
                        let old = self.edited.get(&change.path).map_or(&[][..], |b| b);
                        let kept = atomic::keep_copy(
                            &self.dir.root().join(edited_copy(&change.path)),
                            old,
                            0o644,
                        )?;
                        let rel = kept.strip_prefix(self.dir.root()).unwrap_or(&kept);
                        change.kept_as = Some(rel.display().to_string());
                    }
                    let new = change.new.as_deref().unwrap_or("");
                    atomic::replace(&full, new.as_bytes(), 0o644)?;
                }
                Change::Remove => {
                    let full = self.dir.check(&change.path)?;
                    std::fs::remove_file(&full).map_err(|source| WriteError::Io {
                        action: "remove",
                        path: full.display().to_string(),
                        source,
                    })?;
                    atomic::remove_empty_parents(
                        &self.dir,
                        &change.path,
                        &[manifest::STATE_DIR, "secrets"],
                    );
                }
                Change::Orphaned | Change::Foreign => {}
            }
        }
        let mut files: BTreeMap<String, String> = tree
            .iter()
            .map(|(p, c)| (p.clone(), sha256(c.as_bytes())))
            .collect();
        // An orphaned file stays recorded so a later render still knows it is ours.
        for change in self.changes.iter().filter(|c| c.change == Change::Orphaned) {
            let recorded = self.known.manifest.get(&change.path).cloned().or_else(|| {
                self.known
                    .hashes
                    .get(&change.path)
                    .and_then(|h| h.iter().next().cloned())
            });
            if let Some(hash) = recorded {
                files.insert(change.path.clone(), hash);
            }
        }
        // So do the other target's files, which this render did not look at.
        for (path, hash) in &self.known.manifest {
            if !same_target(tree, path) {
                files.insert(path.clone(), hash.clone());
            }
        }
        manifest::write_manifest(&self.dir, files, generated_secrets)?;
        Ok(self.changes)
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
