//! `alerting.tests` (finding code `routing`): each expectation's labels are
//! routed through the rendered Alertmanager configuration, and `validate`
//! fails at the expectation when the receivers differ, i.e. when a change of
//! the routing tree changed where that alert goes.

use super::config::Config;
use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::path;

pub fn check(stack: &Stack, alertmanager_yml: Option<&str>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(alerting) = &stack.alerting else {
        return out;
    };
    if alerting.tests.is_empty() {
        return out;
    }
    let error = |p, m: String, h: String| {
        let d = Diagnostic::error(m).at(p).with_code("routing");
        if h.is_empty() { d } else { d.with_hint(h) }
    };
    let Some(text) = alertmanager_yml else {
        out.push(error(
            path!["alerting", "tests"],
            "routing tests need Alertmanager, which is not enabled".into(),
            "enable `components.alertmanager`".into(),
        ));
        return out;
    };
    let config = match Config::parse(text) {
        Ok(c) => c,
        Err(e) => {
            out.push(error(path!["alerting"], e, String::new()));
            return out;
        }
    };
    let names: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
    for (i, test) in alerting.tests.iter().enumerate() {
        let mut bad = false;
        for (k, r) in test.receivers.iter().enumerate() {
            if !names.contains(&r.as_str()) {
                let hint = match crate::yaml::de::did_you_mean(r, &names) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("receivers: {}", names.join(", ")),
                };
                out.push(error(
                    path!["alerting", "tests", i, "receivers", k],
                    format!("no receiver is named `{r}`"),
                    hint,
                ));
                bad = true;
            }
        }
        let at = match &test.at {
            Some(t) => match super::parse_time(t) {
                Ok(t) => Some(t),
                Err(e) => {
                    out.push(error(path!["alerting", "tests", i, "at"], e, String::new()));
                    continue;
                }
            },
            None => None,
        };
        if bad {
            continue;
        }
        let answer = match super::evaluate(
            &config,
            &test.labels,
            at.unwrap_or_else(jiff::Timestamp::now),
        ) {
            Ok(a) => a,
            Err(e) => {
                out.push(error(path!["alerting", "tests", i], e, String::new()));
                continue;
            }
        };
        let got = if at.is_some() {
            answer.notified()
        } else {
            answer.receivers()
        };
        let expected: Vec<&str> = test.receivers.iter().map(String::as_str).collect();
        if got != expected {
            let labels: Vec<String> = test
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            let via: Vec<String> = answer
                .reached
                .iter()
                .map(|r| {
                    let mut s = format!("{} via {}", r.receiver, r.path);
                    if !r.muted_by.is_empty() {
                        s.push_str(&format!(" (muted by {})", r.muted_by.join(", ")));
                    }
                    if !r.inactive.is_empty() {
                        s.push_str(&format!(" (outside {})", r.inactive.join(", ")));
                    }
                    s
                })
                .collect();
            out.push(error(
                path!["alerting", "tests", i, "receivers"],
                format!(
                    "an alert {{{}}} reaches [{}]{}, not [{}]",
                    labels.join(", "),
                    got.join(", "),
                    if at.is_some() { " at that time" } else { "" },
                    expected.join(", ")
                ),
                format!(
                    "routed: {}; if the routing change is intended, update this expectation (`stackctl routes` shows the path)",
                    via.join("; ")
                ),
            ));
        }
    }
    out
}
