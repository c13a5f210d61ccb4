//! `stackctl profiles`: one line per embedded profile.

use super::Exit;

pub fn run() -> anyhow::Result<Exit> {
    let width = crate::profiles::PROFILES
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for profile in crate::profiles::PROFILES {
        println!("{:width$}  {}", profile.name, profile.summary);
    }
    Ok(Exit::Ok)
}
