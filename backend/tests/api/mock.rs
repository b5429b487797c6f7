//! The stand-in for remote APIs, shared with the end-to-end tests (`e2e::remote_api`).

pub use e2e::remote_api::{MockApi, Reply};
