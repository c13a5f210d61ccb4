//! The command line, declared with clap. No I/O here: `commands` turns these
//! arguments into work.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "stackctl",
    version,
    about = "A complete monitoring stack from one typed, validated spec",
    long_about = "stackctl provisions Prometheus, Alertmanager, Grafana, Loki, Jaeger and exporters \
                  from one spec (stack.yaml): init writes the spec, validate checks it, render writes \
                  docker-compose.monitoring.yml and every config file, up starts the stack and verify \
                  proves it works."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// JUnit XML for CI: one test case per finding.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Text,
    Json,
    /// JUnit XML: one test case per rule test.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Compose,
    Kubernetes,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the embedded profiles.
    Profiles,
    /// Write DIR/stack.yaml from a profile, and secrets/ with generated passwords.
    Init {
        #[arg(long)]
        profile: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Project name to use instead of the profile's.
        #[arg(long)]
        name: Option<String>,
        /// Overwrite an existing stack.yaml (the old one is kept as stack.yaml.bak).
        #[arg(long)]
        force: bool,
    },
    /// Check the spec: types, references, PromQL, durations, labels, ports.
    Validate {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Validate, then write the generated tree into DIR.
    Render {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Target::Compose)]
        target: Target,
        /// Write nothing; exit 1 if the tree on disk differs.
        #[arg(long, conflicts_with = "diff")]
        check: bool,
        /// Show the unified diff render would apply, and write nothing.
        #[arg(long)]
        diff: bool,
        /// Overwrite generated files edited since the last render (keeping a copy).
        #[arg(long)]
        force: bool,
        /// Kubernetes namespace (kubernetes target).
        #[arg(long)]
        namespace: Option<String>,
        /// kube-prometheus-stack Helm release name (kubernetes target).
        #[arg(long)]
        release: Option<String>,
    },
    /// Render if needed, then create and start the stack through the Docker Engine API.
    Up {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// How long to wait for every service to be healthy.
        #[arg(long, default_value = "3m")]
        wait: String,
        /// Remove containers of services no longer in the spec.
        #[arg(long)]
        remove_orphans: bool,
        /// Refuse to start while a notifier credential (or any secret in use)
        /// is empty, instead of warning once per receiver.
        #[arg(long)]
        strict_credentials: bool,
        /// A remote host of the spec (`hosts:`): its bundle, through its Docker engine.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Read an existing monitoring folder (Compose, prometheus.yml, rules,
    /// alertmanager.yml, Grafana provisioning, Loki, Promtail, blackbox) into
    /// DIR/stack.yaml, and report what was kept, modernised or left out.
    Import {
        /// The folder to read.
        #[arg(long, default_value = ".")]
        from: PathBuf,
        /// Where stack.yaml, secrets/ and dashboards/ are written.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Replace Promtail with Alloy (Promtail is end of life).
        #[arg(long)]
        alloy: bool,
        /// Project name when the folder does not say (default: from `.env` or the folder's name).
        #[arg(long)]
        name: Option<String>,
        /// Overwrite an existing stack.yaml (the old one is kept as stack.yaml.bak).
        #[arg(long)]
        force: bool,
    },
    /// Remove the stack's containers and network (volumes are kept).
    Down {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Also remove the named data volumes.
        #[arg(long)]
        volumes: bool,
        /// A remote host of the spec (`hosts:`): its bundle, through its Docker engine.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// One row per service: state, health, published ports.
    Status {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// A remote host of the spec (`hosts:`): its bundle, through its Docker engine.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Probe the running stack end to end; exit 0 only when every check passes.
    Verify {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Retry failing checks with backoff until this deadline (e.g. `2m`).
        #[arg(long)]
        wait: Option<String>,
        /// Per-check timeout.
        #[arg(long, default_value = "10s")]
        timeout: String,
        #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
        format: VerifyFormat,
        /// Check only these services.
        #[arg(long, num_args = 1..)]
        only: Vec<String>,
        /// Base URL override, `service=http://host:port`.
        #[arg(long)]
        url: Vec<String>,
        /// Also run deep checks (panel queries return data, test log line and span).
        #[arg(long)]
        deep: bool,
        /// Also prove alerting: the Watchdog reaches Alertmanager, and one
        /// synthetic alert per receiver is routed there (silenced unless `--live`).
        #[arg(long)]
        alerts: bool,
        /// Deliver the synthetic alerts for real: to every receiver, or to
        /// those listed (`--live team-ml,oncall`).
        #[arg(long, num_args = 0.., value_delimiter = ',', requires = "alerts", value_name = "RECEIVER")]
        live: Option<Vec<String>>,
        /// Alertmanager's log, for the error of a failed delivery when
        /// Alertmanager is not a container of this stack.
        #[arg(long, requires = "alerts", value_name = "FILE")]
        alertmanager_log: Option<PathBuf>,
    },
    /// Write one archive with a consistent copy of the stack's data, its spec
    /// and the rendered tree's manifest (see docs/backup.md).
    Backup {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The archive to write (default: DIR/backups/NAME-TIME.tar.zst); never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also put the secrets in the archive.
        #[arg(long)]
        include_secrets: bool,
    },
    /// Check an archive from `backup`, put its data back into the stack's
    /// volumes, start the stack and run `verify`.
    Restore {
        /// The archive `stackctl backup` wrote.
        file: PathBuf,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Replace volumes that hold data.
        #[arg(long)]
        force: bool,
        /// How long to wait for every service to be healthy again (a large
        /// TSDB takes Prometheus a while to replay).
        #[arg(long, default_value = "3m")]
        wait: String,
    },
    /// Run the spec's rule unit tests (`tests:`) with `promtool test rules`.
    Test {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = TestFormat::Text)]
        format: TestFormat,
        /// The promtool binary (default: `STACKCTL_PROMTOOL`, else `promtool` on PATH,
        /// else the pinned Prometheus image through the Docker API).
        #[arg(long, conflicts_with = "docker")]
        promtool: Option<PathBuf>,
        /// Run the pinned Prometheus image's promtool through the Docker API.
        #[arg(long)]
        docker: bool,
    },
    /// Which receivers an alert with these labels reaches, by which route,
    /// muted or inhibited by what (as `amtool config routes test`).
    Routes {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The alert's labels, `name=value`.
        #[arg(required = true)]
        labels: Vec<String>,
        /// Evaluate time intervals at this RFC 3339 time instead of now.
        #[arg(long)]
        at: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}
