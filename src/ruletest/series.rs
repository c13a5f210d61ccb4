//! The syntax promtool reads in test files, checked before promtool runs so
//! that a mistake is reported at its position in the spec: expanding
//! notation for sample values (`0+10x20`, `1-1x3`, `5x4`, `_`, `_x3`,
//! `stale`) and series descriptions (`metric{label="value"}`).

use std::collections::BTreeMap;

/// Checks an expanding-notation value list; returns how many samples (and
/// gaps) it describes. Native histogram samples (`{{...}}`, promtool 3) are
/// passed through unchecked.
pub fn values(text: &str) -> Result<usize, String> {
    if text.contains("{{") {
        return Ok(0);
    }
    let mut count = 0usize;
    for item in text.split_whitespace() {
        count = count.saturating_add(item_count(item)?);
    }
    if count == 0 {
        return Err("no values".into());
    }
    Ok(count)
}

fn item_count(item: &str) -> Result<usize, String> {
    if item == "stale" || item == "_" {
        return Ok(1);
    }
    let (base, times) = match item.rfind('x') {
        Some(at) => {
            let times = &item[at + 1..];
            let n: usize = times.parse().map_err(|_| {
                format!(
                    "`{item}`: the repeat count after `x` must be a whole number, not `{times}`"
                )
            })?;
            (&item[..at], Some(n))
        }
        None => (item, None),
    };
    if base == "_" {
        return Ok(times.unwrap_or(1));
    }
    let (start, step) = split_step(base);
    number(start).map_err(|e| format!("`{item}`: {e}"))?;
    if let Some(step) = step {
        number(step).map_err(|e| format!("`{item}`: {e}"))?;
        if times.is_none() {
            return Err(format!(
                "`{item}`: an increment needs a repeat count, e.g. `{base}x10`"
            ));
        }
    }
    Ok(times.map_or(1, |n| n + 1))
}

/// `a+b` / `a-b` → (`a`, `+b`/`-b`); a sign at the start or after an
/// exponent's `e` belongs to the number.
fn split_step(text: &str) -> (&str, Option<&str>) {
    let bytes = text.as_bytes();
    for i in 1..bytes.len() {
        if matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
            return (&text[..i], Some(&text[i..]));
        }
    }
    (text, None)
}

fn number(text: &str) -> Result<f64, String> {
    let unsigned = text.trim_start_matches(['+', '-']);
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("nan") {
        return Ok(0.0);
    }
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(format!("`{text}` is not a number"));
    }
    text.parse::<f64>()
        .map_err(|_| format!("`{text}` is not a number"))
}

/// A parsed series description: metric name (if any) and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// Reads `metric{a="b", c="d"}`, `{__name__="m", a="b"}` or `metric`; only
/// equality matchers, as in promtool's series notation. Quoted (UTF-8)
/// names inside the braces are accepted as Prometheus 3 writes them.
pub fn series(text: &str) -> Result<Series, String> {
    let text = text.trim();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "`{name}` is not a metric name (it starts with a digit)"
        ));
    }
    let mut out = Series {
        name: (!name.is_empty()).then(|| name.to_string()),
        labels: BTreeMap::new(),
    };
    let rest = text[name_end..].trim_start();
    if rest.is_empty() {
        if out.name.is_none() {
            return Err("empty series: write `metric{label=\"value\"}`".into());
        }
        return Ok(out);
    }
    let Some(inner) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return Err(format!(
            "expected `{{label=\"value\", ...}}` after the metric name, found `{rest}`"
        ));
    };
    let mut chars = inner.char_indices().peekable();
    loop {
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let Some(&(_, first)) = chars.peek() else {
            break;
        };
        let label = if first == '"' {
            chars.next();
            quoted(&mut chars)?
        } else {
            let mut l = String::new();
            while let Some(&(_, c)) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    l.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if l.is_empty() || l.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!(
                    "expected a label name at `{}`",
                    &inner[chars.peek().map_or(inner.len(), |(i, _)| *i)..]
                ));
            }
            l
        };
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some((_, '=')) => {}
            Some((_, ',')) | Some((_, '}')) | None
                if out.name.is_none() && out.labels.is_empty() =>
            {
                // `{"metric.name", a="b"}`: a quoted metric name alone.
                out.name = Some(label);
                continue;
            }
            _ => {
                return Err(format!(
                    "label `{label}`: series notation takes `=` only (no `!=`, `=~`, `!~`)"
                ));
            }
        }
        if chars.peek().is_some_and(|(_, c)| *c == '~') {
            return Err(format!(
                "label `{label}`: series notation takes `=` only (no `=~`)"
            ));
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if !matches!(chars.next(), Some((_, '"'))) {
            return Err(format!(
                "label `{label}`: the value must be in double quotes"
            ));
        }
        let value = quoted(&mut chars)?;
        if label == "__name__" {
            out.name = Some(value);
        } else if out.labels.insert(label.clone(), value).is_some() {
            return Err(format!("label `{label}` appears twice"));
        }
        while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some((_, ',')) | None => {}
            Some((_, c)) => return Err(format!("expected `,` between labels, found `{c}`")),
        }
    }
    Ok(out)
}

fn quoted(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<String, String> {
    let mut out = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, c)) => out.push(c),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanding_notation_counts_samples_as_promtool_does() {
        assert_eq!(values("0+10x20"), Ok(21));
        assert_eq!(values("1 _ 3 stale"), Ok(4));
        assert_eq!(values("_x3 5x4"), Ok(8));
        assert_eq!(values("10-1x5"), Ok(6));
        assert_eq!(values("-1+2x2 1e3 -Inf NaN"), Ok(6));
        assert_eq!(values("1e-3+1e-3x2"), Ok(3));
    }

    #[test]
    fn expanding_notation_errors_name_the_item() {
        assert!(values("0+10").unwrap_err().contains("repeat count"));
        assert!(values("1 2 three").unwrap_err().contains("`three`"));
        assert!(values("0+10xten").unwrap_err().contains("whole number"));
        assert_eq!(values("  "), Err("no values".into()));
    }

    #[test]
    fn series_descriptions() {
        let s = series(r#"up{job="api", instance="a:80"}"#).unwrap();
        assert_eq!(s.name.as_deref(), Some("up"));
        assert_eq!(s.labels["instance"], "a:80");
        assert_eq!(series("up").unwrap().labels.len(), 0);
        let s = series(r#"{__name__="x", a="say \"hi\""}"#).unwrap();
        assert_eq!(s.name.as_deref(), Some("x"));
        assert_eq!(s.labels["a"], "say \"hi\"");
        let s = series(r#"{"my.metric", a="b"}"#).unwrap();
        assert_eq!(s.name.as_deref(), Some("my.metric"));
        assert!(series(r#"up{job=~"a"}"#).unwrap_err().contains("`=` only"));
        assert!(series(r#"up{job="a""#).is_err());
        assert!(
            series(r#"up{job=a}"#)
                .unwrap_err()
                .contains("double quotes")
        );
        assert!(series("").is_err());
    }
}
