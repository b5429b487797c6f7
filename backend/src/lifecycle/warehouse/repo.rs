//! Waves and their pick tasks, scoped to the tenant.

use chrono::Utc;
use entity::{pick_tasks, shipments, waves};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::lifecycle::shipping::repo::{PLANNED, Shipment};
use crate::tenancy::{AnyTx, TenantTx};

pub use pick_tasks::Model as PickTask;
pub use waves::Model as Wave;

pub const OPEN: &str = "open";
pub const DONE: &str = "done";

/// Parcels of a warehouse waiting for a wave, oldest first.
pub async fn planned_at(
    tx: &TenantTx,
    warehouse: uuid::Uuid,
    limit: u64,
) -> Result<Vec<Shipment>, DbErr> {
    shipments::Entity::find()
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::WarehouseId.eq(warehouse))
        .filter(shipments::Column::Status.eq(PLANNED))
        .order_by_asc(shipments::Column::CreatedAt)
        .limit(limit)
        .all(tx.conn())
        .await
}

pub async fn insert_wave(tx: &TenantTx, warehouse: uuid::Uuid, count: i32) -> Result<Wave, DbErr> {
    waves::Entity::insert(waves::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(uuid::Uuid::now_v7()),
        warehouse_id: Set(warehouse),
        status: Set(OPEN.into()),
        shipment_count: Set(count),
        created_at: Set(Utc::now()),
        completed_at: Set(None),
    })
    .exec_with_returning(tx.conn())
    .await
}

pub async fn insert_tasks(tx: &TenantTx, rows: Vec<pick_tasks::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    pick_tasks::Entity::insert_many(rows)
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

pub async fn wave(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Wave>, DbErr> {
    waves::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// Waves, newest first, of one warehouse or all.
pub async fn waves(
    tx: &TenantTx,
    warehouse: Option<uuid::Uuid>,
    only_open: bool,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Wave>, DbErr> {
    let mut q = waves::Entity::find()
        .filter(waves::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(waves::Column::Id)
        .limit(limit);
    if let Some(w) = warehouse {
        q = q.filter(waves::Column::WarehouseId.eq(w));
    }
    if only_open {
        q = q.filter(waves::Column::Status.eq(OPEN));
    }
    if let Some(b) = before {
        q = q.filter(waves::Column::Id.lt(b));
    }
    q.all(tx.conn()).await
}

/// The walk of a wave, in order.
pub async fn tasks_of(tx: &TenantTx, wave: uuid::Uuid) -> Result<Vec<PickTask>, DbErr> {
    pick_tasks::Entity::find()
        .filter(pick_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(pick_tasks::Column::WaveId.eq(wave))
        .order_by_asc(pick_tasks::Column::Sequence)
        .all(tx.conn())
        .await
}

pub async fn tasks_of_shipment(
    tx: &TenantTx,
    shipment: uuid::Uuid,
) -> Result<Vec<PickTask>, DbErr> {
    pick_tasks::Entity::find()
        .filter(pick_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(pick_tasks::Column::ShipmentId.eq(shipment))
        .order_by_asc(pick_tasks::Column::Sequence)
        .all(tx.conn())
        .await
}

/// Marks tasks picked in full.
pub async fn mark_picked(tx: &TenantTx, ids: &[uuid::Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    pick_tasks::Entity::update_many()
        .col_expr(
            pick_tasks::Column::Picked,
            Expr::col(pick_tasks::Column::Quantity),
        )
        .filter(pick_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(pick_tasks::Column::Id.is_in(ids.iter().copied()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn close_wave(tx: &TenantTx, wave: uuid::Uuid) -> Result<(), DbErr> {
    waves::Entity::update_many()
        .col_expr(waves::Column::Status, Expr::value(DONE))
        .col_expr(waves::Column::CompletedAt, Expr::value(Utc::now()))
        .filter(waves::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(waves::Column::Id.eq(wave))
        .exec(tx.conn())
        .await?;
    Ok(())
}
