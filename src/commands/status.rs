//! `stackctl status`: one row per service with state, health and ports, read
//! from the containers' labels. Exit 1 when a service is not running and
//! healthy, so scripts can wait on it.

use super::Exit;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::status::{Row, status, table};
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(dir: &Path, host: Option<&str>) -> anyhow::Result<Exit> {
    let remote = host
        .map(|name| super::docker::existing_remote(dir, name))
        .transpose()?;
    let (d, valid) = match &remote {
        Some(r) => (r.deployment.clone(), true),
        None => super::docker::existing_plan(dir)?,
    };
    let mut hashes = BTreeMap::new();
    let reloads = crate::docker::reload::Reloads::load(dir);
    if valid {
        let abs = match &remote {
            Some(r) => r.bundle_dir.clone(),
            None => super::docker::absolute(dir)?,
        };
        let (secrets, _) = crate::docker::preflight::read_secrets(&d, &abs);
        for s in &d.services {
            let spec = crate::docker::spec::container(&d, s, &abs, &secrets);
            hashes.insert(s.name.clone(), spec.labels);
        }
    }
    let mut rows: Vec<Row> = super::docker::runtime()?
        .block_on(async {
            match &remote {
                Some(r) => status(&r.engine().await?, &d, &hashes, &reloads).await,
                None => {
                    let engine = BollardEngine::connect().await?;
                    status(&engine, &d, &hashes, &reloads).await
                }
            }
        })
        .map_err(super::docker::engine_error)?;
    if !valid {
        eprintln!(
            "note: the spec does not validate; showing every container of project `{}`",
            d.project
        );
        for r in &mut rows {
            r.planned = true;
        }
    }
    super::emit(&table(&rows))?;
    let bad: Vec<&str> = rows
        .iter()
        .filter(|r| r.planned && !r.ok(d.service(&r.service).is_some_and(|s| s.one_shot)))
        .map(|r| r.service.as_str())
        .collect();
    if rows.is_empty() {
        eprintln!("`{}` has no containers; `stackctl up` starts it", d.project);
        return Ok(Exit::Failed);
    }
    if bad.is_empty() {
        Ok(Exit::Ok)
    } else {
        eprintln!("not running and healthy: {}", bad.join(", "));
        Ok(Exit::Failed)
    }
}
