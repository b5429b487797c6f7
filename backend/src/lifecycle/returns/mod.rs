//! Stage 10, returns: `policy.rs` decides whether a return may be made and whether it is
//! approved without staff; `settle.rs` decides each unit's fate and what the shopper gets back
//! (both pure); `service.rs` takes a return from request to resolution; `label.rs` buys its
//! label through the shipping stage; `http.rs` is the shopper's return page.

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
