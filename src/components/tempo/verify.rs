//! Tempo's `--deep` round trip: send one OTLP/HTTP span with fresh random
//! IDs to the receiver (`POST /v1/traces`) and read its trace back through
//! the query API (`GET /api/v2/traces/<id>`, Tempo 3's documented trace by
//! ID: `{"trace": {"resourceSpans": …}}`, 404 until the trace is queryable).
//! Readiness (`/ready`) is the generic `ready` probe of the catalog entry.

use crate::model::Kind;
use crate::verify::kit::{
    Attempt, Context, Finding, Http, Probe, Work, all, join, poll, send_test_span, str_at,
};
use serde_json::Value;
use tokio::time::Instant;

pub const CHECK: &str = "OTLP span stored and queried";

/// The round-trip probe, when both ports are reachable from here.
pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let bases = (
        cx.endpoints.base(Kind::Tempo, "otlp_http"),
        cx.endpoints.base(Kind::Tempo, "http"),
    );
    out.push(match bases {
        (Ok(otlp), Ok(query)) => Probe::new(
            Kind::Tempo,
            vec![CHECK.into()],
            Some(join(otlp, "/v1/traces")),
            RoundTrip {
                otlp: otlp.to_string(),
                query: query.to_string(),
            },
        ),
        (Err(reason), _) | (_, Err(reason)) => {
            Probe::unreachable(Kind::Tempo, vec![CHECK.into()], reason)
        }
    });
}

#[derive(Debug)]
struct RoundTrip {
    otlp: String,
    query: String,
}

impl Work for RoundTrip {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], deadline: Instant) -> Attempt<'a> {
        Box::pin(async move {
            match round_trip(http, &self.otlp, &self.query, deadline).await {
                Ok(seen) => vec![Finding::pass(&checks[0], seen)],
                Err(e) => all(checks, e),
            }
        })
    }
}

async fn round_trip(
    http: &Http,
    otlp: &str,
    query: &str,
    deadline: Instant,
) -> Result<String, String> {
    let (trace, span) = send_test_span(http, otlp).await?;
    let get = join(query, &format!("/api/v2/traces/{trace}"));
    let found = poll(deadline, || async {
        let reply = http.get(&get, None).await?;
        match reply.status {
            // Not queryable yet (the live store flushes traces after ~5 s idle).
            404 => Ok(None),
            s if (200..300).contains(&s) => {
                let body = reply.json().map_err(|e| format!("{get}: {e}"))?;
                Ok(has_span(&body, &span).then(|| format!("trace {trace} found")))
            }
            _ => Err(format!("{get} answered {}", reply.describe())),
        }
    })
    .await?;
    found.ok_or_else(|| {
        format!("Tempo accepted the test span but trace {trace} was not found at {get}")
    })
}

/// Whether a trace-by-ID answer holds the span. Tempo marshals IDs with
/// protobuf's JSON mapping (base64 bytes); hex is accepted as well.
fn has_span(body: &Value, span: &str) -> bool {
    let b64 = hex_to_base64(span);
    let list = |v: &Value, key: &str| v.get(key).and_then(Value::as_array).cloned();
    let resource_spans = body
        .get("trace")
        .and_then(|t| list(t, "resourceSpans"))
        .unwrap_or_default();
    resource_spans
        .iter()
        .flat_map(|rs| list(rs, "scopeSpans").unwrap_or_default())
        .flat_map(|ss| list(&ss, "spans").unwrap_or_default())
        .any(|s| {
            let id = str_at(&s, "spanId");
            id.eq_ignore_ascii_case(span) || b64.as_deref() == Some(id)
        })
}

/// Standard base64 (with padding) of the bytes a hex string spells.
fn hex_to_base64(hex: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<_>>()?;
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_of_ids_matches_protobuf_json() {
        // 8-byte span ID 0102030405060708 → AQIDBAUGBwg= (RFC 4648).
        assert_eq!(
            hex_to_base64("0102030405060708").as_deref(),
            Some("AQIDBAUGBwg=")
        );
        assert_eq!(hex_to_base64("ff").as_deref(), Some("/w=="));
        assert_eq!(hex_to_base64("zz"), None);
    }

    #[test]
    fn finds_the_span_in_a_v2_answer_only() {
        let v2 = json!({"trace": {"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "AQIDBAUGBwg="}]}]}]}});
        assert!(has_span(&v2, "0102030405060708"));
        assert!(!has_span(&v2, "0102030405060709"));
        // The v1 shape (`batches`) is not what /api/v2 answers.
        let v1 = json!({"batches": [{"scopeSpans": [{"spans": [{"spanId": "AQIDBAUGBwg="}]}]}]});
        assert!(!has_span(&v1, "0102030405060708"));
    }
}
