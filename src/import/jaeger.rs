//! Jaeger v2 configs (`jaeger/config.yaml`, an OpenTelemetry Collector
//! config) onto `components.jaeger`: the span storage backend and its
//! settings, and whether the legacy Jaeger and Zipkin receivers are on. The
//! rest is compared with stackctl's render, which reports what differs.

use super::Ctx;
use super::report::Outcome;
use super::source::{self, SourceFile};
use serde_json::json;

pub fn read(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    if ctx.get(&["components", "jaeger"]).is_none() {
        ctx.set(&["components", "jaeger"], json!({}));
    }
    ctx.from("/components/jaeger".into(), f, 1);
    ctx.compared.push((
        crate::components::jaeger::plan::CONFIG.into(),
        f.to_string(),
        file.root.clone(),
    ));
    let root = &file.root;
    let set = |ctx: &mut Ctx, key: &str, v: serde_json::Value| {
        ctx.set(&["components", "jaeger", key], v);
    };
    if let Some(receivers) = source::get(root, "receivers") {
        if source::get(receivers, "jaeger").is_some() || source::get(receivers, "zipkin").is_some()
        {
            set(ctx, "legacy_receivers", json!(true));
        }
    }
    let backends = source::get(root, "extensions")
        .and_then(|e| source::get(e, "jaeger_storage"))
        .and_then(|s| source::get(s, "backends"));
    let Some(backends) = backends else { return };
    let entries = source::entries(backends);
    for (name, _) in entries.iter().skip(1) {
        let line = source::get(backends, name).map_or(1, source::line);
        ctx.note(
            Outcome::NotExpressed,
            f,
            line,
            format!("storage backend `{name}`: stackctl writes one backend (`main_store`)"),
        );
    }
    let Some((_, backend)) = entries.first() else {
        return;
    };
    if let Some(m) = source::get(backend, "memory") {
        if let Some(n) = source::get(m, "max_traces").and_then(source::text) {
            if n != "100000" {
                if let Ok(n) = n.parse::<u32>() {
                    set(ctx, "max_traces", json!(n));
                }
            }
        }
    } else if let Some(b) = source::get(backend, "badger") {
        set(ctx, "storage", json!("badger"));
        if let Some(ttl) = source::get(b, "ttl")
            .and_then(|t| source::get(t, "spans"))
            .and_then(source::text)
        {
            if ttl != "168h" {
                set(ctx, "span_retention", json!(ttl));
            }
        }
    } else if let Some(es) = source::get(backend, "elasticsearch") {
        set(ctx, "storage", json!("elasticsearch"));
        let url = source::get(es, "server_urls")
            .and_then(|u| source::items(u).first())
            .and_then(source::text);
        let default = format!(
            "http://elasticsearch:{}",
            crate::model::Kind::Elasticsearch
                .port("http")
                .map_or(9200, |p| p.container)
        );
        if let Some(url) = url.filter(|u| *u != default) {
            set(ctx, "elasticsearch_url", json!(url));
        }
    } else {
        ctx.note(
            Outcome::NotExpressed,
            f,
            source::line(backend),
            "span storage backend: stackctl writes memory, badger or elasticsearch",
        );
    }
}
