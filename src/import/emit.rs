//! stack.yaml with provenance comments: the value is written in the same
//! block style as `yaml::emit` (same quoting rules), and an item whose path
//! has a comment gets `# from FILE:LINE` on the line above it.

use crate::yaml::emit::{key_string, scalar_string};
use serde_json::Value;
use std::collections::BTreeMap;

/// Comments by path: `/components/prometheus`, `/scrape_jobs/0`.
pub type Comments = BTreeMap<String, String>;

pub fn to_yaml(value: &Value, comments: &Comments, header: &str) -> String {
    let mut out = String::from(header);
    if let Value::Object(map) = value {
        for (key, v) in map {
            // A blank line between top-level sections, as people write them.
            if out.len() > header.len() {
                out.push('\n');
            }
            let path = format!("/{key}");
            comment(&mut out, comments, &path, 0);
            out.push_str(&key_string(key));
            out.push(':');
            after_key(&mut out, v, comments, &path, 0);
        }
    }
    out
}

fn comment(out: &mut String, comments: &Comments, path: &str, level: usize) {
    if let Some(text) = comments.get(path) {
        for line in text.lines() {
            indent(out, level);
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn after_key(out: &mut String, value: &Value, comments: &Comments, path: &str, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            map_body(out, map, comments, path, level + 1, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            seq(out, items, comments, path, level + 1);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, level + 1));
            out.push('\n');
        }
    }
}

fn map_body(
    out: &mut String,
    map: &serde_json::Map<String, Value>,
    comments: &Comments,
    path: &str,
    level: usize,
    in_item: bool,
) {
    for (i, (key, v)) in map.iter().enumerate() {
        let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
        // The first key of a list item shares the `- ` line; its comment went above the item.
        if !(i == 0 && in_item) {
            comment(out, comments, &child, level);
            indent(out, level);
        }
        out.push_str(&key_string(key));
        out.push(':');
        after_key(out, v, comments, &child, level);
    }
}

fn seq(out: &mut String, items: &[Value], comments: &Comments, path: &str, level: usize) {
    for (i, item) in items.iter().enumerate() {
        let child = format!("{path}/{i}");
        comment(out, comments, &child, level);
        indent(out, level);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                map_body(out, map, comments, &child, level + 1, true)
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                seq(out, inner, comments, &child, level + 1);
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
