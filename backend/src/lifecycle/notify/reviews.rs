//! Shoppers' ratings of their orders (from the review request), for the satisfaction KPI.

use chrono::Utc;
use entity::order_reviews;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::tenancy::{AnyTx, TenantTx};

pub use order_reviews::Model as Review;

/// Records a rating; a second one for the order replaces the first.
pub async fn record(
    tx: &TenantTx,
    order: uuid::Uuid,
    rating: i32,
    comment: Option<String>,
) -> Result<(), DbErr> {
    let now = Utc::now();
    // A rating changed later counts on the day of the first one: a settled day is computed
    // again.
    if let Some(earlier) = order_reviews::Entity::find_by_id((tx.tenant().uuid(), order))
        .one(tx.conn())
        .await?
    {
        crate::lifecycle::events::restated(tx, earlier.created_at).await?;
    }
    order_reviews::Entity::insert(order_reviews::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        order_id: Set(order),
        rating: Set(rating),
        comment: Set(comment),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            order_reviews::Column::TenantId,
            order_reviews::Column::OrderId,
        ])
        .update_columns([
            order_reviews::Column::Rating,
            order_reviews::Column::Comment,
            order_reviews::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

pub async fn of_orders(tx: &TenantTx, orders: &[uuid::Uuid]) -> Result<Vec<Review>, DbErr> {
    order_reviews::Entity::find()
        .filter(order_reviews::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_reviews::Column::OrderId.is_in(orders.iter().copied()))
        .all(tx.conn())
        .await
}
