//! `security:`: user names shell- and YAML-safe, TLS either generated or
//! given as three files, every protected component on a release that reads
//! `--web.config.file`, and `allow_unauthenticated` naming real components.
//! Exposure itself (a public port without authentication) is judged in
//! `deployment.rs`, where the other exposure findings are.

use super::Findings;
use crate::model::{Stack, catalog};
use crate::path;
use crate::plan::web_auth;

pub fn check(stack: &Stack, found: &mut Findings) {
    let Some(security) = &stack.security else {
        return;
    };
    for name in security.users.keys() {
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !safe {
            found.error_at_key(
                path!["security", "users", name],
                format!("user name `{name}` may only contain letters, digits, `_`, `.` and `-`"),
                "basic-auth user names end up in web configs and healthcheck commands; pick a plain one such as `admin`",
            );
        }
    }
    if let Some(tls) = &security.tls {
        let files = [
            ("cert_file", &tls.cert_file),
            ("key_file", &tls.key_file),
            ("ca_file", &tls.ca_file),
        ];
        let given: Vec<&str> = files
            .iter()
            .filter(|(_, f)| f.is_some())
            .map(|(k, _)| *k)
            .collect();
        if tls.generate == Some(true) && !given.is_empty() {
            found.error(
                path!["security", "tls", given[0]],
                "`tls.generate: true` and certificate files cannot be combined",
                "either let render generate a local CA (`generate: true`) or give `cert_file`, `key_file` and `ca_file`",
            );
        } else if tls.generate != Some(true) && given.len() != files.len() {
            let missing: Vec<String> = files
                .iter()
                .filter(|(_, f)| f.is_none())
                .map(|(k, _)| format!("`{k}`"))
                .collect();
            found.error(
                path!["security", "tls"],
                format!("TLS needs {} as well", missing.join(", ")),
                "give the certificate, its key and the CA that signed it (paths relative to the stack directory), or `generate: true`",
            );
        }
    }
    if web_auth::settings(stack).is_some() {
        for (kind, (a, b, c)) in web_auth::WEB_CONFIG {
            if !stack.has(kind) {
                continue;
            }
            let v = stack.version_of(kind);
            if !v.at_least(a, b, c) {
                found.error(
                    path!["components", kind.key(), "version"],
                    format!(
                        "{} {} has no `--web.config.file`, so `security:` cannot protect it",
                        kind.key(),
                        v.as_str()
                    ),
                    format!(
                        "pin {} v{a}.{b}.{c} or later (or leave `version` out for the default)",
                        kind.key()
                    ),
                );
            }
        }
    }
    let keys: Vec<&str> = catalog::ALL.iter().map(|k| k.key()).collect();
    for (i, name) in security.allow_unauthenticated.iter().enumerate() {
        if !keys.contains(&name.as_str()) {
            let hint = match crate::yaml::de::did_you_mean(name, &keys) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "name a component key, e.g. `prometheus` or `loki`".to_string(),
            };
            found.error(
                path!["security", "allow_unauthenticated", i],
                format!("unknown component `{name}`"),
                hint,
            );
        }
    }
}
