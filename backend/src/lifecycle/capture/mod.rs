//! Stage 1, capture: orders from every channel and the API become one canonical order
//! (`order::canonical`), checked, and stored once through the order module.
//!
//! Decided in `validate.rs` and `postal.rs` (pure); stored through `order::repo` and
//! `order::timeline` (a channel's later cancellation or new lines go on to the engine through
//! `lifecycle::events`); run by `service.rs` (`capture`, from channel deliveries and `api.rs`'s
//! `createOrder`); exposed in `graphql.rs` (createOrder and the staff edits: tags, note,
//! issues). The `Order` object and its queries are `order::graphql`'s.

pub mod api;
pub mod graphql;
pub mod postal;
pub mod service;
pub mod validate;
