//! `hosts:` on the real Docker engine: three hosts simulated on this machine,
//! each with its own Docker network standing in for its LAN (the host's
//! address is that network's gateway, where its bundle publishes), and its
//! own Docker endpoint: plain TCP, TCP with TLS client certificates, and ssh
//! (a fake `ssh` on PATH running `docker system dial-stdio`; no sshd here).
//! The endpoints are relays to the one local engine (`hosts_engine_relay`).
//!
//! `up --host` brings each bundle up through its endpoint (the relays count
//! the connections, the fake ssh logs its arguments), the central stack's
//! Prometheus (attached to the hosts' networks) scrapes every remote target
//! and `verify` passes; then one host's agent is cut off its network and
//! `verify` must fail naming that host. `status --host` and `down --host`
//! run through the endpoints too.

use crate::common;
use crate::docker_e2e::{Images, setup};
use crate::hosts_engine_relay as relay;

use common::path_str;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// Removes every container, network and volume of the projects, and the
/// hosts' networks, even when the test fails.
struct Cleanup {
    projects: Vec<String>,
    networks: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.projects {
            let label = format!("label=com.docker.compose.project={p}");
            let (_, ids) = docker(&["ps", "-aq", "--filter", &label]);
            for id in ids.lines() {
                docker(&["rm", "-f", "-v", id]);
            }
            docker(&["network", "rm", &format!("{p}_default")]);
            let (_, vols) = docker(&["volume", "ls", "-q", "--filter", &label]);
            for v in vols.lines() {
                docker(&["volume", "rm", v]);
            }
        }
        for n in &self.networks {
            docker(&["network", "rm", n]);
        }
    }
}

fn component(images: &Images, key: &str, port_name: &str, port: u16) -> String {
    let (repo, version) = &images[key];
    format!(
        "      {key}:\n        image: {repo}\n        version: {version}\n        ports: {{{port_name}: {port}}}\n"
    )
}

fn stackctl(dir: &Path, path_env: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = common::stackctl();
    cmd.args(args).args(["--dir", path_str(dir)]);
    cmd.env("PATH", path_env).env_remove("DOCKER_HOST");
    common::decode(cmd.output().expect("stackctl runs"))
}

#[test]
fn up_host_brings_bundles_up_through_tcp_tls_and_ssh_and_verify_names_a_cut_host() {
    let _gate = common::serial::gate(module_path!());
    let Some(images) = setup("hosts_engine") else {
        return;
    };
    let started = Instant::now();
    let name = format!("schosts-{}", std::process::id());
    let hosts = ["web-1", "db-1", "cache-1"];
    let nets: Vec<String> = hosts.iter().map(|h| format!("{name}-lan-{h}")).collect();
    let mut cleanup = Cleanup {
        projects: vec![name.clone()],
        networks: nets.clone(),
    };
    for h in hosts {
        cleanup.projects.push(format!("{name}-{h}"));
    }
    let mut gateways = Vec::new();
    for n in &nets {
        let (ok, _) = docker(&["network", "create", n]);
        assert!(ok, "cannot create network {n}");
        let (_, gw) = docker(&[
            "network",
            "inspect",
            n,
            "-f",
            "{{(index .IPAM.Config 0).Gateway}}",
        ]);
        assert!(
            gw.parse::<std::net::IpAddr>().is_ok(),
            "gateway of {n}: {gw}"
        );
        gateways.push(gw);
    }

    let dir = tempfile::tempdir().expect("tmp");
    let tcp = relay::tcp();
    let tls_files = relay::tls_files(&dir.path().join("certs/cache-1"));
    let (tls, tls_refused) = relay::tls(tls_files);
    let ssh_log = dir.path().join("ssh.log");
    let fake_bin = relay::fake_ssh(&dir.path().join("bin"), &ssh_log);
    let path_env = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let reserved: Vec<_> = (0..5).map(|_| crate::support::reserve_port()).collect();
    let ports: Vec<u16> = reserved.iter().map(|r| r.port()).collect();
    drop(reserved);
    let (prom_repo, prom_version) = &images["prometheus"];
    let spec = format!(
        "stackctl: 1\nname: {name}\nnetwork:\n  attach: [{nets}]\ncomponents:\n  prometheus:\n    image: {prom_repo}\n    version: {prom_version}\n    ports: {{web: {prom}}}\n    scrape_interval: 1s\nhosts:\n  web-1:\n    address: {gw0}\n    bind_address: {gw0}\n    docker: tcp://127.0.0.1:{tcp}\n    components:\n{web_node}{web_bb}  db-1:\n    address: {gw1}\n    bind_address: {gw1}\n    docker: ssh://tester@db-1.example\n    components:\n{db_node}  cache-1:\n    address: {gw2}\n    bind_address: {gw2}\n    docker: tcp://127.0.0.1:{tls}\n    docker_cert_path: certs/cache-1\n    components:\n{cache_node}",
        nets = nets.join(", "),
        prom = ports[0],
        gw0 = gateways[0],
        gw1 = gateways[1],
        gw2 = gateways[2],
        tcp = tcp.port,
        tls = tls.port,
        web_node = component(images, "node_exporter", "metrics", ports[1]),
        web_bb = component(images, "blackbox_exporter", "http", ports[2]),
        db_node = component(images, "node_exporter", "metrics", ports[3]),
        cache_node = component(images, "node_exporter", "metrics", ports[4]),
    );
    std::fs::write(dir.path().join("stack.yaml"), &spec).expect("spec");

    let (code, _, err) = stackctl(dir.path(), &path_env, &["up", "--wait", "60s"]);
    assert_eq!(code, 0, "central up failed:\n{err}");
    for h in hosts {
        let (code, _, err) = stackctl(dir.path(), &path_env, &["up", "--host", h, "--wait", "60s"]);
        assert_eq!(code, 0, "up --host {h} failed:\n{err}");
        assert!(
            err.contains(&format!("on host `{h}` through")),
            "up names the host and its endpoint: {err}"
        );
    }
    // Each bundle came through its own endpoint.
    assert!(
        tcp.connections.load(Ordering::SeqCst) > 0,
        "the TCP relay saw no connection"
    );
    assert!(
        tls.connections.load(Ordering::SeqCst) > 0,
        "the TLS relay completed no handshake"
    );
    assert_eq!(
        tls_refused.load(Ordering::SeqCst),
        0,
        "a TLS handshake failed"
    );
    let log = std::fs::read_to_string(&ssh_log).expect("the fake ssh ran");
    assert!(
        log.contains("-l tester -- db-1.example docker system dial-stdio"),
        "ssh is run as the docker CLI runs it: {log}"
    );
    // The bundles' containers exist under their own projects, each on its own network.
    for h in hosts {
        let (_, ids) = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={name}-{h}"),
        ]);
        assert!(!ids.is_empty(), "no running container of host {h}");
    }
    // The generated blackbox config reached the container by copy, not by a
    // bind mount of this machine's stack directory (a remote engine has none).
    let bb = format!("{name}-web-1-blackbox-exporter-1");
    let (_, mounts) = docker(&["inspect", &bb, "-f", "{{range .Mounts}}{{.Source}} {{end}}"]);
    assert!(
        !mounts.contains(path_str(dir.path())),
        "the remote container binds the local stack directory: {mounts}"
    );

    let (code, out, err) = stackctl(dir.path(), &path_env, &["status", "--host", "cache-1"]);
    assert_eq!(code, 0, "status --host cache-1 (over TLS):\n{out}\n{err}");
    assert!(
        out.contains("node-exporter"),
        "status lists the agent: {out}"
    );

    let (code, out, err) = stackctl(
        dir.path(),
        &path_env,
        &["verify", "--wait", "45s", "--format", "json"],
    );
    assert_eq!(code, 0, "verify with every host up:\n{out}\n{err}");
    // Every remote target is up: the three hosts' node-exporters and web-1's blackbox.
    let report: serde_json::Value = serde_json::from_str(&out).expect("verify JSON");
    let job = |name: &str| {
        report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["check"] == format!("scrape job `{name}`"))
            .map(|c| (c["status"].clone(), c["message"].clone()))
    };
    assert_eq!(
        job("hosts-node-exporter"),
        Some(("pass".into(), "3/3 targets up".into())),
        "{out}"
    );
    assert_eq!(
        job("hosts-blackbox-exporter"),
        Some(("pass".into(), "1/1 targets up".into())),
        "{out}"
    );

    // Cut db-1 off: its agent leaves the bundle's network, so its published
    // port leads nowhere.
    let agent = format!("{name}-db-1-node-exporter-1");
    let (ok, _) = docker(&[
        "network",
        "disconnect",
        "-f",
        &format!("{name}-db-1_default"),
        &agent,
    ]);
    assert!(ok, "cannot disconnect {agent}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (code, out) = loop {
        let (code, out, err) = stackctl(dir.path(), &path_env, &["verify", "--timeout", "3s"]);
        if code != 0 || Instant::now() > deadline {
            break (code, format!("{out}\n{err}"));
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_ne!(code, 0, "verify passed with db-1 cut off:\n{out}");
    assert!(
        out.contains("host `db-1`"),
        "verify names the cut host:\n{out}"
    );
    for up in ["web-1", "cache-1"] {
        assert!(
            !out.contains(&format!("host `{up}`")),
            "verify blames host {up}, which is up:\n{out}"
        );
    }

    for h in hosts {
        let (code, _, err) = stackctl(dir.path(), &path_env, &["down", "--host", h]);
        assert_eq!(code, 0, "down --host {h}:\n{err}");
        let (_, ids) = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={name}-{h}"),
        ]);
        assert!(ids.is_empty(), "down --host {h} left containers: {ids}");
    }
    let (code, _, err) = stackctl(dir.path(), &path_env, &["down"]);
    assert_eq!(code, 0, "down:\n{err}");
    eprintln!(
        "hosts_engine: 3 hosts (tcp, tls, ssh→dial-stdio) up, verified, one cut and named, down in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn up_host_refuses_an_unknown_host_and_a_dead_endpoint_with_a_hint() {
    let dir = common::spec_dir(
        "stackctl: 1\nname: hostsdead\ncomponents:\n  prometheus: {}\nhosts:\n  web-1:\n    address: 10.0.0.5\n    docker: tcp://127.0.0.1:1\n    components:\n      node_exporter: {}\n",
    );
    let (code, _, err) = common::run(&["up", "--host", "web-2", "--dir", path_str(dir.path())]);
    assert_ne!(code, 0);
    assert!(
        err.contains("no host `web-2`") && err.contains("`web-1`"),
        "names the known hosts: {err}"
    );
    let (code, _, err) = common::run(&["status", "--host", "web-1", "--dir", path_str(dir.path())]);
    assert_eq!(
        code, 2,
        "an engine that does not answer stops status: {err}"
    );
    assert!(
        err.contains("cannot reach the Docker daemon at `tcp://127.0.0.1:1`"),
        "names the host's endpoint: {err}"
    );
}
