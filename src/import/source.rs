//! Reading the files of an existing monitoring folder: YAML into the
//! position-keeping tree (`yaml::node`), with small helpers to look keys up,
//! turn a subtree into a plain value, and remember which keys were understood
//! so that everything else can be reported (nothing is dropped silently).

use crate::yaml::node::{self, Content, Node, Style};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// One source file: its name as the report shows it and its parsed tree.
pub struct SourceFile {
    /// Path relative to the imported folder, e.g. `prometheus/prometheus.yml`.
    pub name: String,
    pub root: Node,
}

/// Parses YAML text; a syntax error comes back as `file:line:col: message`.
pub fn parse(name: &str, text: &str) -> Result<SourceFile, String> {
    let mut problems = Vec::new();
    match node::parse(text, &mut problems) {
        Ok(root) => Ok(SourceFile {
            name: name.to_string(),
            root,
        }),
        Err(p) => Err(format!(
            "{name}:{}:{}: {}",
            p.region.start.line, p.region.start.col, p.message
        )),
    }
}

pub fn line(n: &Node) -> usize {
    n.region.start.line
}

/// The value of `key` in a mapping node.
pub fn get<'n>(n: &'n Node, key: &str) -> Option<&'n Node> {
    match &n.content {
        Content::Map(entries) => entries
            .iter()
            .find(|e| e.key.scalar_str() == Some(key))
            .map(|e| &e.value),
        _ => None,
    }
}

pub fn str_of(n: &Node) -> Option<String> {
    match &n.content {
        Content::Scalar { value, .. } if !n.is_null() => Some(value.clone()),
        _ => None,
    }
}

pub fn items(n: &Node) -> &[Node] {
    match &n.content {
        Content::Seq(items) => items,
        _ => &[],
    }
}

pub fn entries(n: &Node) -> Vec<(&str, &Node)> {
    match &n.content {
        Content::Map(entries) => entries
            .iter()
            .filter_map(|e| e.key.scalar_str().map(|k| (k, &e.value)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A subtree as a plain value with YAML 1.1-style typing of plain scalars
/// (what Prometheus' and Compose's readers do): `true`, numbers, `null`.
pub fn to_value(n: &Node) -> Value {
    match &n.content {
        Content::Scalar { value, style } => {
            if *style != Style::Plain {
                return Value::String(value.clone());
            }
            if n.is_null() {
                return Value::Null;
            }
            match value.as_str() {
                "true" | "True" | "TRUE" => return Value::Bool(true),
                "false" | "False" | "FALSE" => return Value::Bool(false),
                _ => {}
            }
            if let Ok(i) = value.parse::<i64>() {
                return Value::from(i);
            }
            if value.contains('.') && !value.ends_with('.') {
                if let Ok(f) = value.parse::<f64>() {
                    if f.is_finite() {
                        return Value::from(f);
                    }
                }
            }
            Value::String(value.clone())
        }
        Content::Seq(items) => Value::Array(items.iter().map(to_value).collect()),
        Content::Map(entries) => {
            let mut m = Map::new();
            for e in entries {
                let key = match &e.key.content {
                    Content::Scalar { value, .. } => value.clone(),
                    _ => continue,
                };
                m.insert(key, to_value(&e.value));
            }
            Value::Object(m)
        }
    }
}

/// A scalar as text whatever its YAML type (`15s`, `9090`, `true`).
pub fn text(n: &Node) -> Option<String> {
    match to_value(n) {
        Value::String(s) => Some(s),
        Value::Number(x) => Some(x.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A mapping whose keys are taken one by one; `rest` lists the keys nobody took.
pub struct Keys<'n> {
    pub node: &'n Node,
    taken: RefCell<BTreeSet<String>>,
}

impl<'n> Keys<'n> {
    pub fn new(node: &'n Node) -> Self {
        Keys {
            node,
            taken: RefCell::new(BTreeSet::new()),
        }
    }

    pub fn take(&self, key: &str) -> Option<&'n Node> {
        let found = get(self.node, key);
        if found.is_some() {
            self.taken.borrow_mut().insert(key.to_string());
        }
        found
    }

    pub fn take_str(&self, key: &str) -> Option<String> {
        self.take(key).and_then(text)
    }

    /// Keys that were not taken, with their line.
    pub fn rest(&self) -> Vec<(String, usize)> {
        let taken = self.taken.borrow();
        match &self.node.content {
            Content::Map(entries) => entries
                .iter()
                .filter_map(|e| {
                    let k = e.key.scalar_str()?;
                    (!taken.contains(k)).then(|| (k.to_string(), line(&e.key)))
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}
