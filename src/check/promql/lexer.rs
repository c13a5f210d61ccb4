//! A small PromQL lexer with positions.
//!
//! `promql-parser` decides whether an expression is valid, but its errors carry
//! no position. This lexer (and `locate.rs` on top of it) runs only on the
//! failure path, or for the few version checks that depend on spelling (a
//! quoted metric name, a range written as a bare number), to say *where*.

/// What a token is; keywords stay identifiers and are told apart by text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Ident,
    Number,
    Duration,
    Str,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` inside braces (a matcher) or as an assignment mistake.
    Assign,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, `^`.
    Op,
    /// `=~`, `!~`.
    RegexOp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    /// Character offsets in the expression.
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub offset: usize,
    pub message: String,
}

const DURATION_UNITS: [&str; 7] = ["ms", "s", "m", "h", "d", "w", "y"];

pub fn lex(input: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset: usize, message: String| Err(LexError { offset, message });
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let push = |out: &mut Vec<Token>, kind: Tok, end: usize| {
            out.push(Token {
                kind,
                start,
                end,
                text: chars[start..end].iter().collect(),
            })
        };
        match c {
            _ if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '(' => {
                push(&mut out, Tok::LParen, i + 1);
                i += 1;
            }
            ')' => {
                push(&mut out, Tok::RParen, i + 1);
                i += 1;
            }
            '{' => {
                push(&mut out, Tok::LBrace, i + 1);
                i += 1;
            }
            '}' => {
                push(&mut out, Tok::RBrace, i + 1);
                i += 1;
            }
            '[' => {
                push(&mut out, Tok::LBracket, i + 1);
                i += 1;
            }
            ']' => {
                push(&mut out, Tok::RBracket, i + 1);
                i += 1;
            }
            ',' => {
                push(&mut out, Tok::Comma, i + 1);
                i += 1;
            }
            ':' => {
                push(&mut out, Tok::Colon, i + 1);
                i += 1;
            }
            '@' => {
                push(&mut out, Tok::At, i + 1);
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (kind, len) = match (c, next) {
                    ('=', Some('=')) | ('!', Some('=')) | ('<', Some('=')) | ('>', Some('=')) => {
                        (Tok::Op, 2)
                    }
                    ('=', Some('~')) | ('!', Some('~')) => (Tok::RegexOp, 2),
                    ('=', _) => (Tok::Assign, 1),
                    ('!', _) => {
                        return err(
                            i,
                            "unexpected character after '!': expected '=' or '~'".into(),
                        );
                    }
                    _ => (Tok::Op, 1),
                };
                push(&mut out, kind, i + len);
                i += len;
            }
            '+' | '-' | '*' | '/' | '%' | '^' => {
                push(&mut out, Tok::Op, i + 1);
                i += 1;
            }
            '"' | '\'' | '`' => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(start, format!("unterminated quoted string {c}")),
                        Some('\\') if c != '`' => i += 2,
                        Some('\n') if c != '`' => {
                            return err(start, format!("unterminated quoted string {c}"));
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                push(&mut out, Tok::Str, i.min(chars.len()));
            }
            _ if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                i = number_or_duration(&chars, i, &mut out)?;
            }
            _ if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let kind = if matches!(text.to_ascii_lowercase().as_str(), "inf" | "nan") {
                    Tok::Number
                } else {
                    Tok::Ident
                };
                push(&mut out, kind, i);
            }
            _ => return err(i, format!("unexpected character: {c:?}")),
        }
    }
    Ok(out)
}

fn number_or_duration(
    chars: &[char],
    start: usize,
    out: &mut Vec<Token>,
) -> Result<usize, LexError> {
    let mut i = start;
    let hex = chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X'));
    if hex {
        i += 2;
        // `0x_1f` and `0x1_f` (Prometheus 2.54): an underscore after the
        // prefix or between digits.
        if chars.get(i) == Some(&'_') {
            i += 1;
        }
        i = digit_run(chars, i, |c| c.is_ascii_hexdigit());
    } else {
        // A duration is digits and units, repeated: `1h30m`.
        let mut j = i;
        let mut is_duration = false;
        loop {
            let digits = chars[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                break;
            }
            let after = j + digits;
            let rest: String = chars[after..chars.len().min(after + 2)].iter().collect();
            match DURATION_UNITS.iter().find(|u| rest.starts_with(**u)) {
                Some(unit) => {
                    j = after + unit.len();
                    is_duration = true;
                }
                None => break,
            }
        }
        if is_duration
            && !chars
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
        {
            out.push(Token {
                kind: Tok::Duration,
                start,
                end: j,
                text: chars[start..j].iter().collect(),
            });
            return Ok(j);
        }
        i = digit_run(chars, i, |c| c.is_ascii_digit());
        if chars.get(i) == Some(&'.') {
            i = digit_run(chars, i + 1, |c| c.is_ascii_digit());
        }
        if i < chars.len() && matches!(chars[i], 'e' | 'E') {
            let mut k = i + 1;
            if matches!(chars.get(k), Some('+' | '-')) {
                k += 1;
            }
            if chars.get(k).is_some_and(char::is_ascii_digit) {
                i = digit_run(chars, k, |c| c.is_ascii_digit());
            }
        }
    }
    if chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        let end = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .count()
            + i;
        let text: String = chars[start..end].iter().collect();
        return Err(LexError {
            offset: start,
            message: format!("bad number or duration syntax: {text:?}"),
        });
    }
    out.push(Token {
        kind: Tok::Number,
        start,
        end: i,
        text: chars[start..i].iter().collect(),
    });
    Ok(i)
}

/// The end of a run of digits from `i`, each `_` between two digits taken
/// as Go's lexer takes it (`1_000`, Prometheus 2.54): a `_` not followed by
/// a digit ends the run, and the number is then malformed.
fn digit_run(chars: &[char], mut i: usize, digit: impl Fn(char) -> bool) -> usize {
    while let Some(&c) = chars.get(i) {
        if digit(c)
            || (c == '_'
                && i > 0
                && digit(chars[i - 1])
                && chars.get(i + 1).is_some_and(|&n| digit(n)))
        {
            i += 1;
        } else {
            break;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(Tok, String)> {
        lex(input)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn tokens_and_positions() {
        assert_eq!(
            kinds("rate(x{a=~\"b\"}[1h30m]) > 0.5"),
            vec![
                (Tok::Ident, "rate".into()),
                (Tok::LParen, "(".into()),
                (Tok::Ident, "x".into()),
                (Tok::LBrace, "{".into()),
                (Tok::Ident, "a".into()),
                (Tok::RegexOp, "=~".into()),
                (Tok::Str, "\"b\"".into()),
                (Tok::RBrace, "}".into()),
                (Tok::LBracket, "[".into()),
                (Tok::Duration, "1h30m".into()),
                (Tok::RBracket, "]".into()),
                (Tok::RParen, ")".into()),
                (Tok::Op, ">".into()),
                (Tok::Number, "0.5".into()),
            ]
        );
        let toks = lex("a  +  b").unwrap();
        assert_eq!((toks[2].start, toks[2].end), (6, 7));
    }

    #[test]
    fn errors_have_offsets() {
        assert_eq!(lex("x{a=\"b}").unwrap_err().offset, 4);
        assert_eq!(
            lex("x[5x]").unwrap_err().message,
            "bad number or duration syntax: \"5x\""
        );
        assert_eq!(lex("x ! y").unwrap_err().offset, 2);
        assert_eq!(lex("x $ y").unwrap_err().offset, 2);
    }
}
