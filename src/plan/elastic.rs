//! Elasticsearch, Logstash and Kibana, secured: Elasticsearch runs with
//! security on and the `elastic` password from a secret; a one-shot setup job
//! gives Kibana its own `kibana_system` password (Kibana may not use `elastic`
//! since 8.0), creates one least-privilege user per other consumer (Grafana
//! reads the log indices, Logstash writes its own, Jaeger its span indices)
//! and installs the log retention policy. Only the setup job uses `elastic`.
//!
//! Logstash and Kibana take passwords only from the environment, so their
//! entrypoint reads the secret file into a variable at start: the value never
//! appears in a rendered file.

use super::{Condition, Deployment, Healthcheck, Service};
use crate::model::Kind;
use crate::model::catalog::Component;
use crate::resolve::Resolved;
use serde_json::json;

pub const SETUP_SERVICE: &str = "elasticsearch-setup";
pub const KIBANA_SETUP_SERVICE: &str = "kibana-setup";

/// The Elasticsearch users the setup job creates, one per consumer.
pub const GRAFANA_USER: &str = "stackctl_grafana";
pub const LOGSTASH_USER: &str = "stackctl_logstash";
pub const JAEGER_USER: &str = "stackctl_jaeger";
/// Jaeger's index prefix: its indices are `jaeger-main-jaeger-span-DATE`, ….
pub const JAEGER_INDEX_PREFIX: &str = "jaeger-main";

/// An index pattern covering every index a name writes: a Logstash date
/// reference (`app-%{+YYYY.MM.dd}`) becomes a wildcard (`app-*`).
pub fn index_pattern(index: &str) -> String {
    match index.split_once("%{") {
        Some((base, _)) => format!("{base}*"),
        None => index.to_string(),
    }
}

/// A user the setup job creates: its name, the secret with its password and
/// its one role.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EsUser {
    pub name: &'static str,
    pub secret: String,
    pub role: String,
    pub purpose: String,
    /// The role definition (`PUT _security/role/NAME` body).
    pub privileges: serde_json::Value,
}

/// The least-privilege users of the stack's consumers of Elasticsearch.
pub fn users(stack: &Resolved) -> Vec<EsUser> {
    let mut out = Vec::new();
    if !stack.has(Kind::Elasticsearch) {
        return out;
    }
    if stack.grafana_uses_stack_es() {
        let mut names: Vec<String> = stack
            .datasources()
            .iter()
            .filter(|d| {
                d.kind == crate::model::stack::DatasourceKind::Elasticsearch && d.url.is_none()
            })
            .map(|d| {
                d.index
                    .clone()
                    .unwrap_or_else(|| stack.log_index().to_string())
            })
            .collect();
        names.sort();
        names.dedup();
        out.push(EsUser {
            name: GRAFANA_USER,
            secret: stack.es_grafana_secret(),
            role: "stackctl_grafana_reader".into(),
            purpose: "Grafana: read the log indices, nothing else".into(),
            privileges: json!({
                "cluster": ["monitor"],
                "indices": [{"names": names, "privileges": ["read", "view_index_metadata"]}],
            }),
        });
    }
    if let Some(ls) = stack
        .components
        .logstash
        .as_ref()
        .filter(|_| stack.has(Kind::Logstash))
    {
        let mut names: Vec<String> = ls
            .pipelines
            .values()
            .map(|p| index_pattern(&p.index))
            .collect();
        names.sort();
        names.dedup();
        out.push(EsUser {
            name: LOGSTASH_USER,
            secret: stack.es_logstash_secret(),
            role: "stackctl_logstash_writer".into(),
            purpose: "Logstash: create and write its pipelines' indices (and install its index template)".into(),
            privileges: json!({
                "cluster": ["monitor", "manage_index_templates", "manage_ilm"],
                "indices": [{"names": names, "privileges": ["write", "create", "create_index", "manage", "manage_ilm"]}],
            }),
        });
    }
    if stack.jaeger_uses_stack_es() {
        out.push(EsUser {
            name: JAEGER_USER,
            secret: stack.es_jaeger_secret(),
            role: "stackctl_jaeger_writer".into(),
            purpose: "Jaeger: its span and service indices (write, read, delete old ones)".into(),
            privileges: json!({
                "cluster": ["monitor", "manage_index_templates"],
                "indices": [{
                    "names": [format!("{JAEGER_INDEX_PREFIX}-*")],
                    "privileges": ["create_index", "write", "read", "view_index_metadata", "manage", "delete_index"],
                }],
            }),
        });
    }
    out
}

pub(crate) fn es_url() -> String {
    format!(
        "http://elasticsearch:{}",
        Kind::Elasticsearch
            .port("http")
            .map_or(9200, |p| p.container)
    )
}

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("sh_quote", sh_quote);
    env.add_filter("ls_str", ls_str);
    env.add_filter("comment", comment);
    env
}

pub(crate) fn render(template: &str, ctx: minijinja::Value) -> String {
    environment()
        .render_str(template, ctx)
        .unwrap_or_else(|e| format!("# stackctl bug: template failed to render: {e}\n"))
}

/// A POSIX shell single-quoted word.
pub fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A Logstash double-quoted string (the spec forbids `"` and `\` in these values).
fn ls_str(value: &str) -> String {
    format!("\"{}\"", value.replace(['"', '\\'], ""))
}

/// A `curl -fsS` (for a `/bin/sh` healthcheck) that logs in as `user` with
/// the password in `file`: sed turns the file into a curl config line on a
/// pipe, so the password never appears on a command line (`ps` shows every
/// process's arguments to everyone in the container). `\` and `"` are
/// escaped for curl's config quoting; `user` is a fixed account name.
fn curl_with_password(user: &str, file: &str) -> String {
    format!(
        "sed -e 's/[\\\\\"]/\\\\&/g' -e 's/^/user = \"{user}:/' -e 's/$/\"/' {} | curl -fsS -K -",
        sh_quote(file)
    )
}

/// Text for a `#` comment: a line break would end the comment and make the
/// rest configuration, so every break and control character is shown as an
/// escape instead.
fn comment(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if crate::yaml::emit::needs_escape(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

pub(crate) fn shell_check(command: String) -> Healthcheck {
    Healthcheck {
        test: vec![command],
        shell: true,
        interval_s: 15,
        timeout_s: 10,
        retries: 20,
        start_period_s: 30,
    }
}

pub fn elasticsearch(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let spec = stack.components.elasticsearch.clone().unwrap_or_default();
    let mut service = Service::for_component(stack, c);
    let secret = stack.elastic_secret();
    let password_file = service.use_secret(&secret);
    let heap = spec.heap.as_ref().map_or("512m", |h| h.as_str());
    let env = &mut service.environment;
    env.insert("discovery.type".into(), "single-node".into());
    env.insert(
        "cluster.name".into(),
        spec.cluster_name
            .clone()
            .unwrap_or_else(|| format!("{}-logs", stack.name)),
    );
    env.insert("ES_JAVA_OPTS".into(), format!("-Xms{heap} -Xmx{heap}"));
    env.insert("ELASTIC_PASSWORD_FILE".into(), password_file.clone());
    env.insert("xpack.security.enabled".into(), "true".into());
    // Plain HTTP inside the stack network; set explicitly so Elasticsearch
    // does not generate certificates on first start.
    env.insert("xpack.security.http.ssl.enabled".into(), "false".into());
    env.insert(
        "xpack.security.transport.ssl.enabled".into(),
        "false".into(),
    );
    env.insert("xpack.license.self_generated.type".into(), "basic".into());
    service.healthcheck = Some(shell_check(format!(
        "{} 'http://localhost:9200/_cluster/health?wait_for_status=yellow&timeout=5s' >/dev/null",
        curl_with_password("elastic", &password_file)
    )));
    let image = service.image.clone();
    d.services.push(service);

    // The one-shot setup job, on the Elasticsearch image (it has bash and curl).
    let kibana = stack.has(Kind::Kibana).then(|| stack.kibana_secret());
    let index = stack.log_index().to_string();
    let retention = spec.log_retention.as_ref().map(|r| es_duration(r.millis()));
    let script = render(
        include_str!("../../templates/elasticsearch-setup.sh.j2"),
        minijinja::context! {
            es_url => es_url(),
            elastic_secret => super::secret_path(&secret),
            kibana_secret => kibana.as_ref().map(|s| super::secret_path(s)),
            retention => retention.clone(),
            users => users(stack).iter().map(|u| minijinja::context! {
                name => u.name,
                secret => super::secret_path(&u.secret),
                role => u.role.clone(),
                purpose => u.purpose.clone(),
                role_body => u.privileges.to_string(),
                role_json => serde_json::Value::from(u.role.as_str()).to_string(),
                full_name_json => serde_json::Value::from(format!("stackctl: {}", u.purpose)).to_string(),
            }).collect::<Vec<_>>(),
            ilm_policy => retention.as_ref().map(|r| json!({"policy": {"phases": {
                "hot": {"actions": {}},
                "delete": {"min_age": r, "actions": {"delete": {}}},
            }}}).to_string()),
            index_template => json!({
                "index_patterns": [index],
                "template": {"settings": {"index.lifecycle.name": "stackctl-logs", "number_of_replicas": 0}},
            }).to_string(),
        },
    );
    d.files
        .insert("elasticsearch/setup/setup.sh".into(), script);
    let mut setup = one_shot(stack, SETUP_SERVICE, image, "elasticsearch/setup/setup.sh");
    setup.use_secret(&secret);
    if let Some(k) = &kibana {
        setup.use_secret(k);
    }
    for u in users(stack) {
        setup.use_secret(&u.secret);
    }
    setup.after("elasticsearch", Condition::Healthy);
    d.services.push(setup);
}

pub(crate) fn one_shot(stack: &Resolved, name: &str, image: String, script: &str) -> Service {
    let dir = script.rsplit_once('/').map_or(script, |(dir, _)| dir);
    let file = script.rsplit('/').next().unwrap_or(script);
    Service {
        name: name.to_string(),
        kind: None,
        image,
        entrypoint: Some(vec!["/bin/bash".into(), format!("/setup/{file}")]),
        command: Vec::new(),
        environment: Default::default(),
        ports: Vec::new(),
        mounts: vec![super::Mount {
            source: super::MountSource::Generated(dir.to_string()),
            target: "/setup".into(),
            read_only: true,
        }],
        secrets: Vec::new(),
        healthcheck: None,
        ready: None,
        depends_on: Vec::new(),
        restart: "no".into(),
        cpus: None,
        memory_bytes: None,
        privileged: false,
        devices: Vec::new(),
        cap_add: Vec::new(),
        extra_hosts: Vec::new(),
        config_files: Vec::new(),
        uid: 1000,
        user: None,
        one_shot: true,
    }
    .with_restart_of(stack)
}

impl Service {
    fn with_restart_of(self, _stack: &Resolved) -> Service {
        // One-shot jobs never restart, whatever the stack's default policy.
        self
    }
}

/// Where the pipeline files are inside the Logstash container.
const PIPELINE_DIR: &str = "/usr/share/logstash/pipeline";
/// Logstash's pipeline list, mounted as a file: its directory
/// (`config/`) also holds `logstash.yml` and `jvm.options`, which a
/// directory mount would hide.
pub const PIPELINES_YML: &str = "logstash/config/pipelines.yml";

pub fn logstash(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let spec = stack.components.logstash.clone().unwrap_or_default();
    let mut service = Service::for_component(stack, c);
    let password = service.use_secret(&stack.es_logstash_secret());
    service.entrypoint = Some(vec![
        "/bin/bash".into(),
        "-c".into(),
        format!(
            "export ES_PASSWORD=\"$(cat {password})\"; exec /usr/local/bin/docker-entrypoint \"$@\""
        ),
        "--".into(),
    ]);
    let heap = spec.heap.as_ref().map_or("512m", |h| h.as_str());
    service
        .environment
        .insert("LS_JAVA_OPTS".into(), format!("-Xms{heap} -Xmx{heap}"));
    service
        .environment
        .insert("XPACK_MONITORING_ENABLED".into(), "false".into());
    service.mount_config("logstash/pipeline", PIPELINE_DIR);
    // One entry per pipeline, each with its own file: without it Logstash
    // runs every `.conf` as the single `main` pipeline, so every event would
    // pass every filter and reach every output.
    service.mounts.push(super::Mount {
        source: super::MountSource::Generated(PIPELINES_YML.into()),
        target: "/usr/share/logstash/config/pipelines.yml".into(),
        read_only: true,
    });
    service.healthcheck = Some(shell_check(
        "curl -fsS http://localhost:9600/ >/dev/null".into(),
    ));
    if stack.has(Kind::Elasticsearch) {
        // Its user exists once the setup job has run.
        service.after(SETUP_SERVICE, Condition::CompletedSuccessfully);
    } else {
        service.after("elasticsearch", Condition::Healthy);
    }
    let entries: Vec<serde_json::Value> = spec
        .pipelines
        .keys()
        .map(|name| json!({"pipeline.id": name, "path.config": format!("{PIPELINE_DIR}/{name}.conf")}))
        .collect();
    d.files.insert(
        PIPELINES_YML.into(),
        format!(
            "# Generated by stackctl from stack.yaml; edit the spec, not this file.\n{}",
            crate::yaml::emit::to_yaml(&serde_json::Value::Array(entries))
        ),
    );
    for (name, pipeline) in &spec.pipelines {
        let conf = render(
            include_str!("../../templates/logstash.conf.j2"),
            minijinja::context! {
                name => name,
                inputs => minijinja::context! {
                    beats => pipeline.inputs.beats.map(|p| p.0),
                    http => pipeline.inputs.http.map(|p| p.0),
                    tcp => pipeline.inputs.tcp.map(|p| p.0),
                    udp => pipeline.inputs.udp.map(|p| p.0),
                },
                parse_json => pipeline.parse_json != Some(false),
                categorize => pipeline.categorize == Some(true),
                es_url => es_url(),
                index => pipeline.index.clone(),
                user => LOGSTASH_USER,
            },
        );
        d.files
            .insert(format!("logstash/pipeline/{name}.conf"), conf);
    }
    d.services.push(service);
}

pub fn kibana(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let spec = stack.components.kibana.clone().unwrap_or_default();
    let mut service = Service::for_component(stack, c);
    let password = service.use_secret(&stack.kibana_secret());
    // Without a fixed key Kibana disables alerting and connectors, and a
    // random per-start key would make saved encrypted objects unreadable.
    let key = service.use_secret(&stack.kibana_key_secret());
    service.entrypoint = Some(vec![
        "/bin/bash".into(),
        "-c".into(),
        format!(
            "export ELASTICSEARCH_PASSWORD=\"$(cat {password})\"; export XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY=\"$(cat {key})\"; exec /bin/tini -- /usr/local/bin/kibana-docker"
        ),
    ]);
    let env = &mut service.environment;
    env.insert("ELASTICSEARCH_HOSTS".into(), format!("[\"{}\"]", es_url()));
    env.insert("ELASTICSEARCH_USERNAME".into(), "kibana_system".into());
    env.insert("TELEMETRY_OPTIN".into(), "false".into());
    if let Some(url) = &spec.public_base_url {
        env.insert("SERVER_PUBLICBASEURL".into(), url.clone());
    }
    service.healthcheck = Some(shell_check(format!(
        "{} http://localhost:5601/api/status >/dev/null",
        curl_with_password("kibana_system", &password)
    )));
    if stack.has(Kind::Elasticsearch) {
        service.after(SETUP_SERVICE, Condition::CompletedSuccessfully);
    }
    let image = stack
        .component(Kind::Elasticsearch)
        .map(|es| es.image(stack.defaults.image_registry.as_deref()));
    d.services.push(service);

    if let (Some(pattern), Some(image)) = (&spec.index_pattern, image) {
        let kibana_port = Kind::Kibana.port("web").map_or(5601, |p| p.container);
        let script = render(
            include_str!("../../templates/kibana-setup.sh.j2"),
            minijinja::context! {
                kibana_url => format!("http://kibana:{kibana_port}"),
                elastic_secret => super::secret_path(&stack.elastic_secret()),
                index_pattern => pattern,
                title_json => serde_json::Value::from(pattern.as_str()).to_string(),
                data_view => json!({"data_view": {
                    "title": pattern,
                    "name": pattern.trim_end_matches(['*', '-']),
                    "timeFieldName": "@timestamp",
                }}).to_string(),
            },
        );
        d.files.insert("kibana/setup/setup.sh".into(), script);
        let mut setup = one_shot(stack, KIBANA_SETUP_SERVICE, image, "kibana/setup/setup.sh");
        setup.use_secret(&stack.elastic_secret());
        setup.after("kibana", Condition::Healthy);
        d.services.push(setup);
    }
}

/// An Elasticsearch time value: whole days, else hours, else seconds.
fn es_duration(millis: u64) -> String {
    let seconds = millis / 1000;
    if seconds % 86_400 == 0 {
        format!("{}d", seconds / 86_400)
    } else if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(comment("a\nb\u{2028}"), "a\\u{a}b\\u{2028}");
        assert_eq!(es_duration(30 * 86_400_000), "30d");
        assert_eq!(es_duration(36 * 3_600_000), "36h");
    }
}
