//! Files of the stack directory for a remote engine: it cannot bind-mount
//! this machine's paths (the docker CLI and Compose have the same limit), so
//! a container's bind mounts from the stack directory become one tar archive
//! extracted into the created container before it starts — the configs and
//! secret files land at the same paths the mounts would have put them.
//! Mounts of the engine host's own paths (`/proc`, `/sys`, …) stay mounts.

use super::engine::{BindMount, ContainerSpec};
use std::path::Path;

/// Splits off the bind mounts whose source lies in `local_root` (the stack
/// directory): the spec keeps the others, the caller copies these.
pub fn take_local(spec: &mut ContainerSpec, local_root: &Path) -> Vec<BindMount> {
    let (local, keep): (Vec<BindMount>, Vec<BindMount>) = std::mem::take(&mut spec.bind_mounts)
        .into_iter()
        .partition(|m| Path::new(&m.source).starts_with(local_root));
    spec.bind_mounts = keep;
    local
}

/// The archive (extracted at `/`) holding each mount's file or directory
/// tree at its target path, with the parent directories. Symbolic links are
/// not followed out of the tree: only regular files and directories go in.
pub fn archive(mounts: &[BindMount]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for m in mounts {
        let target = m.target.trim_start_matches('/');
        let mut parent = Path::new(target).parent();
        let mut parents = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            parents.push(p.to_path_buf());
            parent = p.parent();
        }
        for p in parents.into_iter().rev() {
            if dirs.insert(p.clone()) {
                append_dir(&mut b, &p, 0o755)?;
            }
        }
        add(&mut b, Path::new(&m.source), Path::new(target), &mut dirs)?;
    }
    b.into_inner()
}

fn add(
    b: &mut tar::Builder<Vec<u8>>,
    source: &Path,
    target: &Path,
    dirs: &mut std::collections::BTreeSet<std::path::PathBuf>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(source)?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        if dirs.insert(target.to_path_buf()) {
            append_dir(b, target, mode)?;
        }
        let mut entries: Vec<_> = std::fs::read_dir(source)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            add(b, &e.path(), &target.join(e.file_name()), dirs)?;
        }
    } else if meta.is_file() {
        let data = std::fs::read(source)?;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        b.append_data(&mut h, target, data.as_slice())?;
    }
    Ok(())
}

fn append_dir(b: &mut tar::Builder<Vec<u8>>, path: &Path, mode: u32) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    h.set_mtime(0);
    b.append_data(&mut h, path, std::io::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_mounts_become_an_archive_at_their_targets() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("blackbox")).unwrap();
        std::fs::write(root.join("blackbox/config.yml"), "modules: {}\n").unwrap();
        std::fs::create_dir_all(root.join("prometheus/rules")).unwrap();
        std::fs::write(root.join("prometheus/rules/a.yml"), "groups: []\n").unwrap();
        let mount = |source: String, target: &str| BindMount {
            source,
            target: target.into(),
            read_only: true,
        };
        let mut spec = ContainerSpec {
            bind_mounts: vec![
                mount("/proc".into(), "/host/proc"),
                mount(
                    root.join("blackbox/config.yml").display().to_string(),
                    "/etc/blackbox_exporter/config.yml",
                ),
                mount(
                    root.join("prometheus").display().to_string(),
                    "/etc/prometheus",
                ),
            ],
            ..Default::default()
        };
        let local = take_local(&mut spec, root);
        assert_eq!(spec.bind_mounts.len(), 1);
        assert_eq!(spec.bind_mounts[0].source, "/proc");
        let tar = archive(&local).unwrap();
        let mut a = tar::Archive::new(tar.as_slice());
        let mut seen = Vec::new();
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().display().to_string();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut e, &mut text).unwrap();
            seen.push((path, text));
        }
        let names: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "etc",
                "etc/blackbox_exporter",
                "etc/blackbox_exporter/config.yml",
                "etc/prometheus",
                "etc/prometheus/rules",
                "etc/prometheus/rules/a.yml"
            ]
        );
        assert_eq!(seen[2].1, "modules: {}\n");
        assert_eq!(seen[5].1, "groups: []\n");
    }
}
