//! `stackctl verify`: probe the running stack end to end and report every
//! check; exit 0 only when all pass.

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::VerifyFormat;
use crate::model::Kind;
use crate::model::types::Duration;
use crate::verify::{self, Context, Endpoints, endpoints};
use std::path::Path;

pub struct Options<'a> {
    pub wait: Option<&'a str>,
    pub timeout: &'a str,
    pub format: VerifyFormat,
    pub only: &'a [String],
    pub urls: &'a [String],
    pub deep: bool,
    /// `--alerts`: also prove alert routing and delivery.
    pub alerts: Option<Alerts>,
}

/// The `--alerts` flags.
pub struct Alerts {
    /// `--live` (an empty list: every receiver).
    pub live: Option<Vec<String>>,
    pub log_file: Option<std::path::PathBuf>,
}

fn duration(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let d = Duration::parse(text).map_err(|e| {
        anyhow::anyhow!(
            "`{flag} {text}`: {e}\n  = help: write a duration such as `30s`, `2m` or `1m30s`"
        )
    })?;
    Ok(d.as_std())
}

pub fn run(dir: &Path, opts: Options<'_>) -> anyhow::Result<Exit> {
    let wait = opts.wait.map(|w| duration("--wait", w)).transpose()?;
    let timeout = duration("--timeout", opts.timeout)?;
    if timeout.is_zero() {
        anyhow::bail!(
            "`--timeout {}`: the timeout must be longer than zero",
            opts.timeout
        );
    }
    let loaded = load_stack(dir, false)?;
    let Some(stack) = crate::resolve::Resolved::from_loaded(&loaded) else {
        print_diagnostics(&loaded);
        // CI reads the report file, not stderr: the validation failures
        // become its test cases (an empty file would read as "no tests").
        if opts.format == VerifyFormat::Junit {
            super::emit(&crate::diag::to_junit_for(
                "verify",
                &loaded.diagnostics,
                &loaded.file,
                false,
            ))?;
        }
        eprintln!("verify needs a valid spec to know what to check; nothing was probed");
        return Ok(Exit::Failed);
    };
    let overrides = endpoints::parse_overrides(opts.urls, &stack).map_err(anyhow::Error::msg)?;
    let only: Vec<Kind> = opts
        .only
        .iter()
        .map(|name| endpoints::enabled_kind(name, &stack))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    let inputs = super::render::read_inputs(&stack, dir)?;
    let deployment = crate::plan::plan(&stack, &inputs);
    let secrets: verify::Secrets = stack
        .secret_files()
        .iter()
        .map(|(name, file)| {
            // Bounded, regular files only: a FIFO or `/dev/zero` here must
            // neither hang verify past `--timeout` nor fill memory.
            let value =
                crate::fsutil::read_regular_text(&dir.join(file), crate::fsutil::MAX_SECRET_BYTES)
                    .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
                    .map_err(|e| format!("cannot read secret file: {e}"));
            (name.clone(), value)
        })
        .collect();
    let endpoints = Endpoints::resolve(&stack, &deployment, &overrides);
    let cx = Context {
        stack: &stack,
        deployment: &deployment,
        endpoints: &endpoints,
        secrets: &secrets,
        deep: opts.deep,
    };
    let delivery = opts
        .alerts
        .as_ref()
        .map(|a| delivery_options(a, &cx, &stack, dir, wait, timeout))
        .transpose()?;
    let probes = verify::derive(&cx, &only);
    if probes.is_empty() {
        anyhow::bail!("the spec enables no component that verify can check");
    }
    let settle = if wait.is_none() {
        verify::first_round_bound(&cx)
    } else {
        std::time::Duration::ZERO
    };
    let web = web_client(&stack, dir, &endpoints, &secrets)?;
    // The live line only when waiting, on a terminal, and not `--quiet`.
    let watch = wait
        .filter(|_| verify::progress::wanted() && super::verbosity() >= super::Verbosity::Normal)
        .map(|w| std::sync::Arc::new(verify::progress::Watch::new(probes.len(), w)));
    let ticker = watch
        .as_ref()
        .map(|w| verify::progress::Ticker::start(std::sync::Arc::clone(w)));
    let report = verify::run_watched(
        probes,
        &verify::Options {
            timeout,
            wait,
            settle,
        },
        web,
        watch,
    );
    drop(ticker);
    let report = report?;
    let mut report = report;
    let services: Vec<&str> = only.iter().map(|k| k.service()).collect();
    report
        .results
        .extend(secret_results(&deployment, &services, report.results.len()));
    if let Some(d) = &delivery {
        let started = std::time::Instant::now();
        let probe = report.results.len();
        let results = verify::delivery::run(&cx, d)?;
        // One phase of calls: the delivery checks count as one probe.
        report.results.extend(
            results
                .into_iter()
                .map(|r| verify::CheckResult { probe, ..r }),
        );
        report.elapsed += started.elapsed();
    }
    if let Some(bound) = report.settled {
        eprintln!(
            "verify: some targets had not been scraped (or rules evaluated) yet; waited for them up to {}s (the longest scrape/evaluation interval + 5s)",
            bound.as_secs()
        );
    }
    let out = match opts.format {
        VerifyFormat::Text => verify::report::text(&report, crate::color::stdout()),
        VerifyFormat::Json => verify::report::json(&report),
        VerifyFormat::Junit => verify::report::junit(&report),
    };
    super::emit(&out)?;
    if opts.format != VerifyFormat::Text {
        eprintln!(
            "verify: {} checks, {} failed, {} skipped",
            report.results.len(),
            report.count(verify::Status::Fail),
            report.count(verify::Status::Skip)
        );
    }
    Ok(if report.passed() {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// The login and CA verify uses for the endpoints `security:` protects.
fn web_client(
    stack: &crate::model::Stack,
    dir: &Path,
    endpoints: &Endpoints,
    secrets: &verify::Secrets,
) -> anyhow::Result<verify::http::WebClient> {
    use crate::plan::web_auth;
    let mut web = verify::http::WebClient::default();
    let Some(security) = web_auth::settings(stack) else {
        return Ok(web);
    };
    if let Some((name, user)) = security.client_user() {
        let password = secrets
            .get(&user.password_secret)
            .cloned()
            .unwrap_or_else(|| Err(format!("secret `{}` is not declared", user.password_secret)));
        for kind in web_auth::protected_kinds(stack) {
            for base in endpoints.bases_of(kind) {
                web.logins.push((
                    base.to_string(),
                    verify::BasicAuth {
                        user: name.to_string(),
                        password: password.clone(),
                    },
                ));
            }
        }
        // Loki, Jaeger's UI and Alloy answer the host through the auth proxy.
        for (kind, port, _) in crate::plan::auth_proxy::fronted(stack) {
            if let Ok(base) = endpoints.base(kind, port) {
                web.logins.push((
                    base.to_string(),
                    verify::BasicAuth {
                        user: name.to_string(),
                        password: password.clone(),
                    },
                ));
            }
        }
    }
    if security.tls.is_some() {
        if let Some(file) = web_auth::tls_files(stack).get(web_auth::CA_SECRET) {
            let pem = crate::fsutil::read_regular_text(&dir.join(file), crate::fsutil::MAX_SECRET_BYTES)
                .map_err(|e| anyhow::anyhow!("cannot read the stack's CA certificate: {e}\n  = help: `stackctl render` creates it (`security.tls.generate`)"))?;
            web.ca_pem = Some(pem.into_bytes());
        }
    }
    Ok(web)
}

/// One check per secret of each service: readable by the container's user
/// and non-empty, asked through the exec API. Without a reachable engine
/// each is reported as not checked (skip), never as passed.
fn secret_results(
    d: &crate::plan::Deployment,
    services: &[&str],
    probe: usize,
) -> Vec<verify::CheckResult> {
    use crate::docker::secret_access::{self, Access};
    if d.services.iter().all(|s| s.secrets.is_empty()) {
        return Vec::new();
    }
    let started = std::time::Instant::now();
    let checked = super::docker::runtime().and_then(|rt| {
        rt.block_on(async {
            let engine = crate::docker::bollard_engine::BollardEngine::connect().await?;
            secret_access::check(&engine, d, services).await
        })
        .map_err(anyhow::Error::from)
    });
    let elapsed = started.elapsed();
    let result = |service: &str, secret: &str, status, message: String| verify::CheckResult {
        service: service.to_string(),
        check: format!("secret `{secret}` readable"),
        status,
        message,
        hint: None,
        url: None,
        probe,
        elapsed,
        attempts: 1,
    };
    match checked {
        Ok(list) => list
            .into_iter()
            .map(|a| {
                let file = secret_access::path(&a.secret);
                let (status, message, hint) = match a.access {
                    Access::Readable => (verify::Status::Pass, format!("{file} is readable by the process user and not empty"), None),
                    Access::Unreadable => (
                        verify::Status::Fail,
                        format!("the process user cannot read {file} (permission denied)"),
                        Some(format!(
                            "the `secrets-init` job installs `secrets/{}` for the image's user: re-run `stackctl up` or `docker compose up -d` (see docs/up.md, \"Secrets\")",
                            a.secret
                        )),
                    ),
                    Access::Empty => (verify::Status::Fail, format!("{file} is empty inside the container"), None),
                    Access::NotChecked(why) => (verify::Status::Skip, format!("not checked: {why}"), None),
                };
                verify::CheckResult {
                    hint,
                    ..result(&a.service, &a.secret, status, message)
                }
            })
            .collect(),
        Err(e) => d
            .services
            .iter()
            .filter(|s| services.is_empty() || services.contains(&s.name.as_str()))
            .flat_map(|s| {
                let why = format!("not checked: {e}");
                s.secrets
                    .iter()
                    .map(move |secret| result(&s.name, secret, verify::Status::Skip, why.clone()))
            })
            .collect(),
    }
}

/// `--alerts`: needs an Alertmanager; `--live` names receivers of the spec.
fn delivery_options(
    a: &Alerts,
    cx: &Context<'_>,
    stack: &crate::model::Stack,
    dir: &Path,
    wait: Option<std::time::Duration>,
    timeout: std::time::Duration,
) -> anyhow::Result<verify::delivery::Options> {
    use verify::delivery::Live;
    if !stack.has(Kind::Alertmanager) {
        anyhow::bail!(
            "`--alerts` needs an Alertmanager, and the spec does not enable `components.alertmanager`"
        );
    }
    let live = match &a.live {
        None => Live::Off,
        Some(list) if list.is_empty() => Live::All,
        Some(list) => Live::Only(list.clone()),
    };
    verify::delivery::check_live(&live, cx).map_err(anyhow::Error::msg)?;
    eprintln!(
        "verify --alerts: one test alert per receiver (alertname `{}`); {}",
        verify::delivery::targets::ALERT,
        match &live {
            Live::Off =>
                "all silenced: routing is proven, no one is notified (pass `--live` to deliver)"
                    .to_string(),
            Live::All => "delivered for real to every receiver (`--live`)".to_string(),
            Live::Only(l) => format!(
                "delivered for real to {} (`--live`), silenced for the others",
                l.iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    );
    Ok(verify::delivery::Options {
        live,
        wait,
        timeout,
        log_file: a.log_file.clone(),
        empty: crate::check::receiver_credentials::undeliverable_in(stack, dir),
    })
}
