//! The layering of `verify/` (see its module docs): each file uses, through
//! `super::`, only files below it, so the modules form no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which sibling modules (or `mod` itself, for items of this file) each
/// file of `verify/` uses through `super::`, outside its unit tests.
fn module_uses() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/verify");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/verify") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("source");
            files.insert(name, text);
        }
    }
    let siblings: BTreeSet<String> = files.keys().cloned().collect();
    let path = regex::Regex::new(r"\bsuper::(?:\{([^}]*)\}|(\w+))").unwrap();
    let mut uses = BTreeMap::new();
    for (name, text) in &files {
        if name == "mod" {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut used = BTreeSet::new();
        for c in path.captures_iter(code) {
            let idents: Vec<&str> = match (c.get(1), c.get(2)) {
                (Some(list), _) => list
                    .as_str()
                    .split(',')
                    .map(|i| i.trim().split("::").next().unwrap_or_default())
                    .collect(),
                (_, Some(one)) => vec![one.as_str()],
                _ => Vec::new(),
            };
            for ident in idents.into_iter().filter(|i| !i.is_empty()) {
                used.insert(if siblings.contains(ident) {
                    ident.to_string()
                } else {
                    "mod".to_string()
                });
            }
        }
        uses.insert(name.clone(), used);
    }
    // `mod.rs` declares and dispatches to every module.
    uses.insert(
        "mod".into(),
        siblings.into_iter().filter(|s| s != "mod").collect(),
    );
    uses
}

/// A cycle through `from`, if there is one (depth-first).
fn cycle(
    uses: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    if let Some(start) = path.iter().position(|p| p == from) {
        let mut found = path[start..].to_vec();
        found.push(from.to_string());
        return Some(found);
    }
    path.push(from.to_string());
    for next in uses.get(from).into_iter().flatten() {
        if let Some(found) = cycle(uses, next, path) {
            return Some(found);
        }
    }
    path.pop();
    None
}

// Issue 10: `probe.rs` named every module's check type while every module
// built probes, and the modules reached into each other and into
// `mod.rs`. Now each module uses only modules below it.
#[test]
fn verify_modules_form_layers_without_a_cycle() {
    let uses = module_uses();
    for name in uses.keys() {
        if let Some(found) = cycle(&uses, name, &mut Vec::new()) {
            panic!("verify/ has a cycle: {}", found.join(" -> "));
        }
    }
    // The probe and the shared helpers name no check module.
    for leaf in ["probe", "shared", "context", "check", "http"] {
        let used = &uses[leaf];
        assert!(
            used.iter().all(
                |u| ["check", "http", "yamlvalue", "endpoints", "exposition"].contains(&u.as_str())
            ),
            "{leaf} uses {used:?}"
        );
    }
}
