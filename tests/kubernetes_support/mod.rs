//! Shared by the Kubernetes target's tests: the shipped specs, an in-process
//! render, an independent YAML 1.2 reader (saphyr, not the project's own), the
//! operator's CRD schemas from `schemas/prometheus-operator/`, and Kubernetes
//! name rules written out again here rather than borrowed from the code under test.

#![allow(dead_code)]

use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value};
use stackctl::diag::Diagnostic;
use stackctl::model::Stack;
use stackctl::plan::Deployment;
use stackctl::render::Tree;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every spec we ship (see `common::shipped_specs`).
pub fn shipped_specs() -> Vec<(String, String, PathBuf)> {
    crate::common::shipped_specs()
}

pub fn load(text: &str) -> Stack {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    loaded.stack.expect("spec loads")
}

pub struct Rendered {
    pub stack: Stack,
    pub deployment: Deployment,
    pub tree: Tree,
    pub findings: Vec<Diagnostic>,
}

/// `render --target kubernetes` without the disk.
pub fn render(text: &str, dir: &Path, namespace: Option<&str>, release: Option<&str>) -> Rendered {
    let resolved = stackctl::resolve::Resolved::check(load(text)).expect("spec resolves");
    let inputs = stackctl::commands::render::read_inputs(&resolved, dir).expect("inputs");
    let deployment = stackctl::plan::plan(&resolved, &inputs);
    let (tree, findings) = stackctl::render::kubernetes::tree(
        &resolved,
        &deployment,
        &stackctl::render::kubernetes::Options { namespace, release },
    )
    .expect("renders");
    Rendered {
        stack: resolved.stack().clone(),
        deployment,
        tree,
        findings,
    }
}

/// The namespace and release a spec renders for without flags.
pub fn namespace_and_release(stack: &Stack) -> (String, String) {
    let k = stack.kubernetes.clone().unwrap_or_default();
    (
        k.namespace
            .unwrap_or_else(|| stackctl::render::kubernetes::DEFAULT_NAMESPACE.into()),
        k.release
            .unwrap_or_else(|| stackctl::render::kubernetes::DEFAULT_RELEASE.into()),
    )
}

/// Every document of a YAML stream, as JSON.
pub fn yaml_docs(text: &str) -> Result<Vec<Value>, String> {
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    docs.iter().map(to_json).collect()
}

fn to_json(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Value(s) => scalar(s),
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

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => {
            serde_json::Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
        }
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// The single YAML document of a generated file.
pub fn doc(text: &str) -> Value {
    let docs = yaml_docs(text).expect("parses");
    assert_eq!(docs.len(), 1, "one document");
    docs.into_iter().next().unwrap()
}

/// A CRD's OpenAPI schema as a validator.
pub struct Crd {
    pub api_version: String,
    pub validator: jsonschema::Validator,
    /// AlertmanagerConfig's nested `routes` are `x-kubernetes-preserve-unknown-fields`
    /// in the CRD; each is checked against the route schema instead.
    pub route: Option<jsonschema::Validator>,
}

/// kind → CRD, from the copied upstream files.
pub fn crds() -> &'static BTreeMap<String, Crd> {
    static CRDS: OnceLock<BTreeMap<String, Crd>> = OnceLock::new();
    CRDS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/prometheus-operator");
        let mut out = BTreeMap::new();
        for file in [
            "servicemonitor.crd.yaml",
            "podmonitor.crd.yaml",
            "probe.crd.yaml",
            "prometheusrule.crd.yaml",
            "alertmanagerConfig.crd.yaml",
        ] {
            let text = std::fs::read_to_string(dir.join(file)).expect("CRD file");
            let crd = doc(&text);
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
            let group = crd["spec"]["group"].as_str().unwrap();
            let version = crd["spec"]["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["storage"] == Value::Bool(true))
                .expect("storage version");
            let schema = strict(version["schema"]["openAPIV3Schema"].clone());
            let route = schema
                .pointer("/properties/spec/properties/route")
                .map(|r| compile(r.clone()));
            out.insert(
                kind,
                Crd {
                    api_version: format!("{group}/{}", version["name"].as_str().unwrap()),
                    validator: compile(schema),
                    route,
                },
            );
        }
        out
    })
}

fn compile(schema: Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .with_keyword(GO_PATTERN, |_, value, _| {
            let pattern = value.as_str().unwrap_or_default();
            let regex = regex::Regex::new(pattern).map_err(|e| {
                jsonschema::ValidationError::custom(format!("bad pattern {pattern}: {e}"))
            })?;
            Ok(Box::new(GoPattern(regex)))
        })
        .build(&schema)
        .expect("CRD schema compiles")
}

/// `pattern` of a CRD: a Go regular expression (RE2 syntax, e.g. `(?i)`), which
/// JSON Schema's ECMA-262 `pattern` cannot express; checked with the `regex`
/// crate, whose syntax is RE2's.
const GO_PATTERN: &str = "x-go-pattern";

struct GoPattern(regex::Regex);

impl<'i> jsonschema::Keyword<'i> for GoPattern {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(jsonschema::ValidationError::custom(format!(
                "{instance} does not match {}",
                self.0.as_str()
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| self.0.is_match(s))
    }
}

/// The API server prunes (or, with `kubectl --validate=strict`, rejects)
/// fields a structural schema does not list; JSON Schema allows them. Every
/// object with `properties` is closed, as kubeconform's strict mode does.
/// Patterns move to the Go-regex keyword.
pub fn strict(schema: Value) -> Value {
    match schema {
        Value::Object(mut m) => {
            let open = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if m.contains_key("properties") && !m.contains_key("additionalProperties") && !open {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            if let Some(pattern @ Value::String(_)) = m.remove("pattern") {
                m.insert(GO_PATTERN.into(), pattern);
            }
            Value::Object(m.into_iter().map(|(k, v)| (k, strict(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strict).collect()),
        other => other,
    }
}

/// Every schema violation of a custom resource, as `path: message`.
pub fn crd_errors(resource: &Value) -> Vec<String> {
    let kind = resource["kind"].as_str().unwrap_or_default();
    let Some(crd) = crds().get(kind) else {
        return vec![format!("no CRD for kind `{kind}`")];
    };
    let mut errors: Vec<String> = Vec::new();
    if resource["apiVersion"] != Value::String(crd.api_version.clone()) {
        errors.push(format!(
            "apiVersion {} is not {}",
            resource["apiVersion"], crd.api_version
        ));
    }
    errors.extend(
        crd.validator
            .iter_errors(resource)
            .map(|e| format!("{}: {e}", e.instance_path())),
    );
    if let Some(route) = &crd.route {
        let mut stack: Vec<(String, &Value)> = Vec::new();
        if let Some(routes) = resource
            .pointer("/spec/route/routes")
            .and_then(Value::as_array)
        {
            stack.extend(
                routes
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (format!("/spec/route/routes/{i}"), r)),
            );
        }
        while let Some((at, r)) = stack.pop() {
            errors.extend(
                route
                    .iter_errors(r)
                    .map(|e| format!("{at}{}: {e}", e.instance_path())),
            );
            if let Some(children) = r["routes"].as_array() {
                stack.extend(
                    children
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (format!("{at}/routes/{i}"), c)),
                );
            }
        }
    }
    errors
}

/// DNS-1123 label.
pub fn dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Kubernetes label value: empty, or alphanumeric at both ends with `-_.` inside, ≤ 63.
pub fn label_value(s: &str) -> bool {
    let b = s.as_bytes();
    b.is_empty()
        || (b.len() <= 63
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric())
}

/// Kubernetes label key: `[prefix/]name`.
pub fn label_key(s: &str) -> bool {
    match s.rsplit_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253
                && prefix.split('.').all(dns_label)
                && !name.is_empty()
                && label_value(name)
        }
        None => !s.is_empty() && label_value(s),
    }
}

/// The manifests of a tree: (file, resource).
pub fn manifests(tree: &Tree) -> Vec<(String, Value)> {
    tree.iter()
        .filter(|(path, _)| path.starts_with("kubernetes/manifests/"))
        .flat_map(|(path, text)| {
            yaml_docs(text)
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
                .into_iter()
                .map(|d| (path.clone(), d))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every `{name, key}` object (SecretKeySelector) anywhere in a value.
pub fn secret_selectors(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if m.len() == 2 {
                if let (Some(Value::String(name)), Some(Value::String(key))) =
                    (m.get("name"), m.get("key"))
                {
                    out.push((name.clone(), key.clone()));
                }
            }
            m.values().for_each(|c| secret_selectors(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| secret_selectors(c, out)),
        _ => {}
    }
}
