//! An in-memory `Engine` for unit tests: containers, images, networks and
//! volumes in maps, every mutating call recorded, and per-service scripts for
//! how a container behaves once started (healthy after N looks, exits, never
//! healthy, …).

use super::engine::{ContainerSpec, Engine, EngineError, Exec, Existing, Result, State};
use super::spec;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Inspections before the healthcheck reports healthy.
    pub healthy_after: u32,
    /// The process exits with this code (restarting, unless it is a job).
    pub exit: Option<i64>,
    /// The healthcheck fails for good.
    pub unhealthy: bool,
    /// The healthcheck keeps "starting" forever.
    pub never_healthy: bool,
    /// The healthcheck command, run through exec, succeeds from this run on
    /// (`None`: it fails until Docker itself reports healthy).
    pub exec_healthy_after: Option<u32>,
    /// Docker has not run its first healthcheck (no output yet).
    pub no_docker_check_yet: bool,
    /// Secrets the process user cannot read (exec `test -r` fails).
    pub unreadable_secrets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub spec: ContainerSpec,
    pub image_id: String,
    pub state: String,
    pub looks: u32,
    /// Healthcheck commands run through exec.
    pub execs: u32,
    /// How often it was started (its start time, for `inspect`).
    pub starts: u32,
}

impl Container {
    pub fn service(&self) -> &str {
        &self.spec.labels[spec::SERVICE]
    }
}

#[derive(Debug, Default)]
pub struct World {
    pub images: BTreeMap<String, String>,
    /// Images a pull would bring in (name → ID); others fail to pull.
    pub pullable: BTreeMap<String, String>,
    pub containers: BTreeMap<String, Container>,
    pub networks: BTreeMap<String, BTreeMap<String, String>>,
    pub volumes: BTreeMap<String, BTreeMap<String, String>>,
    pub taken_ports: BTreeSet<u16>,
    pub behaviour: BTreeMap<String, Behaviour>,
    /// Mutating calls in order: `create prometheus`, `start prometheus`, …
    pub calls: Vec<String>,
    pub unreachable: bool,
    /// The API version the fake speaks (`None`: 1.41, as Docker 20.10).
    pub api: Option<(u32, u32)>,
    /// Ready endpoints answer (`http_ok`).
    pub http_down: bool,
    /// Extra networks sharing a name (ID → name), as two concurrent creates leave.
    pub duplicate_networks: BTreeMap<String, String>,
    /// A SIGHUP reload is rejected (the reload metric says 0).
    pub reload_fails: bool,
    /// SIGHUP does not reload: the success timestamp stays where it was
    /// (ahead of the clock, as a previous reload in the same second or a
    /// skewed clock leaves it).
    pub reload_stuck: bool,
    /// `addr/path` of every body read (metrics for reload confirmation).
    pub bodies: Vec<String>,
    /// Time of the last signal, for the reload metrics.
    pub signalled: Option<f64>,
    /// Every `http_ok` probe: `addr path`.
    pub probes: Vec<String>,
    /// Contents of volumes: volume → path inside it → file.
    pub data: BTreeMap<String, BTreeMap<String, FakeFile>>,
    /// Prometheus's `prometheus_tsdb_reloads_total` (a compaction adds one).
    pub tsdb_reloads: u64,
    /// The next this many downloads each see a compaction (reloads + 1).
    pub compactions_during_download: u32,
    /// Downloads from this service fail with this engine message.
    pub download_fails: Option<(String, String)>,
    next_id: u32,
}

/// The engine's status text as the list shows it: `Up 5 seconds (healthy)`
/// once Docker's own check passed, as `inspect` would report it now.
fn status_text(c: &Container, b: &Behaviour) -> String {
    if c.state == "exited" {
        return format!("Exited ({}) 1 second ago", b.exit.unwrap_or(0));
    }
    if c.state != "running" {
        return c.state.clone();
    }
    if c.spec.healthcheck.is_none() {
        return "Up 5 seconds".into();
    }
    let healthy = !b.unhealthy && !b.never_healthy && b.exit.is_none() && c.looks > b.healthy_after;
    if healthy {
        "Up 5 seconds (healthy)".into()
    } else if b.unhealthy {
        "Up 5 seconds (unhealthy)".into()
    } else {
        "Up 1 second (health: starting)".into()
    }
}

/// A file (or directory) in a fake volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeFile {
    pub dir: bool,
    pub data: Vec<u8>,
    pub uid: u64,
}

impl FakeFile {
    pub fn file(data: &[u8]) -> FakeFile {
        FakeFile {
            dir: false,
            data: data.to_vec(),
            uid: 65534,
        }
    }

    pub fn dir() -> FakeFile {
        FakeFile {
            dir: true,
            data: Vec::new(),
            uid: 65534,
        }
    }
}

/// The volume a container has mounted at `path`.
fn volume_at(c: &Container, path: &str) -> Option<String> {
    c.spec.binds.iter().find_map(|b| {
        let mut parts = b.splitn(3, ':');
        let (volume, target) = (parts.next()?, parts.next()?);
        (target == path).then(|| volume.to_string())
    })
}

/// A tar archive of a fake volume, as the engine's archive endpoint gives
/// it: the top entry is `top/`, the volume's root.
fn tar_of(top: &str, files: &BTreeMap<String, FakeFile>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut root = tar::Header::new_gnu();
    root.set_entry_type(tar::EntryType::Directory);
    root.set_mode(0o755);
    root.set_uid(65534);
    root.set_size(0);
    b.append_data(&mut root, format!("{top}/"), std::io::empty())
        .expect("tar in memory");
    for (path, f) in files {
        let mut h = tar::Header::new_gnu();
        h.set_uid(f.uid);
        h.set_gid(f.uid);
        if f.dir {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, format!("{top}/{path}/"), std::io::empty())
                .expect("tar in memory");
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(f.data.len() as u64);
            b.append_data(&mut h, format!("{top}/{path}"), f.data.as_slice())
                .expect("tar in memory");
        }
    }
    b.into_inner().expect("tar in memory")
}

#[derive(Debug, Default)]
pub struct Fake {
    pub world: RefCell<World>,
}

impl Fake {
    pub fn with_images(images: &[&str]) -> Fake {
        let fake = Fake::default();
        for (i, image) in images.iter().enumerate() {
            fake.world
                .borrow_mut()
                .images
                .insert(image.to_string(), format!("sha256:img{i}"));
        }
        fake
    }

    pub fn behave(&self, service: &str, b: Behaviour) {
        self.world
            .borrow_mut()
            .behaviour
            .insert(service.to_string(), b);
    }

    pub fn calls(&self) -> Vec<String> {
        self.world.borrow().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.world.borrow_mut().calls.clear();
    }

    /// Service → container ID.
    pub fn ids(&self) -> BTreeMap<String, String> {
        self.world
            .borrow()
            .containers
            .values()
            .map(|c| (c.service().to_string(), c.id.clone()))
            .collect()
    }

    pub fn container(&self, service: &str) -> Option<Container> {
        self.world
            .borrow()
            .containers
            .values()
            .find(|c| c.service() == service)
            .cloned()
    }

    fn check(&self) -> Result<()> {
        if self.world.borrow().unreachable {
            return Err(EngineError::Unreachable {
                host: self.host(),
                reason: "connection refused".into(),
            });
        }
        Ok(())
    }

    fn record(&self, call: String) {
        self.world.borrow_mut().calls.push(call);
    }
}

impl Engine for Fake {
    fn api_version(&self) -> (u32, u32) {
        self.world.borrow().api.unwrap_or((1, 41))
    }

    fn host(&self) -> String {
        "unix:///fake.sock".into()
    }

    async fn ping(&self) -> Result<()> {
        self.check()
    }

    async fn image_id(&self, image: &str) -> Result<Option<String>> {
        self.check()?;
        Ok(self.world.borrow().images.get(image).cloned())
    }

    async fn pull(&self, image: &str) -> Result<()> {
        self.check()?;
        self.record(format!("pull {image}"));
        let mut w = self.world.borrow_mut();
        match w.pullable.get(image).cloned() {
            Some(id) => {
                w.images.insert(image.to_string(), id);
                Ok(())
            }
            None => Err(EngineError::Api(format!("pull access denied for {image}"))),
        }
    }

    async fn containers(&self, project: &str) -> Result<Vec<Existing>> {
        self.check()?;
        let w = self.world.borrow();
        Ok(w.containers
            .values()
            .filter(|c| c.spec.labels.get(spec::PROJECT).map(String::as_str) == Some(project))
            .map(|c| Existing {
                id: c.id.clone(),
                name: c.spec.name.clone(),
                service: c.service().to_string(),
                labels: c.spec.labels.clone(),
                image_id: c.image_id.clone(),
                state: c.state.clone(),
                status: status_text(
                    c,
                    &w.behaviour.get(c.service()).cloned().unwrap_or_default(),
                ),
                ports: c.spec.ports.clone(),
            })
            .collect())
    }

    async fn network_exists(&self, name: &str) -> Result<bool> {
        self.check()?;
        let w = self.world.borrow();
        // The real engine cannot inspect an ambiguous name.
        if w.duplicate_networks.values().any(|n| n == name) {
            return Err(EngineError::Api(format!(
                "network {name} is ambiguous (2 matches found based on name)"
            )));
        }
        Ok(w.networks.contains_key(name))
    }

    async fn networks_named(&self, name: &str) -> Result<Vec<String>> {
        self.check()?;
        let w = self.world.borrow();
        let mut ids: Vec<String> = w
            .networks
            .contains_key(name)
            .then(|| name.to_string())
            .into_iter()
            .collect();
        ids.extend(
            w.duplicate_networks
                .iter()
                .filter(|(_, n)| n.as_str() == name)
                .map(|(id, _)| id.clone()),
        );
        Ok(ids)
    }

    async fn create_network(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()> {
        self.check()?;
        self.record(format!("create network {name}"));
        self.world
            .borrow_mut()
            .networks
            .insert(name.to_string(), labels.clone());
        Ok(())
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        self.check()?;
        self.record(format!("remove network {name}"));
        let mut w = self.world.borrow_mut();
        if w.duplicate_networks.remove(name).is_none() {
            w.networks.remove(name);
        }
        Ok(())
    }

    async fn volume_exists(&self, name: &str) -> Result<bool> {
        self.check()?;
        Ok(self.world.borrow().volumes.contains_key(name))
    }

    async fn create_volume(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()> {
        self.check()?;
        self.record(format!("create volume {name}"));
        self.world
            .borrow_mut()
            .volumes
            .insert(name.to_string(), labels.clone());
        Ok(())
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        // As the real engine: not while a container (running or not) has it.
        if w.containers.values().any(|c| {
            c.spec
                .binds
                .iter()
                .any(|b| b.split(':').next() == Some(name))
        }) {
            return Err(EngineError::Conflict(format!(
                "remove {name}: volume is in use"
            )));
        }
        w.calls.push(format!("remove volume {name}"));
        w.volumes.remove(name);
        w.data.remove(name);
        Ok(())
    }

    async fn volumes(&self, project: &str) -> Result<Vec<String>> {
        self.check()?;
        Ok(self
            .world
            .borrow()
            .volumes
            .iter()
            .filter(|(_, l)| l.get(spec::PROJECT).map(String::as_str) == Some(project))
            .map(|(n, _)| n.clone())
            .collect())
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        if w.containers.values().any(|c| c.spec.name == spec.name) {
            return Err(EngineError::Conflict(format!(
                "the container name \"/{}\" is already in use",
                spec.name
            )));
        }
        let Some(image_id) = w.images.get(&spec.image).cloned() else {
            return Err(EngineError::NotFound(format!(
                "no such image: {}",
                spec.image
            )));
        };
        w.next_id += 1;
        let id = format!("c{}", w.next_id);
        let service = spec.labels[spec::SERVICE].clone();
        w.calls.push(format!("create {service}"));
        w.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                spec: spec.clone(),
                image_id,
                state: "created".into(),
                looks: 0,
                execs: 0,
                starts: 0,
            },
        );
        Ok(id)
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        let c = w
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        c.state = "running".into();
        c.looks = 0;
        c.starts += 1;
        let service = c.service().to_string();
        w.calls.push(format!("start {service}"));
        Ok(())
    }

    async fn inspect(&self, id: &str) -> Result<State> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        let behaviour = {
            let c = w
                .containers
                .get(id)
                .ok_or_else(|| EngineError::NotFound(id.into()))?;
            w.behaviour.get(c.service()).cloned().unwrap_or_default()
        };
        let c = w
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        c.looks += 1;
        let one_shot = c.spec.restart == "no";
        let mut state = State {
            status: c.state.clone(),
            ip: Some("172.30.0.2".into()),
            started_at: Some(format!("start #{}", c.starts)),
            ..State::default()
        };
        if let Some(code) = behaviour.exit {
            if one_shot {
                c.state = "exited".into();
                state.status = "exited".into();
            } else {
                state.status = "restarting".into();
                state.restart_count = 1;
            }
            state.exit_code = code;
            return Ok(state);
        }
        if c.spec.healthcheck.is_some() {
            let (health, output) = if behaviour.unhealthy {
                (
                    "unhealthy",
                    "wget: can't connect to remote host: Connection refused",
                )
            } else if behaviour.never_healthy || c.looks <= behaviour.healthy_after {
                (
                    "starting",
                    "wget: server returned error: HTTP/1.1 503 Service Unavailable",
                )
            } else {
                ("healthy", "")
            };
            state.health = Some(health.into());
            if !(behaviour.no_docker_check_yet && health == "starting") {
                state.last_health_output = Some(output.into());
            }
        }
        Ok(state)
    }

    async fn logs(&self, id: &str, lines: usize) -> Result<String> {
        self.check()?;
        let w = self.world.borrow();
        let c = w
            .containers
            .get(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        let log: Vec<String> = (1..=30)
            .map(|i| format!("{} log line {i}", c.service()))
            .collect();
        Ok(log[log.len() - lines.min(log.len())..].join("\n") + "\n")
    }

    async fn remove(&self, id: &str) -> Result<()> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        if let Some(c) = w.containers.remove(id) {
            let service = c.service().to_string();
            w.calls.push(format!("remove {service}"));
        }
        Ok(())
    }

    async fn exec(&self, id: &str, cmd: &[String], _timeout: std::time::Duration) -> Result<Exec> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        let behaviour = {
            let c = w
                .containers
                .get(id)
                .ok_or_else(|| EngineError::NotFound(id.into()))?;
            w.behaviour.get(c.service()).cloned().unwrap_or_default()
        };
        let c = w
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        if c.state != "running" {
            return Err(EngineError::Conflict(format!(
                "container {id} is not running"
            )));
        }
        let service = c.service().to_string();
        let joined = cmd.join(" ");
        if let Some(secret) = joined
            .split_whitespace()
            .find_map(|w| w.strip_prefix("/run/secrets/"))
        {
            let code = if behaviour.unreadable_secrets.iter().any(|s| s == secret) {
                3
            } else {
                0
            };
            w.probes.push(format!("exec {service} secret {secret}"));
            return Ok(Exec {
                exit_code: Some(code),
                output: String::new(),
            });
        }
        c.execs += 1;
        let ok = behaviour
            .exec_healthy_after
            .is_some_and(|n| c.execs > n && !behaviour.unhealthy && behaviour.exit.is_none());
        w.probes.push(format!("exec {service} healthcheck"));
        Ok(Exec {
            exit_code: Some(if ok { 0 } else { 1 }),
            output: if ok {
                String::new()
            } else {
                "wget: server returned error: HTTP/1.1 503 Service Unavailable".into()
            },
        })
    }

    async fn signal(&self, id: &str, signal: &str) -> Result<()> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        let service = w
            .containers
            .get(id)
            .map(|c| c.service().to_string())
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        w.calls.push(format!("signal {signal} {service}"));
        w.signalled = Some(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default()
                + 1.0,
        );
        Ok(())
    }

    async fn http_body(&self, addr: &str, path: &str) -> Option<String> {
        let mut w = self.world.borrow_mut();
        w.bodies.push(format!("{addr}{path}"));
        let at = if w.reload_stuck {
            4_000_000_000.0
        } else {
            w.signalled.unwrap_or(1.0)
        };
        let ok = if w.reload_fails { 0 } else { 1 };
        // Every reloading component's pair, so any of them reads its own.
        let mut text = String::new();
        for prefix in ["prometheus", "alertmanager", "blackbox_exporter"] {
            let at = if w.reload_fails { 1.0 } else { at };
            text.push_str(&format!(
                "{prefix}_config_last_reload_successful {ok}\n{prefix}_config_last_reload_success_timestamp_seconds {at}\n"
            ));
        }
        text.push_str(&format!(
            "prometheus_tsdb_reloads_total {}\nprometheus_tsdb_wal_truncations_total 0\n",
            w.tsdb_reloads
        ));
        Some(text)
    }

    async fn stop(&self, id: &str) -> Result<()> {
        self.check()?;
        let mut w = self.world.borrow_mut();
        let c = w
            .containers
            .get_mut(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        c.state = "exited".into();
        let service = c.service().to_string();
        w.calls.push(format!("stop {service}"));
        Ok(())
    }

    async fn download(
        &self,
        id: &str,
        path: &str,
        sink: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<()> {
        self.check()?;
        let bytes = {
            let mut w = self.world.borrow_mut();
            let c = w
                .containers
                .get(id)
                .ok_or_else(|| EngineError::NotFound(id.into()))?;
            if let Some((service, message)) = &w.download_fails {
                if service == c.service() {
                    return Err(EngineError::Api(message.clone()));
                }
            }
            let volume = volume_at(c, path).ok_or_else(|| {
                EngineError::NotFound(format!("Could not find the file {path} in container {id}"))
            })?;
            let call = format!("download {} {path} ({})", c.service(), c.state);
            w.calls.push(call);
            if w.compactions_during_download > 0 {
                w.compactions_during_download -= 1;
                w.tsdb_reloads += 1;
            }
            let top = path.rsplit('/').next().unwrap_or_default();
            tar_of(top, w.data.get(&volume).unwrap_or(&BTreeMap::new()))
        };
        // Small chunks, as a stream from the engine arrives.
        for chunk in bytes.chunks(700) {
            if sink.send(chunk.to_vec()).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn upload(
        &self,
        id: &str,
        path: &str,
        mut source: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Result<()> {
        self.check()?;
        let mut bytes = Vec::new();
        while let Some(chunk) = source.recv().await {
            bytes.extend(chunk);
        }
        let mut w = self.world.borrow_mut();
        let c = w
            .containers
            .get(id)
            .ok_or_else(|| EngineError::NotFound(id.into()))?;
        let volume = volume_at(c, path)
            .ok_or_else(|| EngineError::Api(format!("{path} is not a volume of {id}")))?;
        let call = format!("upload {} {path}", c.service());
        w.calls.push(call);
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut files = BTreeMap::new();
        for entry in archive
            .entries()
            .map_err(|e| EngineError::Api(format!("bad tar: {e}")))?
        {
            let mut entry = entry.map_err(|e| EngineError::Api(format!("bad tar: {e}")))?;
            let name = entry
                .path()
                .map_err(|e| EngineError::Api(format!("bad tar: {e}")))?
                .to_string_lossy()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            if name.is_empty() || name == "." {
                continue;
            }
            let dir = entry.header().entry_type().is_dir();
            let uid = entry.header().uid().unwrap_or_default();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data)
                .map_err(|e| EngineError::Api(format!("bad tar: {e}")))?;
            files.insert(name, FakeFile { dir, data, uid });
        }
        w.data.entry(volume).or_default().extend(files);
        Ok(())
    }

    fn port_free(&self, _host_ip: &str, port: u16, _udp: bool) -> bool {
        !self.world.borrow().taken_ports.contains(&port)
    }

    async fn http_ok(&self, addr: &str, path: &str) -> bool {
        let mut w = self.world.borrow_mut();
        w.probes.push(format!("{addr} {path}"));
        !w.http_down
    }
}
