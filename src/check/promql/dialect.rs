//! PromQL as the pinned Prometheus release reads it. `promql-parser` follows
//! Prometheus 3 (about 3.3); the releases around it differ in spelling only,
//! so the differences live here, on `lexer` tokens, in two steps:
//!
//! - before parsing, spellings the crate lacks but the release accepts are
//!   rewritten to equivalent ones of the same length, so every character keeps
//!   its offset (`1_000` → `1000 `; `[5 m]` → `[5 :]` before 3.6; an enabled duration
//!   expression `[1h+5m]` → `[1s   ]`);
//! - after the crate accepts an expression, spellings the release rejects are
//!   rejected in its words (`unexpected duration "1h"` before 2.54).
//!
//! Each rule is dated from Prometheus's lexer and grammar at the release tags
//! and checked against promtool 2.42 and 3.5 by the rule corpus
//! (`tests/rule_corpus.rs`); docs/validate.md lists them.

use super::PromqlError;
use super::lexer::{Tok, Token, lex};
use crate::model::types::Version;
use crate::model::{Kind, Stack};

/// What the pinned release accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    version: Version,
    /// `--enable-feature=promql-duration-expr` (3.4 to 3.13; always on from 3.14).
    duration_expr_flag: bool,
}

/// Whether `[1h+5m]` and `offset (1h)` parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DurationExprs {
    /// Before 3.4 the grammar has none: the crate's error stands.
    Absent,
    /// 3.4 to 3.13 without the feature flag.
    Disabled,
    Enabled,
}

impl Dialect {
    pub fn new(version: Version, features: &[&str]) -> Dialect {
        Dialect {
            version,
            duration_expr_flag: features.contains(&"promql-duration-expr"),
        }
    }

    /// The dialect of the stack's Prometheus (the default release when the
    /// stack runs none: its dashboards then query some current Prometheus).
    pub fn of(stack: &Stack) -> Dialect {
        let version = stack.version_of(Kind::Prometheus);
        let args = stack
            .components
            .prometheus
            .as_ref()
            .map(|p| p.extra_args.as_slice())
            .unwrap_or_default();
        let features: Vec<&str> = args
            .iter()
            .filter_map(|a| a.strip_prefix("--enable-feature="))
            .flat_map(|list| list.split(',').map(str::trim))
            .collect();
        Dialect::new(version, &features)
    }

    /// The default Prometheus release's dialect.
    pub fn latest() -> Dialect {
        Dialect::new(
            crate::model::catalog::default_version(Kind::Prometheus),
            &[],
        )
    }

    fn at_least(&self, major: u64, minor: u64) -> bool {
        self.version.at_least(major, minor, 0)
    }

    /// `1_000`, and numbers and durations interchangeable (`x[300]`,
    /// `offset 60`, `time() - t > 10m`): Prometheus 2.54.
    fn numbers_and_durations(&self) -> bool {
        self.at_least(2, 54)
    }

    /// Quoted (UTF-8) metric and label names: Prometheus 3.0.
    fn quoted_names(&self) -> bool {
        self.at_least(3, 0)
    }

    /// From 2.7 (subqueries) to 3.5, the lexer reads a letter inside
    /// brackets, after the first duration, as a `:`: `x[1h m]` is the
    /// subquery `x[1h:]`, and from 2.54 `x[5 m]` is `x[5:]` (3.6 fixed it).
    fn letter_is_colon(&self) -> bool {
        self.at_least(2, 7) && !self.at_least(3, 6)
    }

    fn duration_exprs(&self) -> DurationExprs {
        if self.at_least(3, 14) || (self.at_least(3, 4) && self.duration_expr_flag) {
            DurationExprs::Enabled
        } else if self.at_least(3, 4) {
            DurationExprs::Disabled
        } else {
            DurationExprs::Absent
        }
    }
}

/// The text the crate should parse for `expr`: `None` when it is `expr` as
/// written, or an error the release reports before the crate would see one.
pub fn prepare(expr: &str, dialect: &Dialect) -> Result<Option<String>, PromqlError> {
    // Lexing costs about as much as parsing: only when a spelling can be there.
    let separators = dialect.numbers_and_durations() && has_number_separator(expr);
    let (spaced_letter, arithmetic) = bracket_contents(expr);
    let exprs = dialect.duration_exprs() != DurationExprs::Absent
        && (arithmetic || contains_ignore_case(expr, "offset"));
    if !(separators || exprs || (spaced_letter && dialect.letter_is_colon())) {
        return Ok(None);
    }
    // A text the lexer cannot read is the crate's to reject.
    let Ok(tokens) = lex(expr) else {
        return Ok(None);
    };
    let mut chars: Vec<char> = expr.chars().collect();
    let original = chars.clone();
    if separators {
        for t in tokens.iter().filter(|t| t.kind == Tok::Number) {
            let digits: Vec<char> = t.text.chars().filter(|&c| c != '_').collect();
            if digits.len() == t.end - t.start {
                continue;
            }
            for (k, slot) in chars[t.start..t.end].iter_mut().enumerate() {
                *slot = digits.get(k).copied().unwrap_or(' ');
            }
        }
    }
    if dialect.letter_is_colon() {
        for part in bracket_parts(&tokens) {
            if let [first, letter] = part.tokens
                && part.before_colon
                && matches!(first.kind, Tok::Number | Tok::Duration)
                && letter.kind == Tok::Ident
                && letter.end - letter.start == 1
                && !part.has_colon
            {
                chars[letter.start] = ':';
            }
        }
    }
    match dialect.duration_exprs() {
        DurationExprs::Absent => {}
        mode => {
            for span in duration_expressions(&tokens) {
                if mode == DurationExprs::Disabled {
                    return Err(PromqlError {
                        offset: span.start,
                        message: format!(
                            "experimental duration expression is not enabled (Prometheus {} needs `--enable-feature=promql-duration-expr`)",
                            dialect.version
                        ),
                    });
                }
                if let Err(offset) = check_duration_expr(span.tokens) {
                    return Err(PromqlError {
                        offset,
                        message: "invalid duration expression".into(),
                    });
                }
                // Any positive duration stands in: the crate only needs a
                // valid range or offset there.
                for (k, slot) in chars[span.start..span.end].iter_mut().enumerate() {
                    *slot = match k {
                        0 => '1',
                        1 => 's',
                        _ => ' ',
                    };
                }
            }
        }
    }
    Ok((chars != original).then(|| chars.into_iter().collect()))
}

/// After the crate accepted `expr`: the first spelling the pinned release
/// rejects, in its parser's words.
pub fn reject(expr: &str, dialect: &Dialect) -> Result<(), PromqlError> {
    let durations = !dialect.numbers_and_durations();
    let quotes = !dialect.quoted_names() && expr.contains(['"', '\'', '`']);
    if !durations && !quotes {
        return Ok(());
    }
    if durations && !expr.bytes().any(|b| b.is_ascii_digit()) && !quotes {
        return Ok(());
    }
    let Ok(tokens) = lex(expr) else {
        return Ok(());
    };
    let version = &dialect.version;
    let err = |offset: usize, message: String| Err(PromqlError { offset, message });
    let mut in_brackets = false;
    let mut in_braces = false;
    let mut grouping_depth: Option<usize> = None;
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        let after_offset = is_offset_position(&tokens, i);
        match t.kind {
            Tok::LBracket => in_brackets = true,
            Tok::RBracket => in_brackets = false,
            Tok::LBrace => in_braces = true,
            Tok::RBrace => in_braces = false,
            Tok::LParen => {
                depth += 1;
                if prev.is_some_and(|p| p.kind == Tok::Ident && is_grouping_keyword(&p.text)) {
                    grouping_depth = Some(depth);
                }
            }
            Tok::RParen => {
                if grouping_depth == Some(depth) {
                    grouping_depth = None;
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Duration if durations && !in_brackets && !after_offset => {
                return err(
                    t.start,
                    format!(
                        "unexpected duration {:?} (Prometheus 2.54 and later read it as a number of seconds; this stack pins {version})",
                        t.text
                    ),
                );
            }
            Tok::Number
                if durations
                    && in_brackets
                    && prev.is_some_and(|p| matches!(p.kind, Tok::LBracket | Tok::Colon)) =>
            {
                return err(
                    t.start,
                    format!(
                        "missing unit character in duration {:?} (Prometheus 2.54 and later read a number as seconds; this stack pins {version})",
                        t.text
                    ),
                );
            }
            Tok::Number if durations && after_offset => {
                return err(
                    t.start,
                    format!(
                        "unexpected number {:?} in offset, expected duration (Prometheus 2.54 and later read it as seconds; this stack pins {version})",
                        t.text
                    ),
                );
            }
            Tok::Str
                if quotes
                    && in_braces
                    && prev.is_some_and(|p| matches!(p.kind, Tok::LBrace | Tok::Comma))
                    && next.is_some_and(|n| {
                        matches!(
                            n.kind,
                            Tok::Assign | Tok::RegexOp | Tok::Comma | Tok::RBrace
                        ) || (n.kind == Tok::Op && n.text == "!=")
                    }) =>
            {
                return err(
                    t.start,
                    format!(
                        "unexpected string {:?} in label matching, expected identifier or \"}}\" (quoted names need Prometheus 3; this stack pins {version})",
                        t.text
                    ),
                );
            }
            Tok::Str if quotes && grouping_depth == Some(depth) => {
                return err(
                    t.start,
                    format!(
                        "unexpected string {:?} in grouping opts, expected label (quoted names need Prometheus 3; this stack pins {version})",
                        t.text
                    ),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether token `i` is what `offset` (or `offset -`) applies to.
fn is_offset_position(tokens: &[Token], i: usize) -> bool {
    let is_offset = |t: &Token| t.kind == Tok::Ident && t.text.eq_ignore_ascii_case("offset");
    match i {
        0 => false,
        _ if is_offset(&tokens[i - 1]) => true,
        1 => false,
        _ => {
            let sign = &tokens[i - 1];
            sign.kind == Tok::Op
                && matches!(sign.text.as_str(), "-" | "+")
                && is_offset(&tokens[i - 2])
        }
    }
}

fn is_grouping_keyword(word: &str) -> bool {
    [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

/// A digit followed by `_` and a digit (or `0x_`): a number with separators,
/// or a name like `x1_2` that the lexer tells apart.
fn has_number_separator(expr: &str) -> bool {
    let b = expr.as_bytes();
    b.windows(3).any(|w| {
        (w[0].is_ascii_digit() || w[0] == b'x' || w[0] == b'X')
            && w[1] == b'_'
            && w[2].is_ascii_hexdigit()
    })
}

/// Whether some `[...]` holds a letter after a blank (`[5 m]`), and whether
/// some holds arithmetic or parentheses (`[1h+5m]`); bytes only, no lexing.
fn bracket_contents(expr: &str) -> (bool, bool) {
    let (mut spaced_letter, mut arithmetic) = (false, false);
    let mut rest = expr.as_bytes();
    while let Some(open) = rest.iter().position(|&b| b == b'[') {
        rest = &rest[open + 1..];
        let close = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        let inside = &rest[..close];
        spaced_letter |= inside
            .windows(2)
            .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_alphabetic());
        arithmetic |= inside
            .iter()
            .any(|b| matches!(b, b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'('));
        rest = &rest[close..];
    }
    (spaced_letter, arithmetic)
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The range (or subquery range, or step) between `[` and `:` or `]`.
struct BracketPart<'t> {
    tokens: &'t [Token],
    before_colon: bool,
    /// Whether the brackets hold a `:` at all.
    has_colon: bool,
}

fn bracket_parts(tokens: &[Token]) -> Vec<BracketPart<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].kind != Tok::LBracket {
            i += 1;
            continue;
        }
        let start = i + 1;
        let Some(len) = tokens[start..]
            .iter()
            .position(|t| matches!(t.kind, Tok::RBracket | Tok::LBracket))
        else {
            break;
        };
        let inside = &tokens[start..start + len];
        let colon = inside.iter().position(|t| t.kind == Tok::Colon);
        match colon {
            Some(c) => {
                out.push(BracketPart {
                    tokens: &inside[..c],
                    before_colon: true,
                    has_colon: true,
                });
                out.push(BracketPart {
                    tokens: &inside[c + 1..],
                    before_colon: false,
                    has_colon: true,
                });
            }
            None => out.push(BracketPart {
                tokens: inside,
                before_colon: true,
                has_colon: false,
            }),
        }
        i = start + len;
    }
    out
}

/// A duration expression: its tokens and character span.
struct Span<'t> {
    tokens: &'t [Token],
    start: usize,
    end: usize,
}

/// Every duration written as arithmetic: a bracket part that is more than one
/// number or duration, or a parenthesised `offset`. `[-5m]` is not one (the
/// crate rejects it, as Prometheus does: "duration must be greater than 0").
fn duration_expressions(tokens: &[Token]) -> Vec<Span<'_>> {
    let arithmetic = |t: &Token| {
        matches!(
            t.kind,
            Tok::Number | Tok::Duration | Tok::LParen | Tok::RParen
        ) || (t.kind == Tok::Op && matches!(t.text.as_str(), "+" | "-" | "*" | "/" | "%" | "^"))
    };
    let mut out = Vec::new();
    for part in bracket_parts(tokens) {
        let ts = part.tokens;
        let signed_literal = matches!(ts, [sign, lit] if sign.kind == Tok::Op
            && matches!(lit.kind, Tok::Number | Tok::Duration));
        if ts.len() > 1 && !signed_literal && ts.iter().all(arithmetic) {
            out.push(Span {
                tokens: ts,
                start: ts[0].start,
                end: ts[ts.len() - 1].end,
            });
        }
    }
    for (i, t) in tokens.iter().enumerate() {
        if !(t.kind == Tok::Ident && t.text.eq_ignore_ascii_case("offset")) {
            continue;
        }
        let mut k = i + 1;
        if tokens
            .get(k)
            .is_some_and(|s| s.kind == Tok::Op && matches!(s.text.as_str(), "-" | "+"))
        {
            k += 1;
        }
        if tokens.get(k).is_none_or(|p| p.kind != Tok::LParen) {
            continue;
        }
        let mut depth = 0usize;
        let mut end = None;
        for (j, p) in tokens.iter().enumerate().skip(k) {
            match p.kind {
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(j) = end {
            let ts = &tokens[i + 1..=j];
            if ts.iter().all(arithmetic) {
                out.push(Span {
                    tokens: ts,
                    start: ts[0].start,
                    end: ts[ts.len() - 1].end,
                });
            }
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

/// `operand (op operand)*` with unary signs and parentheses; the offset of
/// the first token that does not fit.
fn check_duration_expr(tokens: &[Token]) -> Result<(), usize> {
    fn operand(tokens: &[Token], i: &mut usize) -> Result<(), usize> {
        // Past the last token: where the expression should have gone on.
        let at = |i: usize| {
            tokens
                .get(i)
                .or(tokens.last())
                .map_or(0, |t| if i < tokens.len() { t.start } else { t.end })
        };
        while tokens
            .get(*i)
            .is_some_and(|t| t.kind == Tok::Op && matches!(t.text.as_str(), "-" | "+"))
        {
            *i += 1;
        }
        match tokens.get(*i).map(|t| t.kind) {
            Some(Tok::Number | Tok::Duration) => {
                *i += 1;
                Ok(())
            }
            Some(Tok::LParen) => {
                *i += 1;
                expression(tokens, i)?;
                if tokens.get(*i).map(|t| t.kind) != Some(Tok::RParen) {
                    return Err(at(*i));
                }
                *i += 1;
                Ok(())
            }
            _ => Err(at(*i)),
        }
    }
    fn expression(tokens: &[Token], i: &mut usize) -> Result<(), usize> {
        operand(tokens, i)?;
        while tokens.get(*i).is_some_and(|t| t.kind == Tok::Op) {
            *i += 1;
            operand(tokens, i)?;
        }
        Ok(())
    }
    let mut i = 0;
    expression(tokens, &mut i)?;
    match tokens.get(i) {
        None => Ok(()),
        Some(t) => Err(t.start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(version: &str, features: &[&str]) -> Dialect {
        Dialect::new(Version::parse(version).unwrap(), features)
    }

    #[test]
    fn rewrites_keep_every_offset() {
        let v3_5 = dialect("v3.5.0", &[]);
        let cases = [
            ("up * 1_000", "up * 1000 "),
            ("0x_1f + 1_0.5_0 + 1e1_0", "0x1f  + 10.50   + 1e10 "),
            ("rate(x[5 m])", "rate(x[5 :])"),
            ("rate(x[1h m] offset 1m)", "rate(x[1h :] offset 1m)"),
        ];
        for (expr, want) in cases {
            let got = prepare(expr, &v3_5).unwrap();
            assert_eq!(got.as_deref(), Some(want), "{expr}");
            assert_eq!(want.chars().count(), expr.chars().count());
        }
        // Names with digits and underscores are names.
        assert_eq!(prepare("x1_2 + node_cpu_0", &v3_5).unwrap(), None);
        // Not before 2.54 (the crate rejects `1_000`); a letter is a colon
        // from 2.7 to 3.5 (`[5 m]` then fails in `reject` before 2.54: `5`
        // has no unit).
        assert_eq!(
            prepare("up * 1_000", &dialect("v2.42.0", &[])).unwrap(),
            None
        );
        assert_eq!(prepare("x[5 m]", &dialect("v3.6.0", &[])).unwrap(), None);
        assert_eq!(
            prepare("x[1h m]", &dialect("v2.42.0", &[]))
                .unwrap()
                .as_deref(),
            Some("x[1h :]")
        );
        assert!(reject("x[5 :]", &dialect("v2.42.0", &[])).is_err());
        // `[5 m:1m]` has a colon already: Prometheus rejects it, so does the crate.
        assert_eq!(prepare("x[5 m:1m]", &v3_5).unwrap(), None);
    }

    #[test]
    fn duration_expressions_by_release_and_flag() {
        let off = prepare("up[1h+5m]", &dialect("v3.5.0", &[])).unwrap_err();
        assert_eq!(off.offset, 3);
        assert!(
            off.message
                .starts_with("experimental duration expression is not enabled")
        );
        let on = dialect("v3.5.0", &["promql-duration-expr"]);
        assert_eq!(
            prepare("up[1h+5m]", &on).unwrap().as_deref(),
            Some("up[1s   ]")
        );
        assert_eq!(
            prepare("x offset (1h*2)", &on).unwrap().as_deref(),
            Some("x offset 1s    ")
        );
        assert_eq!(
            prepare("x[2*(5m-1m):1m]", &dialect("v3.14.0", &[]))
                .unwrap()
                .as_deref(),
            Some("x[1s       :1m]")
        );
        assert_eq!(prepare("up[1h+5m]", &dialect("v3.3.0", &[])).unwrap(), None);
        assert_eq!(
            prepare("x[5m] offset -5m", &dialect("v3.5.0", &[])).unwrap(),
            None
        );
        assert_eq!(prepare("up[1h+]", &on).unwrap_err().offset, 6);
    }

    #[test]
    fn prometheus_2_rejects_what_2_54_and_3_added() {
        let v2 = dialect("v2.42.0", &[]);
        let rejected = [
            ("up == 1h", 6, "unexpected duration \"1h\""),
            ("x[300]", 2, "missing unit character in duration \"300\""),
            ("x[5m:60]", 5, "missing unit character in duration \"60\""),
            (
                "x offset 60",
                9,
                "unexpected number \"60\" in offset, expected duration",
            ),
            ("x offset -60", 10, "unexpected number \"60\" in offset"),
            (
                "{\"my.metric\"}",
                1,
                "unexpected string \"\\\"my.metric\\\"\" in label matching",
            ),
            (
                "sum by (\"a.b\") (up)",
                8,
                "unexpected string \"\\\"a.b\\\"\" in grouping opts",
            ),
        ];
        for (expr, offset, message) in rejected {
            let e = reject(expr, &v2).unwrap_err();
            assert_eq!(e.offset, offset, "{expr}");
            assert!(e.message.starts_with(message), "{expr}: {}", e.message);
            assert!(e.message.contains("this stack pins v2.42.0"), "{expr}");
            assert_eq!(reject(expr, &dialect("v3.0.0", &[])), Ok(()), "{expr}");
        }
        for expr in [
            "rate(x[5m]) offset 1h",
            "x offset -5m",
            "x[1h:5m]",
            "label_replace(up, \"a\", \"$1\", \"job\", \"(.*)\")",
            "up{job=\"a\"} > 0.5",
            "sum by (job) (up)",
        ] {
            assert_eq!(reject(expr, &v2), Ok(()), "{expr}");
        }
        // 2.54 reads numbers and durations either way.
        assert_eq!(reject("up == 1h", &dialect("v2.54.0", &[])), Ok(()));
    }
}
