//! Orders over GraphQL: the `Order` object, queries with filters, sorting and cursors, and
//! the live timeline.

mod query;
mod subscription;
pub mod types;

pub use query::OrderQuery;
pub use subscription::OrderSubscription;
