//! PromQL in the stack: every rule expression, dashboard query and dashboard
//! variable query is parsed once with `promql-parser` (the only place that crate
//! is used), in parallel, and reduced to `Facts` that the other checks read.
//!
//! The crate decides validity; `locate` explains a failure with a position.

mod facts;
pub mod grafana;
mod lexer;
mod locate;

pub use facts::{Facts, LabelsOut};

use crate::model::Stack;
use crate::model::stack::DatasourceKind;
use promql_parser::label::MatchOp;
use promql_parser::parser::{Function, value::ValueType};

/// A parse failure: the parser's message and where in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlError {
    /// Character offset in the expression as written.
    pub offset: usize,
    pub message: String,
}

/// Parses `expr` and extracts its facts.
pub fn analyse(expr: &str) -> Result<Facts, PromqlError> {
    register_legacy_functions();
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
/// Cached per thread.
fn plain_regex(quoted: &str) -> Option<(String, MatchOp)> {
    use promql_parser::parser::Expr;
    type Judged = Option<(String, MatchOp)>;
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<String, Judged>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(known) = SEEN.with(|s| s.borrow().get(quoted).cloned()) {
        return known;
    }
    let judged = (|| {
        // Compiles (as the parser compiles it)…
        let Ok(Expr::VectorSelector(vs)) =
            promql_parser::parser::parse(&format!("x{{a=~{quoted}}}"))
        else {
            return None;
        };
        // …and a selector of only this matcher is not rejected for matching everything.
        promql_parser::parser::parse(&format!("{{a=~{quoted}}}")).ok()?;
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "a")
            .map(|m| (m.value.clone(), m.op.clone()))
    })();
    SEEN.with(|s| s.borrow_mut().insert(quoted.to_string(), judged.clone()));
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

/// Spellings Prometheus 2 rejects although the parser (following Prometheus 3)
/// accepts them: a quoted metric or label name (UTF-8 names) and a range or
/// offset written as a plain number of seconds. (offset, what).
pub fn prometheus3_spellings(expr: &str) -> Vec<(usize, &'static str)> {
    use lexer::Tok;
    let Ok(tokens) = lexer::lex(expr) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut in_braces = false;
    let mut in_brackets = false;
    for (i, t) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        match t.kind {
            Tok::LBrace => in_braces = true,
            Tok::RBrace => in_braces = false,
            Tok::LBracket => in_brackets = true,
            Tok::RBracket => in_brackets = false,
            Tok::Str
                if in_braces
                    && prev.is_some_and(|p| matches!(p.kind, Tok::LBrace | Tok::Comma))
                    && next.is_some_and(|n| {
                        matches!(
                            n.kind,
                            Tok::Assign | Tok::RegexOp | Tok::Comma | Tok::RBrace
                        ) || (n.kind == Tok::Op && n.text == "!=")
                    }) =>
            {
                out.push((t.start, "a quoted metric or label name"));
            }
            Tok::Number
                if (in_brackets
                    && prev.is_some_and(|p| matches!(p.kind, Tok::LBracket | Tok::Colon)))
                    || prev.is_some_and(|p| p.kind == Tok::Ident && p.text == "offset") =>
            {
                out.push((t.start, "a duration written as a plain number"));
            }
            _ => {}
        }
    }
    out
}

/// Where an expression is in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site<'a> {
    Rule {
        file: &'a str,
        group: usize,
        rule: usize,
    },
    Query {
        dashboard: usize,
        row: usize,
        panel: usize,
        query: usize,
    },
    Variable {
        dashboard: usize,
        variable: usize,
    },
}

impl Site<'_> {
    /// The text of the scalar at `path` (for a variable, its whole query).
    pub fn text<'s>(&self, stack: &'s Stack) -> Option<&'s str> {
        match *self {
            Site::Rule { file, group, rule } => {
                Some(&stack.rules.get(file)?.get(group)?.rules.get(rule)?.expr)
            }
            Site::Query {
                dashboard,
                row,
                panel,
                query,
            } => Some(
                &stack
                    .dashboards
                    .get(dashboard)?
                    .rows
                    .get(row)?
                    .panels
                    .get(panel)?
                    .queries
                    .get(query)?
                    .expr,
            ),
            Site::Variable {
                dashboard,
                variable,
            } => Some(
                &stack
                    .dashboards
                    .get(dashboard)?
                    .variables
                    .get(variable)?
                    .query,
            ),
        }
    }

    /// Character offset of the first occurrence of `needle` in the text.
    pub fn offset_of(&self, stack: &Stack, needle: &str) -> usize {
        self.text(stack)
            .and_then(|t| find_chars(t, needle))
            .unwrap_or(0)
    }

    /// The model path of the expression's scalar.
    pub fn path(&self) -> crate::yaml::node::Path {
        match *self {
            Site::Rule { file, group, rule } => {
                crate::path!["rules", file, group, "rules", rule, "expr"]
            }
            Site::Query {
                dashboard,
                row,
                panel,
                query,
            } => {
                crate::path![
                    "dashboards",
                    dashboard,
                    "rows",
                    row,
                    "panels",
                    panel,
                    "queries",
                    query,
                    "expr"
                ]
            }
            Site::Variable {
                dashboard,
                variable,
            } => crate::path!["dashboards", dashboard, "variables", variable, "query"],
        }
    }
}

/// One analysed expression.
#[derive(Debug)]
pub struct Entry<'a> {
    pub site: Site<'a>,
    /// The PromQL text analysed (variables substituted, for dashboards).
    pub result: Result<Facts, PromqlError>,
    /// Offset of the PromQL inside the spec's scalar (a variable's `label_values(`).
    pub base: usize,
}

/// Every PromQL expression of the stack, analysed.
pub struct Index<'a> {
    pub entries: Vec<Entry<'a>>,
}

struct Job<'a> {
    site: Site<'a>,
    text: &'a str,
    base: usize,
    grafana: bool,
}

impl<'a> Index<'a> {
    pub fn build(stack: &'a Stack) -> Index<'a> {
        let mut jobs: Vec<Job<'a>> = Vec::new();
        for (file, groups) in &stack.rules {
            for (g, group) in groups.iter().enumerate() {
                for (r, rule) in group.rules.iter().enumerate() {
                    if !rule.expr.trim().is_empty() {
                        jobs.push(Job {
                            site: Site::Rule {
                                file,
                                group: g,
                                rule: r,
                            },
                            text: &rule.expr,
                            base: 0,
                            grafana: false,
                        });
                    }
                }
            }
        }
        let kinds = datasource_kinds(stack);
        let is_promql = |uid: Option<&String>| match uid {
            None => true,
            Some(uid) => kinds
                .iter()
                .any(|(u, k)| u == uid && *k == DatasourceKind::Prometheus),
        };
        for (d, dash) in stack.dashboards.iter().enumerate() {
            for (r, row) in dash.rows.iter().enumerate() {
                for (p, panel) in row.panels.iter().enumerate() {
                    if !is_promql(panel.datasource.as_ref()) {
                        // LogQL, Lucene or trace queries: not PromQL.
                        continue;
                    }
                    for (q, query) in panel.queries.iter().enumerate() {
                        if !query.expr.trim().is_empty() {
                            jobs.push(Job {
                                site: Site::Query {
                                    dashboard: d,
                                    row: r,
                                    panel: p,
                                    query: q,
                                },
                                text: &query.expr,
                                base: 0,
                                grafana: true,
                            });
                        }
                    }
                }
            }
            for (v, var) in dash.variables.iter().enumerate() {
                if !is_promql(var.datasource.as_ref()) {
                    continue;
                }
                if let Some((base, text)) = variable_promql(&var.query) {
                    jobs.push(Job {
                        site: Site::Variable {
                            dashboard: d,
                            variable: v,
                        },
                        text,
                        base,
                        grafana: true,
                    });
                }
            }
        }
        let results = run_parallel(&jobs);
        let entries = jobs
            .into_iter()
            .zip(results)
            .map(|(job, result)| Entry {
                site: job.site,
                result,
                base: job.base,
            })
            .collect();
        Index { entries }
    }

    pub fn rules(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries
            .iter()
            .filter(|e| matches!(e.site, Site::Rule { .. }))
    }

    /// The facts of one rule's expression, when it parsed.
    pub fn rule_facts(&self) -> std::collections::HashMap<(&'a str, usize, usize), &Facts> {
        self.entries
            .iter()
            .filter_map(|e| match (e.site, &e.result) {
                (Site::Rule { file, group, rule }, Ok(f)) => Some(((file, group, rule), f)),
                _ => None,
            })
            .collect()
    }
}

fn analyse_job(job: &Job<'_>) -> Result<Facts, PromqlError> {
    if !job.grafana {
        return analyse(job.text);
    }
    let substituted = grafana::substitute(job.text);
    analyse(&substituted.text).map_err(|mut e| {
        e.offset = substituted.original_offset(e.offset);
        e
    })
}

/// Parsing dominates validation time on large stacks; it is spread over the
/// machine's cores, keeping results in input order.
fn run_parallel(jobs: &[Job<'_>]) -> Vec<Result<Facts, PromqlError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || jobs.len() < 256 {
        return jobs.iter().map(analyse_job).collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(analyse_job).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

fn datasource_kinds(stack: &Stack) -> Vec<(String, DatasourceKind)> {
    super::dashboards::effective_datasources(stack)
        .into_iter()
        .map(|d| (d.uid, d.kind))
        .collect()
}

/// The PromQL inside a Grafana variable query: `label_values(EXPR, label)` and
/// `query_result(EXPR)`; (offset in the query, text).
pub fn variable_promql(query: &str) -> Option<(usize, &str)> {
    let trimmed = query.trim_start();
    let lead = query.len() - trimmed.len();
    for func in ["label_values(", "query_result("] {
        let Some(rest) = trimmed.strip_prefix(func) else {
            continue;
        };
        let inner = rest.trim_end().strip_suffix(')')?;
        let inner = if func == "label_values(" {
            // The last top-level comma separates the label; with one argument there is no PromQL.
            let mut depth = 0i32;
            let mut split = None;
            let mut quote: Option<char> = None;
            for (i, c) in inner.char_indices() {
                match (quote, c) {
                    (Some(q), _) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'' | '`') => quote = Some(c),
                    (None, '(' | '{' | '[') => depth += 1,
                    (None, ')' | '}' | ']') => depth -= 1,
                    (None, ',') if depth == 0 => split = Some(i),
                    _ => {}
                }
            }
            &inner[..split?]
        } else {
            inner
        };
        let offset = query[..lead + func.len()].chars().count();
        return Some((offset, inner));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn prometheus3_only_spellings() {
        assert_eq!(
            prometheus3_spellings("{\"my.metric\", a=\"b\"}"),
            vec![(1, "a quoted metric or label name")]
        );
        assert_eq!(
            prometheus3_spellings("rate(x[300]) offset 60"),
            vec![
                (7, "a duration written as a plain number"),
                (20, "a duration written as a plain number")
            ]
        );
        assert!(prometheus3_spellings("x{a=\"b\"}[5m:1m]").is_empty());
    }

    #[test]
    fn variable_queries() {
        assert_eq!(
            variable_promql("label_values(up{job=\"a,b\"}, instance)"),
            Some((13, "up{job=\"a,b\"}"))
        );
        assert_eq!(variable_promql("label_values(job)"), None);
        assert_eq!(
            variable_promql("query_result(topk(5, x))"),
            Some((13, "topk(5, x)"))
        );
        assert_eq!(variable_promql("metrics(node_.*)"), None);
    }
}
