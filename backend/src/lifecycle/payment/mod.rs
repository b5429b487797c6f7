//! Stage 2, payment: a verdict on the payment facts, taken by the engine's pipeline.
//!
//! Decided in `decide.rs` (pure); stored on the order by the engine's pipeline, which runs it
//! (no job of its own); exposed in `graphql.rs` (its verdict on `Order.payment`).

pub mod decide;
pub mod graphql;

pub use decide::{PaymentDecision, PaymentVerdict};
