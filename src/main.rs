//! The `stackctl` binary: parse the command line, run one command, exit with
//! its code (0 ok, 1 the spec or stack is wrong, 2 stackctl could not do its job).

/// `validate` on a large spec allocates millions of small strings and nodes
/// from two threads; glibc's allocator spent about a fifth of the run in
/// malloc/free (issue 13 profile), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match stackctl::cli::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        // Usage errors and `--help`/`--version` (exit 2 and 0).
        Err(e) => e.exit(),
    };
    stackctl::commands::run(cli)
}
