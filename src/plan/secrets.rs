//! How secrets reach the containers, identically under `docker compose up -d`
//! and `stackctl up`: a one-shot `secrets-init` job (running as root in an
//! image of the stack that has a POSIX shell) copies each secret file from the
//! stack directory into a per-service named volume, owned by the user that
//! service's image runs as and readable by it alone (0400). Each service
//! mounts its volume read-only at `/run/secrets` and starts only after the job
//! completed.
//!
//! Why not Compose file secrets: they are bind mounts that keep the host
//! file's owner and mode, and Compose (v1 and v2, checked with 2.40) ignores
//! `uid`/`gid`/`mode` on file secrets with a warning. With the 0600 files
//! `init` writes, Grafana (uid 472), Prometheus (65534), Elasticsearch (1000)
//! could not read them; making them readable would mean world- or
//! group-readable credentials on the host. The job keeps the host files 0600
//! and gives every container exactly its own secrets.
//!
//! The same job hands data volumes that an image cannot create itself to the
//! image's user: Docker creates a named volume owned by root, and Jaeger's
//! image runs as uid 10001 with no `/badger` of its own to copy ownership
//! from (jaegertracing/jaeger#4906; its non-root badger doc prescribes a root
//! init step). Being part of the plan, it runs under `docker compose up -d`
//! and `stackctl up` alike.

use super::{Condition, Deployment, Mount, MountSource, SECRETS_DIR, Service};
use crate::model::Kind;
use crate::resolve::Resolved;

/// The one-shot job that installs the secrets.
pub const INIT_SERVICE: &str = "secrets-init";

/// Where the job sees the host's secret files (one read-only bind each).
const IN_DIR: &str = "/in";
/// Where the job sees the per-service volumes.
const OUT_DIR: &str = "/out";

/// The job's program. Arguments, never interpolated into the script, are
/// `VOLUME_DIR:UID:NAME` triples (shell data, not syntax). Each file is
/// written under a temporary name and renamed, so a reader never sees half
/// of one; only once every secret is in place are the files no longer used
/// removed. Nothing is wiped first: a run that fails half way (a secret file
/// gone) leaves every service the secrets it had.
const SCRIPT: &str = r#"set -eu
umask 077
for tool in cp chown chmod mv rm; do
  command -v "$tool" >/dev/null 2>&1 || eval "$tool() { busybox $tool \"\$@\"; }"
done
dirs=" "
keep=" "
for spec in "$@"; do
  case "$spec" in
    +*)
      # `+VOLUME:UID`: a data volume handed to the image's user; its
      # contents are left alone.
      spec=${spec#+}; dir=${spec%%:*}; uid=${spec#*:}
      chown "$uid:$uid" "/out/$dir"; chmod 0700 "/out/$dir"
      continue
      ;;
  esac
  dir=${spec%%:*}; rest=${spec#*:}; uid=${rest%%:*}; name=${rest#*:}
  out="/out/$dir"
  case "$dirs" in
    *" $dir "*) ;;
    *) chmod 0755 "$out"; dirs="$dirs$dir " ;;
  esac
  cp "/in/$name" "$out/.$name.tmp"
  chown "$uid:$uid" "$out/.$name.tmp"
  chmod 0400 "$out/.$name.tmp"
  mv -f "$out/.$name.tmp" "$out/$name"
  keep="$keep$dir/$name "
done
for dir in $dirs; do
  for file in "/out/$dir"/* "/out/$dir"/.[!.]*; do
    [ -e "$file" ] || [ -L "$file" ] || continue
    case "$keep" in
      *" $dir/${file##*/} "*) ;;
      *) rm -f "$file" ;;
    esac
  done
done
"#;

/// Components whose upstream images have `/bin/sh` and `cp`, `chown`,
/// `chmod`, `mv`, `rm` (busybox, alpine or a full distribution), in order of
/// preference. The script falls back to `busybox TOOL` for an image that has
/// only the busybox binary (the locally built test images).
const SHELL_KINDS: [Kind; 9] = [
    Kind::Prometheus,
    Kind::Alertmanager,
    Kind::Pushgateway,
    Kind::NodeExporter,
    Kind::BlackboxExporter,
    Kind::Grafana,
    Kind::Elasticsearch,
    Kind::Logstash,
    Kind::Kibana,
];

/// The named volume holding one service's secrets.
pub fn volume_for(service: &str) -> String {
    format!("{}_secrets", service.replace('-', "_"))
}

/// Adds the job, the volumes and the mounts. Called once every service (and
/// `d.secrets`) is known; does nothing when no service reads a secret.
pub fn deliver(stack: &Resolved, d: &mut Deployment) {
    let owned = owned_volumes(d);
    if d.secrets.is_empty() && owned.is_empty() {
        return;
    }
    let mut args = Vec::new();
    for service in d.services.iter_mut().filter(|s| !s.secrets.is_empty()) {
        let volume = volume_for(&service.name);
        for name in &service.secrets {
            args.push(format!("{volume}:{}:{name}", service.uid));
        }
        service.mounts.push(Mount {
            source: MountSource::Volume(volume),
            target: SECRETS_DIR.to_string(),
            read_only: true,
        });
        service.after(INIT_SERVICE, Condition::CompletedSuccessfully);
    }
    let mut mounts: Vec<Mount> = d
        .secrets
        .iter()
        .map(|(name, file)| Mount {
            source: MountSource::Generated(file.clone()),
            target: format!("{IN_DIR}/{name}"),
            read_only: true,
        })
        .collect();
    let mut volumes: Vec<String> = d
        .services
        .iter()
        .filter(|s| !s.secrets.is_empty())
        .map(|s| volume_for(&s.name))
        .collect();
    volumes.sort();
    volumes.dedup();
    mounts.extend(volumes.iter().map(|v| Mount {
        source: MountSource::Volume(v.clone()),
        target: format!("{OUT_DIR}/{v}"),
        read_only: false,
    }));
    for (volume, uid, service) in &owned {
        mounts.push(Mount {
            source: MountSource::Volume(volume.clone()),
            target: format!("{OUT_DIR}/{volume}"),
            read_only: false,
        });
        args.push(format!("+{volume}:{uid}"));
        if let Some(s) = d.services.iter_mut().find(|s| &s.name == service) {
            s.after(INIT_SERVICE, Condition::CompletedSuccessfully);
        }
    }
    let mut command = vec![SCRIPT.to_string(), "secrets-init".to_string()];
    command.extend(args);
    let job = Service {
        name: INIT_SERVICE.to_string(),
        kind: None,
        image: image(stack, d),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        command,
        environment: Default::default(),
        ports: Vec::new(),
        mounts,
        // Every secret, so that a changed value re-runs the job under `stackctl up`.
        secrets: d.secrets.keys().cloned().collect(),
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
        uid: 0,
        user: Some("0".into()),
        one_shot: true,
    };
    d.services.insert(0, job);
}

/// Data directories that a component's image does not own, by component.
const OWNED_DIRS: [(Kind, &str); 1] = [(Kind::Jaeger, super::jaeger::BADGER_DIR)];

/// (volume, uid, service) for each named volume mounted at one of
/// `OWNED_DIRS` by a service that does not run as root.
fn owned_volumes(d: &Deployment) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    for s in &d.services {
        for m in &s.mounts {
            let MountSource::Volume(v) = &m.source else {
                continue;
            };
            if s.uid != 0
                && OWNED_DIRS
                    .iter()
                    .any(|(kind, dir)| s.kind == Some(*kind) && m.target == *dir)
            {
                out.push((v.clone(), s.uid, s.name.clone()));
            }
        }
    }
    out
}

/// The image of the first deployed service that has a shell; else the
/// Prometheus image the stack would use.
fn image(stack: &Resolved, d: &Deployment) -> String {
    for kind in SHELL_KINDS {
        if let Some(s) = d.services.iter().find(|s| s.kind == Some(kind)) {
            return s.image.clone();
        }
    }
    let info = Kind::Prometheus.info();
    let version = crate::model::catalog::default_version(Kind::Prometheus);
    match stack.defaults.image_registry.as_deref() {
        Some(mirror) => format!("{}/{}:{version}", mirror.trim_end_matches('/'), info.image),
        None => format!("{}:{version}", info.image),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(yaml: &str) -> Deployment {
        let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
        let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        super::super::plan(
            &crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec"),
            &super::super::Inputs::default(),
        )
    }

    const GRAFANA_AND_PROMETHEUS: &str = "stackctl: 1\nname: t\nsecrets:\n  grafana_admin_password: {generate: true}\n  grafana_secret_key: {generate: true}\ncomponents:\n  prometheus: {}\n  grafana: {}\n";

    #[test]
    fn each_reader_gets_its_own_volume_after_the_job() {
        let d = plan_of(GRAFANA_AND_PROMETHEUS);
        let grafana = d.service("grafana").unwrap();
        assert!(grafana.mounts.contains(&Mount {
            source: MountSource::Volume("grafana_secrets".into()),
            target: "/run/secrets".into(),
            read_only: true,
        }));
        assert!(
            grafana
                .depends_on
                .iter()
                .any(|dep| dep.service == INIT_SERVICE
                    && dep.condition == Condition::CompletedSuccessfully)
        );
        // Prometheus reads no secret here: no volume, no dependency.
        let prometheus = d.service("prometheus").unwrap();
        assert!(!prometheus.mounts.iter().any(|m| m.target == SECRETS_DIR));
        assert!(prometheus.depends_on.is_empty());
        assert!(d.volumes.contains(&"grafana_secrets".to_string()));
    }

    #[test]
    fn the_job_runs_as_root_in_a_stack_image_and_installs_for_the_image_user() {
        let d = plan_of(GRAFANA_AND_PROMETHEUS);
        let job = d.service(INIT_SERVICE).unwrap();
        assert!(job.one_shot);
        assert_eq!(job.user.as_deref(), Some("0"));
        assert_eq!(job.image, d.service("prometheus").unwrap().image);
        // Grafana's image runs as 472: the files are installed for 472.
        let grafana_uid = d.service("grafana").unwrap().uid;
        assert_eq!(grafana_uid, Kind::Grafana.info().uid);
        assert_eq!(
            &job.command[2..],
            [
                format!("grafana_secrets:{grafana_uid}:grafana_admin_password"),
                format!("grafana_secrets:{grafana_uid}:grafana_secret_key"),
            ]
        );
        // Host files in read-only, the volume out writable; nothing else.
        let mut mounts: Vec<(String, bool)> = job
            .mounts
            .iter()
            .map(|m| (m.target.clone(), m.read_only))
            .collect();
        mounts.sort();
        assert_eq!(
            mounts,
            [
                ("/in/grafana_admin_password".to_string(), true),
                ("/in/grafana_secret_key".to_string(), true),
                ("/out/grafana_secrets".to_string(), false),
            ]
        );
        assert!(job.mounts.contains(&Mount {
            source: MountSource::Generated("secrets/grafana_admin_password".into()),
            target: "/in/grafana_admin_password".into(),
            read_only: true,
        }));
    }

    #[test]
    fn without_a_shell_image_the_job_uses_the_prometheus_image() {
        let d = plan_of(
            "stackctl: 1\nname: t\ndefaults:\n  image_registry: mirror.local\nsecrets:\n  redis_password: {}\ncomponents:\n  postgres_exporter:\n    host: db\n    password_secret: redis_password\n",
        );
        let job = d.service(INIT_SERVICE).unwrap();
        assert_eq!(
            job.image,
            format!(
                "mirror.local/prom/prometheus:{}",
                crate::model::catalog::default_version(Kind::Prometheus)
            )
        );
    }

    #[test]
    fn no_secret_no_job() {
        let d = plan_of("stackctl: 1\nname: t\ncomponents:\n  node_exporter: {}\n");
        assert!(d.service(INIT_SERVICE).is_none());
        assert!(d.volumes.iter().all(|v| !v.ends_with("_secrets")));
    }
}

#[cfg(test)]
mod script_tests {
    //! The job's script run by `/bin/sh` on the host, against temporary
    //! directories standing in for `/in` and `/out`.
    use super::SCRIPT;
    use std::path::Path;
    use std::process::Command;

    fn run(root: &Path, args: &[String]) -> bool {
        let script = SCRIPT
            .replace("/in/", &format!("{}/in/", root.display()))
            .replace("/out/", &format!("{}/out/", root.display()));
        Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .arg("secrets-init")
            .args(args)
            .status()
            .expect("sh runs")
            .success()
    }

    fn uid() -> u32 {
        // SAFETY: getuid has no preconditions and cannot fail.
        unsafe { libc::getuid() }
    }

    #[test]
    fn updates_in_place_removes_only_stale_files_and_a_failed_run_keeps_the_old_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir_all(root.join("out/am_secrets")).unwrap();
        std::fs::write(root.join("in/a"), "one").unwrap();
        std::fs::write(root.join("in/b"), "two").unwrap();
        std::fs::write(root.join("out/am_secrets/stale"), "old").unwrap();
        std::fs::write(root.join("out/am_secrets/.stale.tmp"), "old").unwrap();
        let spec = |name: &str| format!("am_secrets:{}:{name}", uid());
        assert!(run(root, &[spec("a"), spec("b")]));
        let out = root.join("out/am_secrets");
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "one");

        // A secret file gone from the host: the run fails, and the secrets
        // already installed stay (they were never wiped first).
        std::fs::remove_file(root.join("in/a")).unwrap();
        std::fs::write(root.join("in/b"), "two, rotated").unwrap();
        assert!(!run(root, &[spec("a"), spec("b")]));
        assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(out.join("b")).unwrap(), "two");
    }

    /// Installs with the mode and owner the plan promises, and leaves no
    /// temporary file behind.
    #[test]
    fn installs_private_files_owned_by_the_image_user() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir_all(root.join("out/v")).unwrap();
        std::fs::write(root.join("in/pw"), "s3cret").unwrap();
        std::fs::write(root.join("out/v/stale"), "old").unwrap();
        assert!(run(root, &[format!("v:{}:pw", uid())]));
        let installed = root.join("out/v/pw");
        assert_eq!(std::fs::read_to_string(&installed).unwrap(), "s3cret");
        let meta = std::fs::metadata(&installed).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o400);
        assert_eq!(meta.uid(), uid());
        assert!(!root.join("out/v/stale").exists());
        assert!(!root.join("out/v/.pw.tmp").exists());
    }

    /// A `+VOLUME:UID` argument hands a data volume to the image's user and
    /// keeps what it holds (Jaeger's badger data survives a re-run).
    #[test]
    fn hands_data_volumes_over_and_keeps_their_data() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("out/data/keys")).unwrap();
        std::fs::write(root.join("out/data/keys/000001.sst"), "kept").unwrap();
        assert!(run(root, &[format!("+data:{}", uid())]));
        let meta = std::fs::metadata(root.join("out/data")).unwrap();
        assert_eq!(meta.uid(), uid());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert_eq!(
            std::fs::read_to_string(root.join("out/data/keys/000001.sst")).unwrap(),
            "kept"
        );
    }
}
