//! `stackctl routes LABEL=VALUE…`: where an alert with these labels goes in
//! the stack's Alertmanager (the configuration `render` writes), by which
//! route, whether a time interval mutes it now (or at `--at`), and which
//! inhibit rules can mute it. The receivers line is `amtool config routes
//! test`'s answer.

use super::{Exit, emit, load_stack, print_diagnostics};
use crate::routes::{self, config::Config};
use serde_json::json;
use std::path::Path;

pub fn run(dir: &Path, labels: &[String], at: Option<&str>, as_json: bool) -> anyhow::Result<Exit> {
    let labels = routes::parse_labels(labels).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n  = help: give the alert's labels as `name=value`, e.g. `severity=critical`"
        )
    })?;
    let time = match at {
        Some(t) => routes::parse_time(t).map_err(|e| anyhow::anyhow!(e))?,
        None => jiff::Timestamp::now(),
    };
    let loaded = load_stack(dir, false)?;
    if loaded.has_errors() {
        print_diagnostics(&loaded);
        return Ok(Exit::Failed);
    }
    let Some(resolved) = crate::resolve::Resolved::from_loaded(&loaded) else {
        return Ok(Exit::Failed);
    };
    let stack = &resolved;
    let inputs = super::render::read_inputs(stack, dir)?;
    let plan = crate::plan::plan(stack, &inputs);
    let Some(text) = plan.files.get(crate::plan::alertmanager_config_path()) else {
        anyhow::bail!(
            "{}: the stack has no Alertmanager configuration\n  = help: enable `components.alertmanager` and add `alerting`",
            loaded.file
        );
    };
    let config = Config::parse(text).map_err(|e| anyhow::anyhow!(e))?;
    let answer = routes::evaluate(&config, &labels, time).map_err(|e| anyhow::anyhow!(e))?;
    if as_json {
        let value = json!({
            "labels": labels,
            "at": time.to_string(),
            "receivers": answer.receivers(),
            "notified": answer.notified(),
            "routes": answer.reached.iter().map(|r| json!({
                "path": r.path,
                "matchers": r.matchers,
                "receiver": r.receiver,
                "mute_time_intervals": r.mute,
                "active_time_intervals": r.active,
                "muted_by": r.muted_by,
                "inactive": r.inactive,
            })).collect::<Vec<_>>(),
            "inhibited_by": answer.inhibitors.iter().map(|i| json!({
                "inhibit_rule": i.index,
                "source_matchers": i.source,
                "equal": i.equal,
            })).collect::<Vec<_>>(),
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        return Ok(Exit::Ok);
    }
    let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let mut out = format!("alert {{{}}} at {time}\n", shown.join(", "));
    out.push_str(&format!("receivers: {}\n", answer.receivers().join(",")));
    for r in &answer.reached {
        let matchers = if r.matchers.is_empty() {
            "(no matchers: the root's default)".to_string()
        } else {
            r.matchers.join(" → ")
        };
        out.push_str(&format!("  {} via {}: {}\n", r.receiver, r.path, matchers));
        for name in &r.mute {
            let state = if r.muted_by.contains(name) {
                "muting now"
            } else {
                "not now"
            };
            out.push_str(&format!("    mute_time_intervals {name}: {state}\n"));
        }
        for name in &r.active {
            let state = if r.inactive.is_empty() {
                "active now"
            } else {
                "outside it now: muted"
            };
            out.push_str(&format!("    active_time_intervals {name}: {state}\n"));
        }
    }
    out.push_str(&format!(
        "notified now: {}\n",
        match answer.notified() {
            n if n.is_empty() => "nobody".to_string(),
            n => n.join(","),
        }
    ));
    for i in &answer.inhibitors {
        out.push_str(&format!(
            "inhibited (inhibit_rules[{}]) while an alert matching {{{}}} fires{}\n",
            i.index,
            i.source.join(", "),
            if i.equal.is_empty() {
                String::new()
            } else {
                format!(" with the same {}", i.equal.join(", "))
            }
        ));
    }
    emit(&out)?;
    Ok(Exit::Ok)
}
