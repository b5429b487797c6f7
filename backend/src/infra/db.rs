//! Database connections. The pool itself stays private: tenant-owned tables are reached only
//! through [`crate::tenancy::TenantTx`], global tables through [`crate::tenancy::GlobalTx`].

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseBackend, DatabaseConnection};

use crate::config::Config;

/// The application's connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
}

/// Pool occupancy, for `/metrics`.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Db {
    /// Connects as the application. On PostgreSQL every session assumes `ORDERFLOW_DB_ROLE`
    /// at start-up, so row-level security binds it even when DATABASE_URL names the owner.
    pub async fn connect(config: &Config) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(config.database_url.expose().clone());
        options
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(10));
        if config.is_postgres() {
            options.max_connections(config.db_max_connections);
            if let Some(role) = config.db_role.clone() {
                options.map_sqlx_postgres_opts(move |o| o.options([("role", role.as_str())]));
            }
        } else {
            // One connection: SQLite has a single writer, and a pool of one never sees
            // SQLITE_BUSY from two transactions upgrading to write at once.
            options.max_connections(1).min_connections(1);
            options.map_sqlx_sqlite_opts(sqlite_options);
        }
        let conn = Database::connect(options)
            .await
            .context("DATABASE_URL: cannot connect")?;
        Ok(Self { conn })
    }

    /// Applies pending migrations, connected as DATABASE_URL's own user (the schema owner).
    pub async fn migrate(config: &Config) -> anyhow::Result<()> {
        let mut options = ConnectOptions::new(config.database_url.expose().clone());
        options.sqlx_logging(false).max_connections(1);
        if !config.is_postgres() {
            options.map_sqlx_sqlite_opts(sqlite_options);
        }
        let conn = Database::connect(options)
            .await
            .context("DATABASE_URL: cannot connect to migrate")?;
        Migrator::up(&conn, None)
            .await
            .context("migration failed")?;
        conn.close().await.ok();
        Ok(())
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DatabaseBackend::Postgres
    }

    pub async fn ping(&self) -> Result<(), sea_orm::DbErr> {
        self.conn.ping().await
    }

    pub fn pool_stats(&self) -> PoolStats {
        match self.backend() {
            DatabaseBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                PoolStats {
                    size: pool.size(),
                    idle: pool.num_idle() as u32,
                    max: pool.options().get_max_connections(),
                }
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                PoolStats {
                    size: pool.size(),
                    idle: pool.num_idle() as u32,
                    max: pool.options().get_max_connections(),
                }
            }
        }
    }

    /// For [`crate::tenancy`] only, which wraps it in a scoped transaction.
    pub(crate) fn raw(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub async fn close(self) {
        self.conn.close().await.ok();
    }
}

fn sqlite_options(
    o: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    o.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}

/// A case-insensitive "contains" pattern for `LOWER(col) LIKE …`, with `%`, `_` and `\` in
/// the user's text matching themselves. The ESCAPE is explicit: SQLite has no default one.
pub fn contains_pattern(search: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}
