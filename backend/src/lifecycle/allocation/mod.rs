//! Stage 4, inventory allocation: stock reserved per line across warehouses, atomically and
//! never beyond what is available; the rest backordered with a supplier's expected date.
//!
//! Decided in `decide.rs` (pure); stored by `repo.rs`; run by `service.rs` from the engine's
//! pipeline (no job of its own); exposed in `graphql.rs` (`Order.allocations`, through
//! `loaders.rs`).

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod repo;
pub mod service;
