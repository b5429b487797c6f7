//! Tracking: carrier events in, one status vocabulary out; the parcel and the order follow,
//! and a recurring job watches for parcels that are late or silent.
//!
//! Decided in `normalize.rs` and `monitor.rs` (pure); stored by `repo.rs`; run by `service.rs`
//! on carrier webhooks (`http.rs`, checked by `signature.rs`; a scan no outbound parcel claims
//! goes to the returns through `lifecycle::events`) and by `watch.rs` (`WatchDeliveries`,
//! recurring); exposed in `graphql.rs` (with a `Shipment`'s scans).

pub mod graphql;
pub mod http;
pub mod loaders;
pub mod monitor;
pub mod normalize;
pub mod repo;
pub mod service;
pub mod signature;
pub mod watch;
