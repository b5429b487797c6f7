//! Refunds (stage 10's money side, and cancellations'): `decide.rs` says what may be paid
//! back and how it splits (pure); `provider.rs` is who moves the money; `service.rs` makes a
//! refund once per intent key under the order's lock and books it.
//!
//! Decided in `decide.rs` (pure); stored by `repo.rs`; run by `service.rs` with `provider.rs`
//! (no job of its own); exposed in `graphql.rs` and as `Order.refunds` (through `loaders.rs`).
//! Stripe's refunds API is spoken in `stripe.rs`.

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod provider;
pub mod repo;
pub mod service;
pub mod stripe;
