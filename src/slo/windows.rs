//! The multi-window, multi-burn-rate alert windows of the Google SRE workbook
//! ("Alerting on SLOs", table 5-8), for any compliance period.
//!
//! For a 30-day period they are the workbook's numbers: page when 2% of the
//! budget burns in 1h (14.4×, short window 5m) or 5% in 6h (6×, 30m); ticket
//! when 10% burns in 1d (3×, 2h) or 10% in 3d (1×, 6h). For another period
//! every window is scaled by period / 30d (rounded to whole minutes, at least
//! one minute) and the burn factor is recomputed from the same budget share,
//! `share × period / long window`, so an alert still means "this share of the
//! budget is gone" (Pyrra scales the same way; sloth only ships 28d and 30d).

/// One minute, the unit every window is rounded to.
const MINUTE: u64 = 60_000;
/// The workbook's period.
pub const BASE_PERIOD_MS: u64 = 30 * 24 * 60 * MINUTE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One burn-rate condition: the error ratio over both windows is above
/// `factor × budget`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    pub severity: Severity,
    /// Share of the period's error budget that has burnt when it fires, in percent.
    pub budget_percent: f64,
    pub long_ms: u64,
    pub short_ms: u64,
    pub factor: f64,
}

/// The workbook's four conditions for 30 days: (severity, budget %, long, short) in minutes.
const WORKBOOK: [(Severity, f64, u64, u64); 4] = [
    (Severity::Page, 2.0, 60, 5),
    (Severity::Page, 5.0, 6 * 60, 30),
    (Severity::Ticket, 10.0, 24 * 60, 2 * 60),
    (Severity::Ticket, 10.0, 3 * 24 * 60, 6 * 60),
];

/// The four conditions for a period of `period_ms`.
pub fn burn_windows(period_ms: u64) -> [BurnWindow; 4] {
    WORKBOOK.map(|(severity, budget_percent, long, short)| {
        let long_ms = scale(long * MINUTE, period_ms);
        let short_ms = scale(short * MINUTE, period_ms);
        BurnWindow {
            severity,
            budget_percent,
            long_ms,
            short_ms,
            factor: round(
                budget_percent / 100.0 * period_ms as f64 / long_ms as f64,
                4,
            ),
        }
    })
}

fn scale(window_ms: u64, period_ms: u64) -> u64 {
    if period_ms == BASE_PERIOD_MS {
        return window_ms;
    }
    let scaled = window_ms as f64 * period_ms as f64 / BASE_PERIOD_MS as f64;
    ((scaled / MINUTE as f64).round() as u64).max(1) * MINUTE
}

/// `x` rounded to `digits` decimals (14.399999 → 14.4).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Every window the rules need, shortest first: each alert window and the period.
pub fn all_windows(period_ms: u64) -> Vec<u64> {
    let mut out: Vec<u64> = burn_windows(period_ms)
        .iter()
        .flat_map(|w| [w.short_ms, w.long_ms])
        .chain([period_ms])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A window of at least a day is derived from the recorded shortest window
/// instead of re-reading the raw series: `rate(x[3d])` reads three days of
/// every raw series at each evaluation, the derived form one recorded series.
pub fn derived(window_ms: u64, period_ms: u64) -> bool {
    let base = all_windows(period_ms)[0];
    window_ms >= 24 * 60 * MINUTE && window_ms > base
}

/// A window as a Prometheus duration, largest units first: `5m`, `1h`, `3d`, `1h24m`.
pub fn duration_text(ms: u64) -> String {
    let mut rest = ms / MINUTE;
    let mut out = String::new();
    for (unit, minutes) in [("d", 24 * 60), ("h", 60), ("m", 1)] {
        if rest >= minutes {
            out.push_str(&format!("{}{unit}", rest / minutes));
            rest %= minutes;
        }
    }
    if out.is_empty() {
        out.push_str("0m");
    }
    out
}

/// A number as PromQL and YAML write it: shortest form, no float noise.
pub fn number(x: f64) -> String {
    let text = format!("{:.10}", round(x, 10));
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(period: &str) -> Vec<(String, String, String)> {
        let ms = crate::model::types::Duration::parse(period)
            .unwrap()
            .millis();
        burn_windows(ms)
            .iter()
            .map(|w| {
                (
                    number(w.factor),
                    duration_text(w.long_ms),
                    duration_text(w.short_ms),
                )
            })
            .collect()
    }

    fn row(f: &str, l: &str, s: &str) -> (String, String, String) {
        (f.into(), l.into(), s.into())
    }

    #[test]
    fn thirty_days_are_the_workbooks_numbers() {
        assert_eq!(
            summary("30d"),
            vec![
                row("14.4", "1h", "5m"),
                row("6", "6h", "30m"),
                row("3", "1d", "2h"),
                row("1", "3d", "6h"),
            ]
        );
        let ms = 30 * 24 * 3_600_000;
        let windows: Vec<String> = all_windows(ms).into_iter().map(duration_text).collect();
        assert_eq!(windows, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
        let derived: Vec<String> = all_windows(ms)
            .into_iter()
            .filter(|w| super::derived(*w, ms))
            .map(duration_text)
            .collect();
        assert_eq!(derived, ["1d", "3d", "30d"]);
    }

    #[test]
    fn other_periods_scale_windows_and_keep_budget_shares() {
        // 28 days: 28/30 of each window; factors stay (up to minute rounding).
        assert_eq!(
            summary("28d"),
            vec![
                row("14.4", "56m", "5m"),
                row("6", "5h36m", "28m"),
                row("3", "22h24m", "1h52m"),
                row("1", "2d19h12m", "5h36m"),
            ]
        );
        // 7 days: 5m × 7/30 rounds to 1m; 1h to 14m, so the page factor is
        // 2% × 7d / 14m = 14.4.
        assert_eq!(
            summary("7d"),
            vec![
                row("14.4", "14m", "1m"),
                row("6", "1h24m", "7m"),
                row("3", "5h36m", "28m"),
                row("1", "16h48m", "1h24m"),
            ]
        );
        // 1 year: 12.17× longer windows.
        assert_eq!(summary("365d")[0], row("14.4", "12h10m", "1h1m"));
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(number((100.0 - 99.9) / 100.0), "0.001");
        assert_eq!(number(14.4 * 0.001), "0.0144");
        assert_eq!(number(1.0), "1");
        assert_eq!(duration_text(90 * MINUTE), "1h30m");
        assert_eq!(duration_text(3 * 24 * 60 * MINUTE), "3d");
    }
}
