//! Returns and their lines, tenant-scoped.

use chrono::{DateTime, Utc};
use entity::{return_lines, returns};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::OrderId;
use crate::tenancy::{AnyTx, TenantTx};

pub use return_lines::Model as ReturnLine;
pub use returns::Model as Return;

pub const REQUESTED: &str = "requested";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";
pub const IN_TRANSIT: &str = "in_transit";
pub const RECEIVED: &str = "received";
pub const INSPECTED: &str = "inspected";
pub const RESOLVED: &str = "resolved";
pub const CANCELLED: &str = "cancelled";

pub async fn insert(tx: &TenantTx, r: Return, lines: Vec<ReturnLine>) -> Result<Return, DbErr> {
    let r = returns::ActiveModel::from(r)
        .reset_all()
        .insert(tx.conn())
        .await?;
    return_lines::Entity::insert_many(
        lines
            .into_iter()
            .map(|l| return_lines::ActiveModel::from(l).reset_all()),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(r)
}

pub async fn update(tx: &TenantTx, r: returns::ActiveModel) -> Result<Return, DbErr> {
    r.update(tx.conn()).await
}

pub async fn update_line(tx: &TenantTx, l: return_lines::ActiveModel) -> Result<(), DbErr> {
    l.update(tx.conn()).await?;
    Ok(())
}

pub async fn get(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Return>, DbErr> {
    returns::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn get_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Return>, DbErr> {
    returns::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn lines_of(tx: &TenantTx, ids: &[uuid::Uuid]) -> Result<Vec<ReturnLine>, DbErr> {
    return_lines::Entity::find()
        .filter(return_lines::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(return_lines::Column::ReturnId.is_in(ids.iter().copied()))
        .order_by_asc(return_lines::Column::ReturnId)
        .order_by_asc(return_lines::Column::Position)
        .all(tx.conn())
        .await
}

pub async fn of_orders(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<Return>, DbErr> {
    returns::Entity::find()
        .filter(returns::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(returns::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(returns::Column::CreatedAt)
        .all(tx.conn())
        .await
}

pub async fn by_tracking_number(tx: &TenantTx, number: &str) -> Result<Option<Return>, DbErr> {
    returns::Entity::find()
        .filter(returns::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(returns::Column::TrackingNumber.eq(number))
        .one(tx.conn())
        .await
}

/// Returns on the orders of `orders` (a customer's) since `since`.
pub async fn count_since(
    tx: &TenantTx,
    orders: &[uuid::Uuid],
    since: DateTime<Utc>,
) -> Result<u64, DbErr> {
    if orders.is_empty() {
        return Ok(0);
    }
    returns::Entity::find()
        .filter(returns::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(returns::Column::OrderId.is_in(orders.iter().copied()))
        .filter(returns::Column::CreatedAt.gte(since))
        .filter(returns::Column::Status.ne(CANCELLED))
        .count(tx.conn())
        .await
}

/// Newest first, optionally in one status, after the cursor (ids are time-ordered).
pub async fn list(
    tx: &TenantTx,
    status: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Return>, DbErr> {
    let mut q = returns::Entity::find().filter(returns::Column::TenantId.eq(tx.tenant().uuid()));
    if let Some(s) = status {
        q = q.filter(returns::Column::Status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(returns::Column::Id.lt(a));
    }
    q.order_by_desc(returns::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}
