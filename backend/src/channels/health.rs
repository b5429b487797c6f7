//! Whether a channel connection works: each push, catalog read and poll that fails counts
//! one more failure in a row (its words shown as the connection's last error), one that works
//! clears the count. At three in a row the channel is unhealthy (the dashboard says so) and
//! staff get a task to look at it, once while it stays open.

use entity::channel_connections;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::tenancy::{AnyTx, TenantTx};

/// Failures in a row that make a connection unhealthy.
pub const UNHEALTHY_AFTER: i32 = 3;

pub fn healthy(failures: i32) -> bool {
    failures < UNHEALTHY_AFTER
}

/// Something the connection was asked to do failed, for `why`.
pub async fn failed(tx: &TenantTx, connection: uuid::Uuid, why: &str) -> Result<(), DbErr> {
    use channel_connections::Column as C;
    let rows = channel_connections::Entity::update_many()
        .col_expr(C::LastError, Expr::value(Some(why.to_owned())))
        .col_expr(C::Failures, Expr::col(C::Failures).add(1))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(connection))
        .exec_with_returning(tx.conn())
        .await?;
    for c in rows {
        if c.failures == UNHEALTHY_AFTER {
            let title = format!(
                "{} keeps failing ({} times in a row): {why}",
                c.name, c.failures
            );
            crate::automation::tasks::ask_staff_about(tx, &title).await?;
        }
    }
    Ok(())
}

/// Something the connection was asked to do worked: it is healthy again.
pub async fn worked(tx: &TenantTx, connection: uuid::Uuid) -> Result<(), DbErr> {
    use channel_connections::Column as C;
    channel_connections::Entity::update_many()
        .col_expr(C::Failures, Expr::value(0))
        .col_expr(C::LastError, Expr::value(Option::<String>::None))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(connection))
        .filter(C::Failures.gt(0).or(C::LastError.is_not_null()))
        .exec(tx.conn())
        .await?;
    Ok(())
}
