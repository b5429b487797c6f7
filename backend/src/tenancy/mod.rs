//! Tenancy: who may reach which tenant's data, and the only door to tenant-owned tables.
//!
//! [`TenantTx`] is a database transaction bound to one tenant. Repositories of tenant-owned
//! tables accept nothing else, and filter by its tenant themselves; on PostgreSQL the
//! transaction also sets `app.tenant_id`, so row-level security catches a query that forgets.

mod principal;
pub mod repo;
mod role;
mod tx;

pub use principal::{Actor, Principal};
pub use role::{Permission, Role};
pub use tx::{AnyTx, GlobalTx, TenantTx, UserTx};
