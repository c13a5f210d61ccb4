//! `stackctl render`: validate, then write the generated tree (or, with
//! `--check`/`--diff`, show how the disk differs from it).

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::Target;
use crate::render::write::{self, Change, Outcome};
use std::path::Path;

pub struct Options<'a> {
    pub target: Target,
    pub check: bool,
    pub diff: bool,
    pub force: bool,
    pub namespace: Option<&'a str>,
    pub release: Option<&'a str>,
}

/// The rendered tree for a valid spec, or `None` (diagnostics printed) when
/// the spec has errors.
pub fn build_tree(
    dir: &Path,
    opts: &Options<'_>,
) -> anyhow::Result<Option<(crate::render::Tree, crate::model::Stack)>> {
    let loaded = load_stack(dir, false)?;
    print_diagnostics(&loaded);
    if loaded.has_errors() {
        return Ok(None);
    }
    let Some(stack) = loaded.stack.clone() else {
        return Ok(None);
    };
    let inputs = read_inputs(&stack, dir)?;
    let deployment = crate::plan::plan(&stack, &inputs);
    let tree = match opts.target {
        Target::Compose => crate::render::compose_tree(&deployment),
        Target::Kubernetes => {
            let (tree, findings) = crate::render::kubernetes::tree(
                &stack,
                &deployment,
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
            for finding in findings {
                eprint!(
                    "{}",
                    crate::diag::render_text(&finding, &loaded.file, &loaded.text)
                );
            }
            // A value Kubernetes would reject (a namespace, a label selector).
            if failed {
                return Ok(None);
            }
            tree
        }
    };
    Ok(Some((tree, stack)))
}

/// Files the spec refers to (dashboard JSON), read once here so planning stays pure.
pub fn read_inputs(stack: &crate::model::Stack, dir: &Path) -> anyhow::Result<crate::plan::Inputs> {
    let mut inputs = crate::plan::Inputs::default();
    for dash in &stack.dashboards {
        if let Some(file) = &dash.file {
            let text = std::fs::read_to_string(dir.join(file)).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read dashboard file `{}`: {e}",
                    dir.join(file).display()
                )
            })?;
            inputs.files.insert(file.clone(), text);
        }
    }
    Ok(inputs)
}

pub fn run(dir: &Path, opts: Options<'_>) -> anyhow::Result<Exit> {
    let Some((tree, stack)) = build_tree(dir, &opts)? else {
        eprintln!("nothing was written");
        return Ok(Exit::Failed);
    };
    let changes = write::plan_changes(dir, &tree)?;
    if opts.check {
        if changes.is_empty() {
            eprintln!("{}: the rendered tree is up to date", dir.display());
            return Ok(Exit::Ok);
        }
        for c in &changes {
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
        for c in &changes {
            print!("{}", write::unified_diff(c));
        }
        if changes.is_empty() {
            eprintln!("no changes");
        }
        return Ok(Exit::Ok);
    }
    match write::apply(dir, &tree, opts.force)? {
        Outcome::Refused(blocked) => {
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
            eprintln!("nothing was written");
            Ok(Exit::Failed)
        }
        Outcome::Written(done) => {
            for w in crate::secrets::materialise(&stack, dir)? {
                eprintln!(
                    "created {} ({})",
                    w.file,
                    if w.generated {
                        "generated"
                    } else {
                        "empty placeholder"
                    }
                );
            }
            for c in &done {
                match c.change {
                    Change::Orphaned => {
                        eprintln!("kept: {} (no longer generated, but you edited it)", c.path)
                    }
                    Change::Edited => eprintln!(
                        "{}: {} (your version kept as {})",
                        describe(&c.change),
                        c.path,
                        write::edited_copy(&c.path)
                    ),
                    _ => eprintln!("{}: {}", describe(&c.change), c.path),
                }
            }
            eprintln!(
                "rendered {} file(s) into {} ({} changed)",
                tree.len(),
                dir.display(),
                done.iter().filter(|c| c.change != Change::Orphaned).count()
            );
            Ok(Exit::Ok)
        }
    }
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
