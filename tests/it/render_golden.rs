//! Golden trees: the full rendered output of every profile and example, file
//! list and contents, so any change to generated files is seen in review.
//! Update with `INSTA_UPDATE=always cargo test --test it render_golden::` and read the diff.

use crate::common;

use std::path::Path;

fn tree_text(text: &str, dir: &Path) -> String {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let stack = loaded.stack.expect("loads");
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
