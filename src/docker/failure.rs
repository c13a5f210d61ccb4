//! How `up` words a failure: the service, what happened (exit code and last
//! log lines, last healthcheck output) and what to do about it.

use super::Problem;
use super::engine::{EngineError, State};
use crate::plan::Service;
use std::time::Duration;

pub(super) fn start_failure(s: &Service, e: &EngineError) -> Problem {
    let text = e.to_string();
    let hint = if text.contains("port is already allocated")
        || text.contains("address already in use")
    {
        Some("another process took the port after the check; free it and run `stackctl up` again")
    } else if matches!(e, EngineError::Conflict(_)) {
        Some(
            "a container of that name exists but does not carry this stack's labels; remove it with `docker rm -f`",
        )
    } else {
        None
    };
    Problem::new(
        format!("service `{}` could not be started: {text}", s.name),
        hint,
    )
}

pub(super) fn exited(s: &Service, container: &str, state: &State, logs: &str) -> Problem {
    let mut message = if state.status == "running" {
        format!(
            "service `{}` keeps exiting (restarted {} times)",
            s.name, state.restart_count
        )
    } else {
        format!("service `{}` exited with code {}", s.name, state.exit_code)
    };
    if state.oom_killed {
        message.push_str(" (killed: out of memory)");
    }
    if let Some(err) = state.error.as_deref().filter(|e| !e.is_empty()) {
        message.push_str(&format!(": {err}"));
    }
    message.push_str(&indented_block("last log lines", &collapse_repeats(logs)));
    let hint = if state.oom_killed {
        format!(
            "raise `resources.memory` of the component; `docker logs {container}` shows the whole log"
        )
    } else {
        format!(
            "fix the spec (a bad flag in `extra_args`?) and run `stackctl up` again; `docker logs {container}` shows the whole log"
        )
    };
    Problem::new(message, Some(&hint))
}

pub(super) fn unhealthy(s: &Service, container: &str, state: &State) -> Problem {
    let mut message = format!(
        "service `{}` is unhealthy: its healthcheck kept failing",
        s.name
    );
    message.push_str(&indented_block(
        "last healthcheck output",
        state.last_health_output.as_deref().unwrap_or(""),
    ));
    Problem::new(
        message,
        Some(&format!(
            "`docker logs {container}` shows why the service is not answering"
        )),
    )
}

/// `3m`, `1m30s`, `45s`: as the user wrote `--wait`.
pub(super) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// A crash-looping process prints the same error on every restart: show it once.
fn collapse_repeats(logs: &str) -> String {
    let mut out: Vec<(String, usize)> = Vec::new();
    for line in logs.lines() {
        match out.last_mut() {
            Some((last, n)) if last == line => *n += 1,
            _ => out.push((line.to_string(), 1)),
        }
    }
    out.into_iter()
        .map(|(line, n)| {
            if n > 1 {
                format!("{line}  (×{n})")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn indented_block(title: &str, text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return format!("\n  ({title}: none)");
    }
    let mut out = format!("\n  {title}:");
    for line in text.lines() {
        out.push_str("\n    ");
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_written() {
        use std::time::Duration;
        assert_eq!(super::human(Duration::from_secs(180)), "3m");
        assert_eq!(super::human(Duration::from_secs(90)), "1m30s");
        assert_eq!(super::human(Duration::from_millis(45_500)), "45s");
    }

    #[test]
    fn repeated_log_lines_are_shown_once() {
        assert_eq!(
            super::collapse_repeats(
                "start\nerror: bad flag\nerror: bad flag\nerror: bad flag\nend\n"
            ),
            "start\nerror: bad flag  (×3)\nend"
        );
    }
}
