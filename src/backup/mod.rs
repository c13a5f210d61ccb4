//! `stackctl backup` and `stackctl restore`: one archive with a consistent
//! copy of the stack's data (each data volume, copied through the Docker
//! Engine's archive endpoints of the stack's own containers, so no helper
//! image is pulled), the spec, the rendered tree's manifest and, when
//! asked, the secrets; a manifest with each part's size and SHA-256.
//!
//! - `parts`: which services hold data and how each is copied consistently.
//! - `archive`: the file format (zstd-compressed tar), writing and checking.
//! - `manifest`: the manifest and the part hash.
//! - `save` / `restore`: the orchestration on any `Engine`.
//! - `engine_io`, `stream`, `meter`: engine copies, channel bridges, progress.

pub mod archive;
pub mod engine_io;
pub mod manifest;
pub mod meter;
pub mod parts;
pub mod restore;
pub mod save;
pub mod stream;

#[cfg(test)]
mod tests;
