//! Secret references: every `*_secret` field names a secret declared under `secrets:`.

use super::Findings;
use super::names::is_file_stem;
use crate::model::Stack;
use crate::path;
use crate::yaml::node::Path;

/// Every place in the spec that names a secret, with its path.
pub fn references(stack: &Stack) -> Vec<(String, Path)> {
    let mut refs: Vec<(String, Path)> = Vec::new();
    let mut add = |name: Option<&String>, path: Path| {
        if let Some(name) = name {
            refs.push((name.clone(), path));
        }
    };
    let c = &stack.components;
    if stack.has(crate::model::Kind::Grafana) {
        add(
            Some(&stack.grafana_admin_secret()),
            path!["components", "grafana", "admin_password_secret"],
        );
        add(
            Some(&stack.grafana_key_secret()),
            path!["components", "grafana", "secret_key_secret"],
        );
    }
    if let Some(p) = &c.postgres_exporter {
        add(
            p.password_secret.as_ref(),
            path!["components", "postgres_exporter", "password_secret"],
        );
    }
    if let Some(r) = &c.redis_exporter {
        add(
            r.password_secret.as_ref(),
            path!["components", "redis_exporter", "password_secret"],
        );
    }
    if stack.has(crate::model::Kind::Elasticsearch) {
        add(
            Some(&stack.elastic_secret()),
            path!["components", "elasticsearch", "password_secret"],
        );
        if stack.has(crate::model::Kind::Kibana) {
            add(
                Some(&stack.kibana_secret()),
                path!["components", "elasticsearch", "kibana_password_secret"],
            );
        }
        if stack.grafana_uses_stack_es() {
            add(
                Some(&stack.es_grafana_secret()),
                path!["components", "elasticsearch", "grafana_password_secret"],
            );
        }
        if stack.has(crate::model::Kind::Logstash) {
            add(
                Some(&stack.es_logstash_secret()),
                path!["components", "elasticsearch", "logstash_password_secret"],
            );
        }
        if stack.jaeger_uses_stack_es() {
            add(
                Some(&stack.es_jaeger_secret()),
                path!["components", "elasticsearch", "jaeger_password_secret"],
            );
        }
    }
    if stack.has(crate::model::Kind::Kibana) {
        add(
            Some(&stack.kibana_key_secret()),
            path!["components", "kibana", "encryption_key_secret"],
        );
    }
    for (i, job) in stack.scrape_jobs.iter().enumerate() {
        if let Some(auth) = &job.basic_auth {
            add(
                Some(&auth.password_secret),
                path!["scrape_jobs", i, "basic_auth", "password_secret"],
            );
        }
        add(
            job.bearer_token_secret.as_ref(),
            path!["scrape_jobs", i, "bearer_token_secret"],
        );
    }
    for (i, rw) in stack.remote_write.iter().enumerate() {
        if let Some(auth) = &rw.basic_auth {
            add(
                Some(&auth.password_secret),
                path!["remote_write", i, "basic_auth", "password_secret"],
            );
        }
        add(
            rw.bearer_token_secret.as_ref(),
            path!["remote_write", i, "bearer_token_secret"],
        );
    }
    if let Some(security) = &stack.security {
        for (name, user) in &security.users {
            add(
                Some(&user.password_secret),
                path!["security", "users", name, "password_secret"],
            );
        }
    }
    if let Some(alerting) = &stack.alerting {
        if let Some(smtp) = &alerting.smtp {
            add(
                smtp.auth_password_secret.as_ref(),
                path!["alerting", "smtp", "auth_password_secret"],
            );
        }
        add(
            alerting.slack_api_url_secret.as_ref(),
            path!["alerting", "slack_api_url_secret"],
        );
        for (r, receiver) in alerting.receivers.iter().enumerate() {
            for (i, s) in receiver.slack.iter().enumerate() {
                add(
                    s.api_url_secret.as_ref(),
                    path!["alerting", "receivers", r, "slack", i, "api_url_secret"],
                );
            }
            for (i, p) in receiver.pagerduty.iter().enumerate() {
                add(
                    Some(&p.routing_key_secret),
                    path![
                        "alerting",
                        "receivers",
                        r,
                        "pagerduty",
                        i,
                        "routing_key_secret"
                    ],
                );
            }
            for (i, w) in receiver.webhook.iter().enumerate() {
                add(
                    w.url_secret.as_ref(),
                    path!["alerting", "receivers", r, "webhook", i, "url_secret"],
                );
            }
            for c in crate::model::receivers::credentials(receiver) {
                add(
                    Some(&c.secret.to_string()),
                    path!["alerting", "receivers", r, c.kind, c.index, c.field],
                );
            }
        }
    }
    refs
}

pub fn check(stack: &Stack, found: &mut Findings) {
    for (name, secret) in &stack.secrets {
        if !is_file_stem(name) {
            found.error_at_key(
                path!["secrets", name],
                format!("invalid secret name `{name}`"),
                "secret names are letters, digits, `-`, `_` and `.`; they become file names",
            );
        }
        if let Some(file) = &secret.file {
            let p = std::path::Path::new(file);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                found.error(
                    path!["secrets", name, "file"],
                    format!("secret file `{file}` is outside the stack directory"),
                    "use a path relative to the stack directory, such as `secrets/NAME`",
                );
            }
        }
    }
    if stack.has(crate::model::Kind::Kibana) {
        let name = stack.kibana_key_secret();
        if let Some(secret) = stack.secrets.get(&name)
            && secret.generate != Some(true)
        {
            // Kibana refuses a key shorter than 32 characters; `init`
            // generates 32, a hand-written one is the user's to size.
            found.warning(
                path!["secrets", name.as_str()],
                format!(
                    "secret `{name}` is Kibana's saved-objects encryption key and is not generated"
                ),
                "set `generate: true`, or make sure the file holds at least 32 characters",
            );
        }
    }
    let declared: Vec<&str> = stack.secrets.keys().map(String::as_str).collect();
    for (name, path) in references(stack) {
        if !stack.secrets.contains_key(&name) {
            let hint = match crate::yaml::de::did_you_mean(&name, &declared) {
                Some(best) => {
                    format!("did you mean `{best}`? Otherwise declare it under `secrets:`")
                }
                None => format!(
                    "declare it under `secrets:` (e.g. `{name}: {{}}`) and put the value in `secrets/{name}`"
                ),
            };
            found.error(path, format!("secret `{name}` is not declared"), hint);
        }
    }
}
