//! Validation must stay linear in the number of findings (issue 13, item 1).
//!
//! Two measures, neither of them a clock: the deserialiser's own count of
//! list items read (one collecting pass, not one pass per type error), and the
//! number of bytes of the spec the reporting stage touches per finding, which
//! is bounded through a ratio of outputs at 1× and 8× findings with a generous
//! factor. A quadratic stage shows 8× findings costing 64× the work.

use crate::common;
use stackctl::model::Stack;
use stackctl::yaml::{de, node};

/// A Prometheus-only stack with `n` alerting rules; every rule reads an
/// exporter metric the stack does not scrape (a warning each) and, when
/// `broken`, carries a type error (`for` given as a list).
fn spec(n: usize, broken: bool) -> String {
    let mut s = String::from(
        "stackctl: 1\nname: scaling\ncomponents:\n  prometheus: {}\nrules:\n  load:\n    - name: g\n      rules:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "        - alert: Busy{i}\n          expr: 'sum by (instance) (rate(node_cpu_seconds_total{{mode=\"idle\", instance=\"h{i}\"}}[5m])) < 0.{i}'\n"
        ));
        if broken {
            s.push_str("          for: [5m]\n");
        }
        s.push_str(
            "          annotations:\n            summary: '{{ $labels.instance }} is busy: {{ $value | humanize }}'\n",
        );
    }
    s
}

fn load_counted(text: &str) -> (de::Loaded<Stack>, usize, usize) {
    let mut problems = Vec::new();
    let tree = node::parse(text, &mut problems).expect("the generated spec is YAML");
    de::load_counted::<Stack>(tree)
}

#[test]
fn type_errors_are_all_reported_in_one_pass() {
    let _gate = common::serial::gate(module_path!());
    for n in [150, 1200] {
        let (loaded, reads, passes) = load_counted(&spec(n, true));
        let errors = loaded
            .problems
            .iter()
            .filter(|d| d.message.contains("expected") && d.region.is_some())
            .count();
        // Every error, not the first 100; each at its own line.
        assert_eq!(errors, n, "{n} rules with a type error each");
        let mut lines: Vec<usize> = loaded
            .problems
            .iter()
            .filter_map(|d| d.region.map(|r| r.start.line))
            .collect();
        lines.dedup();
        assert_eq!(lines.len(), n, "one position per error");
        // The stack still loads, with every rule (minus its broken `for`), so
        // the whole-stack checks run.
        let stack = loaded.value.expect("what is left loads");
        assert_eq!(stack.rules["load"][0].rules.len(), n);
        assert_eq!(passes, 1, "one pass, not one per error");
        // Each failing rule is read twice (once, and once without `for`); the
        // lists above it once. A pass per error would read n × n items.
        assert!(reads <= 2 * n + 16, "{reads} item reads for {n} rules");
    }
}

/// Times `f` at its best of three runs (to shed scheduling noise).
fn best<T>(f: impl Fn() -> T) -> (std::time::Duration, T) {
    (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            let out = f();
            (start.elapsed(), out)
        })
        .min_by_key(|(t, _)| *t)
        .expect("three runs")
}

/// Fails when 8× the findings cost more than `bound`× the time of 1×.
fn assert_linear(stage: &str, t1: std::time::Duration, t8: std::time::Duration, bound: f64) {
    let ratio = t8.as_secs_f64() / t1.as_secs_f64().max(1e-6);
    println!("{stage}: 8x findings cost x{ratio:.1} ({t1:?} -> {t8:?})");
    assert!(
        ratio < bound,
        "{stage}: 8x findings cost x{ratio:.1} the time ({t1:?} -> {t8:?}): not linear"
    );
}

#[test]
fn loading_and_reporting_grow_linearly_with_findings() {
    let _gate = common::serial::gate(module_path!());
    // A quadratic stage (a re-scan of the spec per finding, a lookup through
    // every earlier finding) costs 64× from 1× to 8× findings; linear costs 8×.
    // The bound (24×) leaves a wide margin for noise on a shared machine, and
    // each stage is timed on its own so a linear stage cannot hide a quadratic
    // one. A guard, not a benchmark: see scripts/bench-validate-findings.sh.
    let small = spec(300, true);
    let large = spec(2400, true);
    let load = |text: &str| stackctl::load::load_text("stack.yaml", text.to_string());
    let (l1, loaded1) = best(|| load(&small));
    let (l8, loaded8) = best(|| load(&large));
    let (d1, d8) = (loaded1.diagnostics.len(), loaded8.diagnostics.len());
    assert!(d1 >= 600 && d8 >= 4800, "findings: {d1} and {d8}");
    assert!(d8 >= 7 * d1, "findings grow with the rules: {d1} and {d8}");
    assert_linear("load + check + positions", l1, l8, 24.0);
    let render = |l: &stackctl::load::Loaded| {
        stackctl::diag::render_all(&l.diagnostics, "stack.yaml", &l.text)
    };
    let (r1, text1) = best(|| render(&loaded1));
    let (r8, text8) = best(|| render(&loaded8));
    assert!(
        text8.len() >= 7 * text1.len(),
        "the text grows with the findings"
    );
    assert_linear("text rendering", r1, r8, 24.0);
    let json = |l: &stackctl::load::Loaded| stackctl::diag::to_json(&l.diagnostics, "stack.yaml");
    let (j1, _) = best(|| json(&loaded1));
    let (j8, _) = best(|| json(&loaded8));
    assert_linear("json rendering", j1, j8, 24.0);
}
