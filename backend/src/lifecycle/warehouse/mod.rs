//! The warehouse: parcels batched into waves and picked along the bins, then packed with
//! every item scanned, with a packing slip for the box.
//!
//! Decided in `picking.rs` and `pack.rs` (pure); stored by `repo.rs`; run by `service.rs` from
//! staff actions (no job of its own); exposed in `graphql.rs`, packing slips drawn by
//! `slip.rs` and served by `http.rs`.

pub mod graphql;
pub mod http;
pub mod pack;
pub mod picking;
pub mod repo;
pub mod service;
pub mod slip;
