//! Stage 3, fraud screening: an explainable risk score with reason codes, decided against the
//! tenant's thresholds; staff decisions and chargebacks are kept as labels.
//!
//! Decided in `model.rs` with `features.rs` (pure); facts and labels read and kept by
//! `signals.rs`; run from the engine's pipeline (no job of its own); exposed in `graphql.rs`
//! (`Order.fraud`).

pub mod features;
pub mod graphql;
pub mod model;
pub mod signals;

pub use model::{FraudAssessment, FraudLevel, FraudOutcome};
