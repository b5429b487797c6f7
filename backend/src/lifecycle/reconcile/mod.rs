//! Stage 11's matching half: a payment processor's report read (`stripe.rs`), each line
//! matched against our orders and refunds (`matching.rs`, pure), fees, chargebacks and payouts
//! booked, and the rest kept as discrepancies until resolved (`service.rs`).

pub mod export;
pub mod graphql;
pub mod matching;
pub mod repo;
pub mod service;
pub mod stripe;
