//! Golden trees: the full rendered output of every profile and example, file
//! list and contents, so any change to generated files is seen in review.
//! Update with `INSTA_UPDATE=always cargo test --test it render_golden::` and read the diff.

use crate::common;

use std::path::Path;

fn tree_text(text: &str, dir: &Path) -> String {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let stack = stackctl::resolve::Resolved::from_loaded(&loaded).expect("loads");
    let inputs = stackctl::commands::render::read_inputs(&stack, dir).expect("inputs");
    let deployment = stackctl::plan::plan(&stack, &inputs);
    let tree = stackctl::render::compose_tree(&deployment);
    let mut out = String::from("# files\n");
    for path in tree.keys() {
        out.push_str(path);
        out.push('\n');
    }
    for (path, contents) in &tree {
        out.push_str(&format!("\n===== {path} =====\n{contents}"));
    }
    out
}

#[test]
fn every_shipped_spec_renders_to_its_golden_tree() {
    for (label, text, dir) in common::shipped_specs() {
        insta::assert_snapshot!(label, tree_text(&text, &dir));
    }
}

// A golden tree whose spec is gone (renamed profile, a label changed) is
// never compared again and passes silently: each must belong to a shipped spec.
#[test]
fn every_golden_tree_belongs_to_a_shipped_spec() {
    let labels: Vec<String> = common::shipped_specs()
        .into_iter()
        .map(|(label, _, _)| label)
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots");
    let mut trees = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/it/snapshots") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let label = ["it__render_golden__", "it__kubernetes_golden__kubernetes-"]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix)?.strip_suffix(".snap"));
        if let Some(label) = label {
            assert!(
                labels.iter().any(|l| l == label),
                "{name} is the golden tree of no shipped spec: it is never compared"
            );
            trees += 1;
        }
    }
    assert_eq!(
        trees,
        2 * labels.len(),
        "a compose and a kubernetes tree per spec"
    );
}
