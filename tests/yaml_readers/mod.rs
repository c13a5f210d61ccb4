//! Two independent readers for generated YAML: PyYAML (YAML 1.1, the reader of
//! Compose v1, through `python3`) and saphyr (YAML 1.2). Both turn a document
//! into JSON in which every non-string scalar is tagged, so a string that a
//! reader resolves to an int, float, bool, null or timestamp never compares
//! equal to the string that was meant.

#![allow(dead_code)]

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// Reads each text with saphyr: the list of documents, or the error.
pub fn saphyr_docs(text: &str) -> Result<Vec<Value>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    docs.iter().map(saphyr_json).collect()
}

fn saphyr_json(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Value(s) => match s {
            Scalar::Null => Value::Null,
            Scalar::Boolean(b) => json!({ "!bool": b }),
            Scalar::Integer(i) => json!({ "!int": i.to_string() }),
            Scalar::FloatingPoint(f) => json!({ "!float": f.into_inner().to_string() }),
            Scalar::String(s) => Value::String(s.to_string()),
        },
        Yaml::Representation(text, _, _) => Value::String(text.to_string()),
        Yaml::Sequence(items) => {
            Value::Array(items.iter().map(saphyr_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                let key = match saphyr_json(k)? {
                    Value::String(s) => s,
                    other => format!("!key {other}"),
                };
                if m.insert(key.clone(), saphyr_json(v)?).is_some() {
                    return Err(format!("duplicate key `{key}`"));
                }
            }
            Value::Object(m)
        }
        Yaml::Tagged(tag, _) => return Err(format!("unexpected tag {tag:?}")),
        Yaml::Alias(_) => return Err("alias in generated YAML".into()),
        Yaml::BadValue => return Err("bad value".into()),
    })
}

const PYYAML: &str = r#"
import datetime, json, sys, yaml
def conv(x):
    if isinstance(x, bool): return {"!bool": x}
    if isinstance(x, str): return x
    if x is None: return None
    if isinstance(x, int): return {"!int": str(x)}
    if isinstance(x, float): return {"!float": repr(x)}
    if isinstance(x, (datetime.date, datetime.datetime)): return {"!timestamp": str(x)}
    if isinstance(x, list): return [conv(i) for i in x]
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            out[k if isinstance(k, str) else "!key " + json.dumps(conv(k))] = conv(v)
        return out
    return {"!other": repr(x)}
loader = yaml.CSafeLoader if sys.argv[1] == "c" and yaml.__with_libyaml__ else yaml.SafeLoader
out = []
for text in json.load(sys.stdin):
    try:
        out.append({"ok": [conv(d) for d in yaml.load_all(text, Loader=loader)]})
    except Exception as e:
        out.append({"err": str(e)})
json.dump(out, sys.stdout)
"#;

/// True when `python3` with PyYAML is here; otherwise prints SKIPPED (or
/// fails when `STACKCTL_REQUIRE_TOOLS=1`).
pub fn pyyaml_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("STACKCTL_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
            panic!("python3 with PyYAML is required (scripts/test installs python3-yaml)");
        }
        crate::common::skipped(
            "python3 with PyYAML is not installed; the YAML 1.1 reading was not checked",
        );
    }
    ok
}

/// Reads every text with PyYAML's SafeLoader (what Compose v1 uses), in one
/// python process: per text, the list of documents or the error.
pub fn pyyaml_docs(texts: &[String]) -> Vec<Result<Vec<Value>, String>> {
    pyyaml_run(texts, "py")
}

/// The same with libyaml's scanner (`CSafeLoader`, the same YAML 1.1
/// resolver) when PyYAML has it: much faster on large batches.
pub fn pyyaml_docs_fast(texts: &[String]) -> Vec<Result<Vec<Value>, String>> {
    pyyaml_run(texts, "c")
}

fn pyyaml_run(texts: &[String], loader: &str) -> Vec<Result<Vec<Value>, String>> {
    let mut child = Command::new("python3")
        .args(["-c", PYYAML, loader])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let input = serde_json::to_vec(texts).expect("json");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        stdin.write_all(&input).expect("write to python3");
    });
    let out = child.wait_with_output().expect("python3 finishes");
    writer.join().expect("writer");
    assert!(out.status.success(), "the PyYAML reader failed");
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("python3 prints JSON");
    results
        .into_iter()
        .map(|r| match r {
            Value::Object(mut m) => match (m.remove("ok"), m.remove("err")) {
                (Some(Value::Array(docs)), _) => Ok(docs),
                (_, Some(Value::String(e))) => Err(e),
                other => Err(format!("unexpected reader output {other:?}")),
            },
            other => Err(format!("unexpected reader output {other}")),
        })
        .collect()
}
