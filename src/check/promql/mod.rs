//! PromQL in the stack: every rule expression, dashboard query and dashboard
//! variable query is parsed once with `promql-parser` (the only place that crate
//! is used), in parallel, and reduced to `Facts` that the other checks read.
//!
//! The crate decides validity; `locate` explains a failure with a position.

mod dialect;
mod facts;
pub mod grafana;
mod index;
mod lexer;
mod locate;

pub use dialect::Dialect;
pub use facts::{Facts, LabelsOut};
pub use index::{Entry, Index, Site, variable_promql};

use promql_parser::label::MatchOp;
use promql_parser::parser::{Function, value::ValueType};

/// A parse failure: the parser's message and where in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlError {
    /// Character offset in the expression as written.
    pub offset: usize,
    pub message: String,
}

/// Parses `expr` as the default Prometheus release reads it, and extracts
/// its facts.
pub fn analyse(expr: &str) -> Result<Facts, PromqlError> {
    analyse_in(expr, &Dialect::latest())
}

/// Parses `expr` as `dialect`'s Prometheus release reads it (see `dialect`),
/// and extracts its facts.
pub fn analyse_in(expr: &str, dialect: &Dialect) -> Result<Facts, PromqlError> {
    analyse_with(expr, dialect, None)
}

/// The verdict on `expr` as written, before any dialect step: what the load
/// pipeline computes while the YAML is still being read (`check::prefetch`),
/// when the pinned release is not known yet. `analyse_with` finishes it for
/// any dialect.
pub fn parse_raw(expr: &str) -> Result<Facts, PromqlError> {
    parse(expr)
}

/// `analyse_in`, given `raw` = `parse_raw(expr)` when it is already known. It
/// is used whenever the dialect leaves the text as written (nearly always:
/// only `1_000`, `[5 m]` or a duration expression are rewritten), so results
/// prefetched before the pinned version was known serve every release.
pub fn analyse_with(
    expr: &str,
    dialect: &Dialect,
    raw: Option<Result<Facts, PromqlError>>,
) -> Result<Facts, PromqlError> {
    let prepared = dialect::prepare(expr, dialect)?;
    let facts = match (prepared, raw) {
        (None, Some(raw)) => raw?,
        (None, None) => parse(expr)?,
        (Some(text), _) => parse(&text)?,
    };
    dialect::reject(expr, dialect)?;
    Ok(facts)
}

/// The crate's verdict on `expr`, with a position when it fails.
fn parse(expr: &str) -> Result<Facts, PromqlError> {
    register_legacy_functions();
    let rewritten = zero_exponents(expr);
    let expr = rewritten.as_deref().unwrap_or(expr);
    if let Some((text, regexes)) = without_regexes(expr) {
        if let Ok(mut ast) = promql_parser::parser::parse(&text) {
            restore_regexes(&mut ast, &regexes);
            return Ok(facts::extract(&ast));
        }
    }
    match promql_parser::parser::parse(expr) {
        Ok(ast) => Ok(facts::extract(&ast)),
        Err(message) => Err(explain(expr, message)),
    }
}

/// `0e0`, `0e5`, `0E-3` rewritten as `0.0`, `0.0`, `0.00`: the same value and
/// length (positions stay). promql-parser reads a literal without `.` whose
/// mantissa is 0 as an integer and fails ("can't be parsed into i64"), where
/// Prometheus's parser (and promtool) accept it.
fn zero_exponents(expr: &str) -> Option<String> {
    // Nearly every expression has an `e` (`rate`, `instance`): look for a
    // `0` before it first, so that lexing is left for the rare candidates.
    if !expr
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'0' && matches!(w[1], b'e' | b'E'))
    {
        return None;
    }
    let tokens = lexer::lex(expr).ok()?;
    let mut chars: Vec<char> = Vec::new();
    for tok in tokens.iter().filter(|t| t.kind == lexer::Tok::Number) {
        let Some((mantissa, exponent)) = tok.text.split_once(['e', 'E']) else {
            continue;
        };
        let exponent = exponent.trim_start_matches(['+', '-']);
        if mantissa.is_empty()
            || !mantissa.chars().all(|c| c == '0')
            || exponent.is_empty()
            || !exponent.chars().all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if chars.is_empty() {
            chars = expr.chars().collect();
        }
        let len = tok.text.chars().count();
        for (k, slot) in chars[tok.start..tok.start + len].iter_mut().enumerate() {
            *slot = if k == 1 { '.' } else { '0' };
        }
    }
    (!chars.is_empty()).then(|| chars.into_iter().collect())
}

/// A regex matcher written as an equality matcher for parsing: label, value,
/// and the regex operator the parser built for it (compiled once).
type RegexMatcher = (String, String, MatchOp);

/// Compiling regexes is most of what parsing costs, and the parser compiles
/// every regex matcher again. Each distinct regex is judged once (per thread)
/// by the parser itself, and expressions are then parsed with `=~` written as
/// `= ` and `!~` as `!=` (same length, so positions stay). The verdict is the
/// same: a regex that compiles and cannot match the empty string behaves like a
/// non-empty equality value in every check the parser makes (which only asks
/// whether a matcher matches the empty string). Anything else is parsed as is.
fn without_regexes(expr: &str) -> Option<(String, Vec<RegexMatcher>)> {
    if !expr.contains("=~") && !expr.contains("!~") {
        return None;
    }
    let tokens = lexer::lex(expr).ok()?;
    let mut chars: Vec<char> = expr.chars().collect();
    let mut regexes = Vec::new();
    for w in tokens.windows(3) {
        let [name, op, value] = w else { continue };
        if op.kind != lexer::Tok::RegexOp {
            continue;
        }
        if !matches!(name.kind, lexer::Tok::Ident | lexer::Tok::Str)
            || name.text == "__name__"
            || value.kind != lexer::Tok::Str
        {
            return None;
        }
        let (unquoted, compiled) = plain_regex(&value.text)?;
        let negated = op.text == "!~";
        let compiled = match (negated, compiled) {
            (true, MatchOp::Re(re)) => MatchOp::NotRe(re),
            (_, op) => op,
        };
        chars[op.start + 1] = if negated { '=' } else { ' ' };
        if negated {
            chars[op.start] = '!';
        }
        regexes.push((
            name.text.trim_matches(['"', '\'', '`']).to_string(),
            unquoted,
            compiled,
        ));
    }
    Some((chars.into_iter().collect(), regexes))
}

/// The unquoted value and the compiled matcher of a regex that compiles and
/// cannot match the empty string, as the parser sees it; `None` otherwise.
///
/// Judged once per process, not per thread: the parsing threads share one
/// cache (a per-thread cache compiled each regex once on every thread, and a
/// second parse compiled it again), and the empty-string test asks the
/// compiled regex instead of parsing a second selector.
fn plain_regex(quoted: &str) -> Option<(String, MatchOp)> {
    use promql_parser::parser::Expr;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Judged = Option<(String, MatchOp)>;
    static SEEN: OnceLock<Mutex<HashMap<String, Judged>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(known) = seen.lock().ok().and_then(|s| s.get(quoted).cloned()) {
        return known;
    }
    let judged = (|| {
        // Compiles (as the parser compiles it)…
        let Ok(Expr::VectorSelector(vs)) =
            promql_parser::parser::parse(&format!("x{{a=~{quoted}}}"))
        else {
            return None;
        };
        let matcher = vs.matchers.matchers.iter().find(|m| m.name == "a")?;
        // …and cannot match the empty string (the parser rejects a selector
        // of only such matchers, and treats them apart in its checks).
        if let MatchOp::Re(re) = &matcher.op {
            if re.is_match("") {
                return None;
            }
        }
        Some((matcher.value.clone(), matcher.op.clone()))
    })();
    if let Ok(mut s) = seen.lock() {
        s.insert(quoted.to_string(), judged.clone());
    }
    judged
}

/// `holt_winters` is gone from the parser (Prometheus 3 renamed it), but
/// Prometheus 2 accepts it; the version check decides, not the parser.
fn register_legacy_functions() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let holt_winters = Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        // Fails only if the crate gains a built-in of that name, which is fine.
        let _ = promql_parser::parser::register_extra_functions(vec![holt_winters]);
    });
}

/// Puts back the regex operators of `without_regexes` into the parsed tree.
fn restore_regexes(expr: &mut promql_parser::parser::Expr, regexes: &[RegexMatcher]) {
    use promql_parser::parser::Expr;
    let fix = |vs: &mut promql_parser::parser::VectorSelector| {
        for m in vs.matchers.matchers.iter_mut() {
            let negated = matches!(m.op, MatchOp::NotEqual);
            if let Some((_, _, op)) = regexes.iter().find(|(l, v, op)| {
                *l == m.name && *v == m.value && matches!(op, MatchOp::NotRe(_)) == negated
            }) {
                m.op = op.clone();
            }
        }
    };
    match expr {
        Expr::Aggregate(a) => {
            restore_regexes(&mut a.expr, regexes);
            if let Some(p) = a.param.as_deref_mut() {
                restore_regexes(p, regexes);
            }
        }
        Expr::Unary(u) => restore_regexes(&mut u.expr, regexes),
        Expr::Binary(b) => {
            restore_regexes(&mut b.lhs, regexes);
            restore_regexes(&mut b.rhs, regexes);
        }
        Expr::Paren(p) => restore_regexes(&mut p.expr, regexes),
        Expr::Subquery(s) => restore_regexes(&mut s.expr, regexes),
        Expr::VectorSelector(vs) => fix(vs),
        Expr::MatrixSelector(ms) => fix(&mut ms.vs),
        Expr::Call(c) => c
            .args
            .args
            .iter_mut()
            .for_each(|a| restore_regexes(a, regexes)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The crate's message, made specific where it is generic, with a position.
fn explain(expr: &str, message: String) -> PromqlError {
    let located = locate::locate(expr);
    if message == "invalid promql query" || message.starts_with("no expression found") {
        let (offset, message) = located.unwrap_or((0, "invalid PromQL expression".to_string()));
        return PromqlError { offset, message };
    }
    // A function the message names ('rate', 'holt_winters') is where to look;
    // otherwise the first token the grammar cannot take.
    let function = message
        .contains("function")
        .then(|| message.split('\'').nth(1).filter(|q| !q.is_empty()))
        .flatten()
        .map(|name| format!("{name}("));
    let regex = message
        .strip_prefix("illegal regex for ")
        .or_else(|| message.strip_prefix("bad number or duration syntax: "))
        .map(str::to_string);
    let offset = function
        .or(regex)
        .and_then(|needle| find_chars(expr, &needle))
        .or(located.map(|(o, _)| o))
        .unwrap_or(0);
    PromqlError { offset, message }
}

/// Character offset of the first occurrence of `needle`.
fn find_chars(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .find(needle)
        .map(|byte| haystack[..byte].chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mantissa_exponent_literals_parse() {
        for expr in ["up * 0e0", "up + 0e5", "0E0 < up", "up * 0e-3", "00e1 + up"] {
            assert!(analyse(expr).is_ok(), "{expr}: {:?}", analyse(expr));
        }
        assert_eq!(zero_exponents("up * 0e-3").as_deref(), Some("up * 0.00"));
        assert_eq!(zero_exponents("up * 1e3"), None);
    }

    #[test]
    fn errors_carry_a_position_and_the_parser_message() {
        let cases = [
            (
                "sum(x) by job",
                10,
                "unexpected identifier \"job\" in grouping opts, expected \"(\"",
            ),
            ("rate(x[5m]", 4, "unclosed left parenthesis"),
            (
                "rate(x)",
                0,
                "expected type matrix in call to function 'rate', got vector",
            ),
            (
                "1 + nosuchfunc(x)",
                4,
                "unknown function with name 'nosuchfunc'",
            ),
            ("x{a=~\"(\"}", 6, "illegal regex for ("),
        ];
        for (expr, offset, message) in cases {
            let e = analyse(expr).unwrap_err();
            assert_eq!((e.offset, e.message.as_str()), (offset, message), "{expr}");
        }
    }

    #[test]
    fn regex_matchers_parse_once_and_keep_their_meaning() {
        // The same facts whether or not the fast path is taken.
        for expr in [
            "sum by (job) (rate(x{job=~\"api|web\", code!~\"5..\", le=~\"1|2\"}[5m]))",
            "up{job=~\"api\"} == 0",
        ] {
            let fast = analyse(expr).unwrap();
            let slow = facts::extract(&promql_parser::parser::parse(expr).unwrap());
            assert_eq!(fast, slow, "{expr}");
        }
        assert!(
            analyse("up{job=~\"api\"} == 0")
                .unwrap()
                .labels
                .known
                .is_empty()
        );
        // Regexes the fast path must not take: empty-matching, invalid, on `__name__`.
        assert!(analyse("{a=~\".*\"}").is_err());
        assert!(analyse("{a=~\".*\", b!~\"\"}").is_ok());
        assert_eq!(
            analyse("x{a=~\"(\"}").unwrap_err().message,
            "illegal regex for ("
        );
        assert_eq!(
            analyse("{__name__=~\"x.*\"}").unwrap().metrics,
            Vec::<String>::new()
        );
    }

    #[test]
    fn holt_winters_parses_for_the_version_check_to_judge() {
        assert_eq!(
            analyse("holt_winters(x[1h], 0.5, 0.5)").unwrap().functions,
            vec!["holt_winters"]
        );
    }
}
