#![forbid(unsafe_code)]
//! A serde deserializer that reads the position-carrying tree of `node.rs`.
//!
//! Two things make it different from a plain YAML deserializer:
//! - every error carries the path and region of the innermost node it came
//!   from, so a message always has a line and column;
//! - unknown keys are found here (serde hands us the struct's field list), reported
//!   with a did-you-mean, and skipped, so one typo does not hide the next one.
//!
//! `load` keeps going after a type error, in one pass: an item of a list that
//! fails is read again from a copy without the offending node (or dropped when
//! the item itself is wrong), and the pass goes on with the next item. Only an
//! error outside every list (a top-level section) restarts the pass, once per
//! such error. So the cost is one pass plus the size of the failing items, and
//! every error is reported, however many.

use super::node::{Content, Node, Path, Region, Seg, Style};
use crate::diag::Diagnostic;
use serde::de::{
    self, Deserialize, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use typed_arena::Arena;

#[derive(Debug, Clone)]
pub struct DeError {
    message: String,
    hint: Option<String>,
    at: Option<(Path, Region)>,
    missing_field: Option<&'static str>,
}

impl DeError {
    fn new(message: impl Into<String>) -> Self {
        DeError {
            message: message.into(),
            hint: None,
            at: None,
            missing_field: None,
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Records where the error happened, unless an inner node already did.
    /// The path is built only here, on the error path.
    fn locate(mut self, path: &PathLink<'_>, region: Region) -> Self {
        if self.at.is_none() {
            self.at = Some((path.to_path(), region));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// Turns serde's type descriptions ("struct ScrapeJob", "u16") into words a
/// user of the spec knows.
fn describe_expected(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    if text.starts_with("struct ") || text.starts_with("a map") || text == "map" {
        "a mapping".to_string()
    } else if text.starts_with("a sequence") || text.starts_with("tuple") {
        "a list".to_string()
    } else if let Some(int) = ["u8", "u16", "u32", "u64", "usize"]
        .iter()
        .find(|t| text == **t)
    {
        let max = match *int {
            "u8" => u8::MAX.to_string(),
            "u16" => u16::MAX.to_string(),
            "u32" => u32::MAX.to_string(),
            _ => u64::MAX.to_string(),
        };
        format!("a whole number from 0 to {max}")
    } else if text == "a string" || text == "string" {
        "a string".to_string()
    } else if text == "a boolean" {
        "`true` or `false`".to_string()
    } else if text == "f64" || text == "f32" {
        "a number".to_string()
    } else {
        text
    }
}

fn describe_unexpected(unexp: de::Unexpected<'_>) -> String {
    match unexp {
        de::Unexpected::Unit => "nothing (null)".to_string(),
        de::Unexpected::Map => "a mapping".to_string(),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Str(s) => format!("the string `{s}`"),
        de::Unexpected::Unsigned(n) => format!("the number {n}"),
        de::Unexpected::Signed(n) => format!("the number {n}"),
        de::Unexpected::Float(n) => format!("the number {n}"),
        de::Unexpected::Bool(b) => format!("`{b}`"),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // Our own newtypes report "message\nhint"; keep the two apart.
        let text = msg.to_string();
        match text.split_once("\nhelp: ") {
            Some((message, hint)) => DeError::new(message).with_hint(hint),
            None => DeError::new(text),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "expected {}, found {}",
            describe_expected(exp),
            describe_unexpected(unexp)
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(format!(
            "invalid value: {}, expected {}",
            describe_unexpected(unexp),
            describe_expected(exp)
        ))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let list = expected
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let err = DeError::new(format!("unknown value `{variant}`, expected one of {list}"));
        match did_you_mean(variant, expected) {
            Some(best) => err.with_hint(format!("did you mean `{best}`?")),
            None => err,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        let mut err = DeError::new(format!("missing field `{field}`"))
            .with_hint(format!("add `{field}:` here"));
        err.missing_field = Some(field);
        err
    }
}

/// The closest candidate by edit distance, when it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// What `load` produced: the value (when anything usable was left), every
/// problem, the tree as finally read, and the paths removed to get there.
pub struct Loaded<T> {
    pub value: Option<T>,
    pub problems: Vec<Diagnostic>,
    pub tree: Node,
    pub removed: Vec<Path>,
}

/// What one deserialisation pass collects besides the value: problems, the
/// nodes removed inside list items to read them, and the items dropped.
/// Paths are numbered as in the tree the pass read.
pub struct Sink<'n> {
    diags: RefCell<Vec<Diagnostic>>,
    removed: RefCell<BTreeSet<Path>>,
    skipped: RefCell<BTreeSet<Path>>,
    /// Holds the trimmed copies of failing items for as long as the pass borrows them.
    arena: &'n Arena<Node>,
    /// How many times an item was read (first reads and re-reads): the cost
    /// measure of the pass, checked by tests to stay linear in the errors.
    pub reads: std::cell::Cell<usize>,
}

impl<'n> Sink<'n> {
    pub fn new(arena: &'n Arena<Node>) -> Self {
        Sink {
            diags: RefCell::new(Vec::new()),
            removed: RefCell::new(BTreeSet::new()),
            skipped: RefCell::new(BTreeSet::new()),
            arena,
            reads: std::cell::Cell::new(0),
        }
    }

    /// Records a failed read as a diagnostic, unless it is a consequence of a
    /// removal of ours (a required field we removed ourselves is not news).
    fn report(&self, err: DeError, path: &[Seg], region: Region) {
        let consequence = err.missing_field.is_some_and(|field| {
            let mut child = path.to_vec();
            child.push(Seg::Key(field.to_string()));
            self.removed.borrow().contains(&child)
        });
        if consequence {
            return;
        }
        let mut diag = Diagnostic::error(err.message).at_region(region);
        if let Some(hint) = err.hint {
            diag = diag.with_hint(hint);
        }
        self.diags.borrow_mut().push(diag);
    }

    /// Reads list item `node` at `link`; on an error, reports it, removes the
    /// offending node from a copy of the item and reads the copy, until it
    /// reads or the item itself is what is wrong (then `None`: drop the item).
    fn recover<T: Deserialize<'n>>(&self, node: &'n Node, link: PathLink<'_>) -> Option<T> {
        let mut current = node;
        let mut base: Option<Path> = None;
        loop {
            self.reads.set(self.reads.get() + 1);
            let de = NodeDe {
                node: current,
                path: link,
                sink: self,
            };
            let err = match T::deserialize(de) {
                Ok(value) => return Some(value),
                Err(err) => err,
            };
            let base = base.get_or_insert_with(|| link.to_path());
            let (path, region) = err
                .at
                .clone()
                .unwrap_or_else(|| (base.clone(), current.region));
            self.report(err, &path, region);
            if path.len() > base.len() && path.starts_with(base) {
                let mut copy = current.clone();
                if copy.remove(&path[base.len()..]) {
                    self.removed.borrow_mut().insert(path);
                    current = self.arena.alloc(copy);
                    continue;
                }
            }
            self.skipped.borrow_mut().insert(base.clone());
            return None;
        }
    }
}

/// Reads `root` as `T`, collecting every problem. `value` is `None` only when
/// nothing usable is left after removing every offending node.
pub fn load<T: DeserializeOwned>(root: Node) -> Loaded<T> {
    load_counted(root).0
}

/// `load`, and the number of list items read (first reads and re-reads) and
/// of whole passes made: the work done, for tests that keep it linear.
pub fn load_counted<T: DeserializeOwned>(mut root: Node) -> (Loaded<T>, usize, usize) {
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut removed: Vec<Path> = Vec::new();
    let arena = Arena::new();
    let mut reads = 0;
    let mut passes = 0;
    // Each restart removes one node of the tree, so this ends.
    loop {
        passes += 1;
        let sink = Sink::new(&arena);
        let result = T::deserialize(NodeDe::new(&root, &sink));
        reads += sink.reads.get();
        let Sink {
            diags,
            removed: inner_removed,
            skipped,
            ..
        } = sink;
        problems.extend(diags.into_inner());
        let (inner_removed, skipped) = (inner_removed.into_inner(), skipped.into_inner());
        match result {
            Ok(value) => {
                removed.extend(renumber(&inner_removed, &skipped));
                // Remove in reverse order so every path is still numbered as read.
                let mut all: Vec<&Path> = inner_removed.iter().chain(skipped.iter()).collect();
                all.sort();
                for path in all.into_iter().rev() {
                    root.remove(path);
                }
                dedupe(&mut problems);
                return (
                    Loaded {
                        value: Some(value),
                        problems,
                        tree: root,
                        removed,
                    },
                    reads,
                    passes,
                );
            }
            Err(err) => {
                let (path, region) = err.at.clone().unwrap_or((Vec::new(), root.region));
                // A required field we removed ourselves is a consequence, not news.
                let consequence = err.missing_field.is_some_and(|field| {
                    let mut child = path.clone();
                    child.push(Seg::Key(field.to_string()));
                    removed.contains(&child)
                });
                if !consequence {
                    let mut diag = Diagnostic::error(err.message).at_region(region);
                    if let Some(hint) = err.hint {
                        diag = diag.with_hint(hint);
                    }
                    problems.push(diag);
                }
                if !root.remove(&path) {
                    dedupe(&mut problems);
                    return (
                        Loaded {
                            value: None,
                            problems,
                            tree: root,
                            removed,
                        },
                        reads,
                        passes,
                    );
                }
                removed.push(path);
            }
        }
    }
}

/// Paths of nodes removed inside list items, numbered as in the tree once the
/// dropped items are gone too (the numbering the model sees). A dropped item
/// is reported as a child `usize::MAX` of its list: no model path is inside
/// it, but the list itself counts as "next to a removal".
fn renumber(removed: &BTreeSet<Path>, skipped: &BTreeSet<Path>) -> Vec<Path> {
    let mut dropped: BTreeMap<&[Seg], Vec<usize>> = BTreeMap::new();
    for path in skipped {
        if let Some((Seg::Index(i), parent)) = path.split_last() {
            dropped.entry(parent).or_default().push(*i);
        }
    }
    let shift = |path: &Path| -> Path {
        path.iter()
            .enumerate()
            .map(|(depth, seg)| match seg {
                Seg::Index(i) => {
                    let before = dropped
                        .get(&path[..depth])
                        .map_or(0, |list| list.partition_point(|d| d < i));
                    Seg::Index(i - before)
                }
                key => key.clone(),
            })
            .collect()
    };
    let mut out: Vec<Path> = removed.iter().map(shift).collect();
    for path in skipped {
        if let Some((_, parent)) = path.split_last() {
            let mut marker = shift(&parent.to_vec());
            marker.push(Seg::Index(usize::MAX));
            out.push(marker);
        }
    }
    out
}

fn dedupe(problems: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|d| {
        seen.insert((
            d.region.map(|r| (r.start.line, r.start.col)),
            d.message.clone(),
        ))
    });
}

/// Where a node is, as a chain of links on the deserializer's call stack.
///
/// Deserializing visits every node; building each node's full path (a vector
/// of owned keys) there dominated loading time. A link costs nothing, and the
/// path is only materialised for an error or an unknown key.
#[derive(Debug, Clone, Copy)]
pub struct PathLink<'p> {
    parent: Option<&'p PathLink<'p>>,
    seg: SegRef<'p>,
}

#[derive(Debug, Clone, Copy)]
enum SegRef<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl PathLink<'_> {
    const ROOT: PathLink<'static> = PathLink {
        parent: None,
        seg: SegRef::Root,
    };

    pub fn to_path(&self) -> Path {
        let mut segs = Vec::new();
        let mut link = Some(self);
        while let Some(l) = link {
            match l.seg {
                SegRef::Root => {}
                SegRef::Key(k) => segs.push(Seg::Key(k.to_string())),
                SegRef::Index(i) => segs.push(Seg::Index(i)),
            }
            link = l.parent;
        }
        segs.reverse();
        segs
    }
}

pub struct NodeDe<'n, 's, 'p> {
    node: &'n Node,
    path: PathLink<'p>,
    sink: &'s Sink<'n>,
}

impl<'n, 's> NodeDe<'n, 's, 'static> {
    pub fn new(node: &'n Node, sink: &'s Sink<'n>) -> Self {
        NodeDe {
            node,
            path: PathLink::ROOT,
            sink,
        }
    }
}

impl<'n, 's, 'p> NodeDe<'n, 's, 'p> {
    fn child<'c>(&'c self, node: &'n Node, seg: SegRef<'c>) -> NodeDe<'n, 's, 'c> {
        NodeDe {
            node,
            path: PathLink {
                parent: Some(&self.path),
                seg,
            },
            sink: self.sink,
        }
    }

    fn err(&self, e: DeError) -> DeError {
        e.locate(&self.path, self.node.region)
    }

    fn scalar(&self) -> Option<(&'n str, Style)> {
        match &self.node.content {
            Content::Scalar { value, style } => Some((value.as_str(), *style)),
            _ => None,
        }
    }

    fn unexpected(&self) -> de::Unexpected<'n> {
        match &self.node.content {
            _ if self.node.is_null() => de::Unexpected::Unit,
            Content::Scalar { value, .. } => de::Unexpected::Str(value),
            Content::Seq(_) => de::Unexpected::Seq,
            Content::Map(_) => de::Unexpected::Map,
        }
    }

    fn wrong_type<V: Visitor<'n>>(&self, visitor: &V) -> DeError {
        self.err(de::Error::invalid_type(self.unexpected(), visitor))
    }

    fn plain_number(&self) -> Option<&'n str> {
        match self.scalar() {
            Some((text, Style::Plain)) => Some(text),
            _ => None,
        }
    }
}

fn parse_int(text: &str) -> Option<Result<u64, i64>> {
    let text = text.replace('_', "");
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(Ok);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return u64::from_str_radix(oct, 8).ok().map(Ok);
    }
    if let Ok(n) = text.parse::<u64>() {
        return Some(Ok(n));
    }
    text.parse::<i64>().ok().map(Err)
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        _ if text.chars().any(|c| c.is_ascii_digit()) => text.parse::<f64>().ok(),
        _ => None,
    }
}

macro_rules! int_method {
    ($method:ident) => {
        fn $method<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
            let parsed = self.plain_number().and_then(parse_int);
            let result = match parsed {
                Some(Ok(n)) => visitor.visit_u64(n),
                Some(Err(n)) => visitor.visit_i64(n),
                None => Err(self.wrong_type(&visitor)),
            };
            result.map_err(|e| self.err(e))
        }
    };
}

impl<'n> de::Deserializer<'n> for NodeDe<'n, '_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.content {
            _ if self.node.is_null() => visitor.visit_unit(),
            Content::Scalar {
                value,
                style: Style::Plain,
            } => {
                if matches!(value.as_str(), "true" | "True" | "TRUE") {
                    visitor.visit_bool(true)
                } else if matches!(value.as_str(), "false" | "False" | "FALSE") {
                    visitor.visit_bool(false)
                } else if let Some(n) = parse_int(value) {
                    match n {
                        Ok(n) => visitor.visit_u64(n),
                        Err(n) => visitor.visit_i64(n),
                    }
                } else if let Some(f) = parse_float(value) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_borrowed_str(value)
                }
            }
            Content::Scalar { value, .. } => visitor.visit_borrowed_str(value),
            Content::Seq(_) => return self.deserialize_seq(visitor),
            Content::Map(_) => return self.deserialize_map(visitor),
        };
        result.map_err(|e| self.err(e))
    }

    fn deserialize_bool<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match self.plain_number() {
            Some("true" | "True" | "TRUE") => visitor.visit_bool(true),
            Some("false" | "False" | "FALSE") => visitor.visit_bool(false),
            _ => {
                let mut err = self.wrong_type(&visitor);
                if let Some((text, _)) = self.scalar() {
                    if matches!(text, "yes" | "no" | "on" | "off" | "y" | "n") {
                        err = err.with_hint(format!(
                            "YAML 1.2 reads `{text}` as a string: write `true` or `false`"
                        ));
                    }
                }
                return Err(err);
            }
        };
        result.map_err(|e| self.err(e))
    }

    int_method!(deserialize_i8);
    int_method!(deserialize_i16);
    int_method!(deserialize_i32);
    int_method!(deserialize_i64);
    int_method!(deserialize_u8);
    int_method!(deserialize_u16);
    int_method!(deserialize_u32);
    int_method!(deserialize_u64);

    fn deserialize_f32<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain_number().and_then(parse_float) {
            Some(f) => visitor.visit_f64(f).map_err(|e| self.err(e)),
            None => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some(_) if self.node.is_null() => Err(self.wrong_type(&visitor)),
            Some((text, _)) => visitor.visit_borrowed_str(text).map_err(|e| self.err(e)),
            None => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none().map_err(|e| self.err(e))
        } else {
            let path = self.path;
            let region = self.node.region;
            visitor
                .visit_some(self)
                .map_err(|e| e.locate(&path, region))
        }
    }

    fn deserialize_unit<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit().map_err(|e| self.err(e))
        } else {
            Err(self.wrong_type(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path;
        let region = self.node.region;
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.locate(&path, region))
    }

    fn deserialize_seq<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        static EMPTY: Vec<Node> = Vec::new();
        let items = match &self.node.content {
            Content::Seq(items) => items,
            _ if self.node.is_null() => &EMPTY,
            _ => return Err(self.wrong_type(&visitor)),
        };
        let access = Seq {
            parent: &self,
            items: items.iter().enumerate(),
        };
        visitor.visit_seq(access).map_err(|e| self.err(e))
    }

    fn deserialize_tuple<V: Visitor<'n>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.mapping(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'n>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.mapping(visitor, Some(fields))
    }

    fn deserialize_enum<V: Visitor<'n>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let result = match &self.node.content {
            Content::Scalar { value, .. } if !self.node.is_null() => {
                visitor.visit_enum(value.as_str().into_deserializer())
            }
            Content::Map(entries) if entries.len() == 1 => {
                let entry = &entries[0];
                let name = entry.key.scalar_str().unwrap_or_default();
                if !variants.contains(&name) {
                    return Err(self.err(de::Error::unknown_variant(name, variants)));
                }
                let content = self.child(&entry.value, SegRef::Key(name));
                visitor.visit_enum(Enum { name, content })
            }
            _ => return Err(self.wrong_type(&visitor)),
        };
        result.map_err(|e| self.err(e))
    }

    fn deserialize_identifier<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'n>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

impl<'n> NodeDe<'n, '_, '_> {
    fn mapping<V: Visitor<'n>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, DeError> {
        static EMPTY: Vec<super::node::Entry> = Vec::new();
        let entries = match &self.node.content {
            Content::Map(entries) => entries,
            _ if self.node.is_null() => &EMPTY,
            _ => return Err(self.wrong_type(&visitor)),
        };
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = entry.key.scalar_str().unwrap_or_default();
            match fields {
                Some(fields) if !fields.contains(&key) => self.report_unknown(key, entry, fields),
                _ => kept.push(entry),
            }
        }
        let access = Map {
            parent: &self,
            entries: kept.into_iter(),
            value: None,
        };
        visitor.visit_map(access).map_err(|e| self.err(e))
    }

    fn report_unknown(&self, key: &str, entry: &super::node::Entry, fields: &[&str]) {
        let path = self.path.to_path();
        let section = match path.last() {
            Some(Seg::Key(k)) => format!(" in `{k}`"),
            Some(Seg::Index(_)) => match path.iter().rev().find_map(|s| match s {
                Seg::Key(k) => Some(k),
                Seg::Index(_) => None,
            }) {
                Some(k) => format!(" in an item of `{k}`"),
                None => String::new(),
            },
            None => " at the top level".to_string(),
        };
        let mut diag = Diagnostic::error(format!("unknown field `{key}`{section}"))
            .at_region(entry.key.region);
        let visible: Vec<&str> = fields.to_vec();
        diag = match did_you_mean(key, &visible) {
            Some(best) => diag.with_hint(format!("did you mean `{best}`?")),
            None => diag.with_hint(format!(
                "expected one of {}",
                visible
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.sink.diags.borrow_mut().push(diag);
    }
}

struct Seq<'a, 'n, 's, 'p> {
    parent: &'a NodeDe<'n, 's, 'p>,
    items: std::iter::Enumerate<std::slice::Iter<'n, Node>>,
}

impl<'n> SeqAccess<'n> for Seq<'_, 'n, '_, '_> {
    type Error = DeError;

    /// A seed that is not `PhantomData` (none of our types uses one) is read
    /// once; its errors travel up to the list's caller.
    fn next_element_seed<T: DeserializeSeed<'n>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((i, node)) = self.items.next() else {
            return Ok(None);
        };
        let de = self.parent.child(node, SegRef::Index(i));
        let path = de.path;
        seed.deserialize(de)
            .map(Some)
            .map_err(|e| e.locate(&path, node.region))
    }

    /// Serde reads list items of a type it knows (`Vec<T>`, sets, tuples)
    /// through here: a failing item is reported, read again from a trimmed
    /// copy (a fresh `T` each time, so no seed needs copying), or dropped.
    fn next_element<T: Deserialize<'n>>(&mut self) -> Result<Option<T>, DeError> {
        loop {
            let Some((i, node)) = self.items.next() else {
                return Ok(None);
            };
            let link = PathLink {
                parent: Some(&self.parent.path),
                seg: SegRef::Index(i),
            };
            if let Some(value) = self.parent.sink.recover::<T>(node, link) {
                return Ok(Some(value));
            }
            // The item is dropped; the list goes on with the next one.
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a, 'n, 's, 'p> {
    parent: &'a NodeDe<'n, 's, 'p>,
    entries: std::vec::IntoIter<&'n super::node::Entry>,
    value: Option<&'n super::node::Entry>,
}

impl<'n> MapAccess<'n> for Map<'_, 'n, '_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'n>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some(entry) => {
                self.value = Some(entry);
                let name = entry.key.scalar_str().unwrap_or_default();
                let de = self.parent.child(&entry.key, SegRef::Key(name));
                let path = de.path;
                seed.deserialize(de)
                    .map(Some)
                    .map_err(|e| e.locate(&path, entry.key.region))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'n>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let entry = self
            .value
            .take()
            .ok_or_else(|| DeError::new("internal: value requested before key"))?;
        let name = entry.key.scalar_str().unwrap_or_default();
        let de = self.parent.child(&entry.value, SegRef::Key(name));
        let path = de.path;
        seed.deserialize(de)
            .map_err(|e| e.locate(&path, entry.value.region))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Enum<'n, 's, 'p> {
    name: &'n str,
    content: NodeDe<'n, 's, 'p>,
}

impl<'n, 's, 'p> EnumAccess<'n> for Enum<'n, 's, 'p> {
    type Error = DeError;
    type Variant = NodeDe<'n, 's, 'p>;

    fn variant_seed<V: DeserializeSeed<'n>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let de: de::value::BorrowedStrDeserializer<'n, DeError> =
            de::value::BorrowedStrDeserializer::new(self.name);
        let value = seed.deserialize(de)?;
        Ok((value, self.content))
    }
}

impl<'n> VariantAccess<'n> for NodeDe<'n, '_, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        if self.node.is_null() {
            Ok(())
        } else {
            Err(self.err(DeError::new("this value takes no settings")))
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'n>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'n>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'n>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.mapping(visitor, Some(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::node::parse;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Job {
        name: String,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        enabled: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        jobs: Vec<Job>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Timeseries,
        Stat,
    }

    fn run(src: &str) -> (Option<Doc>, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let root = parse(src, &mut problems).unwrap();
        let loaded = load::<Doc>(root);
        (loaded.value, loaded.problems)
    }

    fn lines(diags: &[Diagnostic]) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                let r = d.region.unwrap();
                format!("{}:{}: {}", r.start.line, r.start.col, d.message)
            })
            .collect()
    }

    #[test]
    fn every_problem_is_reported_with_its_position() {
        let src = "jobs:\n  - name: a\n    prot: 80\n  - name: b\n    port: 70000\n  - name: c\n    enabled: yes\nkind: graph\nlabelz: {}\n";
        let (doc, diags) = run(src);
        let mut got = lines(&diags);
        got.sort();
        assert_eq!(
            got,
            vec![
                "3:5: unknown field `prot` in an item of `jobs`",
                "5:11: invalid value: the number 70000, expected a whole number from 0 to 65535",
                "7:14: expected `true` or `false`, found the string `yes`",
                "8:7: unknown value `graph`, expected one of `timeseries`, `stat`",
                "9:1: unknown field `labelz` at the top level",
            ]
        );
        let doc = doc.expect("what is left still loads");
        assert_eq!(doc.jobs.len(), 3);
        assert_eq!(doc.jobs[1].port, None);
    }

    #[test]
    fn did_you_mean_is_offered() {
        let (_, diags) = run("jobs:\n  - nmae: a\n");
        let unknown = diags.iter().find(|d| d.message.contains("nmae")).unwrap();
        assert_eq!(unknown.hint.as_deref(), Some("did you mean `name`?"));
        // the missing `name` is reported too, at the item
        assert!(diags.iter().any(|d| d.message == "missing field `name`"));
    }

    #[test]
    fn quoted_numbers_stay_strings_and_plain_ones_are_accepted_as_strings() {
        let (doc, diags) = run("labels:\n  a: \"1\"\n  b: 2.42\n  c: '{{ $labels.instance }}'\n");
        assert!(diags.is_empty(), "{diags:?}");
        let labels = doc.unwrap().labels;
        assert_eq!(labels["b"], "2.42");
        assert_eq!(labels["c"], "{{ $labels.instance }}");
    }

    #[test]
    fn wrong_shape_is_named_in_user_words() {
        let (_, diags) = run("jobs: {name: a}\n");
        assert_eq!(lines(&diags), vec!["1:7: expected a list, found a mapping"]);
    }

    #[test]
    fn did_you_mean_needs_closeness() {
        assert_eq!(
            did_you_mean("scrape_intervall", &["scrape_interval", "name"]),
            Some("scrape_interval")
        );
        assert_eq!(did_you_mean("zzz", &["scrape_interval", "name"]), None);
    }
}
