//! Render in a hostile tree: a tampered manifest, planted symlinks (temp files,
//! `.edited` copies, `stack.yaml.bak`, whole directories), stale temp files,
//! concurrent renders, and renders killed with SIGKILL at random points.
//! Whatever the tree holds, nothing outside the stack directory changes, and
//! every file is either what it was or what render meant to write.

use crate::common;

use common::{path_str, run, stackctl};
use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn render(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["render", "--dir", path_str(dir)];
    args.extend_from_slice(extra);
    run(&args)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha(text: &str) -> String {
    stackctl::render::sha256(text.as_bytes())
}

/// A scratch root holding the stack directory `stack/` (from `profile`) and,
/// beside it, `outside/`, which no command may ever change.
struct Scene {
    _root: tempfile::TempDir,
    stack: PathBuf,
    outside: PathBuf,
}

fn scene(profile: &str) -> Scene {
    let root = tempfile::tempdir().unwrap();
    let stack = root.path().join("stack");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let (code, _, err) = run(&["init", "--profile", profile, "--dir", path_str(&stack)]);
    assert_eq!(code, 0, "{err}");
    Scene {
        _root: root,
        stack,
        outside,
    }
}

/// Every entry under `dir` (files, links, directories) with what it holds,
/// links not followed: a fingerprint to prove a directory did not change.
fn fingerprint(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, format!("link -> {}", target.display()));
            } else if meta.is_dir() {
                out.insert(rel, format!("dir {mode:o}"));
                walk(root, &path, out);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.insert(rel, format!("file {mode:o} {text}"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn manifest_files(dir: &Path) -> BTreeMap<String, String> {
    let text = read(&dir.join(".stackctl/manifest.json"));
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("manifest is not JSON: {e}\n{text}"));
    json["files"]
        .as_object()
        .unwrap_or_else(|| panic!("manifest has no `files`: {text}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn write_manifest(dir: &Path, files: &BTreeMap<String, String>) {
    let json = serde_json::json!({ "generator": "stackctl 0.1.0", "files": files });
    std::fs::write(
        dir.join(".stackctl/manifest.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
}

/// Every file the manifest lists exists with the recorded hash.
fn assert_tree_matches_manifest(dir: &Path) {
    for (path, hash) in manifest_files(dir) {
        let full = dir.join(&path);
        let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            stackctl::render::sha256(&bytes),
            hash,
            "{path} differs from the manifest"
        );
    }
}

fn temp_leftovers(dir: &Path) -> Vec<String> {
    common::list_files(dir)
        .into_iter()
        .filter(|f| f.contains(".stackctl-") && f.ends_with(".tmp"))
        .collect()
}

// Item 1: the manifest is untrusted input.
#[test]
fn a_tampered_manifest_never_deletes_what_render_could_not_have_written() {
    let s = scene("minimal");
    assert_eq!(render(&s.stack, &[]).0, 0);
    // Files a tampered manifest points at, each listed with its true hash.
    std::fs::create_dir_all(s.outside.join("sub")).unwrap();
    let victims: Vec<(String, PathBuf)> = vec![
        (
            "../outside/sub/victim.txt".into(),
            s.outside.join("sub/victim.txt"),
        ),
        (
            s.outside.join("abs.txt").display().to_string(),
            s.outside.join("abs.txt"),
        ),
        ("stack.yaml".into(), s.stack.join("stack.yaml")),
        (
            "secrets/grafana_admin_password".into(),
            s.stack.join("secrets/grafana_admin_password"),
        ),
        (".stackctl/notes".into(), s.stack.join(".stackctl/notes")),
        ("notes/todo.txt".into(), s.stack.join("notes/todo.txt")),
        ("prometheus/../docs.txt".into(), s.stack.join("docs.txt")),
        (
            "./prometheus//x.yml".into(),
            s.stack.join("prometheus/x.yml"),
        ),
    ];
    let mut files = manifest_files(&s.stack);
    for (entry, path) in &victims {
        if !path.exists() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, format!("precious {entry}\n")).unwrap();
        }
        files.insert(entry.clone(), sha(&read(path)));
    }
    write_manifest(&s.stack, &files);
    let before: Vec<String> = victims.iter().map(|(_, p)| read(p)).collect();
    let outside_before = fingerprint(&s.outside);

    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    for ((entry, path), text) in victims.iter().zip(&before) {
        assert!(
            path.exists(),
            "render deleted `{entry}` listed in a tampered manifest"
        );
        assert_eq!(&read(path), text, "{entry}");
        assert!(
            stderr.contains(&format!("ignored manifest entry `{entry}`")),
            "`{entry}` not reported:\n{stderr}"
        );
    }
    assert_eq!(fingerprint(&s.outside), outside_before);
    // The ignored entries are not carried into the new manifest.
    let after = manifest_files(&s.stack);
    for (entry, _) in &victims {
        assert!(!after.contains_key(entry), "{entry} kept in the manifest");
    }
    assert_tree_matches_manifest(&s.stack);
}

// Item 1: a generated credential is never rotated behind the user's back.
#[test]
fn a_deleted_generated_password_is_not_silently_regenerated() {
    let s = scene("minimal");
    assert_eq!(render(&s.stack, &[]).0, 0);
    let password = s.stack.join("secrets/grafana_admin_password");
    std::fs::remove_file(&password).unwrap();
    let spec =
        read(&s.stack.join("stack.yaml")).replace("retention_time: 15d", "retention_time: 20d");
    std::fs::write(s.stack.join("stack.yaml"), spec).unwrap();
    let compose = read(&s.stack.join("docker-compose.monitoring.yml"));

    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("`secrets/grafana_admin_password` is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!password.exists(), "the password was regenerated");
    assert_eq!(
        read(&s.stack.join("docker-compose.monitoring.yml")),
        compose
    );

    // Asked for explicitly, a new one is generated and said loudly.
    let (code, _, stderr) = render(&s.stack, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: generated a new `grafana_admin_password`"),
        "{stderr}"
    );
    assert_eq!(read(&password).len(), 32);
}

/// Pids the next processes will most likely get (Linux hands them out in order).
fn upcoming_pids(count: u32) -> Vec<u32> {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(32768);
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(std::process::id);
    (1..=count)
        .map(|i| (last + i) % max)
        .filter(|p| *p > 300)
        .collect()
}

// Item 2: temp files are created exclusively and never through a link.
#[test]
fn planted_temp_file_symlinks_are_never_followed_or_chmodded() {
    let s = scene("minimal");
    let victim = s.outside.join("victim");
    std::fs::write(&victim, "victim\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::create_dir_all(s.stack.join("prometheus")).unwrap();
    // The names the old writer predicted: `.NAME.stackctl-PID.tmp`.
    for pid in upcoming_pids(3000) {
        for (dir, name) in [
            (s.stack.clone(), "docker-compose.monitoring.yml"),
            (s.stack.join("prometheus"), "prometheus.yml"),
        ] {
            symlink(&victim, dir.join(format!(".{name}.stackctl-{pid}.tmp"))).unwrap();
        }
    }
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        read(&victim),
        "victim\n",
        "render wrote through a planted link"
    );
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o600,
        "render chmodded through a planted link"
    );
    let compose = std::fs::symlink_metadata(s.stack.join("docker-compose.monitoring.yml")).unwrap();
    assert!(compose.is_file());
    assert!(read(&s.stack.join("docker-compose.monitoring.yml")).contains("services:"));
}

// Item 2: `--force` keeps every edited copy, and never writes through a link.
#[test]
fn edited_copies_never_follow_links_and_never_replace_each_other() {
    let s = scene("minimal");
    assert_eq!(render(&s.stack, &[]).0, 0);
    let file = s.stack.join("prometheus/prometheus.yml");
    let victim = s.outside.join("victim");
    std::fs::write(&victim, "victim\n").unwrap();
    symlink(&victim, s.stack.join("prometheus/prometheus.yml.edited")).unwrap();

    let first = read(&file) + "# first edit\n";
    std::fs::write(&file, &first).unwrap();
    let (code, _, stderr) = render(&s.stack, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        read(&victim),
        "victim\n",
        "the edited copy went through a link"
    );
    let second = read(&file) + "# second edit\n";
    std::fs::write(&file, &second).unwrap();
    let (code, _, stderr2) = render(&s.stack, &["--force"]);
    assert_eq!(code, 0, "{stderr2}");
    assert_eq!(read(&victim), "victim\n");
    assert!(
        std::fs::symlink_metadata(s.stack.join("prometheus/prometheus.yml.edited"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Both versions survive, each in the copy render named.
    let kept: Vec<String> = std::fs::read_dir(s.stack.join("prometheus"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| read(&e.path()))
        .collect();
    assert!(kept.contains(&first), "first edit lost: {stderr}");
    assert!(kept.contains(&second), "second edit lost: {stderr2}");
    for (out, text) in [(&stderr, &first), (&stderr2, &second)] {
        let name = out
            .split("your version kept as ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or_else(|| panic!("no copy named: {out}"));
        assert_eq!(&read(&s.stack.join(name)), text, "{out}");
    }
}

// Item 2: `init --force` backs up without following a planted link.
#[test]
fn init_force_backs_up_without_following_a_link() {
    let s = scene("minimal");
    let victim = s.outside.join("victim");
    std::fs::write(&victim, "victim\n").unwrap();
    symlink(&victim, s.stack.join("stack.yaml.bak")).unwrap();
    let mut kept = Vec::new();
    for round in 0..2 {
        let spec = read(&s.stack.join("stack.yaml")) + &format!("# round {round}\n");
        std::fs::write(s.stack.join("stack.yaml"), &spec).unwrap();
        let (code, _, stderr) = run(&[
            "init",
            "--profile",
            "minimal",
            "--dir",
            path_str(&s.stack),
            "--force",
        ]);
        assert_eq!(code, 0, "{stderr}");
        let backup = stderr
            .split("kept the previous spec as ")
            .nth(1)
            .and_then(|r| r.lines().next())
            .unwrap_or_else(|| panic!("{stderr}"));
        assert_eq!(read(Path::new(backup)), spec);
        kept.push(backup.to_string());
    }
    assert_ne!(kept[0], kept[1], "the second backup replaced the first");
    assert_eq!(read(&victim), "victim\n");
}

// Item 3: directories that are links leading out are refused.
#[test]
fn symlinked_directories_leading_out_are_refused_with_exit_2() {
    for link in ["prometheus", ".stackctl", "grafana/dashboards/general"] {
        let s = scene("minimal");
        let target = s.outside.join("target");
        std::fs::create_dir_all(&target).unwrap();
        let at = s.stack.join(link);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        // `init` already made `.stackctl/` (for its lock): swap it for the link.
        if at.is_dir() {
            std::fs::remove_dir_all(&at).unwrap();
        }
        symlink(&target, &at).unwrap();
        let before = fingerprint(&s.outside);
        for extra in [&[][..], &["--force"][..]] {
            let (code, _, stderr) = render(&s.stack, extra);
            assert_eq!(code, 2, "{link}: {stderr}");
            assert!(
                stderr.contains(&format!("`{link}` is a symbolic link")),
                "{link}: {stderr}"
            );
            assert!(stderr.contains("outside the stack directory"), "{stderr}");
            assert_eq!(fingerprint(&s.outside), before, "{link}: wrote outside");
            assert!(!s.stack.join("docker-compose.monitoring.yml").exists());
        }
    }
}

#[test]
fn a_symlinked_directory_that_stays_inside_is_followed() {
    let s = scene("minimal");
    std::fs::create_dir_all(s.stack.join("config/prometheus")).unwrap();
    symlink("config/prometheus", s.stack.join("prometheus")).unwrap();
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(read(&s.stack.join("config/prometheus/prometheus.yml")).contains("scrape_configs"));
    assert_tree_matches_manifest(&s.stack);
}

// Item 4: temp files of renders that died are cleaned, others' files are not.
#[test]
fn stale_temp_files_of_dead_renders_are_cleaned() {
    let s = scene("minimal");
    assert_eq!(render(&s.stack, &[]).0, 0);
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let dead = child.id();
    let stale = [
        format!(".docker-compose.monitoring.yml.stackctl-{dead}.tmp"),
        format!("prometheus/.prometheus.yml.stackctl-{dead}.tmp"),
        format!("prometheus/.prometheus.yml.stackctl-{dead}-3f9a0c.tmp"),
        format!(".stackctl/.manifest.json.stackctl-{dead}-0a1b2c.tmp"),
    ];
    for f in &stale {
        std::fs::write(s.stack.join(f), "half written").unwrap();
    }
    let spec =
        read(&s.stack.join("stack.yaml")).replace("retention_time: 15d", "retention_time: 20d");
    std::fs::write(s.stack.join("stack.yaml"), spec).unwrap();
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(temp_leftovers(&s.stack), Vec::<String>::new(), "{stderr}");
}

// Item 5 (without the lock API, so it also runs against an old build): two
// renders of one directory with different specs must leave tree = manifest.
#[test]
fn concurrent_renders_leave_the_tree_equal_to_the_manifest() {
    let s = scene("minimal");
    let spec = s.stack.join("stack.yaml");
    let a = read(&spec);
    let b = a
        .replace("retention_time: 15d", "retention_time: 30d")
        .replace(
            "  grafana:\n    version: 13.2.0\n",
            "  grafana:\n    enabled: false\n    version: 13.2.0\n",
        );
    let b = b.split("\ndashboards:\n").next().unwrap().to_string() + "\n";
    for round in 0..12u64 {
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        std::fs::write(&spec, first).unwrap();
        let one = stackctl()
            .args(["render", "--dir", path_str(&s.stack)])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + round * 7 % 40));
        let tmp = s.stack.join("stack.yaml.new");
        std::fs::write(&tmp, second).unwrap();
        std::fs::rename(&tmp, &spec).unwrap();
        let two = stackctl()
            .args(["render", "--dir", path_str(&s.stack)])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        for child in [one, two] {
            let out = child.wait_with_output().unwrap();
            let code = out.status.code().unwrap_or(-1);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                code == 0 || (code == 2 && err.contains("is locked")),
                "round {round}: exit {code}: {err}"
            );
        }
        assert_tree_matches_manifest(&s.stack);
        // And nothing the manifest does not know is left in the tree.
        let (code, _, stderr) = render(&s.stack, &[]);
        assert_eq!(code, 0, "round {round}: {stderr}");
    }
}

/// A small deterministic generator (SplitMix64): the same seed, the same kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn spawn_render(dir: &Path) -> std::process::Child {
    stackctl()
        .args(["render", "--dir", path_str(dir)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The files a spec renders to, from a clean directory: relative path → contents.
fn rendered(spec: &str) -> BTreeMap<String, String> {
    let s = scene("minimal");
    std::fs::write(s.stack.join("stack.yaml"), spec).unwrap();
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    common::list_files(&s.stack)
        .into_iter()
        .filter(|f| f != "stack.yaml" && !f.starts_with("secrets/") && !f.starts_with(".stackctl/"))
        .map(|f| {
            let text = read(&s.stack.join(&f));
            (f, text)
        })
        .collect()
}

// Item 4 and "done means": SIGKILL at random points of a render.
#[test]
fn renders_killed_at_random_points_leave_old_or_new_files() {
    const ROUNDS: usize = 80;
    let s = scene("minimal");
    let base = read(&s.stack.join("stack.yaml"));
    // Three specs that differ in files updated, created and removed.
    let specs = [
        base.clone(),
        base.replace("retention_time: 15d", "retention_time: 30d")
            .replace(
                "  grafana:\n    version: 13.2.0\n",
                "  grafana:\n    enabled: false\n    version: 13.2.0\n",
            )
            .split("\ndashboards:\n")
            .next()
            .unwrap()
            .to_string()
            + "\n",
        base.replace("retention_time: 15d", "retention_time: 7d")
            .replace("severity: critical", "severity: page"),
    ];
    let trees: Vec<BTreeMap<String, String>> = specs.iter().map(|s| rendered(s)).collect();
    assert_ne!(trees[0], trees[1]);
    assert_ne!(trees[0], trees[2]);

    // How long one render takes here (the fastest of three), so kill points
    // spread over all of it, half of them over its last part, where it writes.
    let mut span = u64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(render(&s.stack, &[]).0, 0);
        span = span.min(started.elapsed().as_micros() as u64 + 1);
    }

    let mut rng = Rng(0x5eed_0009);
    let (mut killed, mut torn) = (0, 0);
    let test_started = Instant::now();
    for round in 0..ROUNDS {
        let want = (rng.next() % specs.len() as u64) as usize;
        std::fs::write(s.stack.join("stack.yaml"), &specs[want]).unwrap();
        let before: BTreeMap<String, Option<String>> = trees[want]
            .keys()
            .map(|f| (f.clone(), std::fs::read_to_string(s.stack.join(f)).ok()))
            .collect();
        let delay = if rng.next() % 2 == 0 {
            rng.next() % span
        } else {
            span / 2 + rng.next() % (span / 2 + 1)
        };
        let mut child = spawn_render(&s.stack);
        std::thread::sleep(Duration::from_micros(delay));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        let (mut old, mut new) = (0, 0);
        for (f, text) in &trees[want] {
            let now = std::fs::read_to_string(s.stack.join(f)).ok();
            if now.as_ref() != Some(text) {
                old += 1;
            } else if before[f].as_ref() != Some(text) {
                new += 1;
            }
        }
        if old > 0 && new > 0 {
            torn += 1;
        }

        // Every file of the wanted tree is what it was, or what render meant to write.
        for (f, new) in &trees[want] {
            let now = std::fs::read_to_string(s.stack.join(f)).ok();
            assert!(
                now.as_ref() == Some(new) || now == before[f],
                "round {round} (killed after {delay}µs): `{f}` is neither old nor new"
            );
        }
        // The manifest, when there is one, is always whole.
        let _ = manifest_files(&s.stack);
        // Every few rounds, a render that is not killed must succeed.
        if round % 5 == 4 {
            let next = (want + 1) % specs.len();
            std::fs::write(s.stack.join("stack.yaml"), &specs[next]).unwrap();
            let (code, _, stderr) = render(&s.stack, &[]);
            assert_eq!(
                code, 0,
                "round {round}: the render after a kill failed: {stderr}"
            );
            for (f, text) in &trees[next] {
                assert_eq!(&read(&s.stack.join(f)), text, "round {round}: {f}");
            }
            assert_tree_matches_manifest(&s.stack);
            assert_eq!(temp_leftovers(&s.stack), Vec::<String>::new());
        }
    }
    eprintln!(
        "{ROUNDS} renders ({span}µs each), {killed} killed mid-run, {torn} of them while writing, in {:.1}s",
        test_started.elapsed().as_secs_f64()
    );
    assert!(
        killed >= ROUNDS / 4,
        "only {killed} of {ROUNDS} renders were killed"
    );
    // A changed spec renders cleanly at the end, whatever the kills left.
    std::fs::write(s.stack.join("stack.yaml"), &specs[2]).unwrap();
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_tree_matches_manifest(&s.stack);
    assert_eq!(temp_leftovers(&s.stack), Vec::<String>::new());
}

// Item 4, "disk full": a render whose writes start failing halfway (here the
// file-size limit, which makes write(2) fail with EFBIG once a file would
// pass 3 KiB) leaves no temp file, and the next render of a changed spec works.
#[test]
fn a_render_that_runs_out_of_space_halfway_does_not_poison_the_next() {
    let s = scene("minimal");
    assert_eq!(render(&s.stack, &[]).0, 0);
    let spec = s.stack.join("stack.yaml");
    let base = read(&spec);
    // A new name changes `.env` (written first) and the Compose file (too big).
    std::fs::write(
        &spec,
        base.replace("\nname: minimal\n", "\nname: renamed\n"),
    )
    .unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 6; exec \"$0\" render --dir \"$1\"")
        .arg(env!("CARGO_BIN_EXE_stackctl"))
        .arg(&s.stack)
        .output()
        .unwrap();
    let (code, _, stderr) = common::decode(out);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains("docker-compose.monitoring.yml"),
        "{stderr}"
    );
    assert!(
        read(&s.stack.join(".env")).contains("renamed"),
        "nothing was written before the failure"
    );
    assert_eq!(temp_leftovers(&s.stack), Vec::<String>::new());

    std::fs::write(
        &spec,
        base.replace("retention_time: 15d", "retention_time: 9d"),
    )
    .unwrap();
    let (code, _, stderr) = render(&s.stack, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(read(&s.stack.join(".env")).contains("minimal"));
    assert!(read(&s.stack.join("docker-compose.monitoring.yml")).contains("retention.time=9d"));
    assert_tree_matches_manifest(&s.stack);
}

// Item 2/3: a link planted at a target path itself is not ours: left alone.
#[test]
fn a_link_at_a_target_path_is_never_written_through_or_replaced() {
    let s = scene("minimal");
    let victim = s.outside.join("victim.yml");
    std::fs::write(&victim, "victim\n").unwrap();
    std::fs::create_dir_all(s.stack.join("prometheus")).unwrap();
    let at = s.stack.join("prometheus/prometheus.yml");
    symlink(&victim, &at).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let (code, _, stderr) = render(&s.stack, extra);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("`prometheus/prometheus.yml` exists and was not written by stackctl"),
            "{stderr}"
        );
        assert_eq!(read(&victim), "victim\n");
        assert!(
            std::fs::symlink_metadata(&at)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
