//! Refunds (stage 10's money side, and cancellations'): `decide.rs` says what may be paid
//! back and how it splits (pure); `provider.rs` is who moves the money; `service.rs` makes a
//! refund once per intent key under the order's lock and books it.

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod provider;
pub mod repo;
pub mod service;
