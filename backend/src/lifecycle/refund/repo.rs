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

/// A failed refund asked for again: pending once more, by `provider`, as a new attempt.
pub async fn retry(tx: &TenantTx, failed: &Refund, provider: &str) -> Result<Refund, DbErr> {
    refunds::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(failed.id),
        status: Set(PENDING.to_owned()),
        provider: Set(provider.to_owned()),
        provider_ref: Set(None),
        error: Set(None),
        completed_at: Set(None),
        attempt: Set(failed.attempt + 1),
        ..Default::default()
    }
    .update(tx.conn())
    .await
}

/// Keeps the provider's id of a refund still under way.
pub async fn set_reference(tx: &TenantTx, id: uuid::Uuid, reference: &str) -> Result<(), DbErr> {
    refunds::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id),
        provider_ref: Set(Some(reference.to_owned())),
        ..Default::default()
    }
    .update(tx.conn())
    .await?;
    Ok(())
}

/// The refund a provider knows by `reference`.
pub async fn by_reference(
    tx: &TenantTx,
    provider: &str,
    reference: &str,
) -> Result<Option<Refund>, DbErr> {
    refunds::Entity::find()
        .filter(refunds::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refunds::Column::Provider.eq(provider))
        .filter(refunds::Column::ProviderRef.eq(reference))
        .one(tx.conn())
        .await
}

/// The key sent to the provider: the intent's, and for a retried failure a new one.
pub fn provider_key(r: &Refund) -> String {
    if r.attempt == 0 {
        r.idempotency_key.clone()
    } else {
        format!("{}/retry-{}", r.idempotency_key, r.attempt)
    }
}

/// Why a refund under way is not ended yet (the provider is unreachable…), for the order page.
pub async fn note_error(tx: &TenantTx, id: uuid::Uuid, error: &str) -> Result<(), DbErr> {
    refunds::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id),
        error: Set(Some(error.to_owned())),
        ..Default::default()
    }
    .update(tx.conn())
    .await?;
    Ok(())
}
