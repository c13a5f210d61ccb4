//! `stackctl profiles`: one line per embedded profile.

use super::Exit;

pub fn run() -> anyhow::Result<Exit> {
    let width = crate::profiles::PROFILES
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for profile in crate::profiles::PROFILES {
        out.push_str(&format!("{:width$}  {}\n", profile.name, profile.summary));
    }
    super::emit(&out)?;
    Ok(Exit::Ok)
}
