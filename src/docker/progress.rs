//! Progress of `up` on stderr: one plain line per event (CI logs stay
//! readable), and on a terminal a spinner line below them naming what is still
//! being waited for, redrawn in place.

use std::io::{IsTerminal, Write};
use std::time::Duration;

pub trait Progress {
    /// One event about a service, network or volume.
    fn line(&mut self, subject: &str, message: &str);
    /// The services still being waited for.
    fn waiting(&mut self, pending: &[String], elapsed: Duration);
    /// Clears the spinner line, if any.
    fn finish(&mut self);
}

/// Progress on stderr; a spinner only on a terminal, never in CI.
pub struct Stderr {
    spinner: bool,
    drawn: bool,
    frame: usize,
}

impl Stderr {
    pub fn new() -> Stderr {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Stderr {
            spinner: std::io::stderr().is_terminal() && !ci && !dumb,
            drawn: false,
            frame: 0,
        }
    }

    fn clear(&mut self, err: &mut impl Write) {
        if self.drawn {
            let _ = write!(err, "\r\x1b[2K");
            self.drawn = false;
        }
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Stderr::new()
    }
}

pub fn format_line(subject: &str, message: &str) -> String {
    format!("  {subject:<24} {message}")
}

impl Progress for Stderr {
    fn line(&mut self, subject: &str, message: &str) {
        let mut err = std::io::stderr().lock();
        self.clear(&mut err);
        let _ = writeln!(err, "{}", format_line(subject, message));
    }

    fn waiting(&mut self, pending: &[String], elapsed: Duration) {
        if !self.spinner || pending.is_empty() {
            return;
        }
        const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut text = format!(
            "{} {:>4.1}s waiting for {}",
            FRAMES[self.frame],
            elapsed.as_secs_f64(),
            pending.join(", ")
        );
        // One terminal line: a wrapped line could not be redrawn in place.
        if text.chars().count() > 100 {
            text = text.chars().take(99).collect::<String>() + "…";
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        self.drawn = true;
    }

    fn finish(&mut self) {
        let mut err = std::io::stderr().lock();
        self.clear(&mut err);
    }
}

/// Collects lines, for tests.
#[derive(Debug, Default)]
pub struct Recorder {
    pub lines: Vec<String>,
}

impl Progress for Recorder {
    fn line(&mut self, subject: &str, message: &str) {
        self.lines.push(format!("{subject}: {message}"));
    }

    fn waiting(&mut self, _pending: &[String], _elapsed: Duration) {}

    fn finish(&mut self) {}
}
