//! The real `Engine`: the Docker Engine API through bollard.
//!
//! The API version is negotiated: bollard defaults to a newer API than many
//! installed daemons speak (Docker 20.10 speaks 1.41), and an older daemon
//! rejects requests for a version it does not know. Connecting is bounded by a
//! few seconds, so a dead daemon is reported at once rather than after
//! bollard's two-minute request timeout.

use super::engine::{ContainerSpec, Engine, EngineError, Exec, Existing, Published, Result, State};
use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, ExecConfig, HealthConfig, HostConfig,
    Mount, MountType, NetworkConnectRequest, NetworkCreateRequest, NetworkingConfig, PortBinding,
    RestartPolicy, RestartPolicyNameEnum, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, ListContainersOptionsBuilder,
    ListVolumesOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How long the daemon has to answer the first request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Any later request (image pulls excepted, which stream).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Copies through the archive endpoints (backup, restore): a day.
const ARCHIVE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Grace period for a container to stop before it is killed.
const STOP_SECONDS: i32 = 10;
/// A readiness probe from the host gives up after this long.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub struct BollardEngine {
    docker: Docker,
    host: String,
    /// For readiness probes from the host; the same bounded client `verify` uses.
    http: crate::verify::http::Http,
    /// The stack's endpoints speak TLS (`security.tls`): probes try https first.
    tls: bool,
    /// Where a remote engine's host is reached (`remote`); `None` for this machine.
    remote: Option<String>,
    local_root: Option<std::path::PathBuf>,
}

impl BollardEngine {
    /// Connects to `DOCKER_HOST` (or the local socket; TLS with
    /// `DOCKER_TLS_VERIFY`) and negotiates the API version, within `CONNECT_TIMEOUT`.
    pub async fn connect() -> Result<BollardEngine> {
        let (host, endpoint) =
            super::endpoint::Endpoint::from_env().map_err(|reason| EngineError::Unreachable {
                host: std::env::var("DOCKER_HOST").unwrap_or_default(),
                reason,
            })?;
        Self::connect_to(&host, &endpoint).await
    }

    /// Connects to `endpoint` (`host` names it in messages).
    pub async fn connect_to(
        host: &str,
        endpoint: &super::endpoint::Endpoint,
    ) -> Result<BollardEngine> {
        let host = host.to_string();
        let unreachable = |reason: String| EngineError::Unreachable {
            host: host.clone(),
            reason,
        };
        let docker = endpoint.client().map_err(unreachable)?;
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(docker)) => docker,
            Ok(Err(e)) => return Err(unreachable(describe(&e))),
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {}s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        };
        let http = crate::verify::http::Http::new(READY_TIMEOUT)
            .map_err(|e| unreachable(format!("cannot build an HTTP client: {e:#}")))?;
        Ok(BollardEngine {
            docker: docker.with_timeout(REQUEST_TIMEOUT),
            host,
            http,
            tls: false,
            remote: None,
            local_root: None,
        })
    }

    /// The engine runs on another machine, reached from here at `address`:
    /// its published ports are probed there, and whether a port is free is
    /// for that engine to say (binding it here would check this machine).
    /// `local_root` is the stack directory: mounts from it are copied in
    /// (`copy_in`), as the remote engine has no such path.
    pub fn remote(mut self, address: &str, local_root: &std::path::Path) -> BollardEngine {
        self.remote = Some(address.to_string());
        self.local_root = Some(local_root.to_path_buf());
        self
    }

    /// Probes that log in to (and trust the CA of) a stack `security:` protects.
    pub fn with_web(mut self, web: crate::verify::http::WebClient) -> Result<BollardEngine> {
        self.tls = web.ca_pem.is_some();
        self.http = crate::verify::http::Http::with_web(READY_TIMEOUT, web).map_err(|e| {
            EngineError::Unreachable {
                host: self.host.clone(),
                reason: format!("cannot build an HTTP client: {e:#}"),
            }
        })?;
        Ok(self)
    }

    /// GET over https first when the stack has TLS (its unprotected
    /// services still answer plain http), else plain http.
    async fn probe_get(&self, addr: &str, path: &str) -> Option<crate::verify::http::Reply> {
        let remote_addr;
        let addr = match (&self.remote, addr.rsplit_once(':')) {
            (Some(remote), Some(("127.0.0.1" | "[::1]", port))) => {
                remote_addr = if remote.contains(':') && !remote.starts_with('[') {
                    format!("[{remote}]:{port}")
                } else {
                    format!("{remote}:{port}")
                };
                remote_addr.as_str()
            }
            _ => addr,
        };
        if self.tls {
            if let Ok(reply) = self.http.get(&format!("https://{addr}{path}"), None).await {
                return Some(reply);
            }
        }
        self.http
            .get(&format!("http://{addr}{path}"), None)
            .await
            .ok()
    }

    fn error(&self, e: BollardError) -> EngineError {
        match e {
            BollardError::DockerResponseServerError {
                status_code: 404,
                message,
            } => EngineError::NotFound(message),
            BollardError::DockerResponseServerError {
                status_code: 409,
                message,
            } => EngineError::Conflict(message),
            BollardError::DockerResponseServerError { message, .. } => EngineError::Api(message),
            BollardError::JsonDataError { .. } | BollardError::JsonSerdeError { .. } => {
                EngineError::Api(e.to_string())
            }
            // Transport failures: the socket is gone, the daemon stopped answering.
            other => EngineError::Unreachable {
                host: self.host.clone(),
                reason: describe(&other),
            },
        }
    }

    fn project_filter(project: &str) -> HashMap<String, Vec<String>> {
        HashMap::from([(
            "label".to_string(),
            vec![format!("{}={project}", super::spec::PROJECT)],
        )])
    }
}

/// The innermost cause says what happened ("Connection refused (os error
/// 111)"); the outer layers only say which client library noticed.
fn describe(e: &BollardError) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// How much of a command's output (exec, logs) is kept: Docker itself keeps
/// 4 KiB of a healthcheck's; a command that prints without end must not
/// fill stackctl's memory.
const OUTPUT_CAP: usize = 64 * 1024;

/// Text kept up to a byte limit, saying so when more came.
struct Capped {
    text: String,
    limit: usize,
    dropped: usize,
}

impl Capped {
    fn new(limit: usize) -> Capped {
        Capped {
            text: String::new(),
            limit,
            dropped: 0,
        }
    }

    fn push(&mut self, chunk: &str) {
        let room = self.limit.saturating_sub(self.text.len());
        let mut take = chunk.len().min(room);
        while !chunk.is_char_boundary(take) {
            take -= 1;
        }
        self.text.push_str(&chunk[..take]);
        self.dropped += chunk.len() - take;
    }

    fn into_string(mut self) -> String {
        if self.dropped > 0 {
            self.text
                .push_str(&format!("\n… ({} more bytes not kept)", self.dropped));
        }
        self.text
    }
}

fn hash_map(labels: &BTreeMap<String, String>) -> HashMap<String, String> {
    labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn port_key(container_port: u16, udp: bool) -> String {
    format!("{container_port}/{}", if udp { "udp" } else { "tcp" })
}

fn create_body(spec: &ContainerSpec) -> ContainerCreateBody {
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.ports {
        port_bindings
            .entry(port_key(p.container_port, p.udp))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(p.host_ip.clone()),
                host_port: Some(p.host_port.to_string()),
            });
    }
    let exposed: Vec<String> = spec
        .ports
        .iter()
        .map(|p| port_key(p.container_port, p.udp))
        .collect();
    let healthcheck = spec.healthcheck.as_ref().map(|h| {
        let mut test = vec![if h.shell { "CMD-SHELL" } else { "CMD" }.to_string()];
        test.extend(h.test.iter().cloned());
        let nanos = |s: u32| i64::from(s) * 1_000_000_000;
        HealthConfig {
            test: Some(test),
            interval: Some(nanos(h.interval_s)),
            timeout: Some(nanos(h.timeout_s)),
            retries: Some(i64::from(h.retries)),
            start_period: Some(nanos(h.start_period_s)),
            // Only engines of API 1.44+ know it (older ones ignore it); `up`
            // sets it from the negotiated version.
            start_interval: spec.start_interval_s.map(nanos),
        }
    });
    let restart = match spec.restart.as_str() {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    };
    let devices = spec
        .devices
        .iter()
        .map(|d| {
            // `host[:container[:permissions]]`, as in Compose.
            let mut parts = d.splitn(3, ':');
            let host = parts.next().unwrap_or_default().to_string();
            let container = parts.next().map_or_else(|| host.clone(), str::to_string);
            DeviceMapping {
                path_on_host: Some(host),
                path_in_container: Some(container),
                cgroup_permissions: Some(parts.next().unwrap_or("rwm").to_string()),
            }
        })
        .collect();
    ContainerCreateBody {
        image: Some(spec.image.clone()),
        user: spec.user.clone(),
        entrypoint: spec.entrypoint.clone(),
        cmd: if spec.cmd.is_empty() && spec.entrypoint.is_none() {
            None
        } else {
            Some(spec.cmd.clone())
        },
        env: Some(spec.env.clone()),
        labels: Some(hash_map(&spec.labels)),
        exposed_ports: Some(exposed),
        healthcheck,
        host_config: Some(HostConfig {
            binds: Some(spec.binds.clone()),
            mounts: Some(
                spec.bind_mounts
                    .iter()
                    .map(|m| Mount {
                        target: Some(m.target.clone()),
                        source: Some(m.source.clone()),
                        typ: Some(MountType::BIND),
                        read_only: Some(m.read_only),
                        ..Default::default()
                    })
                    .collect(),
            ),
            port_bindings: Some(port_bindings),
            restart_policy: Some(RestartPolicy {
                name: Some(restart),
                maximum_retry_count: None,
            }),
            nano_cpus: spec.nano_cpus,
            memory: spec.memory,
            privileged: Some(spec.privileged),
            devices: Some(devices),
            cap_add: Some(spec.cap_add.clone()),
            extra_hosts: Some(spec.extra_hosts.clone()),
            network_mode: Some(spec.network.clone()),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                spec.network.clone(),
                EndpointSettings {
                    aliases: Some(spec.aliases.clone()),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

impl Engine for BollardEngine {
    fn host(&self) -> String {
        self.host.clone()
    }

    fn api_version(&self) -> (u32, u32) {
        let v = self.docker.client_version();
        (v.major_version as u32, v.minor_version as u32)
    }

    async fn ping(&self) -> Result<()> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.docker.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(EngineError::Unreachable {
                host: self.host.clone(),
                reason: describe(&e),
            }),
            Err(_) => Err(EngineError::Unreachable {
                host: self.host.clone(),
                reason: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
            }),
        }
    }

    async fn image_id(&self, image: &str) -> Result<Option<String>> {
        match self.docker.inspect_image(image).await {
            Ok(info) => Ok(info.id),
            Err(e) => match self.error(e) {
                EngineError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn pull(&self, image: &str) -> Result<()> {
        let options = CreateImageOptionsBuilder::new().from_image(image).build();
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(err) = info.error_detail.and_then(|d| d.message) {
                        return Err(EngineError::Api(err));
                    }
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok(())
    }

    async fn containers(&self, project: &str) -> Result<Vec<Existing>> {
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&Self::project_filter(project))
            .build();
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.error(e))?;
        let mut out: Vec<Existing> = list
            .into_iter()
            .map(|c| {
                let labels: BTreeMap<String, String> =
                    c.labels.unwrap_or_default().into_iter().collect();
                let mut ports: Vec<Published> = c
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| {
                        Some(Published {
                            host_ip: p.ip.unwrap_or_default(),
                            host_port: p.public_port?,
                            container_port: p.private_port,
                            udp: p.typ.is_some_and(|t| t.to_string() == "udp"),
                        })
                    })
                    .collect();
                ports.sort_by_key(|p| (p.host_port, p.udp, p.host_ip.clone()));
                ports.dedup_by_key(|p| (p.host_port, p.udp, p.host_ip.clone()));
                Existing {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                    service: labels
                        .get(super::spec::SERVICE)
                        .cloned()
                        .unwrap_or_default(),
                    labels,
                    image_id: c.image_id.unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    status: c.status.unwrap_or_default(),
                    ports,
                }
            })
            .collect();
        out.sort_by(|a, b| a.service.cmp(&b.service).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    async fn network_exists(&self, name: &str) -> Result<bool> {
        match self.docker.inspect_network(name, None).await {
            Ok(_) => Ok(true),
            Err(e) => match self.error(e) {
                EngineError::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn networks_named(&self, name: &str) -> Result<Vec<String>> {
        let filters = HashMap::from([("name".to_string(), vec![name.to_string()])]);
        let options = bollard::query_parameters::ListNetworksOptionsBuilder::new()
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(|e| self.error(e))?;
        // The name filter matches substrings; keep exact names only.
        let mut found: Vec<(String, String)> = list
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| Some((n.created.unwrap_or_default(), n.id?)))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn create_network(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()> {
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(hash_map(labels)),
            ..Default::default()
        };
        self.docker
            .create_network(request)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn remove_network(&self, name: &str) -> Result<()> {
        self.docker
            .remove_network(name)
            .await
            .map_err(|e| self.error(e))
    }

    async fn volume_exists(&self, name: &str) -> Result<bool> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => Ok(true),
            Err(e) => match self.error(e) {
                EngineError::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn create_volume(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()> {
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(hash_map(labels)),
            ..Default::default()
        };
        self.docker
            .create_volume(request)
            .await
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    async fn remove_volume(&self, name: &str) -> Result<()> {
        self.docker
            .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await
            .map_err(|e| self.error(e))
    }

    async fn volumes(&self, project: &str) -> Result<Vec<String>> {
        let options = ListVolumesOptionsBuilder::new()
            .filters(&Self::project_filter(project))
            .build();
        let list = self
            .docker
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.error(e))?;
        let mut names: Vec<String> = list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        names.sort();
        Ok(names)
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String> {
        let mut spec = spec.clone();
        let copies = match &self.local_root {
            Some(root) => super::copy_in::take_local(&mut spec, root),
            None => Vec::new(),
        };
        let spec = &spec;
        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        let created = self
            .docker
            .create_container(Some(options), create_body(spec))
            .await
            .map_err(|e| self.error(e))?;
        if !copies.is_empty() {
            let tar = super::copy_in::archive(&copies).map_err(|e| {
                EngineError::Api(format!(
                    "cannot pack the files of `{}` for the remote engine: {e}",
                    spec.name
                ))
            })?;
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            let _ = tx.send(tar).await;
            drop(tx);
            self.upload(&created.id, "/", rx).await?;
        }
        for network in &spec.extra_networks {
            let request = NetworkConnectRequest {
                container: created.id.clone(),
                endpoint_config: Some(EndpointSettings {
                    aliases: Some(spec.aliases.clone()),
                    ..Default::default()
                }),
            };
            self.docker
                .connect_network(network, request)
                .await
                .map_err(|e| self.error(e))?;
        }
        Ok(created.id)
    }

    async fn start(&self, id: &str) -> Result<()> {
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| self.error(e))
    }

    async fn inspect(&self, id: &str) -> Result<State> {
        let info = self
            .docker
            .inspect_container(id, None)
            .await
            .map_err(|e| self.error(e))?;
        let state = info.state.unwrap_or_default();
        let health = state.health.unwrap_or_default();
        let ip = info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|nets| {
                nets.into_values()
                    .filter_map(|e| e.ip_address)
                    .find(|ip| !ip.is_empty())
            });
        Ok(State {
            status: state.status.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: state.exit_code.unwrap_or_default(),
            restart_count: info.restart_count.unwrap_or_default(),
            oom_killed: state.oom_killed.unwrap_or_default(),
            health: health
                .status
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty() && s != "none"),
            last_health_output: health
                .log
                .and_then(|log| log.into_iter().last())
                .and_then(|r| r.output),
            ip,
            error: state.error.filter(|e| !e.is_empty()),
            started_at: state.started_at.filter(|t| !t.is_empty()),
        })
    }

    async fn logs(&self, id: &str, lines: usize) -> Result<String> {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(id, Some(options));
        // A few lines, but a line can be huge: keep the end of it, bounded.
        let mut out = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => {
                    out.push_str(&chunk.to_string());
                    if out.len() > 2 * OUTPUT_CAP {
                        let cut = out.len() - OUTPUT_CAP;
                        let cut = (cut..out.len())
                            .find(|i| out.is_char_boundary(*i))
                            .unwrap_or(out.len());
                        out.drain(..cut);
                    }
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        Ok(out)
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let stop = StopContainerOptionsBuilder::new().t(STOP_SECONDS).build();
        match self.docker.stop_container(id, Some(stop)).await {
            // 304: already stopped.
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => {}
            Err(e) => match self.error(e) {
                EngineError::NotFound(_) => return Ok(()),
                // Removal with force still works for a container that will not stop.
                EngineError::Api(_) | EngineError::Conflict(_) => {}
                other => return Err(other),
            },
        }
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.error(e) {
                EngineError::NotFound(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn exec(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<Exec> {
        let config = ExecConfig {
            cmd: Some(cmd.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(id, config)
            .await
            .map_err(|e| self.error(e))?;
        let run = async {
            let started = self
                .docker
                .start_exec(&created.id, None::<StartExecOptions>)
                .await
                .map_err(|e| self.error(e))?;
            // Drained to the end (the process must not block on a full
            // pipe), kept only up to the cap.
            let mut output = Capped::new(OUTPUT_CAP);
            if let StartExecResults::Attached {
                output: mut stream, ..
            } = started
            {
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(chunk) => output.push(&chunk.to_string()),
                        Err(e) => return Err(self.error(e)),
                    }
                }
            }
            Ok(output.into_string())
        };
        let output = match tokio::time::timeout(timeout, run).await {
            Ok(result) => result?,
            Err(_) => {
                return Ok(Exec {
                    exit_code: None,
                    output: format!("no result within {}s", timeout.as_secs_f64()),
                });
            }
        };
        let inspected = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| self.error(e))?;
        Ok(Exec {
            exit_code: inspected.exit_code,
            output,
        })
    }

    async fn signal(&self, id: &str, signal: &str) -> Result<()> {
        let options = bollard::query_parameters::KillContainerOptionsBuilder::new()
            .signal(signal)
            .build();
        self.docker
            .kill_container(id, Some(options))
            .await
            .map_err(|e| self.error(e))
    }

    async fn stop(&self, id: &str) -> Result<()> {
        let stop = StopContainerOptionsBuilder::new().t(STOP_SECONDS).build();
        match self.docker.stop_container(id, Some(stop)).await {
            // 304: already stopped.
            Ok(())
            | Err(BollardError::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    async fn download(
        &self,
        id: &str,
        path: &str,
        sink: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<()> {
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        // A copy of tens of GiB takes longer than the request timeout.
        let docker = self.docker.clone().with_timeout(ARCHIVE_TIMEOUT);
        let mut stream = docker.download_from_container(id, Some(options));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.error(e))?;
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
        source: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Result<()> {
        let options = bollard::query_parameters::UploadToContainerOptionsBuilder::new()
            .path(path)
            .build();
        let body = futures_util::stream::unfold(source, |mut rx| async move {
            rx.recv().await.map(|chunk| (bytes::Bytes::from(chunk), rx))
        });
        let docker = self.docker.clone().with_timeout(ARCHIVE_TIMEOUT);
        docker
            .upload_to_container(id, Some(options), bollard::body_stream(body))
            .await
            .map_err(|e| self.error(e))
    }

    fn copies_files(&self) -> bool {
        self.local_root.is_some()
    }

    fn port_free(&self, host_ip: &str, port: u16, udp: bool) -> bool {
        if self.remote.is_some() {
            return true;
        }
        let ip = if host_ip.is_empty() {
            "0.0.0.0"
        } else {
            host_ip
        };
        let addr = (ip.trim_start_matches('[').trim_end_matches(']'), port);
        let result = if udp {
            std::net::UdpSocket::bind(addr).map(drop)
        } else {
            std::net::TcpListener::bind(addr).map(drop)
        };
        // Only "in use" counts: an address this host does not have is for the
        // engine to report.
        !matches!(result, Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
    }

    async fn http_body(&self, addr: &str, path: &str) -> Option<String> {
        let reply = self.probe_get(addr, path).await?;
        reply.ok().then_some(reply.body)
    }

    async fn http_ok(&self, addr: &str, path: &str) -> bool {
        self.probe_get(addr, path).await.is_some_and(|r| r.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::Capped;

    #[test]
    fn output_is_kept_up_to_the_cap() {
        let mut c = Capped::new(10);
        c.push("0123456");
        c.push("789abcdef");
        c.push(&"x".repeat(1 << 20));
        assert_eq!(
            c.into_string(),
            format!("0123456789\n… ({} more bytes not kept)", 6 + (1 << 20))
        );
        // Never inside a character.
        let mut c = Capped::new(4);
        c.push("abcé");
        assert_eq!(c.into_string(), "abc\n… (2 more bytes not kept)");
        let mut c = Capped::new(10);
        c.push("short");
        assert_eq!(c.into_string(), "short");
    }
}
