//! Property test of the YAML emitter: every string, written by
//! `stackctl::yaml::emit` as a value, as a key, at several depths, in lists and
//! maps, reads back as exactly the same string with a YAML 1.1 reader (PyYAML's
//! SafeLoader, the reader of Compose v1) and a YAML 1.2 reader (saphyr).
//!
//! The corpus: every scalar spelling the YAML 1.1 and 1.2 schemas resolve to a
//! non-string (booleans in every case, null, ints in every base, floats,
//! sexagesimal, timestamps, `=`, `<<`), indicators, document markers, spaces
//! and every kind of line break and invisible character, combined with
//! prefixes and suffixes; plus random strings from a fixed seed over an
//! alphabet weighted towards YAML syntax.

use crate::yaml_readers;

use serde_json::{Map, Value, json};
use stackctl::yaml::emit::to_yaml;
use std::collections::BTreeSet;

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Case variants of a word: lower, upper, title, and every other mix for short words.
fn cases(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() <= 5 {
        (0..1u32 << chars.len())
            .map(|mask| {
                chars
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if mask & (1 << i) != 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            })
            .collect()
    } else {
        let mut title = word.to_string();
        title[..1].make_ascii_uppercase();
        vec![word.to_lowercase(), word.to_uppercase(), title]
    }
}

fn tricky() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "infinity",
    ] {
        out.extend(cases(w));
    }
    let numbers = [
        "0",
        "7",
        "017",
        "0o17",
        "0O17",
        "0x1F",
        "0X1f",
        "0x_1F",
        "0b101",
        "0B1_0",
        "1_000",
        "1__0",
        "_1",
        "1:20",
        "190:20:30",
        "190:20:30.15",
        "1:2:3:4",
        "09:00",
        "1.",
        ".5",
        "0.5",
        "1.5e3",
        "1e3",
        "1E+3",
        "1e-3",
        "6.8523015e+5",
        "685.230_15e+03",
        "1.2.3",
        "0x1p-2",
        ".inf",
        ".Inf",
        ".INF",
        ".nan",
        ".NaN",
        ".NAN",
        "12e",
        "1_2_3.4_5",
        "0.",
        "00",
        "-0",
        "1.0e+",
        "0e0",
        "0xdeadBEEF",
        "0x",
        "0o",
        "0b",
    ];
    for n in numbers {
        for sign in ["", "+", "-"] {
            out.push(format!("{sign}{n}"));
        }
    }
    for t in [
        "2026-01-01",
        "2026-1-1",
        "2026-01-01T10:00:00Z",
        "2026-01-01t10:00:00.5+02:00",
        "2026-01-01 10:00:00",
        "2026-01-01   10:00:00 -5",
        "2001-12-14 21:59:43.10 -5",
    ] {
        out.push(t.into());
    }
    for s in [
        "",
        " ",
        "  ",
        "~",
        "=",
        "<<",
        "-",
        "--",
        "---",
        "...",
        "- x",
        "-x",
        "--flag=1",
        "?",
        "? x",
        "?x",
        ":",
        ":x",
        "x:",
        "x: y",
        "x:y",
        "#",
        "x #y",
        "x#y",
        "&a",
        "*a",
        "!tag",
        "!!str x",
        "|",
        ">",
        "|-",
        "'",
        "\"",
        "''",
        "\"\"",
        "%YAML",
        "@x",
        "`x",
        "{",
        "}",
        "[",
        "]",
        ",",
        "{a: 1}",
        "[1, 2]",
        "a, b",
        "\\",
        "\\n",
        "\\u2028",
        "$HOME",
        "${VAR}",
        "$$",
        "{{ $value }}",
        "{{instance}}",
        "a\tb",
        "\t",
        "a\n",
        "\n",
        "\n\n",
        "a\nb",
        "a\n\nb\n\n",
        " a\nb",
        "a \nb",
        "a\n b",
        "\na",
        "\n a",
        "a\r\nb",
        "a\rb",
        "\u{85}",
        "a\u{85}b",
        "\u{2028}",
        "a\u{2028}b",
        "\u{2029}",
        "a\u{2029}b",
        "x\u{2028}remote_write: y",
        "\u{feff}",
        "\u{feff}x",
        "x\u{feff}",
        "\u{a0}",
        "x\u{a0}",
        "\u{a0}x",
        "\u{200b}",
        "\u{202e}abc",
        "\u{fffe}",
        "\u{ffff}",
        "\u{0}",
        "\u{1}",
        "\u{7}",
        "\u{1b}[31m",
        "\u{7f}",
        "\u{80}",
        "\u{9b}",
        "\u{9f}",
        "\u{e0001}",
        "\u{10ffff}",
        "é",
        "日本語",
        "🙂",
        "a 🙂 b",
        "key: 🙂",
        "\u{3000}x",
        "line1\u{2028}line2\nline3",
        "--- x",
        "... x",
        "x ---",
        "a:\u{2028}b",
        "%",
        "a %",
        "0x1F\n",
        "yes\n",
        "=\n",
        "http://user:pass@host:9090/x?y=1#z",
    ] {
        out.push(s.into());
    }
    // Every typed-looking word and indicator, also behind a prefix, before a
    // suffix and wrapped in spaces or breaks, where readers differ most.
    let base = out.clone();
    for s in base.iter().take(400) {
        for (pre, post) in [
            (" ", ""),
            ("", " "),
            ("x", ""),
            ("", "x"),
            ("\n", ""),
            ("", "\n"),
            ("\u{2028}", ""),
            ("", "\u{85}"),
            ("- ", ""),
            ("", ":"),
        ] {
            out.push(format!("{pre}{s}{post}"));
        }
    }
    out
}

fn random(rng: &mut Rng, count: usize) -> Vec<String> {
    let alphabet: Vec<char> = "ab yn01xoe.:_-+#&*!|>'\"%@`,[]{}?=<~\\/\t\n\n\r"
        .chars()
        .chain([
            '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{200b}', '\u{1}', '\u{7f}',
            '\u{9b}', 'é', '日', '🙂', '\u{fffd}',
        ])
        .collect();
    (0..count)
        .map(|_| {
            let len = rng.below(12);
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        })
        .collect()
}

/// The document every string is written into: as a top-level and nested
/// value, in a list at two depths and as a key.
fn document(strings: &[String]) -> Value {
    let mut values = Map::new();
    let mut keys = Map::new();
    for (i, s) in strings.iter().enumerate() {
        values.insert(format!("k{i}"), Value::String(s.clone()));
        keys.insert(s.clone(), json!(i.to_string()));
    }
    json!({
        "list": strings,
        "map": values,
        "keys": keys,
        "deep": [{"a": {"b": [strings, {"c": strings}]}}],
    })
}

fn first_difference(expected: &Value, got: &Value, path: &str) -> Option<String> {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &format!("{path}.{k:?}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}: key {k:?} missing")),
                }
            }
            (a.len() != b.len()).then(|| {
                format!(
                    "{path}: extra keys {:?}",
                    b.keys().filter(|k| !a.contains_key(*k)).collect::<Vec<_>>()
                )
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(v, w, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| format!("{path}: {} items, read {}", a.len(), b.len()))
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: wrote {a}, read {b}")),
    }
}

#[test]
fn every_string_reads_back_unchanged_in_yaml_1_1_and_1_2() {
    let start = std::time::Instant::now();
    let mut rng = Rng(0x5eed_2026_1202);
    let mut strings = tricky();
    let tricky_count = strings.len();
    strings.extend(random(&mut rng, 3000));
    // Keys must be unique within the `keys` map.
    let mut seen = BTreeSet::new();
    strings.retain(|s| seen.insert(s.clone()));

    let chunks: Vec<&[String]> = strings.chunks(500).collect();
    let docs: Vec<Value> = chunks.iter().map(|c| document(c)).collect();
    let texts: Vec<String> = docs.iter().map(to_yaml).collect();

    let mut failures = Vec::new();
    for (doc, text) in docs.iter().zip(&texts) {
        match yaml_readers::saphyr_docs(text) {
            Ok(read) if read.len() == 1 => {
                if let Some(d) = first_difference(doc, &read[0], "") {
                    failures.push(format!("saphyr (YAML 1.2): {d}"));
                }
            }
            Ok(read) => failures.push(format!("saphyr: {} documents", read.len())),
            Err(e) => failures.push(format!("saphyr cannot read: {e}")),
        }
    }
    let mut pyyaml = "not checked";
    if yaml_readers::pyyaml_available() {
        pyyaml = "checked";
        for (doc, read) in docs.iter().zip(yaml_readers::pyyaml_docs(&texts)) {
            match read {
                Ok(read) if read.len() == 1 => {
                    if let Some(d) = first_difference(doc, &read[0], "") {
                        failures.push(format!("PyYAML (YAML 1.1): {d}"));
                    }
                }
                Ok(read) => failures.push(format!("PyYAML: {} documents", read.len())),
                Err(e) => failures.push(format!("PyYAML cannot read: {e}")),
            }
        }
    }
    println!(
        "{} strings ({tricky_count} tricky, the rest random), each written 6 ways: saphyr checked, PyYAML {pyyaml}, {:.1}s",
        strings.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
}
