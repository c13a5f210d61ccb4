//! Alertmanager's time intervals: whether a time falls inside one range of
//! `times`, `weekdays`, `days_of_month`, `months` and `years` (every field
//! given must match; an absent field matches always), read in the range's
//! `location` (UTC by default; names from the system's time zone database,
//! as Alertmanager's Go runtime reads them).

use super::config::TimeRange;

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

pub fn contains(range: &TimeRange, at: jiff::Timestamp) -> Result<bool, String> {
    let tz = match range.location.as_deref() {
        None | Some("UTC") | Some("") => jiff::tz::TimeZone::UTC,
        Some("Local") => jiff::tz::TimeZone::system(),
        Some(name) => {
            jiff::tz::TimeZone::get(name).map_err(|e| format!("time zone `{name}`: {e}"))?
        }
    };
    let t = at.to_zoned(tz);
    if !range.times.is_empty() {
        let minute = i32::from(t.hour()) * 60 + i32::from(t.minute());
        let mut any = false;
        for c in &range.times {
            let (start, end) = (clock(&c.start_time)?, clock(&c.end_time)?);
            any |= start <= minute && minute < end;
        }
        if !any {
            return Ok(false);
        }
    }
    let weekday = i32::from(t.weekday().to_sunday_zero_offset());
    if !in_ranges(&range.weekdays, weekday, &|s| named(s, &WEEKDAYS, 0))? {
        return Ok(false);
    }
    let days = i32::from(t.days_in_month());
    let day = i32::from(t.day());
    if !range.days_of_month.is_empty() {
        let mut any = false;
        for r in &range.days_of_month {
            let (a, b) = split(r);
            let resolve = |s: &str| -> Result<i32, String> {
                let n: i32 = s
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{r}` is not a day of the month"))?;
                Ok(if n < 0 { days + n + 1 } else { n })
            };
            let (start, end) = (resolve(a)?, resolve(b)?);
            any |= start <= day && day <= end;
        }
        if !any {
            return Ok(false);
        }
    }
    if !in_ranges(&range.months, i32::from(t.month()), &|s| {
        named(s, &MONTHS, 1)
    })? {
        return Ok(false);
    }
    if !in_ranges(&range.years, i32::from(t.year()), &|s| {
        s.trim().parse().map_err(|_| format!("`{s}` is not a year"))
    })? {
        return Ok(false);
    }
    Ok(true)
}

/// `HH:MM` as minutes of the day (`24:00` is 1440).
fn clock(text: &str) -> Result<i32, String> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not HH:MM"))?;
    let (h, m): (i32, i32) = (
        h.parse().map_err(|_| format!("`{text}` is not HH:MM"))?,
        m.parse().map_err(|_| format!("`{text}` is not HH:MM"))?,
    );
    Ok(h * 60 + m)
}

fn split(range: &str) -> (&str, &str) {
    range.split_once(':').unwrap_or((range, range))
}

/// A name from `names` (case-insensitive) or its number (`first` is the
/// first name's number).
fn named(text: &str, names: &[&str], first: i32) -> Result<i32, String> {
    let t = text.trim().to_ascii_lowercase();
    if let Some(i) = names.iter().position(|n| *n == t) {
        return Ok(i as i32 + first);
    }
    t.parse()
        .map_err(|_| format!("`{text}` is not one of {}", names.join(", ")))
}

fn in_ranges(
    ranges: &[String],
    value: i32,
    parse: &dyn Fn(&str) -> Result<i32, String>,
) -> Result<bool, String> {
    if ranges.is_empty() {
        return Ok(true);
    }
    for r in ranges {
        let (a, b) = split(r);
        if parse(a)? <= value && value <= parse(b)? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::config::Clock;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    /// pynomaly's maintenance window: Sundays 02:00–04:00 UTC.
    fn window() -> TimeRange {
        TimeRange {
            times: vec![Clock {
                start_time: "02:00".into(),
                end_time: "04:00".into(),
            }],
            weekdays: vec!["sunday".into()],
            ..Default::default()
        }
    }

    #[test]
    fn start_inclusive_end_exclusive_on_the_right_weekday() {
        // 2026-12-06 is a Sunday.
        assert!(contains(&window(), at("2026-12-06T02:00:00Z")).unwrap());
        assert!(contains(&window(), at("2026-12-06T03:59:59Z")).unwrap());
        assert!(!contains(&window(), at("2026-12-06T04:00:00Z")).unwrap());
        assert!(!contains(&window(), at("2026-12-07T03:00:00Z")).unwrap());
    }

    #[test]
    fn negative_days_count_from_the_month_end_and_zones_apply() {
        let last = TimeRange {
            days_of_month: vec!["-1".into()],
            months: vec!["february:march".into()],
            years: vec!["2028".into()],
            ..Default::default()
        };
        assert!(contains(&last, at("2028-02-29T12:00:00Z")).unwrap());
        assert!(!contains(&last, at("2028-02-28T12:00:00Z")).unwrap());
        assert!(!contains(&last, at("2027-02-28T12:00:00Z")).unwrap());
        let berlin = TimeRange {
            times: vec![Clock {
                start_time: "09:00".into(),
                end_time: "17:00".into(),
            }],
            weekdays: vec!["monday:friday".into()],
            location: Some("Europe/Berlin".into()),
            ..Default::default()
        };
        // 08:30 UTC on a Monday in winter is 09:30 in Berlin.
        assert!(contains(&berlin, at("2026-12-07T08:30:00Z")).unwrap());
        assert!(!contains(&berlin, at("2026-12-07T07:30:00Z")).unwrap());
        assert!(
            contains(
                &TimeRange {
                    location: Some("Nowhere/City".into()),
                    ..Default::default()
                },
                at("2026-12-07T07:30:00Z")
            )
            .is_err()
        );
    }
}
