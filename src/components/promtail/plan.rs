//! Promtail, the legacy shipper the references use (end of life 2026-03-02;
//! `alloy` is the successor). Reads `logs.sources` and pushes to Loki.

use crate::plan::{Condition, Deployment, Service};
use crate::resolve::Resolved;

use crate::model::catalog::Component;
use crate::model::stack::{LogSource, Stage};
use serde_json::{Value, json};

pub const CONFIG: &str = "promtail/promtail.yml";
/// Docker's json-file logs, read from the host without the Docker socket.
pub const DOCKER_LOGS: &str = "/var/lib/docker/containers";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let mut service = Service::for_component(stack, c);
    service.command = vec!["-config.file=/etc/promtail/promtail.yml".into()];
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("promtail", "/etc/promtail");
    for dir in host_dirs(&stack.logs.sources) {
        service.host_mount(&dir, &dir);
    }
    service.after("loki", Condition::Started);
    let http = crate::components::promtail::HTTP;
    let jobs: Vec<Value> = stack.logs.sources.iter().map(job).collect();
    let config = json!({
        "server": {"http_listen_port": http, "grpc_listen_port": 0},
        "positions": {"filename": "/var/lib/promtail/positions.yaml"},
        "clients": [{"url": crate::components::loki::push_url()}],
        "scrape_configs": jobs,
    });
    d.add_yaml(CONFIG, &config);
    d.services.push(service);
}

fn job(source: &LogSource) -> Value {
    let docker = source.docker == Some(true);
    let paths: Vec<String> = if docker {
        vec![format!("{DOCKER_LOGS}/*/*-json.log")]
    } else {
        source.paths.clone()
    };
    let configs: Vec<Value> = paths
        .iter()
        .map(|path| {
            let mut labels = serde_json::Map::new();
            labels.insert("job".into(), json!(source.name));
            for (k, v) in &source.labels {
                labels.insert(k.to_string(), json!(v));
            }
            labels.insert("__path__".into(), json!(path));
            json!({"targets": ["localhost"], "labels": labels})
        })
        .collect();
    let mut stages: Vec<Value> = Vec::new();
    if docker {
        stages.push(json!({"docker": {}}));
    }
    stages.extend(source.pipeline.iter().map(stage));
    let mut job = serde_json::Map::new();
    job.insert("job_name".into(), json!(source.name));
    job.insert("static_configs".into(), Value::Array(configs));
    if !stages.is_empty() {
        job.insert("pipeline_stages".into(), Value::Array(stages));
    }
    Value::Object(job)
}

fn stage(stage: &Stage) -> Value {
    if let Some(j) = &stage.json {
        let mut m = serde_json::Map::new();
        m.insert("expressions".into(), json!(j.expressions));
        if let Some(s) = &j.source {
            m.insert("source".into(), json!(s));
        }
        return json!({"json": m});
    }
    if let Some(r) = &stage.regex {
        let mut m = serde_json::Map::new();
        m.insert("expression".into(), json!(r.expression));
        if let Some(s) = &r.source {
            m.insert("source".into(), json!(s));
        }
        return json!({"regex": m});
    }
    if let Some(t) = &stage.timestamp {
        return json!({"timestamp": {"source": t.source, "format": t.format}});
    }
    if let Some(labels) = &stage.labels {
        let m: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_ref().map_or(Value::Null, |v| json!(v))))
            .collect();
        return json!({"labels": m});
    }
    if let Some(o) = &stage.output {
        return json!({"output": {"source": o.source}});
    }
    json!({})
}

/// Host directories to mount so the shipper can read the sources: the part
/// of each glob before its first wildcard, without nested duplicates.
pub fn host_dirs(sources: &[LogSource]) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::new();
    for source in sources {
        if source.docker == Some(true) {
            dirs.push(DOCKER_LOGS.to_string());
        }
        for glob in &source.paths {
            let fixed: String = glob
                .split(['*', '?', '[', '{'])
                .next()
                .unwrap_or(glob)
                .to_string();
            let dir = match fixed.rsplit_once('/') {
                Some((dir, _)) if !dir.is_empty() => dir.to_string(),
                _ => "/".to_string(),
            };
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs.dedup();
    let all = dirs.clone();
    dirs.retain(|d| {
        !all.iter()
            .any(|other| other != d && d.starts_with(&format!("{}/", other.trim_end_matches('/'))))
    });
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(paths: &[&str], docker: bool) -> LogSource {
        LogSource {
            name: "x".into(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            docker: Some(docker),
            include_stack: None,
            labels: Default::default(),
            pipeline: vec![],
        }
    }

    #[test]
    fn host_dirs_are_minimal() {
        let dirs = host_dirs(&[
            source(&["/var/log/app/*.log", "/var/log/nginx/*.log"], false),
            source(&[], true),
        ]);
        assert_eq!(
            dirs,
            vec![
                "/var/lib/docker/containers",
                "/var/log/app",
                "/var/log/nginx"
            ]
        );
        let dirs = host_dirs(&[source(&["/var/log/*.log", "/var/log/app/*.log"], false)]);
        assert_eq!(dirs, vec!["/var/log"]);
    }
}
