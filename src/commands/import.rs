//! `stackctl import`: read a monitoring folder, write `DIR/stack.yaml`, the
//! secrets it refers to (0600) and the dashboard files it copies, then print
//! the report. Nothing is written when the spec exists (unless `--force`).

use super::Exit;
use crate::import::{self, Options, report::Outcome};
use crate::render::write::atomic;
use std::path::Path;

pub fn run(from: &Path, dir: &Path, opts: &Options, force: bool) -> anyhow::Result<Exit> {
    let imported = import::import_dir(from, opts)?;
    let Some((_lock, root)) = super::new_spec::prepare(
        dir,
        "import",
        force,
        "import into an empty directory with `--dir`, or pass `--force` to replace it (the old file is kept as stack.yaml.bak)",
    )?
    else {
        return Ok(Exit::Failed);
    };
    let spec = dir.join("stack.yaml");
    for (name, value) in &imported.secrets {
        let rel = format!("secrets/{name}");
        // An existing secret file is the user's: never overwritten.
        if std::fs::symlink_metadata(root.check(&rel)?).is_ok() {
            continue;
        }
        let path = root.prepare(&rel, crate::secrets::DIR_MODE)?;
        atomic::replace(&path, value.as_bytes(), crate::secrets::FILE_MODE)?;
    }
    for (rel, contents) in &imported.files {
        let path = root.prepare(rel, 0o755)?;
        atomic::replace(&path, contents.as_bytes(), 0o644)?;
    }
    let path = root.prepare("stack.yaml", 0o755)?;
    atomic::replace(&path, imported.stack_yaml.as_bytes(), 0o644)?;
    let loaded = crate::load::load_text("stack.yaml", imported.stack_yaml.clone());
    if let Some(stack) = &loaded.stack {
        // `generate: true` secrets the folder had no value for.
        crate::secrets::materialise(stack, dir)?;
    }
    super::emit(&imported.report.to_text())?;
    let not_expressed = imported.report.of(Outcome::NotExpressed).count();
    super::emit(&format!(
        "wrote {} ({} secret file(s), {} dashboard file(s)); {} item(s) could not be expressed\n",
        spec.display(),
        imported.secrets.len(),
        imported.files.len(),
        not_expressed
    ))?;
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    if loaded.stack.is_none() || !errors.is_empty() {
        for d in &errors {
            eprint!(
                "{}",
                crate::diag::render_text(d, "stack.yaml", &imported.stack_yaml)
            );
        }
        eprintln!(
            "error: the imported spec does not validate yet; fix it and run `stackctl validate --dir {}`",
            dir.display()
        );
        return Ok(Exit::Failed);
    }
    Ok(Exit::Ok)
}
