//! Allocations, and the stock facts allocation plans with: levels locked in key order (so
//! concurrent batches never deadlock), warehouses in preference order, supplier lead times.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{allocations, stock_levels, supplier_items, suppliers, warehouses};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{AllocationId, OrderId, SupplierId, VariantId, WarehouseId};
use crate::tenancy::{AnyTx, TenantTx};

pub use allocations::Model as Allocation;

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum AllocationStatus {
    /// Units set aside at a warehouse.
    Reserved,
    /// Waiting for stock.
    Backordered,
    /// Given back (cancellation, rejection, an unpaid reservation that lapsed).
    Released,
    /// Left the warehouse.
    Shipped,
}

impl AllocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Backordered => "backordered",
            Self::Released => "released",
            Self::Shipped => "shipped",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "reserved" => Self::Reserved,
            "backordered" => Self::Backordered,
            "shipped" => Self::Shipped,
            _ => Self::Released,
        }
    }
}

pub struct NewAllocation {
    pub order: OrderId,
    pub line: i32,
    pub variant: VariantId,
    pub sku: Option<String>,
    pub warehouse: Option<WarehouseId>,
    pub quantity: i64,
    pub status: AllocationStatus,
    pub supplier: Option<SupplierId>,
    pub eta: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert_many(tx: &TenantTx, rows: Vec<NewAllocation>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let models = rows.into_iter().map(|r| allocations::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(AllocationId::new().uuid()),
        order_id: Set(r.order.uuid()),
        line_position: Set(r.line),
        variant_id: Set(Some(r.variant.uuid())),
        sku: Set(r.sku),
        warehouse_id: Set(r.warehouse.map(|w| w.uuid())),
        quantity: Set(r.quantity),
        status: Set(r.status.as_str().to_owned()),
        supplier_id: Set(r.supplier.map(|s| s.uuid())),
        eta: Set(r.eta),
        expires_at: Set(r.expires_at),
        created_at: Set(now),
        updated_at: Set(now),
    });
    allocations::Entity::insert_many(models)
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

/// The allocations of several orders, in line order.
pub async fn of_orders(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<Allocation>, DbErr> {
    allocations::Entity::find()
        .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(allocations::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(allocations::Column::LinePosition)
        .order_by_asc(allocations::Column::Id)
        .all(tx.conn())
        .await
}

pub async fn set_status(
    tx: &TenantTx,
    ids: &[uuid::Uuid],
    status: AllocationStatus,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    allocations::Entity::update_many()
        .col_expr(allocations::Column::Status, Expr::value(status.as_str()))
        .col_expr(allocations::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(allocations::Column::Id.is_in(ids.iter().copied()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// The order is paid: its reservations no longer lapse.
pub async fn clear_expiry(tx: &TenantTx, order: OrderId) -> Result<(), DbErr> {
    allocations::Entity::update_many()
        .col_expr(
            allocations::Column::ExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(allocations::Column::OrderId.eq(order.uuid()))
        .filter(allocations::Column::ExpiresAt.is_not_null())
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Levels of `variants` at active warehouses, locked for the rest of the transaction in
/// (variant, warehouse) order, keyed by variant with warehouses oldest first.
pub async fn levels_locked(
    tx: &TenantTx,
    variants: &[VariantId],
) -> Result<HashMap<VariantId, Vec<(WarehouseId, i64)>>, DbErr> {
    let mut out: HashMap<VariantId, Vec<(WarehouseId, i64)>> = HashMap::new();
    if variants.is_empty() {
        return Ok(out);
    }
    let active: Vec<uuid::Uuid> = warehouses::Entity::find()
        .select_only()
        .column(warehouses::Column::Id)
        .filter(warehouses::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(warehouses::Column::Active.eq(true))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let rows = stock_levels::Entity::find()
        .filter(stock_levels::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(stock_levels::Column::VariantId.is_in(variants.iter().map(|v| v.uuid())))
        .order_by_asc(stock_levels::Column::VariantId)
        .order_by_asc(stock_levels::Column::WarehouseId)
        .lock_exclusive()
        .all(tx.conn())
        .await?;
    for r in rows {
        if active.contains(&r.warehouse_id) {
            out.entry(VariantId(r.variant_id))
                .or_default()
                .push((WarehouseId(r.warehouse_id), r.on_hand - r.reserved));
        }
    }
    Ok(out)
}

/// For each variant, the supplier that can deliver soonest and its lead time in days.
pub async fn fastest_suppliers(
    tx: &TenantTx,
    variants: &[VariantId],
) -> Result<HashMap<VariantId, (SupplierId, i32)>, DbErr> {
    let rows = supplier_items::Entity::find()
        .filter(supplier_items::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(supplier_items::Column::VariantId.is_in(variants.iter().map(|v| v.uuid())))
        .all(tx.conn())
        .await?;
    let supplier_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.supplier_id).collect();
    let lead_times: HashMap<uuid::Uuid, i32> = suppliers::Entity::find()
        .filter(suppliers::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(suppliers::Column::Id.is_in(supplier_ids))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|s| (s.id, s.lead_time_days))
        .collect();
    let mut out: HashMap<VariantId, (SupplierId, i32)> = HashMap::new();
    for r in rows {
        if r.available_quantity == Some(0) {
            continue;
        }
        // The item's own lead time overrides its supplier's.
        let Some(days) = r
            .lead_time_days
            .or_else(|| lead_times.get(&r.supplier_id).copied())
        else {
            continue;
        };
        let entry = out
            .entry(VariantId(r.variant_id))
            .or_insert((SupplierId(r.supplier_id), days));
        if days < entry.1 {
            *entry = (SupplierId(r.supplier_id), days);
        }
    }
    Ok(out)
}
