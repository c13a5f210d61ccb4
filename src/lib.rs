//! stackctl: a complete monitoring stack from one typed, validated spec.
//!
//! The pipeline: `load` reads `stack.yaml` into the typed `model::Stack`
//! (collecting every problem with its position), `check` validates it as a
//! whole, `plan` turns it into a `Deployment` (services, volumes, config files),
//! and `render` writes that as a Compose or Kubernetes tree. `docker` and
//! `verify` read the same `Deployment`.

pub mod backup;
pub mod check;
pub mod cli;
pub mod color;
pub mod commands;
pub mod components;
pub mod diag;
pub mod docker;
pub mod fsutil;
pub mod import;
pub mod load;
pub mod lock;
pub mod model;
pub mod plan;
pub mod profiles;
pub mod render;
pub mod resolve;
pub mod routes;
pub mod ruletest;
pub mod secrets;
pub mod slo;
pub mod tls;
pub mod verify;
pub mod web_secrets;
pub mod yaml;
