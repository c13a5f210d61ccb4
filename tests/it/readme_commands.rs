//! The README's "Install" and "Run" commands, as a new user copies them:
//! every build is `--locked` (a plain `cargo install` ignores `Cargo.lock`),
//! nothing builds stackctl twice (`cargo run` next to an install or a build
//! is a second full build), every `stackctl` command it runs is one the
//! preceding build produced, and those commands parse with the real binary.

use crate::common;

/// The `sh` code blocks of a README section (`## NAME` up to the next `## `).
fn sh_blocks(readme: &str, section: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("README has no `## {section}` section"));
    let body = &readme[start + section.len() + 5..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split_once("\n```").map(|(code, _)| code.to_string()))
        .collect()
}

/// The commands of a block: lines, comments dropped, split at `&&`.
fn commands(block: &str) -> Vec<Vec<String>> {
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .flat_map(|l| l.split("&&").map(str::trim).collect::<Vec<_>>())
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn install_and_run_build_locked_and_only_once() {
    let text = readme();
    let install = sh_blocks(&text, "Install");
    let run = sh_blocks(&text, "Run");
    assert!(!install.is_empty() && !run.is_empty());
    let mut cargo_builds = 0;
    for block in install.iter().chain(&run) {
        for cmd in commands(block) {
            if cmd.first().map(String::as_str) != Some("cargo") {
                continue;
            }
            let sub = cmd.get(1).map(String::as_str);
            assert_ne!(
                sub,
                Some("run"),
                "`cargo run` builds a second binary: {cmd:?}"
            );
            if matches!(sub, Some("install" | "build")) {
                assert!(cmd.iter().any(|a| a == "--locked"), "not --locked: {cmd:?}");
                cargo_builds += 1;
            }
        }
    }
    assert_eq!(
        cargo_builds, 2,
        "one install, one build-and-run alternative"
    );
    // Each Run block uses the binary the build it relies on produced: the
    // installed `stackctl`, or `target/release/stackctl` after
    // `cargo build --release` in the same block.
    for block in &run {
        let cmds = commands(block);
        let built_here = cmds.iter().any(|c| {
            c.starts_with(&["cargo".into(), "build".into()]) && c.contains(&"--release".into())
        });
        for cmd in cmds.iter().filter(|c| c[0] != "cargo") {
            match cmd[0].as_str() {
                "stackctl" => assert!(!built_here, "{block}"),
                "target/release/stackctl" => assert!(built_here, "{block}"),
                other => panic!("unexpected command `{other}` in README Run: {block}"),
            }
        }
    }
}

#[test]
fn the_run_commands_parse_with_the_real_binary() {
    // `--help` after the subcommand and its flags: clap checks every flag
    // and value without running anything.
    for block in sh_blocks(&readme(), "Run") {
        for cmd in commands(&block).iter().filter(|c| c[0] != "cargo") {
            let mut args: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
            args.push("--help");
            let (code, _, err) = common::run(&args);
            assert_eq!(code, 0, "`{}` does not parse: {err}", cmd.join(" "));
        }
    }
}
