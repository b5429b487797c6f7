//! Shipping: carriers and their rate cards, rate shopping, labels and tracking numbers.
//!
//! Decided in `shop.rs` and `ratecard.rs` (pure); stored by `repo.rs` (with the parcel's
//! status vocabulary in `status.rs`); labels bought and voided in `service.rs` (the engine's
//! `fulfil.rs`, the warehouse and staff's `actions.rs` call it), carriers behind `carrier.rs`,
//! drawn by `label.rs`; exposed in `graphql/` (tracking adds a parcel's scans), label files in
//! `http.rs`.

pub mod actions;
pub mod carrier;
pub mod context;
pub mod graphql;
pub mod http;
pub mod label;
pub mod loaders;
pub mod purchase;
pub mod ratecard;
pub mod remote;
pub mod repo;
pub mod service;
pub mod shop;
pub mod status;
pub mod tracking_number;
