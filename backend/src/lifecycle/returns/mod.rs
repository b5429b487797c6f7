//! Stage 10, returns: `policy.rs` decides whether a return may be made and whether it is
//! approved without staff; `settle.rs` decides each unit's fate and what the shopper gets back
//! (both pure); `service.rs` takes a return from request to resolution; `label.rs` buys its
//! label through the shipping stage; `http.rs` is the shopper's return page.
//!
//! Decided in `policy.rs` and `settle.rs` (pure); stored by `repo.rs`; run by `service/`
//! (request, review, receipt and resolution); its one job buys a label from a carrier's API
//! (`label/remote.rs`), otherwise the carrier's scans (handed over by tracking through
//! `lifecycle::events`) and the policy move it on; exposed in `graphql.rs`, the shopper's
//! pages in `http.rs`.

pub mod exchange;
pub mod graphql;
pub mod http;
pub mod label;
pub mod loaders;
pub mod policy;
pub mod repo;
pub mod service;
pub mod settings;
pub mod settle;
