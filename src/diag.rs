//! Diagnostics: a problem with a position in `stack.yaml`, what is wrong, and a hint.
//!
//! Checks produce diagnostics against a model path (`alerting.route.receiver`);
//! `resolve` turns the path into a line and column through the source tree, so
//! checks never handle positions themselves.

use crate::yaml::node::{Content, LineIndex, Node, Path, Pos, Region, Seg};
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::Arc;

/// A file other than the spec that findings point into (a dashboard JSON
/// file): its name as shown and its text, for the snippet under a finding.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

pub mod quiet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// Worth knowing, never a failure (not even under `--deny-warnings`).
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub hint: Option<String>,
    /// Where in the model, when the check knows it.
    pub path: Option<Path>,
    /// Point at the key of `path` rather than its value.
    pub on_key: bool,
    /// Where in the file, once known.
    pub region: Option<Region>,
    /// A stable identifier of the check, e.g. `promql-syntax` (JSON `code`).
    pub code: Option<&'static str>,
    /// A character offset inside the scalar at `path` (a position inside a
    /// PromQL expression or a template), mapped to a line and column by `resolve_in`.
    pub offset: Option<usize>,
    /// The file `region` is in, when it is not the spec.
    pub source: Option<Arc<Source>>,
    /// The other places of a finding that `quiet::group` folded into this one.
    pub also: Vec<Region>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            hint: None,
            path: None,
            on_key: false,
            region: None,
            code: None,
            offset: None,
            source: None,
            also: Vec::new(),
        }
    }

    pub fn info(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Info,
            ..Diagnostic::error(message)
        }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Points at character `offset` of the scalar value at the path.
    pub fn at_offset(mut self, offset: usize) -> Self {
        self.offset = Some(offset);
        self
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, path: Path) -> Self {
        self.path = Some(path);
        self
    }

    pub fn at_key(mut self, path: Path) -> Self {
        self.path = Some(path);
        self.on_key = true;
        self
    }

    pub fn at_region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Places the finding at `region` of another file than the spec.
    pub fn in_source(mut self, source: &Arc<Source>, region: Region) -> Self {
        self.source = Some(Arc::clone(source));
        self.region = Some(region);
        self
    }

    /// The name of the file the finding is in: its own source, or `spec`.
    pub fn file<'a>(&'a self, spec: &'a str) -> &'a str {
        self.source.as_ref().map_or(spec, |s| s.name.as_str())
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Like `resolve`, and places an `offset` inside a scalar precisely by
    /// reading the scalar's raw text (quotes, escapes, block indentation).
    pub fn resolve_in(&mut self, root: &Node, index: &LineIndex<'_>) {
        if self.region.is_some() {
            return;
        }
        self.resolve(root);
        let (Some(offset), Some(path)) = (self.offset, &self.path) else {
            return;
        };
        let Some(node) = root.get(path) else { return };
        if let (Content::Scalar { value, style }, Some(region)) = (&node.content, self.region) {
            if region == node.region {
                let pos = crate::yaml::node::scalar_pos(index, node.region, *style, value, offset);
                self.region = Some(Region {
                    start: pos,
                    end: Pos {
                        line: pos.line,
                        col: pos.col + 1,
                    },
                });
            }
        }
    }

    /// Finds the position of `path` in the source; a path into a defaulted
    /// (absent) field points at its nearest ancestor that is written down.
    pub fn resolve(&mut self, root: &Node) {
        if self.region.is_some() {
            return;
        }
        let Some(path) = &self.path else { return };
        let mut len = path.len();
        loop {
            let prefix = &path[..len];
            let node = if self.on_key && len == path.len() {
                root.key_at(prefix)
            } else {
                root.get(prefix)
            };
            if let Some(node) = node {
                self.region = Some(node.region);
                return;
            }
            if len == 0 {
                return;
            }
            len -= 1;
        }
    }
}

/// Builds a model path: `path!["alerting", "receivers", 2, "name"]`.
#[macro_export]
macro_rules! path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::diag::IntoSeg::into_seg($seg)),*]
    };
}

pub trait IntoSeg {
    fn into_seg(self) -> Seg;
}

impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_string())
    }
}

impl IntoSeg for String {
    fn into_seg(self) -> Seg {
        Seg::Key(self)
    }
}

impl IntoSeg for &String {
    fn into_seg(self) -> Seg {
        Seg::Key(self.clone())
    }
}

impl IntoSeg for usize {
    fn into_seg(self) -> Seg {
        Seg::Index(self)
    }
}

impl IntoSeg for Seg {
    fn into_seg(self) -> Seg {
        self
    }
}

/// Sorts by position so the report reads top to bottom (the spec first, then
/// each other file by name); errors before warnings at the same place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        fn key(d: &Diagnostic) -> ((usize, usize), Severity) {
            let pos = d
                .region
                .map(|r| (r.start.line, r.start.col))
                .unwrap_or((0, 0));
            (pos, d.severity)
        }
        fn file(d: &Diagnostic) -> Option<&str> {
            d.source.as_ref().map(|s| s.name.as_str())
        }
        file(a).cmp(&file(b)).then_with(|| key(a).cmp(&key(b)))
    });
}

/// Renders one diagnostic the way a compiler would:
///
/// ```text
/// stack.yaml:6:5: error: unknown field `scrape_intervall` in `prometheus`
///   |
/// 6 |     scrape_intervall: 15s
///   |     ^^^^^^^^^^^^^^^^
///   = help: did you mean `scrape_interval`?
/// ```
///
/// Builds a line index of `source` on each call: to render many diagnostics of
/// one source use `render_all` (or `render_indexed`), which cost the length of
/// the lines shown, not of the file.
pub fn render_text(diag: &Diagnostic, file: &str, source: &str) -> String {
    render_indexed(diag, file, &LineIndex::new(source))
}

/// Renders every diagnostic of one source, in order, with one line index.
pub fn render_all<'d>(
    diags: impl IntoIterator<Item = &'d Diagnostic>,
    file: &str,
    source: &str,
) -> String {
    render_all_styled(diags, file, source, false)
}

/// `render_all`, coloured for a terminal when `color` (`crate::color`).
pub fn render_all_styled<'d>(
    diags: impl IntoIterator<Item = &'d Diagnostic>,
    file: &str,
    source: &str,
    color: bool,
) -> String {
    let index = LineIndex::new(source);
    // Other files' line indexes, built once each (keyed by the shared source).
    let mut others: Vec<(Arc<Source>, LineIndex<'_>)> = Vec::new();
    let mut out = String::new();
    for d in diags {
        match &d.source {
            None => out.push_str(&render_styled(d, file, &index, color)),
            Some(src) => {
                let at = match others.iter().position(|(s, _)| Arc::ptr_eq(s, src)) {
                    Some(at) => at,
                    None => {
                        others.push((Arc::clone(src), LineIndex::new(&src.text)));
                        others.len() - 1
                    }
                };
                out.push_str(&render_styled(d, &src.name, &others[at].1, color));
            }
        }
    }
    out
}

/// `render_text` against a prebuilt line index of the source.
pub fn render_indexed(diag: &Diagnostic, file: &str, index: &LineIndex<'_>) -> String {
    render_styled(diag, file, index, false)
}

/// Characters of a source line shown under a finding, at most.
const SHOWN_CHARS: usize = 200;
/// Tab stops in a shown line: tabs are expanded, since the gutter in front
/// of the line would shift the terminal's own stops against the carets.
const TAB_STOP: usize = 4;

/// A source line as shown, and where its carets go: the display column and
/// width (terminal cells: 2 for CJK and most emoji, tabs expanded) of the
/// characters `start..start + len`. Control characters are shown as U+FFFD
/// so that a stray escape in the spec cannot drive the terminal.
fn snippet(line: &str, start: usize, len: usize) -> (String, usize, usize) {
    use unicode_width::UnicodeWidthChar;
    let mut shown = String::new();
    let (mut col, mut caret_at, mut caret_width) = (0, None, 0);
    for (i, c) in line.chars().take(SHOWN_CHARS).enumerate() {
        if i == start {
            caret_at = Some(col);
        }
        let width = match c {
            '\t' => {
                let width = TAB_STOP - col % TAB_STOP;
                shown.extend(std::iter::repeat_n(' ', width));
                width
            }
            c if c.is_control() => {
                shown.push('\u{FFFD}');
                1
            }
            c => {
                shown.push(c);
                c.width().unwrap_or(0)
            }
        };
        if i >= start && i < start + len {
            caret_width += width;
        }
        col += width;
    }
    (shown, caret_at.unwrap_or(col), caret_width.max(1))
}

fn severity_style(s: Severity) -> anstyle::Style {
    match s {
        Severity::Error => crate::color::ERROR,
        Severity::Warning => crate::color::WARNING,
        Severity::Info => crate::color::INFO,
    }
}

fn render_styled(diag: &Diagnostic, file: &str, index: &LineIndex<'_>, color: bool) -> String {
    use crate::color::{EMPHASIS, GUTTER, paint};
    let mut out = String::new();
    let severity = paint(color, severity_style(diag.severity), diag.severity.as_str());
    let message = paint(color, EMPHASIS, &diag.message);
    let help = paint(color, GUTTER, "= help:");
    match diag.region {
        Some(r) => {
            let _ = writeln!(
                out,
                "{file}:{}:{}: {severity}: {message}",
                r.start.line, r.start.col,
            );
            if let Some(line) = index.line(r.start.line) {
                let number = r.start.line.to_string();
                let pad = " ".repeat(number.len());
                let start = r.start.col.saturating_sub(1);
                let len = if r.end.line == r.start.line && r.end.col > r.start.col {
                    r.end.col - r.start.col
                } else {
                    line.chars().count().saturating_sub(start).max(1)
                };
                let (shown, at, width) = snippet(line, start, len);
                let bar = paint(color, GUTTER, &format!("{pad} |"));
                let _ = writeln!(out, "{bar}");
                let _ = writeln!(
                    out,
                    "{} {shown}",
                    paint(color, GUTTER, &format!("{number} |"))
                );
                let carets = paint(color, severity_style(diag.severity), &"^".repeat(width));
                let _ = writeln!(out, "{bar} {}{carets}", " ".repeat(at));
                if let Some(hint) = &diag.hint {
                    let _ = writeln!(out, "{pad} {help} {hint}");
                }
                if let Some(note) = also_note(diag, file) {
                    let _ = writeln!(out, "{pad} {} {note}", paint(color, GUTTER, "= note:"));
                }
                return out;
            }
        }
        None => {
            let _ = writeln!(out, "{file}: {severity}: {message}");
        }
    }
    if let Some(hint) = &diag.hint {
        let _ = writeln!(out, "  {help} {hint}");
    }
    out
}

/// How many places a grouped finding stands for, and the first few.
fn also_note(diag: &Diagnostic, file: &str) -> Option<String> {
    const SHOWN: usize = 3;
    if diag.also.is_empty() {
        return None;
    }
    let places: Vec<String> = diag
        .also
        .iter()
        .take(SHOWN)
        .map(|r| format!("{file}:{}:{}", r.start.line, r.start.col))
        .collect();
    let more = diag.also.len().saturating_sub(SHOWN);
    Some(format!(
        "{} places in all; also at {}{}",
        diag.also.len() + 1,
        places.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

#[derive(Serialize)]
struct JsonPlace {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    severity: Severity,
    code: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
    path: Option<String>,
    /// How many places the finding stands for (1 unless grouped).
    count: usize,
    /// The other places of a grouped finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also: Vec<JsonPlace>,
}

pub fn to_json(diags: &[Diagnostic], file: &str) -> serde_json::Value {
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| JsonDiagnostic {
            file: d.file(file),
            line: d.region.map(|r| r.start.line),
            column: d.region.map(|r| r.start.col),
            end_line: d.region.map(|r| r.end.line),
            end_column: d.region.map(|r| r.end.col),
            severity: d.severity,
            code: d.code.unwrap_or("spec"),
            message: &d.message,
            hint: d.hint.as_deref(),
            path: d
                .path
                .as_ref()
                .map(|p| crate::yaml::node::path_to_string(p)),
            count: d.also.len() + 1,
            also: d
                .also
                .iter()
                .map(|r| JsonPlace {
                    line: r.start.line,
                    column: r.start.col,
                })
                .collect(),
        })
        .collect();
    serde_json::to_value(items).unwrap_or_default()
}

/// JUnit XML: one test case per finding (errors fail; warnings fail under
/// `--deny-warnings`, else they are reported as output; notes are output),
/// or one passing case for a clean spec.
pub fn to_junit(diags: &[Diagnostic], file: &str, deny_warnings: bool) -> String {
    to_junit_for("validate", diags, file, deny_warnings)
}

/// `to_junit` for another command (`verify` of an invalid spec reports its
/// validation failures): the suite is `stackctl COMMAND`, each case's class
/// `stackctl.COMMAND.CODE`.
pub fn to_junit_for(
    command: &str,
    diags: &[Diagnostic],
    file: &str,
    deny_warnings: bool,
) -> String {
    let esc = |t: &str| {
        t.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                '\n' => "&#10;".to_string(),
                c if (c as u32) < 0x20 && c != '\t' => "\u{FFFD}".to_string(),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let fails = |d: &Diagnostic| {
        d.severity == Severity::Error || (deny_warnings && d.severity == Severity::Warning)
    };
    let failures = diags.iter().filter(|d| fails(d)).count();
    let tests = diags.len().max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"stackctl {command}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        esc(file)
    );
    if diags.is_empty() {
        let _ = writeln!(
            out,
            "    <testcase classname=\"stackctl.{command}\" name=\"{}\"/>",
            esc(file)
        );
    }
    for d in diags {
        let place = d
            .region
            .map(|r| format!("{file}:{}:{}", r.start.line, r.start.col))
            .unwrap_or_else(|| file.to_string());
        let code = d.code.unwrap_or("spec");
        let mut body = d.message.clone();
        if let Some(hint) = &d.hint {
            body.push_str(&format!("\nhelp: {hint}"));
        }
        if let Some(note) = also_note(d, file) {
            body.push_str(&format!("\nnote: {note}"));
        }
        let _ = write!(
            out,
            "    <testcase classname=\"stackctl.{command}.{code}\" name=\"{}\">",
            esc(&format!("{place}: {}", d.message))
        );
        if fails(d) {
            let _ = write!(
                out,
                "\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    ",
                esc(&d.message),
                d.severity.as_str(),
                esc(&body)
            );
        } else {
            let _ = write!(
                out,
                "\n      <system-out>{}: {}</system-out>\n    ",
                d.severity.as_str(),
                esc(&body)
            );
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::node::parse;

    #[test]
    fn junit_has_one_case_per_finding_and_fails_errors() {
        let region = Region {
            start: Pos { line: 3, col: 7 },
            end: Pos { line: 3, col: 9 },
        };
        let diags = vec![
            Diagnostic::error("bad <x> & \"y\"")
                .with_code("promql")
                .at_region(region),
            Diagnostic::warning("w")
                .with_code("metric-unknown")
                .at_region(region),
        ];
        let xml = to_junit(&diags, "stack.yaml", false);
        assert!(
            xml.contains(
                "<testsuites name=\"stackctl validate\" tests=\"2\" failures=\"1\" errors=\"0\">"
            ),
            "{xml}"
        );
        assert!(xml.contains("<testcase classname=\"stackctl.validate.promql\" name=\"stack.yaml:3:7: bad &lt;x&gt; &amp; &quot;y&quot;\">\n      <failure message=\"bad &lt;x&gt; &amp; &quot;y&quot;\" type=\"error\">"), "{xml}");
        assert!(xml.contains("<system-out>warning: w</system-out>"), "{xml}");
        assert!(to_junit(&diags, "stack.yaml", true).contains("failures=\"2\""));
        assert!(to_junit(&[], "stack.yaml", false).contains("tests=\"1\" failures=\"0\""));
    }

    #[test]
    fn renders_snippet_with_caret_and_help() {
        let source = "prometheus:\n    scrape_intervall: 15s\n";
        let diag = Diagnostic::error("unknown field `scrape_intervall` in `prometheus`")
            .with_hint("did you mean `scrape_interval`?")
            .at_region(Region {
                start: Pos { line: 2, col: 5 },
                end: Pos { line: 2, col: 21 },
            });
        assert_eq!(
            render_text(&diag, "stack.yaml", source),
            "stack.yaml:2:5: error: unknown field `scrape_intervall` in `prometheus`\n  |\n2 |     scrape_intervall: 15s\n  |     ^^^^^^^^^^^^^^^^\n  = help: did you mean `scrape_interval`?\n"
        );
    }

    fn caret_under(source: &str, line: usize, col: usize, end: usize) -> (String, String) {
        let diag = Diagnostic::error("e").at_region(Region {
            start: Pos { line, col },
            end: Pos { line, col: end },
        });
        let text = render_text(&diag, "stack.yaml", source);
        let lines: Vec<&str> = text.lines().collect();
        (lines[2].to_string(), lines[3].to_string())
    }

    /// Terminal cells: CJK and emoji take two, a tab goes to the next stop
    /// of 4; the carets must stand under the same cells as the text.
    #[test]
    fn carets_align_by_display_width() {
        use unicode_width::UnicodeWidthStr;
        // `descripton` after CJK text on the same line (each CJK
        // character two cells): 4 + 4 + 2 + 12 + 2 = 24 cells before it.
        let (shown, carets) = caret_under("a: {名前: 監視スタック, descripton: x}\n", 1, 17, 27);
        assert_eq!(shown, "1 | a: {名前: 監視スタック, descripton: x}");
        assert_eq!(carets, format!("  | {}{}", " ".repeat(24), "^".repeat(10)));
        assert_eq!(
            UnicodeWidthStr::width(&shown[..shown.find('d').unwrap()]),
            4 + 24
        );

        // An emoji (two cells) before the mistake, and one inside it.
        // `k: "` 4 cells, 🎉 2, `" ` 2: the rocket starts at cell 8 and
        // with the `x` after it takes 3.
        let (shown, carets) = caret_under("k: \"🎉\" 🚀x\n", 1, 8, 10);
        assert_eq!(shown, "1 | k: \"🎉\" 🚀x");
        assert_eq!(carets, format!("  | {}^^^", " ".repeat(8)));

        // A tab before the key: expanded to its stop, carets follow.
        let (shown, carets) = caret_under("\tab: 1\n", 1, 2, 4);
        assert_eq!(shown, "1 |     ab: 1");
        assert_eq!(carets, "  |     ^^");
        // A control character is shown as one replacement cell.
        let (shown, carets) = caret_under("a\u{1b}[31mb: 1\n", 1, 7, 8);
        assert_eq!(shown, "1 | a\u{FFFD}[31mb: 1");
        assert_eq!(carets, "  |       ^");
    }

    #[test]
    fn colour_marks_severity_gutter_and_carets() {
        let diag = Diagnostic::warning("w").with_hint("h").at_region(Region {
            start: Pos { line: 1, col: 1 },
            end: Pos { line: 1, col: 2 },
        });
        let plain = render_all([&diag], "stack.yaml", "a: 1\n");
        assert!(!plain.contains('\u{1b}'), "{plain}");
        let coloured = render_all_styled([&diag], "stack.yaml", "a: 1\n", true);
        assert!(
            coloured.contains("\u{1b}[1m\u{1b}[33mwarning\u{1b}[0m"),
            "{coloured:?}"
        );
        // Stripped of its escapes, the coloured text is the plain text.
        let stripped = regex::Regex::new("\u{1b}\\[[0-9;]*m")
            .unwrap()
            .replace_all(&coloured, "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn resolve_falls_back_to_nearest_written_ancestor() {
        let mut problems = Vec::new();
        let root = parse("alerting:\n  route:\n    receiver: x\n", &mut problems).unwrap();
        let mut d = Diagnostic::error("e").at(path!["alerting", "route", "group_by"]);
        d.resolve(&root);
        assert_eq!(d.region.unwrap().start, Pos { line: 3, col: 5 });
        let mut d = Diagnostic::error("e").at_key(path!["alerting", "route", "receiver"]);
        d.resolve(&root);
        assert_eq!(d.region.unwrap().start, Pos { line: 3, col: 5 });
        let mut d = Diagnostic::error("e").at(path!["alerting", "route", "receiver"]);
        d.resolve(&root);
        assert_eq!(d.region.unwrap().start, Pos { line: 3, col: 15 });
    }
}
