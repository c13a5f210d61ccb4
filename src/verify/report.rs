//! The report in three forms: a table grouped by service for people, JSON
//! for scripts, JUnit XML (one testcase per check) for CI systems.

use super::check::{Report, Status};
use serde_json::json;
use std::fmt::Write;

pub fn text(report: &Report, color: bool) -> String {
    let paint = |status: Status| {
        let (word, code) = match status {
            Status::Pass => ("ok", "32"),
            Status::Fail => ("FAIL", "31;1"),
            Status::Skip => ("skip", "33"),
        };
        if color {
            format!("\x1b[{code}m{word:<4}\x1b[0m")
        } else {
            format!("{word:<4}")
        }
    };
    let width = report
        .results
        .iter()
        .map(|r| r.check.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = String::new();
    for (service, results) in report.by_service() {
        let _ = writeln!(out, "{service}");
        for r in results {
            let ms = format!("{}ms", r.elapsed.as_millis());
            let retries = if r.attempts > 1 {
                format!(" ({} attempts)", r.attempts)
            } else {
                String::new()
            };
            match r.status {
                Status::Pass => {
                    let seen = printable(r.message.lines().next().unwrap_or_default());
                    let _ = writeln!(
                        out,
                        "  {}  {:<width$}  {ms:>7}  {seen}{retries}",
                        paint(r.status),
                        r.check
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "  {}  {:<width$}  {ms:>7}{retries}",
                        paint(r.status),
                        r.check
                    );
                    for line in r.message.lines() {
                        let _ = writeln!(out, "          {}", printable(line));
                    }
                    if let Some(hint) = &r.hint {
                        let _ = writeln!(out, "            = help: {}", printable(hint));
                    }
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} checks: {} passed, {} failed, {} skipped in {:.2}s",
        report.results.len(),
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::Skip),
        report.elapsed.as_secs_f64()
    );
    out
}

pub fn json(report: &Report) -> String {
    let checks: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| {
            json!({
                "service": r.service,
                "check": r.check,
                "status": r.status.as_str(),
                "message": r.message,
                "hint": r.hint,
                "url": r.url,
                "probe": r.probe,
                "elapsed_ms": r.elapsed.as_secs_f64() * 1000.0,
                "attempts": r.attempts,
            })
        })
        .collect();
    let doc = json!({
        "passed": report.passed(),
        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
        "counts": {
            "pass": report.count(Status::Pass),
            "fail": report.count(Status::Fail),
            "skip": report.count(Status::Skip),
        },
        "checks": checks,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"stackctl verify\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{:.3}\">",
        report.results.len(),
        report.count(Status::Fail),
        report.count(Status::Skip),
        report.elapsed.as_secs_f64()
    );
    for (service, results) in report.by_service() {
        let count = |s: Status| results.iter().filter(|r| r.status == s).count();
        let time = results
            .iter()
            .map(|r| r.elapsed.as_secs_f64())
            .fold(0.0, f64::max);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{time:.3}\">",
            escape(service),
            results.len(),
            count(Status::Fail),
            count(Status::Skip)
        );
        for r in results {
            let open = format!(
                "    <testcase classname=\"stackctl.verify.{}\" name=\"{}\" time=\"{:.3}\"",
                escape(service),
                escape(&r.check),
                r.elapsed.as_secs_f64()
            );
            let first = r.message.lines().next().unwrap_or_default();
            // As validate's JUnit: the message, then the hint on a `help:` line.
            let body = match &r.hint {
                Some(hint) => format!("{}\nhelp: {hint}", r.message),
                None => r.message.clone(),
            };
            match r.status {
                Status::Pass => {
                    let _ = writeln!(out, "{open}/>");
                }
                Status::Fail => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure message=\"{}\" type=\"verify\">{}</failure>\n    </testcase>",
                        escape(first),
                        escape(&body)
                    );
                }
                Status::Skip => match &r.hint {
                    None => {
                        let _ = writeln!(
                            out,
                            "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                            escape(&r.message)
                        );
                    }
                    Some(_) => {
                        let _ = writeln!(
                            out,
                            "{open}>\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>",
                            escape(&r.message),
                            escape(&body)
                        );
                    }
                },
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A line of untrusted text for a terminal: control characters escaped.
fn printable(line: &str) -> String {
    line.chars()
        .flat_map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Text for XML content and attribute values. Characters XML 1.0 cannot
/// carry at all (most control characters) become U+FFFD; line breaks are kept
/// as character references so attributes keep them too.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::check::CheckResult;
    use std::time::Duration;

    fn report() -> Report {
        let r = |service: &str, check: &str, status, message: &str| CheckResult {
            service: service.into(),
            check: check.into(),
            status,
            message: message.into(),
            hint: None,
            url: None,
            probe: 0,
            elapsed: Duration::from_millis(12),
            attempts: 1,
        };
        Report {
            results: vec![
                r("prometheus", "ready", Status::Pass, "HTTP 200"),
                r(
                    "prometheus",
                    "scrape job `node`",
                    Status::Fail,
                    "a:1 is down: <refused> & \"gone\"\nb:2 too\u{0}",
                ),
                r("promtail", "ready", Status::Skip, "not reachable"),
            ],
            elapsed: Duration::from_millis(1500),
            settled: None,
        }
    }

    #[test]
    fn text_groups_by_service_and_shows_failure_detail() {
        assert_eq!(
            text(&report(), false),
            "prometheus\n  ok    ready                 12ms  HTTP 200\n  FAIL  scrape job `node`     12ms\n          a:1 is down: <refused> & \"gone\"\n          b:2 too\\0\npromtail\n  skip  ready                 12ms\n          not reachable\n\n3 checks: 1 passed, 1 failed, 1 skipped in 1.50s\n"
        );
    }

    #[test]
    fn junit_has_one_testcase_per_check_and_escapes() {
        let xml = junit(&report());
        assert!(xml.contains("<testsuites name=\"stackctl verify\" tests=\"3\" failures=\"1\" skipped=\"1\" errors=\"0\" time=\"1.500\">"), "{xml}");
        assert!(xml.contains("<testcase classname=\"stackctl.verify.prometheus\" name=\"scrape job `node`\" time=\"0.012\">\n      <failure message=\"a:1 is down: &lt;refused&gt; &amp; &quot;gone&quot;\" type=\"verify\">a:1 is down: &lt;refused&gt; &amp; &quot;gone&quot;&#10;b:2 too\u{FFFD}</failure>"), "{xml}");
        assert!(
            xml.contains("<skipped message=\"not reachable\"/>"),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 3);
    }

    /// A report of one failure and one skip that carry a hint.
    fn hinted() -> Report {
        let mut r = report();
        r.results[1].message = "receiver `b` not in the loaded config".into();
        r.results[1].hint = Some("run `stackctl render`, then reload".into());
        r.results[2].hint = Some("pass `--url promtail=http://HOST:PORT`".into());
        r
    }

    // Issue 10: hints were `\n  = help: …` inside the message, so JSON and
    // JUnit carried the terminal markup in the message itself.
    #[test]
    fn hints_are_their_own_field_in_json_and_junit() {
        let v: serde_json::Value = serde_json::from_str(&json(&hinted())).unwrap();
        assert_eq!(
            v["checks"][1]["message"],
            "receiver `b` not in the loaded config"
        );
        assert_eq!(v["checks"][1]["hint"], "run `stackctl render`, then reload");
        assert_eq!(
            v["checks"][2]["hint"],
            "pass `--url promtail=http://HOST:PORT`"
        );
        assert_eq!(v["checks"][0]["hint"], serde_json::Value::Null);
        let xml = junit(&hinted());
        assert!(xml.contains("<failure message=\"receiver `b` not in the loaded config\" type=\"verify\">receiver `b` not in the loaded config&#10;help: run `stackctl render`, then reload</failure>"), "{xml}");
        assert!(xml.contains("<skipped message=\"not reachable\">not reachable&#10;help: pass `--url promtail=http://HOST:PORT`</skipped>"), "{xml}");
        assert!(!xml.contains("= help"), "{xml}");
    }

    // The text table prints a hint exactly as it printed the `= help:` line
    // that used to end the message.
    #[test]
    fn text_prints_a_hint_as_before() {
        let mut old = hinted();
        for r in &mut old.results {
            if let Some(hint) = r.hint.take() {
                r.message = format!("{}\n  = help: {hint}", r.message);
            }
        }
        assert_eq!(text(&hinted(), false), text(&old, false));
        assert!(text(&hinted(), false).contains(
            "\n          receiver `b` not in the loaded config\n            = help: run `stackctl render`, then reload\n"
        ));
    }

    #[test]
    fn json_counts_and_lists_every_check() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["passed"], false);
        assert_eq!(
            v["counts"],
            serde_json::json!({"pass": 1, "fail": 1, "skip": 1})
        );
        assert_eq!(v["checks"][1]["status"], "fail");
        assert_eq!(v["checks"].as_array().unwrap().len(), 3);
    }
}
