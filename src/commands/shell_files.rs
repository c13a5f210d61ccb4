//! `stackctl completions SHELL` and `stackctl man`: both generated from the
//! clap definitions in `cli.rs` at run time (clap_complete, clap_mangen), so
//! they cannot drift from the flags the binary accepts and need no build step.

use super::Exit;
use crate::cli::{Cli, Shell};
use clap::CommandFactory;

pub fn completions(shell: Shell) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "stackctl", &mut out);
    super::emit(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

/// `stackctl(1)`: the top-level page with every subcommand's flags in its
/// own section, so one `man ./stackctl.1` shows the whole command line.
pub fn man() -> anyhow::Result<Exit> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        out.extend_from_slice(format!(".SH \"STACKCTL {}\"\n", name.to_uppercase()).as_bytes());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.extend_from_slice(format!("{}\n", roff_text(&about.to_string())).as_bytes());
        }
        let usage = sub
            .clone()
            .bin_name(format!("stackctl {name}"))
            .render_usage();
        out.extend_from_slice(
            format!(
                ".PP\n\\fB{}\\fR\n",
                roff_text(&usage.to_string().replace("Usage: ", ""))
            )
            .as_bytes(),
        );
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_global_set())
        {
            let mut head = Vec::new();
            if let Some(s) = arg.get_short() {
                head.push(format!("-{s}"));
            }
            if let Some(l) = arg.get_long() {
                head.push(format!("--{l}"));
            }
            let value = arg
                .get_value_names()
                .map(|v| {
                    v.iter()
                        .map(|n| format!("<{n}>"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            let head = if head.is_empty() {
                value
            } else if arg.get_action().takes_values() && !value.is_empty() {
                format!("{} {value}", head.join(", "))
            } else {
                head.join(", ")
            };
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            let values = if values.is_empty() || !arg.get_action().takes_values() {
                String::new()
            } else {
                format!(" [possible values: {}]", values.join(", "))
            };
            out.extend_from_slice(
                format!(
                    ".TP\n\\fB{}\\fR\n{}{}\n",
                    roff_text(&head),
                    roff_text(&help),
                    values
                )
                .as_bytes(),
            );
        }
    }
    out.extend_from_slice(b".SH \"EXIT STATUS\"\n0 success; 1 the spec or the stack is wrong (validation errors, drift under \\-\\-check, differences under \\-\\-diff, failed checks); 2 stackctl could not do its job (bad command line, I/O error, Docker unreachable).\n");
    page.render_version_section(&mut out)?;
    super::emit(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

/// Text as a roff paragraph: backslashes and `-` escaped, and a leading `.`
/// or `'` (a roff request) kept as text.
fn roff_text(text: &str) -> String {
    text.lines()
        .map(|line| {
            let escaped = line.replace('\\', "\\e").replace('-', "\\-");
            if escaped.starts_with(['.', '\'']) {
                format!("\\&{escaped}")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
