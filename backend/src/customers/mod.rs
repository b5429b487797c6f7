//! Customers: one per email per tenant, with their addresses and order history in figures.

pub mod facts;
pub mod graphql;
pub mod loaders;
pub mod repo;
