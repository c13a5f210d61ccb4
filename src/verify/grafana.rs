//! Grafana: every provisioned datasource exists under its declared UID and
//! passes its health check; every dashboard of the spec is provisioned.
//! Calls authenticate as the admin user with the password from its secret file.

use super::check::Finding;
use super::context::Context;
use super::http::{BasicAuth, Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::all;
use super::yamlvalue::str_at;
use crate::model::Kind;
use serde_json::Value;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub enum Check {
    Datasource {
        base: String,
        auth: BasicAuth,
        uid: String,
        name: String,
        kind: String,
    },
    Dashboard {
        base: String,
        auth: BasicAuth,
        uid: String,
        title: Option<String>,
    },
}

pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let kind = Kind::Grafana;
    let sources = cx.stack.datasources();
    let mut names: Vec<String> = Vec::new();
    for ds in sources {
        names.push(format!("datasource `{}`", ds.uid));
        names.push(format!("datasource `{}` health", ds.uid));
    }
    for dash in &cx.stack.dashboards {
        names.push(format!("dashboard `{}`", dash.uid));
    }
    let base = match cx.endpoints.base(kind, "web") {
        Ok(b) => b.to_string(),
        Err(reason) => {
            if !names.is_empty() {
                out.push(Probe::unreachable(kind, names, reason));
            }
            return;
        }
    };
    let auth = cx.grafana_auth();
    for ds in sources {
        out.push(Probe::new(
            kind,
            vec![
                format!("datasource `{}`", ds.uid),
                format!("datasource `{}` health", ds.uid),
            ],
            Some(join(&base, &format!("/api/datasources/uid/{}", ds.uid))),
            Check::Datasource {
                base: base.clone(),
                auth: auth.clone(),
                uid: ds.uid.clone(),
                name: ds.name.clone(),
                kind: ds.kind.as_str().to_string(),
            },
        ));
    }
    for dash in &cx.stack.dashboards {
        let title = cx
            .dashboard_json(&dash.uid)
            .map(|d| str_at(&d, "title").to_string());
        out.push(Probe::new(
            kind,
            vec![format!("dashboard `{}`", dash.uid)],
            Some(join(&base, &format!("/api/dashboards/uid/{}", dash.uid))),
            Check::Dashboard {
                base: base.clone(),
                auth: auth.clone(),
                uid: dash.uid.clone(),
                title,
            },
        ));
    }
}

impl Work for Check {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        Box::pin(run(self, http, checks))
    }
}

async fn run(check: &Check, http: &Http, checks: &[String]) -> Vec<Finding> {
    match check {
        Check::Datasource {
            base,
            auth,
            uid,
            name,
            kind,
        } => {
            let url = join(
                base,
                &format!("/api/datasources/uid/{}", super::http::encode(uid)),
            );
            let reply = match http.get(&url, Some(auth)).await {
                Ok(r) => r,
                Err(e) => return all(checks, e),
            };
            let exists = match reply.status {
                200 => match reply.json() {
                    Ok(ds) if str_at(&ds, "type") != kind => Finding::fail(
                        &checks[0],
                        format!(
                            "UID `{uid}` is a `{}` datasource, the spec declares `{kind}`",
                            str_at(&ds, "type")
                        ),
                    ),
                    Ok(ds) if str_at(&ds, "name") != name => Finding::fail(
                        &checks[0],
                        format!(
                            "UID `{uid}` is named `{}`, the spec declares `{name}`",
                            str_at(&ds, "name")
                        ),
                    ),
                    Ok(ds) => Finding::pass(
                        &checks[0],
                        format!("{} `{}` → {}", kind, name, str_at(&ds, "url")),
                    ),
                    Err(e) => Finding::fail(&checks[0], format!("{url}: {e}")),
                },
                404 => Finding::fail(
                    &checks[0],
                    format!("Grafana has no datasource with UID `{uid}`"),
                )
                .with_hint("check grafana/provisioning/datasources and Grafana's log"),
                _ => return checks.iter().map(|c| denied(c, &url, &reply)).collect(),
            };
            if exists.status != super::check::Status::Pass {
                return vec![
                    exists.clone(),
                    Finding::fail(&checks[1], "the datasource is missing"),
                ];
            }
            let health = join(&url, "health");
            let finding = match http.get(&health, Some(auth)).await {
                Err(e) => Finding::fail(&checks[1], e),
                Ok(r) => {
                    let body = r.json().unwrap_or(Value::Null);
                    let message = str_at(&body, "message");
                    match (r.status, str_at(&body, "status")) {
                        (200, "OK") => Finding::pass(&checks[1], message),
                        (404, _) => Finding::skip(
                            &checks[1],
                            format!("this Grafana has no health check for `{kind}` datasources"),
                        ),
                        (_, status) if !status.is_empty() => Finding::fail(
                            &checks[1],
                            format!("health check says {status}: {message}"),
                        ),
                        _ => {
                            Finding::fail(&checks[1], format!("{health} answered {}", r.describe()))
                        }
                    }
                }
            };
            vec![exists, finding]
        }
        Check::Dashboard {
            base,
            auth,
            uid,
            title,
        } => {
            let url = join(
                base,
                &format!("/api/dashboards/uid/{}", super::http::encode(uid)),
            );
            let reply = match http.get(&url, Some(auth)).await {
                Ok(r) => r,
                Err(e) => return all(checks, e),
            };
            let finding = match reply.status {
                200 => match reply.json() {
                    Ok(body) => dashboard_finding(&checks[0], &body, title.as_deref()),
                    Err(e) => Finding::fail(&checks[0], format!("{url}: {e}")),
                },
                404 => Finding::fail(
                    &checks[0],
                    format!("Grafana has no dashboard with UID `{uid}`"),
                )
                .with_hint("check grafana/provisioning/dashboards and Grafana's log"),
                _ => denied(&checks[0], &url, &reply),
            };
            vec![finding]
        }
    }
}

fn dashboard_finding(check: &str, body: &Value, title: Option<&str>) -> Finding {
    let dash = body.get("dashboard").cloned().unwrap_or(Value::Null);
    let meta = body.get("meta").cloned().unwrap_or(Value::Null);
    let seen = str_at(&dash, "title");
    if let Some(title) = title {
        if seen != title {
            return Finding::fail(
                check,
                format!("titled `{seen}`, the rendered dashboard is `{title}`"),
            );
        }
    }
    if meta.get("provisioned") != Some(&Value::Bool(true)) {
        return Finding::fail(
            check,
            format!("`{seen}` exists but was not provisioned from stackctl's files"),
        );
    }
    let folder = str_at(&meta, "folderTitle");
    Finding::pass(
        check,
        if folder.is_empty() {
            format!("`{seen}`")
        } else {
            format!("`{seen}` in folder `{folder}`")
        },
    )
}

/// A refused or failed call; a refusal says which login verify used.
fn denied(check: &str, url: &str, reply: &super::http::Reply) -> Finding {
    let failed = Finding::fail(check, format!("{url} answered {}", reply.describe()));
    if reply.status == 401 || reply.status == 403 {
        failed.with_hint(
            "verify logs in as the admin user with the password from its secret file; was it changed in Grafana?",
        )
    } else {
        failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dashboards_must_be_provisioned_with_their_title() {
        let body = json!({"dashboard": {"uid": "a", "title": "A"}, "meta": {"provisioned": true, "folderTitle": "Ops"}});
        assert_eq!(
            dashboard_finding("d", &body, Some("A")).message,
            "`A` in folder `Ops`"
        );
        assert_eq!(
            dashboard_finding("d", &body, Some("B")).message,
            "titled `A`, the rendered dashboard is `B`"
        );
        let manual =
            json!({"dashboard": {"uid": "a", "title": "A"}, "meta": {"provisioned": false}});
        assert_eq!(
            dashboard_finding("d", &manual, None).message,
            "`A` exists but was not provisioned from stackctl's files"
        );
    }
}
