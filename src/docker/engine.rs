//! The `Engine` trait: the few Docker Engine operations `up`, `down` and
//! `status` need, in stackctl's own terms. The real implementation talks to the
//! daemon through bollard (`bollard_engine.rs`); unit tests drive the
//! orchestration through an in-memory fake. The two host probes (is a port
//! free, does an HTTP endpoint answer) are here too, so the fake can script them.

use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The daemon did not answer: stackctl cannot do its job (exit 2).
    #[error("cannot reach the Docker daemon at `{host}`: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    /// A name is taken (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// Anything else the daemon refused, with its message.
    #[error("{0}")]
    Api(String),
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// A container of the project, as listed (labels and state, no inspect).
#[derive(Debug, Clone, PartialEq)]
pub struct Existing {
    pub id: String,
    pub name: String,
    pub service: String,
    pub labels: BTreeMap<String, String>,
    /// The image ID the container was created from.
    pub image_id: String,
    /// `created`, `running`, `restarting`, `exited`, `dead`, …
    pub state: String,
    /// The engine's status text, e.g. `Up 3 minutes (healthy)`.
    pub status: String,
    pub ports: Vec<Published>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub udp: bool,
}

/// What `inspect` says about a running (or finished) container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub status: String,
    pub exit_code: i64,
    pub restart_count: i64,
    pub oom_killed: bool,
    /// `starting`, `healthy`, `unhealthy`; `None` without a healthcheck.
    pub health: Option<String>,
    /// Output of the most recent healthcheck run.
    pub last_health_output: Option<String>,
    /// Address on the project network, for probing from the host.
    pub ip: Option<String>,
    /// An error the engine recorded when starting the process.
    pub error: Option<String>,
    /// When the process was last started (the engine's timestamp): a
    /// readiness stackctl saw holds only for this very start.
    pub started_at: Option<String>,
}

/// Everything needed to create one container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// Overrides the image's user (`uid[:gid]`), as Compose's `user:`.
    pub user: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Named volumes: `volume:target[:ro]`.
    pub binds: Vec<String>,
    /// Host paths, mounted with the mount API (as Compose does for the
    /// long syntax): a missing source is an error, never created.
    pub bind_mounts: Vec<BindMount>,
    pub ports: Vec<Published>,
    pub healthcheck: Option<crate::plan::Healthcheck>,
    /// Docker's `start_interval` (API 1.44+): how often it runs the check
    /// during the start period instead of every `interval`.
    pub start_interval_s: Option<u32>,
    pub restart: String,
    pub nano_cpus: Option<i64>,
    pub memory: Option<i64>,
    pub privileged: bool,
    pub devices: Vec<String>,
    pub cap_add: Vec<String>,
    /// `host:address`.
    pub extra_hosts: Vec<String>,
    /// The network the container is created on, with its DNS aliases.
    pub network: String,
    pub aliases: Vec<String>,
    /// More networks to join after creation (`network.attach`).
    pub extra_networks: Vec<String>,
}

/// A host path (absolute) bound into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    pub source: String,
    pub target: String,
    pub read_only: bool,
}

/// What a command run through the exec API did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    /// `None` when it did not finish within its timeout.
    pub exit_code: Option<i64>,
    /// stdout and stderr, interleaved as the engine sent them.
    pub output: String,
}

/// The Docker operations stackctl uses. `async fn` in a trait is fine here:
/// everything runs on one current-thread runtime, so no `Send` bound is needed.
#[allow(async_fn_in_trait)]
pub trait Engine {
    /// Where the engine is, for messages (`unix:///var/run/docker.sock`).
    fn host(&self) -> String;
    /// The API version spoken with the daemon, `(1, 41)`.
    fn api_version(&self) -> (u32, u32);
    /// The daemon answers (`Unreachable` otherwise).
    async fn ping(&self) -> Result<()>;
    /// The local image's ID, `None` when the image is not present.
    async fn image_id(&self, image: &str) -> Result<Option<String>>;
    /// Pulls an image; the error is the engine's message.
    async fn pull(&self, image: &str) -> Result<()>;
    /// Every container (running or not) labelled with the project.
    async fn containers(&self, project: &str) -> Result<Vec<Existing>>;
    async fn network_exists(&self, name: &str) -> Result<bool>;
    /// IDs of every network named exactly `name`, oldest first. The engine
    /// allows several (two concurrent creates on API < 1.44); each is then
    /// ambiguous by name and must be handled by ID.
    async fn networks_named(&self, name: &str) -> Result<Vec<String>>;
    async fn create_network(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()>;
    async fn remove_network(&self, name: &str) -> Result<()>;
    async fn volume_exists(&self, name: &str) -> Result<bool>;
    async fn create_volume(&self, name: &str, labels: &BTreeMap<String, String>) -> Result<()>;
    async fn remove_volume(&self, name: &str) -> Result<()>;
    /// Volumes labelled with the project.
    async fn volumes(&self, project: &str) -> Result<Vec<String>>;
    /// Creates the container and joins its extra networks; returns its ID.
    async fn create(&self, spec: &ContainerSpec) -> Result<String>;
    async fn start(&self, id: &str) -> Result<()>;
    async fn inspect(&self, id: &str) -> Result<State>;
    /// The last `lines` lines of stdout and stderr.
    async fn logs(&self, id: &str, lines: usize) -> Result<String>;
    /// Stops (with a grace period) and removes a container.
    async fn remove(&self, id: &str) -> Result<()>;
    /// Runs `cmd` in the running container as its own user (the exec API),
    /// waiting at most `timeout` for it to finish.
    async fn exec(&self, id: &str, cmd: &[String], timeout: std::time::Duration) -> Result<Exec>;
    /// Sends a signal (`HUP`) to the container's main process.
    async fn signal(&self, id: &str, signal: &str) -> Result<()>;
    /// Stops the container (with a grace period) and keeps it.
    async fn stop(&self, id: &str) -> Result<()>;
    /// Streams `path` of the container (running or not) as a tar archive
    /// into `sink`, chunk by chunk, as the engine's archive endpoint gives it
    /// (the top entry is the path's base name). A closed `sink` ends the copy
    /// early without an error: its reader has seen enough.
    async fn download(
        &self,
        id: &str,
        path: &str,
        sink: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<()>;
    /// Extracts the tar archive arriving on `source` into `path` of the
    /// container (running or not); owners and modes are the archive's.
    async fn upload(
        &self,
        id: &str,
        path: &str,
        source: tokio::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Result<()>;
    /// The stack directory's files are copied into containers when they are
    /// created (a remote engine cannot bind-mount this machine's files), so
    /// a config change needs a new container rather than a reload in place.
    fn copies_files(&self) -> bool {
        false
    }
    /// Nothing listens on the host address (checked by binding it).
    fn port_free(&self, host_ip: &str, port: u16, udp: bool) -> bool;
    /// The body of `GET http://addr/path` when it answers 2xx.
    async fn http_body(&self, addr: &str, path: &str) -> Option<String>;
    /// `GET http://addr/path` answers 2xx within a short timeout.
    async fn http_ok(&self, addr: &str, path: &str) -> bool;
}
