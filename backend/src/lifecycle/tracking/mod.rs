//! Tracking: carrier events in, one status vocabulary out; the parcel and the order follow,
//! and a recurring job watches for parcels that are late or silent.

pub mod graphql;
pub mod http;
pub mod loaders;
pub mod monitor;
pub mod normalize;
pub mod repo;
pub mod service;
pub mod signature;
pub mod watch;
