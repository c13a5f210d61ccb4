//! The Elasticsearch and Kibana setup scripts and healthchecks, run for real:
//! bash and the real `curl` against a local HTTP server standing in for
//! Elasticsearch and Kibana, with passwords that hold `"`, `\`, `'`, `$` and
//! spaces. A `curl` wrapper first on PATH records every command line curl was
//! given (what `ps` would show); the server records what it received.

use crate::common;
use crate::support;

use common::{path_str, run};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use support::{FakeServer, Reply, Request};

const ELASTIC: &str = r#"el"as\tic'$HOME \"x\\"#;
const KIBANA: &str = r#"kib"ana\n'$(id)` {"a":1}\"#;
const GRAFANA: &str = r#"gra"fana' $PATH \"#;
const LOGSTASH: &str = r#"log"stash`ls` ' \n"#;

/// The example with the ELK backend, rendered with its passwords set.
fn rendered() -> tempfile::TempDir {
    rendered_with(|spec| spec.to_string())
}

/// The example, changed by `edit`, rendered with its passwords set.
fn rendered_with(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/team-api-elk/stack.yaml");
    let text = edit(&std::fs::read_to_string(spec).unwrap());
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    for (name, value) in [
        ("elastic_password", ELASTIC),
        ("kibana_system_password", KIBANA),
        ("elasticsearch_grafana_password", GRAFANA),
        ("elasticsearch_logstash_password", LOGSTASH),
    ] {
        std::fs::write(dir.path().join("secrets").join(name), value).unwrap();
    }
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    dir
}

/// A `curl` that appends its arguments to `log` (one per line) and runs the real one.
fn curl_wrapper(bin: &Path, log: &Path) {
    let real = which("curl").expect("curl is installed");
    let script = format!(
        "#!/bin/bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\nexec '{}' \"$@\"\n",
        log.display(),
        real.display()
    );
    let path = bin.join("curl");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

struct Recorded {
    requests: Arc<Mutex<Vec<Request>>>,
    server: FakeServer,
}

fn server() -> Recorded {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let server = FakeServer::start(move |r: &Request| {
        seen.lock().unwrap().push(r.clone());
        match r.path() {
            "/api/data_views" => Reply::json(200, serde_json::json!({"data_view": []})),
            _ => Reply::json(200, serde_json::json!({"acknowledged": true})),
        }
    });
    Recorded { requests, server }
}

/// Runs `script` with the secret directory and service URLs pointed at the
/// test's; returns the recorded command lines.
fn run_script(dir: &Path, script: &str, url: &str, shell: &str) -> (String, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("argv.log");
    let _ = std::fs::remove_file(&log);
    curl_wrapper(&bin, &log);
    let text = script
        .replace(
            "/run/secrets/",
            &format!("{}/", dir.join("secrets").display()),
        )
        .replace("http://elasticsearch:9200", url)
        .replace("http://kibana:5601", url)
        .replace("http://localhost:9200", url)
        .replace("http://localhost:5601", url);
    let out = Command::new(shell)
        .arg("-c")
        .arg(&text)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{shell} failed:\n{text}\n{stderr}");
    assert!(!text.contains("stackctl bug"), "{text}");
    (std::fs::read_to_string(&log).unwrap_or_default(), stdout)
}

fn assert_no_password(argv: &str) {
    assert!(!argv.is_empty(), "curl was never called");
    for secret in [ELASTIC, KIBANA, GRAFANA, LOGSTASH] {
        // Any distinctive piece of a password is a leak.
        for piece in [
            "el\"as",
            "kib\"ana",
            "$HOME \\\"x",
            "$(id)",
            "gra\"fana",
            "log\"stash",
        ] {
            assert!(
                !argv.contains(piece),
                "a password reached curl's command line: {argv}"
            );
        }
        assert!(!argv.contains(secret));
    }
}

#[test]
fn elasticsearch_setup_keeps_passwords_off_the_command_line_and_json_encodes_them() {
    let dir = rendered();
    let script = std::fs::read_to_string(dir.path().join("elasticsearch/setup/setup.sh")).unwrap();
    let rec = server();
    let (argv, stdout) = run_script(dir.path(), &script, &rec.server.url(), "bash");
    assert!(stdout.contains("setup done"), "{stdout}");
    assert_no_password(&argv);
    let requests = rec.requests.lock().unwrap().clone();
    assert!(requests.len() >= 3, "{requests:?}");
    for r in &requests {
        assert_eq!(
            r.basic_auth().as_deref(),
            Some(format!("elastic:{ELASTIC}").as_str()),
            "{}",
            r.target
        );
    }
    let set = requests
        .iter()
        .find(|r| r.path() == "/_security/user/kibana_system/_password")
        .expect("the kibana_system password is set");
    let body: serde_json::Value = serde_json::from_str(&set.body).expect("the body is JSON");
    assert_eq!(body, serde_json::json!({ "password": KIBANA }));
    // Grafana and Logstash get their own users, each with one role, and the
    // password of its own secret file (JSON-encoded, sent on stdin).
    for (user, role, password) in [
        ("stackctl_grafana", "stackctl_grafana_reader", GRAFANA),
        ("stackctl_logstash", "stackctl_logstash_writer", LOGSTASH),
    ] {
        let created = requests
            .iter()
            .find(|r| r.path() == format!("/_security/user/{user}"))
            .unwrap_or_else(|| panic!("user {user} is created"));
        let body: serde_json::Value =
            serde_json::from_str(&created.body).expect("the body is JSON");
        assert_eq!(body["password"], password, "{user}");
        assert_eq!(body["roles"], serde_json::json!([role]), "{user}");
        let role_put = requests
            .iter()
            .find(|r| r.path() == format!("/_security/role/{role}"))
            .unwrap_or_else(|| panic!("role {role} is created"));
        let privileges: serde_json::Value = serde_json::from_str(&role_put.body).unwrap();
        assert_eq!(
            privileges["indices"][0]["names"],
            serde_json::json!(["payments-api-logs-*"])
        );
        assert!(
            !role_put.body.contains("\"all\""),
            "{role} is not least-privilege"
        );
    }
    println!(
        "{} requests, each authenticated as elastic, none with a password on the command line",
        requests.len()
    );
}

#[test]
fn kibana_setup_keeps_the_password_off_the_command_line() {
    let dir = rendered();
    let script = std::fs::read_to_string(dir.path().join("kibana/setup/setup.sh")).unwrap();
    let rec = server();
    let (argv, stdout) = run_script(dir.path(), &script, &rec.server.url(), "bash");
    assert!(stdout.contains("created"), "{stdout}");
    assert_no_password(&argv);
    let requests = rec.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    for r in &requests {
        assert_eq!(
            r.basic_auth().as_deref(),
            Some(format!("elastic:{ELASTIC}").as_str())
        );
    }
    let created: serde_json::Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(created["data_view"]["title"], "payments-api-logs-*");
}

#[test]
fn healthchecks_keep_passwords_off_the_command_line() {
    let dir = rendered();
    let compose =
        std::fs::read_to_string(dir.path().join("docker-compose.monitoring.yml")).unwrap();
    let doc = saphyr_json(&compose);
    for (service, user, password) in [
        ("elasticsearch", "elastic", ELASTIC),
        ("kibana", "kibana_system", KIBANA),
    ] {
        let test = &doc["services"][service]["healthcheck"]["test"];
        assert_eq!(test[0], "CMD-SHELL", "{test}");
        // Compose turns `$$` into `$` before the shell sees the command.
        let command = test[1].as_str().unwrap().replace("$$", "$");
        let rec = server();
        let (argv, _) = run_script(dir.path(), &command, &rec.server.url(), "sh");
        assert_no_password(&argv);
        let requests = rec.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            requests[0].basic_auth().as_deref(),
            Some(format!("{user}:{password}").as_str())
        );
    }
}

fn saphyr_json(text: &str) -> serde_json::Value {
    use saphyr::{LoadableYamlNode, Yaml};
    fn conv(y: &Yaml) -> serde_json::Value {
        match y {
            Yaml::Value(saphyr::Scalar::String(s)) => serde_json::Value::String(s.to_string()),
            Yaml::Value(other) => serde_json::Value::String(format!("{other:?}")),
            Yaml::Representation(t, _, _) => serde_json::Value::String(t.to_string()),
            Yaml::Sequence(items) => items.iter().map(conv).collect(),
            Yaml::Mapping(m) => m
                .iter()
                .map(|(k, v)| (conv(k).as_str().unwrap_or_default().to_string(), conv(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            _ => serde_json::Value::Null,
        }
    }
    conv(&Yaml::load_from_str(text).unwrap()[0])
}

/// Jaeger on the stack's Elasticsearch: the retention loop, run once by bash
/// with the real `curl` and GNU `date`, deletes exactly the daily indices
/// older than `span_retention`, as Jaeger's own user. (Jaeger and
/// Elasticsearch themselves cannot run here; the fake answers
/// `_cat/indices` as Elasticsearch documents it.)
#[test]
fn jaeger_index_cleaner_deletes_only_indices_past_the_retention() {
    let dir = rendered_with(|spec| {
        spec.replace(
            "  node_exporter:\n",
            "  jaeger:\n    storage: elasticsearch\n    span_retention: 3d\n  node_exporter:\n",
        )
        .replace(
            "  kibana_encryption_key:\n",
            "  elasticsearch_jaeger_password:\n    generate: true\n  kibana_encryption_key:\n",
        )
    });
    let script = std::fs::read_to_string(dir.path().join("jaeger/cleaner/clean.sh")).unwrap();
    let day = |ago: i64| {
        let out = Command::new("date")
            .args(["-u", "-d", &format!("-{ago} days"), "+%Y-%m-%d"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let names: Vec<String> = [
        format!("jaeger-main-jaeger-span-{}", day(0)),
        format!("jaeger-main-jaeger-span-{}", day(2)),
        format!("jaeger-main-jaeger-span-{}", day(4)),
        format!("jaeger-main-jaeger-service-{}", day(10)),
    ]
    .into();
    let listing = names.join("\n") + "\n";
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let server = FakeServer::start(move |r: &Request| {
        seen.lock().unwrap().push(r.clone());
        if r.path().starts_with("/_cat/indices/") {
            Reply::text(200, &listing)
        } else {
            Reply::json(200, serde_json::json!({"acknowledged": true}))
        }
    });
    let password =
        std::fs::read_to_string(dir.path().join("secrets/elasticsearch_jaeger_password")).unwrap();
    let (argv, stdout) = run_script(
        dir.path(),
        &format!("export STACKCTL_ONCE=1\n{script}"),
        &server.url(),
        "bash",
    );
    assert!(
        !argv.contains(password.trim()),
        "the password reached curl's command line"
    );
    let requests = requests.lock().unwrap().clone();
    let deleted: Vec<String> = requests
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path().trim_start_matches('/').to_string())
        .collect();
    assert_eq!(deleted, [names[2].clone(), names[3].clone()], "{stdout}");
    for r in &requests {
        assert_eq!(
            r.basic_auth().as_deref(),
            Some(format!("stackctl_jaeger:{}", password.trim()).as_str())
        );
    }
    println!(
        "deleted {deleted:?}, kept the indices of the last 3 days (Jaeger and Elasticsearch not run: a fake answered)"
    );
}
