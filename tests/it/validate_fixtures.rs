//! `stackctl validate` on one-mistake fixtures: `tests/fixtures/validate/bad/NAME.yaml`
//! reports exactly the diagnostics in its snapshot and fails (exit 1, with
//! `--deny-warnings` for warnings); every `good/NAME.yaml` passes, even with
//! `--deny-warnings`. Each bad fixture names (`# good: NAME`) the good fixture
//! that shows the same check passing.
//!
//! Snapshots live in `tests/fixtures/validate/snapshots`; after an intended
//! change, review the diff of `INSTA_UPDATE=always cargo test --test it validate_fixtures::`.

use crate::common;

use std::path::{Path, PathBuf};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

fn name(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// A stack directory with the fixture as `stack.yaml` and a value in every
/// declared secret file (except where the fixture is about a missing one).
fn stack_dir(fixture: &Path) -> tempfile::TempDir {
    let text = std::fs::read_to_string(fixture).expect("fixture");
    let dir = common::spec_dir(&text);
    if name(fixture) == "secret-file-missing" {
        return dir;
    }
    let loaded = stackctl::load::load_text("stack.yaml", text);
    if let Some(stack) = loaded.stack {
        for secret in stack.secrets.keys() {
            let path = dir
                .path()
                .join(stackctl::check::files::secret_file(&stack, secret));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "fixture-value").unwrap();
        }
    }
    dir
}

fn validate(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["validate"];
    args.extend_from_slice(extra);
    common::run_in(dir, &args)
}

#[test]
fn bad_fixtures_report_their_mistake() {
    for fixture in fixtures("bad") {
        let name = name(&fixture);
        let dir = stack_dir(&fixture);
        let (code, stdout, stderr) = validate(dir.path(), &[]);
        assert!(stdout.is_empty(), "{name}: text output goes to stderr");
        let errors = stderr.lines().filter(|l| l.contains(": error: ")).count();
        let warnings = stderr.lines().filter(|l| l.contains(": warning: ")).count();
        assert!(errors + warnings > 0, "{name}: reported nothing:\n{stderr}");
        assert_eq!(code, if errors > 0 { 1 } else { 0 }, "{name}:\n{stderr}");
        let (strict, _, _) = validate(dir.path(), &["--deny-warnings"]);
        assert_eq!(strict, 1, "{name}: --deny-warnings must fail");
        insta::with_settings!({
            snapshot_path => "../fixtures/validate/snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("stackctl validate on bad/{name}.yaml"),
        }, {
            insta::assert_snapshot!(name.clone(), stderr);
        });
    }
}

#[test]
fn good_fixtures_pass_with_deny_warnings() {
    for fixture in fixtures("good") {
        let name = name(&fixture);
        let dir = stack_dir(&fixture);
        let (code, _, stderr) = validate(dir.path(), &["--deny-warnings"]);
        assert_eq!(code, 0, "{name}:\n{stderr}");
        assert!(
            !stderr.contains(": error: ") && !stderr.contains(": warning: "),
            "{name}:\n{stderr}"
        );
        assert!(
            stderr
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("stack.yaml: ok")),
            "{name}:\n{stderr}"
        );
    }
}

#[test]
fn every_bad_fixture_has_a_good_counterpart() {
    let good: Vec<String> = fixtures("good").iter().map(|p| name(p)).collect();
    for fixture in fixtures("bad") {
        let text = std::fs::read_to_string(&fixture).unwrap();
        let counterpart = text
            .lines()
            .find_map(|l| l.strip_prefix("# good: "))
            .unwrap_or_else(|| panic!("{}: no `# good:` line", name(&fixture)));
        assert!(
            good.contains(&counterpart.to_string()),
            "{}: no good/{counterpart}.yaml",
            name(&fixture)
        );
    }
}
