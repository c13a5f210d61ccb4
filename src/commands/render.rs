//! `stackctl render`: validate, then write the generated tree (or, with
//! `--check`/`--diff`, show how the disk differs from it). A write holds the
//! stack lock from before the spec is read until the manifest is written.

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::Target;
use crate::render::write::manifest::Protected;
use crate::render::write::{self, Change};
use crate::resolve::Resolved;
use std::collections::BTreeSet;
use std::path::Path;

pub struct Options<'a> {
    pub target: Target,
    pub check: bool,
    pub diff: bool,
    pub force: bool,
    pub namespace: Option<&'a str>,
    pub release: Option<&'a str>,
}

/// A stack directory loaded, checked, resolved and planned, once: what
/// `render`, `up` and `verify` start from.
pub struct Planned {
    pub loaded: crate::load::Loaded,
    pub resolved: Resolved,
    pub inputs: crate::plan::Inputs,
    pub deployment: crate::plan::Deployment,
}

/// Loads `DIR/stack.yaml` and prints its diagnostics; for a valid spec,
/// resolves and plans it. `None` when the spec has errors.
pub fn load_and_plan(dir: &Path) -> anyhow::Result<Option<Planned>> {
    let loaded = load_stack(dir, false)?;
    print_diagnostics(&loaded);
    let Some(resolved) = Resolved::from_loaded(&loaded) else {
        return Ok(None);
    };
    let inputs = read_inputs(&resolved, dir)?;
    let deployment = crate::plan::plan(&resolved, &inputs);
    Ok(Some(Planned {
        loaded,
        resolved,
        inputs,
        deployment,
    }))
}

/// The rendered tree of a planned stack, or `None` (findings printed) when
/// the Kubernetes target refuses it.
pub fn build_tree(
    planned: &Planned,
    opts: &Options<'_>,
) -> anyhow::Result<Option<crate::render::Tree>> {
    let Planned {
        loaded,
        resolved: stack,
        inputs,
        deployment,
    } = planned;
    let tree = match opts.target {
        Target::Compose => compose_tree(stack, inputs, deployment),
        Target::Kubernetes => {
            let (tree, findings) = crate::render::kubernetes::tree(
                stack,
                deployment,
                &crate::render::kubernetes::Options {
                    namespace: opts.namespace,
                    release: opts.release,
                },
            )?;
            let failed = findings.iter().any(|f| f.is_error());
            let mut findings = findings;
            if let Some(tree) = &loaded.tree {
                findings.iter_mut().for_each(|f| f.resolve(tree));
            }
            crate::diag::sort(&mut findings);
            eprint!(
                "{}",
                crate::diag::render_all_styled(
                    &findings,
                    &loaded.file,
                    &loaded.text,
                    crate::color::stderr()
                )
            );
            // A value Kubernetes would reject (a namespace, a label selector).
            if failed {
                return Ok(None);
            }
            tree
        }
    };
    Ok(Some(tree))
}

/// The compose tree and, beside it, one bundle per remote host.
fn compose_tree(
    stack: &Resolved,
    inputs: &crate::plan::Inputs,
    deployment: &crate::plan::Deployment,
) -> crate::render::Tree {
    let mut tree = crate::render::compose_tree(deployment);
    tree.extend(crate::render::host_bundles(stack, inputs));
    tree
}

/// Files the spec refers to (dashboard JSON) and the passwords hashed into
/// web configs, read once here so planning stays pure.
pub fn read_inputs(stack: &crate::model::Stack, dir: &Path) -> anyhow::Result<crate::plan::Inputs> {
    let mut inputs = crate::plan::Inputs {
        secrets: crate::web_secrets::passwords(stack, dir),
        ..Default::default()
    };
    for dash in &stack.dashboards {
        if let Some(file) = &dash.file {
            let text = crate::fsutil::read_regular_text(
                &dir.join(file),
                crate::fsutil::MAX_DASHBOARD_BYTES,
            )
            .map_err(|e| anyhow::anyhow!("cannot read dashboard file: {e}"))?;
            inputs.files.insert(file.clone(), text);
        }
    }
    Ok(inputs)
}

pub fn run(dir: &Path, opts: Options<'_>) -> anyhow::Result<Exit> {
    // Taken before the spec is read, so a run that waited renders what is
    // on disk after the other one finished. `--check`/`--diff` write nothing.
    let lock = if opts.check || opts.diff {
        None
    } else {
        Some(crate::lock::acquire(dir, "render")?)
    };
    let Some(planned) = load_and_plan(dir)? else {
        eprintln!("nothing was written");
        return Ok(Exit::Failed);
    };
    render_under(dir, opts, &planned, lock.as_ref())
}

/// `render` of an already planned stack for a command that holds the
/// directory's lock (`up`): the handle is the proof; the lock is not taken
/// twice, and the spec is not read twice.
pub fn run_held(
    dir: &Path,
    opts: Options<'_>,
    planned: &Planned,
    held: &crate::lock::StackLock,
) -> anyhow::Result<Exit> {
    render_under(dir, opts, planned, Some(held))
}

fn render_under(
    dir: &Path,
    opts: Options<'_>,
    planned: &Planned,
    _held: Option<&crate::lock::StackLock>,
) -> anyhow::Result<Exit> {
    let Some(mut tree) = build_tree(planned, &opts)? else {
        eprintln!("nothing was written");
        return Ok(Exit::Failed);
    };
    let stack = &planned.resolved;
    let mut plan = write::plan_changes(dir, &tree, &Protected::for_stack(stack))?;
    for (entry, why) in &plan.known.ignored {
        eprintln!("warning: ignored manifest entry `{entry}`: {why}");
    }
    let changes = &plan.changes;
    if opts.check {
        if changes.is_empty() {
            say!("{}: the rendered tree is up to date", dir.display());
            return Ok(Exit::Ok);
        }
        for c in changes {
            eprintln!("{}: {}", describe(&c.change), c.path);
        }
        // `stackctl render` refuses to overwrite a hand-edited file: the hint
        // must name what will actually work.
        let edited = changes
            .iter()
            .filter(|c| matches!(c.change, write::Change::Edited))
            .count();
        let hint = if edited > 0 {
            format!(
                "{edited} of them edited by hand: put the change into stack.yaml and run `stackctl render --force` (it keeps your version beside it), or `stackctl render --diff` to see what it would change"
            )
        } else {
            "run `stackctl render`".to_string()
        };
        eprintln!(
            "{} file(s) differ from what render would write\n  = help: {hint}",
            changes.len()
        );
        return Ok(Exit::Failed);
    }
    if opts.diff {
        for c in changes {
            super::emit(&write::unified_diff(c))?;
        }
        // Like `diff` and `git diff --exit-code`: 1 when there is a difference.
        if changes.is_empty() {
            say!("no changes");
            return Ok(Exit::Ok);
        }
        return Ok(Exit::Failed);
    }
    let blocked = plan.blocked(opts.force);
    let vanished = vanished_secrets(stack, dir, &plan.known.generated_secrets);
    if !blocked.is_empty() || (!vanished.is_empty() && !opts.force) {
        for c in &blocked {
            match c.change {
                Change::Foreign => eprintln!(
                    "error: `{}` exists and was not written by stackctl; it is never overwritten\n  = help: move it away (or merge what you need into stack.yaml) and render again",
                    c.path
                ),
                _ => eprintln!(
                    "error: `{}` was edited since the last render\n  = help: put the change into stack.yaml, or pass `--force` to overwrite it (your version is kept as `{}`)",
                    c.path,
                    write::edited_copy(&c.path)
                ),
            }
        }
        for (_, file) in &vanished {
            eprintln!(
                "error: `{file}` is missing; it held a password stackctl generated, and the services that stored it still expect it\n  = help: restore the file; to rotate the credential on purpose, write the new value into it yourself (or pass `--force` to generate a new one)"
            );
        }
        eprintln!("nothing was written");
        return Ok(Exit::Failed);
    }
    for removed in plan.clean_stale_temps(&tree, &secret_files(stack)) {
        eprintln!("removed {removed} (left by a render that did not finish)");
    }
    for w in crate::secrets::materialise(stack, dir)? {
        if vanished.iter().any(|(name, _)| *name == w.name) {
            eprintln!(
                "warning: generated a new `{}` ({}); change it wherever the old one is stored (Grafana keeps its admin password in its volume)",
                w.name, w.file
            );
            continue;
        }
        say!(
            "created {} ({})",
            w.file,
            if w.generated {
                "generated"
            } else {
                "empty placeholder"
            }
        );
    }
    for file in crate::tls::materialise(stack, dir)? {
        say!("created {file} (generated)");
    }
    // A password created just now is hashed into the web configs: plan again
    // with it (only on the render that creates it).
    if opts.target == Target::Compose && crate::plan::web_auth::settings(stack).is_some() {
        let inputs = read_inputs(stack, dir)?;
        let fresh = compose_tree(stack, &inputs, &crate::plan::plan(stack, &inputs));
        if fresh != tree {
            tree = fresh;
            plan = write::plan_changes(dir, &tree, &Protected::for_stack(stack))?;
        }
    }
    let generated: BTreeSet<String> = crate::secrets::generated_files(stack)
        .into_iter()
        .map(|(_, file)| file)
        .filter(|file| std::fs::symlink_metadata(dir.join(file)).is_ok())
        .collect();
    let done = plan.apply(&tree, generated)?;
    for c in &done {
        match c.change {
            Change::Orphaned => {
                eprintln!("kept: {} (no longer generated, but you edited it)", c.path)
            }
            Change::Edited => eprintln!(
                "{}: {} (your version kept as {})",
                describe(&c.change),
                c.path,
                c.kept_as.as_deref().unwrap_or("?")
            ),
            _ => say!("{}: {}", describe(&c.change), c.path),
        }
    }
    say!(
        "rendered {} file(s) into {} ({} changed)",
        tree.len(),
        dir.display(),
        done.iter().filter(|c| c.change != Change::Orphaned).count()
    );
    Ok(Exit::Ok)
}

/// Generated secrets a finished render saw that are gone now: recreating one
/// silently would rotate a credential the services have already stored.
fn vanished_secrets(
    stack: &crate::model::Stack,
    dir: &Path,
    recorded: &BTreeSet<String>,
) -> Vec<(String, String)> {
    crate::secrets::generated_files(stack)
        .into_iter()
        .filter(|(_, file)| {
            recorded.contains(file) && std::fs::symlink_metadata(dir.join(file)).is_err()
        })
        .collect()
}

fn secret_files(stack: &Resolved) -> Vec<String> {
    stack.secret_files().values().cloned().collect()
}

fn describe(change: &Change) -> &'static str {
    match change {
        Change::Create => "create",
        Change::Update => "update",
        Change::Edited => "overwrite edited",
        Change::Foreign => "blocked (not ours)",
        Change::Remove => "remove",
        Change::Orphaned => "orphaned",
    }
}
