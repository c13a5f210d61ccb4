//! Checks that read the stack directory: secret files exist (and whether they
//! are empty), dashboard JSON files exist, parse, and pass `dashboard_file`.
//!
//! A credential the user fills in (a notifier's password or URL, an
//! exporter's or remote write's password) is empty right after `init` and
//! missing in a CI clone without `secrets/`. That is not a mistake in the
//! spec, so `validate` and `render` report it as a note; it matters when the
//! stack runs, where `up` warns (once per receiver, once per other secret)
//! and `verify` fails "cannot deliver". `up --strict-credentials` makes each
//! an error. A generated secret emptied by hand is a warning everywhere: it
//! would start Grafana or Elasticsearch with an empty password.

use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::path;
use std::path::Path;

pub use crate::resolve::secret_file;

/// `strict`: an empty or missing credential in use is an error (for
/// `up --strict-credentials`), else a note.
pub fn check(stack: &Stack, dir: &Path, strict: bool) -> Vec<Diagnostic> {
    let unfilled: fn(String) -> Diagnostic = if strict {
        Diagnostic::error
    } else {
        Diagnostic::info
    };
    let mut out = Vec::new();
    let used: std::collections::BTreeSet<String> = super::secrets::references(stack)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for name in stack.secrets.keys() {
        let rel = secret_file(stack, name);
        let file = dir.join(&rel);
        let generated = stack
            .secrets
            .get(name)
            .is_some_and(|s| s.generate == Some(true));
        let read = crate::fsutil::read_regular(&file, crate::fsutil::MAX_SECRET_BYTES);
        if let Some(d) = super::inputs::secret_value(name, &rel, &read) {
            out.push(d.at_key(path!["secrets", name]));
            continue;
        }
        match read.map_err(|e| e.is_not_found()) {
            Err(true) if generated => out.push(
                Diagnostic::info(format!("secret `{name}`: file `{rel}` does not exist yet"))
                    .with_hint("`stackctl render` generates a random value into it")
                    .with_code("secret-file")
                    .at_key(path!["secrets", name]),
            ),
            Err(true) if !used.contains(name) => out.push(
                Diagnostic::info(format!(
                    "secret `{name}` is not used, and `{rel}` does not exist"
                ))
                .with_hint("remove it from `secrets:`, or refer to it where it is needed")
                .with_code("secret-file")
                .at_key(path!["secrets", name]),
            ),
            Err(true) => {
                out.push(
                    unfilled(format!("secret `{name}`: file `{rel}` does not exist"))
                        .with_hint(format!(
                            "put the value in `{rel}` before `stackctl up`; `stackctl render` creates it empty, and what uses it fails until it is filled"
                        ))
                        .with_code("secret-file")
                        .at_key(path!["secrets", name]),
                )
            }
            Ok(value) if value.is_empty() && used.contains(name) => {
                let (d, hint): (fn(String) -> Diagnostic, _) = if generated {
                    (
                        if strict {
                            Diagnostic::error
                        } else {
                            Diagnostic::warning
                        },
                        "delete the empty file and `stackctl render` generates a new value",
                    )
                } else {
                    (
                        unfilled,
                        "put the credential in the file before `stackctl up`; whatever uses it fails until then",
                    )
                };
                out.push(
                    d(format!("secret `{name}` is empty (`{rel}`)"))
                        .with_hint(hint)
                        .with_code("secret-file")
                        .at_key(path!["secrets", name]),
                );
            }
            Ok(_) | Err(false) => {}
        }
    }
    for (i, dash) in stack.dashboards.iter().enumerate() {
        if let Some(rel) = &dash.file {
            match crate::fsutil::read_regular_text(
                &dir.join(rel),
                crate::fsutil::MAX_DASHBOARD_BYTES,
            ) {
                Err(e) => out.push(
                    Diagnostic::error(format!("cannot read dashboard file `{rel}`: {e}"))
                        .with_code("dashboard-file")
                        .at(path!["dashboards", i, "file"]),
                ),
                Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Err(e) => out.push(
                        Diagnostic::error(format!("dashboard file `{rel}` is not valid JSON: {e}"))
                            .with_code("dashboard-file")
                            .at(path!["dashboards", i, "file"]),
                    ),
                    Ok(_) => out.extend(super::dashboard_file::check(
                        stack,
                        i,
                        &shown_name(dir, rel),
                        &text,
                    )),
                },
            }
        }
    }
    out.extend(super::tls_files::check(stack, dir));
    out
}

/// The secrets in use that the user fills in (not generated) whose file is
/// missing or empty, as (name, file relative to the stack directory).
pub fn unfilled(stack: &Stack, dir: &Path) -> Vec<(String, String)> {
    let used: std::collections::BTreeSet<String> = super::secrets::references(stack)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    stack
        .secrets
        .iter()
        .filter(|(name, s)| used.contains(*name) && s.generate != Some(true))
        .filter_map(|(name, _)| {
            let rel = secret_file(stack, name);
            let empty =
                crate::fsutil::read_regular(&dir.join(&rel), crate::fsutil::MAX_SECRET_BYTES)
                    .map(|v| v.iter().all(u8::is_ascii_whitespace))
                    .unwrap_or(true);
            empty.then(|| (name.clone(), rel))
        })
        .collect()
}

/// A file of the stack directory as messages name it: relative to the working
/// directory, like the spec (`stack.yaml`, `mon/stack.yaml`).
fn shown_name(dir: &Path, rel: &str) -> String {
    if dir == Path::new(".") || dir.as_os_str().is_empty() {
        rel.to_string()
    } else {
        dir.join(rel).display().to_string()
    }
}
