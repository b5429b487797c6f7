//! Refunds (stage 10's money side, and cancellations'): `decide.rs` says what may be paid
//! back and how it splits (pure); `route.rs` who gives it back (pure: the channel that took
//! the payment, Stripe, or nobody in reach — recorded only); `service.rs` makes a refund once
//! per intent key under the order's lock and books it.
//!
//! The built-in provider (`provider.rs`, "simulated") concludes in the caller's transaction;
//! a provider called out to is asked by a job (`remote.rs`: Stripe's, spoken in `stripe.rs`;
//! the channels run theirs) and ended by its answer or its webhook (`webhook.rs`). The
//! tenant's processors and rule, and staff's choice per order, are in `processors.rs`.
//! Stored by `repo.rs`; exposed in `graphql.rs` and as `Order.refunds` (`loaders.rs`).

pub mod decide;
pub mod graphql;
pub mod loaders;
pub mod processors;
pub mod provider;
pub mod remote;
pub mod repo;
pub mod route;
pub mod service;
pub mod stripe;
pub mod webhook;
