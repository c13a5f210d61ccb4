//! The integration tests, in one binary: one module per area (the file names
//! the separate test binaries had), sharing the helpers in `tests/common`,
//! `tests/support`, `tests/kubernetes_support` and `tests/yaml_readers`.
//! One binary links the library once: a one-line change rebuilds one test
//! executable instead of one per file. Select an area with a filter, e.g.
//! `cargo test --test it render_golden::` or `cargo test --test it verify_`.
//!
//! Tests of all areas now share one process and run in parallel with each
//! other; the few that must not overlap with another area (the real Docker
//! engine suites, tests that time a bound) take a gate from `common::serial`.

// The helpers stay where they were (other tests and `benches/verify.rs`
// include them by path).
#[path = "../common/mod.rs"]
mod common;
#[path = "../kubernetes_support/mod.rs"]
mod kubernetes_support;
#[path = "../support/mod.rs"]
mod support;
#[path = "../yaml_readers/mod.rs"]
mod yaml_readers;

mod auth_proxy_real;
mod backup_e2e;
mod cli_conventions;
mod compose_hash;
mod dashboard_corpus;
mod docker_e2e;
mod docker_e2e_alerts;
mod docker_e2e_pynomaly;
mod docker_no_engine;
mod elastic_setup;
mod emit_consumers;
mod emit_roundtrip;
mod hostile_input;
mod hosts_engine;
mod hosts_engine_relay;
mod hosts_real;
mod import_folder;
mod import_roundtrip;
mod injection;
mod kubernetes_cli;
mod kubernetes_golden;
mod kubernetes_resources;
mod mutation_fuzz;
mod profile_rules;
mod readme_commands;
mod receivers_conformance;
mod render_check_hint;
mod render_conformance;
mod render_golden;
mod render_hostile;
mod render_lock;
mod render_safety;
mod route_prefix_real;
mod routes;
mod rule_tests;
mod shipped_specs_clean;
mod skips;
mod slo_prometheus;
mod slo_rules;
mod slo_sloth;
mod spec_errors;
mod spec_limit;
mod tempo;
mod validate_fixtures;
mod validate_messages;
mod validate_output;
mod validate_promtool;
mod validate_quiet;
mod validate_scaling;
mod verify_alerts;
mod verify_fakes;
mod verify_misbehaving;
mod verify_real;
mod verify_stderr;
mod web_auth_real;
mod web_auth_render;
