//! Stage 4, inventory: stock per variant and warehouse, changed only through the movement
//! ledger. available = on hand − reserved, and a reservation never exceeds what is available.
//!
//! Decided in `decide.rs` (pure); stored by `repo.rs` (levels and the movement ledger); run by
//! `service.rs` (`move_stock`; a restock schedules the engine's `RetryBackorders`); exposed in
//! `graphql.rs`.

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod repo;
pub mod service;
