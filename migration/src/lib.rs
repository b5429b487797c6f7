//! Database migrations for SQLite (embedded default) and PostgreSQL (production).
//!
//! One set of migrations serves both backends. Tenant-owned tables carry `tenant_id` in every
//! primary, unique and foreign key (so the schema can be distributed by tenant), and on
//! PostgreSQL each gets the row-level-security policy from [`rls`].

pub use sea_orm_migration::prelude::*;

mod cols;
mod m20261126_000001_tenancy;
mod m20261126_000002_row_level_security;
mod m20261127_000003_catalog_inventory;
mod m20261127_000004_orders_capture;
mod m20261127_000005_lifecycle_engine;
mod m20261127_000006_hot_table_storage;
mod m20261127_000007_fulfillment;
mod m20261127_000008_notify;
mod m20261127_000009_returns_ledger;
mod m20261127_000010_webhooks;
mod m20261127_000011_automation;
mod m20261127_000012_reporting;
mod m20261206_000013_security;
mod m20261207_000014_carrier_apis;
mod m20261207_000015_payment_processors;
mod m20261207_000016_return_label_purchase;
mod m20261207_000017_channel_pushes;
mod m20261207_000018_channel_stock;
mod m20261208_000019_ship_by;
pub mod rls;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_tenancy::Migration),
            Box::new(m20261126_000002_row_level_security::Migration),
            Box::new(m20261127_000003_catalog_inventory::Migration),
            Box::new(m20261127_000004_orders_capture::Migration),
            Box::new(m20261127_000005_lifecycle_engine::Migration),
            Box::new(m20261127_000006_hot_table_storage::Migration),
            Box::new(m20261127_000007_fulfillment::Migration),
            Box::new(m20261127_000008_notify::Migration),
            Box::new(m20261127_000009_returns_ledger::Migration),
            Box::new(m20261127_000010_webhooks::Migration),
            Box::new(m20261127_000011_automation::Migration),
            Box::new(m20261127_000012_reporting::Migration),
            Box::new(m20261206_000013_security::Migration),
            Box::new(m20261207_000014_carrier_apis::Migration),
            Box::new(m20261207_000015_payment_processors::Migration),
            Box::new(m20261207_000016_return_label_purchase::Migration),
            Box::new(m20261207_000017_channel_pushes::Migration),
            Box::new(m20261207_000018_channel_stock::Migration),
            Box::new(m20261208_000019_ship_by::Migration),
        ]
    }
}
