//! Components that need each other, settings that must be set together, and
//! component versions that are past their end of life.

use super::Findings;
use crate::model::{Kind, Stack};
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    let has = |k: Kind| stack.has(k);
    let needs = |found: &mut Findings, kind: Kind, needed: Kind, why: &str| {
        if has(kind) && !has(needed) {
            found.error(
                path!["components", kind.key()],
                format!(
                    "`{}` needs `{}`, which is not enabled",
                    kind.key(),
                    needed.key()
                ),
                format!("add `{}: {{}}` under `components:` ({why})", needed.key()),
            );
        }
    };
    needs(
        found,
        Kind::Kibana,
        Kind::Elasticsearch,
        "Kibana reads its data from Elasticsearch",
    );
    needs(
        found,
        Kind::Logstash,
        Kind::Elasticsearch,
        "Logstash writes to Elasticsearch",
    );
    needs(
        found,
        Kind::Promtail,
        Kind::Loki,
        "Promtail ships logs to Loki",
    );
    needs(found, Kind::Alloy, Kind::Loki, "Alloy ships logs to Loki");

    if has(Kind::Promtail) && has(Kind::Alloy) {
        found.error(
            path!["components", "promtail"],
            "both `promtail` and `alloy` are enabled; they would ship every log twice",
            "keep `alloy` (Promtail reached end of life on 2026-03-02) and remove `promtail`",
        );
    }
    if has(Kind::Promtail) {
        let version = stack.version_of(Kind::Promtail);
        found.warning(
            path!["components", "promtail"],
            format!("Promtail {version} is past its end of life (2026-03-02) and gets no fixes"),
            "replace `promtail: {}` with `alloy: {}`; `logs.sources` stay the same",
        );
        if version.at_least(3, 7, 0) {
            found.error(
                path!["components", "promtail", "version"],
                format!("there is no Promtail {version}: Promtail was removed from Loki 3.7"),
                "pin a 3.6 release such as `3.6.15`, or switch to `alloy`",
            );
        }
    }

    if stack.has(Kind::Prometheus) || stack.has(Kind::Alertmanager) {
        match (&stack.alerting, stack.has(Kind::Alertmanager)) {
            (Some(_), false) => found.error(
                path!["alerting"],
                "`alerting` is set but `alertmanager` is not enabled",
                "add `alertmanager: {}` under `components:`, or remove `alerting`",
            ),
            (None, true) => found.error(
                path!["components", "alertmanager"],
                "`alertmanager` is enabled but there is no `alerting` section to route alerts",
                "add `alerting:` with a `route` and `receivers`",
            ),
            _ => {}
        }
    }
    if has(Kind::Alertmanager) && !has(Kind::Prometheus) {
        found.warning(
            path!["components", "alertmanager"],
            "`alertmanager` is enabled without `prometheus`; nothing will send it alerts",
            "",
        );
    }
    if !stack.probes.is_empty() && !has(Kind::BlackboxExporter) {
        found.error(
            path!["probes"],
            "`probes` need the `blackbox_exporter` component",
            "add `blackbox_exporter: {}` under `components:`",
        );
    }
    if !stack.logs.sources.is_empty() && !has(Kind::Alloy) && !has(Kind::Promtail) {
        // Not an error: a stack switched to the ELK backend keeps its sources
        // for when Loki comes back; applications send to Logstash directly.
        found.warning(
            path!["logs", "sources"],
            "`logs.sources` are not shipped: neither `alloy` nor `promtail` is enabled",
            "enable `alloy` (and `loki`) to ship them, or remove `logs.sources`",
        );
    }
    if (has(Kind::Alloy) || has(Kind::Promtail)) && stack.logs.sources.is_empty() {
        found.warning(
            path!["logs"],
            "a log shipper is enabled but `logs.sources` is empty; it will ship nothing",
            "add a source, e.g. `- name: docker` with `docker: true`",
        );
    }
    if !stack.rules.is_empty() && !has(Kind::Prometheus) {
        found.error(
            path!["rules"],
            "`rules` need the `prometheus` component",
            "add `prometheus: {}` under `components:`",
        );
    }
    if !stack.dashboards.is_empty() && !has(Kind::Grafana) {
        found.error(
            path!["dashboards"],
            "`dashboards` need the `grafana` component",
            "add `grafana: {}` under `components:`",
        );
    }

    if let Some(jaeger) = &stack.components.jaeger {
        use crate::model::components::JaegerStorage;
        if jaeger.storage == Some(JaegerStorage::Elasticsearch)
            && jaeger.elasticsearch_url.is_none()
            && !has(Kind::Elasticsearch)
        {
            found.error(
                path!["components", "jaeger", "storage"],
                "Jaeger storage `elasticsearch` needs an Elasticsearch",
                "enable `elasticsearch`, or set `elasticsearch_url`",
            );
        }
        if has(Kind::Jaeger) && stack.version_of(Kind::Jaeger).major() < 2 {
            found.error(
                path!["components", "jaeger", "version"],
                format!(
                    "Jaeger {} is v1, which reached end of life on 2025-12-31",
                    stack.version_of(Kind::Jaeger)
                ),
                "pin a Jaeger 2 release such as `2.20.0`; it accepts OTLP natively",
            );
        }
    }
    crate::components::tempo::check::check(stack, found);
    if let Some(pg) = &stack.components.postgres_exporter {
        if pg.enabled != Some(false) && pg.host.is_none() {
            found.error(
                path!["components", "postgres_exporter"],
                "`postgres_exporter` needs the database `host`",
                "set `host:` (and `database`, `user`, `password_secret`)",
            );
        }
    }
    if let Some(redis) = &stack.components.redis_exporter {
        if let Some(addr) = &redis.address {
            if !(addr.starts_with("redis://")
                || addr.starts_with("rediss://")
                || addr.starts_with("unix://"))
            {
                found.error(
                    path!["components", "redis_exporter", "address"],
                    format!("redis address `{addr}` has no scheme"),
                    format!("write `redis://{addr}`"),
                );
            }
        }
    }
    if let Some(nginx) = &stack.components.nginx_exporter {
        if let Some(uri) = &nginx.scrape_uri {
            if !(uri.starts_with("http://")
                || uri.starts_with("https://")
                || uri.starts_with("unix:"))
            {
                found.error(
                    path!["components", "nginx_exporter", "scrape_uri"],
                    format!("`{uri}` is not a URL"),
                    "write the stub_status URL, e.g. `http://nginx:8080/stub_status`",
                );
            }
        }
    }
    if has(Kind::Loki) && stack.version_of(Kind::Loki).major() < 3 {
        found.error(
            path!["components", "loki", "version"],
            format!("Loki {} is not supported: stackctl renders Loki 3 configuration (tsdb, schema v13)", stack.version_of(Kind::Loki)),
            "pin a Loki 3 release such as `3.7.6`",
        );
    }
    if let Some(loki) = &stack.components.loki {
        if let Some(from) = &loki.schema_from {
            if !is_date(from) {
                found.error(
                    path!["components", "loki", "schema_from"],
                    format!("`{from}` is not a date"),
                    "write `YYYY-MM-DD`, e.g. `2024-01-01`",
                );
            }
        }
        if let Some(period) = &loki.retention_period {
            if period.millis() < 24 * 3_600_000 {
                found.error(
                    path!["components", "loki", "retention_period"],
                    format!("Loki retention `{period}` is shorter than 24h"),
                    "Loki's compactor retention works in whole days; use at least `24h`",
                );
            }
        }
    }
    if let Some(logstash) = &stack.components.logstash {
        if logstash.enabled != Some(false) && logstash.pipelines.is_empty() {
            found.error(
                path!["components", "logstash"],
                "`logstash` has no pipelines",
                "add `pipelines:` with at least one pipeline (inputs and an index)",
            );
        }
        for name in logstash.pipelines.keys() {
            if !super::names::is_file_stem(name) {
                found.error_at_key(
                    path!["components", "logstash", "pipelines", name],
                    format!("invalid pipeline name `{name}`"),
                    "pipeline names become file names: letters, digits, `-`, `_`",
                );
            }
        }
    }
    for kind in crate::model::catalog::ALL {
        let Some(common) = stack.components.common(kind) else {
            continue;
        };
        if let Some(res) = common.resources {
            if res
                .cpus
                .is_some_and(|c| c.is_nan() || c <= 0.0 || c > 1024.0)
            {
                found.error(
                    path!["components", kind.key(), "resources", "cpus"],
                    "`cpus` must be a positive number of cores",
                    "e.g. `cpus: 0.5`",
                );
            }
        }
        if let Some(volume) = common.data_volume {
            if kind.info().data_dir.is_none() {
                found.error(
                    path!["components", kind.key(), "data_volume"],
                    format!(
                        "`{}` keeps no data; `data_volume` has no effect",
                        kind.key()
                    ),
                    "remove `data_volume`",
                );
            } else if !super::names::is_file_stem(volume) {
                found.error(
                    path!["components", kind.key(), "data_volume"],
                    format!("invalid volume name `{volume}`"),
                    "volume names are letters, digits, `-`, `_` and `.`",
                );
            }
        }
        for (i, v) in common.volumes.iter().enumerate() {
            if !v.target.starts_with('/') {
                found.error(
                    path!["components", kind.key(), "volumes", i, "target"],
                    format!("mount target `{}` is not an absolute path", v.target),
                    "targets are paths inside the container, e.g. `/data`",
                );
            }
        }
        if let Some(image) = common.image {
            if image.contains(':') && !image.rsplit('/').next().unwrap_or("").contains(':') {
                // a registry port, fine
            } else if image.rsplit('/').next().unwrap_or("").contains(':') || image.contains('@') {
                found.error(
                    path!["components", kind.key(), "image"],
                    format!("image `{image}` includes a tag or digest"),
                    "give the repository in `image` and the tag in `version`",
                );
            }
        }
    }
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0))
}
