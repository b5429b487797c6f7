//! PostgreSQL only: the application role, its grants, and tenant-isolation policies on every
//! tenant table of the first migration. On SQLite this migration does nothing.

use crate::rls;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000002_row_level_security"
    }
}

const TENANT_TABLES: [&str; 5] = [
    "memberships",
    "invitations",
    "api_keys",
    "refresh_tokens",
    "audit_log",
];

/// Global tables: tenants are looked up by id and users by email before any tenant is known.
const GLOBAL_TABLES: [&str; 2] = ["tenants", "users"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        rls::ensure_app_role(manager).await?;
        for table in GLOBAL_TABLES {
            rls::grant_app_access(manager, table).await?;
        }
        for table in TENANT_TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        // At login a user lists their own memberships before choosing a tenant.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE POLICY member_self ON memberships FOR SELECT
                   USING (user_id = NULLIF(current_setting('app.user_id', true), '')::uuid)",
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
            .execute_unprepared("DROP POLICY IF EXISTS member_self ON memberships")
            .await?;
        for table in TENANT_TABLES {
            rls::disable_tenant_rls(manager, table).await?;
        }
        for table in GLOBAL_TABLES {
            manager
                .get_connection()
                .execute_unprepared(&format!("REVOKE ALL ON {table} FROM {}", rls::APP_ROLE))
                .await?;
        }
        Ok(())
    }
}
