//! What the checks are derived from: the spec, its plan, where each
//! service answers and the secret values; and the credentials and rendered
//! files several check modules read from them. A leaf below every check module.

use super::endpoints::Endpoints;
use super::http::BasicAuth;
use crate::plan::Deployment;
use serde_json::Value;
use std::collections::BTreeMap;

/// Secret values by name, read by the caller; `Err` says why one is missing.
pub type Secrets = BTreeMap<String, Result<String, String>>;

/// Everything the checks are derived from.
pub struct Context<'a> {
    pub stack: &'a crate::resolve::Resolved,
    pub deployment: &'a Deployment,
    pub endpoints: &'a Endpoints,
    pub secrets: &'a Secrets,
    pub deep: bool,
}

impl Context<'_> {
    fn secret(&self, name: &str) -> Result<String, String> {
        self.secrets
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(format!("secret `{name}` is not declared under `secrets:`")))
    }

    pub(super) fn grafana_auth(&self) -> BasicAuth {
        BasicAuth {
            user: self.stack.grafana_admin_user(),
            password: self.secret(&self.stack.grafana_admin_secret()),
        }
    }

    pub(super) fn elastic_auth(&self) -> BasicAuth {
        BasicAuth {
            user: "elastic".into(),
            password: self.secret(&self.stack.elastic_secret()),
        }
    }

    /// The dashboard JSON the plan renders for a UID.
    pub(super) fn dashboard_json(&self, uid: &str) -> Option<Value> {
        let suffix = format!("/{uid}.json");
        self.deployment
            .files
            .iter()
            .find(|(path, _)| path.starts_with("grafana/dashboards/") && path.ends_with(&suffix))
            .and_then(|(_, text)| serde_json::from_str(text).ok())
    }
}
