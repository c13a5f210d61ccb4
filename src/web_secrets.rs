//! Reads the passwords of `security.users` from their secret files, for the
//! plan to hash into web configs (the plan itself never reads files), and
//! the login and CA `up` probes its protected services with.

use crate::model::Stack;
use std::collections::BTreeMap;
use std::path::Path;

/// Secret name → value, for every user's password secret whose file exists
/// and is readable; missing ones are left out (render creates them).
pub fn passwords(stack: &Stack, dir: &Path) -> BTreeMap<String, String> {
    let Some(security) = crate::plan::web_auth::settings(stack) else {
        return BTreeMap::new();
    };
    security
        .users
        .values()
        .filter_map(|u| {
            let file = crate::check::files::secret_file(stack, &u.password_secret);
            let value =
                crate::fsutil::read_regular_text(&dir.join(file), crate::fsutil::MAX_SECRET_BYTES)
                    .ok()?;
            let value = value.trim_end_matches(['\n', '\r']).to_string();
            (!value.is_empty()).then(|| (u.password_secret.clone(), value))
        })
        .collect()
}

/// The login (the first user) and CA for `up`'s readiness and reload probes;
/// empty when the stack has no `security:`.
pub fn up_client(dir: &Path) -> anyhow::Result<crate::verify::http::WebClient> {
    let mut web = crate::verify::http::WebClient::default();
    let loaded = crate::commands::load_stack(dir, false)?;
    let Some(stack) = loaded.stack.as_ref() else {
        return Ok(web);
    };
    let Some(security) = crate::plan::web_auth::settings(stack) else {
        return Ok(web);
    };
    if let Some((name, user)) = security.client_user() {
        if let Some(password) = passwords(stack, dir).remove(&user.password_secret) {
            web.any = Some(crate::verify::BasicAuth {
                user: name.to_string(),
                password: Ok(password),
            });
        }
    }
    if security.tls.is_some() {
        let tls = crate::plan::web_auth::tls_files(stack);
        if let Some(file) = tls.get(crate::plan::web_auth::CA_SECRET) {
            let pem =
                crate::fsutil::read_regular_text(&dir.join(file), crate::fsutil::MAX_SECRET_BYTES)
                    .map_err(|e| anyhow::anyhow!("cannot read the stack's CA certificate: {e}"))?;
            web.ca_pem = Some(pem.into_bytes());
        }
    }
    Ok(web)
}
