//! Running `promtool test rules` on the rendered test files and reading its
//! verdict per file: promtool from `--promtool`, `STACKCTL_PROMTOOL` or
//! `PATH`, or the pinned Prometheus image's `/bin/promtool` through the
//! Docker API. promtool 2.48 and later write JUnit (`--junit`), which is
//! read; older ones print `Unit Testing:  FILE` before each file's result on
//! the same stream as the failures, which is read instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A promtool binary and the release it reports.
#[derive(Debug, Clone)]
pub struct Binary {
    pub path: PathBuf,
    /// `2.42.0`, from `promtool --version`.
    pub version: String,
}

/// promtool's verdict on one test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    /// promtool's own explanation (expected vs got), empty when it passed.
    pub details: String,
}

/// One promtool run: the verdict per file (by file name) and what it printed.
#[derive(Debug, Clone)]
pub struct Run {
    pub verdicts: BTreeMap<String, Verdict>,
    pub output: String,
    pub exit_code: Option<i32>,
}

/// The promtool to use when the caller names none: `STACKCTL_PROMTOOL`, else
/// the first `promtool` on `PATH`.
pub fn discover() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STACKCTL_PROMTOOL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file())
}

/// Asks a promtool binary for its version.
pub fn identify(path: &Path) -> Result<Binary, String> {
    let out = std::process::Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", path.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let version = parse_version(&text)
        .ok_or_else(|| format!("`{} --version` printed no version: {text}", path.display()))?;
    Ok(Binary {
        path: path.to_path_buf(),
        version,
    })
}

/// `promtool, version 2.42.0+ds (branch: …)` → `2.42.0`.
pub fn parse_version(text: &str) -> Option<String> {
    let rest = text.split("version ").nth(1)?;
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (v.split('.').count() >= 2).then_some(v)
}

/// Whether this promtool release writes JUnit (`test rules --junit`, 2.48+).
pub fn writes_junit(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    major > 2 || (major == 2 && minor >= 48)
}

/// The arguments after `promtool`: `test rules [--junit=J] tests/a.yml …`.
pub fn arguments(files: &[String], junit: Option<&str>) -> Vec<String> {
    let mut args = vec!["test".to_string(), "rules".to_string()];
    if let Some(j) = junit {
        args.push(format!("--junit={j}"));
    }
    args.extend(files.iter().cloned());
    args
}

/// A pipe (read end, write end), both closed on exec (std's `io::pipe` is
/// newer than the supported Rust release).
fn pipe() -> std::io::Result<(std::fs::File, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    unsafe {
        Ok((
            std::fs::File::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        ))
    }
}

/// Runs `binary` in `workdir` (the directory holding `rules/` and `tests/`)
/// on `files` (relative to it), stdout and stderr on one pipe so that the
/// text form keeps its order.
pub fn run_binary(binary: &Binary, workdir: &Path, files: &[String]) -> Result<Run, String> {
    let junit_file = workdir.join("promtool-junit.xml");
    let junit = writes_junit(&binary.version).then(|| "promtool-junit.xml".to_string());
    let (mut reader, writer) = pipe().map_err(|e| format!("cannot create a pipe: {e}"))?;
    let err_writer = writer
        .try_clone()
        .map_err(|e| format!("cannot create a pipe: {e}"))?;
    let mut child = std::process::Command::new(&binary.path)
        .args(arguments(files, junit.as_deref()))
        .current_dir(workdir)
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(err_writer)
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", binary.path.display()))?;
    let mut output = String::new();
    {
        use std::io::Read;
        let mut bytes = Vec::new();
        // The child holds the only write ends now (the Command was dropped
        // with its copies), so this ends when promtool exits.
        let _ = reader.read_to_end(&mut bytes);
        output.push_str(&String::from_utf8_lossy(&bytes));
    }
    let status = child
        .wait()
        .map_err(|e| format!("promtool did not finish: {e}"))?;
    let junit_text = junit.and_then(|_| std::fs::read_to_string(&junit_file).ok());
    Ok(interpret(
        output,
        status.code(),
        junit_text.as_deref(),
        files,
    ))
}

/// Verdicts from promtool's JUnit report when there is one, else from its
/// text; a file promtool said nothing about gets its whole output.
pub fn interpret(
    output: String,
    exit_code: Option<i32>,
    junit: Option<&str>,
    files: &[String],
) -> Run {
    let mut verdicts = match junit {
        Some(xml) => from_junit(xml),
        None => from_text(&output),
    };
    // Names as passed (`tests/a.yml`) or as promtool printed them.
    let mut by_file = BTreeMap::new();
    for f in files {
        let found = verdicts.remove(f).or_else(|| {
            let base = f.rsplit('/').next().unwrap_or(f);
            let key = verdicts
                .keys()
                .find(|k| k.rsplit('/').next() == Some(base))
                .cloned();
            key.and_then(|k| verdicts.remove(&k))
        });
        by_file.insert(
            f.clone(),
            found.unwrap_or_else(|| Verdict {
                passed: false,
                details: format!(
                    "promtool reported nothing for this file:\n{}",
                    output.trim_end()
                ),
            }),
        );
    }
    Run {
        verdicts: by_file,
        output,
        exit_code,
    }
}

/// promtool 2.x's text: `Unit Testing:  FILE` then `  SUCCESS` or
/// `  FAILED:` and the details, up to the next header.
pub fn from_text(output: &str) -> BTreeMap<String, Verdict> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let finish = |cur: Option<(String, Vec<&str>)>, out: &mut BTreeMap<String, Verdict>| {
        if let Some((file, lines)) = cur {
            let passed = lines.iter().any(|l| l.trim() == "SUCCESS")
                && !lines.iter().any(|l| l.trim_start().starts_with("FAILED"));
            let details = if passed {
                String::new()
            } else {
                lines
                    .iter()
                    .filter(|l| l.trim() != "FAILED:")
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim_matches('\n')
                    .to_string()
            };
            out.insert(file, Verdict { passed, details });
        }
    };
    for line in output.lines() {
        if let Some(file) = line.strip_prefix("Unit Testing:") {
            finish(current.take(), &mut out);
            current = Some((file.trim().to_string(), Vec::new()));
        } else if let Some((_, lines)) = &mut current {
            lines.push(line);
        }
    }
    finish(current, &mut out);
    out
}

/// promtool 2.48+'s JUnit: one `testsuite` per file, a `failure` or `error`
/// per failing test group.
pub fn from_junit(xml: &str) -> BTreeMap<String, Verdict> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = BTreeMap::new();
    let mut suite: Option<(String, Verdict)> = None;
    let mut in_problem = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.name().as_ref() == b"testsuite" => {
                let name = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == b"name")
                    .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                    .unwrap_or_default();
                suite = Some((
                    name,
                    Verdict {
                        passed: true,
                        details: String::new(),
                    },
                ));
            }
            Ok(Event::Start(e)) if matches!(e.name().as_ref(), b"failure" | b"error") => {
                in_problem = true;
                if let Some((_, v)) = &mut suite {
                    v.passed = false;
                }
            }
            Ok(Event::Empty(e)) if matches!(e.name().as_ref(), b"failure" | b"error") => {
                if let Some((_, v)) = &mut suite {
                    v.passed = false;
                }
            }
            Ok(Event::Text(t)) if in_problem => {
                if let (Some((_, v)), Ok(text)) = (&mut suite, t.xml_content()) {
                    v.details.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) if in_problem => {
                if let Some((_, v)) = &mut suite {
                    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                    v.details.push_str(&entity(&name));
                }
            }
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"failure" | b"error" => {
                    in_problem = false;
                    if let Some((_, v)) = &mut suite {
                        v.details.push('\n');
                    }
                }
                b"testsuite" => {
                    if let Some((name, mut v)) = suite.take() {
                        v.details = v.details.trim_end().to_string();
                        out.insert(name, v);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

/// An XML entity or character reference's text (`#34` → `"`, `lt` → `<`).
fn entity(name: &str) -> String {
    let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse().ok()
    } else {
        None
    };
    if let Some(c) = code.and_then(char::from_u32) {
        return c.to_string();
    }
    match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
    .to_string()
}

/// Where the work directory is mounted in the promtool container.
const MOUNT: &str = "/stackctl";

/// Runs `promtool` of `image` (the pinned Prometheus image, present
/// locally; nothing is pulled) on `files` in `workdir` (absolute), as the
/// calling user so that it can write its JUnit report there; no network.
pub async fn run_docker(
    engine: &impl crate::docker::Engine,
    image: &str,
    version: &str,
    workdir: &Path,
    files: &[String],
) -> Result<Run, String> {
    use crate::docker::engine::{BindMount, ContainerSpec};
    match engine.image_id(image).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(format!(
                "promtool is not on PATH and the pinned image `{image}` is not present locally"
            ));
        }
        Err(e) => return Err(format!("the Docker engine: {e}")),
    }
    let inside: Vec<String> = files.iter().map(|f| format!("{MOUNT}/{f}")).collect();
    let junit = writes_junit(version).then(|| format!("{MOUNT}/promtool-junit.xml"));
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let spec = ContainerSpec {
        name: format!("stackctl-promtool-{}-{stamp}", std::process::id()),
        image: image.to_string(),
        user: Some(format!("{uid}:{gid}")),
        // `/bin/promtool` in the upstream image; found on the image's PATH.
        entrypoint: Some(vec!["promtool".to_string()]),
        cmd: arguments(&inside, junit.as_deref()),
        bind_mounts: vec![BindMount {
            source: workdir.display().to_string(),
            target: MOUNT.to_string(),
            read_only: false,
        }],
        network: "none".to_string(),
        restart: "no".to_string(),
        ..Default::default()
    };
    let id = engine
        .create(&spec)
        .await
        .map_err(|e| format!("cannot create the promtool container: {e}"))?;
    let result = async {
        engine
            .start(&id)
            .await
            .map_err(|e| format!("cannot start the promtool container: {e}"))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        let state = loop {
            let state = engine
                .inspect(&id)
                .await
                .map_err(|e| format!("the promtool container: {e}"))?;
            if state.status == "exited" || state.status == "dead" {
                break state;
            }
            if std::time::Instant::now() > deadline {
                return Err("promtool did not finish within 10 minutes".to_string());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let output = engine.logs(&id, 100_000).await.unwrap_or_default();
        let junit_text = junit
            .as_ref()
            .and_then(|_| std::fs::read_to_string(workdir.join("promtool-junit.xml")).ok());
        Ok(interpret(
            output,
            Some(state.exit_code as i32),
            junit_text.as_deref(),
            files,
        ))
    }
    .await;
    let _ = engine.remove(&id).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("promtool, version 2.42.0+ds (branch: debian/sid)").as_deref(),
            Some("2.42.0")
        );
        assert_eq!(
            parse_version("promtool, version 3.5.3+ds1 (branch: x)").as_deref(),
            Some("3.5.3")
        );
        assert!(parse_version("nothing").is_none());
        assert!(!writes_junit("2.42.0"));
        assert!(writes_junit("2.48.1"));
        assert!(writes_junit("3.5.3"));
    }

    /// promtool 2.42's text, as it prints it (both streams on one pipe).
    #[test]
    fn text_verdicts() {
        let out = "Unit Testing:  tests/a.yml\n  SUCCESS\n\nUnit Testing:  tests/b.yml\n  FAILED:\n    expr: \"x\", time: 10m,\n        exp: {} 9.1E+01\n        got: {} 9E+01\n\n";
        let v = from_text(out);
        assert!(v["tests/a.yml"].passed);
        assert!(!v["tests/b.yml"].passed);
        assert!(v["tests/b.yml"].details.contains("got: {} 9E+01"));
    }

    /// promtool 3.5's JUnit, as it writes it.
    #[test]
    fn junit_verdicts() {
        let xml = r#"<testsuites><testsuite name="tests/a.yml" tests="1" failures="0"><testcase name="unnamed#0"></testcase></testsuite><testsuite name="tests/b.yml" tests="1" failures="1"><testcase name="unnamed#0"><failure>    expr: &#34;x&#34;, time: 10m,&#xA;        got: nil</failure></testcase></testsuite><testsuite name="tests/c.yml" tests="1" errors="1"><testcase name="unknown"><error>yaml: line 1: did not find expected node content</error></testcase></testsuite></testsuites>"#;
        let v = from_junit(xml);
        assert!(v["tests/a.yml"].passed);
        assert!(!v["tests/b.yml"].passed);
        assert_eq!(
            v["tests/b.yml"].details,
            "    expr: \"x\", time: 10m,\n        got: nil"
        );
        assert!(v["tests/c.yml"].details.contains("did not find"));
    }

    #[test]
    fn silent_files_fail_with_the_whole_output() {
        let run = interpret("boom".into(), Some(1), None, &["tests/a.yml".to_string()]);
        assert!(!run.verdicts["tests/a.yml"].passed);
        assert!(run.verdicts["tests/a.yml"].details.contains("boom"));
    }
}
