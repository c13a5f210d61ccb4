//! Authentication and TLS of the stack's own HTTP endpoints (`security:`).
//!
//! Components built on the Prometheus exporter-toolkit (Prometheus,
//! Alertmanager and most exporters) read a `--web.config.file` with bcrypt
//! hashed basic-auth users and a TLS server certificate. This module owns that
//! file (`web/SERVICE/web.yml`, mounted at `/etc/stackctl-web`), the flag, the
//! healthchecks that now have to log in, and the client side of every
//! internal connection: Prometheus' scrape and Alertmanager configs, Grafana's
//! datasources. Passwords reach the containers as secrets, never in a
//! rendered file; the web configs hold only bcrypt hashes.
//!
//! The hash is salted with a value derived from the password itself, so the
//! same password renders the same bytes (render stays deterministic) and the
//! salt reveals nothing the hash does not.

use super::{Deployment, Healthcheck, MountSource, Service, obj};
use crate::model::security::Security;
use crate::model::{Kind, Stack};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Where a protected service sees its web config directory.
pub const WEB_DIR: &str = "/etc/stackctl-web";
/// The secret that carries the CA certificate clients trust.
pub const CA_SECRET: &str = "tls_ca_crt";
/// Where `render` keeps the generated CA and certificates.
pub const TLS_DIR: &str = "secrets/tls";
/// bcrypt cost: exporter-toolkit caches successful logins, so this is paid
/// once per credential, not once per request.
const COST: u32 = 10;

/// Components that read an exporter-toolkit web config, with the lowest
/// release that has `--web.config.file` (Prometheus 2.24 and Alertmanager
/// 0.22 introduced it; for the exporters, the lowest releases checked here).
pub const WEB_CONFIG: [(Kind, (u64, u64, u64)); 7] = [
    (Kind::Prometheus, (2, 24, 0)),
    (Kind::Alertmanager, (0, 22, 0)),
    (Kind::NodeExporter, (1, 5, 0)),
    (Kind::BlackboxExporter, (0, 23, 0)),
    (Kind::Pushgateway, (1, 5, 0)),
    (Kind::PostgresExporter, (0, 11, 0)),
    (Kind::NginxExporter, (1, 0, 0)),
];

/// The `security:` block when it asks for anything.
pub fn settings(stack: &Stack) -> Option<&Security> {
    stack
        .security
        .as_ref()
        .filter(|s| !s.users.is_empty() || s.tls.is_some())
}

/// The lowest version of `kind` with a web config, when it has one at all.
pub fn since(kind: Kind) -> Option<(u64, u64, u64)> {
    WEB_CONFIG.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

/// Whether `kind` runs with a web config in this stack.
pub fn protects(stack: &Stack, kind: Kind) -> bool {
    settings(stack).is_some()
        && stack.has(kind)
        && since(kind).is_some_and(|(a, b, c)| stack.version_of(kind).at_least(a, b, c))
}

/// `https` when the stack's endpoints of `kind` speak TLS.
pub fn scheme(stack: &Stack, kind: Kind) -> &'static str {
    if protects(stack, kind) && settings(stack).is_some_and(|s| s.tls.is_some()) {
        "https"
    } else {
        "http"
    }
}

fn secret_name(service: &str, what: &str) -> String {
    format!("tls_{}_{what}", service.replace('-', "_"))
}

/// (certificate secret, key secret) a protected service serves with.
pub(crate) fn server_secrets(security: &Security, service: &str) -> (String, String) {
    if security.generates_tls() {
        (secret_name(service, "crt"), secret_name(service, "key"))
    } else {
        ("tls_crt".into(), "tls_key".into())
    }
}

/// Every TLS file the plan delivers: secret name → file in the stack directory.
pub fn tls_files(stack: &Stack) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(security) = settings(stack) else {
        return out;
    };
    let Some(tls) = &security.tls else {
        return out;
    };
    if security.generates_tls() {
        out.insert(CA_SECRET.into(), format!("{TLS_DIR}/ca.crt"));
        for service in tls_services(stack) {
            let service = service.as_str();
            let (crt, key) = server_secrets(security, service);
            out.insert(crt, format!("{TLS_DIR}/{service}.crt"));
            out.insert(key, format!("{TLS_DIR}/{service}.key"));
        }
    } else {
        let file = |f: &Option<String>| f.clone().unwrap_or_default();
        out.insert(CA_SECRET.into(), file(&tls.ca_file));
        out.insert("tls_crt".into(), file(&tls.cert_file));
        out.insert("tls_key".into(), file(&tls.key_file));
    }
    out
}

/// The enabled components that run with a web config.
pub fn protected_kinds(stack: &Stack) -> Vec<Kind> {
    stack
        .components
        .enabled_kinds()
        .into_iter()
        .filter(|k| protects(stack, *k))
        .collect()
}

/// Every service that serves TLS under `security.tls`: the protected
/// components and the auth proxy.
pub fn tls_services(stack: &Stack) -> Vec<String> {
    let mut out: Vec<String> = protected_kinds(stack)
        .into_iter()
        .map(|k| k.service().to_string())
        .collect();
    if super::auth_proxy::active(stack) {
        out.push(super::auth_proxy::SERVICE.to_string());
    }
    out
}

/// Names a generated certificate of `service` is valid for: its DNS name on
/// the project network and the host's loopback, where `verify` reaches it.
pub fn certificate_names(stack: &Stack, service: &str) -> Vec<String> {
    let mut names = vec![
        service.to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ];
    let bind = stack.bind_address();
    if bind != "0.0.0.0" && bind != "::" && !names.iter().any(|n| n == bind) {
        names.push(bind.to_string());
    }
    names
}

/// The bcrypt hash of a password, salted deterministically (see the module docs).
pub fn hash(user: &str, password: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"stackctl web auth\0")
        .chain_update(user.as_bytes())
        .chain_update(b"\0")
        .chain_update(password.as_bytes())
        .finalize();
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&digest[..16]);
    // bcrypt reads at most 72 bytes; the checks refuse longer passwords.
    match bcrypt::hash_with_salt(password.as_bytes(), COST, salt) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoY),
        Err(e) => format!("<cannot hash: {e}>"),
    }
}

/// The exporter-toolkit web config of one service. Users whose password is
/// not known yet (its secret file does not exist, as under `render --check`
/// before the first render) are left out: nobody can log in as them.
pub fn web_config(stack: &Stack, service: &str, passwords: &BTreeMap<String, String>) -> Value {
    let mut config = obj();
    let Some(security) = settings(stack) else {
        return Value::Object(config);
    };
    if security.tls.is_some() {
        let (crt, key) = server_secrets(security, service);
        config.insert(
            "tls_server_config".into(),
            json!({"cert_file": super::secret_path(&crt), "key_file": super::secret_path(&key)}),
        );
    }
    if !security.users.is_empty() {
        let mut users = obj();
        for (name, user) in &security.users {
            if let Some(password) = passwords.get(&user.password_secret) {
                users.insert(name.clone(), json!(hash(name, password)));
            }
        }
        config.insert("basic_auth_users".into(), Value::Object(users));
    }
    Value::Object(config)
}

/// `basic_auth` and `tls_config` (and `scheme`) of a Prometheus client
/// section that talks to `kind` (a scrape job, an Alertmanager), with the
/// secrets added to the Prometheus service.
pub fn client_settings(stack: &Stack, kind: Kind, prometheus: &mut Service) -> Map<String, Value> {
    let mut out = obj();
    if !protects(stack, kind) {
        return out;
    }
    let Some(security) = settings(stack) else {
        return out;
    };
    if security.tls.is_some() {
        out.insert("scheme".into(), json!("https"));
    }
    if let Some((name, user)) = security.client_user() {
        out.insert(
            "basic_auth".into(),
            json!({"username": name, "password_file": prometheus.use_secret(&user.password_secret)}),
        );
    }
    if security.tls.is_some() {
        out.insert(
            "tls_config".into(),
            json!({"ca_file": prometheus.use_secret(CA_SECRET)}),
        );
    }
    out
}

/// Credentials and CA of a Grafana datasource for a component of the stack.
pub fn grafana_datasource(
    stack: &Stack,
    kind: Kind,
    ds: &mut Map<String, Value>,
    json_data: &mut Map<String, Value>,
    grafana: &mut Service,
) {
    if !protects(stack, kind) {
        return;
    }
    let Some(security) = settings(stack) else {
        return;
    };
    let mut secure = obj();
    if security.tls.is_some() {
        if let Some(Value::String(url)) = ds.get("url") {
            let url = url.replacen("http://", "https://", 1);
            ds.insert("url".into(), json!(url));
        }
        json_data.insert("tlsAuthWithCACert".into(), json!(true));
        // Grafana reads `$__file{…}` at provisioning time.
        secure.insert(
            "tlsCACert".into(),
            json!(format!("$__file{{{}}}", grafana.use_secret(CA_SECRET))),
        );
    }
    if let Some((name, user)) = security.client_user() {
        ds.insert("basicAuth".into(), json!(true));
        ds.insert("basicAuthUser".into(), json!(name));
        secure.insert(
            "basicAuthPassword".into(),
            json!(format!(
                "$__file{{{}}}",
                grafana.use_secret(&user.password_secret)
            )),
        );
    }
    ds.insert("secureJsonData".into(), Value::Object(secure));
}

/// Gives every protected service its web config, flag, secrets and a
/// healthcheck that logs in; registers the TLS files as delivered secrets.
/// Runs once every component is planned, before secrets are delivered.
pub fn apply(stack: &Stack, passwords: &BTreeMap<String, String>, d: &mut Deployment) {
    let Some(security) = settings(stack) else {
        return;
    };
    let proxy_tls = security
        .tls
        .is_some()
        .then(|| server_secrets(security, super::auth_proxy::SERVICE));
    super::auth_proxy::plan(stack, passwords, proxy_tls, d);
    for kind in protected_kinds(stack) {
        let Some(service) = d.services.iter_mut().find(|s| s.kind == Some(kind)) else {
            continue;
        };
        let dir = format!("web/{}", service.name);
        let config = web_config(stack, &service.name, passwords);
        d.files.insert(
            format!("{dir}/web.yml"),
            format!(
                "# Generated by stackctl from stack.yaml; edit the spec, not this file.\n{}",
                crate::yaml::emit::to_yaml(&config)
            ),
        );
        service.mounts.push(super::Mount {
            source: MountSource::Generated(dir),
            target: WEB_DIR.into(),
            read_only: true,
        });
        // Before the user's extra arguments would be ideal, but any position works.
        service
            .command
            .push(format!("--web.config.file={WEB_DIR}/web.yml"));
        if security.tls.is_some() {
            let (crt, key) = server_secrets(security, &service.name);
            service.use_secret(&crt);
            service.use_secret(&key);
        }
        let login = security
            .client_user()
            .map(|(name, user)| (name.to_string(), service.use_secret(&user.password_secret)));
        if let Some(check) = &mut service.healthcheck {
            authenticate(check, login.as_ref(), security.tls.is_some());
        }
    }
    for (name, file) in tls_files(stack) {
        if d.services.iter().any(|s| s.secrets.contains(&name)) {
            d.secrets.insert(name, file);
        }
    }
}

/// Turns a plain `wget http://localhost…` healthcheck into one that logs in
/// (the password read from its secret file inside the container, never
/// written into the Compose file) and speaks TLS when the service does.
fn authenticate(check: &mut Healthcheck, login: Option<&(String, String)>, tls: bool) {
    let Some(url) = check
        .test
        .last()
        .filter(|u| check.test.first().is_some_and(|w| w == "wget") && u.starts_with("http://"))
        .cloned()
    else {
        return;
    };
    check.test = vec![login_script(&url, login, tls)];
    check.shell = true;
}

/// A busybox `wget` command line that fetches `url` (an `http://` URL,
/// turned into `https://` with `tls`) with the login of (user, password file).
pub(crate) fn login_script(url: &str, login: Option<&(String, String)>, tls: bool) -> String {
    let url = if tls {
        url.replacen("http://", "https://", 1)
    } else {
        url.to_string()
    };
    // busybox wget does not verify certificates; the check is about
    // liveness, and the CA is verified by every real client.
    let mut script = String::from("wget -q -O /dev/null");
    if tls {
        script.push_str(" --no-check-certificate");
    }
    if let Some((user, file)) = login {
        // User names are restricted to [A-Za-z0-9_.-] by the checks, so they
        // are shell-safe; the password never leaves the container's file.
        script.push_str(&format!(
            " --header \"Authorization: Basic $(printf '%s:%s' '{user}' \"$(cat {file})\" | base64 | tr -d '\\n')\""
        ));
    }
    script.push_str(&format!(" '{url}'"));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_deterministic() {
        let h = hash("admin", "s3cret");
        assert!(h.starts_with("$2y$10$"), "{h}");
        assert_eq!(h, hash("admin", "s3cret"));
        assert_ne!(h, hash("other", "s3cret"));
        assert!(bcrypt::verify("s3cret", &h).unwrap());
        assert!(!bcrypt::verify("wrong", &h).unwrap());
    }

    #[test]
    fn healthchecks_log_in_without_the_password_in_the_command() {
        let mut check = Healthcheck {
            test: vec![
                "wget".into(),
                "-q".into(),
                "-O".into(),
                "/dev/null".into(),
                "http://localhost:9090/-/ready".into(),
            ],
            shell: false,
            interval_s: 10,
            timeout_s: 5,
            retries: 5,
            start_period_s: 10,
        };
        authenticate(
            &mut check,
            Some(&("admin".into(), "/run/secrets/web_admin".into())),
            true,
        );
        assert!(check.shell);
        assert_eq!(
            check.test,
            vec![
                "wget -q -O /dev/null --no-check-certificate --header \"Authorization: Basic $(printf '%s:%s' 'admin' \"$(cat /run/secrets/web_admin)\" | base64 | tr -d '\\n')\" 'https://localhost:9090/-/ready'"
            ]
        );
    }
}
