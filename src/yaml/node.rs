//! A YAML document as a tree of nodes that remember where they came from.
//!
//! The spec is parsed from `saphyr-parser` events into this tree, never into an
//! untyped value that forgets positions. The tree exists for two reasons: the
//! serde deserializer in `de.rs` reads from it (so every error knows its line and
//! column), and validation later maps a model path back to a position through it.
//!
//! Guards against hostile input live here: aliases are expanded against a node
//! budget (alias bombs), nesting depth is bounded, and duplicate keys are reported.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// Upper bound on nodes copied by alias expansion (alias bombs). Nodes written
/// out in the text are bounded by the file size limit instead: a stack with
/// 50,000 rules has over a million of them.
pub const MAX_NODES: usize = 1_000_000;
/// Upper bound on scalar bytes copied by alias expansion. Counting nodes alone
/// lets one alias of a large string multiply memory without limit (a 1 MiB
/// spec aliasing a 10 KiB string 100,000 times is a gigabyte); real specs
/// alias a few label sets and defaults, kilobytes in all.
pub const MAX_ALIAS_BYTES: usize = 16 * 1024 * 1024;
/// Nesting deeper than this is not a stack spec, and recursion must stay bounded.
pub const MAX_DEPTH: usize = 128;

/// A position in the source text: 1-based line and column, byte-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// The region of the source a node spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Region {
    pub start: Pos,
    pub end: Pos,
}

impl Region {
    fn from_span(span: Span) -> Region {
        Region {
            start: Pos {
                line: span.start.line(),
                col: span.start.col() + 1,
            },
            end: Pos {
                line: span.end.line(),
                col: span.end.col() + 1,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Debug, Clone)]
pub enum Content {
    Scalar { value: String, style: Style },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub content: Content,
    pub region: Region,
}

/// One step of a path from the document root to a node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl std::fmt::Display for Seg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seg::Key(k) => write!(f, ".{k}"),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path such as `alerting.route.routes[0].receiver`.
pub type Path = Vec<Seg>;

pub fn path_to_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            other => out.push_str(&other.to_string()),
        }
    }
    out
}

/// A problem found while building the tree: the parse can continue past a
/// duplicate key, but not past a syntax error.
#[derive(Debug, Clone)]
pub struct TreeProblem {
    pub region: Region,
    pub message: String,
    pub hint: Option<String>,
}

impl Node {
    pub fn scalar_str(&self) -> Option<&str> {
        match &self.content {
            Content::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.content, Content::Scalar { value, style: Style::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// Follows `path` down the tree; `None` where a step does not exist.
    pub fn get(&self, path: &[Seg]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = node.child(seg)?;
        }
        Some(node)
    }

    pub fn child(&self, seg: &Seg) -> Option<&Node> {
        match (&self.content, seg) {
            (Content::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|e| e.key.scalar_str() == Some(k.as_str()))
                .map(|e| &e.value),
            (Content::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The key node of the last step of `path`, when that step is a mapping key.
    pub fn key_at(&self, path: &[Seg]) -> Option<&Node> {
        let (last, parent) = path.split_last()?;
        let parent = self.get(parent)?;
        match (&parent.content, last) {
            (Content::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|e| e.key.scalar_str() == Some(k.as_str()))
                .map(|e| &e.key),
            _ => None,
        }
    }

    /// Removes the node at `path` from its parent. Returns false for the root
    /// or a path that does not exist.
    pub fn remove(&mut self, path: &[Seg]) -> bool {
        let Some((last, parent_path)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for seg in parent_path {
            let next = match (&mut node.content, seg) {
                (Content::Map(entries), Seg::Key(k)) => entries
                    .iter_mut()
                    .find(|e| e.key.scalar_str() == Some(k.as_str()))
                    .map(|e| &mut e.value),
                (Content::Seq(items), Seg::Index(i)) => items.get_mut(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        match (&mut node.content, last) {
            (Content::Map(entries), Seg::Key(k)) => {
                let before = entries.len();
                entries.retain(|e| e.key.scalar_str() != Some(k.as_str()));
                entries.len() != before
            }
            (Content::Seq(items), Seg::Index(i)) if *i < items.len() => {
                items.remove(*i);
                true
            }
            _ => false,
        }
    }
}

/// Where each line of a source text starts, built once per text so that a
/// position lookup costs the length of one line, not the text before it.
/// Without it, every positioned finding re-scanned the spec from line 1, and
/// reporting grew with findings × spec size.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the first character of each line (line 1 at index 0).
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Line `line` (1-based) without its line break, as `str::lines` gives it.
    pub fn line(&self, line: usize) -> Option<&'a str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        if start >= self.text.len() {
            return None;
        }
        let end = self
            .starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        let text = &self.text[start..end];
        Some(text.strip_suffix('\r').unwrap_or(text))
    }

    /// The text from line `line` (1-based) to the end.
    fn rest_from(&self, line: usize) -> &'a str {
        match line.checked_sub(1).and_then(|i| self.starts.get(i)) {
            Some(&start) => &self.text[start..],
            None => "",
        }
    }
}

/// The position of character `offset` of a scalar's value in the source.
///
/// The value and its raw text differ by quotes, escapes, folded line breaks and
/// block indentation, so the raw text is walked alongside the value. Anything
/// unexpected falls back to the start of the scalar: a position is a help, and a
/// wrong one would be worse than a coarse one. The walk starts at the scalar's
/// line through `index` and ends at `offset`, so it costs the scalar, not the file.
pub fn scalar_pos(
    index: &LineIndex<'_>,
    region: Region,
    style: Style,
    value: &str,
    offset: usize,
) -> Pos {
    let first_line = region.start.line.max(1);
    // Raw characters from the scalar's start, with their positions.
    let mut raw = index
        .rest_from(first_line)
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            line.chars()
                .chain(std::iter::once('\n'))
                .enumerate()
                .map(move |(c, ch)| {
                    (
                        Pos {
                            line: first_line + i,
                            col: c + 1,
                        },
                        ch,
                    )
                })
        })
        .skip_while(|(pos, _)| pos.line == region.start.line && pos.col < region.start.col)
        .peekable();
    let first = raw.peek().map(|(_, c)| *c);
    let quote = match (style, first) {
        (Style::Quoted, Some(q @ ('"' | '\''))) => {
            raw.next();
            Some(q)
        }
        _ => None,
    };
    for (i, want) in value.chars().enumerate() {
        let Some(&(pos, got)) = raw.peek() else {
            return region.start;
        };
        if i == offset {
            return pos;
        }
        if got == want && !(quote == Some('"') && got == '\\') {
            raw.next();
            // `''` is one quote in a single-quoted scalar.
            if quote == Some('\'') && got == '\'' {
                raw.next();
            }
            continue;
        }
        match (got, quote) {
            ('\\', Some('"')) => {
                raw.next();
                let escape = raw.next().map(|(_, c)| c);
                let digits = match escape {
                    Some('x') => 2,
                    Some('u') => 4,
                    Some('U') => 8,
                    _ => 0,
                };
                for _ in 0..digits {
                    raw.next();
                }
            }
            ('\n', _) | (' ', _) => {
                // A folded line break (or indentation) stands for this value character.
                while raw
                    .peek()
                    .is_some_and(|(_, c)| *c == ' ' || *c == '\n' || *c == '\t')
                {
                    raw.next();
                }
                if want != ' ' && want != '\n' {
                    // The value character is the next raw one.
                    match raw.peek() {
                        Some(&(_, c)) if c == want => {
                            raw.next();
                        }
                        _ => return region.start,
                    }
                }
            }
            _ => return region.start,
        }
    }
    match raw.peek() {
        Some(&(pos, _)) if offset >= value.chars().count() => pos,
        _ => region.start,
    }
}

/// Parses one YAML document. Syntax errors are fatal (the parser cannot resume);
/// duplicate keys are collected in `problems` and the first occurrence kept.
pub fn parse(source: &str, problems: &mut Vec<TreeProblem>) -> Result<Node, TreeProblem> {
    parse_watching(source, problems, &|_| {})
}

/// `parse`, calling `on_rule_expr` with the text of each rule expression
/// (`rules.FILE[G].rules[R].expr`) as soon as it is read, so that its analysis
/// can start while the rest of the document is still being parsed.
pub fn parse_watching(
    source: &str,
    problems: &mut Vec<TreeProblem>,
    on_rule_expr: &dyn Fn(&str),
) -> Result<Node, TreeProblem> {
    let mut builder = Builder {
        parser: Parser::new_from_str(source),
        anchors: HashMap::new(),
        budget: 0,
        alias_bytes: 0,
        problems,
        last_region: Region::default(),
        on_rule_expr,
    };
    builder.document()
}

/// Where the builder is on the way to a rule expression; anything off that
/// way is `Other`. Following it costs one comparison per mapping key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Root,
    /// The value of the top-level `rules`: rule file name → groups.
    RuleFiles,
    Groups,
    Group,
    Rules,
    Rule,
    Expr,
}

impl Role {
    fn value_of(self, key: &str) -> Role {
        match (self, key) {
            (Role::Root, "rules") => Role::RuleFiles,
            (Role::RuleFiles, _) => Role::Groups,
            (Role::Group, "rules") => Role::Rules,
            (Role::Rule, "expr") => Role::Expr,
            _ => Role::Other,
        }
    }

    fn item(self) -> Role {
        match self {
            Role::Groups => Role::Group,
            Role::Rules => Role::Rule,
            _ => Role::Other,
        }
    }
}

struct Builder<'a, 'p> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    budget: usize,
    /// Scalar bytes copied by alias expansion so far (see `MAX_ALIAS_BYTES`).
    alias_bytes: usize,
    problems: &'p mut Vec<TreeProblem>,
    last_region: Region,
    on_rule_expr: &'p dyn Fn(&str),
}

impl<'a> Builder<'a, '_> {
    fn next(&mut self) -> Result<(Event<'a>, Region), TreeProblem> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                let region = Region::from_span(span);
                self.last_region = region;
                Ok((event, region))
            }
            Some(Err(e)) => Err(TreeProblem {
                region: Region {
                    start: Pos {
                        line: e.marker().line(),
                        col: e.marker().col() + 1,
                    },
                    end: Pos {
                        line: e.marker().line(),
                        col: e.marker().col() + 2,
                    },
                },
                message: format!("invalid YAML: {}", e.info()),
                hint: syntax_hint(e.info()),
            }),
            None => Err(self.problem("unexpected end of YAML input")),
        }
    }

    fn problem(&self, message: &str) -> TreeProblem {
        TreeProblem {
            region: self.last_region,
            message: message.to_string(),
            hint: None,
        }
    }

    fn document(&mut self) -> Result<Node, TreeProblem> {
        loop {
            let (event, region) = self.next()?;
            match event {
                Event::StreamStart => continue,
                Event::DocumentStart(_) => break,
                Event::StreamEnd => {
                    return Ok(Node {
                        content: Content::Map(Vec::new()),
                        region,
                    });
                }
                _ => return Err(self.problem("expected a YAML document")),
            }
        }
        let (event, region) = self.next()?;
        let root = self.node(event, region, 0, Role::Root)?;
        let (event, _) = self.next()?;
        if !matches!(event, Event::DocumentEnd) {
            return Err(self.problem("expected the end of the document"));
        }
        match self.next()? {
            (Event::StreamEnd, _) => Ok(root),
            (_, region) => Err(TreeProblem {
                region,
                message: "the file holds more than one YAML document".into(),
                hint: Some("a stack spec is a single document: remove the extra `---`".into()),
            }),
        }
    }

    fn spend(&mut self, nodes: usize) -> Result<(), TreeProblem> {
        self.budget = self.budget.saturating_add(nodes);
        if self.budget > MAX_NODES {
            return Err(TreeProblem {
                region: self.last_region,
                message: format!(
                    "YAML aliases expand to more than {MAX_NODES} nodes; refusing to load (alias bomb?)"
                ),
                hint: Some("use fewer nested aliases; a stack spec does not need them".into()),
            });
        }
        Ok(())
    }

    fn spend_bytes(&mut self, bytes: usize) -> Result<(), TreeProblem> {
        self.alias_bytes = self.alias_bytes.saturating_add(bytes);
        if self.alias_bytes > MAX_ALIAS_BYTES {
            return Err(TreeProblem {
                region: self.last_region,
                message: format!(
                    "YAML aliases expand to more than {} MiB of text; refusing to load (alias bomb?)",
                    MAX_ALIAS_BYTES / (1024 * 1024)
                ),
                hint: Some(
                    "alias small values only, or write the value out where it is needed".into(),
                ),
            });
        }
        Ok(())
    }

    fn node(
        &mut self,
        event: Event<'a>,
        region: Region,
        depth: usize,
        role: Role,
    ) -> Result<Node, TreeProblem> {
        if depth > MAX_DEPTH {
            return Err(self.problem(&format!("YAML nested deeper than {MAX_DEPTH} levels")));
        }
        let (node, anchor) = match event {
            Event::Scalar(value, style, anchor, _tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                if role == Role::Expr {
                    (self.on_rule_expr)(&value);
                }
                let node = Node {
                    content: Content::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                    region,
                };
                (node, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end = loop {
                    let (event, r) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break r;
                    }
                    items.push(self.node(event, r, depth + 1, role.item())?);
                };
                let node = Node {
                    content: Content::Seq(items),
                    region: Region {
                        start: region.start,
                        end: end.end,
                    },
                };
                (node, anchor)
            }
            Event::MappingStart(anchor, _) => {
                let node = self.mapping(region, depth, role)?;
                (node, anchor)
            }
            Event::Alias(id) => {
                let Some((size, bytes)) = self
                    .anchors
                    .get(&id)
                    .map(|target| (count_nodes(target), count_bytes(target)))
                else {
                    return Err(self.problem("alias refers to an unknown anchor"));
                };
                // Spend before cloning: the copy is what would exhaust memory.
                self.spend(size)?;
                self.spend_bytes(bytes)?;
                let Some(mut copy) = self.anchors.get(&id).cloned() else {
                    return Err(self.problem("alias refers to an unknown anchor"));
                };
                // Errors inside an alias point at the alias, where the user can act.
                relocate(&mut copy, region);
                (copy, 0)
            }
            _ => return Err(self.problem("unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping(&mut self, region: Region, depth: usize, role: Role) -> Result<Node, TreeProblem> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merged: Vec<Entry> = Vec::new();
        let end = loop {
            let (event, r) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break r;
            }
            let key = self.node(event, r, depth + 1, Role::Other)?;
            let (event, r) = self.next()?;
            let role = match &key.content {
                Content::Scalar { value, .. } if role != Role::Other => role.value_of(value),
                _ => Role::Other,
            };
            let value = self.node(event, r, depth + 1, role)?;
            if matches!(&key.content, Content::Scalar { value, style: Style::Plain } if value == "<<")
            {
                merged.extend(merge_entries(value, self.problems));
                continue;
            }
            if !matches!(key.content, Content::Scalar { .. }) {
                self.problems.push(TreeProblem {
                    region: key.region,
                    message: "mapping keys must be plain strings".into(),
                    hint: None,
                });
                continue;
            }
            let name = key.scalar_str().unwrap_or_default().to_string();
            if let Some(first) = entries.iter().find(|e| e.key.scalar_str() == Some(&name)) {
                self.problems.push(TreeProblem {
                    region: key.region,
                    message: format!("duplicate key `{name}`"),
                    hint: Some(format!(
                        "`{name}` is already set on line {}; remove one of them",
                        first.key.region.start.line
                    )),
                });
                continue;
            }
            entries.push(Entry { key, value });
        };
        // Merge keys (`<<: *base`) fill in what the mapping does not set itself.
        for entry in merged {
            if !entries
                .iter()
                .any(|e| e.key.scalar_str() == entry.key.scalar_str())
            {
                entries.push(entry);
            }
        }
        Ok(Node {
            content: Content::Map(entries),
            region: Region {
                start: region.start,
                end: end.end,
            },
        })
    }
}

/// Hints for the YAML mistakes people make most in hand-written specs.
fn syntax_hint(info: &str) -> Option<String> {
    if info.contains("mapping values are not allowed") {
        Some("a value that contains `: ` must be quoted, e.g. `expr: 'up{job=\"a: b\"}'`".into())
    } else if info.contains("found character that cannot start any token") || info.contains("tab") {
        Some("YAML indents with spaces, not tabs".into())
    } else if info.contains("did not find expected key")
        || info.contains("did not find expected '-'")
    {
        Some("check the indentation of this line against the lines above".into())
    } else {
        None
    }
}

fn merge_entries(value: Node, problems: &mut Vec<TreeProblem>) -> Vec<Entry> {
    match value.content {
        Content::Map(entries) => entries,
        Content::Seq(items) => items
            .into_iter()
            .flat_map(|item| merge_entries(item, problems))
            .collect(),
        Content::Scalar { .. } => {
            problems.push(TreeProblem {
                region: value.region,
                message: "`<<` merges a mapping, not a scalar".into(),
                hint: None,
            });
            Vec::new()
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.content {
        Content::Scalar { .. } => 0,
        Content::Seq(items) => items.iter().map(count_nodes).sum(),
        Content::Map(entries) => entries
            .iter()
            .map(|e| count_nodes(&e.key) + count_nodes(&e.value))
            .sum(),
    }
}

/// Bytes of scalar text in `node`, keys included: what a copy of it costs.
fn count_bytes(node: &Node) -> usize {
    match &node.content {
        Content::Scalar { value, .. } => value.len(),
        Content::Seq(items) => items.iter().map(count_bytes).sum(),
        Content::Map(entries) => entries
            .iter()
            .map(|e| count_bytes(&e.key) + count_bytes(&e.value))
            .sum(),
    }
}

fn relocate(node: &mut Node, region: Region) {
    node.region = region;
    match &mut node.content {
        Content::Scalar { .. } => {}
        Content::Seq(items) => items.iter_mut().for_each(|n| relocate(n, region)),
        Content::Map(entries) => entries.iter_mut().for_each(|e| {
            relocate(&mut e.key, region);
            relocate(&mut e.value, region);
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> (Node, Vec<TreeProblem>) {
        let mut problems = Vec::new();
        let node = parse(src, &mut problems).expect("parses");
        (node, problems)
    }

    #[test]
    fn positions_are_one_based() {
        let (root, _) = parse_ok("a:\n  b: 1\n");
        let b = root
            .get(&[Seg::Key("a".into()), Seg::Key("b".into())])
            .unwrap();
        assert_eq!(b.region.start, Pos { line: 2, col: 6 });
        let key = root
            .key_at(&[Seg::Key("a".into()), Seg::Key("b".into())])
            .unwrap();
        assert_eq!(key.region.start, Pos { line: 2, col: 3 });
    }

    #[test]
    fn rule_expressions_are_seen_as_they_are_read() {
        let src = "expr: top\nrules:\n  a:\n    - name: g\n      rules:\n        - alert: X\n          expr: up == 0\n          labels: {expr: label}\n        - record: r\n          expr: \"sum(x)\"\n  b:\n    - name: h\n      rules: [{record: s, expr: 'rate(y[5m])'}]\n      expr: group\ndashboards:\n  - rows: [{panels: [{queries: [{expr: panel}]}]}]\n";
        let seen = std::cell::RefCell::new(Vec::new());
        let mut problems = Vec::new();
        let watched = parse_watching(src, &mut problems, &|e| {
            seen.borrow_mut().push(e.to_string())
        })
        .expect("parses");
        assert_eq!(seen.into_inner(), ["up == 0", "sum(x)", "rate(y[5m])"]);
        // Watching changes nothing in the tree.
        let plain = parse(src, &mut problems).expect("parses");
        assert_eq!(format!("{watched:?}"), format!("{plain:?}"));
    }

    #[test]
    fn duplicate_keys_are_reported_and_first_kept() {
        let (root, problems) = parse_ok("a: 1\nb: 2\na: 3\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "duplicate key `a`");
        assert_eq!(problems[0].region.start.line, 3);
        assert_eq!(
            root.get(&[Seg::Key("a".into())]).unwrap().scalar_str(),
            Some("1")
        );
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let mut problems = Vec::new();
        let err = parse(&src, &mut problems).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }

    #[test]
    fn alias_bomb_by_bytes_is_refused() {
        // Few nodes, many bytes: a 64 KiB string aliased 1,000 times.
        let mut src = format!("big: &big \"{}\"\nmany:\n", "x".repeat(64 * 1024));
        for _ in 0..1000 {
            src.push_str("  - *big\n");
        }
        let mut problems = Vec::new();
        let err = parse(&src, &mut problems).unwrap_err();
        assert!(err.message.contains("MiB of text"), "{}", err.message);
        assert!(err.region.start.line >= 3, "{:?}", err.region);
    }

    #[test]
    fn merge_keys_fill_missing_entries() {
        let (root, problems) = parse_ok("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n");
        assert!(problems.is_empty());
        let item = root.get(&[Seg::Key("item".into())]).unwrap();
        assert_eq!(
            item.get(&[Seg::Key("x".into())]).unwrap().scalar_str(),
            Some("1")
        );
        assert_eq!(
            item.get(&[Seg::Key("y".into())]).unwrap().scalar_str(),
            Some("3")
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let src = "[".repeat(MAX_DEPTH + 5) + &"]".repeat(MAX_DEPTH + 5);
        let mut problems = Vec::new();
        assert!(parse(&src, &mut problems).is_err());
    }

    #[test]
    fn scalar_positions_follow_quotes_escapes_and_blocks() {
        let src = "a: sum(x) by job\nb: \"say \\\"hi\\\" now\"\nc: 'it''s {{ x'\nd: |\n  up\n  == 0 +\ne: >\n  f1\n  f2 g\n";
        let (root, _) = parse_ok(src);
        let at = |key: &str, offset: usize| {
            let n = root.get(&[Seg::Key(key.into())]).unwrap();
            let Content::Scalar { value, style } = &n.content else {
                panic!()
            };
            let p = scalar_pos(&LineIndex::new(src), n.region, *style, value, offset);
            (p.line, p.col)
        };
        assert_eq!(at("a", 13), (1, 17));
        assert_eq!(at("b", 5), (2, 11));
        assert_eq!(at("b", 9), (2, 16));
        assert_eq!(at("c", 5), (3, 11));
        assert_eq!(at("d", 6), (6, 6));
        assert_eq!(at("e", 6), (9, 6));
    }

    #[test]
    fn remove_drops_map_entries_and_seq_items() {
        let (mut root, _) = parse_ok("a: [1, 2, 3]\nb: x\n");
        assert!(root.remove(&[Seg::Key("a".into()), Seg::Index(1)]));
        assert!(root.remove(&[Seg::Key("b".into())]));
        assert!(!root.remove(&[]));
        let a = root.get(&[Seg::Key("a".into())]).unwrap();
        match &a.content {
            Content::Seq(items) => assert_eq!(items.len(), 2),
            _ => panic!("sequence expected"),
        }
        assert!(root.get(&[Seg::Key("b".into())]).is_none());
    }
}
