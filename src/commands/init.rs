//! `stackctl init`: write a profile as `DIR/stack.yaml` and create its secrets,
//! with the stack directory locked; `--force` keeps the old spec as the first
//! free `stack.yaml.bak[.N]`.

use super::Exit;
use crate::profiles;
use crate::render::write::atomic;
use std::path::Path;

pub fn run(profile: &str, dir: &Path, name: Option<&str>, force: bool) -> anyhow::Result<Exit> {
    // `--profile` and `--name` are checked by clap (`cli.rs`: a usage error
    // with a did-you-mean); this only guards a caller that skips the parser.
    let Some(found) = profiles::find(profile) else {
        anyhow::bail!(
            "unknown profile `{profile}`\n  = help: the profiles are {}",
            profiles::names().join(", ")
        );
    };
    let mut text = found.text.to_string();
    if let Some(name) = name {
        if !crate::check::is_project_name(name) {
            anyhow::bail!(
                "invalid stack name `{name}`\n  = help: use lowercase letters, digits, `-` and `_`, starting with a letter or digit"
            );
        }
        text = text.replacen(
            &format!("\nname: {}\n", found.name),
            &format!("\nname: {name}\n"),
            1,
        );
    }
    let loaded = crate::load::load_text("stack.yaml", text.clone());
    let Some(stack) = loaded.stack.as_ref().filter(|_| !loaded.has_errors()) else {
        anyhow::bail!("the embedded profile `{profile}` does not load; this is a bug in stackctl");
    };

    let Some((_lock, root)) = super::new_spec::prepare(
        dir,
        "init",
        force,
        "pass `--force` to replace it (the old file is kept as stack.yaml.bak)",
    )?
    else {
        return Ok(Exit::Failed);
    };
    let spec = dir.join("stack.yaml");
    atomic::replace(&root.prepare("stack.yaml", 0o755)?, text.as_bytes(), 0o644)?;
    say!("wrote {}", spec.display());

    let written = crate::secrets::materialise(stack, dir)?;
    for w in &written {
        if w.generated {
            say!("wrote {} (generated)", dir.join(&w.file).display());
        } else {
            say!(
                "wrote {} (empty: put the {} in it)",
                dir.join(&w.file).display(),
                w.name.replace('_', " ")
            );
        }
    }
    say!("");
    say!(
        "next: edit {}, then `stackctl render --dir {}`",
        spec.display(),
        dir.display()
    );
    Ok(Exit::Ok)
}
