//! `stackctl import` round trip: every shipped profile and example is
//! rendered, the rendered tree is imported, and the imported spec must render
//! byte-identical files (the secrets are copied, so the tree is complete).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

fn render_spec(text: &str, dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| stackctl::diag::render_text(d, "stack.yaml", text))
        .collect();
    if !errors.is_empty() {
        return Err(errors.join(""));
    }
    let stack = stackctl::resolve::Resolved::from_loaded(&loaded).ok_or("does not load")?;
    let inputs = stackctl::commands::render::read_inputs(&stack, dir).map_err(|e| e.to_string())?;
    Ok(stackctl::render::compose_tree(&stackctl::plan::plan(
        &stack, &inputs,
    )))
}

fn write_tree(dir: &Path, tree: &BTreeMap<String, String>) {
    for (rel, contents) in tree {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

/// Renders `text`, imports the rendered tree, renders the import; returns the
/// files that differ (empty: byte-identical) and the import.
pub fn round_trip(text: &str, dir: &Path) -> (Vec<String>, stackctl::import::Imported) {
    let first = render_spec(text, dir).expect("the shipped spec renders");
    let rendered = tempfile::tempdir().unwrap();
    write_tree(rendered.path(), &first);
    // The secrets a rendered stack has next to it.
    let stack = stackctl::load::load_text("stack.yaml", text.to_string())
        .stack
        .unwrap();
    for name in stack.secrets.keys() {
        let p = rendered.path().join("secrets").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, format!("value-of-{name}")).unwrap();
    }
    let imported =
        stackctl::import::import_dir(rendered.path(), &Default::default()).expect("imports");
    let out = tempfile::tempdir().unwrap();
    write_tree(out.path(), &imported.files);
    let second = match render_spec(&imported.stack_yaml, out.path()) {
        Ok(t) => t,
        Err(e) => {
            return (
                vec![format!("the imported spec does not validate:\n{e}")],
                imported,
            );
        }
    };
    let mut differ = Vec::new();
    for path in first.keys().chain(second.keys()) {
        if first.get(path) != second.get(path) && !differ.contains(path) {
            differ.push(path.clone());
        }
    }
    (differ, imported)
}

/// Specs whose every rendered file is read back by the importer.
const FULL: [&str; 3] = [
    "profile-minimal",
    "profile-face-attributes",
    "profile-mlops-platform",
];

#[test]
fn shipped_specs_without_alloy_jaeger_or_elk_round_trip_byte_identical() {
    let mut failures = Vec::new();
    for (label, text, dir) in common::shipped_specs() {
        if !FULL.contains(&label.as_str()) {
            continue;
        }
        let (differ, imported) = round_trip(&text, &dir);
        if !differ.is_empty() {
            failures.push(format!(
                "{label}: {differ:?}\n{}",
                imported.report.to_text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The other specs use configs the importer does not read back yet (Alloy,
/// Jaeger, the ELK setup): every file that then renders differently must be
/// named in the report as not expressed — never lost silently.
#[test]
fn other_shipped_specs_report_every_file_they_do_not_round_trip() {
    let mut failures = Vec::new();
    for (label, text, dir) in common::shipped_specs() {
        if FULL.contains(&label.as_str()) {
            continue;
        }
        let (differ, imported) = round_trip(&text, &dir);
        let reported: Vec<&str> = imported
            .report
            .of(stackctl::import::report::Outcome::NotExpressed)
            .map(|n| n.file.as_str())
            .collect();
        println!("{label}: not byte-identical: {differ:?} (KNOWN GAP)");
        for file in &differ {
            // The Compose file changes with them (config hashes, mounts).
            let explained = reported.contains(&file.as_str())
                || (file == "docker-compose.monitoring.yml" && differ.len() > 1);
            if !explained {
                failures.push(format!(
                    "{label}: `{file}` differs and the report does not say so\n{}",
                    imported.report.to_text()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
