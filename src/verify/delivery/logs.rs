//! The notification errors Alertmanager logs, which are the only place it
//! says *why* a receiver failed: `Notify attempt failed, will retry later`
//! (warn, with `receiver` and `integration`, at the first failed attempt)
//! and `Notify for alerts failed` (error, once the retries give up; the
//! receiver is the prefix of `err`, `NAME/webhook[0]: …`). Both log formats
//! are logfmt: go-kit's up to 0.26 (`ts=`, `level=warn`) and slog's from
//! 0.27 (`time=`, `level=WARN`).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub receiver: String,
    /// `webhook[0]`, `email[0]`, … (empty when the line does not say).
    pub integration: String,
    pub error: String,
    /// The retries gave up (`Notify for alerts failed`), not one attempt.
    pub gave_up: bool,
}

/// Failures logged at or after `since` (RFC 3339; lines without a
/// timestamp are kept) for the receivers named.
pub fn failures(text: &str, since: &str, receivers: &[&str]) -> Vec<Failure> {
    let since = chrono::DateTime::parse_from_rfc3339(since).ok();
    let mut out = Vec::new();
    for line in text.lines() {
        let fields = logfmt(line);
        let Some(msg) = fields.get("msg") else {
            continue;
        };
        let at = fields
            .get("ts")
            .or_else(|| fields.get("time"))
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if let (Some(at), Some(since)) = (at, since) {
            if at < since {
                continue;
            }
        }
        let err = fields.get("err").cloned().unwrap_or_default();
        match msg.as_str() {
            "Notify attempt failed, will retry later" => {
                let Some(receiver) = fields.get("receiver") else {
                    continue;
                };
                if receivers.contains(&receiver.as_str()) {
                    out.push(Failure {
                        receiver: receiver.clone(),
                        integration: fields.get("integration").cloned().unwrap_or_default(),
                        error: err,
                        gave_up: false,
                    });
                }
            }
            "Notify for alerts failed" => {
                // `err` is `RECEIVER/INTEGRATION[i]: …`; receiver names may
                // hold `/`, so the longest known name that prefixes it wins.
                let Some(receiver) = receivers
                    .iter()
                    .filter(|r| err.starts_with(&format!("{r}/")))
                    .max_by_key(|r| r.len())
                else {
                    continue;
                };
                let rest = &err[receiver.len() + 1..];
                let integration = rest.split(':').next().unwrap_or_default().to_string();
                out.push(Failure {
                    receiver: receiver.to_string(),
                    integration,
                    error: err.clone(),
                    gave_up: true,
                });
            }
            _ => {}
        }
    }
    out
}

/// `key=value key="quoted \"value\""` → map; words without `=` are skipped
/// (a Docker timestamp prefix, say).
pub fn logfmt(line: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ' ' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue;
        }
        chars.next();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some(other) => value.push(other),
                        None => break,
                    },
                    other => value.push(other),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"ts=2026-12-02T16:40:00.123Z caller=dispatch.go:352 level=info component=dispatcher msg="Completed loading of configuration file"
ts=2026-12-02T16:40:01.500Z caller=notify.go:732 level=warn component=dispatcher receiver=team integration=webhook[0] msg="Notify attempt failed, will retry later" attempts=1 err="Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused"
ts=2026-12-02T16:40:11.500Z caller=dispatch.go:354 level=error component=dispatcher msg="Notify for alerts failed" num_alerts=1 err="team/webhook[0]: notify retry canceled after 4 attempts: Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused""#;

    const NEW: &str = r#"time=2026-12-02T16:39:00.000Z level=WARN source=retry_stage.go:163 msg="Notify attempt failed, will retry later" component=dispatcher receiver=team integration=email[0] aggrGroup="{}:{}" attempts=1 err="too old""#;

    #[test]
    fn both_log_formats_name_the_receiver_and_the_error() {
        let got = failures(OLD, "2026-12-02T16:40:00Z", &["team", "other"]);
        let refused =
            "Post \"http://127.0.0.1:1/\": dial tcp 127.0.0.1:1: connect: connection refused";
        assert_eq!(
            got,
            [
                Failure {
                    receiver: "team".into(),
                    integration: "webhook[0]".into(),
                    error: refused.into(),
                    gave_up: false,
                },
                Failure {
                    receiver: "team".into(),
                    integration: "webhook[0]".into(),
                    error: format!(
                        "team/webhook[0]: notify retry canceled after 4 attempts: {refused}"
                    ),
                    gave_up: true,
                },
            ]
        );
        let new = NEW.replace("16:39", "16:41");
        assert_eq!(
            failures(&new, "2026-12-02T16:40:00Z", &["team"])[0].integration,
            "email[0]"
        );
        // Lines from before the run are not this run's.
        assert!(failures(NEW, "2026-12-02T16:40:00Z", &["team"]).is_empty());
        assert!(failures(OLD, "2026-12-02T16:40:00Z", &["other"]).is_empty());
    }
}
