//! Mapping keys and names that reach generated files as syntax, not data.
//!
//! A map key of the spec (an environment variable, a label, a port or secret
//! name, a selector) becomes a key of a YAML file, and a name (`name`,
//! `alert`, `record`, `uid`, an attached network) becomes a key, an
//! identifier or a comment in Compose, Alloy and Logstash files. A line break
//! or control character there makes the output unreadable or, in a comment,
//! lets the rest of the name be read as configuration. So they are rejected
//! here, with the position of the key, wherever they occur: the check walks
//! the whole spec rather than a list of fields, so a field added later is
//! covered too.

use super::Findings;
use crate::model::Stack;
use crate::yaml::emit::needs_escape;
use crate::yaml::node::{Path, Seg};
use serde_json::Value;

/// Fields whose string value is a name: it reaches output as a key, an
/// identifier or a comment.
const NAME_FIELDS: &[&str] = &["name", "alert", "record", "uid", "receiver", "job_name"];

/// YAML allows at most 1024 characters in an implicit key.
const MAX_KEY_CHARS: usize = 1024;

/// `serialised` is the stack as `serde_json::to_value` gives it: serialised
/// with the attributes it was read with, so its keys are exactly the keys of
/// stack.yaml.
pub fn check(stack: &Stack, serialised: Option<&Value>, found: &mut Findings) {
    if let Some(value) = serialised {
        let mut path = Vec::new();
        walk(value, &mut path, found);
    }
    if let Some(logstash) = &stack.components.logstash {
        for (name, pipeline) in &logstash.pipelines {
            logstash_index(
                &pipeline.index,
                crate::path![
                    "components",
                    "logstash",
                    "pipelines",
                    name.as_str(),
                    "index"
                ],
                found,
            );
        }
    }
}

pub(super) fn walk(value: &Value, path: &mut Path, found: &mut Findings) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Seg::Key(key.clone()));
                key_problem(key, path, found);
                if let Value::String(s) = child {
                    if NAME_FIELDS.contains(&key.as_str()) {
                        name_problem(s, path, found);
                    }
                }
                walk(child, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            let in_attach = path.len() == 2
                && matches!(&path[..], [Seg::Key(a), Seg::Key(b)] if a == "network" && b == "attach");
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                if let (true, Value::String(s)) = (in_attach, item) {
                    name_problem(s, path, found);
                }
                walk(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The first character a key or name may not hold, described.
fn bad_char(s: &str) -> Option<String> {
    s.chars().find(|c| needs_escape(*c)).map(describe)
}

pub fn describe(c: char) -> String {
    let name = match c {
        '\n' => " (line feed)",
        '\r' => " (carriage return)",
        '\t' => " (tab)",
        '\u{85}' => " (next line, NEL)",
        '\u{2028}' => " (line separator)",
        '\u{2029}' => " (paragraph separator)",
        '\u{feff}' => " (byte order mark)",
        '\u{a0}' => " (no-break space)",
        _ => "",
    };
    format!("U+{:04X}{name}", c as u32)
}

pub(super) fn key_problem(key: &str, path: &Path, found: &mut Findings) {
    if let Some(c) = bad_char(key) {
        found.error_at_key(
            path.clone(),
            format!("the key {} contains {c}", shown(key)),
            "keys become keys of the generated YAML files; use letters, digits, `_`, `-` and `.`, on one line",
        );
    } else if key.chars().count() > MAX_KEY_CHARS {
        found.error_at_key(
            path.clone(),
            format!("a key of {} characters", key.chars().count()),
            format!("YAML readers accept keys of at most {MAX_KEY_CHARS} characters"),
        );
    } else if is_environment(path) && (key.is_empty() || key.contains(['=', ' '])) {
        found.error_at_key(
            path.clone(),
            format!("invalid environment variable name {}", shown(key)),
            "a variable name may not be empty or contain `=` or a space",
        );
    }
}

fn name_problem(name: &str, path: &Path, found: &mut Findings) {
    if let Some(c) = bad_char(name) {
        found.error(
            path.clone(),
            format!("the name {} contains {c}", shown(name)),
            "names become keys, identifiers and comments in the generated files; write them on one line without control characters",
        );
    }
}

fn is_environment(path: &Path) -> bool {
    path.len() >= 2 && matches!(&path[path.len() - 2], Seg::Key(k) if k == "environment")
}

/// A Logstash string has no escapes: `"` or `\` would end or change it and
/// `${VAR}` is replaced by an environment variable of the container (the
/// Elasticsearch password is one).
fn logstash_index(index: &str, path: Path, found: &mut Findings) {
    let problem = if let Some(c) = bad_char(index) {
        Some(format!("contains {c}"))
    } else if index.contains(['"', '\\']) {
        Some("contains `\"` or `\\`".to_string())
    } else if index.contains("${") {
        Some("contains `${`, which Logstash replaces with an environment variable".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        found.error(
            path,
            format!("the Logstash index {} {problem}", shown(index)),
            "an index name is lowercase letters, digits, `-`, `_`, `.` and Logstash dates such as `%{+YYYY.MM.dd}`",
        );
    }
}

/// A string as it can be shown on one line of a message.
fn shown(s: &str) -> String {
    let escaped: String = s.chars().flat_map(char::escape_debug).collect();
    format!("`{escaped}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_named() {
        assert_eq!(describe('\n'), "U+000A (line feed)");
        assert_eq!(describe('\u{2028}'), "U+2028 (line separator)");
        assert_eq!(bad_char("API_KEY"), None);
        assert_eq!(
            bad_char("a\u{85}b").as_deref(),
            Some("U+0085 (next line, NEL)")
        );
        assert_eq!(shown("a\nb"), "`a\\nb`");
    }
}
