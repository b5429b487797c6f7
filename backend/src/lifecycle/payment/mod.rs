//! Stage 2, payment: a verdict on the payment facts, taken by the engine's pipeline.

pub mod decide;

pub use decide::{PaymentDecision, PaymentVerdict};
