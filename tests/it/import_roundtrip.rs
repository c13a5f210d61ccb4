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

/// The one shipped spec import cannot read back yet: Tempo (added this
/// round) has no reader, so its service, config and datasource must each
/// be reported as not expressed, never dropped silently.
const TEMPO_GAP: &str = "example-traces-tempo";

fn tempo_gap_is_reported(differ: &[String], imported: &stackctl::import::Imported) {
    assert!(!differ.is_empty(), "Tempo round-trips now: drop TEMPO_GAP");
    let not_expressed: Vec<String> = imported
        .report
        .notes
        .iter()
        .filter(|n| n.outcome == stackctl::import::report::Outcome::NotExpressed)
        .map(|n| n.to_string())
        .collect();
    for wanted in [
        "service `tempo`",
        "tempo/tempo.yaml:1",
        "datasource `Tempo` of type `tempo`",
    ] {
        assert!(
            not_expressed.iter().any(|n| n.contains(wanted)),
            "report lacks {wanted}: {not_expressed:#?}"
        );
    }
    println!("NOT ROUND-TRIPPED (reported): {TEMPO_GAP}, import has no Tempo reader yet");
}

/// Every shipped profile and example (and pynomaly switched to ELK): its
/// rendered tree imports into a spec that renders the same bytes, Alloy,
/// Jaeger and the Elastic setup included.
#[test]
fn every_shipped_spec_round_trips_byte_identical() {
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    for (label, text, dir) in common::shipped_specs() {
        let (differ, imported) = round_trip(&text, &dir);
        if label == TEMPO_GAP {
            tempo_gap_is_reported(&differ, &imported);
            continue;
        }
        if differ.is_empty() {
            checked.push(label);
        } else {
            failures.push(format!(
                "{label}: {differ:?}\n{}",
                imported.report.to_text()
            ));
        }
    }
    println!("round trip byte-identical: {checked:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The list is not empty by accident (no shipped spec found).
    assert!(checked.len() >= 8, "{checked:?}");
}
