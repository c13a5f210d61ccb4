//! The command-line conventions (README "Conventions"): where the spec is
//! found (`-f`, a path, `--dir`, discovery), exit codes of usage errors and
//! of `render --diff`, `--quiet`/`--verbose`/`--color`, carets under CJK and
//! emoji, `verify --wait` progress on a terminal and plain when piped,
//! `verify --format junit` of an invalid spec, completions, the man page,
//! `--version` and the pinned chart of the Kubernetes README.

use crate::common::{self, path_str, run, run_in, stackctl};
use std::path::Path;

const ESC: char = '\u{1b}';

fn minimal() -> tempfile::TempDir {
    common::init_profile("minimal")
}

/// A spec with one error (an unknown field), for the colour tests.
fn bad_spec() -> tempfile::TempDir {
    common::spec_dir(
        "stackctl: 1\nname: bad\ncomponents:\n  prometheus:\n    scrape_intervall: 15s\n",
    )
}

#[test]
fn discovery_uses_the_nearest_stack_yaml_in_a_parent() {
    let dir = minimal();
    let deep = dir.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    let (code, _, err) = run_in(&deep, &["validate"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: using ../../stack.yaml (the nearest stack.yaml above this directory)"),
        "{err}"
    );
    assert!(err.contains("../../stack.yaml: ok"), "{err}");
    // In the stack directory itself: no note, the plain name.
    let (code, _, err) = run_in(dir.path(), &["validate"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("note: using"), "{err}");
    assert!(err.contains("stack.yaml: ok"), "{err}");
}

#[test]
fn no_spec_here_or_above_is_exit_2_naming_the_ways() {
    let dir = tempfile::tempdir().unwrap();
    if dir
        .path()
        .ancestors()
        .any(|a| a.join("stack.yaml").is_file())
    {
        common::skipped("a stack.yaml above the temp directory makes discovery find it");
        return;
    }
    let (code, _, err) = run_in(dir.path(), &["validate"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no stack spec at `./stack.yaml` (nor in any parent directory)"),
        "{err}"
    );
    assert!(err.contains("`-f FILE` or `--dir DIR`"), "{err}");
}

#[test]
fn file_positional_and_global_dir_name_the_spec() {
    let dir = minimal();
    let spec = dir.path().join("stack.yaml");
    let elsewhere = tempfile::tempdir().unwrap();
    let d = path_str(dir.path());
    let s = path_str(&spec);
    for args in [
        vec!["validate", "-f", s],
        vec!["validate", "--file", s],
        vec!["-f", s, "validate"],
        vec!["validate", s],
        vec!["validate", d],
        vec!["validate", "--dir", d],
        // `--dir` is global: before the subcommand too, for every subcommand.
        vec!["--dir", d, "validate"],
        vec!["--dir", d, "render", "--check"],
        vec!["routes", "-f", s, "severity=critical"],
    ] {
        let (code, _, err) = run_in(elsewhere.path(), &args);
        // `render --check` before any render: 1 (drift), never "no spec".
        let want = if args.contains(&"--check") { 1 } else { 0 };
        assert_eq!(code, want, "{args:?}: {err}");
        assert!(!err.contains("no stack spec"), "{args:?}: {err}");
    }
}

#[test]
fn two_ways_to_name_the_spec_are_a_usage_error() {
    let dir = minimal();
    let spec = dir.path().join("stack.yaml");
    let (d, s) = (path_str(dir.path()), path_str(&spec));
    for (args, names) in [
        (
            vec!["validate", "-f", s, "--dir", d],
            "`-f/--file` and `--dir`",
        ),
        (vec!["validate", s, "--dir", d], "the spec path and `--dir`"),
        (
            vec!["validate", "-f", s, s],
            "`-f/--file` and the spec path",
        ),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("{names} both name the spec")),
            "{args:?}: {err}"
        );
    }
    // `-f` must name a stack.yaml (render finds the spec by that name).
    let other = dir.path().join("prod.yaml");
    std::fs::copy(&spec, &other).unwrap();
    let (code, _, err) = run(&["validate", "-f", path_str(&other)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not named stack.yaml"), "{err}");
    // `init` writes DIR/stack.yaml: `-f` is refused, not reinterpreted.
    let (code, _, err) = run(&["init", "--profile", "minimal", "-f", s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("name the directory with `--dir`"), "{err}");
    // A command without a stack refuses a stack flag instead of ignoring it.
    let (code, _, err) = run(&["profiles", "--dir", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`profiles` reads no stack"), "{err}");
}

/// `restore ARCHIVE --dir D`: the archive is not a way of naming the spec
/// (its argument once shared the id of the global `-f/--file`).
#[test]
fn restore_takes_its_archive_beside_dir() {
    let dir = minimal();
    let archive = dir.path().join("missing.tar.zst");
    let (code, _, err) = run(&["restore", path_str(&archive), "--dir", path_str(dir.path())]);
    assert!(!err.contains("both name the spec"), "{err}");
    assert_ne!(code, 2, "{err}");
    assert!(err.contains("missing.tar.zst"), "{err}");
}

#[test]
fn a_mistyped_profile_or_bad_name_is_exit_2_with_a_hint_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = path_str(dir.path());
    let (code, _, err) = run(&["init", "--profile", "pynomali", "--dir", d]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invalid value 'pynomali' for '--profile <PROFILE>'"),
        "{err}"
    );
    assert!(err.contains("a similar value exists: 'pynomaly'"), "{err}");
    let (code, _, err) = run(&[
        "init",
        "--profile",
        "minimal",
        "--name",
        "My Stack",
        "--dir",
        d,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `my-stack`?"), "{err}");
    assert!(
        common::list_files(dir.path()).is_empty(),
        "init wrote files"
    );
}

#[test]
fn profile_help_lists_every_profile_with_its_summary() {
    let (code, out, _) = run(&["init", "--help"]);
    assert_eq!(code, 0);
    for p in stackctl::profiles::PROFILES {
        assert!(out.contains(&format!("- {}:", p.name)), "{}: {out}", p.name);
        assert!(out.contains(p.summary), "{}: {out}", p.name);
    }
}

#[test]
fn render_diff_exits_1_on_differences_and_0_without() {
    let dir = minimal();
    let d = path_str(dir.path());
    let (code, out, _) = run(&["render", "--dir", d, "--diff"]);
    assert_eq!(code, 1, "never rendered: everything differs");
    assert!(out.contains("+++ b/docker-compose.monitoring.yml"), "{out}");
    assert_eq!(run(&["render", "--dir", d]).0, 0);
    let (code, out, err) = run(&["render", "--dir", d, "--diff"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("no changes"), "{err}");
}

#[test]
fn kubernetes_flags_on_the_compose_target_are_refused() {
    let dir = minimal();
    let d = path_str(dir.path());
    for flag in ["--namespace", "--release"] {
        let (code, _, err) = run(&["render", "--dir", d, flag, "x"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(
            err.contains(&format!("`{flag}` only applies to `--target kubernetes`")),
            "{err}"
        );
    }
    let before = common::list_files(dir.path());
    assert!(
        !before.iter().any(|f| f.starts_with("docker-compose")),
        "{before:?}"
    );
    let (code, _, err) = run(&[
        "render",
        "--dir",
        d,
        "--target",
        "kubernetes",
        "--namespace",
        "obs",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn quiet_keeps_stderr_for_problems_and_verbose_adds_where_and_how_long() {
    let dir = tempfile::tempdir().unwrap();
    let d = path_str(dir.path());
    for args in [
        vec!["init", "-q", "--profile", "minimal", "--dir", d],
        vec!["validate", "--quiet", "--dir", d],
        vec!["render", "-q", "--dir", d],
        vec!["render", "-q", "--dir", d, "--check"],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(err, "", "{args:?} is not quiet");
    }
    // Without it the same commands talk (the notes of empty credentials, ok).
    let (_, _, err) = run(&["validate", "--dir", d]);
    assert!(err.contains("stack.yaml: ok (3 notes)"), "{err}");
    // Errors still show under --quiet.
    let bad = bad_spec();
    let (code, _, err) = run(&["validate", "-q", "--dir", path_str(bad.path())]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown field `scrape_intervall`"), "{err}");

    let (code, _, err) = run(&["validate", "-v", "--dir", d]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("stack directory: {d}")), "{err}");
    assert!(
        regex::Regex::new(r"validate took \d+\.\d\ds")
            .unwrap()
            .is_match(&err),
        "{err}"
    );
    let (code, _, err) = run(&["validate", "-q", "-v", "--dir", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

fn validate_bad(bad: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = stackctl();
    cmd.args(["validate", "--dir", path_str(bad)]).args(args);
    for var in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, _, err) = common::decode(cmd.output().unwrap());
    assert_eq!(code, 1, "{err}");
    err
}

#[test]
fn colour_follows_the_flag_then_no_color_and_clicolor_force() {
    let dir = bad_spec();
    let validate_bad = |args: &[&str], env: &[(&str, &str)]| validate_bad(dir.path(), args, env);
    let plain = validate_bad(&[], &[]);
    assert!(
        !plain.contains(ESC),
        "piped stderr is plain by default: {plain:?}"
    );
    let always = validate_bad(&["--color", "always"], &[]);
    assert!(
        always.contains("\u{1b}[1m\u{1b}[31merror\u{1b}[0m"),
        "{always:?}"
    );
    let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
        .unwrap()
        .replace_all(&always, "");
    assert_eq!(stripped, plain, "colour changes nothing but the escapes");
    assert!(!validate_bad(&["--color=never"], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    assert!(validate_bad(&[], &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    assert!(!validate_bad(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains(ESC));
    // The explicit flag wins over the environment.
    assert!(validate_bad(&["--color", "always"], &[("NO_COLOR", "1")]).contains(ESC));
    // clap's own usage errors follow `--color` too.
    let (_, _, err) = run(&["--color", "never", "render", "--bogus"]);
    assert!(!err.contains(ESC), "{err:?}");
    let (code, _, err) = run(&["--color", "always", "render", "--bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains(ESC), "{err:?}");
}

/// The carets stand under the mistake in terminal cells: CJK characters and
/// emoji take two cells each, a tab is expanded to its stop.
#[test]
fn carets_stand_under_the_mistake_after_cjk_emoji_and_tabs() {
    use unicode_width::UnicodeWidthStr;
    let dir = common::spec_dir(
        "stackctl: 1\nname: cjk\ndescription: \"監視スタック 🎉\"\ncomponents:\n  prometheus: {external_labels: {team: \"監視🎉\"},\tretention_tme: 15d}\n",
    );
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("unknown field `retention_tme`"))
        .unwrap_or_else(|| panic!("{err}"));
    let (shown, carets) = (lines[at + 2], lines[at + 3]);
    let key = shown.find("retention_tme").unwrap();
    let caret = carets.find('^').unwrap();
    assert_eq!(shown[..key].width(), caret, "\n{shown}\n{carets}");
    assert_eq!(
        carets[caret..].len(),
        "retention_tme".len(),
        "\n{shown}\n{carets}"
    );
    assert!(!shown.contains('\t'), "tabs are expanded: {shown:?}");
}

fn failing_verify(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "verify",
        "--dir",
        path_str(dir),
        "--only",
        "prometheus",
        "--url",
        "prometheus=http://127.0.0.1:9",
        "--timeout",
        "1s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn verify_wait_stays_plain_when_piped() {
    let dir = minimal();
    let mut cmd = stackctl();
    cmd.args(failing_verify(dir.path(), &["--wait", "2s"]))
        .env_remove("CI");
    let (code, out, err) = common::decode(cmd.output().unwrap());
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains('\r') && !err.contains(ESC), "{err:?}");
    assert!(!err.contains("verify --wait:"), "{err}");
    assert!(out.contains("prometheus"), "{out}");
}

/// On a terminal (a pty made by util-linux `script`), the live line says
/// what still fails, redrawn in place, and is cleared at the end.
#[test]
fn verify_wait_shows_what_still_fails_on_a_terminal() {
    let Some(script) = common::require_tool("script", "a pty for the terminal case") else {
        return;
    };
    let dir = minimal();
    let args: Vec<String> = failing_verify(dir.path(), &["--wait", "2s"])
        .into_iter()
        .map(|a| format!("'{a}'"))
        .collect();
    let line = format!("{} {}", env!("CARGO_BIN_EXE_stackctl"), args.join(" "));
    let out = std::process::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .env_remove("CI")
        .env("TERM", "xterm")
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let redraws = text.matches("\r\u{1b}[2Kverify --wait: ").count();
    assert!(redraws >= 2, "the line is redrawn in place: {text:?}");
    assert!(
        regex::Regex::new(r"verify --wait: \ds of 2s, \d+ checks? failing: prometheus ")
            .unwrap()
            .is_match(&text),
        "{text:?}"
    );
    // In CI (`CI` set) a pty gets no live line either.
    let ci = std::process::Command::new(common::require_tool("script", "pty").unwrap())
        .args(["-qec", &line, "/dev/null"])
        .env("CI", "true")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let ci_text = String::from_utf8_lossy(&ci.stdout);
    assert!(!ci_text.contains("verify --wait: "), "{ci_text:?}");
    // Cleared before the report, which starts on a clean line.
    let last = text.rfind("verify --wait: ").unwrap();
    assert!(text[last..].contains("\r\u{1b}[2K"), "{text:?}");
}

#[test]
fn verify_junit_of_an_invalid_spec_lists_the_validation_failures() {
    use quick_xml::events::Event;
    let bad = bad_spec();
    let (code, out, err) = run(&["verify", "--dir", path_str(bad.path()), "--format", "junit"]);
    assert_eq!(code, 1, "{err}");
    let mut reader = quick_xml::Reader::from_str(&out);
    let (mut suites, mut cases, mut failures) = (0, Vec::new(), 0);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.name().as_ref() {
                b"testsuites" => suites += 1,
                b"testcase" => cases.push(
                    e.try_get_attribute("name")
                        .unwrap()
                        .unwrap()
                        .unescape_value()
                        .unwrap()
                        .into_owned(),
                ),
                b"failure" => failures += 1,
                _ => {}
            },
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not XML: {e}\n{out}"),
        }
    }
    assert_eq!(suites, 1, "{out}");
    assert!(
        out.contains("<testsuites name=\"stackctl verify\""),
        "{out}"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.contains("stack.yaml:5:5: unknown field `scrape_intervall`")),
        "{cases:?}"
    );
    assert_eq!(failures, 1, "{out}");
}

#[test]
fn bash_completion_loads_and_completes_subcommands_and_profiles() {
    let Some(bash) = common::require_tool("bash", "bash completion") else {
        return;
    };
    let (code, script, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stackctl.bash");
    std::fs::write(&file, &script).unwrap();
    let check = std::process::Command::new(&bash)
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _stackctl stackctl \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        let out = std::process::Command::new(&bash)
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let subcommands = complete("stackctl ''", 1);
    for sub in ["init", "validate", "render", "verify", "completions", "man"] {
        assert!(
            subcommands.iter().any(|w| w == sub),
            "{sub}: {subcommands:?}"
        );
    }
    let profiles = complete("stackctl init --profile ''", 3);
    for p in stackctl::profiles::names() {
        assert!(profiles.iter().any(|w| w == p), "{p}: {profiles:?}");
    }
    // zsh and fish scripts come from the same definitions.
    for shell in ["zsh", "fish"] {
        let (code, out, _) = run(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(
            out.contains("validate") && out.contains("deny-warnings"),
            "{shell}"
        );
    }
}

#[test]
fn man_page_is_generated_from_the_command_line() {
    let (code, page, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains(".TH stackctl"),
        "{page}"
    );
    assert!(page.contains(".SH \"STACKCTL RENDER\""), "{page}");
    assert!(page.contains("\\-\\-diff"), "{page}");
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    let Some(groff) = common::require_tool("groff", "formatting the man page") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stackctl.1");
    std::fs::write(&file, &page).unwrap();
    let out = std::process::Command::new(groff)
        .args(["-man", "-Tutf8", "-ww"])
        .arg(&file)
        .output()
        .unwrap();
    // grotty marks bold by overstriking (`c\u{8}c`) and prints `\-` as a
    // minus sign: read the plain letters.
    let text = regex::Regex::new(".\u{8}")
        .unwrap()
        .replace_all(&String::from_utf8_lossy(&out.stdout), "")
        .replace(['\u{2212}', '\u{2010}'], "-");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    assert!(text.contains("--deny-warnings"), "{text}");
}

#[test]
fn version_carries_the_git_revision() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let version = env!("CARGO_PKG_VERSION");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    match head {
        Some(h) => {
            let rev = String::from_utf8_lossy(&h.stdout).trim().to_string();
            assert_eq!(out.trim(), format!("stackctl {version} ({rev})"));
        }
        None => {
            assert_eq!(out.trim(), format!("stackctl {version}"));
            common::skipped("not a git checkout: only the fallback (version alone) was checked");
        }
    }
}

#[test]
fn the_kubernetes_readme_pins_the_chart_versions() {
    let dir = common::init_profile("pynomaly");
    let d = path_str(dir.path());
    let (code, _, err) = run(&["render", "--dir", d, "--target", "kubernetes"]);
    assert_eq!(code, 0, "{err}");
    let readme = std::fs::read_to_string(dir.path().join("kubernetes/README.md")).unwrap();
    let chart = stackctl::render::kubernetes::CHART;
    assert!(
        readme.contains(&format!(
            "prometheus-community/kube-prometheus-stack \\\n  --version {chart} --namespace"
        )),
        "{readme}"
    );
    let values = std::fs::read_to_string(dir.path().join("kubernetes/values.yaml")).unwrap();
    assert!(
        values
            .lines()
            .nth(1)
            .unwrap()
            .contains(&format!("--version {chart} ")),
        "{values}"
    );
    // The README's own commands pin the same version.
    let top = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(top.contains(&format!("--version {chart} --namespace monitoring")));
}
