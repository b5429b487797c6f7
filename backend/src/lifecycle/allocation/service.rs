//! Reserving and releasing stock for orders, through the inventory ledger.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::allocations;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::decide::{self, Available, Need, Piece};
use super::repo::{self, Allocation, AllocationStatus, NewAllocation};
use crate::domain::{OrderId, SupplierId, VariantId, WarehouseId};
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service::{Move, MoveError, move_stock};
use crate::order::repo::{Order, OrderLine};
use crate::tenancy::{Actor, AnyTx, TenantTx};

/// What is available to a batch of orders: loaded (and locked) once, drawn down as each
/// order of the batch is planned.
pub struct StockBook {
    available: HashMap<VariantId, Vec<Available>>,
    suppliers: HashMap<VariantId, (SupplierId, i32)>,
}

impl StockBook {
    pub async fn load(tx: &TenantTx, variants: &[VariantId]) -> Result<Self, DbErr> {
        let mut variants = variants.to_vec();
        variants.sort();
        variants.dedup();
        let levels = repo::levels_locked(tx, &variants).await?;
        let available = levels
            .into_iter()
            .map(|(v, list)| {
                let list = list
                    .into_iter()
                    .map(|(warehouse, units)| Available {
                        warehouse,
                        units: units.max(0),
                    })
                    .collect();
                (v, list)
            })
            .collect();
        Ok(Self {
            available,
            suppliers: repo::fastest_suppliers(tx, &variants).await?,
        })
    }

    /// Units free at a warehouse, as the batch has left them (0 for a level not loaded).
    pub fn free_at(&self, v: VariantId, w: WarehouseId) -> i64 {
        self.available
            .get(&v)
            .and_then(|l| l.iter().find(|a| a.warehouse == w))
            .map_or(0, |a| a.units)
    }

    /// Units of `v` free across warehouses, as the batch has left them.
    pub fn free(&self, v: VariantId) -> i64 {
        decide::free(&self.available, v)
    }

    /// The variants of `before` (units free then) that are now below `threshold`.
    pub fn fell_below(&self, before: &[(VariantId, i64)], threshold: i64) -> Vec<(VariantId, i64)> {
        decide::fell_below(before, &self.available, threshold)
    }

    /// Whether the levels of `v` were loaded (and locked) by this book.
    pub fn covers(&self, v: VariantId) -> bool {
        self.available.contains_key(&v)
    }

    /// Records units the batch took (positive) or gave back (negative) at a warehouse.
    pub fn draw(&mut self, v: VariantId, w: WarehouseId, units: i64) {
        let list = self.available.entry(v).or_default();
        match list.iter_mut().find(|a| a.warehouse == w) {
            Some(a) => a.units -= units,
            None => list.push(Available {
                warehouse: w,
                units: -units,
            }),
        }
    }

    fn has_any(&self, v: VariantId) -> bool {
        self.available
            .get(&v)
            .is_some_and(|l| l.iter().any(|a| a.units > 0))
    }
}

/// A part of a line waiting for stock, for the timeline and the shopper's notice.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backorder {
    pub sku: Option<String>,
    pub quantity: i64,
    pub eta: Option<DateTime<Utc>>,
    pub supplier_id: Option<uuid::Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct Allocated {
    /// Units newly reserved by this call.
    pub reserved: i64,
    /// Everything still waiting for stock after this call.
    pub backorders: Vec<Backorder>,
    /// Warehouses the new reservations came from.
    pub warehouses: Vec<WarehouseId>,
}

/// The lines that need stock: physical goods matched to a catalog variant.
pub fn stocked_lines(lines: &[OrderLine]) -> impl Iterator<Item = &OrderLine> {
    lines
        .iter()
        .filter(|l| l.requires_shipping && l.variant_id.is_some() && l.quantity > 0)
}

/// What to allocate for one order.
pub struct Ask<'a> {
    pub order: &'a Order,
    pub lines: &'a [OrderLine],
    /// The order's allocations so far.
    pub existing: &'a [Allocation],
    /// For an unpaid order: when the new reservations lapse.
    pub expires_at: Option<DateTime<Utc>>,
    /// Backorder what cannot be reserved (an unpaid order only holds what is there).
    pub backorder_rest: bool,
}

/// Reserves what each line still lacks and, if asked, backorders the rest. Lines already
/// backordered are re-planned only when some stock of them has appeared.
pub async fn allocate(
    tx: &TenantTx,
    book: &mut StockBook,
    ask: Ask<'_>,
    actor: Actor,
) -> Result<Allocated, DbErr> {
    let Ask {
        order,
        lines,
        existing,
        expires_at,
        backorder_rest,
    } = ask;
    let id = OrderId(order.id);
    let mut needs = Vec::new();
    let mut kept_backorders = Vec::new();
    let mut superseded = Vec::new();
    for line in stocked_lines(lines) {
        let variant = VariantId(line.variant_id.unwrap_or_default());
        let of_line: Vec<&Allocation> = existing
            .iter()
            .filter(|a| a.line_position == line.position)
            .collect();
        let held: i64 = of_line
            .iter()
            .filter(|a| {
                matches!(
                    AllocationStatus::parse(&a.status),
                    AllocationStatus::Reserved | AllocationStatus::Shipped
                )
            })
            .map(|a| a.quantity)
            .sum();
        let backordered: Vec<&&Allocation> = of_line
            .iter()
            .filter(|a| AllocationStatus::parse(&a.status) == AllocationStatus::Backordered)
            .collect();
        let missing = line.quantity - held;
        if missing <= 0 {
            superseded.extend(backordered.iter().map(|a| a.id));
            continue;
        }
        if !backordered.is_empty() && !book.has_any(variant) {
            kept_backorders.extend(backordered.iter().map(|a| Backorder {
                sku: a.sku.clone(),
                quantity: a.quantity,
                eta: a.eta,
                supplier_id: a.supplier_id,
            }));
            continue;
        }
        superseded.extend(backordered.iter().map(|a| a.id));
        needs.push(Need {
            line: line.position,
            variant,
            quantity: missing,
        });
    }
    if !superseded.is_empty() {
        allocations::Entity::delete_many()
            .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(allocations::Column::Id.is_in(superseded))
            .exec(tx.conn())
            .await?;
    }
    let sku_of = |line: i32| {
        lines
            .iter()
            .find(|l| l.position == line)
            .and_then(|l| l.sku.clone())
    };
    let mut out = Allocated {
        backorders: kept_backorders,
        ..Default::default()
    };
    let mut rows = Vec::new();
    let reference = format!("order {}", order.name);
    let pieces = decide::plan(&needs, &mut book.available);
    let mut backorder = |line: i32, variant: VariantId, quantity: i64, rows: &mut Vec<_>| {
        let supplier = book.suppliers.get(&variant).copied();
        let eta = supplier.map(|(_, days)| Utc::now() + Duration::days(days.into()));
        out.backorders.push(Backorder {
            sku: sku_of(line),
            quantity,
            eta,
            supplier_id: supplier.map(|(s, _)| s.uuid()),
        });
        rows.push(NewAllocation {
            order: id,
            line,
            variant,
            sku: sku_of(line),
            warehouse: None,
            quantity,
            status: AllocationStatus::Backordered,
            supplier: supplier.map(|(s, _)| s),
            eta,
            expires_at: None,
        });
    };
    for piece in pieces {
        match piece {
            Piece::Reserve {
                line,
                variant,
                warehouse,
                quantity,
            } => {
                let moved = move_stock(
                    tx,
                    actor,
                    Move {
                        variant,
                        warehouse,
                        kind: MovementKind::Reservation,
                        quantity,
                        reason: None,
                        reference: Some(&reference),
                    },
                )
                .await;
                match moved {
                    Ok(_) => {
                        out.reserved += quantity;
                        if !out.warehouses.contains(&warehouse) {
                            out.warehouses.push(warehouse);
                        }
                        rows.push(NewAllocation {
                            order: id,
                            line,
                            variant,
                            sku: sku_of(line),
                            warehouse: Some(warehouse),
                            quantity,
                            status: AllocationStatus::Reserved,
                            supplier: None,
                            eta: None,
                            expires_at,
                        });
                    }
                    // The levels are locked, so this means a level we did not lock (a row
                    // created since): never oversell, wait for stock instead.
                    Err(MoveError::Rule(_)) if backorder_rest => {
                        backorder(line, variant, quantity, &mut rows)
                    }
                    Err(MoveError::Rule(_)) => {}
                    Err(MoveError::Db(err)) => return Err(err),
                }
            }
            Piece::Backorder {
                line,
                variant,
                quantity,
            } if backorder_rest => backorder(line, variant, quantity, &mut rows),
            Piece::Backorder { .. } => {}
        }
    }
    repo::insert_many(tx, rows).await?;
    Ok(out)
}

/// Units given back by [`release`], per SKU and warehouse.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub sku: Option<String>,
    pub warehouse_id: uuid::Uuid,
    pub quantity: i64,
}

/// Gives back an order's reserved stock and drops its backorders. With `lapsed_by`, only
/// reservations that expired by then (an unpaid order's). The order's open parcels are not
/// touched here: `engine::release_plan` voids them with the plan.
pub async fn release(
    tx: &TenantTx,
    order: &Order,
    actor: Actor,
    lapsed_by: Option<DateTime<Utc>>,
) -> Result<Vec<Released>, DbErr> {
    let rows = repo::of_orders(tx, &[OrderId(order.id)]).await?;
    let reference = format!("order {}", order.name);
    let mut released = Vec::new();
    let mut done = Vec::new();
    for a in rows {
        let status = AllocationStatus::parse(&a.status);
        if let Some(by) = lapsed_by
            && (status != AllocationStatus::Reserved || a.expires_at.is_none_or(|e| e > by))
        {
            continue;
        }
        match status {
            AllocationStatus::Reserved => {
                let (Some(variant), Some(warehouse)) = (a.variant_id, a.warehouse_id) else {
                    continue;
                };
                match move_stock(
                    tx,
                    actor,
                    Move {
                        variant: VariantId(variant),
                        warehouse: WarehouseId(warehouse),
                        kind: MovementKind::Release,
                        quantity: a.quantity,
                        reason: None,
                        reference: Some(&reference),
                    },
                )
                .await
                {
                    Ok(_) => {}
                    Err(MoveError::Db(err)) => return Err(err),
                    Err(MoveError::Rule(rule)) => {
                        // The level holds fewer reserved units than this row claims: the books
                        // disagree, which must be seen rather than papered over.
                        return Err(DbErr::Custom(format!(
                            "releasing {} of {:?} for order {}: {rule}",
                            a.quantity, a.sku, order.name
                        )));
                    }
                }
                released.push(Released {
                    sku: a.sku.clone(),
                    warehouse_id: warehouse,
                    quantity: a.quantity,
                });
                done.push(a.id);
            }
            AllocationStatus::Backordered => done.push(a.id),
            _ => {}
        }
    }
    repo::set_status(tx, &done, AllocationStatus::Released).await?;
    Ok(released)
}
