//! The `stackctl` binary: parse the command line, run one command, exit with
//! its code (0 ok, 1 the spec or stack is wrong, 2 stackctl could not do its job).

use clap::Parser;

/// `validate` on a large spec allocates millions of small strings and nodes
/// from two threads; glibc's allocator spent about a fifth of the run in
/// malloc/free (issue 13 profile), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = stackctl::cli::Cli::parse();
    stackctl::commands::run(cli)
}
