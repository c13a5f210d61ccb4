//! Grafana template variables in dashboard queries (`$__rate_interval`, `$job`,
//! `${instance}`, `[[var]]`), replaced by something that is valid PromQL in the
//! same place, so that a valid dashboard query parses. Grafana does the same at
//! query time with the variable's current value.
//!
//! The replacement depends on where the variable stands: inside a string it
//! becomes plain text, inside `[...]` or after `offset` a duration, in a label
//! list a label name, where a number is expected a number, else a metric name.

/// The substituted query and how to map its offsets back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    pub text: String,
    /// (offset in `text`, offset in the original, length in `text`, length in the original)
    spans: Vec<(usize, usize, usize, usize)>,
}

impl Substituted {
    /// The original character offset for an offset in `text`.
    pub fn original_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for &(at, orig, len, orig_len) in &self.spans {
            if offset < at {
                break;
            }
            if offset < at + len {
                return orig;
            }
            shift = orig as isize + orig_len as isize - (at + len) as isize;
        }
        (offset as isize + shift).max(0) as usize
    }

    pub fn changed(&self) -> bool {
        !self.spans.is_empty()
    }
}

/// Functions and aggregations whose first argument is a number.
const NUMBER_FIRST: [&str; 7] = [
    "topk",
    "bottomk",
    "quantile",
    "limitk",
    "limit_ratio",
    "histogram_quantile",
    "quantile_over_time",
];
const LABEL_LISTS: [&str; 6] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

pub fn substitute(query: &str) -> Substituted {
    let chars: Vec<char> = query.chars().collect();
    let mut text = String::with_capacity(query.len());
    let mut spans = Vec::new();
    let mut out_len = 0usize;
    let mut quote: Option<char> = None;
    let mut bracket = 0usize;
    // Parenthesis stack: true when the parenthesis opens a label list.
    let mut parens: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == '\\' && q != '`' && i + 1 < chars.len() {
                text.push(c);
                text.push(chars[i + 1]);
                out_len += 2;
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                // A comment runs to the end of the line; quotes in it open nothing.
                '#' => {
                    while i < chars.len() && chars[i] != '\n' {
                        text.push(chars[i]);
                        out_len += 1;
                        i += 1;
                    }
                    continue;
                }
                '"' | '\'' | '`' => quote = Some(c),
                // `[` opens a range unless it starts `[[var]]`, also when the
                // range holds one: `x[[[interval]]]`.
                '[' if chars.get(i + 1).is_none_or(|n| *n != '[')
                    || chars.get(i + 2) == Some(&'[') =>
                {
                    bracket += 1
                }
                ']' if bracket > 0 => bracket -= 1,
                '(' => parens.push(LABEL_LISTS.contains(&word_before(&chars, i))),
                ')' => {
                    parens.pop();
                }
                _ => {}
            }
        }
        if let Some((name, len)) = variable_at(&chars, i) {
            let replacement = if quote.is_some() {
                name.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            } else if is_numeric(&name) {
                "60".to_string()
            } else if bracket > 0 || word_before(&chars, i) == "offset" {
                "5m".to_string()
            } else if parens.last() == Some(&true) {
                name.replace('.', "_")
            } else if number_expected(&chars, i) && !matches!(chars.get(i + len), Some('{' | '[')) {
                "1".to_string()
            } else {
                format!("var_{}", name.replace('.', "_"))
            };
            let replacement = if replacement.is_empty() {
                "x".to_string()
            } else {
                replacement
            };
            let rlen = replacement.chars().count();
            spans.push((out_len, i, rlen, len));
            text.push_str(&replacement);
            out_len += rlen;
            i += len;
            continue;
        }
        text.push(c);
        out_len += 1;
        i += 1;
    }
    Substituted { text, spans }
}

/// A variable reference starting at `i`: its name and length in characters.
fn variable_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let word = |from: usize| -> String {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect()
    };
    match (chars.get(i), chars.get(i + 1)) {
        (Some('$'), Some('{')) => {
            let close = chars[i..].iter().position(|c| *c == '}')? + i;
            let inner: String = chars[i + 2..close].iter().collect();
            let name = inner.split([':', '.']).next().unwrap_or("").to_string();
            Some((name, close - i + 1))
        }
        (Some('$'), _) => {
            let name = word(i + 1);
            (!name.is_empty()).then(|| (name.clone(), name.chars().count() + 1))
        }
        (Some('['), Some('[')) => {
            let inner = word(i + 2);
            let after = i + 2 + inner.chars().count();
            let close = chars[after..].windows(2).position(|w| w == [']', ']'])? + after;
            (!inner.is_empty()).then(|| (inner, close + 2 - i))
        }
        _ => None,
    }
}

fn is_numeric(name: &str) -> bool {
    name.starts_with("__")
        && (name.ends_with("_ms") || name.ends_with("_s") || name == "__from" || name == "__to")
}

/// The identifier that ends just before position `i` (skipping spaces).
fn word_before(chars: &[char], i: usize) -> &'static str {
    let mut j = i;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    let end = j;
    while j > 0 && (chars[j - 1].is_ascii_alphanumeric() || chars[j - 1] == '_') {
        j -= 1;
    }
    let word: String = chars[j..end].iter().collect();
    LABEL_LISTS
        .iter()
        .chain(NUMBER_FIRST.iter())
        .chain(std::iter::once(&"offset"))
        .find(|w| **w == word)
        .copied()
        .unwrap_or("")
}

/// Whether a number (rather than a vector) is the natural reading at `i`.
fn number_expected(chars: &[char], i: usize) -> bool {
    let mut j = i;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    match j.checked_sub(1).map(|k| chars[k]) {
        Some(',' | '>' | '<' | '=' | '+' | '-' | '*' | '/' | '%' | '^') => true,
        Some('(') => {
            NUMBER_FIRST.contains(&word_before(chars, j - 1))
                || word_before_is(chars, j - 1, "vector")
                || aggregation_with_grouping(chars, j - 1)
        }
        _ => false,
    }
}

/// True when the parenthesis at `open` follows `topk by (…)` (or another
/// number-first aggregation with `by`/`without`): its first argument is a number.
fn aggregation_with_grouping(chars: &[char], open: usize) -> bool {
    let mut j = open;
    while j > 0 && chars[j - 1].is_whitespace() {
        j -= 1;
    }
    if j == 0 || chars[j - 1] != ')' {
        return false;
    }
    // The parenthesis that opens the label list.
    let mut depth = 0usize;
    let mut k = j - 1;
    loop {
        match chars[k] {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        if k == 0 {
            return false;
        }
        k -= 1;
    }
    let grouping = word_before(chars, k);
    if grouping != "by" && grouping != "without" {
        return false;
    }
    // The aggregation before the grouping word.
    let mut m = k;
    while m > 0 && chars[m - 1].is_whitespace() {
        m -= 1;
    }
    m = m.saturating_sub(grouping.len());
    NUMBER_FIRST.contains(&word_before(chars, m))
}

fn word_before_is(chars: &[char], i: usize, word: &str) -> bool {
    let prefix: String = chars[..i].iter().collect();
    prefix.trim_end().ends_with(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_does_not_open_a_quote() {
        let q = "# don't count retries\nsum(rate(x{job=~\"$job\"}[$__rate_interval]))";
        assert_eq!(
            substitute(q).text,
            "# don't count retries\nsum(rate(x{job=~\"job\"}[5m]))"
        );
    }

    #[test]
    fn number_first_aggregation_with_grouping_keeps_a_number() {
        assert_eq!(
            substitute("topk by (job) ($k, rate(x[$__rate_interval]))").text,
            "topk by (job) (1, rate(x[5m]))"
        );
        assert_eq!(
            substitute("quantile without (pod) ($q, x)").text,
            "quantile without (pod) (1, x)"
        );
        // Not after an ordinary aggregation.
        assert_eq!(substitute("sum by (job) ($m)").text, "sum by (job) (var_m)");
    }

    #[test]
    fn variables_become_valid_promql_in_place() {
        let cases = [
            ("rate(x[$__rate_interval])", "rate(x[5m])"),
            (
                "rate(x{job=~\"$job\"}[$__interval])",
                "rate(x{job=~\"job\"}[5m])",
            ),
            (
                "sum by ($group) (x{instance=\"${instance}\"})",
                "sum by (group) (x{instance=\"instance\"})",
            ),
            ("topk($n, x) > $threshold", "topk(1, x) > 1"),
            ("increase(x[$__range]) / $__range_s", "increase(x[5m]) / 60"),
            (
                "[[metric]]{a=\"[[value]]\"} offset $shift",
                "var_metric{a=\"value\"} offset 5m",
            ),
            ("${metric:raw}", "var_metric"),
            ("x[5m]", "x[5m]"),
            ("rate(x[[[interval]]])", "rate(x[5m])"),
        ];
        for (input, want) in cases {
            assert_eq!(substitute(input).text, want, "{input}");
        }
    }

    #[test]
    fn offsets_map_back() {
        let s = substitute("rate(x[$__rate_interval]) +");
        assert_eq!(s.text, "rate(x[5m]) +");
        assert_eq!(s.original_offset(12), 26);
        assert_eq!(s.original_offset(7), 7);
        assert_eq!(s.original_offset(2), 2);
    }
}
