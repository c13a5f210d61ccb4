//! The typed model of `stack.yaml`: one source of truth that checks, plans,
//! renderers and the Docker code read (never the raw YAML).

pub mod catalog;
pub mod components;
pub mod hosts;
pub mod ports;
pub mod receivers;
pub mod ruletests;
pub mod security;
pub mod slo;
pub mod stack;
pub mod types;
pub mod watchdog;

pub use catalog::Kind;
pub use stack::Stack;
