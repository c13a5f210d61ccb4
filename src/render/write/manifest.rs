//! `.stackctl/manifest.json` and its journal `.stackctl/pending.json`: what
//! render wrote, read back as untrusted input.
//!
//! Anyone who can write the stack directory can write the manifest, so an
//! entry is believed only when it is a normalized relative path that render
//! could have produced: in the tree being rendered, or under a directory (or
//! with a name) the generator uses, with an extension it writes — never
//! `stack.yaml`, a secret file, or stackctl's own state. Anything else is
//! reported and ignored, so a tampered entry can make render refuse, never
//! delete. The journal is written before render touches any file and lists
//! every hash a file may hold while the render runs; a render killed halfway
//! leaves files the next one still recognises as its own.

use super::atomic::{self, OnDisk, StackDir, WriteError};
use crate::render::{MANIFEST, Tree, sha256};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// stackctl's own state directory: locks, manifest, journal.
pub const STATE_DIR: &str = ".stackctl";
pub const JOURNAL: &str = ".stackctl/pending.json";
pub const SPEC: &str = "stack.yaml";

/// Top-level names the generator writes under (or as), for every target.
/// `generated_paths_are_recognised` proves every shipped profile stays inside.
const GENERATED_ROOTS: &[&str] = &[
    crate::render::COMPOSE_FILE,
    crate::render::ENV_FILE,
    "prometheus",
    "alertmanager",
    "grafana",
    "loki",
    "promtail",
    "alloy",
    "blackbox",
    "logstash",
    "elasticsearch",
    "kibana",
    "jaeger",
    crate::render::kubernetes::DIR,
];

/// File name endings the generator writes (temp files, `.edited` copies and
/// backups never match).
const GENERATED_ENDINGS: &[&str] = &[
    ".yml", ".yaml", ".json", ".conf", ".alloy", ".sh", ".env", ".txt", ".ini",
];

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    /// Relative path → SHA-256 of the contents render wrote.
    pub files: BTreeMap<String, String>,
    /// Generated secret files that existed after the last render: one that
    /// disappears is not recreated silently (that would rotate a credential).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub generated_secrets: BTreeSet<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    generator: String,
    /// Relative path → every hash the file may hold while the render runs.
    files: BTreeMap<String, BTreeSet<String>>,
}

fn generator() -> String {
    format!("stackctl {}", env!("CARGO_PKG_VERSION"))
}

/// Paths that are never generated, whatever a manifest says.
#[derive(Debug, Default, Clone)]
pub struct Protected {
    files: BTreeSet<String>,
}

impl Protected {
    /// `stack.yaml` and the spec's secret files (wherever `file:` puts them).
    pub fn for_stack(stack: &crate::model::Stack) -> Protected {
        let mut files: BTreeSet<String> = stack
            .secrets
            .keys()
            .map(|name| crate::resolve::secret_file(stack, name))
            .collect();
        files.insert(SPEC.to_string());
        Protected { files }
    }

    fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
            || path == SPEC
            || path.starts_with(&format!("{SPEC}."))
            || path.starts_with("secrets/")
            || path == STATE_DIR
            || path.starts_with(&format!("{STATE_DIR}/"))
    }
}

/// Why a manifest entry is not believed, or `None` when it is.
fn distrust(path: &str, hash: &str, tree: &Tree, protected: &Protected) -> Option<&'static str> {
    if !atomic::is_normalized(path) {
        return Some("not a normalized relative path inside the stack directory");
    }
    if protected.contains(path) {
        return Some("the spec, secrets and stackctl's state are never generated");
    }
    if !is_sha256(hash) {
        return Some("not a SHA-256 hash");
    }
    if tree.contains_key(path) {
        return None;
    }
    let first = path.split('/').next().unwrap_or(path);
    let under_root = GENERATED_ROOTS.contains(&first);
    let ending =
        GENERATED_ROOTS.contains(&path) || GENERATED_ENDINGS.iter().any(|e| path.ends_with(e));
    if !under_root || !ending {
        return Some("not a path render generates");
    }
    None
}

fn is_sha256(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What earlier renders left, after distrust.
#[derive(Debug, Default)]
pub struct Known {
    /// The last finished render: path → hash.
    pub manifest: BTreeMap<String, String>,
    /// Path → every hash render may have left there (manifest ∪ journal).
    pub hashes: BTreeMap<String, BTreeSet<String>>,
    pub generated_secrets: BTreeSet<String>,
    /// (entry or file, why it was ignored), for the user.
    pub ignored: Vec<(String, String)>,
    /// A finished render was recorded (the stack was rendered before).
    pub rendered_before: bool,
}

impl Known {
    pub fn is_ours(&self, path: &str, bytes: &[u8]) -> bool {
        self.hashes
            .get(path)
            .is_some_and(|h| h.contains(&sha256(bytes)))
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(
    dir: &StackDir,
    rel: &str,
    ignored: &mut Vec<(String, String)>,
) -> Result<Option<T>, WriteError> {
    let path = dir.check(rel)?;
    match atomic::read_no_follow(&path)? {
        OnDisk::Missing => Ok(None),
        OnDisk::NotAFile => {
            ignored.push((rel.to_string(), "not a regular file".into()));
            Ok(None)
        }
        OnDisk::File(bytes) => match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                ignored.push((rel.to_string(), format!("not a stackctl manifest ({e})")));
                Ok(None)
            }
        },
    }
}

/// Reads the manifest and the journal of an interrupted render, keeping only
/// entries render could have written.
pub fn read(dir: &StackDir, tree: &Tree, protected: &Protected) -> Result<Known, WriteError> {
    let mut known = Known::default();
    let manifest: Option<Manifest> = read_json(dir, MANIFEST, &mut known.ignored)?;
    let journal: Option<Journal> = read_json(dir, JOURNAL, &mut known.ignored)?;
    if let Some(m) = manifest {
        known.rendered_before = true;
        for (path, hash) in m.files {
            match distrust(&path, &hash, tree, protected) {
                Some(why) => known.ignored.push((path, why.into())),
                None => {
                    known
                        .hashes
                        .entry(path.clone())
                        .or_default()
                        .insert(hash.clone());
                    known.manifest.insert(path, hash);
                }
            }
        }
        known.generated_secrets = m
            .generated_secrets
            .into_iter()
            .filter(|p| atomic::is_normalized(p))
            .collect();
    }
    if let Some(j) = journal {
        for (path, hashes) in j.files {
            for hash in hashes {
                match distrust(&path, &hash, tree, protected) {
                    // The journal repeats most manifest entries; say each once.
                    Some(why) if !known.ignored.iter().any(|(p, _)| *p == path) => {
                        known.ignored.push((path.clone(), why.into()))
                    }
                    Some(_) => {}
                    None => {
                        known.hashes.entry(path.clone()).or_default().insert(hash);
                    }
                }
            }
        }
    }
    Ok(known)
}

/// Before the first file is touched: every hash known so far plus the new tree's.
pub fn write_journal(dir: &StackDir, known: &Known, tree: &Tree) -> Result<(), WriteError> {
    let mut files = known.hashes.clone();
    for (path, contents) in tree {
        files
            .entry(path.clone())
            .or_default()
            .insert(sha256(contents.as_bytes()));
    }
    let journal = Journal {
        generator: generator(),
        files,
    };
    write_state(dir, JOURNAL, &journal)
}

/// Last: the manifest of the finished render, then the journal goes.
pub fn write_manifest(
    dir: &StackDir,
    files: BTreeMap<String, String>,
    generated_secrets: BTreeSet<String>,
) -> Result<(), WriteError> {
    let manifest = Manifest {
        generator: generator(),
        files,
        generated_secrets,
    };
    write_state(dir, MANIFEST, &manifest)?;
    let journal = dir.root().join(JOURNAL);
    match std::fs::remove_file(&journal) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(WriteError::Io {
            action: "remove",
            path: journal.display().to_string(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn write_state<T: Serialize>(dir: &StackDir, rel: &str, value: &T) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WriteError::Io {
        action: "encode",
        path: rel.into(),
        source: std::io::Error::other(e),
    })? + "\n";
    let path = dir.prepare(rel, 0o755)?;
    atomic::replace(&path, text.as_bytes(), 0o644)?;
    if let Some(parent) = path.parent() {
        atomic::sync_dir(parent);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> String {
        sha256(b"x")
    }

    #[test]
    fn entries_render_could_not_have_written_are_distrusted() {
        let tree: Tree = [("prometheus/prometheus.yml".to_string(), String::new())].into();
        let p = Protected::default();
        for bad in [
            "../x",
            "/etc/passwd",
            "stack.yaml",
            "stack.yaml.bak",
            "secrets/grafana_admin_password",
            ".stackctl/lock",
            "notes/todo.txt",
            "prometheus/../stack.yaml",
            "prometheus//x.yml",
            "prometheus/prometheus.yml.edited",
            "prometheus/.prometheus.yml.stackctl-1.tmp",
        ] {
            assert!(distrust(bad, &hash(), &tree, &p).is_some(), "{bad}");
        }
        for good in [
            "prometheus/prometheus.yml",
            "prometheus/rules/old.yml",
            "grafana/dashboards/x/y.json",
            ".env",
            "kubernetes/values.yaml",
        ] {
            assert_eq!(distrust(good, &hash(), &tree, &p), None, "{good}");
        }
        assert!(distrust("prometheus/prometheus.yml", "abc", &tree, &p).is_some());
    }

    #[test]
    fn generated_paths_are_recognised() {
        for profile in crate::profiles::PROFILES {
            let loaded = crate::load::load_text("stack.yaml", profile.text.to_string());
            let stack = crate::resolve::Resolved::from_loaded(&loaded).expect("profile loads");
            let deployment = crate::plan::plan(&stack, &crate::plan::Inputs::default());
            let tree = crate::render::compose_tree(&deployment);
            let protected = Protected::for_stack(&stack);
            for path in tree.keys() {
                // Judged as if it came from an older render's manifest.
                assert_eq!(
                    distrust(path, &hash(), &Tree::new(), &protected),
                    None,
                    "{}: {path}",
                    profile.name
                );
            }
        }
    }
}
