//! Row-level security on PostgreSQL: the backstop behind the tenant-scoped access type.
//!
//! The application connects as (or assumes) [`APP_ROLE`], which owns nothing and is subject to
//! every policy. Each transaction sets `app.tenant_id` (and, to list a user's own memberships
//! at login, `app.user_id`); a query that forgets its tenant filter sees only that tenant's rows,
//! and with no tenant set it sees none.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

/// The role the application assumes; migrations create it when it is missing.
pub const APP_ROLE: &str = "orderflow_app";

/// The tenant a transaction is scoped to, as a SQL expression (NULL when unset).
const CURRENT_TENANT: &str = "NULLIF(current_setting('app.tenant_id', true), '')::uuid";

/// Creates the application role (once per cluster) and lets the migrating user assume it.
///
/// Role names are cluster-wide while migrations run per database, so two databases migrating
/// at once may race to create the role: the loser's error is ignored and existence re-checked.
pub async fn ensure_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        r#"DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    BEGIN
      CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN OTHERS THEN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN RAISE; END IF;
    END;
  END IF;
  IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
    EXCEPTION WHEN OTHERS THEN
      IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN RAISE; END IF;
    END;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};"#
    ))
    .await?;
    Ok(())
}

/// Grants the application role plain data access to `table` (no DDL, no ownership).
pub async fn grant_app_access(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}"
        ))
        .await?;
    Ok(())
}

/// Turns on row-level security for a tenant-owned table, with the tenant-isolation policy.
/// `FORCE` makes the policy bind the table owner too; only superusers and BYPASSRLS roles
/// escape it, and the application is neither.
pub async fn enable_tenant_rls(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    grant_app_access(manager, table).await?;
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON {table}
               USING (tenant_id = {CURRENT_TENANT})
               WITH CHECK (tenant_id = {CURRENT_TENANT});"
        ))
        .await?;
    Ok(())
}

/// Reverses [`enable_tenant_rls`].
pub async fn disable_tenant_rls(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "DROP POLICY IF EXISTS tenant_isolation ON {table};
             ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
             ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
             REVOKE ALL ON {table} FROM {APP_ROLE};"
        ))
        .await?;
    Ok(())
}
