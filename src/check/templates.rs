//! Go `text/template` syntax, as Prometheus parses alert labels and annotations
//! (and Alertmanager its notification texts): unclosed `{{`, `{{ end }}`
//! without a block, a block without `{{ end }}`, undefined `$variables`,
//! functions that do not exist, malformed strings and numbers.
//!
//! This follows Go's `text/template/parse` closely enough to agree with
//! `promtool check rules` on every verdict of the agreement corpus; it checks
//! syntax only, never executes anything.

/// The first problem in a template: character offset and Go's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// What a template may use besides Go's builtins.
pub struct Dialect {
    pub functions: &'static [&'static str],
    /// Variables defined before the text, e.g. `$labels`.
    pub variables: &'static [&'static str],
    /// Whether the Go release that built the consumer knows `{{else with}}`.
    pub else_with: bool,
}

pub const GO_BUILTINS: [&str; 19] = [
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Prometheus alert template functions (`template/template.go` `NewTemplateExpander`),
/// each with the first release that has it, read from that file at every
/// release tag from v2.0.0 to v3.14.0 (`tmpl` is for console templates only).
/// promtool 2.42 and 3.5 reject `now`, `toDuration` and `urlQueryEscape`.
pub const PROMETHEUS_FUNCTIONS: [(&str, (u64, u64)); 29] = [
    ("query", (2, 0)),
    ("first", (2, 0)),
    ("label", (2, 0)),
    ("value", (2, 0)),
    ("strvalue", (2, 0)),
    ("args", (2, 0)),
    ("reReplaceAll", (2, 0)),
    ("safeHtml", (2, 0)),
    ("match", (2, 0)),
    ("title", (2, 0)),
    ("toUpper", (2, 0)),
    ("toLower", (2, 0)),
    ("graphLink", (2, 0)),
    ("tableLink", (2, 0)),
    ("sortByLabel", (2, 0)),
    ("humanize", (2, 0)),
    ("humanize1024", (2, 0)),
    ("humanizeDuration", (2, 0)),
    ("humanizeTimestamp", (2, 0)),
    ("pathPrefix", (2, 0)),
    ("externalURL", (2, 0)),
    ("humanizePercentage", (2, 11)),
    ("parseDuration", (2, 32)),
    ("stripPort", (2, 33)),
    ("stripDomain", (2, 36)),
    ("toTime", (2, 38)),
    ("now", (3, 6)),
    ("toDuration", (3, 6)),
    ("urlQueryEscape", (3, 8)),
];

/// The names of `PROMETHEUS_FUNCTIONS`.
const PROMETHEUS_FUNCTION_NAMES: [&str; 29] = {
    let mut names = [""; 29];
    let mut i = 0;
    while i < names.len() {
        names[i] = PROMETHEUS_FUNCTIONS[i].0;
        i += 1;
    }
    names
};

pub const PROMETHEUS_VARIABLES: [&str; 4] =
    ["$labels", "$externalLabels", "$externalURL", "$value"];

/// Alertmanager's template functions across releases (`template/template.go`).
pub const ALERTMANAGER_FUNCTIONS: [&str; 17] = [
    "toUpper",
    "toLower",
    "title",
    "trimSpace",
    "join",
    "match",
    "safeHtml",
    "safeUrl",
    "urlUnescape",
    "reReplaceAll",
    "stringSlice",
    "date",
    "tz",
    "since",
    "humanizeDuration",
    "toJson",
    "markdown",
];

/// Checks `text`; the first error, as Go reports the first.
pub fn check(
    text: &str,
    dialect: &Dialect,
    is_function: &dyn Fn(&str) -> bool,
) -> Option<TemplateError> {
    if !text.contains("{{") {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut p = Checker {
        chars: &chars,
        dialect,
        is_function,
        scopes: vec![Vec::new()],
        blocks: Vec::new(),
        else_with: dialect.else_with,
    };
    p.run().err()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    If,
    With,
    Range,
    Define,
    Named,
    /// After `{{else}}` of a range: `break`/`continue` are no longer allowed.
    RangeElse,
    /// After a final `{{else}}`: only `{{end}}` may follow.
    Else,
}

struct Checker<'a> {
    chars: &'a [char],
    dialect: &'a Dialect,
    is_function: &'a dyn Fn(&str) -> bool,
    /// Declared variables, one scope per open block.
    scopes: Vec<Vec<String>>,
    blocks: Vec<(Block, usize)>,
    /// `{{else with}}` (Go 1.23; Prometheus 3 is built with it, 2.x is not).
    else_with: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Field(String),
    Variable(String),
    Ident(String),
    Dot,
    Str,
    Number,
    Bool,
    Nil,
    Pipe,
    Declare,
    Assign,
    LParen,
    RParen,
    Comma,
}

type Step<T = ()> = Result<T, TemplateError>;

/// The tokens of one action, with their offsets; `None` for a comment.
type Action = Option<Vec<(Item, usize)>>;

fn fail<T>(offset: usize, message: impl Into<String>) -> Step<T> {
    Err(TemplateError {
        offset,
        message: message.into(),
    })
}

impl Checker<'_> {
    fn run(&mut self) -> Step {
        let mut i = 0;
        while let Some(open) = self.find("{{", i) {
            let mut start = open + 2;
            if self.at(start) == Some('-') && self.at(start + 1).is_some_and(is_space) {
                start += 2;
            }
            let (items, end) = self.action(open, start)?;
            if let Some(items) = items {
                self.statement(open, &items)?;
            }
            i = end;
        }
        if let Some(&(_, at)) = self.blocks.last() {
            return fail(at, "unexpected EOF");
        }
        Ok(())
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn find(&self, pat: &str, from: usize) -> Option<usize> {
        let pat: Vec<char> = pat.chars().collect();
        (from..self.chars.len().saturating_sub(pat.len() - 1))
            .find(|&i| self.chars[i..].starts_with(&pat))
    }

    /// Lexes one action from `start` (after `{{` and a trim marker) to its `}}`.
    /// `None` for a comment.
    fn action(&self, open: usize, start: usize) -> Step<(Action, usize)> {
        let mut i = start;
        // A comment must fill the action: `{{/* ... */}}`.
        if self.chars[i..].starts_with(&['/', '*']) {
            let Some(close) = self.find("*/", i + 2) else {
                return fail(open, "unclosed comment");
            };
            let mut j = close + 2;
            if self.at(j).is_some_and(is_space) && self.at(j + 1) == Some('-') {
                j += 2;
            }
            if !self.chars[j..].starts_with(&['}', '}']) {
                return fail(open, "comment ends before closing delimiter");
            }
            return Ok((None, j + 2));
        }
        let mut items = Vec::new();
        let mut parens = 0usize;
        loop {
            let Some(c) = self.at(i) else {
                return fail(open, "unclosed action");
            };
            if is_space(c) {
                // ` -}}` trims; `-` elsewhere is part of a number.
                if self.at(i + 1) == Some('-') && self.chars[i + 2..].starts_with(&['}', '}']) {
                    return Ok((Some(items), i + 4));
                }
                i += 1;
                continue;
            }
            if self.chars[i..].starts_with(&['}', '}']) {
                if parens > 0 {
                    return fail(i, "unclosed left paren");
                }
                return Ok((Some(items), i + 2));
            }
            let start = i;
            let item = match c {
                '|' => {
                    i += 1;
                    Item::Pipe
                }
                '(' => {
                    i += 1;
                    parens += 1;
                    Item::LParen
                }
                ')' => {
                    if parens == 0 {
                        return fail(i, "unexpected right paren");
                    }
                    parens -= 1;
                    i += 1;
                    Item::RParen
                }
                ',' => {
                    i += 1;
                    Item::Comma
                }
                ':' if self.at(i + 1) == Some('=') => {
                    i += 2;
                    Item::Declare
                }
                '=' => {
                    i += 1;
                    Item::Assign
                }
                '"' => {
                    i = self.quoted(i, '"', "unterminated quoted string")?;
                    if !valid_escapes(&self.chars[start + 1..i - 1], '"') {
                        return fail(start, "invalid syntax");
                    }
                    Item::Str
                }
                '`' => {
                    i = match self.find("`", i + 1) {
                        Some(end) => end + 1,
                        None => return fail(start, "unterminated raw quoted string"),
                    };
                    Item::Str
                }
                '\'' => {
                    i = self.quoted(i, '\'', "unterminated character constant")?;
                    let inner = &self.chars[start + 1..i - 1];
                    if !(valid_escapes(inner, '\'')
                        && (inner.len() == 1 || (inner.first() == Some(&'\\'))))
                    {
                        return fail(
                            start,
                            format!("malformed character constant: {}", self.text(start, i)),
                        );
                    }
                    Item::Number
                }
                '$' => {
                    i += 1;
                    while self.at(i).is_some_and(is_alnum) {
                        i += 1;
                    }
                    Item::Variable(self.text(start, i))
                }
                '.' if !self.at(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                    i += 1;
                    if !self.at(i).is_some_and(is_alnum) {
                        Item::Dot
                    } else {
                        while self.at(i).is_some_and(is_alnum) {
                            i += 1;
                        }
                        Item::Field(self.text(start, i))
                    }
                }
                _ if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' => {
                    while self
                        .at(i)
                        .is_some_and(|d| is_alnum(d) || matches!(d, '.' | '+' | '-'))
                    {
                        i += 1;
                    }
                    let text = self.text(start, i);
                    if !is_go_number(&text) {
                        return fail(start, format!("bad number syntax: {text:?}"));
                    }
                    if is_bad_octal(&text) {
                        return fail(start, format!("integer overflow: {text:?}"));
                    }
                    Item::Number
                }
                _ if is_alnum(c) => {
                    while self.at(i).is_some_and(is_alnum) {
                        i += 1;
                    }
                    match self.text(start, i).as_str() {
                        "true" | "false" => Item::Bool,
                        "nil" => Item::Nil,
                        word => Item::Ident(word.to_string()),
                    }
                }
                _ => return fail(i, format!("unrecognized character in action: {c:?}")),
            };
            // Field chains after a term: `$labels.job`, `(x).y`, `.a.b`.
            if matches!(item, Item::Variable(_) | Item::RParen | Item::Field(_)) {
                while self.at(i) == Some('.') && self.at(i + 1).is_some_and(is_alnum) {
                    i += 1;
                    while self.at(i).is_some_and(is_alnum) {
                        i += 1;
                    }
                }
            }
            if self.at(i) == Some('.') {
                return match item {
                    Item::Bool | Item::Nil | Item::Ident(_) | Item::Str => fail(
                        i,
                        format!("unexpected . after term {:?}", self.text(start, i)),
                    ),
                    _ => fail(i, "unexpected <.> in operand"),
                };
            }
            items.push((item, start));
        }
    }

    fn quoted(&self, start: usize, quote: char, message: &str) -> Step<usize> {
        let mut i = start + 1;
        loop {
            match self.at(i) {
                None | Some('\n') => return fail(start, message),
                Some('\\') => i += 2,
                Some(c) if c == quote => return Ok(i + 1),
                Some(_) => i += 1,
            }
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.chars[from..to].iter().collect()
    }

    /// Inside `{{define}}` only the template's own variables exist (Go gives
    /// each template its own scope), not the ones Prometheus defines up front.
    fn declared(&self, name: &str) -> bool {
        let base = name.split('.').next().unwrap_or(name);
        let define = self.blocks.iter().position(|(b, _)| *b == Block::Define);
        let from = define.map_or(0, |d| self.scopes.len() - (self.blocks.len() - d));
        base == "$"
            || (define.is_none() && self.dialect.variables.contains(&base))
            || self.scopes[from.min(self.scopes.len())..]
                .iter()
                .any(|s| s.iter().any(|v| v == base))
    }

    /// One action: a keyword statement or a pipeline.
    fn statement(&mut self, open: usize, items: &[(Item, usize)]) -> Step {
        let keyword = match items.first() {
            Some((Item::Ident(word), _)) => word.as_str(),
            None => return fail(open, "missing value for command"),
            _ => "",
        };
        let rest = items.get(1..).unwrap_or(&[]);
        match keyword {
            "if" | "with" | "range" => {
                let kind = match keyword {
                    "if" => Block::If,
                    "with" => Block::With,
                    _ => Block::Range,
                };
                self.scopes.push(Vec::new());
                self.pipeline(open, rest, keyword, kind == Block::Range)?;
                self.blocks.push((kind, open));
            }
            "else" => {
                let Some(&(block, at)) = self.blocks.last() else {
                    return fail(open, "unexpected {{else}}");
                };
                if matches!(block, Block::Define | Block::Named) {
                    return fail(open, "unexpected {{else}}");
                }
                if matches!(block, Block::Else | Block::RangeElse) {
                    return fail(open, "expected end; found {{else}}");
                }
                // `{{else}}` closes the branch's variables; `else if` opens a new branch.
                self.scopes.pop();
                self.scopes.push(Vec::new());
                match rest.first() {
                    Some((Item::Ident(word), _))
                        if word == "if" || (word == "with" && self.else_with) =>
                    {
                        self.pipeline(open, &rest[1..], word, false)?;
                    }
                    Some((Item::Ident(word), _)) if word == "with" => {
                        return fail(open, "unexpected <with> in else");
                    }
                    Some(_) => return fail(open, "unexpected token in else clause"),
                    None => {
                        self.blocks.pop();
                        self.blocks.push((
                            if block == Block::Range {
                                Block::RangeElse
                            } else {
                                Block::Else
                            },
                            at,
                        ));
                    }
                }
            }
            "end" => {
                if !rest.is_empty() {
                    return fail(open, "unexpected token in end");
                }
                if self.blocks.pop().is_none() {
                    return fail(open, "unexpected {{end}}");
                }
                self.scopes.pop();
            }
            "define" | "block" => {
                if keyword == "define" && !self.blocks.is_empty() {
                    return fail(open, "unexpected <define> in command");
                }
                match rest.first() {
                    Some((Item::Str, _)) => {}
                    _ => return fail(open, format!("unexpected token in {keyword} clause")),
                }
                if keyword == "block" {
                    self.pipeline(open, &rest[1..], "block", false)?;
                }
                self.scopes.push(Vec::new());
                self.blocks.push((
                    if keyword == "define" {
                        Block::Define
                    } else {
                        Block::Named
                    },
                    open,
                ));
            }
            "template" => {
                match rest.first() {
                    Some((Item::Str, _)) => {}
                    _ => return fail(open, "unexpected token in template clause"),
                }
                if rest.len() > 1 {
                    self.pipeline(open, &rest[1..], "template", false)?;
                }
            }
            "break" | "continue" => {
                if !self.blocks.iter().any(|(b, _)| *b == Block::Range) {
                    return fail(open, format!("{{{{{keyword}}}}} outside {{{{range}}}}"));
                }
                if !rest.is_empty() {
                    return fail(open, format!("unexpected token in {{{{{keyword}}}}}"));
                }
            }
            _ => self.pipeline(open, items, "command", false)?,
        }
        Ok(())
    }

    /// `[$x := | $x, $y := | $x =] cmd | cmd ...`
    fn pipeline(
        &mut self,
        open: usize,
        items: &[(Item, usize)],
        context: &str,
        range: bool,
    ) -> Step {
        let mut items = items;
        // Declarations.
        let declare = |items: &[(Item, usize)]| -> Option<(Vec<String>, usize, bool)> {
            match items {
                [(Item::Variable(a), _), (Item::Declare, _), ..] => {
                    Some((vec![a.clone()], 2, true))
                }
                [(Item::Variable(a), _), (Item::Assign, _), ..] => {
                    Some((vec![a.clone()], 2, false))
                }
                [
                    (Item::Variable(a), _),
                    (Item::Comma, _),
                    (Item::Variable(b), _),
                    (Item::Declare, _),
                    ..,
                ] if range => Some((vec![a.clone(), b.clone()], 4, true)),
                [
                    (Item::Variable(a), _),
                    (Item::Comma, _),
                    (Item::Variable(b), _),
                    (Item::Assign, _),
                    ..,
                ] if range => Some((vec![a.clone(), b.clone()], 4, false)),
                _ => None,
            }
        };
        let mut declared = Vec::new();
        // Assigning to an undeclared variable fails only at execution time.
        if let Some((names, used, is_new)) = declare(items) {
            if is_new {
                declared = names;
            }
            items = &items[used..];
        }
        if items.is_empty() {
            return fail(open, format!("missing value for {context}"));
        }
        let mut stage = 0;
        let commands: Vec<&[(Item, usize)]> =
            items.split(|(item, _)| *item == Item::Pipe).collect();
        for (n, command) in commands.iter().enumerate() {
            stage += 1;
            let Some((first, at)) = command.first() else {
                // A trailing `|` is accepted by the parser (it fails at execution).
                if n + 1 == commands.len() && n > 0 {
                    continue;
                }
                return fail(open, "missing value for command");
            };
            if stage > 1
                && matches!(
                    first,
                    Item::Bool | Item::Dot | Item::Nil | Item::Number | Item::Str
                )
            {
                return fail(
                    *at,
                    format!("non executable command in pipeline stage {stage}"),
                );
            }
            for (item, at) in command.iter() {
                match item {
                    Item::Variable(name) if !self.declared(name) => {
                        return fail(*at, format!("undefined variable {name:?}"));
                    }
                    Item::Ident(name)
                        if !(GO_BUILTINS.contains(&name.as_str()) || (self.is_function)(name)) =>
                    {
                        return fail(*at, format!("function {name:?} not defined"));
                    }
                    Item::Declare | Item::Assign | Item::Comma => {
                        return fail(*at, "unexpected token in operand");
                    }
                    _ => {}
                }
            }
        }
        // Variables are visible from the next action on.
        if let Some(scope) = self.scopes.last_mut() {
            scope.extend(declared);
        }
        Ok(())
    }
}

/// Go's escapes in a quoted string or character constant.
fn valid_escapes(inner: &[char], quote: char) -> bool {
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == '\\' {
            let Some(&e) = inner.get(i + 1) else {
                return false;
            };
            let hex = |n: usize| {
                inner.len() > i + 1 + n
                    && inner[i + 2..i + 2 + n].iter().all(char::is_ascii_hexdigit)
            };
            i += match e {
                'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => 2,
                _ if e == quote => 2,
                'x' if hex(2) => 4,
                'u' if hex(4) => 6,
                'U' if hex(8) => 10,
                '0'..='7'
                    if inner.len() > i + 3
                        && inner[i + 1..i + 4].iter().all(|c| ('0'..='7').contains(c)) =>
                {
                    4
                }
                _ => return false,
            };
        } else {
            i += 1;
        }
    }
    true
}

/// `08`: a leading zero makes an integer octal in Go.
fn is_bad_octal(text: &str) -> bool {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    t.len() > 1
        && t.starts_with('0')
        && t.chars().all(|c| c.is_ascii_digit())
        && t.chars().any(|c| c == '8' || c == '9')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's number literals as `text/template` accepts them (ints, floats, hex, imaginary).
fn is_go_number(text: &str) -> bool {
    let t = text
        .strip_prefix(['+', '-'])
        .unwrap_or(text)
        .replace('_', "");
    let t = t.strip_suffix('i').unwrap_or(&t);
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return !hex.is_empty()
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == 'p' || c == 'P');
    }
    !t.is_empty()
        && t.parse::<f64>().is_ok()
        && !t.starts_with(['+', '-'])
        && t != "inf"
        && t != "nan"
}

/// The check Prometheus applies to alert labels and annotations, for the
/// pinned Prometheus version.
pub fn prometheus(text: &str, version: &crate::model::types::Version) -> Option<TemplateError> {
    let dialect = Dialect {
        functions: &PROMETHEUS_FUNCTION_NAMES,
        variables: &PROMETHEUS_VARIABLES,
        else_with: version.at_least(3, 0, 0),
    };
    let known = |name: &str| {
        PROMETHEUS_FUNCTIONS
            .iter()
            .any(|(f, (major, minor))| *f == name && version.at_least(*major, *minor, 0))
    };
    check(text, &dialect, &known)
}

/// Alertmanager notification texts (subject, Slack title and text, …).
pub fn alertmanager(text: &str) -> Option<TemplateError> {
    let dialect = Dialect {
        functions: &ALERTMANAGER_FUNCTIONS,
        variables: &[],
        else_with: true,
    };
    check(text, &dialect, &|name| {
        ALERTMANAGER_FUNCTIONS.contains(&name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prom(text: &str) -> Option<(usize, String)> {
        let v = crate::model::types::Version::parse("v2.42.0").unwrap();
        prometheus(text, &v).map(|e| (e.offset, e.message))
    }

    #[test]
    fn valid_templates() {
        for text in [
            "plain text",
            "{{ $labels.instance }} is down ({{ $value | humanize }})",
            "{{ $value | printf \"%.2f\" }}%",
            "{{- if gt $value 0.5 -}} high {{- else if lt $value 0.1 }} low {{ else }} ok {{ end }}",
            "{{ range $i, $e := query \"up\" }}{{ $e.Labels.job }}{{ break }}{{ end }}",
            "{{ with $x := $labels.job }}{{ $x }}{{ end }}",
            "{{/* a comment */}}{{- /* trimmed */ -}}",
            "{{ define \"x\" }}a{{ end }}{{ template \"x\" . }}",
            "{{ $labels.job | toUpper | printf \"%s!\" }}",
            "{{ (index $labels \"job\") }} {{ -1 }} {{ 0x1F }} {{ 1e3 }} {{ 'a' }} {{ `raw` }}",
            "{{ $a := 1 }}{{ $a = 2 }}{{ $a }}",
            "{{ .Labels.job }} {{ .Value }} {{ . }}",
            "{{ humanizeDuration $value }} {{ stripPort $labels.instance }}",
        ] {
            assert_eq!(prom(text), None, "{text}");
        }
    }

    #[test]
    fn invalid_templates() {
        let cases = [
            ("{{ $labels.instance ", 0, "unclosed action"),
            ("a {{ if $value }} b", 2, "unexpected EOF"),
            ("{{ end }}", 0, "unexpected {{end}}"),
            ("x {{ else }}", 2, "unexpected {{else}}"),
            (
                "{{ $lables.instance }}",
                3,
                "undefined variable \"$lables\"",
            ),
            (
                "{{ $value | humanise }}",
                12,
                "function \"humanise\" not defined",
            ),
            ("{{ \"abc }}", 3, "unterminated quoted string"),
            ("{{ 3x }}", 3, "bad number syntax: \"3x\""),
            ("{{ }}", 0, "missing value for command"),
            ("{{ if }}{{ end }}", 0, "missing value for if"),
            (
                "{{ $value | 1 }}",
                12,
                "non executable command in pipeline stage 2",
            ),
            ("{{ break }}", 0, "{{break}} outside {{range}}"),
            ("{{/* x }}", 0, "unclosed comment"),
            ("{{ ) }}", 3, "unexpected right paren"),
            ("{{ 'ab' }}", 3, "malformed character constant: 'ab'"),
            ("{{ \"a\\qb\" }}", 3, "invalid syntax"),
            ("{{ 08 }}", 3, "integer overflow: \"08\""),
            ("{{ true.x }}", 7, "unexpected . after term \"true\""),
            ("{{ $labels. }}", 10, "unexpected <.> in operand"),
            (
                "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
                20,
                "expected end; found {{else}}",
            ),
            (
                "{{ if 1 }}{{ else with 2 }}{{ end }}",
                10,
                "unexpected <with> in else",
            ),
            (
                "{{ $value # }}",
                10,
                "unrecognized character in action: '#'",
            ),
            ("{{ now }}", 3, "function \"now\" not defined"),
            (
                "{{ define \"x\" }}{{ $labels.job }}{{ end }}",
                19,
                "undefined variable \"$labels\"",
            ),
        ];
        for (text, offset, message) in cases {
            assert_eq!(prom(text), Some((offset, message.to_string())), "{text}");
        }
    }

    #[test]
    fn functions_by_release() {
        let at = |v: &str, text: &str| {
            prometheus(text, &crate::model::types::Version::parse(v).unwrap()).map(|e| e.message)
        };
        // promtool 2.42 and 3.5 reject all three; 3.6 brought `now` and
        // `toDuration`, 3.8 `urlQueryEscape`. `urlQuery` is in no release.
        for f in [
            "now",
            "toDuration 60",
            "urlQueryEscape \"a b\"",
            "urlQuery \"a\"",
        ] {
            let name = f.split(' ').next().unwrap();
            let undefined = Some(format!("function \"{name}\" not defined"));
            assert_eq!(at("v2.42.0", &format!("{{{{ {f} }}}}")), undefined, "{f}");
            assert_eq!(at("v3.5.0", &format!("{{{{ {f} }}}}")), undefined, "{f}");
        }
        assert_eq!(at("v3.6.0", "{{ now }} {{ toDuration 60 }}"), None);
        assert_eq!(
            at("v3.7.0", "{{ urlQueryEscape \"a\" }}"),
            Some("function \"urlQueryEscape\" not defined".into())
        );
        assert_eq!(at("v3.8.0", "{{ urlQueryEscape \"a\" }}"), None);
        assert_eq!(
            at("v3.14.0", "{{ urlQuery \"a\" }}"),
            Some("function \"urlQuery\" not defined".into())
        );
        // Older additions: `toTime` 2.38, `stripDomain` 2.36, `parseDuration` 2.32.
        assert_eq!(
            at("v2.37.0", "{{ toTime 1 }}"),
            Some("function \"toTime\" not defined".into())
        );
        assert_eq!(at("v2.38.0", "{{ toTime 1 }}"), None);
        assert_eq!(
            at("v2.35.0", "{{ stripDomain \"a\" }}"),
            Some("function \"stripDomain\" not defined".into())
        );
        assert_eq!(
            at("v2.31.0", "{{ parseDuration \"1m\" }}"),
            Some("function \"parseDuration\" not defined".into())
        );
    }

    #[test]
    fn alertmanager_texts() {
        assert_eq!(
            alertmanager("{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"),
            None
        );
        assert_eq!(
            alertmanager("CRITICAL: {{ .GroupLabels.alertname | toUpper }}"),
            None
        );
        assert!(alertmanager("{{ range .Alerts }}").is_some());
    }
}
