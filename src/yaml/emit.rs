//! Writes a `serde_json::Value` as block-style YAML.
//!
//! Every rendered YAML file goes through here, built as a typed value first and
//! never by pasting user text into a template: a string that holds `: `, `#`,
//! quotes, `{{ $labels.instance }}` or newlines is quoted so that Prometheus,
//! Alertmanager, Loki and Compose read back exactly the string we meant.
//! Quoting is conservative: anything a YAML 1.1 reader (Go's yaml.v2, PyYAML in
//! docker-compose v1) could take for a number, boolean, null or date is quoted.

use serde_json::Value;
use std::fmt::Write as _;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        // The first entry of a map inside a list item shares the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        out.push_str(&key_string(key));
        out.push(':');
        write_value_after_key(out, value, level);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, level + 1);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            // Lists under a key are indented one level, the style most configs use.
            write_seq(out, items, level + 1);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, level + 1));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => write_map(out, map, level + 1),
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, level + 1);
            }
            scalar => {
                out.push_str(&inline(scalar, level + 1));
                out.push('\n');
            }
        }
    }
}

fn inline(value: &Value, level: usize) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s, level),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

/// A string as a YAML scalar: plain when unambiguous, a literal block for clean
/// multi-line text, double-quoted otherwise.
pub fn scalar_string(s: &str, level: usize) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    if let Some(block) = literal_block(s, level) {
        return block;
    }
    double_quoted(s)
}

/// A mapping key: plain when unambiguous, else double-quoted on one line. A
/// block scalar is never a valid implicit key, so multi-line keys (which
/// validate rejects anyway) still come out as one escaped line.
pub fn key_string(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// A double-quoted YAML scalar. Everything a reader could take for a line
/// break (`\n`, `\r`, NEL, U+2028, U+2029), every non-printable character
/// (YAML 1.1 readers such as PyYAML reject those even inside quotes) and every
/// invisible formatting character is written as an escape, so the quoted text
/// stays on one line and reads back as exactly `s`.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let code = c as u32;
                let _ = if code < 0x100 {
                    write!(out, "\\x{code:02x}")
                } else if code < 0x10000 {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters never written raw: ASCII and C1 controls, every Unicode line
/// break and non-ASCII space (NEL U+0085, NBSP, U+2028, U+2029, …), the
/// zero-width and bidirectional formatting characters, the BOM, and the
/// non-characters YAML calls non-printable.
pub fn needs_escape(c: char) -> bool {
    if c == ' ' {
        return false;
    }
    c.is_control()
        || c.is_whitespace()
        || matches!(c as u32,
            0x00AD
            | 0x061C
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xD800..=0xDFFF
            | 0xFEFF
            | 0xFFF9..=0xFFFF
            | 0x1FFFE..=0x1FFFF
            | 0xE0000..=0xE007F
            | 0xF0000..=0x10FFFF)
}

fn literal_block(s: &str, level: usize) -> Option<String> {
    // A top-level block scalar would start at column 0, where `---` or `...`
    // in the text would end the document.
    if level == 0 || !s.contains('\n') {
        return None;
    }
    // Only `\n` may be a line break here and only visible text may follow the
    // indentation: a tab, CR, NEL, U+2028 or control char goes double-quoted.
    if s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    // The indentation of a literal block is taken from its first non-empty
    // line, so that line may not start with a space; trailing spaces on a line
    // survive a literal block but are easy to lose in an editor, so both go
    // double-quoted.
    let first = body.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first.is_empty() || first.starts_with(' ') || body.split('\n').any(|l| l.ends_with(' ')) {
        return None;
    }
    let chomp = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    let mut out = String::from(chomp);
    for line in s
        .split('\n')
        .take(body.split('\n').count() + trailing.saturating_sub(1))
    {
        out.push('\n');
        if !line.is_empty() {
            for _ in 0..level {
                out.push_str("  ");
            }
            out.push_str(line);
        }
    }
    Some(out)
}

fn is_plain_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-` alone or `- x` starts a list; `-foo` and `--flag` are plain-safe.
        if first != '-' || s.len() == 1 || s.starts_with("- ") || s.starts_with("---") {
            return false;
        }
    }
    if s.starts_with("...") {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(needs_escape) {
        return false;
    }
    if s.contains(['{', '}', '[', ']', ',']) {
        // Plain scalars may hold these in block context, but they are an
        // invitation to misreading; quote them.
        return false;
    }
    !looks_typed(s)
}

/// True for strings that some YAML 1.1 or 1.2 reader (PyYAML in Compose v1,
/// go-yaml v2/v3 in Prometheus, Alertmanager and Compose v2, a YAML 1.2 core
/// schema reader) resolves to something other than a string. Deliberately
/// wider than any one schema: quoting a string that is not ambiguous costs two
/// characters, leaving one bare that is changes the value.
fn looks_typed(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    // Booleans of YAML 1.1 (including y/n) and 1.2, null, the 1.1 merge key
    // `<<` and value key `=` (PyYAML resolves both to their own tags).
    if matches!(
        lower.as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "<<" | "="
    ) {
        return true;
    }
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    // Infinity and NaN: `.inf` in YAML, and also `inf`, `infinity` and `nan`
    // after a sign, which go-yaml hands to Go's ParseFloat.
    if matches!(
        unsigned,
        ".inf" | "inf" | "infinity" | ".infinity" | ".nan" | "nan"
    ) {
        return true;
    }
    // Integers with a base prefix (`0x1F`, `0o17`, `0b101`, Go hex floats).
    for (prefix, digits) in [
        ("0x", "0123456789abcdef_.p+-"),
        ("0o", "01234567_"),
        ("0b", "01_"),
    ] {
        if let Some(rest) = unsigned.strip_prefix(prefix) {
            if rest.chars().all(|c| digits.contains(c)) {
                return true;
            }
        }
    }
    // Decimal, octal (`017`), `1_000`, floats (`1e3`, `.5`, `1.`), sexagesimal
    // (`1:20`, `190:20:30.15`): digits with separators, signs and exponents.
    if unsigned.chars().any(|c| c.is_ascii_digit())
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || "_.:e+-".contains(c))
    {
        return true;
    }
    // YAML 1.1 timestamps: anything that starts like a date `YYYY-M`.
    let b = s.as_bytes();
    b.len() >= 6 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_layout() {
        let doc = json!({
            "global": {"scrape_interval": "15s"},
            "scrape_configs": [
                {"job_name": "api", "static_configs": [{"targets": ["api:8000"]}]},
            ],
            "empty": [],
        });
        assert_eq!(
            to_yaml(&doc),
            "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: api\n    static_configs:\n      - targets:\n          - api:8000\nempty: []\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for (input, expected) in [
            ("{{ $labels.instance }}", "\"{{ $labels.instance }}\""),
            ("a: b", "\"a: b\""),
            ("x #y", "\"x #y\""),
            ("yes", "\"yes\""),
            ("2020-10-24", "\"2020-10-24\""),
            ("9090", "\"9090\""),
            ("0.95", "\"0.95\""),
            ("", "\"\""),
            (" lead", "\" lead\""),
            ("say \"hi\"", "say \"hi\""),
            ("15s", "15s"),
            ("--config.file=/etc/x.yml", "--config.file=/etc/x.yml"),
            ("$HOME", "$HOME"),
            ("^/(sys|proc)($|/)", "^/(sys|proc)($|/)"),
        ] {
            assert_eq!(scalar_string(input, 0), expected, "{input}");
        }
    }

    #[test]
    fn multiline_uses_literal_blocks_with_exact_chomping() {
        let doc = json!({"a": {"text": "line1\nline2\n", "b": "x\ny", "c": "x\n\n"}});
        let out = to_yaml(&doc);
        assert_eq!(
            out,
            "a:\n  text: |\n    line1\n    line2\n  b: |-\n    x\n    y\n  c: |+\n    x\n\n"
        );
    }

    #[test]
    fn typed_looking_strings_are_quoted() {
        for s in [
            "0x1F",
            "0o17",
            "017",
            "1_000",
            "+1",
            "1:20",
            "190:20:30.15",
            ".inf",
            "-.Inf",
            "+inf",
            "1e3",
            ".5",
            "1.",
            "YES",
            "Off",
            "y",
            "N",
            "NULL",
            "~",
            "=",
            "<<",
            "2026-01-01T10:00:00Z",
            "2026-1-1 10:00:00",
            "...",
            "0b101",
            "0x1p-2",
        ] {
            assert_eq!(scalar_string(s, 1), double_quoted(s), "{s}");
        }
        for s in [
            "15s", "1m", "v2.45.0", "api:8000", "-foo", "yess", "=x", "a=b",
        ] {
            assert_eq!(scalar_string(s, 1), s, "{s}");
        }
    }

    #[test]
    fn line_breaks_and_invisible_chars_are_escaped() {
        assert_eq!(double_quoted("a\u{2028}b"), "\"a\\u2028b\"");
        assert_eq!(double_quoted("a\u{2029}b\u{85}c"), "\"a\\u2029b\\x85c\"");
        assert_eq!(
            double_quoted("\u{feff}\u{202e}\u{e0001}"),
            "\"\\ufeff\\u202e\\U000e0001\""
        );
        // Never a literal block, never a raw break.
        assert_eq!(scalar_string("a\nb\u{2028}c", 1), "\"a\\nb\\u2028c\"");
        assert_eq!(scalar_string("x\u{2028}y", 1), "\"x\\u2028y\"");
        assert_eq!(scalar_string("é ü 日本", 1), "é ü 日本");
    }

    #[test]
    fn keys_never_become_block_scalars() {
        let doc = json!({"a\nb": "x", "<<": "y"});
        assert_eq!(to_yaml(&doc), "\"a\\nb\": x\n\"<<\": \"y\"\n");
    }

    #[test]
    fn literal_block_first_line_may_not_be_indented() {
        assert_eq!(scalar_string("\n  x\ny", 1), "\"\\n  x\\ny\"");
        assert_eq!(scalar_string("\nx\n  y", 1), "|-\n\n  x\n    y");
    }

    #[test]
    fn trailing_spaces_force_double_quotes() {
        assert_eq!(scalar_string("a \nb", 0), "\"a \\nb\"");
    }
}
