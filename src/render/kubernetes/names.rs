//! Kubernetes names and labels: what the API server accepts, and how spec
//! names (`pynomaly.rules`, `api_latency`) are turned into it.
//!
//! Object names are kept to DNS-1123 *labels* (lowercase alphanumerics and
//! `-`, at most 63 characters) even where a subdomain would do: the same name
//! often ends up as a label value or inside a generated name.

use crate::diag::Diagnostic;
use crate::yaml::node::{Path, path_to_string};
use std::collections::BTreeMap;

pub const MAX_LABEL: usize = 63;

/// A DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LABEL
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A label value: empty, or `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= MAX_LABEL
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name part of
/// at most 63 characters (`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`).
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let prefix_ok =
        prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(is_dns_label));
    prefix_ok && !name.is_empty() && is_label_value(name)
}

/// The nearest DNS-1123 label: lowercased, every other character (and runs of
/// them) a single `-`, trimmed, cut to 63 characters.
pub fn dns_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    out.truncate(MAX_LABEL);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "x".to_string() } else { out }
}

/// The nearest valid label value (`_` and `.` are allowed there).
pub fn label_value(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    out.truncate(MAX_LABEL);
    out.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// `stack-name` + `-` + `name`, unless `name` already starts with the stack's
/// name: `pynomaly` + `api` → `pynomaly-api`, `pynomaly` + `pynomaly-api` → `pynomaly-api`.
pub fn prefixed(stack: &str, name: &str) -> String {
    let stack = dns_label(stack);
    let name = dns_label(name);
    if name == stack || name.starts_with(&format!("{stack}-")) {
        name
    } else {
        dns_label(&format!("{stack}-{name}"))
    }
}

/// Hands out object names per kind and reports two spec entries that sanitise
/// to the same name; the later one gets a numeric suffix so nothing is lost.
#[derive(Default)]
pub struct Namer {
    taken: BTreeMap<(String, String), String>,
}

impl Namer {
    /// `source` is what the name was made from, `at` where it is in the spec.
    pub fn claim(
        &mut self,
        kind: &str,
        wanted: String,
        source: &str,
        at: Path,
        findings: &mut Vec<Diagnostic>,
    ) -> String {
        let key = (kind.to_string(), wanted.clone());
        let Some(first) = self.taken.get(&key).cloned() else {
            self.taken.insert(key, source.to_string());
            return wanted;
        };
        let mut n = 2;
        let name = loop {
            let suffix = format!("-{n}");
            let mut base = wanted.clone();
            base.truncate(MAX_LABEL - suffix.len());
            let candidate = format!("{}{suffix}", base.trim_end_matches('-'));
            if !self
                .taken
                .contains_key(&(kind.to_string(), candidate.clone()))
            {
                break candidate;
            }
            n += 1;
        };
        findings.push(
            Diagnostic::warning(format!(
                "`{source}` and `{first}` both become the {kind} name `{wanted}` in Kubernetes; this one is named `{name}`"
            ))
            .with_hint(format!(
                "Kubernetes names are lowercase letters, digits and `-` (at most 63); rename one of them ({})",
                path_to_string(&at)
            ))
            .at(at),
        );
        self.taken
            .insert((kind.to_string(), name.clone()), source.to_string());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path;

    #[test]
    fn sanitises_to_dns_labels() {
        for (input, expected) in [
            ("pynomaly.rules", "pynomaly-rules"),
            ("API_Latency", "api-latency"),
            ("--a..b--", "a-b"),
            ("node.alerts", "node-alerts"),
            ("ünïcode", "n-code"),
            ("...", "x"),
        ] {
            assert_eq!(dns_label(input), expected, "{input}");
            assert!(is_dns_label(&dns_label(input)));
        }
        let long = "a".repeat(70) + "-b";
        assert_eq!(dns_label(&long).len(), 63);
        let cut = format!("{}-{}", "a".repeat(62), "b");
        assert_eq!(
            dns_label(&cut),
            "a".repeat(62),
            "no trailing `-` after the cut"
        );
    }

    #[test]
    fn label_rules() {
        assert!(is_label_value("kube-prometheus-stack"));
        assert!(is_label_value("my_stack.v1"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
        assert!(!is_label_value(&"a".repeat(64)));
        assert_eq!(label_value("my stack!"), "my-stack");
        assert!(is_label_key("app.kubernetes.io/name"));
        assert!(is_label_key("grafana_dashboard"));
        assert!(!is_label_key("Bad.Prefix/name"));
        assert!(!is_label_key("app/"));
        assert!(!is_dns_label("Upper"));
        assert!(!is_dns_label("a_b"));
    }

    #[test]
    fn prefixes_with_the_stack_once() {
        assert_eq!(prefixed("pynomaly", "api"), "pynomaly-api");
        assert_eq!(prefixed("pynomaly", "pynomaly-api"), "pynomaly-api");
        assert_eq!(prefixed("pynomaly", "pynomaly"), "pynomaly");
        assert_eq!(prefixed("my_stack", "alert_rules"), "my-stack-alert-rules");
    }

    #[test]
    fn collisions_are_reported_and_renamed() {
        let mut namer = Namer::default();
        let mut findings = Vec::new();
        let a = namer.claim(
            "PrometheusRule",
            "s-a-b".into(),
            "a.b",
            path!["rules", "a.b"],
            &mut findings,
        );
        let b = namer.claim(
            "PrometheusRule",
            "s-a-b".into(),
            "a_b",
            path!["rules", "a_b"],
            &mut findings,
        );
        let other_kind = namer.claim(
            "ConfigMap",
            "s-a-b".into(),
            "x",
            path!["dashboards", 0],
            &mut findings,
        );
        assert_eq!(
            (a.as_str(), b.as_str(), other_kind.as_str()),
            ("s-a-b", "s-a-b-2", "s-a-b")
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].message,
            "`a_b` and `a.b` both become the PrometheusRule name `s-a-b` in Kubernetes; this one is named `s-a-b-2`"
        );
    }
}
