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
        out.push_str(&scalar_string(key, level));
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
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn literal_block(s: &str, level: usize) -> Option<String> {
    if !s.contains('\n') || s.contains('\r') || s.contains('\t') {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    // Leading spaces on the first line would need an indentation indicator;
    // trailing spaces on a line survive a literal block but are easy to lose
    // in an editor, so both go double-quoted.
    if body.starts_with(' ') || body.is_empty() || body.lines().any(|l| l.ends_with(' ')) {
        return None;
    }
    if body.chars().any(|c| (c as u32) < 0x20 && c != '\n') {
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
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    if s.contains(['{', '}', '[', ']', ',']) {
        // Plain scalars may hold these in block context, but they are an
        // invitation to misreading; quote them.
        return false;
    }
    !looks_typed(s)
}

/// True for strings that a YAML 1.1 or 1.2 reader resolves to something other
/// than a string.
fn looks_typed(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null"
            | "~"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | ".inf"
            | "-.inf"
            | "+.inf"
            | ".nan"
    ) {
        return true;
    }
    s.chars()
        .all(|c| c.is_ascii_digit() || "._:+-eExXoObB".contains(c))
        && s.chars().any(|c| c.is_ascii_digit())
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
    fn trailing_spaces_force_double_quotes() {
        assert_eq!(scalar_string("a \nb", 0), "\"a \\nb\"");
    }
}
