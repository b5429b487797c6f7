//! Outbound webhooks (across stages): integrators subscribe a URL to timeline events and
//! receive each one signed (`service.rs` says how), retried with backoff and logged per
//! attempt. `pattern.rs` matches events to subscriptions (pure).

pub mod graphql;
pub mod pattern;
pub mod repo;
pub mod service;
