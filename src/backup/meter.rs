//! Progress of a long copy: on a terminal, one line redrawn in place at
//! most four times a second (bytes, rate); piped, nothing until the caller
//! prints its plain summary line, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(250);

pub struct Meter {
    label: String,
    bytes: u64,
    started: Instant,
    last: Instant,
    terminal: bool,
    drawn: bool,
}

impl Meter {
    /// Draws on stderr when it is a terminal (not in CI, not `TERM=dumb`).
    pub fn stderr(label: &str) -> Meter {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Meter::new(label, std::io::stderr().is_terminal() && !ci && !dumb)
    }

    /// Never draws (tests, or when the caller reports by itself).
    pub fn quiet(label: &str) -> Meter {
        Meter::new(label, false)
    }

    fn new(label: &str, terminal: bool) -> Meter {
        let now = Instant::now();
        Meter {
            label: label.to_string(),
            bytes: 0,
            started: now,
            last: now,
            terminal,
            drawn: false,
        }
    }

    pub fn add(&mut self, n: u64) {
        self.bytes += n;
        if self.terminal && self.last.elapsed() >= REDRAW {
            self.last = Instant::now();
            let line = format!(
                "\r\x1b[2K  {:<24} {} ({}/s)",
                self.label,
                human(self.bytes),
                human(self.rate())
            );
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line.as_bytes()).and_then(|()| err.flush());
            self.drawn = true;
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Bytes per second so far.
    pub fn rate(&self) -> u64 {
        let secs = self.started.elapsed().as_secs_f64();
        if secs <= 0.0 {
            return 0;
        }
        (self.bytes as f64 / secs) as u64
    }

    /// Clears the line, if one was drawn.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[2K").and_then(|()| err.flush());
            self.drawn = false;
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `1.5 GiB`, `320.0 KiB`, `12 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::human(12), "12 B");
        assert_eq!(super::human(1536), "1.5 KiB");
        assert_eq!(super::human(2 << 30), "2.0 GiB");
    }
}
