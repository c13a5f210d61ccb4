//! Proving a running stack works (not implemented yet).
