//! `security:` — who may reach the stack's UIs and APIs, and over what.
//!
//! Basic-auth users (passwords in secrets, bcrypt-hashed into the web configs
//! at render time), TLS (certificate files the user supplies, or a local CA
//! that `render` generates into `secrets/tls/`), and the components the user
//! publishes beyond loopback without authentication on purpose.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Basic-auth users by name. The first one (by name) is the one the
    /// stack's own clients (Prometheus, Grafana, `verify`, `up`) use.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// Component keys (`prometheus`, `loki`) that may be published beyond
    /// loopback without authentication.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_unauthenticated: Vec<String>,
    /// The NGINX reverse proxy that puts Loki, Jaeger's UI and Alloy, which
    /// have no authentication of their own, behind the users and TLS above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Proxy>,
}

/// `security.proxy`: on by default whenever `security:` protects anything
/// and Loki, Jaeger or Alloy publish their HTTP port.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    /// `false`: no proxy; Loki, Jaeger and Alloy are published directly
    /// (and `validate` refuses them beyond loopback unless allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Image repository (default `nginx`, the Docker official image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image tag (default the pinned stable Alpine build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The secret holding the password (declare it with `generate: true`).
    pub password_secret: String,
}

/// TLS for every protected endpoint: `generate: true`, or the three files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// `render` creates a local CA and one certificate per service under
    /// `secrets/tls/` (kept once made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<bool>,
    /// PEM certificate (chain) valid for every service name, relative to the stack directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// The CA that signed `cert_file`, which the stack's clients trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

impl Security {
    /// The user the stack's own clients authenticate as.
    pub fn client_user(&self) -> Option<(&str, &User)> {
        self.users.iter().next().map(|(n, u)| (n.as_str(), u))
    }

    pub fn generates_tls(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.generate == Some(true))
    }
}
