//! Stock over GraphQL: levels, the movement ledger, receiving and adjusting.

use std::sync::Arc;

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::decide::MovementKind;
use super::loaders::LevelsOf;
use super::repo::{self, Movement, StockLevel as LevelRecord};
use super::service::{self, StockChange};
use crate::catalog::graphql::types::{VariantFields, Warehouse};
use crate::catalog::product_repo;
use crate::domain::{MovementId, Sku, TenantId, VariantId, WarehouseId};
use crate::error::{AppError, UserError};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::tenancy::{Permission, TenantTx};

/// Units of one variant at one warehouse.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct StockLevel {
    pub sku: String,
    pub variant_id: ID,
    pub on_hand: i64,
    /// Promised to orders, not yet shipped.
    pub reserved: i64,
    /// On hand − reserved: what can still be promised.
    pub available: i64,
    /// Where it sits in the warehouse, e.g. "A-03-2"; orders pick lists.
    pub bin_location: Option<String>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub warehouse_key: (TenantId, WarehouseId),
}

impl StockLevel {
    pub fn new(tenant: TenantId, sku: &str, l: LevelRecord) -> Self {
        Self {
            sku: sku.to_owned(),
            variant_id: global_id("Variant", l.variant.uuid()),
            on_hand: l.level.on_hand,
            reserved: l.level.reserved,
            available: l.level.available(),
            bin_location: l.bin_location,
            updated_at: l.updated_at,
            warehouse_key: (tenant, l.warehouse),
        }
    }
}

#[ComplexObject]
impl StockLevel {
    async fn warehouse(&self, ctx: &Context<'_>) -> async_graphql::Result<Warehouse> {
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one(self.warehouse_key)
            .await?;
        Ok(row.ok_or(AppError::NotFound("warehouse"))?.into())
    }
}

/// One line of the stock ledger: why a level changed, by how much, and what it became.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct InventoryMovement {
    pub id: ID,
    pub sku: String,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    /// Who moved it: `system`, `user:<id>` or `api_key:<id>`.
    pub actor: String,
    pub at: DateTime<Utc>,
    #[graphql(skip)]
    pub warehouse_key: (TenantId, WarehouseId),
}

impl InventoryMovement {
    pub fn new(sku: &str, m: Movement) -> Self {
        Self {
            id: global_id("InventoryMovement", m.id),
            sku: sku.to_owned(),
            kind: MovementKind::parse(&m.kind).unwrap_or(MovementKind::Adjustment),
            on_hand_delta: m.on_hand_delta,
            reserved_delta: m.reserved_delta,
            on_hand_after: m.on_hand_after,
            reserved_after: m.reserved_after,
            reason: m.reason,
            reference: m.reference,
            actor: match m.actor_id {
                Some(id) => format!("{}:{id}", m.actor_kind),
                None => m.actor_kind,
            },
            at: m.at,
            warehouse_key: (TenantId(m.tenant_id), WarehouseId(m.warehouse_id)),
        }
    }
}

#[ComplexObject]
impl InventoryMovement {
    async fn warehouse(&self, ctx: &Context<'_>) -> async_graphql::Result<Warehouse> {
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one(self.warehouse_key)
            .await?;
        Ok(row.ok_or(AppError::NotFound("warehouse"))?.into())
    }
}

async fn variant_of(tx: &TenantTx, sku: &str) -> Result<Option<product_repo::Variant>, AppError> {
    let sku = Sku::parse(sku).map_err(|m| AppError::bad_input("sku", m))?;
    Ok(product_repo::variant_by_sku(tx, &sku).await?)
}

#[derive(Default)]
pub struct InventoryQuery;

#[Object]
impl InventoryQuery {
    /// Stock of a SKU in every warehouse that has held it. Empty for an unknown SKU.
    #[graphql(guard = "Perm(Permission::InventoryRead)")]
    async fn stock_levels(
        &self,
        ctx: &Context<'_>,
        sku: String,
    ) -> async_graphql::Result<Vec<StockLevel>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let Some(variant) = variant_of(&tx, &sku).await? else {
            return Ok(Vec::new());
        };
        let levels = repo::levels_of(&tx, &[VariantId(variant.id)]).await?;
        tx.commit().await?;
        Ok(levels
            .into_iter()
            .map(|l| StockLevel::new(p.tenant, &variant.sku, l))
            .collect())
    }

    /// Levels with at most `threshold` units available, fewest first.
    #[graphql(
        guard = "Perm(Permission::InventoryRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn low_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] threshold: i64,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<StockLevel>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let levels = repo::low(&tx, threshold, limit).await?;
        let ids: Vec<VariantId> = levels.iter().map(|l| l.variant).collect();
        let variants = product_repo::variants_by_id(&tx, &ids).await?;
        tx.commit().await?;
        Ok(levels
            .into_iter()
            .map(|l| {
                let sku = variants
                    .iter()
                    .find(|v| v.id == l.variant.uuid())
                    .map(|v| v.sku.clone())
                    .unwrap_or_default();
                StockLevel::new(p.tenant, &sku, l)
            })
            .collect())
    }

    /// The ledger of a SKU, newest first: every change to its stock and why.
    #[graphql(
        guard = "Perm(Permission::InventoryRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn inventory_movements(
        &self,
        ctx: &Context<'_>,
        sku: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, InventoryMovement>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let Some(variant) = variant_of(&tx, &sku).await? else {
            return Ok(connection(Vec::new(), limit, after.is_some()));
        };
        let rows =
            repo::movements(&tx, VariantId(variant.id), after.map(MovementId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|m| (m.id, InventoryMovement::new(&variant.sku, m)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }
}

#[derive(InputObject)]
pub struct AdjustStockInput {
    pub sku: String,
    pub warehouse_id: ID,
    /// Units to add (positive) or remove (negative) from on hand.
    pub delta: i64,
    /// Why: a count, damage, loss… Required.
    pub reason: Option<String>,
    pub reference: Option<String>,
}

#[derive(InputObject)]
pub struct ReceiveStockInput {
    pub sku: String,
    pub warehouse_id: ID,
    pub quantity: i64,
    /// E.g. the purchase order number.
    pub reference: Option<String>,
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct SetBinLocationInput {
    pub sku: String,
    pub warehouse_id: ID,
    /// Null or empty clears it.
    pub bin_location: Option<String>,
}

#[derive(SimpleObject)]
pub struct StockPayload {
    pub stock_level: Option<StockLevel>,
    /// The ledger line this change wrote.
    pub movement: Option<InventoryMovement>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct InventoryMutation;

impl InventoryMutation {
    async fn change(
        ctx: &Context<'_>,
        kind: MovementKind,
        warehouse: &ID,
        change: impl FnOnce(WarehouseId) -> StockChange,
    ) -> async_graphql::Result<StockPayload> {
        let p = principal(ctx)?;
        let warehouse = WarehouseId(decode_id(warehouse, "Warehouse", "warehouseId")?);
        let outcome = service::change_stock(state(ctx), p, kind, change(warehouse)).await;
        let (value, user_errors) = payload(outcome)?;
        let (stock_level, movement) = match value {
            Some((level, sku, movement)) => (
                Some(StockLevel::new(p.tenant, &sku, level)),
                Some(InventoryMovement::new(&sku, movement)),
            ),
            None => (None, None),
        };
        Ok(StockPayload {
            stock_level,
            movement,
            user_errors,
        })
    }
}

#[Object]
impl InventoryMutation {
    /// Corrects on-hand stock after a count, damage or loss. Never below what is reserved.
    #[graphql(guard = "Perm(Permission::InventoryManage)")]
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        input: AdjustStockInput,
    ) -> async_graphql::Result<StockPayload> {
        let AdjustStockInput {
            sku,
            warehouse_id,
            delta,
            reason,
            reference,
        } = input;
        Self::change(ctx, MovementKind::Adjustment, &warehouse_id, |warehouse| {
            StockChange {
                sku,
                warehouse,
                quantity: delta,
                reason,
                reference,
            }
        })
        .await
    }

    /// Books units that arrived.
    #[graphql(guard = "Perm(Permission::InventoryManage)")]
    async fn receive_stock(
        &self,
        ctx: &Context<'_>,
        input: ReceiveStockInput,
    ) -> async_graphql::Result<StockPayload> {
        let ReceiveStockInput {
            sku,
            warehouse_id,
            quantity,
            reference,
            reason,
        } = input;
        Self::change(ctx, MovementKind::Receipt, &warehouse_id, |warehouse| {
            StockChange {
                sku,
                warehouse,
                quantity,
                reason,
                reference,
            }
        })
        .await
    }

    #[graphql(guard = "Perm(Permission::InventoryManage)")]
    async fn set_bin_location(
        &self,
        ctx: &Context<'_>,
        input: SetBinLocationInput,
    ) -> async_graphql::Result<StockPayload> {
        let p = principal(ctx)?;
        let warehouse = WarehouseId(decode_id(&input.warehouse_id, "Warehouse", "warehouseId")?);
        let outcome =
            service::set_bin_location(state(ctx), p, &input.sku, warehouse, input.bin_location)
                .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(StockPayload {
            stock_level: value.map(|(level, sku)| StockLevel::new(p.tenant, &sku, level)),
            movement: None,
            user_errors,
        })
    }
}

/// Inventory's fields on a variant: its stock. A part of `Variant` (listed in
/// `schema::parts`).
pub struct VariantStockPart(Arc<VariantFields>);

impl From<Arc<VariantFields>> for VariantStockPart {
    fn from(variant: Arc<VariantFields>) -> Self {
        Self(variant)
    }
}

#[Object]
impl VariantStockPart {
    /// Stock in each warehouse that has held this variant.
    async fn stock_levels(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StockLevel>> {
        let (tenant, variant) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, LevelsOf(variant)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|l| StockLevel::new(tenant, &self.0.sku, l))
            .collect())
    }

    /// Units available to promise, over all warehouses.
    async fn available(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let (tenant, variant) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, LevelsOf(variant)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .iter()
            .map(|l| l.level.available())
            .sum())
    }
}
