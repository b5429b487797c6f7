//! Persistence for tenancy. Global tables (tenants, users) take any scoped transaction;
//! tenant-owned tables take a [`super::TenantTx`] and filter by its tenant.

pub mod api_keys;
pub mod audit;
pub mod invitations;
pub mod memberships;
pub mod refresh_tokens;
pub mod tenants;
pub mod users;

/// Rows per page when a caller asks for none; and the most a caller may ask for.
pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;
