//! `stackctl test`: the spec's rule unit tests (`tests:`) run by promtool.
//! The rule files and test files are planned from the spec (as `render`
//! writes them) into a scratch directory inside the stack directory, promtool
//! runs there once on every test, and its verdict is reported per test with
//! the test's position in the spec. Text on stdout, or JSON, or JUnit XML.

use super::{Exit, emit, load_stack, print_diagnostics};
use crate::cli::TestFormat;
use crate::ruletest::promtool::{self, Binary, Run};
use serde_json::json;
use std::path::{Path, PathBuf};

pub struct Options<'a> {
    pub format: TestFormat,
    /// A promtool binary to use instead of the one found on PATH.
    pub promtool: Option<&'a Path>,
    /// Run the pinned Prometheus image's promtool through the Docker API.
    pub docker: bool,
}

/// A directory inside the stack directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn create(dir: &Path) -> anyhow::Result<Scratch> {
        let base = super::docker::absolute(dir)?;
        for n in 0..100 {
            let path = base.join(format!(".stackctl-test-{}-{n}", std::process::id()));
            // create_dir fails on anything already there (a symlink included).
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Scratch(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => anyhow::bail!("cannot create `{}`: {e}", path.display()),
            }
        }
        anyhow::bail!("cannot create a scratch directory in `{}`", base.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One test's outcome as reported.
struct Outcome<'a> {
    name: &'a str,
    file: String,
    position: Option<String>,
    passed: bool,
    details: String,
}

pub fn run(dir: &Path, opts: Options<'_>) -> anyhow::Result<Exit> {
    let loaded = load_stack(dir, false)?;
    if loaded.has_errors() {
        print_diagnostics(&loaded);
        return Ok(Exit::Failed);
    }
    let Some(resolved) = crate::resolve::Resolved::from_loaded(&loaded) else {
        return Ok(Exit::Failed);
    };
    let stack = &resolved;
    if stack.tests.is_empty() {
        eprintln!(
            "{}: no rule tests (`tests:` is empty)\n  = help: docs/alerting.md shows how to write one",
            loaded.file
        );
        match opts.format {
            TestFormat::Text => {}
            TestFormat::Json => emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&json_report("none", &[]))?
            ))?,
            TestFormat::Junit => emit(&junit("none", &[], &loaded.file))?,
        }
        return Ok(Exit::Ok);
    }
    let inputs = super::render::read_inputs(stack, dir)?;
    let plan = crate::plan::plan(stack, &inputs);
    let scratch = Scratch::create(dir)?;
    let mut files = Vec::new();
    for (path, text) in &plan.files {
        let Some(rel) = path.strip_prefix("prometheus/") else {
            continue;
        };
        if !(rel.starts_with("rules/") || rel.starts_with("tests/")) {
            continue;
        }
        let target = scratch.0.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
    }
    for test in &stack.tests {
        files.push(format!("tests/{}", crate::ruletest::file_name(test)));
    }
    let pinned = plan
        .services
        .iter()
        .find(|s| s.kind == Some(crate::model::Kind::Prometheus))
        .map(|s| s.image.clone())
        .unwrap_or_default();
    let pinned_version = pinned
        .rsplit_once(':')
        .map(|(_, tag)| tag.trim_start_matches('v').to_string())
        .unwrap_or_default();

    let (runner, result) = if opts.docker
        || (opts.promtool.is_none() && promtool::discover().is_none())
    {
        let runtime = super::docker::runtime()?;
        let result = runtime.block_on(async {
            let engine = crate::docker::bollard_engine::BollardEngine::connect()
                .await
                .map_err(super::docker::engine_error)?;
            promtool::run_docker(&engine, &pinned, &pinned_version, &scratch.0, &files)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{e}\n  = help: install promtool (package `prometheus`) or name one with `--promtool PATH`, or load the image `{pinned}`"
                    )
                })
        })?;
        (
            format!("promtool {pinned_version} (image {pinned})"),
            result,
        )
    } else {
        let path = opts
            .promtool
            .map(Path::to_path_buf)
            .or_else(promtool::discover)
            .unwrap_or_default();
        let binary: Binary = promtool::identify(&path).map_err(|e| anyhow::anyhow!(e))?;
        if minor(&binary.version) != minor(&pinned_version) {
            eprintln!(
                "note: {} is promtool {}; the stack pins Prometheus {pinned_version}\n  = help: `stackctl test --docker` runs the pinned image's promtool",
                binary.path.display(),
                binary.version
            );
        }
        let result =
            promtool::run_binary(&binary, &scratch.0, &files).map_err(|e| anyhow::anyhow!(e))?;
        (
            format!("promtool {} ({})", binary.version, binary.path.display()),
            result,
        )
    };
    drop(scratch);
    let outcomes = outcomes(&loaded, stack, &files, &result);
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    match opts.format {
        TestFormat::Text => emit(&text(&runner, &outcomes))?,
        TestFormat::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&json_report(&runner, &outcomes))?
        ))?,
        TestFormat::Junit => emit(&junit(&runner, &outcomes, &loaded.file))?,
    }
    Ok(if failed > 0 { Exit::Failed } else { Exit::Ok })
}

/// `3.5` of `3.5.3`.
fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn outcomes<'a>(
    loaded: &crate::load::Loaded,
    stack: &'a crate::model::Stack,
    files: &[String],
    run: &Run,
) -> Vec<Outcome<'a>> {
    stack
        .tests
        .iter()
        .zip(files)
        .enumerate()
        .map(|(i, (test, file))| {
            let verdict = run.verdicts.get(file);
            let position = loaded
                .tree
                .as_ref()
                .and_then(|t| {
                    t.get(&[
                        crate::yaml::node::Seg::Key("tests".into()),
                        crate::yaml::node::Seg::Index(i),
                    ])
                })
                .map(|n| {
                    format!(
                        "{}:{}:{}",
                        loaded.file, n.region.start.line, n.region.start.col
                    )
                });
            Outcome {
                name: &test.name,
                file: format!("prometheus/{file}"),
                position,
                passed: verdict.is_some_and(|v| v.passed),
                details: verdict.map(|v| v.details.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

fn text(runner: &str, outcomes: &[Outcome<'_>]) -> String {
    let mut out = format!("{runner}: {} test(s)\n", outcomes.len());
    for o in outcomes {
        out.push_str(&format!(
            "{:<6}  {}  ({}{})\n",
            if o.passed { "ok" } else { "FAILED" },
            o.name,
            o.file,
            o.position
                .as_ref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default()
        ));
        if !o.passed {
            for line in o.details.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    out.push_str(&format!(
        "{} passed, {} failed\n",
        outcomes.len() - failed,
        failed
    ));
    out
}

fn json_report(runner: &str, outcomes: &[Outcome<'_>]) -> serde_json::Value {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    json!({
        "runner": runner,
        "passed": outcomes.len() - failed,
        "failed": failed,
        "tests": outcomes.iter().map(|o| json!({
            "name": o.name,
            "file": o.file,
            "position": o.position,
            "passed": o.passed,
            "promtool": o.details,
        })).collect::<Vec<_>>(),
    })
}

fn junit(runner: &str, outcomes: &[Outcome<'_>], spec: &str) -> String {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{}\" failures=\"{failed}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n    <properties><property name=\"runner\" value=\"{}\"/></properties>\n",
        outcomes.len(),
        escape(&format!("{spec} rule tests")),
        outcomes.len(),
        escape(runner)
    );
    for o in outcomes {
        out.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
            escape(o.name),
            escape(&o.file),
            escape(o.position.as_deref().unwrap_or(spec))
        ));
        if o.passed {
            out.push_str("/>\n");
        } else {
            out.push_str(&format!(
                ">\n      <failure message=\"promtool: test failed\">{}</failure>\n    </testcase>\n",
                escape(&o.details)
            ));
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
