//! Message defects of issue 13 (item 6), each checked on the message a user reads.

fn diagnostics(spec: &str) -> Vec<String> {
    let loaded = stackctl::load::load_text("stack.yaml", spec.to_string());
    loaded
        .diagnostics
        .iter()
        .map(|d| {
            let pos = d
                .region
                .map(|r| format!("{}:{}", r.start.line, r.start.col))
                .unwrap_or_default();
            format!(
                "{pos} {}: {} | {}",
                d.severity.as_str(),
                d.message,
                d.hint.as_deref().unwrap_or("")
            )
        })
        .collect()
}

fn find<'a>(diags: &'a [String], needle: &str) -> &'a str {
    diags
        .iter()
        .find(|d| d.contains(needle))
        .unwrap_or_else(|| panic!("no diagnostic with `{needle}` in {diags:#?}"))
}

const HEAD: &str = "stackctl: 1\nname: fixture\ncomponents:\n  prometheus:\n    version: v3.5.0\n";

#[test]
fn label_starting_with_a_digit_gets_a_valid_suggestion() {
    // Prometheus 3 takes `1st` (any UTF-8 name); Prometheus 2 does not.
    let head = HEAD.replace("v3.5.0", "v2.42.0");
    let spec = format!(
        "{head}rules:\n  app:\n    - name: g\n      rules:\n        - alert: A\n          expr: up == 0\n          labels:\n            1st: x\n"
    );
    let diags = diagnostics(&spec);
    let d = find(&diags, "invalid label name `1st`");
    assert!(d.contains("(e.g. `_1st`)"), "{d}");
}

#[test]
fn rule_file_name_hint_names_the_length_limit() {
    let long = "r".repeat(101);
    let spec = format!(
        "{HEAD}rules:\n  {long}:\n    - name: g\n      rules:\n        - record: a:b:c\n          expr: up\n"
    );
    let diags = diagnostics(&spec);
    let d = find(&diags, "invalid rule file name");
    assert!(d.contains("at most 100 characters"), "{d}");
}

#[test]
fn duplicate_group_is_an_error_at_the_later_occurrence_within_a_file_only() {
    // Two files: `b` is written first, `a` second; BTreeMap order is a, b.
    let spec = format!(
        "{HEAD}rules:\n  b:\n    - name: same\n      rules:\n        - record: x:y:z\n          expr: up\n    - name: same\n      rules:\n        - record: x:y:w\n          expr: up\n  a:\n    - name: same\n      rules:\n        - record: x:y:v\n          expr: up\n"
    );
    let diags = diagnostics(&spec);
    let errors: Vec<&String> = diags
        .iter()
        .filter(|d| d.contains("error: duplicate rule group `same`"))
        .collect();
    // Line 12 is the second `same` of file `b`, the later occurrence.
    assert_eq!(errors.len(), 1, "{diags:#?}");
    assert!(errors[0].starts_with("12:13 "), "{}", errors[0]);
    // Across files it is legal in Prometheus: a warning at most.
    let across = find(&diags, "is also defined in rule file");
    assert!(across.contains(" warning: "), "{across}");
}

#[test]
fn negated_integer_bucket_matcher_matches_everything() {
    let spec = format!(
        "{HEAD}rules:\n  app:\n    - name: g\n      rules:\n        - record: job:le:count\n          expr: count(x_bucket{{le!=\"0\"}})\n        - record: job:le:eq\n          expr: count(x_bucket{{le=\"1\"}})\n"
    );
    let diags = diagnostics(&spec);
    assert!(
        find(&diags, "value `0`").contains("silently matches every series"),
        "{diags:#?}"
    );
    assert!(find(&diags, "value `1`").contains("silently matches nothing"));
}
