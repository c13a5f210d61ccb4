//! The spec version and the project name.

use super::Findings;
use crate::model::Stack;
use crate::model::stack::SPEC_VERSION;
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    if stack.stackctl != SPEC_VERSION {
        found.error(
            path!["stackctl"],
            format!("unsupported spec version {}", stack.stackctl),
            format!("this stackctl reads `stackctl: {SPEC_VERSION}`"),
        );
    }
    if !is_project_name(&stack.name) {
        found.error(
            path!["name"],
            format!("invalid stack name `{}`", stack.name),
            "use lowercase letters, digits, `-` and `_`, starting with a letter or digit (it names the Compose project)",
        );
    }
}

/// Compose project names: `[a-z0-9][a-z0-9_-]*`.
pub fn is_project_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 63
}

/// Metric names, including recording-rule names with colons.
pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Names that end up as file names (rule files, secrets, dashboards).
pub fn is_file_stem(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_project_name("pynomaly"));
        assert!(is_project_name("my-stack_2"));
        assert!(!is_project_name("My Stack"));
        assert!(!is_project_name("-x"));
        assert!(is_metric_name("pynomaly:api_request_rate_5m"));
        assert!(!is_metric_name("5xx_rate"));
        assert!(is_file_stem("alert_rules"));
        assert!(!is_file_stem("../etc"));
        assert!(!is_file_stem(".hidden"));
    }
}
