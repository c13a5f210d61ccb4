//! Alloy configs (`config.alloy`) onto `logs.sources`: file sources
//! (`local.file_match` → `loki.source.file`), Docker sources
//! (`discovery.docker` → `discovery.relabel` → `loki.source.docker`) and the
//! `loki.process` stages they forward to. Blocks, attributes and relabel
//! rules stackctl does not write are reported with their line.

use super::Ctx;
use super::alloy_syntax::{self, Block, Expr, Stmt};
use super::report::Outcome;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The relabel rules stackctl writes for every Docker source: container,
/// Compose service and stream labels.
const DOCKER_RULES: [(&str, &str); 3] = [
    ("__meta_docker_container_name", "container"),
    (
        "__meta_docker_container_label_com_docker_compose_service",
        "service",
    ),
    ("__meta_docker_container_log_stream", "stream"),
];
const PROJECT_LABEL: &str = "__meta_docker_container_label_com_docker_compose_project";

struct Config<'a> {
    ctx: &'a mut Ctx,
    file: String,
    blocks: BTreeMap<(String, String), &'a Block>,
    used: BTreeSet<(String, String)>,
}

pub fn read(ctx: &mut Ctx, name: &str, text: &str) {
    let stmts = match alloy_syntax::parse(text) {
        Ok(s) => s,
        Err(e) => {
            ctx.note(
                Outcome::NotExpressed,
                name,
                e.line,
                format!("not valid Alloy syntax ({}): not imported", e.message),
            );
            return;
        }
    };
    if ctx.get(&["components", "alloy"]).is_none() && ctx.get(&["components", "promtail"]).is_none()
    {
        ctx.set(&["components", "alloy"], json!({}));
    }
    ctx.from("/components/alloy".into(), name, 1);
    ctx.compared_text.push((
        "alloy/config.alloy".into(),
        name.to_string(),
        text.to_string(),
    ));
    let mut blocks = BTreeMap::new();
    for s in &stmts {
        match s {
            Stmt::Block(b) => {
                blocks.insert((b.name.clone(), b.label.clone().unwrap_or_default()), b);
            }
            Stmt::Attr { key, line, .. } => ctx.note(
                Outcome::NotExpressed,
                name,
                *line,
                format!("top-level attribute `{key}`: stackctl has no setting for it"),
            ),
        }
    }
    let mut cfg = Config {
        ctx,
        file: name.to_string(),
        blocks,
        used: BTreeSet::new(),
    };
    for s in &stmts {
        let Stmt::Block(b) = s else { continue };
        match b.name.as_str() {
            "loki.source.file" => cfg.file_source(b),
            "loki.source.docker" => cfg.docker_source(b),
            "loki.write" => cfg.write(b),
            _ => {}
        }
    }
    for s in &stmts {
        let Stmt::Block(b) = s else { continue };
        let key = (b.name.clone(), b.label.clone().unwrap_or_default());
        let known = matches!(
            b.name.as_str(),
            "loki.source.file" | "loki.source.docker" | "loki.write"
        );
        if !known && !cfg.used.contains(&key) {
            let what = b
                .label
                .as_deref()
                .map_or(String::new(), |l| format!(" {l:?}"));
            cfg.note(
                b.line,
                format!(
                    "`{}{what}` block: stackctl's Alloy config has file and Docker log sources shipped to the stack's Loki only",
                    b.name
                ),
            );
        }
    }
}

/// `a.b.c.d.e` → the block `a.b.c` labelled `d` a reference points into.
fn target<'b>(cfg: &Config<'b>, r: &str, kind: &str) -> Option<&'b Block> {
    let rest = r.strip_prefix(kind)?.strip_prefix('.')?;
    let label = rest.split('.').next()?;
    cfg.blocks
        .get(&(kind.to_string(), label.to_string()))
        .copied()
}

fn str_map(e: &Expr) -> Vec<(String, String)> {
    match e {
        Expr::Object(fields) => fields
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

impl<'b> Config<'b> {
    fn note(&mut self, line: usize, text: String) {
        let file = self.file.clone();
        self.ctx.note(Outcome::NotExpressed, &file, line, text);
    }

    fn use_block(&mut self, b: &Block) {
        self.used
            .insert((b.name.clone(), b.label.clone().unwrap_or_default()));
    }

    /// Attributes of `b` other than `known`, reported.
    fn rest(&mut self, b: &Block, known: &[&str], what: &str) {
        for s in &b.body {
            let (key, line) = match s {
                Stmt::Attr { key, line, .. } => (key.as_str(), *line),
                Stmt::Block(inner) => (inner.name.as_str(), inner.line),
            };
            if !known.contains(&key) {
                self.note(
                    line,
                    format!("`{key}` in {what}: stackctl has no setting for it"),
                );
            }
        }
    }

    fn file_source(&mut self, b: &'b Block) {
        let label = b.label.clone().unwrap_or_default();
        self.rest(
            b,
            &["targets", "forward_to"],
            &format!("loki.source.file {label:?}"),
        );
        let targets: Vec<Expr> = match b.attr("targets") {
            Some(Expr::Ref(r)) => match target(self, r, "local.file_match") {
                Some(fm) => {
                    self.use_block(fm);
                    self.rest(
                        fm,
                        &["path_targets"],
                        &format!(
                            "local.file_match {:?}",
                            fm.label.clone().unwrap_or_default()
                        ),
                    );
                    match fm.attr("path_targets") {
                        Some(Expr::Array(items)) => items.clone(),
                        _ => Vec::new(),
                    }
                }
                None => {
                    self.note(b.line, format!("loki.source.file {label:?}: targets `{r}` are not a local.file_match of this file: source not imported"));
                    return;
                }
            },
            Some(Expr::Array(items)) => items.clone(),
            _ => {
                self.note(
                    b.line,
                    format!("loki.source.file {label:?} has no targets stackctl can read: source not imported"),
                );
                return;
            }
        };
        let mut name = None;
        let mut paths = Vec::new();
        let mut labels: Option<Vec<(String, String)>> = None;
        for t in &targets {
            let mut rest = Vec::new();
            for (k, v) in str_map(t) {
                match k.as_str() {
                    "__path__" => paths.push(json!(v)),
                    "job" => name = Some(v),
                    _ => rest.push((k, v)),
                }
            }
            if labels.as_ref().is_some_and(|l| *l != rest) {
                self.note(b.line, format!("loki.source.file {label:?}: its targets have different labels; stackctl gives one source's paths the same labels (the first target's are kept)"));
            }
            labels.get_or_insert(rest);
        }
        let name = name.unwrap_or(label);
        let mut src = Map::new();
        src.insert("name".into(), json!(name));
        if !paths.is_empty() {
            src.insert("paths".into(), Value::Array(paths));
        }
        let labels: Map<String, Value> = labels
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, json!(v)))
            .collect();
        if !labels.is_empty() {
            src.insert("labels".into(), Value::Object(labels));
        }
        self.finish(b, src);
    }

    fn docker_source(&mut self, b: &'b Block) {
        let label = b.label.clone().unwrap_or_default();
        let what = format!("loki.source.docker {label:?}");
        self.rest(
            b,
            &["host", "targets", "labels", "relabel_rules", "forward_to"],
            &what,
        );
        let mut src = Map::new();
        let mut labels = Map::new();
        let mut name = label.clone();
        for (k, v) in b.attr("labels").map(str_map).unwrap_or_default() {
            if k == "job" {
                name = v;
            } else {
                labels.insert(k, json!(v));
            }
        }
        src.insert("name".into(), json!(name));
        src.insert("docker".into(), json!(true));
        let mut excluded = false;
        match b.attr("targets") {
            Some(Expr::Ref(r)) if r.starts_with("discovery.relabel.") => {
                if let Some(rl) = target(self, r, "discovery.relabel") {
                    self.use_block(rl);
                    excluded = self.relabel(rl);
                    if let Some(Expr::Ref(inner)) = rl.attr("targets") {
                        if let Some(dd) = target(self, inner, "discovery.docker") {
                            self.use_block(dd);
                        }
                    }
                }
            }
            Some(Expr::Ref(r)) => {
                if let Some(dd) = target(self, r, "discovery.docker") {
                    self.use_block(dd);
                }
            }
            _ => {}
        }
        if !excluded {
            src.insert("include_stack".into(), json!(true));
        }
        if !labels.is_empty() {
            src.insert("labels".into(), Value::Object(labels));
        }
        self.finish(b, src);
    }

    /// Checks a Docker source's relabel rules against stackctl's; returns
    /// whether the stack's own containers are dropped.
    fn relabel(&mut self, rl: &Block) -> bool {
        let mut dropped = false;
        for rule in rl.blocks("rule") {
            let source: Vec<String> = match rule.attr("source_labels") {
                Some(Expr::Array(items)) => items
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let get = |k: &str| rule.attr(k).and_then(Expr::as_str).unwrap_or_default();
            let first = source.first().map(String::as_str).unwrap_or_default();
            let project = self
                .ctx
                .get(&["name"])
                .and_then(Value::as_str)
                .map(regex::escape);
            let ours = source.len() == 1
                && ((first == PROJECT_LABEL
                    && get("action") == "drop"
                    && project.is_none_or(|p| p == get("regex")))
                    || DOCKER_RULES.contains(&(first, get("target_label"))));
            if first == PROJECT_LABEL && ours {
                dropped = true;
            }
            if !ours {
                self.note(rule.line, format!("relabel rule on {source:?}: stackctl's Docker sources label `container`, `service` and `stream` and drop the stack's own containers; other rules are not carried over"));
            }
        }
        dropped
    }

    /// The stages of the process block `b` forwards to, then the source itself.
    fn finish(&mut self, b: &Block, mut src: Map<String, Value>) {
        let forward: Vec<String> = match b.attr("forward_to") {
            Some(Expr::Array(items)) => items
                .iter()
                .filter_map(|e| match e {
                    Expr::Ref(r) => Some(r.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut stages = Vec::new();
        for r in &forward {
            if let Some(p) = target(self, r, "loki.process") {
                self.use_block(p);
                stages.extend(self.stages(p));
            } else if !r.starts_with("loki.write.") {
                self.note(b.line, format!("forwards to `{r}`: stackctl ships every source to the stack's Loki through its stages"));
            }
        }
        if !stages.is_empty() {
            src.insert("pipeline".into(), Value::Array(stages));
        }
        let name = src["name"].as_str().unwrap_or_default().to_string();
        if let Some(Value::Array(existing)) = self.ctx.get(&["logs", "sources"]) {
            if existing.iter().any(|s| s["name"] == json!(name)) {
                self.note(
                    b.line,
                    format!(
                        "log source `{name}` is already imported from another file: this one is not"
                    ),
                );
                return;
            }
        }
        let i = self.ctx.push(&["logs", "sources"], Value::Object(src));
        let file = self.file.clone();
        self.ctx.from(format!("/logs/sources/{i}"), &file, b.line);
    }

    fn stages(&mut self, p: &Block) -> Vec<Value> {
        let label = p.label.clone().unwrap_or_default();
        let mut out = Vec::new();
        for s in &p.body {
            let st = match s {
                Stmt::Attr { key, .. } if key == "forward_to" => continue,
                Stmt::Attr { key, line, .. } => {
                    self.note(
                        *line,
                        format!(
                            "`{key}` in loki.process {label:?}: stackctl has no setting for it"
                        ),
                    );
                    continue;
                }
                Stmt::Block(st) => st,
            };
            let kind = st.name.strip_prefix("stage.").unwrap_or(&st.name);
            let text = |k: &str| st.attr(k).and_then(Expr::as_str).map(str::to_string);
            let (value, known): (Option<Value>, &[&str]) = match kind {
                "json" => {
                    let mut m = Map::new();
                    let exprs: Map<String, Value> = st
                        .attr("expressions")
                        .map(str_map)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, json!(v)))
                        .collect();
                    m.insert("expressions".into(), Value::Object(exprs));
                    if let Some(s) = text("source") {
                        m.insert("source".into(), json!(s));
                    }
                    (Some(json!({"json": m})), &["expressions", "source"])
                }
                "regex" => {
                    let mut m = Map::new();
                    m.insert(
                        "expression".into(),
                        json!(text("expression").unwrap_or_default()),
                    );
                    if let Some(s) = text("source") {
                        m.insert("source".into(), json!(s));
                    }
                    (Some(json!({"regex": m})), &["expression", "source"])
                }
                "timestamp" => (
                    Some(json!({"timestamp": {
                        "source": text("source").unwrap_or_default(),
                        "format": text("format").unwrap_or_default(),
                    }})),
                    &["source", "format"],
                ),
                "labels" => {
                    let values: Map<String, Value> = st
                        .attr("values")
                        .map(str_map)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, if v.is_empty() { Value::Null } else { json!(v) }))
                        .collect();
                    (Some(json!({"labels": values})), &["values"])
                }
                "output" => (
                    Some(json!({"output": {"source": text("source").unwrap_or_default()}})),
                    &["source"],
                ),
                _ => {
                    self.note(st.line, format!("`{}` in loki.process {label:?}: stackctl's pipelines have json, regex, timestamp, labels and output stages", st.name));
                    continue;
                }
            };
            self.rest(st, known, &format!("{} of loki.process {label:?}", st.name));
            out.extend(value);
        }
        out
    }

    fn write(&mut self, b: &Block) {
        let url = b
            .blocks("endpoint")
            .next()
            .and_then(|e| e.attr("url"))
            .and_then(Expr::as_str)
            .map(str::to_string);
        if url.as_deref() != Some(crate::components::loki::push_url().as_str()) {
            self.note(
                b.line,
                format!(
                    "loki.write {:?} sends to {}: stackctl ships to the stack's Loki",
                    b.label.clone().unwrap_or_default(),
                    url.unwrap_or_else(|| "an endpoint it cannot read".into())
                ),
            );
        }
    }
}
