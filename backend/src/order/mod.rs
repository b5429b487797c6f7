//! The order, beneath every stage: its record and repository, its lines, its timeline, the
//! canonical shape every channel's order is mapped into, and its GraphQL object.
//!
//! No stage is imported here. The GraphQL `Order` carries what the order itself knows; each
//! stage adds its own fields (payment's verdict, fraud's score, allocations, parcels, routing,
//! delivery exceptions, emails, returns, refunds, conversations) from its own GraphQL module,
//! and `schema::parts` lists those parts (see `graphql::extend`).

pub mod canonical;
pub mod channel;
pub mod graphql;
pub mod issues;
pub mod loaders;
pub mod model;
pub mod repo;
pub mod timeline;

pub use channel::SalesChannel;
