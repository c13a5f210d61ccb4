//! Credentials on Kubernetes: one Secret, `<stack>-secrets`, with one key per
//! stackctl secret the manifests use. Resources only hold `SecretKeySelector`s
//! (`{name, key}`); the Secret itself is never rendered (a manifest would have
//! to contain the values), the README lists the `kubectl create secret`
//! command that builds it from the files `stackctl init` wrote.

use serde_json::{Value, json};
use std::collections::BTreeMap;

pub struct Secrets {
    /// Name of the Kubernetes Secret.
    pub name: String,
    /// Key → file, relative to the stack directory.
    pub files: BTreeMap<String, String>,
    /// Key → a value that is not secret but must sit beside one (a username
    /// the operator or the chart only reads from a Secret).
    pub literals: BTreeMap<String, String>,
    /// Key → what uses it, for the README.
    pub used_by: BTreeMap<String, Vec<String>>,
}

impl Secrets {
    pub fn new(name: String) -> Secrets {
        Secrets {
            name,
            files: BTreeMap::new(),
            literals: BTreeMap::new(),
            used_by: BTreeMap::new(),
        }
    }

    /// A selector for the stackctl secret `secret`, whose value is in `file`.
    pub fn file(&mut self, secret: &str, file: String, user: &str) -> Value {
        self.files.insert(secret.to_string(), file);
        self.note(secret, user);
        self.selector(secret)
    }

    /// A selector for a plain value stored beside the secrets. Returns `Err`
    /// with the value already there when `key` is taken by a different value.
    pub fn literal(&mut self, key: &str, value: &str, user: &str) -> Result<Value, String> {
        if let Some(old) = self.literals.get(key) {
            if old != value {
                return Err(old.clone());
            }
        }
        self.literals.insert(key.to_string(), value.to_string());
        self.note(key, user);
        Ok(self.selector(key))
    }

    pub fn selector(&self, key: &str) -> Value {
        json!({"name": self.name, "key": key})
    }

    fn note(&mut self, key: &str, user: &str) {
        let users = self.used_by.entry(key.to_string()).or_default();
        if !users.iter().any(|u| u == user) {
            users.push(user.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.literals.is_empty()
    }

    /// The command that creates the Secret, run from the stack directory.
    pub fn kubectl_command(&self, namespace: &str) -> String {
        let mut cmd = format!(
            "kubectl --namespace {namespace} create secret generic {}",
            self.name
        );
        for (key, file) in &self.files {
            cmd.push_str(&format!(" \\\n  --from-file={key}={}", shell_word(file)));
        }
        for (key, value) in &self.literals {
            cmd.push_str(&format!(
                " \\\n  --from-literal={key}={}",
                shell_word(value)
            ));
        }
        cmd
    }
}

/// A word for a POSIX shell: bare when it is plainly safe, single-quoted otherwise.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_selectors_and_the_kubectl_command() {
        let mut s = Secrets::new("shop-secrets".into());
        assert_eq!(
            s.file("smtp_password", "secrets/smtp_password".into(), "email"),
            json!({"name": "shop-secrets", "key": "smtp_password"})
        );
        s.literal("grafana_admin_user", "ad min", "grafana")
            .unwrap();
        assert_eq!(
            s.literal("grafana_admin_user", "other", "x"),
            Err("ad min".to_string())
        );
        assert_eq!(
            s.kubectl_command("monitoring"),
            "kubectl --namespace monitoring create secret generic shop-secrets \\\n  --from-file=smtp_password=secrets/smtp_password \\\n  --from-literal=grafana_admin_user='ad min'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
