//! The generated auth proxy run for real: NGINX (Debian's 1.22 build, the
//! `stackctl-test/app-nginx` image of `scripts/build-test-images.sh apps`)
//! started with the rendered `proxy/nginx.conf` and `proxy/htpasswd`, the
//! entrypoint and user of the rendered Compose file, and the generated TLS
//! certificate, on a Docker network where a stand-in answers as `loki`.
//!
//! Loki itself is NOT RUN (no image can be pulled here): the stand-in is a
//! second NGINX serving Loki's `/ready` and `/loki/api/v1/labels` and echoing
//! the `Authorization` header it receives. curl, a client independent of
//! stackctl, checks the proxy from the host: anonymous and wrong passwords
//! get 401, the generated users get 200, TLS verifies against the generated
//! CA only; then the rendered healthcheck runs inside the proxy container.

use crate::common;

use common::{path_str, run, spec_dir};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const IMAGE: &str = "stackctl-test/app-nginx:1.22.1";

const SPEC: &str = r#"stackctl: 1
name: proxy-real
secrets:
  web_admin_password: {generate: true}
  web_ops_password: {generate: true}
components:
  loki: {}
security:
  users:
    admin: {password_secret: web_admin_password}
    ops: {password_secret: web_ops_password}
  tls: {generate: true}
"#;

/// The stand-in upstream: Loki's readiness and labels endpoints.
const STAND_IN: &str = r#"server {
    listen 3100;
    location = /ready { return 200 "ready\n"; }
    location = /loki/api/v1/labels {
        default_type application/json;
        return 200 '{"status":"success","data":["job"]}';
    }
    location = /echo-auth { return 200 "authorization=[$http_authorization]"; }
}
"#;

fn docker(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// Removes the containers and network when the test ends, pass or fail.
struct Cleanup(Vec<String>, String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = docker(&["rm", "-f", c]);
        }
        let _ = docker(&["network", "rm", &self.1]);
    }
}

/// `curl` from the host: (HTTP status, body); status 0 when the TLS
/// handshake or connection failed.
fn curl(url: &str, ca: Option<&Path>, login: Option<(&str, &str)>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    if let Some((user, password)) = login {
        cmd.arg("-u").arg(format!("{user}:{password}"));
    }
    let out = cmd.arg(url).output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn nginx_with_the_rendered_config_refuses_strangers_and_admits_the_generated_users_over_verified_tls()
 {
    if common::require_tool("docker", "the auth proxy on the real engine").is_none()
        || common::require_tool("curl", "the auth proxy seen from the host").is_none()
    {
        return;
    }
    if !docker(&["image", "inspect", IMAGE]).0 {
        if common::tools_required() {
            panic!("{IMAGE} is missing; run scripts/build-test-images.sh apps");
        }
        common::skipped(format_args!(
            "{IMAGE} is not built (scripts/build-test-images.sh apps); the auth proxy was not run"
        ));
        return;
    }
    eprintln!("Loki NOT RUN: a stand-in NGINX answers as `loki` behind the real proxy");
    let dir = spec_dir(SPEC);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    let d = dir.path();

    // What the rendered Compose file says the proxy runs.
    let compose = stackctl::verify::parse_yaml(&read(d, "docker-compose.monitoring.yml"))
        .expect("compose YAML");
    let proxy = &compose["services"]["auth-proxy"];
    let entrypoint: Vec<String> = proxy["entrypoint"]
        .as_array()
        .expect("the proxy's entrypoint")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let user = proxy["user"]
        .as_str()
        .expect("the proxy's user")
        .to_string();
    assert_eq!(user, "101:101");
    let test = proxy["healthcheck"]["test"]
        .as_array()
        .expect("a healthcheck")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(test[0], "CMD-SHELL", "{test:?}");
    assert!(
        compose["services"]["loki"].get("ports").is_none(),
        "Loki is published only through the proxy: {}",
        compose["services"]["loki"]
    );

    // The secrets as `secrets-init` delivers them: owned by the proxy's user, 0400.
    let run_dir = d.join("run-secrets");
    std::fs::create_dir(&run_dir).unwrap();
    for (name, file) in [
        ("tls_auth_proxy_crt", "secrets/tls/auth-proxy.crt"),
        ("tls_auth_proxy_key", "secrets/tls/auth-proxy.key"),
        ("web_admin_password", "secrets/web_admin_password"),
    ] {
        let to = run_dir.join(name);
        std::fs::copy(d.join(file), &to).unwrap();
        std::os::unix::fs::chown(&to, Some(101), Some(101)).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    let stand_in_dir = d.join("stand-in");
    std::fs::create_dir(&stand_in_dir).unwrap();
    std::fs::write(stand_in_dir.join("loki.conf"), STAND_IN).unwrap();

    let tag = format!("stackctl-proxy-real-{}", std::process::id());
    let cleanup = Cleanup(
        vec![format!("{tag}-proxy"), format!("{tag}-loki")],
        tag.clone(),
    );
    let (ok, _, err) = docker(&["network", "create", &tag]);
    assert!(ok, "docker network create: {err}");
    let (ok, _, err) = docker(&[
        "run",
        "-d",
        "--name",
        &cleanup.0[1],
        "--network",
        &tag,
        "--network-alias",
        "loki",
        "-v",
        &format!("{}:/etc/nginx/conf.d:ro", stand_in_dir.display()),
        IMAGE,
    ]);
    assert!(ok, "stand-in: {err}");
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &cleanup.0[0],
        "--network",
        &tag,
        "--user",
        &user,
        "-p",
        "127.0.0.1::3100",
        "-v",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!(
        "{}:/etc/stackctl-proxy:ro",
        d.join("proxy").display()
    ));
    args.push("-v".into());
    args.push(format!("{}:/run/secrets:ro", run_dir.display()));
    args.push("--entrypoint".into());
    args.push(entrypoint[0].clone());
    args.push(IMAGE.into());
    args.extend(entrypoint[1..].iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, err) = docker(&args);
    assert!(ok, "proxy: {err}");
    let (_, port, _) = docker(&["port", &cleanup.0[0], "3100/tcp"]);
    let port = port
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .unwrap_or_default()
        .to_string();
    assert!(!port.is_empty(), "no published port");
    let base = format!("https://localhost:{port}");
    let ca = d.join("secrets/tls/ca.crt");
    let admin = read(d, "secrets/web_admin_password");
    let ops = read(d, "secrets/web_ops_password");

    // NGINX needs a moment; wait for the anonymous 401 (it proves it serves).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut first = curl(&format!("{base}/ready"), Some(&ca), None);
    while first.0 != 401 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        first = curl(&format!("{base}/ready"), Some(&ca), None);
    }
    let logs = docker(&["logs", &cleanup.0[0]]);
    assert_eq!(
        first.0, 401,
        "anonymous request: {first:?}; proxy logs: {logs:?}"
    );
    assert_eq!(
        curl(
            &format!("{base}/ready"),
            Some(&ca),
            Some(("admin", "wrong"))
        )
        .0,
        401,
        "wrong password"
    );
    assert_eq!(
        curl(
            &format!("{base}/ready"),
            Some(&ca),
            Some(("nobody", &admin))
        )
        .0,
        401,
        "unknown user"
    );
    let ready = curl(&format!("{base}/ready"), Some(&ca), Some(("admin", &admin)));
    assert_eq!(
        ready,
        (200, "ready\n".to_string()),
        "admin through the proxy"
    );
    let labels = curl(
        &format!("{base}/loki/api/v1/labels"),
        Some(&ca),
        Some(("ops", &ops)),
    );
    assert_eq!(labels.0, 200, "ops through the proxy: {labels:?}");
    assert!(labels.1.contains("\"job\""), "{labels:?}");
    let echoed = curl(
        &format!("{base}/echo-auth"),
        Some(&ca),
        Some(("admin", &admin)),
    );
    assert_eq!(
        echoed,
        (200, "authorization=[]".to_string()),
        "the login stays at the proxy"
    );
    // TLS: the certificate verifies against the generated CA and nothing else.
    let untrusted = curl(&format!("{base}/ready"), None, Some(("admin", &admin)));
    assert_eq!(
        untrusted.0, 0,
        "a client without the CA must refuse: {untrusted:?}"
    );
    assert_ne!(
        curl(
            &format!("http://localhost:{port}/ready"),
            None,
            Some(("admin", &admin))
        )
        .0,
        200,
        "plain HTTP is not served"
    );
    // The rendered healthcheck, inside the proxy container, as Docker runs
    // it (Compose turns the file's `$$` back into `$`).
    let script = test[1].replace("$$", "$");
    let (ok, out, err) = docker(&["exec", &cleanup.0[0], "/bin/sh", "-c", &script]);
    assert!(ok, "healthcheck through the proxy failed: {out} {err}");
    let (anonymous, _, _) = docker(&[
        "exec",
        &cleanup.0[0],
        "/bin/wget",
        "-q",
        "-O",
        "/dev/null",
        "http://127.0.0.1:8099/ready/loki",
    ]);
    assert!(!anonymous, "the health listener must ask for the login too");
    drop(cleanup);
}
