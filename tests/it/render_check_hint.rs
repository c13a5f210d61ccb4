//! `render --check` on a hand-edited generated file: the hint it prints must
//! be one that works (plain `stackctl render` refuses to overwrite an edited
//! file without `--force`).

use crate::common;

use common::{init_profile, path_str, run};

#[test]
fn the_check_hint_for_an_edited_file_is_one_that_works() {
    let dir = init_profile("minimal");
    let d = path_str(dir.path());
    let (code, _, err) = run(&["render", "--dir", d]);
    assert_eq!(code, 0, "{err}");
    let file = dir.path().join("prometheus/prometheus.yml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# tuned by hand\n");
    std::fs::write(&file, text).unwrap();

    let (code, _, err) = run(&["render", "--check", "--dir", d]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("= help: 1 of them edited by hand: put the change into stack.yaml and run `stackctl render --force`"),
        "{err}"
    );
    // What the old hint said does not work …
    let (code, _, err) = run(&["render", "--dir", d]);
    assert_eq!(code, 1, "plain render refuses an edited file: {err}");
    // … what the new one says does.
    let (code, _, err) = run(&["render", "--force", "--dir", d]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["render", "--check", "--dir", d]);
    assert_eq!(code, 0, "{err}");
}
