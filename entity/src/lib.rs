//! sea-orm entities, one file per table. No business logic and no GraphQL derives here: the
//! backend's repositories map rows to domain types, and the API has types of its own.

pub mod allocations;
pub mod api_keys;
pub mod audit_log;
pub mod channel_connections;
pub mod channel_deliveries;
pub mod channel_routes;
pub mod customers;
pub mod fraud_labels;
pub mod inventory_movements;
pub mod invitations;
pub mod jobs;
pub mod lifecycle_settings;
pub mod memberships;
pub mod order_events;
pub mod order_lines;
pub mod orders;
pub mod products;
pub mod refresh_tokens;
pub mod risk_signals;
pub mod stock_levels;
pub mod supplier_items;
pub mod suppliers;
pub mod tenants;
pub mod users;
pub mod variants;
pub mod warehouses;
