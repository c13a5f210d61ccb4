//! Alertmanager's own notification counters, read from its `/metrics`:
//! per integration (`webhook`, `email`, `slack`, …) and, when Alertmanager
//! runs with `--enable-feature=receiver-name-in-metrics` (0.27+), per
//! receiver. A successful notification is one request that did not fail, so
//! successes are `notification_requests_total − notification_requests_failed_total`.

use std::collections::BTreeMap;

const REQUESTS: &str = "alertmanager_notification_requests_total";
const REQUESTS_FAILED: &str = "alertmanager_notification_requests_failed_total";
const NOTIFICATIONS: &str = "alertmanager_notifications_total";
const FAILED: &str = "alertmanager_notifications_failed_total";

/// Counter values for one integration (and receiver, when labelled).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub notifications: f64,
    pub failed: f64,
    pub requests: f64,
    pub requests_failed: f64,
}

impl Counts {
    pub fn successes(&self) -> f64 {
        self.requests - self.requests_failed
    }

    pub fn minus(&self, before: &Counts) -> Counts {
        Counts {
            notifications: self.notifications - before.notifications,
            failed: self.failed - before.failed,
            requests: self.requests - before.requests,
            requests_failed: self.requests_failed - before.requests_failed,
        }
    }
}

/// Key: (integration, receiver name if the metrics carry it).
pub type Snapshot = BTreeMap<(String, Option<String>), Counts>;

pub fn parse(text: &str) -> Snapshot {
    let mut out = Snapshot::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let Some((name, labels, value)) = sample(line) else {
            continue;
        };
        let field: fn(&mut Counts) -> &mut f64 = match name {
            REQUESTS => |c| &mut c.requests,
            REQUESTS_FAILED => |c| &mut c.requests_failed,
            NOTIFICATIONS => |c| &mut c.notifications,
            FAILED => |c| &mut c.failed,
            _ => continue,
        };
        let Some(integration) = labels.get("integration") else {
            continue;
        };
        let key = (integration.clone(), labels.get("receiver_name").cloned());
        // `notifications_failed_total` has one series per `reason` in 0.28+.
        *field(out.entry(key).or_default()) += value;
    }
    out
}

/// Whether the counters are labelled by receiver.
pub fn per_receiver(s: &Snapshot) -> bool {
    s.keys().any(|(_, r)| r.is_some())
}

/// The counts for one integration (summed over receivers), or for one
/// receiver's integration when labelled.
pub fn get(s: &Snapshot, integration: &str, receiver: Option<&str>) -> Counts {
    let mut total = Counts::default();
    for ((i, r), c) in s {
        if i == integration && (receiver.is_none() || r.as_deref() == receiver) {
            total.notifications += c.notifications;
            total.failed += c.failed;
            total.requests += c.requests;
            total.requests_failed += c.requests_failed;
        }
    }
    total
}

/// `name{a="b",c="d"} 1.5` → name, labels, value.
fn sample(line: &str) -> Option<(&str, BTreeMap<String, String>, f64)> {
    let line = line.trim();
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut key = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '}' => {
                    end = Some(i);
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        let (_, c) = chars.next()?;
                        match c {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
        rest = &body[end? + 1..];
    }
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some((name, labels, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_reasons_and_keeps_receivers_apart() {
        let text = r#"# HELP alertmanager_notifications_total The total number of attempted notifications.
# TYPE alertmanager_notifications_total counter
alertmanager_notifications_total{integration="webhook"} 3
alertmanager_notifications_failed_total{integration="webhook",reason="clientError"} 1
alertmanager_notifications_failed_total{integration="webhook",reason="serverError"} 1
alertmanager_notification_requests_total{integration="webhook"} 7
alertmanager_notification_requests_failed_total{integration="webhook"} 5
alertmanager_notification_requests_total{integration="email",receiver_name="ops \"x\""} 2
"#;
        let s = parse(text);
        assert_eq!(
            get(&s, "webhook", None),
            Counts {
                notifications: 3.0,
                failed: 2.0,
                requests: 7.0,
                requests_failed: 5.0
            }
        );
        assert_eq!(get(&s, "webhook", None).successes(), 2.0);
        assert!(per_receiver(&s));
        assert_eq!(get(&s, "email", Some("ops \"x\"")).requests, 2.0);
        assert_eq!(get(&s, "email", Some("other")).requests, 0.0);
    }
}
