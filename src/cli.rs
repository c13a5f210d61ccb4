//! The command line, declared with clap, and the checks of a parsed command
//! line that clap cannot express (which spec flags go together, flags of the
//! other target). No I/O here: `commands` turns these arguments into work.

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// `0.1.0 (abc1234)`: the package version and the git revision it was built
/// from, set by `build.rs` (only the version outside a git checkout, e.g.
/// from a crate tarball).
pub const VERSION: &str = env!("STACKCTL_VERSION");

#[derive(Debug, Parser)]
#[command(
    name = "stackctl",
    version = VERSION,
    about = "A complete monitoring stack from one typed, validated spec",
    long_about = "stackctl provisions Prometheus, Alertmanager, Grafana, Loki, Jaeger and exporters \
                  from one spec (stack.yaml): init writes the spec, validate checks it, render writes \
                  docker-compose.monitoring.yml and every config file, up starts the stack and verify \
                  proves it works.",
    after_help = "Exit codes: 0 success; 1 the spec or the stack is wrong; 2 stackctl could not do its job (bad command line, I/O error, Docker unreachable)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The stack directory (holds stack.yaml) [default: the nearest directory,
    /// this one or a parent, that holds a stack.yaml; `.` for init and import]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The spec, a file named stack.yaml; its directory is the stack directory.
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print only errors and warnings on stderr (no progress or success messages).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also say which spec is used and how long the command took.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour messages: `auto` on a terminal unless NO_COLOR is set
    /// (CLICOLOR_FORCE forces it), `always`, or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    pub fn to_clap(self) -> clap::ColorChoice {
        match self {
            ColorWhen::Auto => clap::ColorChoice::Auto,
            ColorWhen::Always => clap::ColorChoice::Always,
            ColorWhen::Never => clap::ColorChoice::Never,
        }
    }
}

/// `--color` as written on the command line, looked for before parsing so
/// that clap's own usage errors follow it too (the last one wins, as clap's).
pub fn color_in_args(args: &[OsString]) -> ColorWhen {
    let mut when = ColorWhen::Auto;
    let mut args = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next().map(|v| v.into_owned()),
            Some(rest) => rest.strip_prefix('=').map(str::to_string),
            None => None,
        };
        if let Some(w) = value.and_then(|v| ColorWhen::from_str(&v, false).ok()) {
            when = w;
        }
    }
    when
}

/// Parses the command line and checks it; an `Err` is a usage error that
/// `clap::Error::exit` prints and ends with exit 2.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = Cli::command().color(color_in_args(&args).to_clap());
    let matches = cmd.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    cli.check()
        .map_err(|msg| cmd.error(ErrorKind::ArgumentConflict, msg))?;
    Ok(cli)
}

/// How the stack directory is named on the command line (`commands` finds
/// it: this is only what was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecArg {
    /// `-f FILE`
    File(PathBuf),
    /// `validate PATH` (a spec file or a stack directory)
    Positional(PathBuf),
    /// `--dir DIR`
    Dir(PathBuf),
    /// Nothing: look for stack.yaml here and in the parents.
    Discover,
}

impl Cli {
    /// Which way the spec was named. Precedence -f > positional > --dir >
    /// discovery; giving two is refused by `check`, never silently resolved.
    pub fn spec_arg(&self) -> SpecArg {
        match (&self.global.file, self.validate_path(), &self.global.dir) {
            (Some(f), _, _) => SpecArg::File(f.clone()),
            (None, Some(p), _) => SpecArg::Positional(p),
            (None, None, Some(d)) => SpecArg::Dir(d.clone()),
            (None, None, None) => SpecArg::Discover,
        }
    }

    /// What clap cannot say: conflicting ways to name the spec, spec flags on
    /// commands without a stack, and Kubernetes flags on the compose target.
    pub fn check(&self) -> Result<(), String> {
        let positional = self.validate_path().is_some();
        let given: Vec<&str> = [
            (self.global.file.is_some(), "`-f/--file`"),
            (positional, "the spec path"),
            (self.global.dir.is_some(), "`--dir`"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if given.len() > 1 {
            return Err(format!(
                "{} both name the spec; give one of them (-f FILE, a path, or --dir DIR)",
                given.join(" and ")
            ));
        }
        let name = self.command.name();
        match &self.command {
            Command::Profiles | Command::Completions { .. } | Command::Man if !given.is_empty() => {
                return Err(format!(
                    "`{name}` reads no stack, so {} means nothing to it",
                    given[0]
                ));
            }
            Command::Init { .. } | Command::Import { .. } if self.global.file.is_some() => {
                return Err(format!(
                    "`{name}` writes DIR/stack.yaml: name the directory with `--dir`, not `-f`"
                ));
            }
            Command::Render {
                target: Target::Compose,
                namespace,
                release,
                ..
            } => {
                if let Some(flag) = [
                    (namespace.is_some(), "--namespace"),
                    (release.is_some(), "--release"),
                ]
                .into_iter()
                .find_map(|(on, flag)| on.then_some(flag))
                {
                    return Err(format!(
                        "`{flag}` only applies to `--target kubernetes`; the compose target has no namespace or Helm release (add `--target kubernetes`, or drop `{flag}`)"
                    ));
                }
            }
            _ => {}
        }
        for path in [&self.global.file, &self.validate_path()]
            .into_iter()
            .flatten()
        {
            let named_stack_yaml = path.file_name().is_some_and(|n| n == "stack.yaml");
            // A positional may also be the stack directory itself; `commands`
            // tells a directory from a file.
            let may_be_dir = self.global.file.as_ref() != Some(path);
            if !named_stack_yaml && !may_be_dir {
                return Err(format!(
                    "`{}` is not named stack.yaml: render writes its tree beside the spec and finds it by that name (as cargo's --manifest-path needs Cargo.toml); rename it, or pass its directory with --dir",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    fn validate_path(&self) -> Option<PathBuf> {
        match &self.command {
            Command::Validate { path, .. } => path.clone(),
            _ => None,
        }
    }
}

/// `--profile`'s values: the embedded profiles, each with its summary
/// (`--help` lists them; a typo gets clap's "a similar value exists").
fn profile_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        crate::profiles::PROFILES
            .iter()
            .map(|p| PossibleValue::new(p.name).help(p.summary)),
    )
}

/// `init --name`: a Compose project name, or a usage error with the name it
/// would be once lower-cased and cleaned.
fn project_name(text: &str) -> Result<String, String> {
    if crate::check::is_project_name(text) {
        return Ok(text.to_string());
    }
    let mut fixed: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    fixed = fixed.trim_start_matches(['-', '_']).to_string();
    let hint = if crate::check::is_project_name(&fixed) {
        format!("; did you mean `{fixed}`?")
    } else {
        String::new()
    };
    Err(format!(
        "a stack name is lowercase letters, digits, `-` and `_`, starting with a letter or digit{hint}"
    ))
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
        /// The profile to start from (`stackctl profiles` lists them).
        #[arg(long, value_parser = profile_parser())]
        profile: String,
        /// Project name to use instead of the profile's.
        #[arg(long, value_parser = project_name)]
        name: Option<String>,
        /// Overwrite an existing stack.yaml (the old one is kept as stack.yaml.bak).
        #[arg(long)]
        force: bool,
    },
    /// Check the spec: types, references, PromQL, durations, labels, ports.
    Validate {
        /// The spec (a file named stack.yaml) or its directory; the same as `-f`/`--dir`.
        #[arg(value_name = "PATH")]
        path: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Validate, then write the generated tree into DIR.
    Render {
        #[arg(long, value_enum, default_value_t = Target::Compose)]
        target: Target,
        /// Write nothing; exit 1 if the tree on disk differs.
        #[arg(long, conflicts_with = "diff")]
        check: bool,
        /// Show the unified diff render would apply, and write nothing; exit 1
        /// when there are differences (as `diff` and `git diff --exit-code`).
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
        /// Also remove the named data volumes.
        #[arg(long)]
        volumes: bool,
        /// A remote host of the spec (`hosts:`): its bundle, through its Docker engine.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// One row per service: state, health, published ports.
    Status {
        /// A remote host of the spec (`hosts:`): its bundle, through its Docker engine.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Probe the running stack end to end; exit 0 only when every check passes.
    Verify {
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
        /// The archive `stackctl backup` wrote. (Not named `file`: that id
        /// is the global `-f/--file`, and clap would fill both.)
        #[arg(value_name = "FILE")]
        archive: PathBuf,
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
    /// Print a shell completion script (`source <(stackctl completions bash)`).
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff), generated from these definitions
    /// (`stackctl man > stackctl.1; man ./stackctl.1`).
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Command {
    /// The subcommand's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Profiles => "profiles",
            Command::Init { .. } => "init",
            Command::Validate { .. } => "validate",
            Command::Render { .. } => "render",
            Command::Up { .. } => "up",
            Command::Import { .. } => "import",
            Command::Down { .. } => "down",
            Command::Status { .. } => "status",
            Command::Verify { .. } => "verify",
            Command::Backup { .. } => "backup",
            Command::Restore { .. } => "restore",
            Command::Test { .. } => "test",
            Command::Routes { .. } => "routes",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }
}
