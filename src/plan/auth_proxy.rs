//! The authenticating reverse proxy (`security.proxy`): one NGINX service,
//! `auth-proxy`, in front of the components that have no basic auth or TLS
//! of their own (Loki, Jaeger's UI and query API, Alloy).
//!
//! When `security:` protects the stack, each of those components' published
//! HTTP port moves from the component to the proxy (same host address and
//! port, so `stack.yaml` does not change and neither do the URLs users
//! know): the proxy checks the users' bcrypt hashes (`auth_basic` with an
//! htpasswd file; NGINX hands `$2y$` hashes to crypt(3), which glibc's
//! libxcrypt and musl both implement), terminates TLS with the stack's
//! certificate, and forwards to the component on the project network. The
//! component itself is then reachable only on that network, where Grafana,
//! Prometheus and the log shippers talk to it as before.
//!
//! The proxy runs as the image's `nginx` user (uid 101), not as root: its
//! listening ports are all above 1024, its pid and temporary files go to
//! `/tmp`, and its secrets are delivered owned by that user.

use super::{Condition, Deployment, Healthcheck, Mount, MountSource, Service, web_auth};
use crate::model::{Kind, Stack};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The service name (and its DNS name on the project network).
pub const SERVICE: &str = "auth-proxy";
/// The pinned image: the Docker official NGINX image, stable line, Alpine
/// (busybox `wget` for the healthcheck).
pub const IMAGE: &str = "nginx";
pub const VERSION: &str = "1.30.6-alpine";
/// The `nginx` user of the official image (and of the Debian-built test image).
pub const UID: u32 = 101;
/// Where the proxy sees its generated configuration.
pub const CONFIG_DIR: &str = "/etc/stackctl-proxy";
/// The generated configuration, relative to the stack directory.
pub const DIR: &str = "proxy";
/// A plain-HTTP listener on the container's loopback, never published, for
/// the healthcheck: busybox `wget`'s own TLS sends no `signature_algorithms`
/// and so can only be served SHA-1 signatures, which OpenSSL 3 refuses at
/// its default security level; the public listeners stay strict.
pub const HEALTH_PORT: u16 = 8099;

/// The components the proxy fronts: (kind, port name, a path that answers
/// 200 through the proxy once the component is ready).
pub const PROXIED: [(Kind, &str, &str); 3] = [
    (Kind::Loki, "http", "/ready"),
    (Kind::Jaeger, "ui", "/"),
    (Kind::Alloy, "http", "/-/ready"),
];

/// Whether the stack runs the proxy at all: `security:` asks for users or
/// TLS, the proxy is not switched off, and a fronted port is published.
pub fn active(stack: &Stack) -> bool {
    !fronted(stack).is_empty()
}

/// The (kind, port name, ready path) the proxy fronts in this stack: the
/// enabled ones whose port is published.
pub fn fronted(stack: &Stack) -> Vec<(Kind, &'static str, &'static str)> {
    let Some(security) = web_auth::settings(stack) else {
        return Vec::new();
    };
    if security.proxy.as_ref().and_then(|p| p.enabled) == Some(false) {
        return Vec::new();
    }
    let published = crate::model::ports::published(stack);
    PROXIED
        .into_iter()
        .filter(|(kind, port, _)| published.iter().any(|p| p.kind == *kind && p.name == *port))
        .collect()
}

/// Whether the proxy fronts this port of this component.
pub fn fronts(stack: &Stack, kind: Kind, port: &str) -> bool {
    fronted(stack)
        .iter()
        .any(|(k, p, _)| *k == kind && *p == port)
}

/// The scheme clients outside the project network use through the proxy.
pub fn scheme(stack: &Stack) -> &'static str {
    if web_auth::settings(stack).is_some_and(|s| s.tls.is_some()) {
        "https"
    } else {
        "http"
    }
}

/// The image reference, honouring `defaults.image_registry` for the default image.
fn image(stack: &Stack) -> String {
    let proxy = stack.security.as_ref().and_then(|s| s.proxy.as_ref());
    let repo = match proxy.and_then(|p| p.image.as_deref()) {
        Some(image) => image.to_string(),
        None => match stack.defaults.image_registry.as_deref() {
            Some(mirror) => format!("{}/library/{IMAGE}", mirror.trim_end_matches('/')),
            None => IMAGE.to_string(),
        },
    };
    let version = proxy.and_then(|p| p.version.as_deref()).unwrap_or(VERSION);
    format!("{repo}:{version}")
}

/// The htpasswd file: one `user:bcrypt` line per user whose password is known
/// (the same hashes as the exporter-toolkit web configs).
pub fn htpasswd(stack: &Stack, passwords: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    if let Some(security) = web_auth::settings(stack) {
        for (name, user) in &security.users {
            if let Some(password) = passwords.get(&user.password_secret) {
                let _ = writeln!(out, "{name}:{}", web_auth::hash(name, password));
            }
        }
    }
    out
}

/// `nginx.conf`. Nothing the user wrote reaches it: service names, ports and
/// secret paths are stackctl's own.
pub fn nginx_conf(stack: &Stack, tls: Option<(&str, &str)>) -> String {
    let auth = web_auth::settings(stack).is_some_and(|s| !s.users.is_empty());
    let mut c = String::from(
        "# Generated by stackctl from stack.yaml; edit the spec, not this file.\n\
         # NGINX in front of the components without authentication of their own.\n\
         worker_processes 1;\n\
         pid /tmp/nginx.pid;\n\
         error_log stderr warn;\n\
         events {\n    worker_connections 1024;\n}\n\
         http {\n\
         \x20   access_log off;\n\
         \x20   server_tokens off;\n\
         \x20   # Runs as a non-root user: temporary files where it may write.\n\
         \x20   client_body_temp_path /tmp/nginx-client-body;\n\
         \x20   proxy_temp_path /tmp/nginx-proxy;\n\
         \x20   fastcgi_temp_path /tmp/nginx-fastcgi;\n\
         \x20   uwsgi_temp_path /tmp/nginx-uwsgi;\n\
         \x20   scgi_temp_path /tmp/nginx-scgi;\n\
         \x20   # Log pushes and trace queries can be large and slow.\n\
         \x20   client_max_body_size 64m;\n\
         \x20   proxy_read_timeout 300s;\n\
         \x20   proxy_http_version 1.1;\n\
         \x20   # Docker's embedded DNS, asked per request (upstreams in variables), so a\n\
         \x20   # recreated component is found at its new address and the proxy starts\n\
         \x20   # before its upstreams resolve.\n\
         \x20   resolver 127.0.0.11 valid=10s ipv6=off;\n\
         \x20   # Loki's live tail is a WebSocket.\n\
         \x20   map $http_upgrade $connection_upgrade {\n\
         \x20       default upgrade;\n\
         \x20       '' close;\n\
         \x20   }\n",
    );
    for (kind, port, _) in fronted(stack) {
        let Some(container) = kind.port(port).map(|p| p.container) else {
            continue;
        };
        let service = kind.service();
        let _ = writeln!(c, "    server {{");
        match tls {
            Some((crt, key)) => {
                let _ = writeln!(c, "        listen {container} ssl;");
                let _ = writeln!(c, "        ssl_certificate {crt};");
                let _ = writeln!(c, "        ssl_certificate_key {key};");
                let _ = writeln!(c, "        ssl_protocols TLSv1.2 TLSv1.3;");
            }
            None => {
                let _ = writeln!(c, "        listen {container};");
            }
        }
        if auth {
            let _ = writeln!(c, "        auth_basic \"{service}\";");
            let _ = writeln!(c, "        auth_basic_user_file {CONFIG_DIR}/htpasswd;");
        }
        let _ = writeln!(c, "        location / {{");
        let _ = writeln!(c, "            set $upstream {service}:{container};");
        let _ = writeln!(c, "            proxy_pass http://$upstream;");
        let _ = writeln!(c, "            proxy_set_header Host $http_host;");
        let _ = writeln!(
            c,
            "            proxy_set_header X-Forwarded-For $remote_addr;"
        );
        let _ = writeln!(c, "            proxy_set_header X-Forwarded-Proto $scheme;");
        // The login is the proxy's business; the upstream never sees it.
        let _ = writeln!(c, "            proxy_set_header Authorization \"\";");
        let _ = writeln!(c, "            proxy_set_header Upgrade $http_upgrade;");
        let _ = writeln!(
            c,
            "            proxy_set_header Connection $connection_upgrade;"
        );
        let _ = writeln!(c, "        }}");
        let _ = writeln!(c, "    }}");
    }
    // The healthcheck's listener: the same login, each upstream's readiness.
    let _ = writeln!(c, "    server {{");
    let _ = writeln!(c, "        listen 127.0.0.1:{HEALTH_PORT};");
    if auth {
        let _ = writeln!(c, "        auth_basic \"health\";");
        let _ = writeln!(c, "        auth_basic_user_file {CONFIG_DIR}/htpasswd;");
    }
    for (kind, port, ready) in fronted(stack) {
        let Some(container) = kind.port(port).map(|p| p.container) else {
            continue;
        };
        let service = kind.service();
        let _ = writeln!(c, "        location = /ready/{service} {{");
        let _ = writeln!(c, "            set $upstream {service}:{container};");
        let _ = writeln!(c, "            proxy_pass http://$upstream{ready};");
        let _ = writeln!(c, "            proxy_set_header Authorization \"\";");
        let _ = writeln!(c, "        }}");
    }
    let _ = writeln!(c, "    }}");
    c.push_str("}\n");
    c
}

/// Plans the proxy: moves each fronted port from its component to the
/// proxy, writes `proxy/nginx.conf` and `proxy/htpasswd`, and gives the
/// proxy a healthcheck that logs in through every server it runs.
/// `tls`: the (certificate, key) secret names it serves with.
pub(crate) fn plan(
    stack: &Stack,
    passwords: &BTreeMap<String, String>,
    tls: Option<(String, String)>,
    d: &mut Deployment,
) {
    let fronted = fronted(stack);
    if fronted.is_empty() {
        return;
    }
    let Some(security) = web_auth::settings(stack) else {
        return;
    };
    let restart = stack
        .defaults
        .restart
        .map_or("unless-stopped", |r| r.as_str())
        .to_string();
    let mut proxy = Service {
        name: SERVICE.to_string(),
        kind: None,
        image: image(stack),
        // Bypasses the image's entrypoint script (it edits /etc/nginx as root).
        entrypoint: Some(vec![
            "/usr/sbin/nginx".into(),
            "-e".into(),
            "stderr".into(),
            "-c".into(),
            format!("{CONFIG_DIR}/nginx.conf"),
            "-g".into(),
            "daemon off;".into(),
        ]),
        command: Vec::new(),
        environment: BTreeMap::new(),
        ports: Vec::new(),
        mounts: vec![Mount {
            source: MountSource::Generated(DIR.to_string()),
            target: CONFIG_DIR.to_string(),
            read_only: true,
        }],
        secrets: Vec::new(),
        healthcheck: None,
        ready: None,
        depends_on: Vec::new(),
        restart,
        cpus: None,
        memory_bytes: None,
        privileged: false,
        devices: Vec::new(),
        cap_add: Vec::new(),
        extra_hosts: Vec::new(),
        config_files: Vec::new(),
        uid: UID,
        user: Some(format!("{UID}:{UID}")),
        one_shot: false,
    };
    let mut urls = Vec::new();
    for (kind, port, _) in &fronted {
        let Some(container) = kind.port(port).map(|p| p.container) else {
            continue;
        };
        let Some(upstream) = d.services.iter_mut().find(|s| s.kind == Some(*kind)) else {
            continue;
        };
        let (moved, kept): (Vec<_>, Vec<_>) = upstream
            .ports
            .drain(..)
            .partition(|b| b.container_port == container && !b.udp);
        upstream.ports = kept;
        proxy.ports.extend(moved);
        proxy.after(&upstream.name, Condition::Started);
        urls.push(format!(
            "http://127.0.0.1:{HEALTH_PORT}/ready/{}",
            upstream.name
        ));
    }
    let tls_paths = tls
        .as_ref()
        .map(|(crt, key)| (proxy.use_secret(crt), proxy.use_secret(key)));
    d.files.insert(
        format!("{DIR}/nginx.conf"),
        nginx_conf(
            stack,
            tls_paths.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
        ),
    );
    d.files
        .insert(format!("{DIR}/htpasswd"), htpasswd(stack, passwords));
    let login = security
        .client_user()
        .map(|(name, user)| (name.to_string(), proxy.use_secret(&user.password_secret)));
    let script: Vec<String> = urls
        .iter()
        .map(|url| web_auth::login_script(url, login.as_ref(), false))
        .collect();
    proxy.healthcheck = Some(Healthcheck {
        test: vec![script.join(" && ")],
        shell: true,
        interval_s: 10,
        timeout_s: 5,
        retries: 5,
        start_period_s: 10,
    });
    d.services.push(proxy);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Inputs, plan as plan_stack};

    const SPEC: &str = "stackctl: 1\nname: t\ndefaults: {bind_address: 0.0.0.0}\nsecrets:\n  a: {generate: true}\n  b: {generate: true}\nsecurity:\n  allow_unauthenticated: [jaeger]\n  users:\n    admin: {password_secret: a}\n    ops: {password_secret: b}\ncomponents:\n  loki: {}\n  jaeger: {}\n";

    fn planned(yaml: &str, passwords: &[(&str, &str)]) -> Deployment {
        let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
        let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let inputs = Inputs {
            secrets: passwords
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Inputs::default()
        };
        plan_stack(
            &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
            &inputs,
        )
    }

    #[test]
    fn fronted_ports_move_from_the_component_to_the_proxy() {
        let d = planned(SPEC, &[("a", "pw")]);
        let loki = d.service("loki").unwrap();
        assert!(loki.ports.is_empty(), "{:?}", loki.ports);
        let jaeger = d.service("jaeger").unwrap();
        let kept: Vec<u16> = jaeger.ports.iter().map(|p| p.container_port).collect();
        assert!(!kept.contains(&16686) && kept.contains(&4317), "{kept:?}");
        let proxy = d.service(SERVICE).unwrap();
        let moved: Vec<(&str, u16, u16)> = proxy
            .ports
            .iter()
            .map(|p| (p.host_ip.as_str(), p.host_port, p.container_port))
            .collect();
        assert_eq!(moved, [("0.0.0.0", 3100, 3100), ("0.0.0.0", 16686, 16686)]);
        assert_eq!(proxy.uid, UID);
        assert_eq!(proxy.user.as_deref(), Some("101:101"));
        let conf = &d.files["proxy/nginx.conf"];
        assert!(
            conf.contains("auth_basic_user_file /etc/stackctl-proxy/htpasswd;"),
            "{conf}"
        );
        assert!(conf.contains("set $upstream loki:3100;"), "{conf}");
        assert!(conf.contains("set $upstream jaeger:16686;"), "{conf}");
        assert!(!conf.contains("ssl"), "{conf}");
        assert!(conf.contains("listen 127.0.0.1:8099;"), "{conf}");
        let check = proxy.healthcheck.as_ref().unwrap();
        assert!(
            check.test[0].contains("'http://127.0.0.1:8099/ready/loki'"),
            "{check:?}"
        );
        assert!(
            check.test[0].contains("'http://127.0.0.1:8099/ready/jaeger'"),
            "{check:?}"
        );
        assert!(
            conf.contains("proxy_pass http://$upstream/ready;"),
            "{conf}"
        );
        assert!(
            !check.test[0].contains("pw"),
            "the password stays in its file"
        );
    }

    #[test]
    fn htpasswd_lines_are_bcrypt_and_skip_unknown_passwords() {
        let d = planned(SPEC, &[("a", "pw")]);
        let file = &d.files["proxy/htpasswd"];
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 1, "{file}");
        let (user, hash) = lines[0].split_once(':').unwrap();
        assert_eq!(user, "admin");
        assert!(hash.starts_with("$2y$"), "{hash}");
        assert!(bcrypt::verify("pw", hash).unwrap());
    }

    #[test]
    fn tls_serves_the_proxy_certificate() {
        let spec = SPEC.replace("security:\n", "security:\n  tls: {generate: true}\n");
        let d = planned(&spec, &[("a", "pw")]);
        let conf = &d.files["proxy/nginx.conf"];
        assert!(conf.contains("listen 3100 ssl;"), "{conf}");
        assert!(
            conf.contains("ssl_certificate /run/secrets/tls_auth_proxy_crt;"),
            "{conf}"
        );
        assert_eq!(
            d.secrets["tls_auth_proxy_key"],
            "secrets/tls/auth-proxy.key"
        );
        let check = &d
            .service(SERVICE)
            .unwrap()
            .healthcheck
            .as_ref()
            .unwrap()
            .test[0];
        // The healthcheck logs in on the loopback listener (see HEALTH_PORT).
        assert!(
            check.contains("'http://127.0.0.1:8099/ready/loki'")
                && check.contains("Authorization: Basic"),
            "{check}"
        );
    }

    #[test]
    fn no_proxy_when_switched_off_or_nothing_is_published() {
        let off = SPEC
            .replace("security:\n", "security:\n  proxy: {enabled: false}\n")
            .replace("[jaeger]", "[loki, jaeger]");
        let d = planned(&off, &[]);
        assert!(d.service(SERVICE).is_none());
        assert!(!d.service("loki").unwrap().ports.is_empty());
        let unpublished = SPEC
            .replace("loki: {}", "loki: {publish: false}")
            .replace("jaeger: {}", "jaeger: {publish: false}");
        assert!(planned(&unpublished, &[]).service(SERVICE).is_none());
    }
}
