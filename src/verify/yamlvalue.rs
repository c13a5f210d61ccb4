//! YAML text (a rendered config, or what a server reports it loaded) as a
//! JSON value, for semantic comparison: every scalar stays a string, so
//! `15s`, `"15s"` and `'15s'` compare equal.

use crate::yaml::node::{Content, Node, parse};
use serde_json::{Map, Value};

pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let mut problems = Vec::new();
    let node = parse(text, &mut problems).map_err(|p| {
        format!(
            "YAML error at line {}:{}: {}",
            p.region.start.line, p.region.start.col, p.message
        )
    })?;
    Ok(to_value(&node))
}

fn to_value(node: &Node) -> Value {
    match &node.content {
        _ if node.is_null() => Value::Null,
        Content::Scalar { value, .. } => Value::String(value.clone()),
        Content::Seq(items) => Value::Array(items.iter().map(to_value).collect()),
        Content::Map(entries) => {
            let mut m = Map::new();
            for e in entries {
                m.insert(
                    e.key.scalar_str().unwrap_or_default().to_string(),
                    to_value(&e.value),
                );
            }
            Value::Object(m)
        }
    }
}

/// A string field of a JSON object, or "".
pub fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_stay_strings() {
        let v = parse_yaml("a: 15s\nb: \"x\"\nc: [1, true]\nd:\n").unwrap();
        assert_eq!(
            v,
            json!({"a": "15s", "b": "x", "c": ["1", "true"], "d": null})
        );
    }
}
