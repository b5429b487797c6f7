//! Routing: which warehouse ships which lines of an allocated order.
//!
//! Decided in `decide.rs` (pure); settings stored by `lifecycle::settings::fulfillment`
//! (shared with shipping and tracking); run by `service.rs` from the engine's `fulfil.rs` (no
//! job of its own); exposed in `graphql.rs` (`Order.routing`; the settings are edited through
//! shipping's GraphQL).

pub mod decide;
pub mod graphql;
pub mod service;
