//! The Alertmanager route tree, receivers, inhibit rules and time intervals,
//! and the config keys each Alertmanager version understands.

use super::{Findings, duplicates};
use crate::model::stack::{Alerting, Route};
use crate::model::{Kind, Stack};
use crate::path;
use crate::yaml::node::{Path, Seg};

pub fn check(stack: &Stack, found: &mut Findings) {
    let Some(alerting) = &stack.alerting else {
        return;
    };
    let version = stack.version_of(Kind::Alertmanager);

    duplicates(
        found,
        "receiver",
        alerting
            .receivers
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.as_str(), path!["alerting", "receivers", i, "name"])),
    );
    duplicates(
        found,
        "time interval",
        alerting.time_intervals.iter().enumerate().map(|(i, t)| {
            (
                t.name.as_str(),
                path!["alerting", "time_intervals", i, "name"],
            )
        }),
    );

    let root = path!["alerting", "route"];
    if alerting.route.receiver.is_none() {
        found.error(
            root.clone(),
            "the root route has no `receiver`",
            "every alert that matches no child route goes to the root receiver; set `receiver:`",
        );
    }
    if !alerting.route.matchers.is_empty() {
        found.error(
            with(&root, "matchers"),
            "the root route cannot have `matchers`",
            "it receives every alert; move the matchers to a child route",
        );
    }
    if !alerting.route.mute_time_intervals.is_empty()
        || !alerting.route.active_time_intervals.is_empty()
    {
        found.error(
            root.clone(),
            "the root route cannot have mute or active time intervals",
            "set them on a child route",
        );
    }
    walk_routes(alerting, &alerting.route, root, found, &version);

    for (i, rule) in alerting.inhibit_rules.iter().enumerate() {
        if rule.source_matchers.is_empty() || rule.target_matchers.is_empty() {
            found.error(
                path!["alerting", "inhibit_rules", i],
                "an inhibit rule needs `source_matchers` and `target_matchers`",
                "",
            );
        }
    }

    for (i, interval) in alerting.time_intervals.iter().enumerate() {
        for (j, range) in interval.time_intervals.iter().enumerate() {
            for (k, clock) in range.times.iter().enumerate() {
                for (field, value) in [
                    ("start_time", &clock.start_time),
                    ("end_time", &clock.end_time),
                ] {
                    if !is_clock(value) {
                        found.error(
                            path![
                                "alerting",
                                "time_intervals",
                                i,
                                "time_intervals",
                                j,
                                "times",
                                k,
                                field
                            ],
                            format!("`{value}` is not a time of day"),
                            "write `HH:MM` from `00:00` to `24:00`",
                        );
                    }
                }
            }
            for (k, day) in range.weekdays.iter().enumerate() {
                if !day.split(':').all(is_weekday) {
                    found.error(
                        path![
                            "alerting",
                            "time_intervals",
                            i,
                            "time_intervals",
                            j,
                            "weekdays",
                            k
                        ],
                        format!("`{day}` is not a weekday or a range of weekdays"),
                        "write e.g. `monday:friday` or `saturday`",
                    );
                }
            }
            if range.location.is_some() && !version.at_least(0, 25, 0) {
                found.error(
                    path!["alerting", "time_intervals", i, "time_intervals", j, "location"],
                    format!("time interval `location` needs Alertmanager 0.25 or later (this stack pins {version})"),
                    "remove `location` (times are UTC) or upgrade Alertmanager",
                );
            }
        }
    }
    if !alerting.time_intervals.is_empty() && !version.at_least(0, 24, 0) {
        found.error(
            path!["alerting", "time_intervals"],
            format!("`time_intervals` need Alertmanager 0.24 or later (this stack pins {version})"),
            "upgrade Alertmanager",
        );
    }

    check_receivers(alerting, found, &version);
    super::receivers::watchdog(stack, found);
}

fn with(path: &Path, key: &str) -> Path {
    let mut p = path.clone();
    p.push(Seg::Key(key.to_string()));
    p
}

fn walk_routes(
    alerting: &Alerting,
    route: &Route,
    at: Path,
    found: &mut Findings,
    version: &crate::model::types::Version,
) {
    let receivers: Vec<&str> = alerting.receivers.iter().map(|r| r.name.as_str()).collect();
    if let Some(receiver) = &route.receiver {
        if !receivers.contains(&receiver.as_str()) {
            let hint = match crate::yaml::de::did_you_mean(receiver, &receivers) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "define it under `alerting.receivers`; defined are {}",
                    receivers
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            found.error(
                with(&at, "receiver"),
                format!("route to undefined receiver `{receiver}`"),
                hint,
            );
        }
    }
    let intervals: Vec<&str> = alerting
        .time_intervals
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    for (key, names) in [
        ("mute_time_intervals", &route.mute_time_intervals),
        ("active_time_intervals", &route.active_time_intervals),
    ] {
        for (i, name) in names.iter().enumerate() {
            if !intervals.contains(&name.as_str()) {
                found.error(
                    path_with_index(&at, key, i),
                    format!("route refers to undefined time interval `{name}`"),
                    "define it under `alerting.time_intervals`",
                );
            }
        }
    }
    if !route.active_time_intervals.is_empty() && !version.at_least(0, 24, 0) {
        found.error(
            with(&at, "active_time_intervals"),
            format!("`active_time_intervals` need Alertmanager 0.24 or later (this stack pins {version})"),
            "",
        );
    }
    for (i, child) in route.routes.iter().enumerate() {
        let child_at = path_with_index(&at, "routes", i);
        if child.matchers.is_empty() && child.continue_ != Some(true) && i + 1 < route.routes.len()
        {
            found.warning(
                child_at.clone(),
                "this route has no matchers, so it catches every alert and the routes after it never match",
                "add `matchers`, or `continue: true`",
            );
        }
        walk_routes(alerting, child, child_at, found, version);
    }
}

fn path_with_index(at: &Path, key: &str, i: usize) -> Path {
    let mut p = with(at, key);
    p.push(Seg::Index(i));
    p
}

fn check_receivers(
    alerting: &Alerting,
    found: &mut Findings,
    version: &crate::model::types::Version,
) {
    for (r, receiver) in alerting.receivers.iter().enumerate() {
        let at = path!["alerting", "receivers", r];
        notification_templates(receiver, r, found);
        super::receivers::check(receiver, r, version, found);
        for (i, email) in receiver.email.iter().enumerate() {
            if alerting.smtp.is_none() {
                found.error(
                    path!["alerting", "receivers", r, "email", i],
                    format!(
                        "receiver `{}` sends email but `alerting.smtp` is not set",
                        receiver.name
                    ),
                    "add `alerting.smtp` with `smarthost` and `from`",
                );
            }
            if !email.to.contains('@') && !email.to.contains("{{") {
                found.error(
                    path!["alerting", "receivers", r, "email", i, "to"],
                    format!("`{}` is not an email address", email.to),
                    "",
                );
            }
        }
        for (i, slack) in receiver.slack.iter().enumerate() {
            if slack.api_url_secret.is_none() && alerting.slack_api_url_secret.is_none() {
                found.error(
                    path!["alerting", "receivers", r, "slack", i],
                    format!("Slack in receiver `{}` has no webhook URL", receiver.name),
                    "set `api_url_secret` here or `alerting.slack_api_url_secret`",
                );
            }
            if !version.at_least(0, 22, 0) {
                found.error(
                    path!["alerting", "receivers", r, "slack", i],
                    format!("reading the Slack URL from a file needs Alertmanager 0.22 or later (this stack pins {version})"),
                    "upgrade Alertmanager",
                );
            }
        }
        for (i, _) in receiver.pagerduty.iter().enumerate() {
            if !version.at_least(0, 25, 0) {
                found.error(
                    path!["alerting", "receivers", r, "pagerduty", i, "routing_key_secret"],
                    format!("`routing_key_file` needs Alertmanager 0.25 or later (this stack pins {version})"),
                    "upgrade Alertmanager",
                );
            }
        }
        for (i, hook) in receiver.webhook.iter().enumerate() {
            let hook_at = path!["alerting", "receivers", r, "webhook", i];
            match (&hook.url, &hook.url_secret) {
                (Some(_), Some(_)) => found.error(
                    hook_at,
                    "a webhook takes `url` or `url_secret`, not both",
                    "",
                ),
                (None, None) => found.error(hook_at, "a webhook needs `url` or `url_secret`", ""),
                (None, Some(_)) if !version.at_least(0, 26, 0) => found.error(
                    with(&hook_at, "url_secret"),
                    format!("webhook `url_file` needs Alertmanager 0.26 or later (this stack pins {version})"),
                    "upgrade Alertmanager, or write the URL in `url` if it is not secret",
                ),
                (Some(url), None) if !(url.starts_with("http://") || url.starts_with("https://")) => found.error(
                    with(&hook_at, "url"),
                    format!("`{url}` is not an http(s) URL"),
                    "",
                ),
                _ => {}
            }
        }
        let _ = at;
    }
    if let Some(smtp) = &alerting.smtp {
        if !smtp.smarthost.contains(':') {
            found.error(
                path!["alerting", "smtp", "smarthost"],
                format!("smarthost `{}` has no port", smtp.smarthost),
                "write `host:port`, e.g. `smtp.example.com:587`",
            );
        }
        if smtp.auth_password_secret.is_some() && !version.at_least(0, 25, 0) {
            found.error(
                path!["alerting", "smtp", "auth_password_secret"],
                format!("`smtp_auth_password_file` needs Alertmanager 0.25 or later (this stack pins {version})"),
                "upgrade Alertmanager",
            );
        }
    }
}

fn is_clock(text: &str) -> bool {
    let Some((h, m)) = text.split_once(':') else {
        return false;
    };
    let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else {
        return false;
    };
    h.to_string().len() <= 2 && m < 60 && (h < 24 || (h == 24 && m == 0)) && text.len() == 5
}

fn is_weekday(day: &str) -> bool {
    matches!(
        day.trim().to_ascii_lowercase().as_str(),
        "monday" | "tuesday" | "wednesday" | "thursday" | "friday" | "saturday" | "sunday"
    )
}

/// Notification texts are Go templates that Alertmanager parses when it sends;
/// a broken one fails every notification of the receiver.
fn notification_templates(
    receiver: &crate::model::stack::Receiver,
    r: usize,
    found: &mut Findings,
) {
    let mut texts: Vec<(Path, &str)> = Vec::new();
    for (i, e) in receiver.email.iter().enumerate() {
        for (key, value) in [
            ("to", Some(&e.to)),
            ("subject", e.subject.as_ref()),
            ("text", e.text.as_ref()),
            ("html", e.html.as_ref()),
        ] {
            if let Some(v) = value {
                texts.push((path!["alerting", "receivers", r, "email", i, key], v));
            }
        }
    }
    for (i, s) in receiver.slack.iter().enumerate() {
        for (key, value) in [
            ("channel", Some(&s.channel)),
            ("title", s.title.as_ref()),
            ("text", s.text.as_ref()),
        ] {
            if let Some(v) = value {
                texts.push((path!["alerting", "receivers", r, "slack", i, key], v));
            }
        }
    }
    for (i, p) in receiver.pagerduty.iter().enumerate() {
        for (key, value) in [
            ("description", p.description.as_ref()),
            ("severity", p.severity.as_ref()),
        ] {
            if let Some(v) = value {
                texts.push((path!["alerting", "receivers", r, "pagerduty", i, key], v));
            }
        }
    }
    texts.extend(super::receivers::template_texts(receiver, r));
    for (at, text) in texts {
        let Some(e) = super::templates::alertmanager(text) else {
            continue;
        };
        // Alertmanager's function set grows between releases: an unknown one is a warning.
        let d = if e.message.ends_with("not defined") {
            crate::diag::Diagnostic::warning(format!("notification template: {}", e.message))
                .with_hint("Alertmanager templates know Go's functions and `toUpper`, `toLower`, `title`, `join`, `safeHtml`, …")
        } else {
            crate::diag::Diagnostic::error(format!("invalid notification template: {}", e.message))
                .with_hint(
                    "Alertmanager fails every notification of this receiver until it is fixed",
                )
        };
        found.push(d.with_code("template").at(at).at_offset(e.offset));
    }
}
