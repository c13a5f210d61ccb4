//! Agreement with `promtool check rules`, for each generation: a stack pinned
//! to Prometheus 2.42 against Debian stable's promtool 2.42, and a stack
//! pinned to 3.5 against today's promtool 3.5. On every rule of the corpus
//! (`tests/corpus/rules/*.yml`, written for this test, and the real public
//! collections committed in `tests/fixtures/corpus/rules/`, plus any checkout
//! named by `STACKCTL_RULE_CORPUS`), every rule of every
//! shipped profile, the dialect cases (`tests/corpus/dialect/*.yml`: spellings
//! one generation accepts and the other rejects), and broken variants
//! generated from the corpus (syntax errors, bad durations, label names,
//! template text, duplicate groups…), `stackctl validate` and promtool reach
//! the same valid/invalid verdict.
//!
//! Each case is one rule in its own group (or, for group-level mistakes, the
//! groups that make the mistake). promtool checks all cases in one process,
//! one rule file per case; stackctl checks them in a few stacks, one rule file
//! (`rules.case_NNNN`) per case, pinned to promtool's Prometheus version.
//! A case is invalid for promtool when it prints an error for its file, and for
//! stackctl when it reports an error inside the case.

use crate::common;

use serde_json::{Value, json};
use stackctl::model::stack::RuleGroup;
use std::path::{Path, PathBuf};

/// The Prometheus version Debian stable's promtool is.
const PROMTOOL_VERSION: &str = "v2.42.0";
/// The Prometheus version today's promtool (Debian sid) is.
const PROMTOOL_3_VERSION: &str = "v3.5.0";
/// Broken cases per stack: each one can cost the loader a recovery pass.
const CHUNK: usize = 30;

#[derive(Debug, Clone)]
struct Case {
    /// Where it comes from, for the report.
    origin: String,
    /// The rule groups, as Prometheus' `groups:` list.
    groups: Value,
}

#[derive(serde::Deserialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    // A corpus directory without rule files would make the agreement vacuous.
    assert!(!files.is_empty(), "no .yml rule files in {}", dir.display());
    files.sort();
    files
}

/// Real public rule collections, trimmed into fixtures and committed
/// (`tests/fixtures/corpus/rules`, sources, commits and licences in its
/// README): always checked.
fn committed_corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/rules")
}

/// A larger checkout of real collections (plain rule files with a
/// `SOURCES.md`), optional: `STACKCTL_RULE_CORPUS`.
fn extra_corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("STACKCTL_RULE_CORPUS")?);
    assert!(
        dir.join("SOURCES.md").is_file(),
        "STACKCTL_RULE_CORPUS={} has no SOURCES.md naming where its files come from",
        dir.display()
    );
    Some(dir)
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files = yml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/rules"));
    files.extend(yml_files(&committed_corpus_dir()));
    if let Some(dir) = extra_corpus_dir() {
        files.extend(yml_files(&dir));
    }
    files
}

/// Rules one generation accepts and the other rejects (UTF-8 names, `1_000`,
/// durations as numbers, `[5 m]`, template functions by release…).
fn dialect_cases() -> Vec<Case> {
    yml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/dialect"))
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            split(&format!("dialect/{name}"), &load_groups(&text))
        })
        .collect()
}

fn load_groups(text: &str) -> Vec<RuleGroup> {
    let mut problems = Vec::new();
    let tree = stackctl::yaml::node::parse(text, &mut problems).expect("corpus YAML parses");
    let loaded = stackctl::yaml::de::load::<RuleFile>(tree);
    assert!(
        loaded.problems.is_empty(),
        "corpus file does not load: {:?}",
        loaded.problems
    );
    loaded.value.expect("corpus file").groups
}

/// One case per rule, keeping its group's name and settings.
fn split(origin: &str, groups: &[RuleGroup]) -> Vec<Case> {
    let mut out = Vec::new();
    for group in groups {
        for (i, rule) in group.rules.iter().enumerate() {
            let mut g = serde_json::to_value(group).unwrap();
            g["rules"] = json!([serde_json::to_value(rule).unwrap()]);
            out.push(Case {
                origin: format!(
                    "{origin} / {} / rule {} ({})",
                    group.name,
                    i + 1,
                    rule.name()
                ),
                groups: json!([g]),
            });
        }
    }
    out
}

fn corpus_cases() -> Vec<Case> {
    corpus_files()
        .iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            // Relative to the repository when it is inside it.
            let shown = path
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(path)
                .display()
                .to_string();
            split(&shown, &load_groups(&text))
        })
        .collect()
}

fn profile_cases() -> Vec<Case> {
    stackctl::profiles::PROFILES
        .iter()
        .flat_map(|profile| {
            let loaded = stackctl::load::load_text("stack.yaml", profile.text.to_string());
            let stack = loaded
                .stack
                .unwrap_or_else(|| panic!("profile {} loads", profile.name));
            stack
                .rules
                .iter()
                .flat_map(|(file, groups)| {
                    split(&format!("profile {} / rules.{file}", profile.name), groups)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A way to break a rule, applied to the rule as Prometheus writes it.
struct Mutation {
    name: &'static str,
    apply: fn(&mut serde_json::Map<String, Value>) -> bool,
}

fn expr(rule: &mut serde_json::Map<String, Value>) -> &mut String {
    match rule.get_mut("expr") {
        Some(Value::String(s)) => s,
        _ => unreachable!("every rule has an expr"),
    }
}

fn is_alert(rule: &serde_json::Map<String, Value>) -> bool {
    rule.contains_key("alert")
}

fn first_annotation(rule: &mut serde_json::Map<String, Value>) -> Option<&mut String> {
    match rule
        .get_mut("annotations")?
        .as_object_mut()?
        .values_mut()
        .next()?
    {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn replace_first(s: &mut String, re: &str, with: &str) -> bool {
    let re = regex::Regex::new(re).unwrap();
    let replaced = re.replace(s, with).into_owned();
    let changed = replaced != *s;
    *s = replaced;
    changed
}

const MUTATIONS: &[Mutation] = &[
    Mutation {
        name: "expr: last `)` removed",
        apply: |r| {
            let e = expr(r);
            match e.rfind(')') {
                Some(i) => {
                    e.remove(i);
                    true
                }
                None => false,
            }
        },
    },
    Mutation {
        name: "expr: `by` without parentheses",
        apply: |r| replace_first(expr(r), r"by \(([a-z_]+)\)", "by $1"),
    },
    Mutation {
        name: "expr: space inside a range",
        apply: |r| replace_first(expr(r), r"\[(\d+)([smhdwy])\]", "[$1 $2]"),
    },
    Mutation {
        name: "expr: range in words",
        apply: |r| replace_first(expr(r), r"\[(\d+)m\]", "[$1min]"),
    },
    Mutation {
        name: "expr: misspelt function",
        apply: |r| replace_first(expr(r), r"\brate\(", "rte("),
    },
    Mutation {
        name: "expr: misspelt aggregation",
        apply: |r| replace_first(expr(r), r"\bsum (by|without)", "summ $1"),
    },
    Mutation {
        name: "expr: doubled operator",
        apply: |r| replace_first(expr(r), r" > ", " > * "),
    },
    Mutation {
        name: "expr: trailing operator",
        apply: |r| {
            expr(r).push_str(" and");
            true
        },
    },
    Mutation {
        name: "expr: unquoted matcher value",
        apply: |r| replace_first(expr(r), r#"=~?"([a-z]+)""#, "=$1"),
    },
    Mutation {
        name: "expr: broken regex",
        apply: |r| replace_first(expr(r), r#"=~""#, "=~\"("),
    },
    Mutation {
        name: "expr: rate of an instant vector",
        apply: |r| {
            replace_first(
                expr(r),
                r"rate\(([a-z_]+(\{[^}]*\})?)\[\d+[smhd]\]\)",
                "rate($1)",
            )
        },
    },
    Mutation {
        name: "expr: empty",
        apply: |r| {
            *expr(r) = String::new();
            true
        },
    },
    Mutation {
        name: "expr: string comparison",
        apply: |r| replace_first(expr(r), r" == 0$", " == \"0\""),
    },
    Mutation {
        name: "for: in words",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.insert("for".into(), json!("5 minutes"));
            true
        },
    },
    Mutation {
        name: "for: no unit",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.insert("for".into(), json!("5"));
            true
        },
    },
    Mutation {
        name: "for: units out of order",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.insert("for".into(), json!("30m1h"));
            true
        },
    },
    Mutation {
        name: "label: dash in the name",
        apply: |r| {
            r.entry("labels")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("team-name".into(), json!("x"));
            true
        },
    },
    Mutation {
        name: "label: starts with a digit",
        apply: |r| {
            r.entry("labels")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("1st".into(), json!("x"));
            true
        },
    },
    Mutation {
        name: "label: __name__",
        apply: |r| {
            r.entry("labels")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("__name__".into(), json!("x"));
            true
        },
    },
    Mutation {
        name: "annotation: unclosed action",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ $labels.instance"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: undefined variable",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ $lables.job }}"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: unknown function",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ $value | humanise }}"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: if without end",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ if $value }}high"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: end without block",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ end }}"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: unterminated string",
        apply: |r| {
            first_annotation(r)
                .map(|a| a.push_str(" {{ printf \"%.2f $value }}"))
                .is_some()
        },
    },
    Mutation {
        name: "annotation: dash in the name",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.entry("annotations")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("runbook-url".into(), json!("x"));
            true
        },
    },
    Mutation {
        name: "label: unclosed template in an alert label",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.entry("labels")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("owner".into(), json!("{{ $labels.team"));
            true
        },
    },
    Mutation {
        name: "record: dash in the name",
        apply: |r| match r.get_mut("record") {
            Some(Value::String(s)) => {
                *s = s.replace(':', "-");
                true
            }
            _ => false,
        },
    },
    Mutation {
        name: "record: with `for`",
        apply: |r| {
            if is_alert(r) {
                return false;
            }
            r.insert("for".into(), json!("5m"));
            true
        },
    },
    Mutation {
        name: "record: with annotations",
        apply: |r| {
            if is_alert(r) {
                return false;
            }
            r.insert("annotations".into(), json!({"summary": "x"}));
            true
        },
    },
    Mutation {
        name: "both record and alert",
        apply: |r| {
            if !is_alert(r) {
                return false;
            }
            r.insert("record".into(), json!("job:x:sum"));
            true
        },
    },
    Mutation {
        name: "neither record nor alert",
        apply: |r| {
            r.remove("alert");
            r.remove("record");
            true
        },
    },
    Mutation {
        name: "unknown key",
        apply: |r| {
            r.insert("annotation".into(), json!({"summary": "x"}));
            true
        },
    },
    Mutation {
        name: "label value is a list",
        apply: |r| {
            r.entry("labels")
                .or_insert(json!({}))
                .as_object_mut()
                .unwrap()
                .insert("team".into(), json!(["a", "b"]));
            true
        },
    },
];

/// How many rules each mutation is applied to, spread over the corpus.
const PER_MUTATION: usize = 5;

fn mutated_cases(corpus: &[Case]) -> Vec<Case> {
    let mut out = Vec::new();
    for m in MUTATIONS {
        let applicable: Vec<(&Case, Value)> = corpus
            .iter()
            .filter_map(|case| {
                let mut groups = case.groups.clone();
                let rule = groups[0]["rules"][0].as_object_mut().unwrap();
                (m.apply)(rule).then_some((case, groups))
            })
            .collect();
        assert!(
            applicable.len() >= PER_MUTATION,
            "mutation `{}` applies to too few rules",
            m.name
        );
        let stride = applicable.len() / PER_MUTATION;
        for (case, groups) in applicable.into_iter().step_by(stride).take(PER_MUTATION) {
            out.push(Case {
                origin: format!("{} <- {}", m.name, case.origin),
                groups,
            });
        }
    }
    // Group-level mistakes.
    for (i, case) in corpus
        .iter()
        .step_by(corpus.len() / PER_MUTATION)
        .take(PER_MUTATION)
        .enumerate()
    {
        let group = case.groups[0].clone();
        out.push(Case {
            origin: format!("group: duplicate name <- {}", case.origin),
            groups: json!([group.clone(), group.clone()]),
        });
        let mut unnamed = group.clone();
        unnamed["name"] = json!("");
        out.push(Case {
            origin: format!("group: empty name <- {}", case.origin),
            groups: json!([unnamed]),
        });
        if i == 0 {
            let mut interval = group.clone();
            interval["interval"] = json!("1 minute");
            out.push(Case {
                origin: format!("group: interval in words <- {}", case.origin),
                groups: json!([interval]),
            });
        }
    }
    out
}

/// promtool's verdict for each case file: invalid when it reports an error for it.
fn promtool_verdicts(promtool: &Path, files: &[PathBuf]) -> Vec<bool> {
    let out = std::process::Command::new(promtool)
        .arg("check")
        .arg("rules")
        .args(files)
        .output()
        .expect("promtool runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    files
        .iter()
        .map(|f| {
            let prefix = format!("{}: ", f.display());
            stderr.lines().any(|l| l.starts_with(&prefix))
        })
        .collect()
}

/// stackctl's verdict for each case of one stack: invalid when an error falls
/// inside the case (by model path, or by line for problems found while loading).
fn stackctl_verdicts(cases: &[(String, &Case)], version: &str) -> Vec<bool> {
    let mut rules = serde_json::Map::new();
    for (key, case) in cases {
        rules.insert(key.clone(), case.groups.clone());
    }
    let stack = json!({
        "stackctl": 1,
        "name": "agreement",
        "components": {"prometheus": {"version": version}},
        "rules": rules,
    });
    let text = stackctl::yaml::emit::to_yaml(&stack);
    // Line ranges of each case's rule file in the stack.
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(pos) = cases
            .iter()
            .position(|(key, _)| line == format!("  {key}:"))
        {
            starts.push((n + 1, pos));
        }
    }
    assert_eq!(starts.len(), cases.len(), "every case key is in the stack");
    let dir = common::spec_dir(&text);
    let (code, stdout, stderr) = common::run_in(dir.path(), &["validate", "--format", "json"]);
    assert!(code == 0 || code == 1, "stackctl failed to run: {stderr}");
    let diags: Vec<Value> = serde_json::from_str(&stdout).expect("JSON diagnostics");
    let mut invalid = vec![false; cases.len()];
    for d in diags.iter().filter(|d| d["severity"] == "error") {
        let by_path = d["path"].as_str().and_then(|p| {
            cases.iter().position(|(key, _)| {
                p == format!("rules.{key}")
                    || p.starts_with(&format!("rules.{key}["))
                    || p.starts_with(&format!("rules.{key}."))
            })
        });
        let by_line = d["line"].as_u64().and_then(|line| {
            starts
                .iter()
                .rev()
                .find(|(start, _)| *start as u64 <= line)
                .map(|(_, pos)| *pos)
        });
        match by_path.or(by_line) {
            Some(i) => invalid[i] = true,
            None => panic!("an error outside every case: {d}"),
        }
    }
    invalid
}

#[test]
fn stackctl_agrees_with_promtool_2() {
    let Some(promtool) = common::require_consumer(
        common::Generation::Bookworm,
        "promtool",
        "agreement with `promtool check rules` 2.42",
    ) else {
        return;
    };
    agreement(&promtool, PROMTOOL_VERSION, 90);
}

#[test]
fn stackctl_agrees_with_promtool_3() {
    let Some(promtool) = common::require_consumer(
        common::Generation::Current,
        "promtool",
        "agreement with `promtool check rules` 3.5",
    ) else {
        return;
    };
    agreement(&promtool, PROMTOOL_3_VERSION, 80);
}

/// Every case checked by `promtool` and by stackctl pinned to `version`;
/// at least `broken_percent` of the broken variants must really be broken
/// (Prometheus 3 takes some of them: `[5 m]`, names with `-`).
fn agreement(promtool: &Path, version: &str, broken_percent: usize) {
    let corpus = corpus_cases();
    assert!(
        corpus.len() >= 300,
        "the corpus has {} rules; it needs at least 300",
        corpus.len()
    );
    // The committed real collections are in it, rule by rule.
    let real = corpus
        .iter()
        .filter(|c| c.origin.starts_with("tests/fixtures/corpus/rules/"))
        .count();
    assert!(real >= 300, "{real} real rules in the committed corpus");
    let profiles = profile_cases();
    let broken = mutated_cases(&corpus);
    let dialect = dialect_cases();
    assert!(dialect.len() >= 20, "the dialect cases are missing");
    let valid_count = corpus.len() + profiles.len();
    let broken_count = broken.len();
    // stackctl wants group names unique in the whole stack (promtool sees one
    // file at a time): give every case's groups their own names.
    let cases: Vec<Case> = corpus
        .into_iter()
        .chain(profiles)
        .chain(broken)
        .chain(dialect)
        .enumerate()
        .map(|(i, mut case)| {
            for group in case.groups.as_array_mut().unwrap() {
                if let Some(name) = group["name"].as_str().filter(|n| !n.is_empty()) {
                    group["name"] = json!(format!("{name}.c{i:04}"));
                }
            }
            case
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let path = dir.path().join(format!("case_{i:04}.yml"));
            std::fs::write(
                &path,
                stackctl::yaml::emit::to_yaml(&json!({"groups": case.groups})),
            )
            .unwrap();
            path
        })
        .collect();
    let theirs = promtool_verdicts(promtool, &files);

    // Valid rules in one stack; broken and dialect ones in small stacks.
    let keyed: Vec<(String, &Case)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("case_{i:04}"), c))
        .collect();
    let mut ours = stackctl_verdicts(&keyed[..valid_count], version);
    for chunk in keyed[valid_count..].chunks(CHUNK) {
        ours.extend(stackctl_verdicts(chunk, version));
    }

    let mut disagreements = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if ours[i] != theirs[i] {
            let verdict = |invalid: bool| if invalid { "invalid" } else { "valid" };
            disagreements.push(format!(
                "case_{i:04} ({}): stackctl ({version}) says {}, promtool says {}\n{}",
                case.origin,
                verdict(ours[i]),
                verdict(theirs[i]),
                stackctl::yaml::emit::to_yaml(&json!({"groups": case.groups}))
            ));
        }
    }
    let broken_range = valid_count..valid_count + broken_count;
    let broken_invalid = theirs[broken_range.clone()].iter().filter(|b| **b).count();
    let dialect_invalid = theirs[broken_range.end..].iter().filter(|b| **b).count();
    eprintln!(
        "agreement with promtool {version}: {} cases ({} valid rules: corpus ({real} of them real, from tests/fixtures/corpus) and profiles; {} broken variants, {} of them invalid for promtool; {} dialect cases, {} of them invalid for promtool), {} disagreements",
        cases.len(),
        valid_count,
        broken_count,
        broken_invalid,
        cases.len() - broken_range.end,
        dialect_invalid,
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    let rejected: Vec<&str> = (0..valid_count)
        .filter(|&i| theirs[i])
        .map(|i| cases[i].origin.as_str())
        .collect();
    assert!(
        rejected.is_empty(),
        "the corpus and profiles are valid rules; promtool {version} rejects {rejected:#?}"
    );
    assert!(
        broken_invalid * 100 >= broken_count * broken_percent,
        "most broken variants are really broken"
    );
    // The dialect cases tell the generations apart both ways.
    assert!(
        dialect_invalid > 0 && dialect_invalid < cases.len() - broken_range.end,
        "the dialect cases have valid and invalid ones for promtool {version}"
    );
}

/// Where the verdicts differ on purpose, each with its reason (also listed in
/// docs/validate.md). Asserted both ways so the documentation stays true.
struct Difference {
    name: &'static str,
    /// Prometheus version the stack pins.
    version: &'static str,
    groups: &'static str,
    stackctl_invalid: bool,
    promtool_invalid: bool,
}

const DIFFERENCES: &[Difference] = &[
    // promtool 2.42 cannot know Prometheus 3: the stack pins 3.x.
    Difference {
        name: "quoted UTF-8 metric name on Prometheus 3",
        version: "v3.14.0",
        groups: "- name: g\n  rules:\n  - record: job:x:sum\n    expr: sum by (job) ({\"my.metric\"})\n",
        stackctl_invalid: false,
        promtool_invalid: true,
    },
    Difference {
        name: "range as a plain number of seconds on Prometheus 3",
        version: "v3.14.0",
        groups: "- name: g\n  rules:\n  - record: job:x:rate\n    expr: rate(x[300])\n",
        stackctl_invalid: false,
        promtool_invalid: true,
    },
    Difference {
        name: "holt_winters on Prometheus 3 (renamed)",
        version: "v3.14.0",
        groups: "- name: g\n  rules:\n  - record: job:x:hw\n    expr: holt_winters(x[1h], 0.5, 0.5)\n",
        stackctl_invalid: true,
        promtool_invalid: false,
    },
    // stackctl is stricter than Prometheus where the spec is almost surely wrong.
    Difference {
        name: "annotation without a value",
        version: PROMTOOL_VERSION,
        groups: "- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels:\n      severity: warning\n    annotations:\n      summary:\n",
        stackctl_invalid: true,
        promtool_invalid: false,
    },
    Difference {
        name: "group without `rules`",
        version: PROMTOOL_VERSION,
        groups: "- name: g\n",
        stackctl_invalid: true,
        promtool_invalid: false,
    },
    Difference {
        name: "the same group name in two rule files",
        version: PROMTOOL_VERSION,
        groups: "- name: g\n  rules:\n  - record: a\n    expr: up\n",
        stackctl_invalid: false, // a warning since issue 13: Prometheus allows it
        promtool_invalid: false,
    },
    Difference {
        name: "negative group limit",
        version: PROMTOOL_VERSION,
        groups: "- name: g\n  limit: -1\n  rules:\n  - record: a\n    expr: up\n",
        stackctl_invalid: true,
        promtool_invalid: false,
    },
];

#[test]
fn documented_differences_hold() {
    let Some(promtool) =
        common::require_tool("promtool", "the documented differences from promtool")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for d in DIFFERENCES {
        let file = dir.path().join("rules.yml");
        std::fs::write(&file, format!("groups:\n{}", d.groups)).unwrap();
        let promtool_invalid = promtool_verdicts(&promtool, std::slice::from_ref(&file))[0];
        let indented: String = d.groups.lines().map(|l| format!("    {l}\n")).collect();
        // The same groups in a second rule file, for the one difference that needs two.
        let second = if d.name.contains("two rule files") {
            format!("  r2:\n{indented}")
        } else {
            String::new()
        };
        let stack = common::spec_dir(&format!(
            "stackctl: 1\nname: difference\ncomponents:\n  prometheus:\n    version: {}\nrules:\n  r:\n{indented}{second}",
            d.version
        ));
        let (code, _, stderr) = common::run_in(stack.path(), &["validate"]);
        assert!(code == 0 || code == 1, "{}: {stderr}", d.name);
        assert_eq!(
            (code == 1, promtool_invalid),
            (d.stackctl_invalid, d.promtool_invalid),
            "{}: {stderr}",
            d.name
        );
    }
}
