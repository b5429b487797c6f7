//! GraphQL of the warehouse workflow: waves and their pick lists, picking and packing.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::repo::{self, PickTask as TaskRecord, Wave as WaveRecord};
use super::service::{self, WaveView};
use crate::catalog::graphql::types::Warehouse;
use crate::domain::{TenantId, WarehouseId};
use crate::error::UserError;
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::lifecycle::shipping::graphql::{Shipment, ShipmentPayload};
use crate::order::graphql::types::Order;
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum PickWaveStatus {
    Open,
    Done,
}

/// One stop of the walk: a bin, a SKU, how many for which parcel.
#[derive(Clone, Debug, SimpleObject)]
pub struct PickTask {
    /// Position in the walk, from 1.
    pub sequence: i32,
    pub bin_location: Option<String>,
    pub sku: String,
    pub quantity: i64,
    pub picked: i64,
    pub shipment_id: ID,
    pub order_id: ID,
}

impl From<TaskRecord> for PickTask {
    fn from(t: TaskRecord) -> Self {
        Self {
            sequence: t.sequence,
            bin_location: t.bin_location,
            sku: t.sku,
            quantity: t.quantity,
            picked: t.picked,
            shipment_id: global_id("Shipment", t.shipment_id),
            order_id: global_id("Order", t.order_id),
        }
    }
}

/// Parcels picked together in one walk through a warehouse.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct PickWave {
    pub id: ID,
    pub status: PickWaveStatus,
    pub shipment_count: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub key: (TenantId, uuid::Uuid),
    #[graphql(skip)]
    pub warehouse_key: (TenantId, WarehouseId),
    #[graphql(skip)]
    pub loaded: Option<Vec<TaskRecord>>,
}

impl From<WaveRecord> for PickWave {
    fn from(w: WaveRecord) -> Self {
        let tenant = TenantId(w.tenant_id);
        Self {
            id: global_id("PickWave", w.id),
            status: if w.status == repo::DONE {
                PickWaveStatus::Done
            } else {
                PickWaveStatus::Open
            },
            shipment_count: w.shipment_count,
            created_at: w.created_at,
            completed_at: w.completed_at,
            key: (tenant, w.id),
            warehouse_key: (tenant, WarehouseId(w.warehouse_id)),
            loaded: None,
        }
    }
}

impl From<WaveView> for PickWave {
    fn from(v: WaveView) -> Self {
        let mut w = PickWave::from(v.wave);
        w.loaded = Some(v.tasks);
        w
    }
}

#[ComplexObject]
impl PickWave {
    async fn warehouse(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Warehouse>> {
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one(self.warehouse_key)
            .await?;
        Ok(row.map(Warehouse::from))
    }

    /// The pick list: the walk through the bins, in order (aisle by aisle, serpentine).
    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<PickTask>> {
        if let Some(tasks) = &self.loaded {
            return Ok(tasks.iter().cloned().map(PickTask::from).collect());
        }
        let tx = TenantTx::begin(&state(ctx).db, self.key.0).await?;
        let rows = repo::tasks_of(&tx, self.key.1).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(PickTask::from).collect())
    }
}

#[derive(InputObject)]
pub struct CreatePickWavesInput {
    pub warehouse_id: ID,
}

#[derive(SimpleObject)]
pub struct PickWavesPayload {
    pub waves: Vec<PickWave>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct MarkPickedInput {
    pub wave_id: ID,
    /// Only these parcels' items; all of the wave when omitted.
    pub shipment_ids: Option<Vec<ID>>,
}

#[derive(SimpleObject)]
pub struct PickWavePayload {
    pub wave: Option<PickWave>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct PackShipmentInput {
    pub shipment_id: ID,
    /// Each item's barcode or SKU, once per unit, as scanned.
    pub scans: Vec<String>,
}

#[derive(Default)]
pub struct WarehouseQuery;

#[Object]
impl WarehouseQuery {
    /// Waves, newest first: open ones unless `includeDone`.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn pick_waves(
        &self,
        ctx: &Context<'_>,
        warehouse_id: Option<ID>,
        include_done: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, PickWave>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let warehouse = warehouse_id
            .map(|w| decode_id(&w, "Warehouse", "warehouseId"))
            .transpose()?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::waves(
            &tx,
            warehouse,
            !include_done.unwrap_or(false),
            cursor,
            limit + 1,
        )
        .await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|w| (w.id, PickWave::from(w)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn pick_wave(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<PickWave>> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "PickWave", "id")?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::wave(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(PickWave::from))
    }
}

#[derive(Default)]
pub struct WarehouseMutation;

#[Object]
impl WarehouseMutation {
    /// Batches the warehouse's routed parcels into waves (urgent first) with their walks.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn create_pick_waves(
        &self,
        ctx: &Context<'_>,
        input: CreatePickWavesInput,
    ) -> async_graphql::Result<PickWavesPayload> {
        let p = principal(ctx)?;
        let warehouse = decode_id(&input.warehouse_id, "Warehouse", "warehouseId")?;
        let label = actor_label(ctx, p).await?;
        let outcome = service::create_waves(state(ctx), p, label, warehouse).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(PickWavesPayload {
            waves: value
                .unwrap_or_default()
                .into_iter()
                .map(PickWave::from)
                .collect(),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn mark_picked(
        &self,
        ctx: &Context<'_>,
        input: MarkPickedInput,
    ) -> async_graphql::Result<PickWavePayload> {
        let p = principal(ctx)?;
        let wave = decode_id(&input.wave_id, "PickWave", "waveId")?;
        let only = input
            .shipment_ids
            .map(|ids| {
                ids.iter()
                    .map(|i| decode_id(i, "Shipment", "shipmentIds"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let outcome = service::mark_picked(state(ctx), p, wave, only).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(PickWavePayload {
            wave: value.map(PickWave::from),
            user_errors,
        })
    }

    /// Packs a picked parcel with every item scanned; a wrong or missing item is refused.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn pack_shipment(
        &self,
        ctx: &Context<'_>,
        input: PackShipmentInput,
    ) -> async_graphql::Result<ShipmentPayload> {
        let p = principal(ctx)?;
        let shipment = decode_id(&input.shipment_id, "Shipment", "shipmentId")?;
        let label = actor_label(ctx, p).await?;
        let outcome = service::pack(state(ctx), p, label, shipment, input.scans).await;
        let (value, user_errors) = payload(outcome)?;
        let (order, shipment) = value.map_or((None, None), |(o, s)| (Some(o), Some(s)));
        Ok(ShipmentPayload {
            shipment: shipment.map(Shipment::from),
            order: order.map(Order::from),
            user_errors,
        })
    }
}
