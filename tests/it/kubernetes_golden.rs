//! Golden trees of the Kubernetes target: file list and contents of
//! `kubernetes/` for every shipped spec, so any change is seen in review.
//! Update with `INSTA_UPDATE=always cargo test --test it kubernetes_golden::` and read the diff.

use crate::kubernetes_support;

#[test]
fn every_shipped_spec_renders_to_its_golden_kubernetes_tree() {
    for (label, text, dir) in kubernetes_support::shipped_specs() {
        let r = kubernetes_support::render(&text, &dir, None, None);
        let mut out = String::from("# files\n");
        for path in r.tree.keys() {
            out.push_str(path);
            out.push('\n');
        }
        for (path, contents) in &r.tree {
            out.push_str(&format!("\n===== {path} =====\n{contents}"));
        }
        insta::assert_snapshot!(format!("kubernetes-{label}"), out);
    }
}
