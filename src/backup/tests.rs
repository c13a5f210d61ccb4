//! Backup and restore on the fake engine: what is stopped and when, what
//! the archive holds, the consistency retry of the live Prometheus copy,
//! and every refusal of restore leaving the stack as it was.

use super::archive::{self, ArchiveError};
use super::manifest::{Manifest, PartKind};
use super::meter::Meter;
use super::parts::data_parts;
use super::restore::{Outcome, check_versions, matched, restore};
use super::save::{Request, backup, partial_path};
use crate::docker::fake::{Fake, FakeFile};
use crate::docker::progress::Recorder;
use crate::docker::up::{Options, up};
use crate::model::types::Version;
use crate::plan::Deployment;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SPEC: &str = r#"
stackctl: 1
name: bk
components:
  prometheus:
    image: test/prometheus
    version: v3.5.3
    ports: {web: 19090}
  alertmanager:
    image: test/alertmanager
    version: v0.33.1
  pushgateway:
    image: test/pushgateway
    version: v1.11.2
alerting:
  route:
    receiver: default
  receivers:
    - name: default
"#;

const IMAGES: [&str; 3] = [
    "test/prometheus:v3.5.3",
    "test/alertmanager:v0.33.1",
    "test/pushgateway:v1.11.2",
];

fn plan(text: &str) -> Deployment {
    let loaded = crate::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    crate::plan::plan(
        &crate::resolve::Resolved::from_loaded(&loaded).expect("stack"),
        &crate::plan::Inputs::default(),
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// The stack up on the fake engine, its volumes filled with data.
fn running(dir: &Path) -> (Fake, Deployment) {
    let d = plan(SPEC);
    for (rel, text) in &d.files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let fake = Fake::with_images(&IMAGES);
    up_again(&fake, &d, dir);
    {
        let mut w = fake.world.borrow_mut();
        let prom = w.data.entry("bk_prometheus_data".into()).or_default();
        prom.insert("01JBLOCK".into(), FakeFile::dir());
        prom.insert(
            "01JBLOCK/meta.json".into(),
            FakeFile::file(b"{\"ulid\":\"01JBLOCK\"}"),
        );
        prom.insert("01JBLOCK/index".into(), FakeFile::file(&[7; 5000]));
        prom.insert("chunks_head".into(), FakeFile::dir());
        prom.insert("chunks_head/000001".into(), FakeFile::file(b"mmapped"));
        prom.insert("queries.active".into(), FakeFile::file(&[0; 100]));
        prom.insert("lock".into(), FakeFile::file(b""));
        prom.insert("wal".into(), FakeFile::dir());
        prom.insert("wal/00000000".into(), FakeFile::file(&[1; 3000]));
        let am = w.data.entry("bk_alertmanager_data".into()).or_default();
        am.insert("silences".into(), FakeFile::file(b"silence-1"));
        am.insert("nflog".into(), FakeFile::file(b""));
        let pg = w.data.entry("bk_pushgateway_data".into()).or_default();
        pg.insert("pushgateway.bin".into(), FakeFile::file(b"pushed"));
    }
    fake.clear_calls();
    (fake, d)
}

fn up_again(fake: &Fake, d: &Deployment, dir: &Path) {
    let opts = Options {
        dir: dir.to_path_buf(),
        wait: Duration::from_secs(3600),
        remove_orphans: false,
        poll: Duration::ZERO,
        preflight_only: false,
    };
    let outcome = rt().block_on(up(fake, d, &opts, &mut Recorder::default()));
    assert!(
        matches!(outcome, Ok(crate::docker::up::Outcome::Up(_))),
        "{outcome:?}"
    );
}

fn components() -> BTreeMap<String, String> {
    [
        ("prometheus", "v3.5.3"),
        ("alertmanager", "v0.33.1"),
        ("pushgateway", "v1.11.2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn run_backup(fake: &Fake, d: &Deployment, out: &Path) -> (anyhow::Result<Manifest>, Vec<String>) {
    let req = Request {
        d,
        out,
        files: vec![
            (
                "stack.yaml".into(),
                PartKind::File,
                SPEC.as_bytes().to_vec(),
                0o644,
            ),
            (
                "secrets/x".into(),
                PartKind::Secret,
                b"hunter2".to_vec(),
                0o600,
            ),
        ],
        components: components(),
        stackctl: "test".into(),
    };
    let mut progress = Recorder::default();
    let result = rt().block_on(backup(fake, req, &mut progress));
    (result, progress.lines)
}

fn verify(path: &Path) -> Result<archive::Verified, ArchiveError> {
    archive::verify(path, &mut Meter::quiet("test"))
}

fn run_restore(fake: &Fake, d: &Deployment, path: &Path, force: bool) -> anyhow::Result<Outcome> {
    let verified = verify(path).expect("a good archive");
    let (parts, problems) = matched(&verified.manifest, d);
    assert!(problems.is_empty(), "{problems:?}");
    rt().block_on(restore(
        fake,
        d,
        path,
        &parts,
        force,
        &mut Recorder::default(),
    ))
}

fn data(fake: &Fake, volume: &str) -> BTreeMap<String, FakeFile> {
    fake.world
        .borrow()
        .data
        .get(volume)
        .cloned()
        .unwrap_or_default()
}

fn archive_path(dir: &Path) -> PathBuf {
    dir.join("backups/bk.tar.zst")
}

#[test]
fn data_parts_come_from_the_catalog_and_the_plan() {
    let d = plan(SPEC);
    let parts: Vec<(String, String, String)> = data_parts(&d)
        .into_iter()
        .map(|p| (p.service, p.volume, p.path))
        .collect();
    assert_eq!(
        parts,
        [
            (
                "prometheus".into(),
                "prometheus_data".into(),
                "/prometheus".into()
            ),
            (
                "alertmanager".into(),
                "alertmanager_data".into(),
                "/alertmanager".into()
            ),
            (
                "pushgateway".into(),
                "pushgateway_data".into(),
                "/data".into()
            ),
        ]
    );
}

#[test]
fn prometheus_is_copied_live_and_the_others_stopped_then_started() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let out = archive_path(dir.path());
    let (manifest, lines) = run_backup(&fake, &d, &out);
    let manifest = manifest.expect("backup");
    assert_eq!(
        fake.calls(),
        [
            "download prometheus /prometheus (running)",
            "stop alertmanager",
            "download alertmanager /alertmanager (exited)",
            "start alertmanager",
            "stop pushgateway",
            "download pushgateway /data (exited)",
            "start pushgateway",
        ]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("prometheus: ") && l.contains("copied live: not paused")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("alertmanager: ") && l.contains("unavailable for")),
        "{lines:?}"
    );
    let prom = manifest.part("volumes/prometheus").unwrap();
    // Blocks and WAL; not the lock, query log or head chunks.
    assert_eq!((prom.entries, prom.bytes), (6, 3000 + 5000 + 19));
    assert_eq!(prom.copy.as_deref(), Some("live"));
    assert_eq!(prom.unavailable_ms, None);
    let am = manifest.part("volumes/alertmanager").unwrap();
    assert_eq!(am.copy.as_deref(), Some("stopped"));
    assert!(am.unavailable_ms.is_some());
    assert_eq!(manifest.stack, "bk");
    assert_eq!(manifest.components, components());
    assert!(manifest.part("stack.yaml").is_some() && manifest.part("secrets/x").is_some());
    assert!(!partial_path(&out).exists());
    // The archive checks out against its own manifest.
    let verified = verify(&out).expect("verified");
    assert_eq!(verified.manifest, manifest);
    assert_eq!(verified.files["secrets/x"], b"hunter2");
}

#[test]
fn a_compaction_during_the_live_copy_takes_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    fake.world.borrow_mut().compactions_during_download = 1;
    let out = dir.path().join("b.tar.zst");
    let (manifest, lines) = run_backup(&fake, &d, &out);
    manifest.expect("second copy is consistent");
    let downloads = fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("download prometheus"))
        .count();
    assert_eq!(downloads, 2);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("compacted during the copy: copying again (2/3)")),
        "{lines:?}"
    );
    verify(&out).expect("verified");
}

#[test]
fn compactions_during_every_copy_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    fake.world.borrow_mut().compactions_during_download = 10;
    let out = dir.path().join("b.tar.zst");
    let (manifest, _) = run_backup(&fake, &d, &out);
    let err = manifest.unwrap_err().to_string();
    assert!(
        err.contains("compacted its TSDB during each of 3 copies"),
        "{err}"
    );
    assert!(!out.exists() && !partial_path(&out).exists());
    // Nothing was stopped for a backup that could not be made.
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("stop")),
        "{:?}",
        fake.calls()
    );
}

#[test]
fn a_failed_copy_starts_the_stopped_service_again_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    fake.world.borrow_mut().download_fails =
        Some(("alertmanager".into(), "no space left on device".into()));
    let (manifest, _) = run_backup(&fake, &d, &out);
    let err = format!("{:#}", manifest.unwrap_err());
    assert!(err.contains("no space left on device"), "{err}");
    assert!(!out.exists() && !partial_path(&out).exists());
    assert_eq!(
        fake.calls(),
        [
            "download prometheus /prometheus (running)",
            "stop alertmanager",
            "start alertmanager",
        ]
    );
    assert_eq!(fake.container("alertmanager").unwrap().state, "running");
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    std::fs::write(&out, "precious").unwrap();
    let (manifest, _) = run_backup(&fake, &d, &out);
    assert!(manifest.unwrap_err().to_string().contains("exists already"));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    assert!(fake.calls().is_empty());
}

#[test]
fn restore_refuses_volumes_with_data_without_force_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    run_backup(&fake, &d, &out).0.unwrap();
    fake.clear_calls();
    let ids = fake.ids();
    let outcome = run_restore(&fake, &d, &out, false).unwrap();
    let Outcome::Refused(problems) = outcome else {
        panic!("expected a refusal, got {outcome:?}")
    };
    let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    assert_eq!(text.len(), 3, "{text:?}");
    assert!(
        text[0]
            .contains("volume `bk_prometheus_data` of `prometheus` holds data (`01JBLOCK/index`"),
        "{text:?}"
    );
    // Only reads.
    assert!(
        fake.calls().iter().all(|c| c.starts_with("download")),
        "{:?}",
        fake.calls()
    );
    assert_eq!(fake.ids(), ids);
}

#[test]
fn restore_replaces_the_volumes_and_up_brings_the_services_back() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let before_prom = data(&fake, "bk_prometheus_data");
    let before_am = data(&fake, "bk_alertmanager_data");
    let out = dir.path().join("b.tar.zst");
    run_backup(&fake, &d, &out).0.unwrap();
    // What happens after the backup: a new WAL segment, a silence expires.
    {
        let mut w = fake.world.borrow_mut();
        let prom = w.data.get_mut("bk_prometheus_data").unwrap();
        prom.insert("wal/00000001".into(), FakeFile::file(b"after"));
        let am = w.data.get_mut("bk_alertmanager_data").unwrap();
        am.insert("silences".into(), FakeFile::file(b"none left"));
    }
    fake.clear_calls();
    let outcome = run_restore(&fake, &d, &out, true).unwrap();
    let Outcome::Restored { removed, .. } = outcome else {
        panic!("expected a restore, got {outcome:?}")
    };
    assert_eq!(removed, ["prometheus", "alertmanager", "pushgateway"]);
    let calls = fake.calls();
    let pos = |call: &str| {
        calls
            .iter()
            .position(|c| c == call)
            .unwrap_or_else(|| panic!("{call} in {calls:?}"))
    };
    assert!(pos("remove prometheus") < pos("remove volume bk_prometheus_data"));
    assert!(pos("remove volume bk_prometheus_data") < pos("create volume bk_prometheus_data"));
    assert!(pos("create prometheus-restore") < pos("upload prometheus-restore /prometheus"));
    assert!(pos("upload prometheus-restore /prometheus") < pos("remove prometheus-restore"));
    // Prometheus's data as backed up, less what a copy leaves out.
    let mut expected = before_prom.clone();
    for skipped in [
        "chunks_head",
        "chunks_head/000001",
        "queries.active",
        "lock",
    ] {
        expected.remove(skipped);
    }
    assert_eq!(data(&fake, "bk_prometheus_data"), expected);
    assert_eq!(data(&fake, "bk_alertmanager_data"), before_am);
    // No holder container is left; up recreates the services.
    assert!(fake.ids().is_empty(), "{:?}", fake.ids());
    up_again(&fake, &d, dir.path());
    assert_eq!(fake.ids().len(), 3);
}

#[test]
fn restore_into_a_stack_without_containers_or_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let before = data(&fake, "bk_pushgateway_data");
    let out = dir.path().join("b.tar.zst");
    run_backup(&fake, &d, &out).0.unwrap();
    let down = rt().block_on(crate::docker::down::down(
        &fake,
        "bk",
        &d.volumes,
        true,
        &mut Recorder::default(),
    ));
    down.unwrap();
    assert!(fake.world.borrow().data.is_empty());
    let outcome = run_restore(&fake, &d, &out, false).unwrap();
    assert!(matches!(outcome, Outcome::Restored { .. }), "{outcome:?}");
    assert_eq!(data(&fake, "bk_pushgateway_data"), before);
}

#[test]
fn a_corrupted_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    run_backup(&fake, &d, &out).0.unwrap();
    let mut bytes = std::fs::read(&out).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let bad = dir.path().join("bad.tar.zst");
    std::fs::write(&bad, &bytes).unwrap();
    let err = verify(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("`{}` is damaged", bad.display())),
        "{err}"
    );
    // Cut short: no manifest.
    let cut = dir.path().join("cut.tar.zst");
    std::fs::write(&cut, &bytes[..middle]).unwrap();
    assert!(verify(&cut).unwrap_err().to_string().contains("is damaged"));
    let missing = verify(&dir.path().join("none.tar.zst"))
        .unwrap_err()
        .to_string();
    assert!(missing.starts_with("cannot read"), "{missing}");
}

/// Rewrites an archive (decompressed, edited, compressed again): what a
/// tampered or differently damaged file looks like to the checker.
/// Entry path and contents → the new contents, or `None` to leave it out.
type Edit<'a> = &'a dyn Fn(&str, Vec<u8>) -> Option<Vec<u8>>;

fn rewrite(from: &Path, to: &Path, edit: Edit<'_>) {
    let input = zstd::stream::read::Decoder::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut archive = tar::Archive::new(input);
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        let Some(data) = edit(&path, data) else {
            continue;
        };
        let mut h = entry.header().clone();
        h.set_size(data.len() as u64);
        out.append_data(&mut h, &path, data.as_slice()).unwrap();
    }
    let tar = out.into_inner().unwrap();
    std::fs::write(to, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

#[test]
fn a_part_that_does_not_match_its_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    run_backup(&fake, &d, &out).0.unwrap();
    let changed = dir.path().join("changed.tar.zst");
    rewrite(&out, &changed, &|path, data| {
        Some(if path == "volumes/alertmanager/silences" {
            b"silence-2".to_vec()
        } else {
            data
        })
    });
    let err = verify(&changed).unwrap_err().to_string();
    assert!(
        err.contains("part `volumes/alertmanager` does not match its manifest"),
        "{err}"
    );
    let dropped = dir.path().join("dropped.tar.zst");
    rewrite(&out, &dropped, &|path, data| {
        (!path.starts_with("volumes/pushgateway")).then_some(data)
    });
    let err = verify(&dropped).unwrap_err().to_string();
    assert!(
        err.contains("part `volumes/pushgateway` listed in its manifest is missing"),
        "{err}"
    );
    let unlisted = dir.path().join("unlisted.tar.zst");
    rewrite(&out, &unlisted, &|path, data| {
        if path != "manifest.json" {
            return Some(data);
        }
        let mut m: Manifest = serde_json::from_slice(&data).unwrap();
        m.parts.retain(|p| p.name != "volumes/pushgateway");
        Some(serde_json::to_vec(&m).unwrap())
    });
    let err = verify(&unlisted).unwrap_err().to_string();
    assert!(
        err.contains("`volumes/pushgateway` is not listed in its manifest"),
        "{err}"
    );
    let same = dir.path().join("same.tar.zst");
    rewrite(&out, &same, &|_, data| Some(data));
    verify(&same).expect("an unchanged rewrite still verifies");
}

#[test]
fn a_prometheus_tsdb_from_a_newer_major_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    let manifest = run_backup(&fake, &d, &out).0.unwrap();
    let (parts, problems) = matched(&manifest, &d);
    assert!(problems.is_empty());
    let pin = |p: &str, a: &str| -> BTreeMap<String, Version> {
        [
            ("prometheus".to_string(), Version::parse(p).unwrap()),
            ("alertmanager".to_string(), Version::parse(a).unwrap()),
        ]
        .into()
    };
    let (problems, warnings) = check_versions(&manifest, &parts, &pin("v2.42.0", "v0.33.1"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains(
            "written by Prometheus v3.5.3, a newer major release than the pinned v2.42.0"
        ),
        "{:?}",
        problems[0]
    );
    assert!(warnings.is_empty());
    // A newer minor of the same major, or an older archive: fine.
    assert!(
        check_versions(&manifest, &parts, &pin("v3.1.0", "v0.33.1"))
            .0
            .is_empty()
    );
    assert!(
        check_versions(&manifest, &parts, &pin("v4.0.0", "v0.33.1"))
            .0
            .is_empty()
    );
    // Other components: a warning only.
    let (problems, warnings) = check_versions(&manifest, &parts, &pin("v3.5.3", "v0.25.0"));
    assert!(problems.is_empty());
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .contains("`alertmanager`'s data comes from v0.33.1, newer than the pinned v0.25.0")
    );
}

#[test]
fn parts_the_spec_does_not_run_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (fake, d) = running(dir.path());
    let out = dir.path().join("b.tar.zst");
    let manifest = run_backup(&fake, &d, &out).0.unwrap();
    let without = plan(&SPEC.replace(
        "  pushgateway:\n    image: test/pushgateway\n    version: v1.11.2\n",
        "",
    ));
    let (parts, problems) = matched(&manifest, &without);
    assert_eq!(parts.len(), 2);
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message,
        "the archive holds data of `pushgateway`, which the spec does not run"
    );
}

#[test]
fn grafana_and_loki_are_stopped_for_their_copy() {
    let d = plan(
        "stackctl: 1\nname: gl\nsecrets:\n  grafana_admin_password: {}\n  grafana_secret_key: {}\ncomponents:\n  prometheus: {}\n  grafana: {}\n  loki: {}\n",
    );
    let parts: Vec<(String, String, super::parts::How)> = data_parts(&d)
        .into_iter()
        .map(|p| (p.service, p.path, p.how))
        .collect();
    use super::parts::How::{Live, Stopped};
    assert_eq!(
        parts,
        [
            ("prometheus".into(), "/prometheus".into(), Live),
            ("grafana".into(), "/var/lib/grafana".into(), Stopped),
            ("loki".into(), "/loki".into(), Stopped),
        ]
    );
}
