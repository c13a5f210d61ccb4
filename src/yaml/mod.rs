//! YAML in and out: a position-keeping reader (`node`, `de`) and a careful writer (`emit`).

pub mod de;
pub mod emit;
pub mod node;
