//! Routing: which warehouse ships which lines of an allocated order.

pub mod decide;
pub mod graphql;
pub mod service;
pub mod settings;
