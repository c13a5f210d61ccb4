//! A strict-enough parser for the Prometheus text exposition format (0.0.4),
//! so that "the exporter answers" means "Prometheus could ingest what it says".
//!
//! It checks what makes a scrape fail or lie: metric and label names, quoted
//! and escaped label values, sample values (`NaN`, `±Inf` included), optional
//! integer timestamps, `# TYPE` lines (known type, once per metric, before its
//! samples), duplicate series, and at least one sample. It does not check
//! histogram/summary structure (`_bucket` ordering, `le` labels), which
//! Prometheus itself does not reject either.

use std::collections::{BTreeMap, BTreeSet};

/// What a valid exposition contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub samples: usize,
    pub families: usize,
}

/// The first problem found, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

const TYPES: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];
/// Suffixes a histogram or summary family's samples carry.
const SUFFIXES: [&str; 4] = ["_bucket", "_count", "_sum", "_created"];

pub fn parse(text: &str) -> Result<Summary, ParseError> {
    let mut typed: BTreeMap<String, usize> = BTreeMap::new();
    let mut sampled: BTreeSet<String> = BTreeSet::new();
    let mut series: BTreeSet<String> = BTreeSet::new();
    let mut families: BTreeSet<String> = BTreeSet::new();
    let mut samples = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let err = |message: String| ParseError {
            line: line_no,
            message,
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, [' ', '\t']);
            match words.next() {
                Some("TYPE") => {
                    let name = words.next().unwrap_or_default();
                    let kind = words.next().unwrap_or_default().trim();
                    if !is_metric_name(name) {
                        return Err(err(format!(
                            "invalid metric name `{}` in # TYPE",
                            excerpt(name)
                        )));
                    }
                    if !TYPES.contains(&kind) {
                        return Err(err(format!(
                            "unknown metric type `{}` for `{name}`",
                            excerpt(kind)
                        )));
                    }
                    if let Some(first) = typed.insert(name.to_string(), line_no) {
                        return Err(err(format!(
                            "second # TYPE line for `{name}` (first on line {first})"
                        )));
                    }
                    if sampled.contains(name) {
                        return Err(err(format!("# TYPE for `{name}` comes after its samples")));
                    }
                    families.insert(name.to_string());
                }
                Some("HELP") => {
                    let name = words.next().unwrap_or_default();
                    if !is_metric_name(name) {
                        return Err(err(format!(
                            "invalid metric name `{}` in # HELP",
                            excerpt(name)
                        )));
                    }
                }
                // Any other comment is allowed and ignored.
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(err)?;
        let family = family_of(&sample.name, &typed);
        sampled.insert(family.clone());
        families.insert(family);
        let mut key = sample.name.clone();
        for (k, v) in &sample.labels {
            key.push('\u{0}');
            key.push_str(k);
            key.push('\u{0}');
            key.push_str(v);
        }
        if !series.insert(key) {
            return Err(err(format!("duplicate series `{}`", excerpt(line))));
        }
        samples += 1;
    }
    if samples == 0 {
        return Err(ParseError {
            line: text.split('\n').count(),
            message: "no samples at all".into(),
        });
    }
    Ok(Summary {
        samples,
        families: families.len(),
    })
}

struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_len = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == ':'))
        .map_or(line.len(), |(i, _)| i);
    let name = &line[..name_len];
    if !is_metric_name(name) {
        return Err(format!(
            "expected a metric name at the start of `{}`",
            excerpt(line)
        ));
    }
    let mut rest = &line[name_len..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, remaining) =
            parse_labels(after).map_err(|m| format!("{m} in `{}`", excerpt(line)))?;
        labels = parsed;
        rest = remaining;
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(format!(
            "expected a space before the value in `{}`",
            excerpt(line)
        ));
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields
        .next()
        .ok_or_else(|| format!("missing value in `{}`", excerpt(line)))?;
    if !is_float(value) {
        return Err(format!(
            "invalid sample value `{}` for `{name}`",
            excerpt(value)
        ));
    }
    if let Some(ts) = fields.next() {
        if ts.parse::<i64>().is_err() {
            return Err(format!("invalid timestamp `{}` for `{name}`", excerpt(ts)));
        }
    }
    if let Some(extra) = fields.next() {
        return Err(format!(
            "unexpected `{}` after the sample of `{name}`",
            excerpt(extra)
        ));
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
    })
}

/// Parses `name="value",…}` (after the `{`); returns the labels and the rest of the line.
fn parse_labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix('}') {
            return Ok((labels, rest));
        }
        let name_len = s
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(s.len(), |(i, _)| i);
        let name = &s[..name_len];
        if !is_label_name(name) {
            return Err(format!("invalid label name `{}`", excerpt(name)));
        }
        s = s[name_len..].trim_start_matches([' ', '\t']);
        s = s
            .strip_prefix('=')
            .ok_or_else(|| format!("expected `=` after label `{name}`"))?;
        s = s.trim_start_matches([' ', '\t']);
        s = s
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of label `{name}` is not quoted"))?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(format!("unterminated value of label `{name}`")),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => {
                        return Err(format!("invalid escape `\\{c}` in label `{name}`"));
                    }
                    None => return Err(format!("unterminated value of label `{name}`")),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label `{name}` appears twice"));
        }
        s = s[end + 1..].trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err(format!("expected `,` or `}}` after label `{name}`"));
        }
    }
}

/// The family a sample belongs to: its own name, or the typed histogram or
/// summary it is a `_bucket`/`_sum`/`_count` of.
fn family_of(name: &str, typed: &BTreeMap<String, usize>) -> String {
    if typed.contains_key(name) {
        return name.to_string();
    }
    for suffix in SUFFIXES {
        if let Some(base) = name.strip_suffix(suffix) {
            if typed.contains_key(base) {
                return base.to_string();
            }
        }
    }
    name.to_string()
}

pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Go's `strconv.ParseFloat` as Prometheus uses it: decimals, exponents, and
/// `NaN`/`Inf` spelled in any case.
fn is_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), "nan" | "inf" | "infinity") {
        return true;
    }
    // Rust accepts the same decimal and exponent forms; reject its extras.
    !lower.is_empty()
        && lower
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
        && unsigned.parse::<f64>().is_ok()
}

/// At most 60 characters of untrusted text, control characters escaped.
pub fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(60)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_exporter_output() {
        let text = "# HELP go_gc_duration_seconds A summary of the pause duration.\n\
# TYPE go_gc_duration_seconds summary\n\
go_gc_duration_seconds{quantile=\"0\"} 2.1e-05\n\
go_gc_duration_seconds{quantile=\"1\"} 0.000123\n\
go_gc_duration_seconds_sum 0.0021\n\
go_gc_duration_seconds_count 15\n\
# HELP node_filesystem_avail_bytes Filesystem space available.\n\
# TYPE node_filesystem_avail_bytes gauge\n\
node_filesystem_avail_bytes{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/\"} 1.2e+10\n\
# TYPE http_request_duration_seconds histogram\n\
http_request_duration_seconds_bucket{le=\"0.1\"} 3\n\
http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n\
http_request_duration_seconds_sum 0.7\n\
http_request_duration_seconds_count 4\n\
weird{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\n\"} NaN 1700000000000\n\
up -Inf\n";
        assert_eq!(
            parse(text),
            Ok(Summary {
                samples: 11,
                families: 5
            })
        );
    }

    #[test]
    fn rejects_each_mistake_with_its_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "<html>oops</html>\n",
                1,
                "expected a metric name at the start of `<html>oops</html>`",
            ),
            (
                "ok 1\nbad value\n",
                2,
                "invalid sample value `value` for `bad`",
            ),
            (
                "m{a=b} 1\n",
                1,
                "the value of label `a` is not quoted in `m{a=b} 1`",
            ),
            (
                "m{a=\"x} 1\n",
                1,
                "unterminated value of label `a` in `m{a=\"x} 1`",
            ),
            (
                "m{a=\"\\t\"} 1\n",
                1,
                "invalid escape `\\t` in label `a` in `m{a=\"\\t\"} 1`",
            ),
            (
                "m{1a=\"x\"} 1\n",
                1,
                "invalid label name `1a` in `m{1a=\"x\"} 1`",
            ),
            (
                "m{a=\"x\",a=\"y\"} 1\n",
                1,
                "label `a` appears twice in `m{a=\"x\",a=\"y\"} 1`",
            ),
            ("m 1 12.5\n", 1, "invalid timestamp `12.5` for `m`"),
            ("m 1 2 3\n", 1, "unexpected `3` after the sample of `m`"),
            ("m 1\nm 2\n", 2, "duplicate series `m 2`"),
            (
                "# TYPE m gauge\n# TYPE m counter\nm 1\n",
                2,
                "second # TYPE line for `m` (first on line 1)",
            ),
            ("# TYPE m bogus\n", 1, "unknown metric type `bogus` for `m`"),
            (
                "m 1\n# TYPE m gauge\n",
                2,
                "# TYPE for `m` comes after its samples",
            ),
            ("# HELP only help\n", 2, "no samples at all"),
            ("", 1, "no samples at all"),
            (
                "m{a=\"x\"}1\n",
                1,
                "expected a space before the value in `m{a=\"x\"}1`",
            ),
            ("m 0x10\n", 1, "invalid sample value `0x10` for `m`"),
        ];
        for (text, line, message) in cases {
            let got = parse(text).expect_err(text);
            assert_eq!(
                (got.line, got.message.as_str()),
                (*line, *message),
                "{text:?}"
            );
        }
    }

    #[test]
    fn excerpt_bounds_and_escapes_untrusted_text() {
        assert_eq!(excerpt("a\u{0}b\n"), "a\\0b\\n");
        assert_eq!(excerpt(&"x".repeat(61)), format!("{}…", "x".repeat(60)));
    }
}
