//! Subscriptions, deliveries and attempts, tenant-scoped.

use chrono::Utc;
use entity::{webhook_attempts, webhook_deliveries, webhook_subscriptions};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::tenancy::{AnyTx, TenantTx};

pub use webhook_attempts::Model as Attempt;
pub use webhook_deliveries::Model as Delivery;
pub use webhook_subscriptions::Model as Subscription;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

pub async fn active(tx: &TenantTx) -> Result<Vec<Subscription>, DbErr> {
    webhook_subscriptions::Entity::find()
        .filter(webhook_subscriptions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(webhook_subscriptions::Column::Active.eq(true))
        .all(tx.conn())
        .await
}

pub async fn subscriptions(tx: &TenantTx) -> Result<Vec<Subscription>, DbErr> {
    webhook_subscriptions::Entity::find()
        .filter(webhook_subscriptions::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(webhook_subscriptions::Column::CreatedAt)
        .all(tx.conn())
        .await
}

pub async fn subscription(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Subscription>, DbErr> {
    webhook_subscriptions::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn insert_subscription(tx: &TenantTx, s: Subscription) -> Result<Subscription, DbErr> {
    webhook_subscriptions::ActiveModel::from(s)
        .reset_all()
        .insert(tx.conn())
        .await
}

pub async fn update_subscription(
    tx: &TenantTx,
    s: webhook_subscriptions::ActiveModel,
) -> Result<Subscription, DbErr> {
    s.update(tx.conn()).await
}

pub async fn delete_subscription(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    // Its deliveries and attempts go with it (foreign keys cascade).
    let done = webhook_subscriptions::Entity::delete_many()
        .filter(webhook_subscriptions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(webhook_subscriptions::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected > 0)
}

/// Inserts deliveries; one that exists for the same (subscription, event) is left alone.
/// Returns the ids inserted.
pub async fn insert_deliveries(
    tx: &TenantTx,
    rows: Vec<Delivery>,
) -> Result<Vec<uuid::Uuid>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // In chunks: an engine batch with many events stays under the parameter limits.
    let mut stored = Vec::new();
    for chunk in rows.chunks(1000) {
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.id).collect();
        webhook_deliveries::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(|d| webhook_deliveries::ActiveModel::from(d).reset_all()),
        )
        .on_conflict(
            OnConflict::columns([
                webhook_deliveries::Column::TenantId,
                webhook_deliveries::Column::SubscriptionId,
                webhook_deliveries::Column::EventId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
        let found: Vec<uuid::Uuid> = webhook_deliveries::Entity::find()
            .select_only()
            .column(webhook_deliveries::Column::Id)
            .filter(webhook_deliveries::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(webhook_deliveries::Column::Id.is_in(ids))
            .into_tuple()
            .all(tx.conn())
            .await?;
        stored.extend(found);
    }
    Ok(stored)
}

pub async fn delivery(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Delivery>, DbErr> {
    webhook_deliveries::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn delivery_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Delivery>, DbErr> {
    webhook_deliveries::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn update_delivery(
    tx: &TenantTx,
    d: webhook_deliveries::ActiveModel,
) -> Result<Delivery, DbErr> {
    d.update(tx.conn()).await
}

/// Newest first, after the cursor; of one subscription and in one status when given.
pub async fn deliveries(
    tx: &TenantTx,
    subscription: Option<uuid::Uuid>,
    status: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Delivery>, DbErr> {
    use webhook_deliveries::Column as C;
    let mut q = webhook_deliveries::Entity::find().filter(C::TenantId.eq(tx.tenant().uuid()));
    if let Some(s) = subscription {
        q = q.filter(C::SubscriptionId.eq(s));
    }
    if let Some(s) = status {
        q = q.filter(C::Status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(C::Id.lt(a));
    }
    q.order_by_desc(C::Id).limit(limit).all(tx.conn()).await
}

pub async fn insert_attempt(tx: &TenantTx, a: Attempt) -> Result<(), DbErr> {
    webhook_attempts::ActiveModel::from(a)
        .reset_all()
        .insert(tx.conn())
        .await?;
    Ok(())
}

pub async fn attempts_of(tx: &TenantTx, deliveries: &[uuid::Uuid]) -> Result<Vec<Attempt>, DbErr> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    webhook_attempts::Entity::find()
        .filter(webhook_attempts::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(webhook_attempts::Column::DeliveryId.is_in(deliveries.iter().copied()))
        .order_by_asc(webhook_attempts::Column::DeliveryId)
        .order_by_asc(webhook_attempts::Column::Attempt)
        .all(tx.conn())
        .await
}

/// Marks a delivery due again (a redelivery).
pub async fn reopen(tx: &TenantTx, d: &Delivery) -> Result<Delivery, DbErr> {
    update_delivery(
        tx,
        webhook_deliveries::ActiveModel {
            tenant_id: Set(d.tenant_id),
            id: Set(d.id),
            status: Set(PENDING.into()),
            updated_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await
}
