//! What the spec says that the Kubernetes target cannot say: host networking
//! and bind mounts of the compose world, components kube-prometheus-stack does
//! not run, and job names that change under the chart. Each is a finding at
//! its model path, so `render` shows it with line and column.
//!
//! Severity follows what the user can do about it in the spec. Settings that
//! only mean something to Compose (published ports and their address, the
//! restart policy, Docker networks, host entries, host log paths) and
//! components the target leaves to their own charts are notes: the same spec
//! serves both targets, so nothing there is a mistake, and a warning would
//! stay on every shipped profile. What silently changes behaviour on a
//! cluster — a compose file mount whose content is missing there, environment
//! variables not passed, rules selecting jobs the chart renames — stays a
//! warning.

use super::Ctx;
use crate::model::{Kind, Stack};
use crate::path;
use crate::yaml::node::Path;

/// Components kube-prometheus-stack runs itself (the blackbox exporter gets
/// its own values file; the exporters get ServiceMonitors).
const CHART_COMPONENTS: [Kind; 4] = [
    Kind::Prometheus,
    Kind::Alertmanager,
    Kind::Grafana,
    Kind::NodeExporter,
];

pub fn unmapped(ctx: &mut Ctx<'_>) {
    let stack: &Stack = ctx.stack;
    if stack.defaults.bind_address.is_some() {
        ctx.note(
            path!["defaults", "bind_address"],
            "`defaults.bind_address` has no Kubernetes equivalent: nothing is published on a host; services are reached through their ClusterIP Services",
            "use `kubectl port-forward` or an Ingress to reach Grafana, Prometheus and Alertmanager",
        );
    }
    if stack.defaults.restart.is_some() {
        ctx.note(
            path!["defaults", "restart"],
            "`defaults.restart` is not mapped: Kubernetes restarts the pods of a Deployment or StatefulSet itself",
            "",
        );
    }
    if !stack.network.attach.is_empty() {
        ctx.note(
            path!["network", "attach"],
            format!(
                "`network.attach` ({}) has no Kubernetes equivalent: Docker networks do not exist in a cluster",
                stack.network.attach.join(", ")
            ),
            "monitors reach pods through the cluster network; select them with each job's `kubernetes:` block",
        );
    }
    for host in stack.network.external_hosts.keys() {
        ctx.note(
            path!["network", "external_hosts", host],
            format!(
                "external host `{host}` is not mapped: static targets are not used on Kubernetes"
            ),
            "scrape in-cluster Services through the job's `kubernetes:` block",
        );
    }
    if !stack.hosts.is_empty() {
        ctx.warn(
            path!["hosts"],
            "`hosts:` is not mapped to Kubernetes: no host bundles are rendered and their targets are not scraped",
            "run the agents as DaemonSets of the chart (node-exporter is one) or render the compose target for them",
        );
    }
    if stack.security.is_some() {
        // The chart's pods are reached through ClusterIP Services and its
        // own web settings; the Compose web configs have no place there.
        ctx.warn(
            path!["security"],
            "`security:` is not mapped to Kubernetes: Prometheus, Alertmanager and the exporters of the chart run without the rendered basic-auth users and TLS, and the monitors scrape them without credentials",
            "protect the UIs with an Ingress that authenticates (and terminates TLS), or set the operator's `web.tlsConfig` in your own values",
        );
    }
    for kind in stack.components.enabled_kinds() {
        component(ctx, kind);
    }
    for (i, source) in stack.logs.sources.iter().enumerate() {
        ctx.note(
            path!["logs", "sources", i],
            format!(
                "log source `{}` is not mapped: on Kubernetes the log shipper's own chart collects pod logs (host `paths` and Docker logs do not apply)",
                source.name
            ),
            "install grafana/alloy (or grafana/promtail) with its Kubernetes pod-log discovery",
        );
    }
    renamed_jobs(ctx);
}

fn component(ctx: &mut Ctx<'_>, kind: Kind) {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.components.common(kind) else {
        return;
    };
    let key = kind.key();
    let at = path!["components", key];
    if !c.ports.is_empty() {
        ctx.note(
            super::join(&at, path!["ports"]),
            format!("`components.{key}.ports` has no Kubernetes equivalent: no host port is bound"),
            "use `kubectl port-forward`, a NodePort/LoadBalancer Service or an Ingress",
        );
    }
    if c.bind_address.is_some() {
        ctx.note(
            super::join(&at, path!["bind_address"]),
            format!("`components.{key}.bind_address` has no Kubernetes equivalent"),
            "",
        );
    }
    if c.publish.is_some() {
        ctx.note(
            super::join(&at, path!["publish"]),
            format!("`components.{key}.publish` has no Kubernetes equivalent: nothing is published on a host"),
            "",
        );
    }
    if let Some(volume) = c.data_volume {
        ctx.warn(
            super::join(&at, path!["data_volume"]),
            format!("`components.{key}.data_volume` ({volume}) is not mapped: the operator or the chart names the PersistentVolumeClaim"),
            "",
        );
    }
    for (i, v) in c.volumes.iter().enumerate() {
        ctx.warn(
            super::join(&at, path!["volumes", i]),
            format!("the mount `{}` → `{}` of `{key}` is compose-only and not mapped", v.source, v.target),
            "mount a ConfigMap, Secret or PersistentVolumeClaim through the chart's `volumes`/`volumeMounts` values",
        );
    }
    if !c.environment.is_empty() && kind != Kind::Grafana {
        ctx.warn(
            super::join(&at, path!["environment"]),
            format!("`components.{key}.environment` is not mapped: the operator does not pass environment variables"),
            "",
        );
    }
    if CHART_COMPONENTS.contains(&kind) || kind == Kind::BlackboxExporter {
        return;
    }
    let (what, hint) = not_deployed(kind, &ctx.namespace);
    ctx.note_key(
        at,
        format!("`{key}` is not deployed by the Kubernetes target: {what}"),
        hint,
    );
}

/// Why a component is not rendered and how to get it on a cluster.
fn not_deployed(kind: Kind, namespace: &str) -> (String, String) {
    let service = kind.service();
    match kind {
        Kind::Cadvisor => (
            "kube-prometheus-stack scrapes the kubelet's built-in cAdvisor (job `kubelet`, path `/metrics/cadvisor`); no privileged container or host mounts are needed".into(),
            "container series are labelled `namespace`, `pod` and `container` there (not Docker's `name`); check rules and dashboards that use `name`".into(),
        ),
        Kind::PostgresExporter | Kind::RedisExporter | Kind::NginxExporter | Kind::Pushgateway => (
            format!("it runs beside what it watches; a ServiceMonitor scrapes Services labelled `app.kubernetes.io/name: {service}` on a port named `metrics`"),
            format!("install it (e.g. the prometheus-community `prometheus-{service}` chart with `nameOverride: {service}`) and name its metrics port `metrics`"),
        ),
        Kind::Loki | Kind::Jaeger | Kind::Tempo | Kind::Elasticsearch => (
            format!("kube-prometheus-stack has no {service}; Grafana's datasource points at `{service}.{namespace}.svc`"),
            format!("install it with its own chart so that its Service is `{service}` in namespace `{namespace}`, or set the datasource's `url`"),
        ),
        Kind::Prometheus
        | Kind::Alertmanager
        | Kind::Grafana
        | Kind::Promtail
        | Kind::Alloy
        | Kind::NodeExporter
        | Kind::BlackboxExporter
        | Kind::Logstash
        | Kind::Kibana => (
            format!("kube-prometheus-stack has no {service}"),
            "install it with its own chart".into(),
        ),
    }
}

/// Jobs the chart runs under other names: rules and dashboards that select
/// the compose job name find nothing there.
fn renamed_jobs(ctx: &mut Ctx<'_>) {
    let stack: &Stack = ctx.stack;
    let chart = |k: Kind| format!("`{}-{}`", chart_fullname(&ctx.release), k.service());
    let renamed: Vec<(&str, String)> = [
        (Kind::Prometheus, chart(Kind::Prometheus)),
        (Kind::Alertmanager, chart(Kind::Alertmanager)),
        (
            Kind::Grafana,
            format!("`{}`", grafana_fullname(&ctx.release)),
        ),
        (
            Kind::Cadvisor,
            "`kubelet` (path `/metrics/cadvisor`)".to_string(),
        ),
    ]
    .into_iter()
    .filter(|(k, _)| stack.has(*k))
    .map(|(k, now)| (k.service(), now))
    .collect();
    let mut exprs: Vec<(String, Path, String)> = Vec::new();
    for (file, groups) in &stack.rules {
        for (g, group) in groups.iter().enumerate() {
            for (r, rule) in group.rules.iter().enumerate() {
                exprs.push((
                    format!("rule `{}`", rule.name()),
                    path!["rules", file, g, "rules", r, "expr"],
                    rule.expr.clone(),
                ));
            }
        }
    }
    for (d, dash) in stack.dashboards.iter().enumerate() {
        for (r, row) in dash.rows.iter().enumerate() {
            for (p, panel) in row.panels.iter().enumerate() {
                for (q, query) in panel.queries.iter().enumerate() {
                    exprs.push((
                        format!("panel `{}` of dashboard `{}`", panel.title, dash.uid),
                        path![
                            "dashboards",
                            d,
                            "rows",
                            r,
                            "panels",
                            p,
                            "queries",
                            q,
                            "expr"
                        ],
                        query.expr.clone(),
                    ));
                }
            }
        }
    }
    for (what, at, expr) in exprs {
        for (job, now) in &renamed {
            if selects_job(&expr, job) {
                ctx.warn(
                    at.clone(),
                    format!("{what} selects `job=\"{job}\"`; under kube-prometheus-stack that job is {now}"),
                    "adjust the selector for the Kubernetes target",
                );
            }
        }
    }
}

/// kube-prometheus-stack's `fullname` helper: the release name when it
/// contains the chart's name, else `release-kube-prometheus-stack`, cut to 26.
pub fn chart_fullname(release: &str) -> String {
    let name = if release.contains("kube-prometheus-stack") {
        release.to_string()
    } else {
        format!("{release}-kube-prometheus-stack")
    };
    name.chars()
        .take(26)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The Grafana subchart's Service (its job name): `release-grafana`.
fn grafana_fullname(release: &str) -> String {
    let name = if release.contains("grafana") {
        release.to_string()
    } else {
        format!("{release}-grafana")
    };
    name.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Whether a PromQL expression matches `job` exactly (`job="x"`, `job=~"x"`).
pub fn selects_job(expr: &str, job: &str) -> bool {
    let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
    ["=", "=~"].iter().any(|op| {
        compact.contains(&format!("job{op}\"{job}\""))
            || compact.contains(&format!("job{op}'{job}'"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_names() {
        assert_eq!(
            chart_fullname("kube-prometheus-stack"),
            "kube-prometheus-stack"
        );
        assert_eq!(chart_fullname("prometheus"), "prometheus-kube-prometheus");
        assert_eq!(grafana_fullname("prometheus"), "prometheus-grafana");
    }

    #[test]
    fn finds_job_selectors() {
        assert!(selects_job("up{job=\"prometheus\"} == 0", "prometheus"));
        assert!(selects_job(
            "rate(x{job =~ \"prometheus\"}[5m])",
            "prometheus"
        ));
        assert!(!selects_job("up{job=\"prometheus-app\"}", "prometheus"));
        assert!(!selects_job("up{job!=\"prometheus\"}", "prometheus"));
    }
}
