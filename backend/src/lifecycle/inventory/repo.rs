//! Stock levels and the movement ledger. A movement and the level it produces are written in
//! the caller's transaction; the level changes by a conditional relative UPDATE, so two
//! concurrent reservations can never both take the last unit.

use chrono::{DateTime, Utc};
use entity::{inventory_movements, stock_levels};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::decide::{Delta, Level, MovementKind};
use crate::domain::{MovementId, VariantId, WarehouseId};
use crate::tenancy::{Actor, AnyTx, TenantTx};

#[derive(Clone, Debug)]
pub struct StockLevel {
    pub variant: VariantId,
    pub warehouse: WarehouseId,
    pub level: Level,
    pub bin_location: Option<String>,
    pub updated_at: DateTime<Utc>,
}

fn level_from_row(row: stock_levels::Model) -> StockLevel {
    StockLevel {
        variant: VariantId(row.variant_id),
        warehouse: WarehouseId(row.warehouse_id),
        level: Level {
            on_hand: row.on_hand,
            reserved: row.reserved,
        },
        bin_location: row.bin_location,
        updated_at: row.updated_at,
    }
}

pub use inventory_movements::Model as Movement;

pub async fn level(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
) -> Result<Option<StockLevel>, DbErr> {
    Ok(
        stock_levels::Entity::find_by_id((tx.tenant().uuid(), variant.uuid(), warehouse.uuid()))
            .one(tx.conn())
            .await?
            .map(level_from_row),
    )
}

/// A level, locked for the rest of the transaction (PostgreSQL; SQLite has one writer), for
/// changes computed from it, such as setting a counted quantity.
pub async fn level_for_update(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
) -> Result<Option<StockLevel>, DbErr> {
    Ok(
        stock_levels::Entity::find_by_id((tx.tenant().uuid(), variant.uuid(), warehouse.uuid()))
            .lock_exclusive()
            .one(tx.conn())
            .await?
            .map(level_from_row),
    )
}

/// Every warehouse's level of each of `variants`.
pub async fn levels_of(tx: &TenantTx, variants: &[VariantId]) -> Result<Vec<StockLevel>, DbErr> {
    Ok(stock_levels::Entity::find()
        .filter(stock_levels::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(stock_levels::Column::VariantId.is_in(variants.iter().map(|v| v.uuid())))
        .order_by_asc(stock_levels::Column::WarehouseId)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(level_from_row)
        .collect())
}

/// Levels with at most `threshold` units available, fewest first.
pub async fn low(tx: &TenantTx, threshold: i64, limit: u64) -> Result<Vec<StockLevel>, DbErr> {
    use stock_levels::Column as C;
    let available = Expr::col(C::OnHand).sub(Expr::col(C::Reserved));
    Ok(stock_levels::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(available.clone().lte(threshold))
        .order_by_asc(available)
        .order_by_asc(C::VariantId)
        .limit(limit)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(level_from_row)
        .collect())
}

/// Makes sure a level row exists (at zero) so that relative updates have a row to change.
async fn ensure_row(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
) -> Result<(), DbErr> {
    let row = stock_levels::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        variant_id: Set(variant.uuid()),
        warehouse_id: Set(warehouse.uuid()),
        on_hand: Set(0),
        reserved: Set(0),
        bin_location: Set(None),
        updated_at: Set(Utc::now()),
    };
    stock_levels::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                stock_levels::Column::TenantId,
                stock_levels::Column::VariantId,
                stock_levels::Column::WarehouseId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

/// Applies `delta` only if the result keeps 0 ≤ reserved ≤ on hand; returns the new level,
/// or None when the condition failed (the caller explains why from the current level).
pub async fn try_apply(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
    delta: Delta,
) -> Result<Option<Level>, DbErr> {
    use stock_levels::Column as C;
    ensure_row(tx, variant, warehouse).await?;
    let on_hand = Expr::col(C::OnHand).add(delta.on_hand);
    let reserved = Expr::col(C::Reserved).add(delta.reserved);
    let rows = stock_levels::Entity::update_many()
        .col_expr(C::OnHand, on_hand.clone())
        .col_expr(C::Reserved, reserved.clone())
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::VariantId.eq(variant.uuid()))
        .filter(C::WarehouseId.eq(warehouse.uuid()))
        .filter(reserved.clone().gte(0))
        .filter(reserved.lte(on_hand))
        .exec_with_returning(tx.conn())
        .await?;
    Ok(rows.into_iter().next().map(|r| Level {
        on_hand: r.on_hand,
        reserved: r.reserved,
    }))
}

pub struct NewMovement<'a> {
    pub variant: VariantId,
    pub warehouse: WarehouseId,
    pub kind: MovementKind,
    pub delta: Delta,
    pub after: Level,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub actor: Actor,
}

pub async fn record(tx: &TenantTx, m: NewMovement<'_>) -> Result<Movement, DbErr> {
    let row = inventory_movements::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(MovementId::new().uuid()),
        variant_id: Set(m.variant.uuid()),
        warehouse_id: Set(m.warehouse.uuid()),
        kind: Set(m.kind.as_str().to_owned()),
        on_hand_delta: Set(m.delta.on_hand),
        reserved_delta: Set(m.delta.reserved),
        on_hand_after: Set(m.after.on_hand),
        reserved_after: Set(m.after.reserved),
        reason: Set(m.reason.map(str::to_owned)),
        reference: Set(m.reference.map(str::to_owned)),
        actor_kind: Set(m.actor.kind().to_owned()),
        actor_id: Set(m.actor.id()),
        at: Set(Utc::now()),
    };
    let movement = inventory_movements::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await?;
    // Every stock change is a new figure for the channels that list the SKU.
    crate::catalog::listing_marks::mark(tx, m.variant).await?;
    Ok(movement)
}

pub async fn set_bin(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
    bin: Option<String>,
) -> Result<(), DbErr> {
    ensure_row(tx, variant, warehouse).await?;
    stock_levels::Entity::update_many()
        .col_expr(stock_levels::Column::BinLocation, Expr::value(bin))
        .col_expr(stock_levels::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(stock_levels::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(stock_levels::Column::VariantId.eq(variant.uuid()))
        .filter(stock_levels::Column::WarehouseId.eq(warehouse.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// The ledger of one variant, newest first.
pub async fn movements(
    tx: &TenantTx,
    variant: VariantId,
    before: Option<MovementId>,
    limit: u64,
) -> Result<Vec<Movement>, DbErr> {
    let mut query = inventory_movements::Entity::find()
        .filter(inventory_movements::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(inventory_movements::Column::VariantId.eq(variant.uuid()))
        .order_by_desc(inventory_movements::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(inventory_movements::Column::Id.lt(before.uuid()));
    }
    query.all(tx.conn()).await
}

/// Sum of the ledger's on-hand and reserved deltas for one level: equals the level itself.
pub async fn ledger_totals(
    tx: &TenantTx,
    variant: VariantId,
    warehouse: WarehouseId,
) -> Result<Level, DbErr> {
    let rows = inventory_movements::Entity::find()
        .filter(inventory_movements::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(inventory_movements::Column::VariantId.eq(variant.uuid()))
        .filter(inventory_movements::Column::WarehouseId.eq(warehouse.uuid()))
        .all(tx.conn())
        .await?;
    Ok(rows.iter().fold(Level::default(), |acc, m| Level {
        on_hand: acc.on_hand + m.on_hand_delta,
        reserved: acc.reserved + m.reserved_delta,
    }))
}
