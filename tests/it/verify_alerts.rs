//! `stackctl verify --alerts` against real Prometheus and Alertmanager
//! processes of both generations on 127.0.0.1 (Debian stable's 2.42/0.25 on
//! PATH, sid's 3.5/0.33 in `target/consumers/sid/bin`), with configs rendered
//! by stackctl, a webhook sink (tests/support `FakeServer`, recording every
//! payload) and an SMTP sink (tests/support/smtp.rs).
//!
//! The one address the rendered configs carry that is not 127.0.0.1, the
//! Alertmanager target `alertmanager:9093`, is rewritten in the copy of
//! `prometheus.yml` Prometheus runs from.

use crate::common;
use crate::support;

use common::{Generation, path_str, require_consumer, run, spec_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::smtp::SmtpSink;
use support::{FakeServer, Proc, Reply, reserve_port, wait_ready};

struct Tools {
    prometheus: PathBuf,
    alertmanager: PathBuf,
    versions: (&'static str, &'static str),
}

fn tools(generation: Generation) -> Option<Tools> {
    let why = "alert delivery through real Prometheus and Alertmanager";
    Some(match generation {
        Generation::Bookworm => Tools {
            prometheus: require_consumer(generation, "prometheus", why)?,
            alertmanager: require_consumer(generation, "prometheus-alertmanager", why)?,
            versions: ("v2.42.0", "v0.25.0"),
        },
        Generation::Current => Tools {
            prometheus: require_consumer(generation, "prometheus", why)?,
            alertmanager: require_consumer(generation, "alertmanager", why)?,
            versions: ("v3.5.0", "v0.33.0"),
        },
    })
}

struct Ports {
    prometheus: u16,
    alertmanager: u16,
    hook: u16,
    smtp: u16,
}

fn spec(t: &Tools, p: &Ports) -> String {
    format!(
        r##"stackctl: 1
name: verify-alerts
secrets:
  slack_url: {{}}
components:
  prometheus:
    version: {prom_v}
    ports: {{web: {prom}}}
    scrape: false
    evaluation_interval: 1s
    extra_args: ["--rules.alert.resend-delay=1s"]
  alertmanager:
    version: {am_v}
    ports: {{web: {am}}}
    scrape: false
alerting:
  smtp:
    smarthost: 127.0.0.1:{smtp}
    from: alertmanager@verify.test
    require_tls: false
  route:
    receiver: default
    group_by: [alertname, stackctl_receiver]
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
    routes:
      - receiver: mail
        matchers: ['severity="critical"']
      - receiver: broken
        matchers: ['team=~"db|storage"']
      - receiver: chat
        matchers: ['team="web"']
  receivers:
    - name: default
      webhook:
        - url: http://127.0.0.1:{hook}/hook
    - name: mail
      email:
        - to: oncall@verify.test
    - name: broken
      webhook:
        - url: http://127.0.0.1:1/unreachable
    - name: chat
      slack:
        - channel: "#alerts"
          api_url_secret: slack_url
"##,
        prom_v = t.versions.0,
        am_v = t.versions.1,
        prom = p.prometheus,
        am = p.alertmanager,
        smtp = p.smtp,
        hook = p.hook,
    )
}

struct Stack {
    dir: tempfile::TempDir,
    run: tempfile::TempDir,
    ports: Ports,
    hooks: Arc<Mutex<Vec<Value>>>,
    _hook: FakeServer,
    smtp: SmtpSink,
}

fn stack(t: &Tools) -> Stack {
    let hooks: Arc<Mutex<Vec<Value>>> = Arc::default();
    let recorded = hooks.clone();
    let hook = FakeServer::start(move |req| {
        if let Ok(v) = serde_json::from_str(&req.body) {
            recorded.lock().unwrap().push(v);
        }
        Reply::text(200, "ok")
    });
    let smtp = SmtpSink::start();
    let ports = Ports {
        prometheus: reserve_port().release(),
        alertmanager: reserve_port().release(),
        hook: hook.port,
        smtp: smtp.port,
    };
    let dir = spec_dir(&spec(t, &ports));
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    Stack {
        dir,
        run: tempfile::tempdir().unwrap(),
        ports,
        hooks,
        _hook: hook,
        smtp,
    }
}

fn start_alertmanager(t: &Tools, s: &Stack) -> Proc {
    let p = Proc::start(
        "alertmanager",
        &t.alertmanager,
        &[
            format!(
                "--config.file={}",
                s.dir.path().join("alertmanager/alertmanager.yml").display()
            ),
            format!("--storage.path={}", s.run.path().join("am").display()),
            format!("--web.listen-address=127.0.0.1:{}", s.ports.alertmanager),
            "--cluster.listen-address=".into(),
        ],
        s.run.path(),
    );
    wait_ready(
        s.ports.alertmanager,
        "/-/ready",
        Duration::from_secs(20),
        &p,
    );
    p
}

fn start_prometheus(t: &Tools, s: &Stack) -> Proc {
    let config = std::fs::read_to_string(s.dir.path().join("prometheus/prometheus.yml")).unwrap();
    assert!(config.contains("alertmanager:9093"), "{config}");
    let config = config.replace(
        "alertmanager:9093",
        &format!("127.0.0.1:{}", s.ports.alertmanager),
    );
    let copy = s.dir.path().join("prometheus/prometheus.local.yml");
    std::fs::write(&copy, config).unwrap();
    let p = Proc::start(
        "prometheus",
        &t.prometheus,
        &[
            format!("--config.file={}", copy.display()),
            format!(
                "--storage.tsdb.path={}",
                s.run.path().join("prom").display()
            ),
            format!("--web.listen-address=127.0.0.1:{}", s.ports.prometheus),
            // The spec's `extra_args`, as the rendered service runs it.
            "--rules.alert.resend-delay=1s".into(),
        ],
        s.run.path(),
    );
    wait_ready(s.ports.prometheus, "/-/ready", Duration::from_secs(30), &p);
    p
}

fn verify(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec![
        "verify",
        "--dir",
        path_str(dir),
        "--only",
        "alertmanager",
        "--timeout",
        "5s",
        "--alerts",
    ];
    all.extend_from_slice(args);
    run(&all)
}

fn delivery(report: &Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["service"] == "delivery")
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn find<'a>(checks: &'a [(String, String, String)], name: &str) -> &'a (String, String, String) {
    checks
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no delivery check `{name}` in {checks:#?}"))
}

fn labels_of(payload: &Value) -> Vec<Value> {
    payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"].clone())
        .collect()
}

fn delivers_to_sinks_and_names_failures(generation: Generation) {
    let Some(t) = tools(generation) else { return };
    let s = stack(&t);
    let _am = start_alertmanager(&t, &s);
    let _prom = start_prometheus(&t, &s);
    let log = s.run.path().join("alertmanager.log");
    let (code, out, err) = verify(
        s.dir.path(),
        &[
            "--live",
            "--wait",
            "20s",
            "--format",
            "json",
            "--alertmanager-log",
            path_str(&log),
        ],
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let checks = delivery(&report);
    let label = generation.label();
    assert_eq!(
        code, 1,
        "{label}: the broken receiver fails the run: {checks:#?}\n{err}"
    );
    assert!(
        err.contains("delivered for real to every receiver (`--live`)"),
        "{err}"
    );

    // Prometheus → Alertmanager: the generated Watchdog, routed to the null receiver.
    let watchdog = find(&checks, "watchdog arrives");
    assert_eq!(watchdog.1, "pass", "{label}: {watchdog:?}");
    assert!(
        watchdog.2.contains("routed to `stackctl-null`"),
        "{watchdog:?}"
    );

    for receiver in ["default", "mail", "broken", "chat"] {
        let routes = find(&checks, &format!("routes to `{receiver}`"));
        assert_eq!(routes.1, "pass", "{label}: {routes:?}");
    }
    let default = find(&checks, "delivers to `default`");
    assert_eq!(default.1, "pass", "{label}: {default:?}");
    assert!(
        default
            .2
            .starts_with("delivered: Alertmanager counted `webhook` ×1"),
        "{default:?}"
    );
    let mail = find(&checks, "delivers to `mail`");
    assert_eq!(mail.1, "pass", "{label}: {mail:?}");
    let broken = find(&checks, "delivers to `broken`");
    assert_eq!(broken.1, "fail", "{label}: {broken:?}");
    assert!(
        broken.2.starts_with("failed: webhook[0]: ")
            && broken.2.contains("127.0.0.1:1")
            && broken.2.contains("connection refused"),
        "{label}: Alertmanager's own error: {broken:?}"
    );
    let chat = find(&checks, "delivers to `chat`");
    assert_eq!(
        (chat.1.as_str(), chat.2.as_str()),
        ("skip", "not attempted: `secrets/slack_url` is empty"),
        "{label}"
    );

    // The sinks got exactly what Alertmanager sent, with the routing labels.
    let hooks = s.hooks.lock().unwrap().clone();
    let firing: Vec<&Value> = hooks.iter().filter(|h| h["status"] == "firing").collect();
    assert_eq!(firing.len(), 1, "{label}: {hooks:#?}");
    let labels = labels_of(firing[0]);
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0]["alertname"], "StackctlDeliveryTest");
    assert_eq!(labels[0]["stackctl_receiver"], "default");
    assert_eq!(labels[0]["stackctl_live"], "true");
    assert_eq!(firing[0]["receiver"], "default");
    let mails = s.smtp.mails();
    assert_eq!(mails.len(), 1, "{label}: {mails:#?}");
    assert_eq!(mails[0].to, ["oncall@verify.test"]);
    assert_eq!(mails[0].from, "alertmanager@verify.test");
    let subject = mails[0]
        .data
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or_default();
    assert!(
        subject.contains("[FIRING:1] StackctlDeliveryTest mail"),
        "{label}: the default subject carries the group labels: {subject}"
    );
    assert!(
        mails[0].data.contains("critical"),
        "{label}: severity label in the body"
    );

    // Without --live: routing is proven, everything is silenced, nothing is sent;
    // JUnit lists every delivery as a test case.
    let before = (s.hooks.lock().unwrap().len(), s.smtp.mails().len());
    let (code, junit, err) = verify(s.dir.path(), &["--format", "junit"]);
    // Exit 1 only for the existing `cannot deliver` check of the empty Slack URL.
    assert_eq!(code, 1, "{label}: {junit}\n{err}");
    assert_eq!(junit.matches("<failure").count(), 1, "{label}: {junit}");
    assert!(
        junit.contains("name=\"cannot deliver: `secrets/slack_url` is empty\""),
        "{junit}"
    );
    assert!(
        junit.contains("<testsuite name=\"delivery\" tests=\"9\" failures=\"0\" skipped=\"4\""),
        "{label}: {junit}"
    );
    assert!(
        err.contains("all silenced: routing is proven, no one is notified"),
        "{err}"
    );
    for receiver in ["default", "mail", "broken", "chat"] {
        let case = format!(
            "<testcase classname=\"stackctl.verify.delivery\" name=\"routes to `{receiver}`\""
        );
        assert!(junit.contains(&case), "{label}: {case} in\n{junit}");
        let case = format!(
            "<testcase classname=\"stackctl.verify.delivery\" name=\"delivers to `{receiver}`\""
        );
        assert!(junit.contains(&case), "{label}: {case} in\n{junit}");
    }
    assert!(
        junit.contains("not delivered: the test alert was silenced"),
        "{junit}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let hooks = s.hooks.lock().unwrap().clone();
    let new_firing = hooks[before.0..]
        .iter()
        .filter(|h| h["status"] == "firing")
        .count();
    assert_eq!(
        new_firing, 0,
        "{label}: a silenced test alert was delivered: {hooks:#?}"
    );
    assert_eq!(
        s.smtp.mails().len(),
        before.1,
        "{label}: a silenced test alert was mailed"
    );
}

#[test]
fn synthetic_alerts_reach_the_sinks_and_failures_carry_alertmanagers_error_bookworm() {
    delivers_to_sinks_and_names_failures(Generation::Bookworm);
}

#[test]
fn synthetic_alerts_reach_the_sinks_and_failures_carry_alertmanagers_error_current() {
    delivers_to_sinks_and_names_failures(Generation::Current);
}

fn wait_covers_a_late_alertmanager(generation: Generation) {
    let Some(t) = tools(generation) else { return };
    let s = Arc::new(stack(&t));
    let late = {
        let (t2, s2) = (
            Tools {
                prometheus: t.prometheus.clone(),
                alertmanager: t.alertmanager.clone(),
                versions: t.versions,
            },
            s.clone(),
        );
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            start_alertmanager(&t2, &s2)
        })
    };
    let started = Instant::now();
    let (code, out, err) = verify(
        s.dir.path(),
        &["--live", "default", "--wait", "30s", "--format", "json"],
    );
    let _am = late.join().unwrap();
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let checks = delivery(&report);
    let label = generation.label();
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{label}: verify waited"
    );
    assert!(
        !checks.iter().any(|c| c.0 == "alertmanager reachable"),
        "{label}: {checks:#?}"
    );
    assert_eq!(
        find(&checks, "routes to `default`").1,
        "pass",
        "{label}: {checks:#?}"
    );
    assert_eq!(
        find(&checks, "delivers to `default`").1,
        "pass",
        "{label}: {checks:#?}"
    );
    // Only `default` was asked for: the others are silenced.
    assert_eq!(find(&checks, "delivers to `broken`").1, "skip", "{label}");
    // No Prometheus runs here, so the Watchdog check fails (and says why).
    let watchdog = find(&checks, "watchdog arrives");
    assert_eq!(watchdog.1, "fail", "{label}: {watchdog:?}");
    assert!(
        watchdog.2.starts_with("no `Watchdog` alert in Alertmanager within 30s (evaluation interval 1s, Prometheus resends every 1s)"),
        "{watchdog:?}"
    );
    assert_eq!(code, 1);
    let firing = s
        .hooks
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h["status"] == "firing")
        .count();
    assert_eq!(firing, 1, "{label}");

    // Without --wait, a stopped Alertmanager is named at once.
    drop(_am);
    let (code, out, _) = verify(s.dir.path(), &["--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let checks = delivery(&report);
    let unreachable = find(&checks, "alertmanager reachable");
    assert_eq!(code, 1);
    assert!(
        unreachable.2.contains("connection refused") && !unreachable.2.contains("help:"),
        "{unreachable:?}"
    );
    // The hint is its own field in JSON (typed hints end to end).
    let hint = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "delivery" && c["check"] == "alertmanager reachable")
        .and_then(|c| c["hint"].as_str())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        hint, "pass `--wait 1m` when Alertmanager is still starting",
        "{unreachable:?}"
    );
}

#[test]
fn wait_covers_an_alertmanager_that_starts_late_bookworm() {
    wait_covers_a_late_alertmanager(Generation::Bookworm);
}

#[test]
fn wait_covers_an_alertmanager_that_starts_late_current() {
    wait_covers_a_late_alertmanager(Generation::Current);
}

#[test]
fn bad_live_receiver_and_missing_alertmanager_are_usage_errors() {
    let dir = spec_dir(
        "stackctl: 1\nname: t\ncomponents:\n  alertmanager: {}\nalerting:\n  route:\n    receiver: a\n  receivers:\n    - name: a\n",
    );
    let (code, _, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--alerts",
        "--live",
        "b",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`--live b`: no receiver `b` in the spec"),
        "{err}"
    );
    let (code, _, err) = run(&["verify", "--dir", path_str(dir.path()), "--live"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--alerts"), "{err}");
    let dir = spec_dir("stackctl: 1\nname: t\ncomponents:\n  prometheus: {}\n");
    let (code, _, err) = run(&["verify", "--dir", path_str(dir.path()), "--alerts"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`--alerts` needs an Alertmanager"), "{err}");
}

/// The newer kinds and Slack, each pointed at the local sink (their URLs and
/// tokens are secret files), on Alertmanager 0.33: `delivers to` passes by
/// Alertmanager's counters and the sink saw each integration's request. The
/// rendered config reads secrets at the container path `/run/secrets/NAME`;
/// the copy Alertmanager runs from reads `secrets/NAME` of the stack instead.
#[test]
fn teams_opsgenie_telegram_discord_and_slack_deliver_to_a_sink_current() {
    let Some(t) = tools(Generation::Current) else {
        return;
    };
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorded = seen.clone();
    let sink = FakeServer::start(move |req| {
        recorded
            .lock()
            .unwrap()
            .push((req.path().to_string(), req.body.clone()));
        if req.path().ends_with("/sendMessage") {
            // Telegram's Bot API answer (the fields telebot reads).
            Reply::json(
                200,
                serde_json::json!({"ok": true, "result": {"message_id": 1, "date": 0, "chat": {"id": -100, "type": "group"}}}),
            )
        } else if req.path().starts_with("/opsgenie/") {
            Reply::json(
                202,
                serde_json::json!({"result": "Request will be processed", "took": 0.1, "requestId": "r"}),
            )
        } else {
            Reply::text(200, "ok")
        }
    });
    let am = reserve_port().release();
    let text = format!(
        r##"stackctl: 1
name: verify-kinds
secrets: {{teams: {{}}, og: {{}}, tg: {{}}, dc: {{}}, slack: {{}}}}
components:
  alertmanager:
    version: v0.33.0
    ports: {{web: {am}}}
    scrape: false
alerting:
  route:
    receiver: teams
    group_by: [stackctl_receiver]
    group_wait: 1s
    group_interval: 1s
    routes:
      - {{receiver: opsgenie, matchers: ['kind="opsgenie"']}}
      - {{receiver: telegram, matchers: ['kind="telegram"']}}
      - {{receiver: discord, matchers: ['kind="discord"']}}
      - {{receiver: slack, matchers: ['kind="slack"']}}
  receivers:
    - name: teams
      # Debian's sid alertmanager reads its default templates from
      # /usr/share/prometheus/alertmanager/default.tmpl, which on this machine
      # is bookworm's 0.25 file without `msteamsv2.default.*`: name the text.
      msteams: [{{webhook_url_secret: teams, title: '{{{{ template "__subject" . }}}}', text: '{{{{ .CommonLabels.alertname }}}}'}}]
    - name: opsgenie
      opsgenie: [{{api_key_secret: og, api_url: "http://127.0.0.1:{port}/opsgenie/"}}]
    - name: telegram
      telegram: [{{bot_token_secret: tg, chat_id: -100, api_url: "http://127.0.0.1:{port}/telegram"}}]
    - name: discord
      discord: [{{webhook_url_secret: dc}}]
    - name: slack
      slack: [{{channel: "#alerts", api_url_secret: slack}}]
"##,
        port = sink.port
    );
    let dir = spec_dir(&text);
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    for (name, value) in [
        ("teams", format!("{}/teams", sink.url())),
        ("og", "opsgenie-key".to_string()),
        ("tg", "123:telegram-token".to_string()),
        ("dc", format!("{}/discord", sink.url())),
        ("slack", format!("{}/slack", sink.url())),
    ] {
        std::fs::write(secrets.join(name), value).unwrap();
    }
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let config = std::fs::read_to_string(dir.path().join("alertmanager/alertmanager.yml")).unwrap();
    let local = dir.path().join("alertmanager/local.yml");
    std::fs::write(
        &local,
        config.replace("/run/secrets/", &format!("{}/", secrets.display())),
    )
    .unwrap();
    let run_dir = tempfile::tempdir().unwrap();
    let p = Proc::start(
        "alertmanager",
        &t.alertmanager,
        &[
            format!("--config.file={}", local.display()),
            format!("--storage.path={}", run_dir.path().join("am").display()),
            format!("--web.listen-address=127.0.0.1:{am}"),
            "--cluster.listen-address=".into(),
        ],
        run_dir.path(),
    );
    wait_ready(am, "/-/ready", Duration::from_secs(20), &p);
    let log = run_dir.path().join("alertmanager.log");
    let (code, out, err) = verify(
        dir.path(),
        &[
            "--live",
            "--format",
            "json",
            "--alertmanager-log",
            path_str(&log),
        ],
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let checks = delivery(&report);
    for receiver in ["teams", "opsgenie", "telegram", "discord", "slack"] {
        let d = find(&checks, &format!("delivers to `{receiver}`"));
        assert_eq!(d.1, "pass", "{d:?}\n{}", p.log());
    }
    assert_eq!(code, 0, "{checks:#?}");
    let seen = seen.lock().unwrap().clone();
    for path in [
        "/teams",
        "/opsgenie/v2/alerts",
        "/telegram/bot123:telegram-token/sendMessage",
        "/discord",
        "/slack",
    ] {
        let hits: Vec<&(String, String)> = seen.iter().filter(|(p, _)| p == path).collect();
        assert_eq!(hits.len(), 1, "{path}: {seen:#?}");
        assert!(
            hits[0].1.contains("StackctlDeliveryTest"),
            "{path}: {}",
            hits[0].1
        );
    }
}
