//! Deterministic mutation fuzzing of the spec loader, checks and renderer.
//!
//! Every shipped spec (profiles, examples, pynomaly with ELK) is mutated with
//! a fixed seed — byte flips, line deletion and duplication, scalar values
//! swapped, type changes, huge numbers, unicode, deep nesting, anchors and
//! aliases — and run through the library in-process, as `validate` and
//! `render` do. For each case: no panic, no hang (a time bound per case),
//! every error positioned at `line:col` with line ≥ 1, nothing written when the
//! spec has errors, and every accepted spec renders YAML that an independent
//! YAML 1.2 reader (saphyr) parses, whose values stackctl's emitter writes back
//! to the same values.

use crate::common;

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SEED: u64 = 0x0005_eed9_2026;
const CASES: usize = 2_000;
/// Far above a debug-build case (tens of milliseconds), far below a hang.
const CASE_LIMIT: Duration = Duration::from_secs(20);

/// SplitMix64: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HUGE: &[&str] = &[
    "99999999999999999999",
    "-99999999999999999999",
    "18446744073709551616",
    "1e308",
    "-1",
    ".inf",
    ".nan",
    "0x7fffffffffffffff",
    "99999999999999999999g",
    "999999999999999999999999d",
    "65536",
    "0",
];
const UNICODE: &[&str] = &[
    "\u{2028}", "\u{2029}", "\u{85}", "é", "\u{202e}", "\u{feff}", "😀", "\u{0}", "\t", "\\n",
    "日本",
];
const TYPES: &[&str] = &[
    "[]", "{}", "true", "null", "~", "123", "[a, b]", "{a: 1}", "''", "\"\"",
];

/// Lines of the form `key: value` (value non-empty): (line index, value start).
fn scalar_lines(lines: &[String]) -> Vec<(usize, usize)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let t = l.trim_start();
            if t.starts_with('#') {
                return None;
            }
            let at = l.find(": ")?;
            (l.len() > at + 2).then_some((i, at + 2))
        })
        .collect()
}

fn mutate(text: &str, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let scalars = scalar_lines(&lines);
    let kind = rng.below(9);
    let mut what = String::new();
    let set_value = |lines: &mut Vec<String>, (i, at): (usize, usize), v: &str| {
        let line = &lines[i];
        lines[i] = format!("{}{v}", &line[..at]);
    };
    match kind {
        0 => {
            let mut bytes = text.as_bytes().to_vec();
            for _ in 0..=rng.below(3) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
                what.push_str(&format!("flip@{at} "));
            }
            return (bytes, what);
        }
        1 => {
            let i = rng.below(lines.len());
            lines.remove(i);
            what = format!("delete line {}", i + 1);
        }
        2 => {
            let i = rng.below(lines.len());
            lines.insert(i, lines[i].clone());
            what = format!("duplicate line {}", i + 1);
        }
        3 if scalars.len() > 1 => {
            let a = *rng.pick(&scalars);
            let b = *rng.pick(&scalars);
            let va = lines[a.0][a.1..].to_string();
            let vb = lines[b.0][b.1..].to_string();
            set_value(&mut lines, a, &vb);
            set_value(&mut lines, b, &va);
            what = format!("swap values of lines {} and {}", a.0 + 1, b.0 + 1);
        }
        4 if !scalars.is_empty() => {
            let s = *rng.pick(&scalars);
            let v = *rng.pick(TYPES);
            set_value(&mut lines, s, v);
            what = format!("line {} := {v}", s.0 + 1);
        }
        5 if !scalars.is_empty() => {
            let s = *rng.pick(&scalars);
            let v = *rng.pick(HUGE);
            set_value(&mut lines, s, v);
            what = format!("line {} := {v}", s.0 + 1);
        }
        6 if !scalars.is_empty() => {
            let s = *rng.pick(&scalars);
            let u = *rng.pick(UNICODE);
            let old = lines[s.0][s.1..].to_string();
            let v = match rng.below(3) {
                0 => format!("{old}{u}"),
                1 => format!("\"{}{u}\"", old.trim_matches('"').replace('\\', "")),
                _ => format!("{u}{old}"),
            };
            set_value(&mut lines, s, &v);
            what = format!("line {} gets {u:?}", s.0 + 1);
        }
        7 if !scalars.is_empty() => {
            let s = *rng.pick(&scalars);
            let n = 20 + rng.below(200);
            let v = format!("{}x{}", "[".repeat(n), "]".repeat(n));
            set_value(&mut lines, s, &v);
            what = format!("line {} nested {n} deep", s.0 + 1);
        }
        _ if scalars.len() > 1 => {
            let a = *rng.pick(&scalars);
            let b = *rng.pick(&scalars);
            let va = lines[a.0][a.1..].to_string();
            match rng.below(3) {
                0 => {
                    set_value(&mut lines, a, &format!("&fz {va}"));
                    set_value(&mut lines, b, "*fz");
                    what = format!("line {} aliases line {}", b.0 + 1, a.0 + 1);
                }
                1 => {
                    set_value(&mut lines, b, "*nowhere");
                    what = format!("line {} aliases an unknown anchor", b.0 + 1);
                }
                _ => {
                    set_value(&mut lines, a, &format!("&fz [{va}, {va}, {va}, {va}]"));
                    set_value(&mut lines, b, "[*fz, *fz, *fz, *fz, *fz, *fz, *fz, *fz]");
                    what = format!("line {} multiplies line {}", b.0 + 1, a.0 + 1);
                }
            }
        }
        _ => {
            lines.push("extra: [".into());
            what = "unterminated flow".into();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    (out.into_bytes(), what)
}

/// One stack directory per shipped spec, with its files and its secrets.
fn prepare(label: &str, text: &str, from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    if from != Path::new(".") {
        copy_tree(from, dir.path());
    }
    std::fs::write(dir.path().join("stack.yaml"), text).expect("spec");
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let stack = loaded.stack.unwrap_or_else(|| panic!("{label} loads"));
    stackctl::secrets::materialise(&stack, dir.path()).expect("secrets");
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// Every file under `dir` with its size and modification time.
fn snapshot(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    common::list_files(dir)
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(dir.join(&f)).expect("metadata");
            (f, meta.len(), meta.modified().expect("mtime"))
        })
        .collect()
}

fn to_json(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Value(s) => match s {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => Value::Bool(*b),
            Scalar::Integer(i) => Value::from(*i),
            Scalar::FloatingPoint(f) => {
                serde_json::Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
            }
            Scalar::String(s) => Value::String(s.to_string()),
        },
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                let key = match to_json(k)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                if m.insert(key.clone(), to_json(v)?).is_some() {
                    return Err(format!("duplicate key `{key}`"));
                }
            }
            Value::Object(m)
        }
        Yaml::Tagged(_, inner) => to_json(inner)?,
        Yaml::Alias(_) => return Err("alias in generated YAML".into()),
        Yaml::BadValue => return Err("bad value".into()),
    })
}

fn read_yaml(text: &str) -> Result<Vec<Value>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    docs.iter().map(to_json).collect()
}

/// Checks the rendered tree of an accepted spec; an `Err` names the problem.
fn check_tree(tree: &stackctl::render::Tree) -> Result<usize, String> {
    let mut yaml_files = 0;
    for (path, text) in tree {
        if path.ends_with(".yml") || path.ends_with(".yaml") {
            let docs = read_yaml(text).map_err(|e| format!("{path}: saphyr: {e}"))?;
            if docs.is_empty() {
                return Err(format!("{path}: no YAML document"));
            }
            for doc in &docs {
                // What saphyr read, written again by stackctl's emitter, is read
                // back to the same values: no string changed type or content.
                let again = stackctl::yaml::emit::to_yaml(doc);
                let back = read_yaml(&again).map_err(|e| format!("{path}: re-emitted: {e}"))?;
                if back.len() != 1 || &back[0] != doc {
                    return Err(format!("{path}: values change through the emitter"));
                }
            }
            yaml_files += 1;
        } else if path.ends_with(".json") {
            serde_json::from_str::<Value>(text).map_err(|e| format!("{path}: JSON: {e}"))?;
        }
    }
    let compose = tree
        .get(stackctl::render::COMPOSE_FILE)
        .ok_or("no compose file")?;
    let doc = read_yaml(compose)?;
    if !doc[0]["services"].is_object() {
        return Err("compose file without `services`".into());
    }
    Ok(yaml_files)
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Rejected,
    Rendered(usize),
}

/// What one case does beyond loading; chosen up front so the run is the same
/// whatever the scheduling.
#[derive(Clone, Copy)]
struct Depth {
    /// Run `render` on a rejected spec and prove it wrote nothing (it loads
    /// the spec again, so not every case pays for it).
    render_rejected: bool,
    /// Also render the Kubernetes target of an accepted spec.
    kubernetes: bool,
}

/// One case, in-process: load and check as `validate` does, then either
/// render in memory (accepted) or run `render` and prove it wrote nothing.
fn run_case(dir: &Path, bytes: &[u8], depth: Depth) -> Result<Verdict, String> {
    std::fs::write(dir.join("stack.yaml"), bytes).map_err(|e| e.to_string())?;
    let before = snapshot(dir);
    let loaded =
        stackctl::commands::load_stack(dir, false).map_err(|e| format!("exit 2: {e:#}"))?;
    if loaded.has_errors() {
        let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        if errors.is_empty() {
            return Err("rejected without an error".into());
        }
        for d in errors {
            match d.region {
                Some(r) if r.start.line >= 1 && r.start.col >= 1 => {}
                _ => return Err(format!("unpositioned error: {}", d.message)),
            }
        }
        if depth.render_rejected {
            let exit = stackctl::commands::render::run(
                dir,
                stackctl::commands::render::Options {
                    target: stackctl::cli::Target::Compose,
                    check: false,
                    diff: false,
                    force: false,
                    namespace: None,
                    release: None,
                },
            )
            .map_err(|e| format!("render: exit 2: {e:#}"))?;
            if exit != stackctl::commands::Exit::Failed {
                return Err("render accepted what validate rejected".into());
            }
        }
        if snapshot(dir) != before {
            return Err("files were written for a rejected spec".into());
        }
        return Ok(Verdict::Rejected);
    }
    let stack =
        &stackctl::resolve::Resolved::from_loaded(&loaded).ok_or("accepted without a stack")?;
    let inputs =
        stackctl::commands::render::read_inputs(stack, dir).map_err(|e| format!("{e:#}"))?;
    let deployment = stackctl::plan::plan(stack, &inputs);
    let mut files = check_tree(&stackctl::render::compose_tree(&deployment))?;
    if depth.kubernetes {
        let (tree, _) = stackctl::render::kubernetes::tree(
            stack,
            &deployment,
            &stackctl::render::kubernetes::Options {
                namespace: None,
                release: None,
            },
        )
        .map_err(|e| format!("kubernetes: {e:#}"))?;
        for (path, text) in &tree {
            if path.ends_with(".yaml") || path.ends_with(".yml") {
                read_yaml(text).map_err(|e| format!("{path}: saphyr: {e}"))?;
                files += 1;
            }
        }
    }
    Ok(Verdict::Rendered(files))
}

struct Case {
    number: usize,
    spec: usize,
    bytes: Vec<u8>,
    what: String,
    depth: Depth,
}

/// Every case, from the seed alone.
fn cases(specs: &[(String, String, PathBuf)]) -> Vec<Case> {
    let mut rng = Rng(SEED);
    (0..CASES)
        .map(|number| {
            let spec = rng.below(specs.len());
            let (mut bytes, mut what) = mutate(&specs[spec].1, &mut rng);
            // Some cases stack a second mutation on the first.
            if rng.below(4) == 0 {
                let (more, w) = mutate(&String::from_utf8_lossy(&bytes), &mut rng);
                bytes = more;
                what = format!("{what}; {w}");
            }
            Case {
                number,
                spec,
                bytes,
                what,
                depth: Depth {
                    render_rejected: number % 10 == 0,
                    kubernetes: number % 10 == 0,
                },
            }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    rejected: usize,
    rendered: usize,
    yaml_files: usize,
    slowest: Duration,
    failures: Vec<String>,
}

/// Runs `cases` one after another in this worker's own stack directories,
/// each in a thread of its own so that a hang is seen, not waited for.
fn worker(specs: &[(String, String, PathBuf)], cases: &[&Case]) -> Tally {
    let dirs: Vec<tempfile::TempDir> = specs
        .iter()
        .map(|(label, text, from)| prepare(label, text, from))
        .collect();
    let mut tally = Tally::default();
    for case in cases {
        let label = &specs[case.spec].0;
        let path = dirs[case.spec].path().to_path_buf();
        let (bytes, depth) = (case.bytes.clone(), case.depth);
        let (tx, rx) = std::sync::mpsc::channel();
        let started = Instant::now();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(|| run_case(&path, &bytes, depth));
            let _ = tx.send(result);
        });
        let outcome = match rx.recv_timeout(CASE_LIMIT) {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("panicked".to_string()),
            Err(_) => Err(format!("hung for more than {CASE_LIMIT:?}")),
        };
        tally.slowest = tally.slowest.max(started.elapsed());
        match outcome {
            Ok(Verdict::Rejected) => tally.rejected += 1,
            Ok(Verdict::Rendered(n)) => {
                tally.rendered += 1;
                tally.yaml_files += n;
            }
            Err(problem) => {
                let keep =
                    std::env::temp_dir().join(format!("stackctl-fuzz-case-{}.yaml", case.number));
                let _ = std::fs::write(&keep, &case.bytes);
                tally.failures.push(format!(
                    "case {} ({label}: {}): {problem} (input kept in {})",
                    case.number,
                    case.what,
                    keep.display()
                ));
                if problem.starts_with("hung") {
                    break;
                }
            }
        }
    }
    tally
}

#[test]
fn mutated_shipped_specs_never_panic_hang_or_write_on_error() {
    let specs = common::shipped_specs();
    let all = cases(&specs);
    let start = Instant::now();
    // Two workers (the machine's cores), each with its own directories; which
    // worker runs a case changes nothing about its result.
    const WORKERS: usize = 2;
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let mine: Vec<&Case> = all.iter().skip(w).step_by(WORKERS).collect();
                let specs = &specs;
                scope.spawn(move || worker(specs, &mine))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let took = start.elapsed();
    let mut total = Tally::default();
    for t in tallies {
        total.rejected += t.rejected;
        total.rendered += t.rendered;
        total.yaml_files += t.yaml_files;
        total.slowest = total.slowest.max(t.slowest);
        total.failures.extend(t.failures);
    }
    println!(
        "mutation fuzz: {CASES} cases (seed {SEED:#x}) in {took:?}: {} rejected, {} accepted and rendered ({} YAML files read back), slowest case {:?}",
        total.rejected, total.rendered, total.yaml_files, total.slowest
    );
    assert!(
        total.failures.is_empty(),
        "{} failures:\n{}",
        total.failures.len(),
        total.failures.join("\n")
    );
    // Both sides of the pipeline must be exercised, or the mutations are too weak or too strong.
    assert!(
        total.rejected > CASES / 10 && total.rendered > CASES / 10,
        "{} rejected, {} rendered",
        total.rejected,
        total.rendered
    );
    assert_eq!(total.rejected + total.rendered, CASES);
}
