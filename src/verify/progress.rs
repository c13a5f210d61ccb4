//! `verify --wait` on a terminal: one status line, redrawn in place, saying
//! how long it has waited and which checks still fail. The runner only
//! records (`Watch::record`); a thread draws. Piped, in CI, with `TERM=dumb`
//! or `--quiet` nothing is drawn: the output stays plain.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the probes of the running round say, as they finish attempts.
pub struct Watch {
    started: Instant,
    wait: Duration,
    /// Per probe: its checks failing at its last attempt (`service check`).
    failing: Mutex<Vec<Vec<String>>>,
}

impl Watch {
    pub fn new(probes: usize, wait: Duration) -> Watch {
        Watch {
            started: Instant::now(),
            wait,
            failing: Mutex::new(vec![Vec::new(); probes]),
        }
    }

    pub fn record(&self, probe: usize, failing: Vec<String>) {
        if let Ok(mut all) = self.failing.lock() {
            if let Some(slot) = all.get_mut(probe) {
                *slot = failing;
            }
        }
    }

    fn snapshot(&self) -> Vec<String> {
        self.failing
            .lock()
            .map(|all| all.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }
}

/// The status line, at most `width` terminal cells (no newline):
/// `verify --wait: 12s of 2m, 2 checks failing: prometheus targets up, grafana health`.
pub fn line(elapsed: Duration, wait: Duration, failing: &[String], width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let head = format!(
        "verify --wait: {}s of {}s",
        elapsed.as_secs(),
        wait.as_secs()
    );
    let text = match failing.len() {
        0 => format!("{head}, waiting for the first answers"),
        n => format!(
            "{head}, {n} check{} failing: {}",
            if n == 1 { "" } else { "s" },
            failing.join(", ")
        ),
    };
    // Wider than the terminal would wrap, and `\r` would then redraw only
    // the last row: cut at the width, with an ellipsis.
    let mut out = String::new();
    let mut used = 0;
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text;
    }
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Whether stderr should get the live line.
pub fn wanted() -> bool {
    use std::io::IsTerminal;
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    std::io::stderr().is_terminal() && !ci && !dumb
}

/// The drawing thread; dropping it stops the thread and clears the line.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const REDRAW: Duration = Duration::from_millis(250);

impl Ticker {
    pub fn start(watch: Arc<Watch>) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut err = std::io::stderr();
            while !stopped.load(Ordering::Relaxed) {
                let text = line(
                    watch.started.elapsed(),
                    watch.wait,
                    &watch.snapshot(),
                    terminal_width().saturating_sub(1),
                );
                let _ = write!(err, "\r\x1b[2K{text}");
                let _ = err.flush();
                std::thread::sleep(REDRAW);
            }
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Columns of the terminal on stderr (`COLUMNS`, else the tty's size, else 80).
fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return n;
    }
    // SAFETY: TIOCGWINSZ fills the zeroed `winsize` we own; a failure leaves
    // it zero, which falls back to 80.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        size.ws_col as usize
    } else {
        80
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_what_still_fails_and_fits_the_width() {
        let s = Duration::from_secs;
        assert_eq!(
            line(s(3), s(120), &[], 200),
            "verify --wait: 3s of 120s, waiting for the first answers"
        );
        let failing = vec![
            "prometheus targets up".to_string(),
            "grafana health".to_string(),
        ];
        assert_eq!(
            line(s(12), s(120), &failing, 200),
            "verify --wait: 12s of 120s, 2 checks failing: prometheus targets up, grafana health"
        );
        let cut = line(s(12), s(120), &failing, 40);
        assert_eq!(cut, "verify --wait: 12s of 120s, 2 checks fa…");
        assert_eq!(cut.chars().count(), 40);
        // Cut by cells, not characters: a CJK check name takes two each.
        let cjk = line(s(1), s(2), &["監視".repeat(20)], 40);
        assert!(cjk.ends_with('…'), "{cjk}");
        use unicode_width::UnicodeWidthStr;
        assert!(cjk.width() <= 40, "{cjk}");
    }
}
