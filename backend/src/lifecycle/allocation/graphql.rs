//! Allocation over GraphQL: `Order.allocations`, stock reserved per line and what waits for
//! stock (a part of `Order`, listed in `schema::parts`).

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::loaders::AllocationsOf;
use super::repo::{Allocation as AllocationRecord, AllocationStatus};
use crate::catalog::graphql::types::Warehouse;
use crate::domain::{TenantId, WarehouseId};
use crate::graphql::loader::Loaders;
use crate::graphql::relay::global_id;
use crate::order::graphql::types::OrderFields;

/// Stock promised to a line at a warehouse, or the part of a line waiting for stock.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Allocation {
    pub id: ID,
    pub sku: Option<String>,
    /// Index of the order line (0-based).
    pub line_index: i32,
    pub quantity: i64,
    pub status: AllocationStatus,
    /// For a backorder: when the supplier is expected to deliver.
    pub eta: Option<DateTime<Utc>>,
    /// For an unpaid order: when the reservation lapses.
    pub expires_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub warehouse_key: Option<(TenantId, WarehouseId)>,
}

impl From<AllocationRecord> for Allocation {
    fn from(a: AllocationRecord) -> Self {
        Self {
            id: global_id("Allocation", a.id),
            sku: a.sku,
            line_index: a.line_position,
            quantity: a.quantity,
            status: AllocationStatus::parse(&a.status),
            eta: a.eta,
            expires_at: a.expires_at,
            warehouse_key: a
                .warehouse_id
                .map(|w| (TenantId(a.tenant_id), WarehouseId(w))),
        }
    }
}

#[ComplexObject]
impl Allocation {
    async fn warehouse(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Warehouse>> {
        let Some(key) = self.warehouse_key else {
            return Ok(None);
        };
        let row = ctx.data_unchecked::<Loaders>().load_one(key).await?;
        Ok(row.map(Warehouse::from))
    }
}

/// Allocation's field on an order.
pub struct AllocationsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for AllocationsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl AllocationsPart {
    /// Stock reserved for each line, and what waits for stock (backorders).
    async fn allocations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Allocation>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, AllocationsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.status != "released")
            .map(Allocation::from)
            .collect())
    }
}
