//! Credentials written inline in the spec, where they would be copied into
//! rendered files (and into `docker inspect`, `ps` and CI logs) instead of
//! being read from a secret file.
//!
//! The check walks every string of the spec rather than a list of fields, so
//! each place a credential can hide is covered, including fields added
//! later: URL userinfo (`https://user:pass@host`) and token-looking query
//! parameters in any URL (remote_write, webhooks, datasources, probe and
//! scrape targets, exporter addresses and scrape URIs), DSNs
//! (`postgresql://u:p@h`, `password=…` key/value strings), environment
//! variables named like a secret, `--password=…`-style `extra_args` and
//! scrape `params` named like a token. Each is a warning with the position
//! and the secret-file way of saying the same thing.

use super::Findings;
use crate::yaml::node::{Path, Seg};
use serde_json::Value;

/// Query parameter and `key=value` names that carry a credential.
const TOKEN_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth_token",
    "api_token",
    "apikey",
    "api_key",
    "key",
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "client_secret",
    "signature",
    "sig",
];

/// Parts of an environment variable or flag name that say it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "KEY",
    "CREDENTIAL",
    "APIKEY",
];

/// `serialised` is the stack as `serde_json::to_value` gives it.
pub fn check(serialised: Option<&Value>, found: &mut Findings) {
    if let Some(value) = serialised {
        let mut path = Vec::new();
        walk(value, &mut path, found);
    }
}

pub(super) fn walk(value: &Value, path: &mut Path, found: &mut Findings) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Seg::Key(key.clone()));
                walk(child, path, found);
                path.pop();
            }
        }
        Value::Array(items) => {
            let mut previous: Option<&str> = None;
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                match item {
                    Value::String(s) if in_extra_args(path) => {
                        if let Some(flag) =
                            previous.filter(|p| secret_flag(p) && !s.starts_with('-'))
                        {
                            warn(found, path, &format!("the value of `{flag}`"), Place::Flag);
                        } else {
                            string(s, path, found);
                        }
                        previous = Some(s);
                    }
                    _ => walk(item, path, found),
                }
                path.pop();
            }
        }
        Value::String(s) => string(s, path, found),
        _ => {}
    }
}

/// Where a credential was found, for the hint.
#[derive(Clone, Copy)]
enum Place {
    Userinfo,
    Query,
    KeyValue,
    Environment,
    Flag,
    Param,
}

fn string(s: &str, path: &Path, found: &mut Findings) {
    if s.is_empty() {
        return;
    }
    if let Some(name) = environment_name(path) {
        let upper = name.to_ascii_uppercase();
        // `X_PASSWORD_FILE: /run/secrets/x` is the right way to pass one.
        if !upper.ends_with("_FILE")
            && !s.starts_with('/')
            && SECRET_WORDS.iter().any(|w| upper.contains(w))
        {
            warn(
                found,
                path,
                &format!("the environment variable `{name}`"),
                Place::Environment,
            );
            return;
        }
    }
    if let Some(param) = scrape_param_name(path) {
        if TOKEN_PARAMS.contains(&param.to_ascii_lowercase().as_str()) {
            warn(
                found,
                path,
                &format!("the parameter `{param}`"),
                Place::Param,
            );
            return;
        }
    }
    if in_extra_args(path) {
        if let Some((flag, value)) = s.split_once('=') {
            if secret_flag(flag) && !value.is_empty() {
                warn(found, path, &format!("the flag `{flag}`"), Place::Flag);
                return;
            }
        }
    }
    if let Some(user) = userinfo_password(s) {
        warn(
            found,
            path,
            &format!("the URL's password for `{user}`"),
            Place::Userinfo,
        );
    } else if let Some(name) = query_token(s) {
        warn(
            found,
            path,
            &format!("the URL's `{name}=` parameter"),
            Place::Query,
        );
    } else if let Some(name) = key_value_secret(s) {
        warn(found, path, &format!("`{name}=`"), Place::KeyValue);
    }
}

fn warn(found: &mut Findings, path: &Path, what: &str, place: Place) {
    let field = path_field(path);
    let hint = match (place, field.as_str()) {
        (Place::Userinfo | Place::Query, "remote_write.url") => {
            "use `basic_auth: {username: …, password_secret: NAME}` or `bearer_token_secret: NAME` and a URL without credentials"
        }
        (Place::Userinfo | Place::Query, f) if f.contains("webhook") => {
            "use `url_secret: NAME`: Alertmanager reads the whole URL from the secret file"
        }
        (Place::Userinfo | Place::Query, f) if f.starts_with("datasources") => {
            "give Grafana a URL without credentials (an authenticating proxy in front of the datasource, or its own access control)"
        }
        (_, f) if f.starts_with("components.redis_exporter") => {
            "use `redis_exporter.password_secret: NAME` and an address without a password"
        }
        (_, f) if f.starts_with("components.postgres_exporter") => {
            "use `postgres_exporter.user` and `password_secret: NAME`"
        }
        (_, f) if f.starts_with("scrape_jobs") || f.starts_with("probes") => {
            "use the job's `basic_auth: {username, password_secret}` or `bearer_token_secret: NAME`"
        }
        (Place::Environment, _) => {
            "declare it under `secrets:` and pass a file instead: most images read `NAME_FILE` (e.g. `DATA_SOURCE_PASS_FILE`) from `/run/secrets/SECRET`"
        }
        (Place::Flag, _) => {
            "use the program's file flag (e.g. `--redis.password-file`, `--web.config.file`) with the value in a secret file"
        }
        _ => "keep the value in a file under `secrets/` and reference it with a `*_secret` field",
    };
    found.warning(
        path.clone(),
        format!(
            "{what} is a credential written inline; it would be copied into the rendered files"
        ),
        hint,
    );
}

/// The path with list indexes left out: `remote_write.url`.
fn path_field(path: &Path) -> String {
    path.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn environment_name(path: &Path) -> Option<&str> {
    match &path[..] {
        [.., Seg::Key(env), Seg::Key(name)] if env == "environment" => Some(name),
        _ => None,
    }
}

fn scrape_param_name(path: &Path) -> Option<&str> {
    match &path[..] {
        [
            Seg::Key(jobs),
            Seg::Index(_),
            Seg::Key(params),
            Seg::Key(name),
            ..,
        ] if jobs == "scrape_jobs" && params == "params" => Some(name),
        _ => None,
    }
}

fn in_extra_args(path: &Path) -> bool {
    matches!(&path[..], [.., Seg::Key(k), Seg::Index(_)] if k == "extra_args")
}

/// `--redis.password`, `-token`, `--api-key`, but not `--password-file`.
fn secret_flag(flag: &str) -> bool {
    if !flag.starts_with('-') {
        return false;
    }
    let upper = flag.to_ascii_uppercase().replace('-', "_");
    let file = upper.ends_with("FILE") || upper.ends_with("PATH");
    !file && SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// The user of `scheme://user:password@host…`, when a password is there.
fn userinfo_password(s: &str) -> Option<String> {
    let (_, rest) = s.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| user.to_string())
}

/// The name of a token-looking query parameter with a value.
fn query_token(s: &str) -> Option<String> {
    let (_, query) = s.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (TOKEN_PARAMS.contains(&k.to_ascii_lowercase().as_str()) && !v.is_empty())
            .then(|| k.to_string())
    })
}

/// `password=…` in a libpq-style key/value DSN (`host=db password=x`).
fn key_value_secret(s: &str) -> Option<String> {
    s.split_whitespace().find_map(|word| {
        let (k, v) = word.split_once('=')?;
        let lower = k.to_ascii_lowercase();
        (matches!(
            lower.as_str(),
            "password" | "passwd" | "pwd" | "sslpassword"
        ) && !v.is_empty())
        .then(|| k.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognisers() {
        assert_eq!(userinfo_password("https://u:p@h/x").as_deref(), Some("u"));
        assert_eq!(
            userinfo_password("postgresql://u:p@db:5432/x").as_deref(),
            Some("u")
        );
        assert_eq!(
            userinfo_password("redis://:pw@redis:6379").as_deref(),
            Some("")
        );
        assert_eq!(userinfo_password("https://u@h/x"), None);
        assert_eq!(userinfo_password("https://h/x?a=b@c:d"), None);
        assert_eq!(
            query_token("https://h/x?a=1&Token=abc").as_deref(),
            Some("Token")
        );
        assert_eq!(query_token("https://h/x?monkey=1"), None);
        assert_eq!(
            key_value_secret("host=db password=x").as_deref(),
            Some("password")
        );
        assert!(secret_flag("--redis.password"));
        assert!(secret_flag("--api-key"));
        assert!(!secret_flag("--redis.password-file"));
        assert!(!secret_flag("--config.file"));
    }
}
