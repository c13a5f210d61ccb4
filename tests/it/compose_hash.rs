//! `com.docker.compose.config-hash` on the containers `stackctl up` creates
//! is exactly the hash Compose v2 computes for the rendered service, so
//! neither tool recreates the other's containers. Checked against the real
//! consumer: `docker compose config --hash '*'` (Compose 2.40, the same
//! `ServiceHash` its `up` compares) for every shipped spec, and for a plan
//! carrying every setting render can emit (resources, devices, extra hosts,
//! IPv6 and UDP ports, `$`, `<&>` and U+2028 in values, minutes-long
//! healthcheck durations). The real-engine round trip (stackctl up, then
//! Compose up, and the reverse) is in `docker_e2e.rs`.

use crate::common;

use stackctl::docker::spec::{self, COMPOSE_HASH};
use stackctl::plan::Deployment;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn deployment(text: &str, dir: &Path) -> Deployment {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let stack = stackctl::resolve::Resolved::from_loaded(&loaded).expect("loads");
    let inputs = stackctl::commands::render::read_inputs(&stack, dir).expect("inputs");
    stackctl::plan::plan(&stack, &inputs)
}

/// Compose's hashes of the rendered file, by service.
fn compose_hashes(compose: &Path, d: &Deployment, dir: &Path) -> BTreeMap<String, String> {
    let tree = stackctl::render::compose_tree(d);
    let file = dir.join(stackctl::render::COMPOSE_FILE);
    std::fs::write(&file, &tree[stackctl::render::COMPOSE_FILE]).unwrap();
    let out = Command::new(compose)
        .current_dir(dir)
        .args(["-p", &d.project, "-f"])
        .arg(&file)
        .args(["config", "--hash", "*"])
        .output()
        .expect("runs compose");
    assert!(
        out.status.success(),
        "compose config failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, h)| (s.to_string(), h.to_string()))
        .collect()
}

fn ours(d: &Deployment, dir: &Path) -> BTreeMap<String, String> {
    d.services
        .iter()
        .map(|s| {
            let c = spec::container(d, s, dir, &BTreeMap::new());
            (s.name.clone(), c.labels[COMPOSE_HASH].clone())
        })
        .collect()
}

#[test]
fn every_shipped_spec_hashes_as_compose_v2_does() {
    let Some(compose) = common::compose_v2("the Compose v2 config hash") else {
        return;
    };
    let mut checked = 0;
    for (label, text, src) in common::shipped_specs() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        let d = deployment(&text, &src);
        let theirs = compose_hashes(&compose, &d, &dir);
        assert_eq!(ours(&d, &dir), theirs, "{label}");
        checked += theirs.len();
    }
    assert!(checked > 40, "only {checked} services compared");
}

#[test]
fn every_setting_render_emits_hashes_as_compose_v2_does() {
    let Some(compose) = common::compose_v2("the Compose v2 config hash") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    let profile = stackctl::profiles::find("minimal").unwrap();
    let mut d = deployment(profile.text, Path::new("."));
    d.external_networks = vec!["shared".into()];
    for (i, s) in d.services.iter_mut().enumerate() {
        s.cpus = Some([0.25, 1.0, 1.5, 0.1][i % 4]);
        s.memory_bytes = Some(512 << 20);
        s.cap_add = vec!["SYS_ADMIN".into()];
        s.devices = vec!["/dev/kmsg".into(), "/dev/a:/dev/b:r".into()];
        s.extra_hosts = vec![
            ("zeta".into(), "10.0.0.5".into()),
            ("alpha".into(), "::1".into()),
        ];
        s.privileged = true;
        s.environment
            .insert("ODD".into(), "$HOME <a&b> \u{2028} \"q\" \\".into());
        if let Some(p) = s.ports.first_mut() {
            p.host_ip = "::1".into();
        }
        if let Some(p) = s.ports.first().cloned() {
            s.ports.push(stackctl::plan::PortBinding {
                host_port: p.host_port + 1000,
                udp: true,
                ..p
            });
        }
        if let Some(h) = &mut s.healthcheck {
            h.interval_s = 90;
            h.start_period_s = 3600;
            h.retries = 0;
        }
    }
    let theirs = compose_hashes(&compose, &d, &dir);
    assert_eq!(theirs.len(), d.services.len());
    assert_eq!(ours(&d, &dir), theirs);
}
