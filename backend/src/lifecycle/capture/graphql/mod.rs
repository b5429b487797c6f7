//! Orders over GraphQL: queries with filters, sorting and cursors; createOrder; tags, notes
//! and issues; the live timeline.

pub mod mutation;
mod query;
mod subscription;
pub mod types;

pub use mutation::OrderMutation;
pub use query::OrderQuery;
pub use subscription::OrderSubscription;
