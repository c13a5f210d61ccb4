//! Small value types of the spec that check themselves while loading: a
//! `Duration` is a Prometheus duration, a `Version` is comparable, a `Matcher`
//! is parsed. Each reports a wrong value with the position of that value.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Carries a hint through serde's `custom` error; `yaml::de` splits it off again.
fn invalid<E: serde::de::Error>(message: String, hint: &str) -> E {
    E::custom(format!("{message}\nhelp: {hint}"))
}

/// A Prometheus duration such as `30s`, `5m` or `1h30m`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    text: String,
    millis: u64,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, String> {
        const UNITS: [(&str, u64); 8] = [
            ("ms", 1),
            ("s", 1_000),
            ("m", 60_000),
            ("h", 3_600_000),
            ("d", 86_400_000),
            ("w", 604_800_000),
            ("y", 31_536_000_000),
            ("", 0),
        ];
        if text.is_empty() {
            return Err("empty duration".into());
        }
        // Prometheus accepts a bare `0` (and only that number without a unit).
        if text == "0" {
            return Ok(Duration {
                text: text.to_string(),
                millis: 0,
            });
        }
        let mut rest = text;
        let mut millis: u64 = 0;
        let mut last_rank: Option<usize> = None;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(format!("invalid duration `{text}`"));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("duration `{text}` is too large"))?;
            rest = &rest[digits..];
            let Some((rank, (unit, factor))) = UNITS[..7]
                .iter()
                .enumerate()
                // `ms` must be tried before `m`.
                .find(|(_, (unit, _))| rest.starts_with(unit))
            else {
                return Err(format!("invalid duration `{text}`: missing unit"));
            };
            // Units go from largest to smallest, each at most once (`1h30m`, not `30m1h`).
            let order = [6usize, 5, 4, 3, 2, 1, 0];
            let unit_order = order[rank];
            if last_rank.is_some_and(|last| unit_order <= last) {
                return Err(format!(
                    "invalid duration `{text}`: units must go from largest to smallest"
                ));
            }
            last_rank = Some(unit_order);
            rest = &rest[unit.len()..];
            millis = number
                .checked_mul(*factor)
                .and_then(|m| millis.checked_add(m))
                .ok_or_else(|| format!("duration `{text}` is too large"))?;
        }
        // Prometheus, Alertmanager and Docker hold durations as Go's
        // `time.Duration` (i64 nanoseconds, about 292 years): beyond that they
        // refuse the file, or wrap around.
        if millis > (i64::MAX as u64) / 1_000_000 {
            return Err(format!(
                "duration `{text}` is too large (at most about 292 years)"
            ));
        }
        Ok(Duration {
            text: text.to_string(),
            millis,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn millis(&self) -> u64 {
        self.millis
    }

    pub fn seconds(&self) -> u64 {
        self.millis / 1000
    }

    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.millis)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(|m| {
            invalid(
                m,
                "use a number with a unit: ms, s, m, h, d, w, y (e.g. `30s`, `5m`, `1h30m`)",
            )
        })
    }
}

/// A component version as written in the spec, which is also the image tag:
/// `v3.14.0`, `13.2.0`, `v3.14.0-distroless`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    text: String,
    parts: [u64; 3],
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        if text == "latest" || text.is_empty() {
            return Err(format!("`{text}` is not a pinned version"));
        }
        let core = text.strip_prefix('v').unwrap_or(text);
        let core = core.split(['-', '+']).next().unwrap_or(core);
        let mut parts = [0u64; 3];
        let mut count = 0;
        for (i, piece) in core.split('.').enumerate() {
            if i >= 3 {
                return Err(format!("invalid version `{text}`"));
            }
            parts[i] = piece
                .parse()
                .map_err(|_| format!("invalid version `{text}`"))?;
            count += 1;
        }
        if count == 0 {
            return Err(format!("invalid version `{text}`"));
        }
        Ok(Version {
            text: text.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn major(&self) -> u64 {
        self.parts[0]
    }

    /// True when this version is at least `major.minor.patch`.
    pub fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.parts >= [major, minor, patch]
    }

    /// The tag suffix after the numeric part, e.g. `distroless`.
    pub fn suffix(&self) -> Option<&str> {
        let core = self.text.strip_prefix('v').unwrap_or(&self.text);
        core.split_once('-').map(|(_, s)| s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map_err(|m| {
            invalid(
                m,
                "pin an exact release as the image tags it, e.g. `v3.14.0` or `13.2.0`",
            )
        })
    }
}

/// A published host port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        if (1..=65535).contains(&n) {
            Ok(Port(n as u16))
        } else {
            Err(invalid(
                format!("port {n} is out of range"),
                "a port is a number from 1 to 65535",
            ))
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LabelName(String);

impl LabelName {
    pub fn is_valid(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A label name built in code (generated rules): `None` when not valid.
    pub fn new(name: &str) -> Option<LabelName> {
        LabelName::is_valid(name).then(|| LabelName(name.to_string()))
    }

    /// A valid name close to `text`, for hints: `team-name` → `team_name`,
    /// `1st` → `_1st` (never `text` itself).
    pub fn suggestion(text: &str) -> String {
        let mut suggestion: String = text
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if suggestion.is_empty() || suggestion.starts_with(|c: char| c.is_ascii_digit()) {
            suggestion.insert(0, '_');
        }
        suggestion
    }

    /// Rule labels and annotations: any non-empty name, as Prometheus 3 takes
    /// UTF-8 names there; `check::rules` holds them to the pinned release.
    pub fn deserialize_utf8_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<LabelName, String>, D::Error> {
        #[derive(PartialEq, Eq, PartialOrd, Ord)]
        struct Utf8(String);
        impl<'de> Deserialize<'de> for Utf8 {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                if text.is_empty() {
                    return Err(invalid(
                        "empty label name".to_string(),
                        "label and annotation names are letters, digits and `_`, e.g. `severity`",
                    ));
                }
                Ok(Utf8(text))
            }
        }
        let map = BTreeMap::<Utf8, String>::deserialize(d)?;
        Ok(map.into_iter().map(|(k, v)| (LabelName(k.0), v)).collect())
    }
}

impl fmt::Display for LabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LabelName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if LabelName::is_valid(&text) {
            Ok(LabelName(text))
        } else {
            // `1st` must not be offered as the fix for `1st`.
            let suggestion = LabelName::suggestion(&text);
            Err(invalid(
                format!("invalid label name `{text}`"),
                &format!(
                    "label names are letters, digits and `_`, not starting with a digit (e.g. `{suggestion}`)"
                ),
            ))
        }
    }
}

/// A memory size for resource limits: `512m`, `2g`, `1.5g`, `256Mi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemSize {
    text: String,
    bytes: u64,
}

impl MemSize {
    /// Docker refuses a memory limit below 6 MiB.
    pub const MIN: u64 = 6 * 1024 * 1024;
    /// Far above any host a monitoring container runs on; beyond it is a typo.
    pub const MAX: u64 = 16 * 1024u64.pow(4);

    pub fn parse(text: &str) -> Result<MemSize, String> {
        let lower = text.to_ascii_lowercase();
        let split = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (number, unit) = lower.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("invalid memory size `{text}`"))?;
        let factor: f64 = match unit.trim_end_matches('b').trim_end_matches('i') {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024.0 * 1024.0,
            "g" => 1024.0 * 1024.0 * 1024.0,
            "t" => 1024.0f64.powi(4),
            _ => return Err(format!("invalid memory size `{text}`")),
        };
        // Range-check the exact product before the cast, which would
        // saturate (`99999999999999999999g` became u64::MAX) or truncate.
        let bytes = number * factor;
        if bytes == 0.0 {
            return Err(format!("memory size `{text}` is zero"));
        }
        if bytes < MemSize::MIN as f64 {
            return Err(format!(
                "memory size `{text}` is below Docker's minimum of 6 MiB (a number without a unit is bytes)"
            ));
        }
        if !bytes.is_finite() || bytes > MemSize::MAX as f64 {
            return Err(format!("memory size `{text}` is larger than 16 TiB"));
        }
        let bytes = bytes as u64;
        Ok(MemSize {
            text: text.to_string(),
            bytes,
        })
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Serialize for MemSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for MemSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        MemSize::parse(&text)
            .map_err(|m| invalid(m, "use a number with k, m, g or t, e.g. `512m` or `2g`"))
    }
}

/// An Alertmanager matcher: `severity="critical"`, `team=~"ml|data"`, `env!=dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    NotEq,
    Re,
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::NotEq => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let trimmed = text.trim();
        let Some(pos) = trimmed.find(['=', '!']) else {
            return Err(format!("invalid matcher `{text}`: no operator"));
        };
        let name = trimmed[..pos].trim();
        let rest = &trimmed[pos..];
        let (op, value) = if let Some(v) = rest.strip_prefix("=~") {
            (MatchOp::Re, v)
        } else if let Some(v) = rest.strip_prefix("!~") {
            (MatchOp::NotRe, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (MatchOp::NotEq, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (MatchOp::Eq, v)
        } else {
            return Err(format!("invalid matcher `{text}`: unknown operator"));
        };
        if !LabelName::is_valid(name) {
            return Err(format!(
                "invalid matcher `{text}`: `{name}` is not a label name"
            ));
        }
        let value = value.trim();
        let value = if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            unescape(&value[1..value.len() - 1])
                .ok_or_else(|| format!("invalid matcher `{text}`: bad escape in value"))?
        } else if value.contains('"') {
            return Err(format!("invalid matcher `{text}`: unbalanced quotes"));
        } else {
            value.to_string()
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value,
        })
    }

    /// The matcher as Alertmanager's `matchers` syntax, value always quoted.
    pub fn to_alertmanager(&self) -> String {
        format!(
            "{}{}\"{}\"",
            self.name,
            self.op.as_str(),
            self.value.replace('\\', "\\\\").replace('"', "\\\"")
        )
    }

    /// Whether a label set satisfies this matcher (regexes are checked by the
    /// validator, which has the regex engine; here only equality ops decide).
    pub fn matches_literal(&self, value: Option<&str>) -> Option<bool> {
        let v = value.unwrap_or("");
        match self.op {
            MatchOp::Eq => Some(v == self.value),
            MatchOp::NotEq => Some(v != self.value),
            _ => None,
        }
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_alertmanager())
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Matcher::parse(&text).map_err(|m| {
            invalid(
                m,
                "write `label=\"value\"`, `label!=\"value\"`, `label=~\"regex\"` or `label!~\"regex\"`",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, millis) in [
            ("0", 0),
            ("30s", 30_000),
            ("5m", 300_000),
            ("1h30m", 5_400_000),
            ("100ms", 100),
            ("744h", 2_678_400_000),
        ] {
            assert_eq!(Duration::parse(text).unwrap().millis(), millis, "{text}");
        }
        for bad in ["5 minutes", "", "5", "m5", "30m1h", "1.5h", "5M"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_compare_numerically() {
        let v = Version::parse("v3.14.0").unwrap();
        assert!(v.at_least(3, 0, 0));
        assert!(v.at_least(3, 9, 0));
        assert!(!v.at_least(3, 15, 0));
        let v = Version::parse("2.42").unwrap();
        assert!(v.at_least(2, 42, 0) && !v.at_least(3, 0, 0));
        assert_eq!(
            Version::parse("v3.14.0-distroless").unwrap().suffix(),
            Some("distroless")
        );
        assert!(Version::parse("latest").is_err());
        assert!(Version::parse("abc").is_err());
    }

    #[test]
    fn matchers() {
        let m = Matcher::parse("severity=\"critical\"").unwrap();
        assert_eq!(
            (m.name.as_str(), m.op, m.value.as_str()),
            ("severity", MatchOp::Eq, "critical")
        );
        let m = Matcher::parse("team =~ ml|data").unwrap();
        assert_eq!((m.op, m.value.as_str()), (MatchOp::Re, "ml|data"));
        assert_eq!(m.to_alertmanager(), "team=~\"ml|data\"");
        assert!(Matcher::parse("severity").is_err());
        assert!(Matcher::parse("1abc=x").is_err());
    }

    #[test]
    fn mem_sizes() {
        assert_eq!(MemSize::parse("512m").unwrap().bytes(), 512 * 1024 * 1024);
        assert_eq!(
            MemSize::parse("2Gi").unwrap().bytes(),
            2 * 1024 * 1024 * 1024
        );
        assert!(MemSize::parse("lots").is_err());
    }

    #[test]
    fn label_names() {
        assert!(LabelName::is_valid("severity"));
        assert!(LabelName::is_valid("_x1"));
        assert!(!LabelName::is_valid("1x"));
        assert!(!LabelName::is_valid("team-name"));
    }
}
