//! Reading `stack.yaml`: bytes → checked text → position tree → typed `Stack`,
//! then the whole-stack checks. Every problem found on the way is kept, with
//! its position, so the user sees all of them in one run.

use crate::check;
use crate::diag::Diagnostic;
use crate::fsutil::ReadError;
use crate::model::Stack;
use crate::yaml::node::{self, Node, Pos, Region};
use std::path::{Path, PathBuf};

/// A spec larger than this is not a stack spec; refuse before parsing (a guard
/// against hostile input, not a capacity limit). Sized for what promtool checks:
/// a 200,000-rule stack is about 65 MiB (promtool 2.42 checks its rules in
/// 1.9 GiB), so twice that is accepted. Memory is about 18× the spec's size.
pub const MAX_SPEC_BYTES: usize = 128 * 1024 * 1024;

/// Raises (or lowers) the limit for one run, in MiB: for a generated stack
/// larger than any hand-written one, on a machine with the memory for it.
pub const LIMIT_VARIABLE: &str = "STACKCTL_MAX_SPEC_MIB";

/// The spec size limit in force: `STACKCTL_MAX_SPEC_MIB` when set, else
/// `MAX_SPEC_BYTES`.
pub fn spec_limit() -> Result<usize, LoadError> {
    match std::env::var(LIMIT_VARIABLE) {
        Err(std::env::VarError::NotPresent) => Ok(MAX_SPEC_BYTES),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(mib) if mib > 0 => Ok(mib.saturating_mul(1024 * 1024)),
            _ => Err(LoadError::BadLimit { value: text }),
        },
        Err(std::env::VarError::NotUnicode(text)) => Err(LoadError::BadLimit {
            value: text.to_string_lossy().into_owned(),
        }),
    }
}

pub struct Loaded {
    /// The name used in messages, e.g. `stack.yaml` or `mon/stack.yaml`.
    pub file: String,
    pub text: String,
    /// `None` when the text could not be parsed as YAML at all.
    pub tree: Option<Node>,
    /// `None` when nothing usable was left; present (possibly partial) otherwise.
    pub stack: Option<Stack>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.stack.is_none() || self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Warning)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no stack spec at `{}`", path.display())]
    Missing { path: PathBuf },
    /// Not a regular file, or an I/O error: the message names the path.
    #[error("cannot read the stack spec: {0}")]
    Unreadable(ReadError),
    #[error(
        "`STACKCTL_MAX_SPEC_MIB` must be a whole number of MiB above 0, not `{value}`\n  = help: unset it for the default of 128 MiB"
    )]
    BadLimit { value: String },
}

/// Reads and checks the spec at `path`; `dir` is where its relative paths
/// (secret files, dashboard files) are resolved. Only a regular file is read
/// (a FIFO or a device is refused at once), and never more than
/// `spec_limit() + 1` bytes of it.
pub fn load_file(path: &Path, file: &str) -> Result<Loaded, LoadError> {
    let limit = spec_limit()?;
    match crate::fsutil::read_regular(path, limit as u64) {
        Ok(bytes) => Ok(load_bytes_within(file, &bytes, limit)),
        Err(ReadError::NotFound { .. }) => Err(LoadError::Missing {
            path: path.to_path_buf(),
        }),
        Err(ReadError::TooLarge { .. }) => Ok(oversized(file, limit)),
        Err(e) => Err(LoadError::Unreadable(e)),
    }
}

/// The spec is too large to be one: reported at the file, with no position
/// (there is no line to point at).
fn oversized(file: &str, limit: usize) -> Loaded {
    Loaded {
        file: file.to_string(),
        text: String::new(),
        tree: None,
        stack: None,
        diagnostics: vec![
            Diagnostic::error(format!(
                "the spec is larger than {} MiB",
                limit / (1024 * 1024)
            ))
            .with_hint(
                "a stack spec is a few hundred lines (200,000 rules fit in 128 MiB); is this the right file? If it is, raise the limit with `STACKCTL_MAX_SPEC_MIB`",
            ),
        ],
    }
}

pub fn load_bytes(file: &str, bytes: &[u8]) -> Loaded {
    load_bytes_within(file, bytes, MAX_SPEC_BYTES)
}

/// `load_bytes` with a size limit of `limit` bytes.
pub fn load_bytes_within(file: &str, bytes: &[u8], limit: usize) -> Loaded {
    let fail = |text: String, diag: Diagnostic| Loaded {
        file: file.to_string(),
        text,
        tree: None,
        stack: None,
        diagnostics: vec![diag],
    };
    if bytes.len() > limit {
        return oversized(file, limit);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let pos = Pos { line, col };
            return fail(
                String::from_utf8_lossy(bytes).into_owned(),
                Diagnostic::error("the spec is not valid UTF-8")
                    .with_hint("save the file as UTF-8")
                    .at_region(Region {
                        start: pos,
                        end: Pos { line, col: col + 1 },
                    }),
            );
        }
    };
    load_text(file, text)
}

pub fn load_text(file: &str, text: String) -> Loaded {
    let mut tree_problems = Vec::new();
    // Rule expressions are analysed on the other cores while the YAML is read.
    let prefetch = check::prefetch::Prefetch::start(check::promql::parse_raw);
    let tree = match node::parse_watching(&text, &mut tree_problems, &|expr| prefetch.submit(expr))
    {
        Ok(tree) => tree,
        Err(problem) => {
            let mut diag = Diagnostic::error(problem.message).at_region(problem.region);
            if let Some(hint) = problem.hint {
                diag = diag.with_hint(hint);
            }
            return Loaded {
                file: file.to_string(),
                text,
                tree: None,
                stack: None,
                diagnostics: vec![diag],
            };
        }
    };
    let mut diagnostics: Vec<Diagnostic> = tree_problems
        .into_iter()
        .map(|p| {
            let mut d = Diagnostic::error(p.message).at_region(p.region);
            if let Some(hint) = p.hint {
                d = d.with_hint(hint);
            }
            d
        })
        .collect();
    let crate::yaml::de::Loaded {
        value: stack,
        problems,
        tree,
        removed,
    } = crate::yaml::de::load::<Stack>(tree);
    diagnostics.extend(problems);
    let mut stack = stack;
    if let Some(stack) = &mut stack {
        // SLOs are checked as written, then expanded into the rule files and
        // dashboards they generate, which every later check reads.
        let (slo_found, failed) = crate::slo::check::check(stack);
        let expansion = crate::slo::expand(stack, &failed);
        let stack = &*stack;
        let mut found = check::stack_with(stack, &mut prefetch.finish());
        expansion.relocate(&mut found);
        found.extend(slo_found);
        // A node removed for a type error leaves a gap the model checks would
        // report again ("no targets" after a mistyped `targets`): drop those.
        let removed = Removed::new(&removed);
        found.retain(|d| !d.path.as_ref().is_some_and(|p| removed.near(p)));
        let index = node::LineIndex::new(&text);
        for d in &mut found {
            d.resolve_in(&tree, &index);
        }
        diagnostics.extend(found);
    }
    crate::diag::sort(&mut diagnostics);
    Loaded {
        file: file.to_string(),
        text,
        tree: Some(tree),
        stack,
        diagnostics,
    }
}

/// The nodes `de::load` removed, as sets of paths and of their parents, so that
/// asking about one finding costs the depth of its path, not the number of
/// removed nodes (which grows with the number of errors).
struct Removed<'a> {
    nodes: std::collections::HashSet<&'a [crate::yaml::node::Seg]>,
    parents: std::collections::HashSet<&'a [crate::yaml::node::Seg]>,
}

impl<'a> Removed<'a> {
    fn new(removed: &'a [crate::yaml::node::Path]) -> Self {
        Removed {
            nodes: removed.iter().map(Vec::as_slice).collect(),
            parents: removed
                .iter()
                .filter_map(|p| p.split_last().map(|(_, parent)| parent))
                .collect(),
        }
    }

    /// True when `path` is a removed node, inside one, or its direct parent.
    fn near(&self, path: &[crate::yaml::node::Seg]) -> bool {
        !self.nodes.is_empty()
            && (self.parents.contains(path)
                || (0..=path.len()).any(|n| self.nodes.contains(&path[..n])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_is_located() {
        let loaded = load_bytes("stack.yaml", b"stackctl: 1\nname: \xff\n");
        assert!(loaded.has_errors());
        let d = &loaded.diagnostics[0];
        assert_eq!(d.message, "the spec is not valid UTF-8");
        assert_eq!(d.region.unwrap().start, Pos { line: 2, col: 7 });
    }

    #[test]
    fn oversized_is_refused_before_parsing() {
        let big = vec![b'#'; MAX_SPEC_BYTES + 1];
        let loaded = load_bytes("stack.yaml", &big);
        assert!(loaded.diagnostics[0].message.contains("larger than"));
        assert_eq!(loaded.diagnostics[0].region, None);
    }

    #[test]
    fn syntax_error_has_position() {
        let loaded = load_bytes("stack.yaml", b"a: [1, 2\nb: 3\n");
        assert!(loaded.has_errors());
        assert!(loaded.diagnostics[0].message.starts_with("invalid YAML"));
        assert!(loaded.diagnostics[0].region.is_some());
    }
}
