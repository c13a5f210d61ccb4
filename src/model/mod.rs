//! The typed model of `stack.yaml`: one source of truth that checks, plans,
//! renderers and the Docker code read (never the raw YAML).

pub mod catalog;
pub mod components;
pub mod ports;
pub mod ruletests;
pub mod stack;
pub mod types;

pub use catalog::Kind;
pub use stack::Stack;
