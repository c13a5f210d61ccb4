//! The spec size limit (`load::MAX_SPEC_BYTES`, 128 MiB) is a guard against
//! hostile input; `STACKCTL_MAX_SPEC_MIB` moves it for one run, so that a
//! generated stack larger than the default can be checked on purpose.

use crate::common;

use common::{decode, path_str, spec_dir, stackctl};

/// A valid spec of a little over 2 MiB (comments pad it).
fn two_mib_spec() -> tempfile::TempDir {
    let mut text = String::from("stackctl: 1\nname: big\ncomponents:\n  prometheus: {}\n");
    let line = format!("# {}\n", "x".repeat(1000));
    while text.len() <= 2 * 1024 * 1024 {
        text.push_str(&line);
    }
    spec_dir(&text)
}

fn validate_with_limit(dir: &std::path::Path, limit: &str) -> (i32, String, String) {
    decode(
        stackctl()
            .args(["validate", "--dir", path_str(dir)])
            .env("STACKCTL_MAX_SPEC_MIB", limit)
            .output()
            .expect("stackctl runs"),
    )
}

#[test]
fn the_limit_variable_lowers_and_raises_the_guard() {
    let dir = two_mib_spec();
    let (code, _, stderr) = validate_with_limit(dir.path(), "1");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: the spec is larger than 1 MiB"),
        "{stderr}"
    );
    assert!(stderr.contains("STACKCTL_MAX_SPEC_MIB"), "{stderr}");
    let (code, _, stderr) = validate_with_limit(dir.path(), "3");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.ends_with("stack.yaml: ok\n"), "{stderr}");
}

#[test]
fn a_limit_that_is_not_a_number_is_refused_before_reading() {
    let dir = two_mib_spec();
    for bad in ["abc", "0", "-5", "1.5"] {
        let (code, _, stderr) = validate_with_limit(dir.path(), bad);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "`STACKCTL_MAX_SPEC_MIB` must be a whole number of MiB above 0, not `{bad}`"
            )),
            "{bad}: {stderr}"
        );
    }
}
