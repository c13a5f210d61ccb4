//! Running the plan on a Docker engine (not implemented yet).
