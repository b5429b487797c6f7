//! Stage 11's matching half: a payment processor's report read (`stripe.rs`), each line
//! matched against our orders and refunds (`matching.rs`, pure), fees, chargebacks and payouts
//! booked, and the rest kept as discrepancies until resolved (`service.rs`).
//!
//! Decided in `matching.rs` (pure; the report read by `stripe.rs`); stored by `repo.rs`; run by
//! `service.rs` on an upload (no job of its own); exposed in `graphql.rs`, downloaded through
//! `export.rs`.

pub mod export;
pub mod graphql;
pub mod matching;
pub mod repo;
pub mod service;
pub mod stripe;
