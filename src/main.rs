//! The `stackctl` binary: parse the command line, run one command, exit with
//! its code (0 ok, 1 the spec or stack is wrong, 2 stackctl could not do its job).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = stackctl::cli::Cli::parse();
    stackctl::commands::run(cli)
}
