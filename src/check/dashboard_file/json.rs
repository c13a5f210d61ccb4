//! Positions inside a dashboard JSON file: the file parsed into a tree whose
//! every value carries its byte range (`jsonc-parser`, strict JSON options),
//! and byte ranges turned into the 1-based line and character column that
//! findings show, including a character inside a string literal.
//!
//! The file has already been accepted by `serde_json` (strict JSON, nesting
//! bounded at 128 levels) before it is parsed here, so this tree is only ever
//! built for valid, shallow documents.

use crate::yaml::node::{Pos, Region};
pub use jsonc_parser::ast::{Array, Object, Value};

/// Parses `text` (already known to be valid JSON) into a positioned tree.
pub fn parse(text: &str) -> Option<Value<'_>> {
    let options = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    jsonc_parser::parse_to_ast(text, &Default::default(), &options)
        .ok()?
        .value
}

/// The value of `key`; the last one when a key repeats, as Grafana's reader
/// (Go's `encoding/json`) and `serde_json` both keep the last.
pub fn get<'b, 'a>(obj: &'b Object<'a>, key: &str) -> Option<&'b Value<'a>> {
    obj.properties
        .iter()
        .rev()
        .find(|p| p.name.as_str() == key)
        .map(|p| &p.value)
}

pub fn get_str<'b>(obj: &'b Object<'_>, key: &str) -> Option<&'b str> {
    match get(obj, key)? {
        Value::StringLit(s) => Some(&s.value),
        _ => None,
    }
}

pub fn get_object<'b, 'a>(obj: &'b Object<'a>, key: &str) -> Option<&'b Object<'a>> {
    match get(obj, key)? {
        Value::Object(o) => Some(o),
        _ => None,
    }
}

pub fn get_array<'b, 'a>(obj: &'b Object<'a>, key: &str) -> Option<&'b Array<'a>> {
    match get(obj, key)? {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

pub fn is_true(obj: &Object<'_>, key: &str) -> bool {
    matches!(get(obj, key), Some(Value::BooleanLit(b)) if b.value)
}

/// Byte range of a value.
pub fn range(value: &Value<'_>) -> jsonc_parser::common::Range {
    match value {
        Value::StringLit(v) => v.range,
        Value::NumberLit(v) => v.range,
        Value::BooleanLit(v) => v.range,
        Value::Object(v) => v.range,
        Value::Array(v) => v.range,
        Value::NullKeyword(v) => v.range,
    }
}

/// Byte offsets → line and character column, built once per file.
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// (byte offset, characters before it) every `STEP` bytes or so, so that a
    /// column costs at most `STEP` bytes of counting even on a minified file
    /// that is one long line.
    marks: Vec<(usize, usize)>,
}

const STEP: usize = 4096;

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut marks = vec![(0, 0)];
        for (chars, (byte, _)) in text.char_indices().enumerate() {
            if byte >= marks[marks.len() - 1].0 + STEP {
                marks.push((byte, chars));
            }
        }
        Lines {
            text,
            starts,
            marks,
        }
    }

    /// Characters before byte `byte` (a character boundary).
    fn chars_before(&self, byte: usize) -> usize {
        let at = self.marks.partition_point(|(b, _)| *b <= byte).max(1);
        let (mark, chars) = self.marks[at - 1];
        chars + self.text.get(mark..byte).map_or(0, |s| s.chars().count())
    }

    pub fn pos(&self, byte: usize) -> Pos {
        let byte = byte.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= byte).max(1);
        let start = self.starts[line - 1];
        let col = self.chars_before(byte) - self.chars_before(start);
        Pos { line, col: col + 1 }
    }

    /// The region a value spans (one line at most: a caret under a whole
    /// object would cover the rest of the screen).
    pub fn region(&self, value: &Value<'_>) -> Region {
        let r = range(value);
        let start = self.pos(r.start);
        let end = self.pos(r.end);
        Region {
            start,
            end: if end.line == start.line {
                end
            } else {
                Pos {
                    line: start.line,
                    col: start.col + 1,
                }
            },
        }
    }

    /// The position of character `offset` of the decoded value of the string
    /// literal starting at byte `start` (its opening quote): escapes (`\"`,
    /// `\n`, `\u0026`) are one character of the value and several of the file.
    pub fn char_in_string(&self, start: usize, offset: usize) -> Region {
        let raw = self.text.get(start..).unwrap_or("");
        let mut bytes = raw.char_indices().skip(1).peekable();
        let mut at = start + 1;
        let mut seen = 0usize;
        while let Some((i, c)) = bytes.next() {
            at = start + i;
            if c == '"' || seen == offset {
                break;
            }
            if c == '\\' {
                match bytes.next() {
                    // `\uXXXX` (a surrogate pair is two of them and one character).
                    Some((_, 'u')) => {
                        let hex: String = bytes.by_ref().take(4).map(|(_, h)| h).collect();
                        let unit = u16::from_str_radix(&hex, 16).unwrap_or(0);
                        if (0xD800..0xDC00).contains(&unit)
                            && bytes.peek().is_some_and(|(_, n)| *n == '\\')
                        {
                            bytes.next();
                            bytes.next();
                            bytes.by_ref().take(4).for_each(drop);
                        }
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            seen += 1;
        }
        let pos = self.pos(at);
        Region {
            start: pos,
            end: Pos {
                line: pos.line,
                col: pos.col + 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_values_and_of_characters_inside_strings() {
        let text = "{\n  \"a\": [1, {\"expr\": \"x{a=\\\"\\u00e9\\\"} +\"}],\n  \"b\": \"é\"\n}\n";
        let root = parse(text).unwrap();
        let lines = Lines::new(text);
        let Value::Object(o) = &root else { panic!() };
        let b = get(o, "b").unwrap();
        assert_eq!(lines.region(b).start, Pos { line: 3, col: 8 });
        let Value::Array(a) = get(o, "a").unwrap() else {
            panic!()
        };
        let Value::Object(inner) = &a.elements[1] else {
            panic!()
        };
        let expr = get(inner, "expr").unwrap();
        assert_eq!(get_str(inner, "expr"), Some("x{a=\"é\"} +"));
        let start = range(expr).start;
        // `x` is the first character; `é` (written `\u00e9`) the fifth; `+` the tenth.
        assert_eq!(
            lines.char_in_string(start, 0).start,
            Pos { line: 2, col: 22 }
        );
        assert_eq!(
            lines.char_in_string(start, 5).start,
            Pos { line: 2, col: 28 }
        );
        assert_eq!(
            lines.char_in_string(start, 6).start,
            Pos { line: 2, col: 34 }
        );
        assert_eq!(
            lines.char_in_string(start, 9).start,
            Pos { line: 2, col: 38 }
        );
    }

    #[test]
    fn columns_on_one_long_line_count_characters() {
        let text = format!("[{}\"é\", \"x\"]", "\"ü\", ".repeat(5000));
        let lines = Lines::new(&text);
        let Value::Array(a) = parse(&text).unwrap() else {
            panic!()
        };
        let last = a.elements.last().unwrap();
        // `[`, then 5 characters per `"ü", ` and for `"é", `: `"x"` is next.
        assert_eq!(
            lines.region(last).start,
            Pos {
                line: 1,
                col: 1 + 5000 * 5 + 5 + 1
            }
        );
    }

    #[test]
    fn a_repeated_key_reads_as_the_last() {
        let text = "{\"a\": 1, \"a\": \"two\"}";
        let root = parse(text).unwrap();
        let Value::Object(o) = &root else { panic!() };
        assert_eq!(get_str(o, "a"), Some("two"));
    }
}
