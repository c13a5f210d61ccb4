//! `stackctl import`: an existing monitoring folder (Compose file, prometheus.yml
//! and rule files, alertmanager.yml, Grafana provisioning and dashboards, Loki,
//! Promtail and blackbox configs) into a commented `stack.yaml`.
//!
//! Each reader maps what it understands onto the spec and says where it came
//! from; inline credentials become secrets. What the spec leaves to stackctl's
//! defaults is found by rendering the candidate spec in memory and comparing
//! (`compare`): a command flag, environment variable or config value the
//! render does not reproduce is either kept verbatim (`extra_args`,
//! `environment`) or reported with its position — nothing is dropped silently.

mod alertmanager;
mod alloy;
mod alloy_syntax;
mod compare;
mod compose;
pub mod emit;
mod grafana;
mod jaeger;
mod logs;
mod prometheus;
pub mod report;
mod source;

use report::{Outcome, Report};
use serde_json::{Map, Value};
use source::SourceFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `import` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replace Promtail with Alloy (same `logs.sources`).
    pub alloy: bool,
    /// Project name when the folder does not say (default: the folder's name).
    pub name: Option<String>,
}

/// The result: the spec text, the secret values and copied files it refers
/// to (paths relative to the new stack directory), and the report.
#[derive(Debug)]
pub struct Imported {
    pub stack_yaml: String,
    pub spec: Value,
    pub secrets: BTreeMap<String, String>,
    pub files: BTreeMap<String, String>,
    pub report: Report,
}

/// Shared state of one import: the spec being built and everything said about it.
pub struct Ctx {
    pub root: PathBuf,
    pub spec: Map<String, Value>,
    pub comments: emit::Comments,
    pub report: Report,
    pub secrets: BTreeMap<String, String>,
    pub files: BTreeMap<String, String>,
    /// Container path → host path (relative to the folder), from Compose binds.
    pub mounts: Vec<(String, String)>,
    /// Source configs to compare with their rendered counterpart:
    /// (rendered path, source name, source tree).
    pub compared: Vec<(String, String, crate::yaml::node::Node)>,
    /// Text files compared as a whole: (rendered path, source name, text).
    pub compared_text: Vec<(String, String, String)>,
}

impl Ctx {
    fn new(root: &Path) -> Ctx {
        Ctx {
            root: root.to_path_buf(),
            spec: Map::new(),
            comments: BTreeMap::new(),
            report: Report::default(),
            secrets: BTreeMap::new(),
            files: BTreeMap::new(),
            mounts: Vec::new(),
            compared: Vec::new(),
            compared_text: Vec::new(),
        }
    }

    pub fn note(&mut self, outcome: Outcome, file: &str, line: usize, text: impl Into<String>) {
        self.report.add(outcome, file, line, text);
    }

    /// Sets `value` at `path` (object keys), creating objects on the way.
    pub fn set(&mut self, path: &[&str], value: Value) {
        let mut map = &mut self.spec;
        for key in &path[..path.len() - 1] {
            let entry = map
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            map = entry.as_object_mut().expect("object");
        }
        map.insert(path[path.len() - 1].to_string(), value);
    }

    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self.spec.get(path[0])?;
        for key in &path[1..] {
            v = v.get(key)?;
        }
        Some(v)
    }

    /// Appends to the list at `path`; returns the new item's index.
    pub fn push(&mut self, path: &[&str], value: Value) -> usize {
        if !matches!(self.get(path), Some(Value::Array(_))) {
            self.set(path, Value::Array(Vec::new()));
        }
        let mut v = self.spec.get_mut(path[0]).expect("set");
        for key in &path[1..] {
            v = v.get_mut(key).expect("set");
        }
        let list = v.as_array_mut().expect("array");
        list.push(value);
        list.len() - 1
    }

    /// `# from FILE:LINE` above the item at `pointer` (`/scrape_jobs/0`).
    pub fn from(&mut self, pointer: String, file: &str, line: usize) {
        self.comments
            .entry(pointer)
            .or_insert_with(|| format!("from {file}:{line}"));
    }

    /// Declares a secret holding `value` (an inline credential found in a
    /// source file) and returns its name; the same value reuses one secret.
    pub fn secret(
        &mut self,
        hint: &str,
        value: &str,
        file: &str,
        line: usize,
        what: &str,
    ) -> String {
        if let Some((name, _)) = self.secrets.iter().find(|(_, v)| v.as_str() == value) {
            let name = name.clone();
            self.declare_secret(&name);
            return name;
        }
        let mut name = hint.to_string();
        let mut n = 2;
        while self.secrets.contains_key(&name) {
            name = format!("{hint}_{n}");
            n += 1;
        }
        self.secrets.insert(name.clone(), value.to_string());
        self.declare_secret(&name);
        self.note(
            Outcome::Modernised,
            file,
            line,
            format!(
                "inline {what} moved to secrets/{name} (0600); the spec refers to secret `{name}`"
            ),
        );
        name
    }

    /// Declares a secret that an existing file holds: `/run/secrets/NAME` in a
    /// stackctl tree, or a host file bound into a container.
    pub fn secret_from_file(
        &mut self,
        name: &str,
        host: Option<&Path>,
        file: &str,
        line: usize,
    ) -> String {
        if !self.secrets.contains_key(name) {
            let value = host
                .or(Some(&self.root.join("secrets").join(name)))
                .and_then(|p| std::fs::read_to_string(p).ok());
            match value {
                Some(v) => {
                    self.secrets.insert(name.to_string(), v);
                }
                None => {
                    self.secrets.insert(name.to_string(), String::new());
                    self.note(
                        Outcome::AsIs,
                        file,
                        line,
                        format!("secret `{name}` is read from a file that is not in the folder: secrets/{name} is left empty, fill it in"),
                    );
                }
            }
        }
        self.declare_secret(name);
        name.to_string()
    }

    fn declare_secret(&mut self, name: &str) {
        if self.get(&["secrets", name]).is_none() {
            self.set(&["secrets", name], Value::Object(Map::new()));
        }
    }

    /// The host file (inside the folder) a container path is bound from.
    pub fn host_path(&self, container: &str) -> Option<PathBuf> {
        let mut best: Option<(&str, &str)> = None;
        for (target, host) in &self.mounts {
            let inside = container == target
                || container.starts_with(&format!("{}/", target.trim_end_matches('/')));
            if inside && best.is_none_or(|(t, _)| t.len() < target.len()) {
                best = Some((target, host));
            }
        }
        let (target, host) = best?;
        let rest = container[target.len()..].trim_start_matches('/');
        let base = self.root.join(host);
        Some(if rest.is_empty() {
            base
        } else {
            base.join(rest)
        })
    }

    /// `path` as the report names it: relative to the imported folder.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// Every file under `root` that an importer may read (depth-limited; skips
/// VCS and stackctl's own state).
fn walk(root: &Path) -> Vec<PathBuf> {
    fn visit(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if depth > 6 {
            return;
        }
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = read.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if matches!(
                    name.as_str(),
                    ".git" | ".stackctl" | "node_modules" | "target" | "secrets"
                ) {
                    continue;
                }
                visit(&e.path(), depth + 1, out);
            } else if kind.is_file() {
                out.push(e.path());
            }
        }
    }
    let mut out = Vec::new();
    visit(root, 0, &mut out);
    out
}

/// What a YAML file is, from its top-level keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Compose,
    Prometheus,
    Rules,
    Alertmanager,
    Datasources,
    DashboardProviders,
    Loki,
    Promtail,
    Blackbox,
    Jaeger,
    RuleTests,
    Other,
}

fn role(file: &SourceFile) -> Role {
    let has = |k: &str| source::get(&file.root, k).is_some();
    if has("services") {
        Role::Compose
    } else if has("positions") || has("clients") {
        Role::Promtail
    } else if has("scrape_configs") || (has("global") && has("rule_files")) {
        Role::Prometheus
    } else if has("route") && has("receivers") {
        Role::Alertmanager
    } else if has("tests") && has("rule_files") {
        Role::RuleTests
    } else if has("groups") {
        Role::Rules
    } else if has("datasources") || has("deleteDatasources") {
        Role::Datasources
    } else if has("providers") {
        Role::DashboardProviders
    } else if has("schema_config") || has("ingester") || (has("common") && has("server")) {
        Role::Loki
    } else if has("modules") {
        Role::Blackbox
    } else if has("service") && has("receivers") && has("exporters") {
        Role::Jaeger
    } else {
        Role::Other
    }
}

/// Reads the folder and builds the spec. Errors are only for a folder that
/// cannot be read at all; everything else is in the report.
pub fn import_dir(from: &Path, opts: &Options) -> anyhow::Result<Imported> {
    if !from.is_dir() {
        anyhow::bail!("`{}` is not a directory", from.display());
    }
    let mut ctx = Ctx::new(from);
    let mut by_role: BTreeMap<&'static str, Vec<SourceFile>> = BTreeMap::new();
    let mut dashboards_json: Vec<PathBuf> = Vec::new();
    let mut others: Vec<PathBuf> = Vec::new();
    for path in walk(from) {
        let name = ctx.display(&path);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "yml" | "yaml" => {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    ctx.note(Outcome::NotExpressed, &name, 0, "not UTF-8 text: not read");
                    continue;
                };
                match source::parse(&name, &text) {
                    Ok(file) => {
                        let key = match role(&file) {
                            Role::Compose => "compose",
                            Role::Prometheus => "prometheus",
                            Role::Rules => "rules",
                            Role::Alertmanager => "alertmanager",
                            Role::Datasources => "datasources",
                            Role::DashboardProviders => "providers",
                            Role::Loki => "loki",
                            Role::Promtail => "promtail",
                            Role::Blackbox => "blackbox",
                            Role::Jaeger => "jaeger",
                            Role::RuleTests => "ruletests",
                            Role::Other => "other",
                        };
                        by_role.entry(key).or_default().push(file);
                    }
                    Err(e) => ctx.note(
                        Outcome::NotExpressed,
                        &name,
                        0,
                        format!("not valid YAML, not read: {e}"),
                    ),
                }
            }
            "json" => dashboards_json.push(path),
            _ => others.push(path),
        }
    }
    let take = |by_role: &mut BTreeMap<&str, Vec<SourceFile>>, k: &str| {
        by_role.remove(k).unwrap_or_default()
    };

    let composes = take(&mut by_role, "compose");
    let mut services = compose::Services::default();
    for file in &composes {
        compose::read(&mut ctx, file, &mut services);
    }
    if ctx.get(&["name"]).is_none() {
        let name = opts.name.clone().unwrap_or_else(|| {
            std::fs::read_to_string(from.join(".env"))
                .ok()
                .and_then(|t| {
                    t.lines().find_map(|l| {
                        l.strip_prefix("COMPOSE_PROJECT_NAME=")
                            .map(|v| v.trim().to_string())
                    })
                })
                .unwrap_or_else(|| project_name(from))
        });
        ctx.set(&["name"], Value::String(name));
    }
    let mut rule_files = take(&mut by_role, "rules");
    for file in take(&mut by_role, "prometheus") {
        prometheus::read(&mut ctx, &file, &mut rule_files);
    }
    for file in rule_files {
        ctx.note(
            Outcome::NotExpressed,
            &file.name,
            1,
            "rule file not listed in any prometheus.yml `rule_files`: not imported (Prometheus does not load it either)",
        );
    }
    for file in take(&mut by_role, "alertmanager") {
        alertmanager::read(&mut ctx, &file);
    }
    let providers = take(&mut by_role, "providers");
    for file in take(&mut by_role, "datasources") {
        grafana::datasources(&mut ctx, &file);
    }
    grafana::dashboards(&mut ctx, &providers, &dashboards_json);
    for file in take(&mut by_role, "loki") {
        logs::loki(&mut ctx, &file);
    }
    for file in take(&mut by_role, "promtail") {
        logs::promtail(&mut ctx, &file, opts.alloy);
    }
    for file in take(&mut by_role, "blackbox") {
        logs::blackbox(&mut ctx, &file);
    }
    for file in take(&mut by_role, "jaeger") {
        jaeger::read(&mut ctx, &file);
    }
    for file in take(&mut by_role, "ruletests") {
        prometheus::rule_tests(&mut ctx, &file);
    }
    for file in take(&mut by_role, "other") {
        if file.name == "stack.yaml" {
            ctx.note(Outcome::NotExpressed, &file.name, 1, "an existing stack.yaml is not read: import builds the spec from the rendered files");
            continue;
        }
        ctx.note(Outcome::NotExpressed, &file.name, 1, "not a file stackctl knows (compose, Prometheus, Alertmanager, Grafana provisioning, Loki, Promtail, Alloy, Jaeger, blackbox): not imported");
    }
    for path in others {
        let name = ctx.display(&path);
        if name == ".env" {
            continue;
        }
        logs::other_file(&mut ctx, &path, &name);
    }
    compose::finish(&mut ctx, &services, opts);
    compare::run(&mut ctx, &services);
    finish(ctx)
}

fn project_name(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "monitoring".into());
    let name: String = base
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    // A project name starts with a letter or digit (`.tmpX` → `tmpx`).
    let name = name
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if name.is_empty() {
        "monitoring".into()
    } else {
        name
    }
}

/// Orders the top-level keys as the profiles do and writes the text.
fn finish(mut ctx: Ctx) -> anyhow::Result<Imported> {
    const ORDER: [&str; 16] = [
        "stackctl",
        "name",
        "description",
        "defaults",
        "network",
        "secrets",
        "components",
        "scrape_jobs",
        "probes",
        "rules",
        "remote_write",
        "alerting",
        "datasources",
        "dashboards",
        "logs",
        "validate",
    ];
    ctx.spec.insert("stackctl".into(), Value::from(1));
    if !ctx.spec.contains_key("components") {
        ctx.set(&["components"], Value::Object(Map::new()));
    }
    let mut ordered = Map::new();
    for key in ORDER {
        if let Some(v) = ctx.spec.remove(key) {
            ordered.insert(key.to_string(), v);
        }
    }
    for (k, v) in std::mem::take(&mut ctx.spec) {
        ordered.insert(k, v);
    }
    let spec = Value::Object(ordered);
    let header = format!(
        "# stackctl stack spec imported by `stackctl import` from {}.\n# Each item says which file and line it came from; the import report lists\n# what was modernised and what could not be expressed.\n",
        ctx.root.display()
    );
    let stack_yaml = emit::to_yaml(&spec, &ctx.comments, &header);
    Ok(Imported {
        stack_yaml,
        spec,
        secrets: ctx.secrets,
        files: ctx.files,
        report: ctx.report,
    })
}
