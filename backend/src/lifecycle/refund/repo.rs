//! Refund rows, tenant-scoped.

use entity::refunds;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::OrderId;
use crate::tenancy::{AnyTx, TenantTx};

pub use refunds::Model as Refund;

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

pub async fn by_key(tx: &TenantTx, key: &str) -> Result<Option<Refund>, DbErr> {
    refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refunds::Column::IdempotencyKey.eq(key))
        .one(tx.conn())
        .await
}

pub async fn get(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Refund>, DbErr> {
    refunds::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// The refunds of `orders`, oldest first.
pub async fn of_orders(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<Refund>, DbErr> {
    refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refunds::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(refunds::Column::CreatedAt)
        .order_by_asc(refunds::Column::Id)
        .all(tx.conn())
        .await
}

pub async fn insert(tx: &TenantTx, row: Refund) -> Result<Refund, DbErr> {
    refunds::ActiveModel::from(row)
        .reset_all()
        .insert(tx.conn())
        .await
}

pub async fn finish(
    tx: &TenantTx,
    id: uuid::Uuid,
    status: &str,
    provider_ref: Option<String>,
    error: Option<String>,
) -> Result<Refund, DbErr> {
    refunds::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id),
        status: Set(status.to_owned()),
        provider_ref: Set(provider_ref),
        error: Set(error),
        completed_at: Set(Some(chrono::Utc::now())),
        ..Default::default()
    }
    .update(tx.conn())
    .await
}
