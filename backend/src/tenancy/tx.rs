//! Scoped database transactions. Each scope sets, on PostgreSQL, the settings that the
//! row-level-security policies read, for this transaction only (`set_config(…, true)`).

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

use crate::domain::{TenantId, UserId};
use crate::infra::db::Db;

/// Any scoped transaction: global tables (tenants, users) may be reached from each.
pub trait AnyTx {
    fn conn(&self) -> &DatabaseTransaction;
}

/// A transaction bound to one tenant: the only way to reach tenant-owned tables.
pub struct TenantTx {
    tx: DatabaseTransaction,
    tenant: TenantId,
}

/// A transaction with no tenant: reaches only the global tables.
pub struct GlobalTx {
    tx: DatabaseTransaction,
}

/// A transaction that may list one user's own memberships across tenants (to sign in).
pub struct UserTx {
    tx: DatabaseTransaction,
    user: UserId,
}

async fn begin_with(db: &Db, settings: &[(&str, String)]) -> Result<DatabaseTransaction, DbErr> {
    let tx = if db.is_postgres() {
        db.raw().begin().await?
    } else {
        // SQLite: take the write lock at BEGIN, waiting for it (busy timeout). A deferred
        // transaction that read first and then writes fails at once with "database is
        // locked" when another process wrote meanwhile (several `orderflow` processes on one
        // file).
        db.raw()
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
    };
    if db.is_postgres() {
        for (name, value) in settings {
            tx.execute_raw(Statement::from_sql_and_values(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT set_config($1, $2, true)",
                [(*name).into(), value.clone().into()],
            ))
            .await?;
        }
    }
    Ok(tx)
}

impl TenantTx {
    pub async fn begin(db: &Db, tenant: TenantId) -> Result<Self, DbErr> {
        let tx = begin_with(db, &[("app.tenant_id", tenant.to_string())]).await?;
        Ok(Self { tx, tenant })
    }

    /// A transaction that only reads (long reports): on SQLite a deferred one, which takes no
    /// write lock, so writers are not kept waiting while it reads (WAL gives it a snapshot).
    /// Writing in it may fail with "database is locked"; use `begin` for that.
    pub async fn begin_read(db: &Db, tenant: TenantId) -> Result<Self, DbErr> {
        if db.is_postgres() {
            return Self::begin(db, tenant).await;
        }
        let tx = db.raw().begin().await?;
        Ok(Self { tx, tenant })
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl GlobalTx {
    pub async fn begin(db: &Db) -> Result<Self, DbErr> {
        Ok(Self {
            tx: begin_with(db, &[]).await?,
        })
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl UserTx {
    pub async fn begin(db: &Db, user: UserId) -> Result<Self, DbErr> {
        let tx = begin_with(db, &[("app.user_id", user.to_string())]).await?;
        Ok(Self { tx, user })
    }

    pub fn user(&self) -> UserId {
        self.user
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }
}

impl AnyTx for TenantTx {
    fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

impl AnyTx for GlobalTx {
    fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }
}

impl AnyTx for UserTx {
    fn conn(&self) -> &DatabaseTransaction {
        &self.tx
    }
}
