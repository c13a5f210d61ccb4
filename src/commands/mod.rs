//! One function per subcommand. Each returns how the process should exit; an
//! `Err` means stackctl could not do its job (exit 2), reported without a backtrace.

/// `say!`: a progress or success message, on stderr unless `--quiet`.
macro_rules! say {
    ($($arg:tt)*) => { $crate::commands::say(&format!($($arg)*)) };
}

/// `eprintln!`/`eprint!` for every command below (they are declared after
/// these, so these shadow std's): std's panic when stderr is a closed pipe or
/// a full disk (`2>/dev/full`); a message that cannot be written is lost,
/// the command still ends with its own exit code.
macro_rules! eprintln {
    () => { $crate::commands::to_stderr("\n") };
    ($($arg:tt)*) => { $crate::commands::to_stderr(&format!("{}\n", format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::commands::to_stderr(&format!($($arg)*)) };
}

/// Writes a message to stderr, ignoring any failure to do so.
pub fn to_stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

mod backup;
mod docker;
mod down;
mod import;
mod init;
mod location;
mod new_spec;
mod profiles;
pub mod render;
mod restore;
mod routes;
mod shell_files;
mod status;
mod test;
mod up;
mod validate;
pub mod verify;

use crate::cli::{Cli, Command};
use crate::diag::{self, Diagnostic};
use crate::load::{self, Loaded};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How a command ended, as the user should see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok,
    /// The spec or the stack is wrong (exit 1).
    Failed,
}

pub fn run(cli: Cli) -> ExitCode {
    crate::color::set(cli.global.color);
    set_verbosity(if cli.global.quiet {
        Verbosity::Quiet
    } else if cli.global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    });
    let started = std::time::Instant::now();
    let name = cli.command.name();
    let result = locate(&cli).and_then(|dir| dispatch(cli.command, &dir));
    let code = match result {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Failed) => ExitCode::from(1),
        Err(err) => {
            let label = crate::color::paint_stderr(crate::color::ERROR, "error");
            eprintln!("{label}: {err:#}");
            ExitCode::from(2)
        }
    };
    verbose(&format!(
        "{name} took {:.2}s",
        started.elapsed().as_secs_f64()
    ));
    code
}

/// The stack directory a command works in (see `location`).
fn locate(cli: &Cli) -> anyhow::Result<PathBuf> {
    let writes_spec = matches!(cli.command, Command::Init { .. } | Command::Import { .. });
    let dir = location::resolve(&cli.spec_arg(), writes_spec)?;
    verbose(&format!("stack directory: {}", dir.display()));
    Ok(dir)
}

fn dispatch(command: Command, dir: &Path) -> anyhow::Result<Exit> {
    match command {
        Command::Profiles => profiles::run(),
        Command::Init {
            profile,
            name,
            force,
        } => init::run(&profile, dir, name.as_deref(), force),
        Command::Validate {
            path: _,
            format,
            deny_warnings,
        } => validate::run(dir, format, deny_warnings),
        Command::Render {
            target,
            check,
            diff,
            force,
            namespace,
            release,
        } => render::run(
            dir,
            render::Options {
                target,
                check,
                diff,
                force,
                namespace: namespace.as_deref(),
                release: release.as_deref(),
            },
        ),
        Command::Up {
            wait,
            remove_orphans,
            strict_credentials,
            host,
        } => up::run(
            dir,
            &wait,
            remove_orphans,
            strict_credentials,
            host.as_deref(),
        ),
        Command::Down { volumes, host } => down::run(dir, volumes, host.as_deref()),
        Command::Import {
            from,
            alloy,
            name,
            force,
        } => import::run(&from, dir, &crate::import::Options { alloy, name }, force),
        Command::Status { host } => status::run(dir, host.as_deref()),
        Command::Backup {
            out,
            include_secrets,
        } => backup::run(dir, out.as_deref(), include_secrets),
        Command::Restore {
            archive,
            force,
            wait,
        } => restore::run(&archive, dir, force, &wait),
        Command::Verify {
            wait,
            timeout,
            format,
            only,
            url,
            deep,
            alerts,
            live,
            alertmanager_log,
        } => verify::run(
            dir,
            verify::Options {
                wait: wait.as_deref(),
                timeout: &timeout,
                format,
                only: &only,
                urls: &url,
                deep,
                alerts: alerts.then_some(verify::Alerts {
                    live,
                    log_file: alertmanager_log,
                }),
            },
        ),
        Command::Test {
            format,
            promtool,
            docker,
        } => test::run(
            dir,
            test::Options {
                format,
                promtool: promtool.as_deref(),
                docker,
            },
        ),
        Command::Routes { labels, at, json } => routes::run(dir, &labels, at.as_deref(), json),
        Command::Completions { shell } => shell_files::completions(shell),
        Command::Man => shell_files::man(),
    }
}

/// How much stackctl says on stderr besides errors and warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `--quiet`: errors and warnings only.
    Quiet,
    Normal,
    /// `--verbose`: also the stack directory and the time taken.
    Verbose,
}

static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

pub fn set_verbosity(v: Verbosity) {
    VERBOSITY.store(v as u8, std::sync::atomic::Ordering::Relaxed);
}

pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// A progress or success message: on stderr unless `--quiet`.
pub fn say(text: &str) {
    if verbosity() >= Verbosity::Normal {
        to_stderr(&format!("{text}\n"));
    }
}

/// A message only `--verbose` shows.
pub fn verbose(text: &str) {
    if verbosity() >= Verbosity::Verbose {
        to_stderr(&format!("{text}\n"));
    }
}

/// Set once stdout's reader has gone away (`stackctl profiles | head -1`).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes command output (data) to stdout. `print!` would panic when the
/// reader closed the pipe or the disk is full; here a closed pipe ends the
/// output quietly, as in ripgrep (the command still exits with its own code),
/// and any other write error is returned, which makes the process exit 2.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
    }
}

/// `DIR/stack.yaml`, and the name messages use for it.
pub fn spec_path(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("stack.yaml");
    let shown = if dir == Path::new(".") || dir.as_os_str().is_empty() {
        "stack.yaml".to_string()
    } else {
        path.display().to_string()
    };
    (path, shown)
}

/// Loads and checks `DIR/stack.yaml`, including the files it refers to.
/// `strict` turns empty notifier credentials into errors (for `up`).
pub fn load_stack(dir: &Path, strict: bool) -> anyhow::Result<Loaded> {
    let (path, shown) = spec_path(dir);
    let mut loaded = match load::load_file(&path, &shown) {
        Ok(loaded) => loaded,
        Err(load::LoadError::Missing { path }) => {
            anyhow::bail!(
                "no stack spec at `{}`{}\n  = help: create one with `stackctl init --profile minimal --dir {}`, or name one with `-f FILE` or `--dir DIR`",
                path.display(),
                if dir == Path::new(".") {
                    " (nor in any parent directory)"
                } else {
                    ""
                },
                dir.display()
            )
        }
        Err(e) => return Err(e.into()),
    };
    if let (Some(stack), Some(tree)) = (&loaded.stack, &loaded.tree) {
        let mut found = crate::check::files::check(stack, dir, strict);
        for d in &mut found {
            d.resolve(tree);
        }
        loaded.diagnostics.extend(found);
        diag::sort(&mut loaded.diagnostics);
    }
    // Findings silenced on purpose, and repeats folded (`diag::quiet`).
    let diagnostics = std::mem::take(&mut loaded.diagnostics);
    loaded.diagnostics = diag::quiet::apply(
        diagnostics,
        loaded.stack.as_ref(),
        &loaded.text,
        loaded.tree.as_ref(),
    );
    Ok(loaded)
}

/// What `up --strict-credentials` adds to a spec that loaded without errors:
/// the checks of the secret files, with an empty credential in use an error.
pub fn strict_credential_errors(loaded: &Loaded, dir: &Path) -> Vec<Diagnostic> {
    let (Some(stack), Some(tree)) = (&loaded.stack, &loaded.tree) else {
        return Vec::new();
    };
    let mut found = crate::check::files::check(stack, dir, true);
    for d in &mut found {
        d.resolve(tree);
    }
    diag::sort(&mut found);
    found.retain(Diagnostic::is_error);
    found
}

/// Prints diagnostics to stderr, then a one-line summary.
pub fn print_diagnostics(loaded: &Loaded) {
    eprint!(
        "{}",
        diag::render_all_styled(
            // `--quiet` keeps errors and warnings, never notes.
            loaded
                .diagnostics
                .iter()
                .filter(|d| verbosity() > Verbosity::Quiet || d.severity != diag::Severity::Info),
            &loaded.file,
            &loaded.text,
            crate::color::stderr()
        )
    );
    let count = |s: diag::Severity| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    let (errors, warnings) = (count(diag::Severity::Error), count(diag::Severity::Warning));
    if errors > 0 || warnings > 0 {
        eprintln!(
            "{}: {} error{}, {} warning{}",
            loaded.file,
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        );
    }
}

pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
