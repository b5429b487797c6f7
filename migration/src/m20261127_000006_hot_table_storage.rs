//! PostgreSQL storage settings for the two hottest tables: the job outbox (every job is
//! inserted, updated and deleted within seconds) and stock levels (every reservation updates
//! one of a few rows). Free space on each page lets updates stay on the page (HOT), and
//! vacuuming after a fixed number of dead rows, rather than a share of a small table, keeps
//! scans from walking thousands of dead versions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000006_hot_table_storage"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "ALTER TABLE jobs SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, \
               autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
             ALTER TABLE stock_levels SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, \
               autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE jobs RESET (fillfactor, autovacuum_vacuum_scale_factor, \
                   autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);
                 ALTER TABLE stock_levels RESET (fillfactor, autovacuum_vacuum_scale_factor, \
                   autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay);",
            )
            .await?;
        Ok(())
    }
}
