//! A reader for the Alloy configuration syntax (blocks, attributes and
//! literal expressions), enough to take a `config.alloy` apart for import.
//!
//! It knows literals (strings with Go escapes, raw strings, numbers, bools,
//! null), arrays, objects and dotted references such as
//! `local.file_match.app.targets`. Anything else (function calls,
//! operators) is kept as [`Expr::Other`] with its text, so the importer can
//! report it instead of guessing.

/// One `name "label" { … }` block or `key = value` attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Block(Block),
    Attr {
        key: String,
        value: Expr,
        line: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Dotted name, e.g. `loki.source.file`.
    pub name: String,
    pub label: Option<String>,
    pub body: Vec<Stmt>,
    pub line: usize,
}

impl Block {
    pub fn attr(&self, key: &str) -> Option<&Expr> {
        self.body.iter().find_map(|s| match s {
            Stmt::Attr { key: k, value, .. } if k == key => Some(value),
            _ => None,
        })
    }

    pub fn blocks<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.body.iter().filter_map(move |s| match s {
            Stmt::Block(b) if b.name == name => Some(b),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Number(String),
    Bool(bool),
    Null,
    /// A dotted reference, e.g. `loki.write.default.receiver`.
    Ref(String),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    /// An expression this reader does not evaluate, as written.
    Other(String),
}

impl Expr {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Punct(char),
}

/// `file:line: message` style error: the line and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

fn lex(text: &str) -> Result<Vec<(Tok, usize, usize)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let err = |line, message: String| SyntaxError { line, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                let (s, next) = string(&chars, i + 1).map_err(|m| err(line, m))?;
                out.push((Tok::Str(s), line, start));
                i = next;
            }
            '`' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(err(line, "raw string is not closed".into()));
                }
                i += 1;
                out.push((Tok::Str(s), line, start));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((Tok::Ident(chars[start..i].iter().collect()), line, start));
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                out.push((Tok::Number(chars[start..i].iter().collect()), line, start));
            }
            c => {
                out.push((Tok::Punct(c), line, start));
                i += 1;
            }
        }
    }
    Ok(out)
}

/// A double-quoted string from `i` (after the quote), with Go's escapes.
fn string(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("string is not closed".into());
        };
        i += 1;
        match c {
            '"' => return Ok((s, i)),
            '\n' => return Err("line break inside a string".into()),
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    return Err("string is not closed".into());
                };
                i += 1;
                let hex = |i: usize, n: usize| -> Result<char, String> {
                    let digits: String = chars.get(i..i + n).unwrap_or_default().iter().collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape `\\{e}{digits}`"))
                };
                match e {
                    'n' => s.push('\n'),
                    'r' => s.push('\r'),
                    't' => s.push('\t'),
                    'a' => s.push('\u{7}'),
                    'b' => s.push('\u{8}'),
                    'f' => s.push('\u{c}'),
                    'v' => s.push('\u{b}'),
                    '\\' | '"' | '\'' => s.push(e),
                    'x' => {
                        s.push(hex(i, 2)?);
                        i += 2;
                    }
                    'u' => {
                        s.push(hex(i, 4)?);
                        i += 4;
                    }
                    'U' => {
                        s.push(hex(i, 8)?);
                        i += 8;
                    }
                    other => return Err(format!("unknown escape `\\{other}`")),
                }
            }
            c => s.push(c),
        }
    }
}

struct Parser<'t> {
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
    text: &'t [char],
}

/// Parses a whole config into its top-level statements.
pub fn parse(text: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser {
        toks: lex(text)?,
        pos: 0,
        text: &chars,
    };
    let body = p.body(false)?;
    Ok(body)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }

    fn fail<T>(&self, what: &str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            line: self.line(),
            message: match self.peek() {
                Some(t) => format!("expected {what}, found {t:?}"),
                None => format!("expected {what}, found the end of the file"),
            },
        })
    }

    fn punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn dotted(&mut self) -> Result<String, SyntaxError> {
        let Some(Tok::Ident(first)) = self.peek().cloned() else {
            return self.fail("a name");
        };
        self.pos += 1;
        let mut name = first;
        while self.peek() == Some(&Tok::Punct('.')) {
            if let Some((Tok::Ident(next), ..)) = self.toks.get(self.pos + 1) {
                name.push('.');
                name.push_str(next);
                self.pos += 2;
            } else {
                break;
            }
        }
        Ok(name)
    }

    fn body(&mut self, nested: bool) -> Result<Vec<Stmt>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None if !nested => return Ok(out),
                None => return self.fail("`}`"),
                Some(Tok::Punct('}')) if nested => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => {}
            }
            let line = self.line();
            let name = self.dotted()?;
            if self.punct('=') {
                let value = self.expr()?;
                out.push(Stmt::Attr {
                    key: name,
                    value,
                    line,
                });
                continue;
            }
            let label = match self.peek().cloned() {
                Some(Tok::Str(s)) => {
                    self.pos += 1;
                    Some(s)
                }
                _ => None,
            };
            if !self.punct('{') {
                return self.fail("`=` or `{`");
            }
            let body = self.body(true)?;
            out.push(Stmt::Block(Block {
                name,
                label,
                body,
                line,
            }));
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.pos;
        let first = self.primary()?;
        // Calls, indexing and operators are not evaluated: keep the text.
        let mut other = false;
        loop {
            match self.peek() {
                Some(Tok::Punct('(')) | Some(Tok::Punct('[')) => {
                    other = true;
                    self.skip_group()?;
                }
                Some(Tok::Punct(c)) if "+-*/%^<>!=&|".contains(*c) => {
                    other = true;
                    self.pos += 1;
                    while matches!(self.peek(), Some(Tok::Punct(c)) if "=&|".contains(*c)) {
                        self.pos += 1;
                    }
                    self.primary()?;
                }
                _ => break,
            }
        }
        if other {
            let from = self.toks[start].2;
            let to = self
                .toks
                .get(self.pos)
                .map_or(self.text.len(), |t| t.2)
                .max(from);
            let text: String = self.text[from..to].iter().collect();
            return Ok(Expr::Other(text.trim().to_string()));
        }
        Ok(first)
    }

    fn skip_group(&mut self) -> Result<(), SyntaxError> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return self.fail("a closing bracket"),
                Some(Tok::Punct('(' | '[' | '{')) => depth += 1,
                Some(Tok::Punct(')' | ']' | '}')) => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.pos += 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Tok::Number(n)) => {
                self.pos += 1;
                Ok(Expr::Number(n))
            }
            Some(Tok::Punct('-')) => {
                self.pos += 1;
                match self.primary()? {
                    Expr::Number(n) => Ok(Expr::Number(format!("-{n}"))),
                    _ => Ok(Expr::Other("-".into())),
                }
            }
            Some(Tok::Ident(_)) => {
                let name = self.dotted()?;
                Ok(match name.as_str() {
                    "true" => Expr::Bool(true),
                    "false" => Expr::Bool(false),
                    "null" => Expr::Null,
                    _ => Expr::Ref(name),
                })
            }
            Some(Tok::Punct('[')) => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.punct(']') {
                    items.push(self.expr()?);
                    if !self.punct(',') {
                        if self.punct(']') {
                            break;
                        }
                        return self.fail("`,` or `]`");
                    }
                }
                Ok(Expr::Array(items))
            }
            Some(Tok::Punct('{')) => {
                self.pos += 1;
                let mut fields = Vec::new();
                while !self.punct('}') {
                    let key = match self.peek().cloned() {
                        Some(Tok::Str(s)) => {
                            self.pos += 1;
                            s
                        }
                        Some(Tok::Ident(s)) => {
                            self.pos += 1;
                            s
                        }
                        _ => return self.fail("an object key"),
                    };
                    if !self.punct('=') {
                        return self.fail("`=`");
                    }
                    fields.push((key, self.expr()?));
                    if !self.punct(',') {
                        if self.punct('}') {
                            break;
                        }
                        return self.fail("`,` or `}`");
                    }
                }
                Ok(Expr::Object(fields))
            }
            _ => self.fail("a value"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_attributes_and_literals() {
        let text = r#"// c
local.file_match "app" {
  path_targets = [
    { __path__ = "/var/log/a\\*.log", job = "app", "x-y" = `raw\d` },
  ]
}
loki.process "app" {
  forward_to = [loki.write.default.receiver]
  stage.labels {
    values = { level = "" }
  }
  n = 1.5
  f = env("HOME") + "x"
}
"#;
        let stmts = parse(text).unwrap();
        let Stmt::Block(fm) = &stmts[0] else { panic!() };
        assert_eq!(
            (fm.name.as_str(), fm.label.as_deref(), fm.line),
            ("local.file_match", Some("app"), 2)
        );
        let Some(Expr::Array(t)) = fm.attr("path_targets") else {
            panic!()
        };
        assert_eq!(
            t[0],
            Expr::Object(vec![
                ("__path__".into(), Expr::Str("/var/log/a\\*.log".into())),
                ("job".into(), Expr::Str("app".into())),
                ("x-y".into(), Expr::Str("raw\\d".into())),
            ])
        );
        let Stmt::Block(p) = &stmts[1] else { panic!() };
        assert_eq!(
            p.attr("forward_to"),
            Some(&Expr::Array(vec![Expr::Ref(
                "loki.write.default.receiver".into()
            )]))
        );
        assert_eq!(p.blocks("stage.labels").count(), 1);
        assert_eq!(p.attr("n"), Some(&Expr::Number("1.5".into())));
        assert_eq!(
            p.attr("f"),
            Some(&Expr::Other("env(\"HOME\") + \"x\"".into()))
        );
    }

    #[test]
    fn go_escapes_and_errors_with_lines() {
        let stmts = parse(r#"a = "q\"\\\n\x41\u00e9\U0001F600""#).unwrap();
        assert_eq!(
            stmts[0],
            Stmt::Attr {
                key: "a".into(),
                value: Expr::Str("q\"\\\nAé😀".into()),
                line: 1
            }
        );
        let e = parse("a {\n  b = \n}\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(parse("a = \"open\n").is_err());
        assert!(parse("x \"l\" {").is_err());
    }
}
