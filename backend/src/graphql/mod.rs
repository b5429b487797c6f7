//! The kit every area's GraphQL is built with: the request context, permission guards,
//! payloads and error codes, Relay ids and connections, scalars, data loaders, and the
//! re-check of live subscriptions. The schema is assembled above the areas, in
//! [`crate::schema`].

pub mod context;
pub mod errors;
pub mod extend;
pub mod guard;
pub mod live;
pub mod loader;
pub mod relay;
pub mod scalars;
