//! The route prefix Prometheus and Alertmanager serve every endpoint under
//! (`/-/ready`, `/metrics`, the API): `--web.route-prefix` when given, else
//! the path of `--web.external-url` — both default the one to the other.
//! Everything that asks such a process something (the compose healthcheck,
//! `up`'s readiness probe and reload check, `verify`, backups) goes through
//! [`of`], so a spec with `external_url: https://example.com/prom/` is probed
//! at `/prom/-/ready` everywhere, as the process answers it.

/// `""` (served at the root) or `/a/b`: a leading `/`, no trailing one.
/// Read from the service's command line, so a flag given through
/// `extra_args` counts too (the last occurrence wins, as for the flag parser).
pub fn of(command: &[String]) -> String {
    let flag = |name: &str| {
        let mut found = None;
        let mut args = command.iter();
        while let Some(a) = args.next() {
            if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                found = Some(v.to_string());
            } else if a == name {
                found = args.next().cloned();
            }
        }
        found
    };
    let prefix = match flag("--web.route-prefix") {
        Some(prefix) => prefix,
        None => flag("--web.external-url").map_or_else(String::new, |url| url_path(&url)),
    };
    let prefix = prefix.split(['?', '#']).next().unwrap_or_default();
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() || prefix.starts_with('/') {
        prefix.to_string()
    } else {
        format!("/{prefix}")
    }
}

/// The prefix of a component from its spec: `external_url` and the
/// component's `extra_args` (which may carry `--web.route-prefix`), for a
/// service other than the one being planned (Prometheus scraping
/// Alertmanager, the Kubernetes values).
pub fn of_spec(external_url: Option<&str>, extra_args: &[String]) -> String {
    let mut command: Vec<String> = external_url
        .map(|u| format!("--web.external-url={u}"))
        .into_iter()
        .collect();
    command.extend(extra_args.iter().cloned());
    of(&command)
}

/// `path` under the prefix: `of(cmd) + path` (`path` starts with `/`).
pub fn join(command: &[String], path: &str) -> String {
    format!("{}{path}", of(command))
}

/// Moves the service's HTTP ready endpoint (probed from the host) under
/// the prefix its command line gives.
pub fn apply_to_ready(service: &mut super::Service) {
    let prefix = of(&service.command);
    if let Some(check) = &mut service.ready {
        if !prefix.is_empty() && !check.path.starts_with(&format!("{prefix}/")) {
            check.path = format!("{prefix}{}", check.path);
        }
    }
}

/// The path of a URL (`https://h:1/prom/?x` → `/prom/?x`); a URL without a
/// scheme is taken as `host[:port][/path]`, as Prometheus parses it.
fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("", |i| &rest[i..]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(args: &[&str]) -> String {
        of(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_route_prefix_follows_the_flags() {
        assert_eq!(prefix(&[]), "");
        assert_eq!(prefix(&["--web.external-url=http://mon.example.com"]), "");
        assert_eq!(prefix(&["--web.external-url=http://mon.example.com/"]), "");
        assert_eq!(
            prefix(&["--web.external-url=https://example.com/prom/"]),
            "/prom"
        );
        assert_eq!(
            prefix(&["--web.external-url=https://example.com/a/b?x=1"]),
            "/a/b"
        );
        assert_eq!(
            prefix(&[
                "--web.external-url=https://example.com/prom/",
                "--web.route-prefix=/"
            ]),
            ""
        );
        assert_eq!(prefix(&["--web.route-prefix=inner"]), "/inner");
        // The two-argument form, as `extra_args: [--web.route-prefix, /x]`.
        assert_eq!(prefix(&["--web.route-prefix", "/x/"]), "/x");
        // Not a prefix of another flag's name.
        assert_eq!(prefix(&["--web.route-prefixes=/no"]), "");
        assert_eq!(
            of(&["--web.external-url=https://e.com/p".to_string()]) + "/-/ready",
            join(
                &["--web.external-url=https://e.com/p".to_string()],
                "/-/ready"
            )
        );
    }
}
