//! Reads the passwords of `security.users` from their secret files, for the
//! plan to hash into web configs (the plan itself never reads files).

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
