//! Where a PromQL syntax error is: a recursive-descent walk of the PromQL
//! grammar over `lexer` tokens that stops at the first token that cannot
//! continue the expression. It never decides validity (`promql-parser` does);
//! it only explains a failure with an offset and a message in Prometheus' words.

use super::lexer::{Tok, Token, lex};

/// The first syntax problem: character offset and message.
pub type Problem = (usize, String);

const AGGREGATORS: [&str; 14] = [
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
];
const SET_OPS: [&str; 3] = ["and", "or", "unless"];
const KEYWORDS: [&str; 9] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "atan2",
];

/// Finds the first syntax problem of `input`, if this grammar sees one.
pub fn locate(input: &str) -> Option<Problem> {
    let tokens = match lex(input) {
        Ok(tokens) => tokens,
        Err(e) => return Some((e.offset, e.message)),
    };
    if tokens.is_empty() {
        return Some((0, "no expression found in input".into()));
    }
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
        end: input.chars().count(),
    };
    match p.expr(0) {
        Err(problem) => Some(problem),
        Ok(()) => p.peek().map(|t| match t.kind {
            Tok::RParen => (t.start, "unexpected right parenthesis ')'".to_string()),
            _ => (t.start, format!("unexpected {}", describe(t))),
        }),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    end: usize,
}

type Step = Result<(), Problem>;

fn describe(t: &Token) -> String {
    match t.kind {
        Tok::Ident if KEYWORDS.contains(&t.text.as_str()) || SET_OPS.contains(&t.text.as_str()) => {
            format!("<{}>", t.text)
        }
        Tok::Ident => format!("identifier {:?}", t.text),
        Tok::Number => format!("number {:?}", t.text),
        Tok::Duration => format!("duration {:?}", t.text),
        Tok::Str => format!("string {}", t.text),
        _ => format!("{:?}", t.text),
    }
}

/// Binary operator precedence, Prometheus' order (higher binds tighter).
fn precedence(t: &Token) -> Option<u8> {
    match (t.kind, t.text.as_str()) {
        (Tok::Ident, "or") => Some(1),
        (Tok::Ident, "and" | "unless") => Some(2),
        (Tok::Op, "==" | "!=" | "<" | "<=" | ">" | ">=") => Some(3),
        (Tok::Op, "+" | "-") => Some(4),
        (Tok::Op, "*" | "/" | "%") | (Tok::Ident, "atan2") => Some(5),
        (Tok::Op, "^") => Some(6),
        _ => None,
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn peek_is(&self, kind: Tok, text: Option<&str>) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == kind && text.is_none_or(|x| t.text == x))
    }

    fn unexpected(&self, context: &str, expected: &str) -> Problem {
        match self.peek() {
            Some(t) => (
                t.start,
                format!("unexpected {}{context}, expected {expected}", describe(t)),
            ),
            None => (
                self.end,
                format!("unexpected end of input{context}, expected {expected}"),
            ),
        }
    }

    fn expect(&mut self, kind: Tok, context: &str, expected: &str) -> Step {
        if self.peek_is(kind, None) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    fn expr(&mut self, min: u8) -> Step {
        self.unary()?;
        while let Some(prec) = self.peek().and_then(precedence) {
            if prec < min {
                break;
            }
            self.pos += 1;
            self.bin_modifiers()?;
            // `^` is right-associative.
            let next = if prec == 6 { prec } else { prec + 1 };
            self.expr(next)?;
        }
        Ok(())
    }

    fn bin_modifiers(&mut self) -> Step {
        if self.peek_is(Tok::Ident, Some("bool")) {
            self.pos += 1;
        }
        if self.peek_is(Tok::Ident, Some("on")) || self.peek_is(Tok::Ident, Some("ignoring")) {
            self.pos += 1;
            self.labels(" in grouping opts")?;
            if self.peek_is(Tok::Ident, Some("group_left"))
                || self.peek_is(Tok::Ident, Some("group_right"))
            {
                self.pos += 1;
                if self.peek_is(Tok::LParen, None) {
                    self.labels(" in grouping opts")?;
                }
            }
        }
        Ok(())
    }

    /// `( label, label, ... )`
    fn labels(&mut self, context: &str) -> Step {
        self.expect(Tok::LParen, context, "\"(\"")?;
        loop {
            match self.peek() {
                Some(t) if t.kind == Tok::RParen => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(t) if t.kind == Tok::Ident || t.kind == Tok::Str => {
                    self.pos += 1;
                    match self.peek() {
                        Some(t) if t.kind == Tok::Comma => self.pos += 1,
                        Some(t) if t.kind == Tok::RParen => {}
                        _ => return Err(self.unexpected(context, "\",\" or \")\"")),
                    }
                }
                _ => return Err(self.unexpected(context, "label")),
            }
        }
    }

    fn unary(&mut self) -> Step {
        if self
            .peek()
            .is_some_and(|t| t.kind == Tok::Op && (t.text == "+" || t.text == "-"))
        {
            self.pos += 1;
            return self.unary();
        }
        self.primary()?;
        self.postfix()
    }

    fn primary(&mut self) -> Step {
        let Some(t) = self.peek().cloned() else {
            return Err((self.end, "unexpected end of input".into()));
        };
        match t.kind {
            Tok::Number | Tok::Str => {
                self.pos += 1;
                Ok(())
            }
            Tok::LParen => {
                self.pos += 1;
                self.expr(0)?;
                if self.peek_is(Tok::RParen, None) {
                    self.pos += 1;
                    Ok(())
                } else if self.peek().is_none() {
                    Err((t.start, "unclosed left parenthesis".into()))
                } else {
                    Err(self.unexpected(" in paren expression", "\")\""))
                }
            }
            Tok::LBrace => self.matchers(),
            Tok::Ident
                if AGGREGATORS.contains(&t.text.as_str()) && self.next_opens_aggregation() =>
            {
                self.aggregation()
            }
            Tok::Ident
                if KEYWORDS.contains(&t.text.as_str()) || SET_OPS.contains(&t.text.as_str()) =>
            {
                Err((t.start, format!("unexpected {}", describe(&t))))
            }
            Tok::Ident => {
                self.pos += 1;
                if self.peek_is(Tok::LParen, None) {
                    self.call_args(&t)
                } else if self.peek_is(Tok::LBrace, None) {
                    self.matchers()
                } else {
                    Ok(())
                }
            }
            Tok::RParen => Err((t.start, "unexpected right parenthesis ')'".into())),
            _ => Err((t.start, format!("unexpected {}", describe(&t)))),
        }
    }

    fn next_opens_aggregation(&self) -> bool {
        matches!(self.tokens.get(self.pos + 1), Some(t) if t.kind == Tok::LParen
            || (t.kind == Tok::Ident && (t.text == "by" || t.text == "without")))
    }

    fn aggregation(&mut self) -> Step {
        self.pos += 1;
        let grouping = |p: &mut Self| -> Step {
            if p.peek_is(Tok::Ident, Some("by")) || p.peek_is(Tok::Ident, Some("without")) {
                p.pos += 1;
                p.labels(" in grouping opts")?;
            }
            Ok(())
        };
        grouping(self)?;
        let open = self.peek().cloned();
        self.expect(Tok::LParen, " in aggregation", "\"(\"")?;
        self.args(open.map_or(0, |t| t.start))?;
        grouping(self)
    }

    fn call_args(&mut self, name: &Token) -> Step {
        let open = self.peek().map_or(name.end, |t| t.start);
        self.pos += 1;
        self.args(open)
    }

    /// Arguments after `(`, through the closing `)`.
    fn args(&mut self, open: usize) -> Step {
        if self.peek_is(Tok::RParen, None) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.expr(0)?;
            match self.peek() {
                Some(t) if t.kind == Tok::Comma => {
                    self.pos += 1;
                    if self.peek_is(Tok::RParen, None) {
                        let at = self.peek().map_or(self.end, |t| t.start);
                        return Err((
                            at,
                            "trailing commas not allowed in function call args".into(),
                        ));
                    }
                }
                Some(t) if t.kind == Tok::RParen => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return Err((open, "unclosed left parenthesis".into())),
                Some(_) => return Err(self.unexpected(" in call", "\",\" or \")\"")),
            }
        }
    }

    /// `{ name op "value", ... }`
    fn matchers(&mut self) -> Step {
        let open = self.peek().map_or(0, |t| t.start);
        self.pos += 1;
        loop {
            match self.peek() {
                Some(t) if t.kind == Tok::RBrace => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(t) if t.kind == Tok::Ident || t.kind == Tok::Str => {
                    self.pos += 1;
                    let is_op = self.peek().is_some_and(|t| {
                        t.kind == Tok::Assign
                            || t.kind == Tok::RegexOp
                            || (t.kind == Tok::Op && t.text == "!=")
                    });
                    if is_op {
                        self.pos += 1;
                        match self.peek() {
                            Some(v) if v.kind == Tok::Str => self.pos += 1,
                            Some(v) if v.kind == Tok::Ident => {
                                return Err((
                                    v.start,
                                    format!(
                                        "unexpected identifier {:?} in label matching, expected string",
                                        v.text
                                    ),
                                ));
                            }
                            _ => return Err(self.unexpected(" in label matching", "string")),
                        }
                    } else if t.kind == Tok::Ident {
                        return Err(
                            self.unexpected(" in label matching", "label matching operator")
                        );
                    }
                    match self.peek() {
                        Some(t) if t.kind == Tok::Comma => self.pos += 1,
                        Some(t) if t.kind == Tok::RBrace => {}
                        None => return Err((open, "unexpected end of input inside braces".into())),
                        _ => return Err(self.unexpected(" in label matching", "\",\" or \"}\"")),
                    }
                }
                None => return Err((open, "unexpected end of input inside braces".into())),
                _ => return Err(self.unexpected(" in label matching", "identifier or \"}\"")),
            }
        }
    }

    fn postfix(&mut self) -> Step {
        loop {
            match self.peek().cloned() {
                Some(t) if t.kind == Tok::LBracket => {
                    let open = t.start;
                    self.pos += 1;
                    self.duration(" in range", open)?;
                    if self.peek_is(Tok::Colon, None) {
                        self.pos += 1;
                        if !self.peek_is(Tok::RBracket, None) {
                            self.duration(" in subquery", open)?;
                        }
                    }
                    if self.peek().is_none() {
                        return Err((open, "unclosed left bracket".into()));
                    }
                    self.expect(Tok::RBracket, " in range", "\"]\"")?;
                }
                Some(t) if t.kind == Tok::Ident && t.text == "offset" => {
                    self.pos += 1;
                    if self
                        .peek()
                        .is_some_and(|t| t.kind == Tok::Op && (t.text == "-" || t.text == "+"))
                    {
                        self.pos += 1;
                    }
                    self.duration(" in offset", 0)?;
                }
                Some(t) if t.kind == Tok::At => {
                    self.pos += 1;
                    match self.peek() {
                        Some(t) if t.kind == Tok::Number => self.pos += 1,
                        Some(t) if t.kind == Tok::Op && (t.text == "-" || t.text == "+") => {
                            self.pos += 1;
                            self.expect(Tok::Number, " in @", "timestamp")?;
                        }
                        Some(t)
                            if t.kind == Tok::Ident && (t.text == "start" || t.text == "end") =>
                        {
                            self.pos += 1;
                            self.expect(Tok::LParen, " in @", "\"(\"")?;
                            self.expect(Tok::RParen, " in @", "\")\"")?;
                        }
                        _ => return Err(self.unexpected(" in @", "timestamp, start() or end()")),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn duration(&mut self, context: &str, open: usize) -> Step {
        match self.peek() {
            Some(t) if t.kind == Tok::Duration || t.kind == Tok::Number => {
                self.pos += 1;
                Ok(())
            }
            None if open > 0 => Err((open, "unclosed left bracket".into())),
            _ => Err(self.unexpected(context, "duration")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_failing_token() {
        let cases = [
            (
                "sum(x) by job",
                10,
                "unexpected identifier \"job\" in grouping opts, expected \"(\"",
            ),
            ("x +", 3, "unexpected end of input"),
            ("1 +* 2", 3, "unexpected \"*\""),
            ("rate(x[5m]", 4, "unclosed left parenthesis"),
            ("sum(x))", 6, "unexpected right parenthesis ')'"),
            (
                "foo{bar=baz}",
                8,
                "unexpected identifier \"baz\" in label matching, expected string",
            ),
            ("foo bar", 4, "unexpected identifier \"bar\""),
            ("x{a=\"b}", 4, "unterminated quoted string \""),
            (
                "rate(x[5 m])",
                9,
                "unexpected identifier \"m\" in range, expected \"]\"",
            ),
            ("x and", 5, "unexpected end of input"),
            (
                "sum(x,)",
                6,
                "trailing commas not allowed in function call args",
            ),
        ];
        for (input, offset, message) in cases {
            assert_eq!(
                locate(input),
                Some((offset, message.to_string())),
                "{input}"
            );
        }
    }

    #[test]
    fn valid_expressions_have_no_problem() {
        for input in [
            "sum by (job) (rate(http_requests_total{status=~\"5..\"}[5m])) / ignoring(code) group_left sum(x)",
            "histogram_quantile(0.9, sum(rate(x_bucket[5m])) by (le))",
            "-x offset -5m @ start() > bool 1",
            "max_over_time(rate(x[1m])[1h:5m]) or vector(0)",
            "2 ^ 3 ^ -x{a!~\"b\",}",
            "topk(3, sum without (a) (x))",
        ] {
            assert_eq!(locate(input), None, "{input}");
        }
    }
}
