//! Batched lookups for nested fields, so a page of 100 products with their variants and stock
//! costs a handful of queries, not hundreds. Keys carry the tenant: each batch is split per
//! tenant and read through that tenant's [`TenantTx`], like every other read.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::app::AppState;
use crate::catalog::product_repo::{self, Variant};
use crate::catalog::supplier_repo::{self, SupplierItem};
use crate::catalog::warehouse_repo::{self, Warehouse};
use crate::customers::repo::{self as customer_repo, Customer};
use crate::domain::{CustomerId, OrderId, ProductId, SupplierId, TenantId, VariantId, WarehouseId};
use crate::error::AppError;
use crate::lifecycle::allocation::repo::{self as allocation_repo, Allocation};
use crate::lifecycle::capture::repo::{self as order_repo, OrderEvent, OrderLine};
use crate::lifecycle::inventory::repo::{self as stock_repo, StockLevel};
use crate::lifecycle::shipping::repo::{
    self as shipping_repo, CarrierRow, Service as ServiceRecord, Shipment as ShipmentRecord,
};
use crate::lifecycle::tracking::repo::{
    self as tracking_repo, DeliveryException as ExceptionRecord, TrackingEvent as ScanRecord,
};
use crate::tenancy::TenantTx;

pub struct Batch {
    state: Arc<AppState>,
}

pub type Loaders = DataLoader<Batch>;

pub fn loaders(state: Arc<AppState>) -> Loaders {
    DataLoader::new(Batch { state }, tokio::spawn)
}

/// The keys of one batch, grouped by tenant.
fn per_tenant<K: Copy>(keys: &[(TenantId, K)]) -> HashMap<TenantId, Vec<K>> {
    let mut groups: HashMap<TenantId, Vec<K>> = HashMap::new();
    for (tenant, key) in keys {
        groups.entry(*tenant).or_default().push(*key);
    }
    groups
}

/// Runs `fetch` once per tenant in the batch and indexes what it returns by `key_of`.
async fn load_grouped<K, V, F, Fut>(
    state: &AppState,
    keys: &[(TenantId, K)],
    fetch: F,
    key_of: impl Fn(&V) -> K,
) -> Result<HashMap<(TenantId, K), V>, async_graphql::Error>
where
    K: Copy + Eq + Hash,
    F: Fn(TenantTx, Vec<K>) -> Fut,
    Fut: Future<Output = Result<(TenantTx, Vec<V>), sea_orm::DbErr>>,
{
    let mut out = HashMap::new();
    for (tenant, ids) in per_tenant(keys) {
        let tx = TenantTx::begin(&state.db, tenant)
            .await
            .map_err(AppError::from)?;
        let (tx, rows) = fetch(tx, ids).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        for row in rows {
            out.insert((tenant, key_of(&row)), row);
        }
    }
    Ok(out)
}

/// Like [`load_grouped`] for one-to-many lookups: every key gets its (possibly empty) list.
async fn load_lists<K, V, F, Fut>(
    state: &AppState,
    keys: &[(TenantId, K)],
    fetch: F,
    key_of: impl Fn(&V) -> K,
) -> Result<HashMap<(TenantId, K), Vec<V>>, async_graphql::Error>
where
    K: Copy + Eq + Hash,
    F: Fn(TenantTx, Vec<K>) -> Fut,
    Fut: Future<Output = Result<(TenantTx, Vec<V>), sea_orm::DbErr>>,
{
    let mut out: HashMap<(TenantId, K), Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (tenant, ids) in per_tenant(keys) {
        let tx = TenantTx::begin(&state.db, tenant)
            .await
            .map_err(AppError::from)?;
        let (tx, rows) = fetch(tx, ids).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        for row in rows {
            out.entry((tenant, key_of(&row))).or_default().push(row);
        }
    }
    Ok(out)
}

impl Loader<(TenantId, VariantId)> for Batch {
    type Value = Variant;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, VariantId)],
    ) -> Result<HashMap<(TenantId, VariantId), Variant>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<VariantId>| async move {
            let rows = product_repo::variants_by_id(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |v: &Variant| VariantId(v.id)).await
    }
}

impl Loader<(TenantId, ProductId)> for Batch {
    type Value = Vec<Variant>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ProductId)],
    ) -> Result<HashMap<(TenantId, ProductId), Vec<Variant>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ProductId>| async move {
            let rows = product_repo::variants_of(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |v: &Variant| {
            ProductId(v.product_id)
        })
        .await
    }
}

/// Stock levels of a variant, in every warehouse that has a level row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelsOf(pub VariantId);

impl Loader<(TenantId, LevelsOf)> for Batch {
    type Value = Vec<StockLevel>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, LevelsOf)],
    ) -> Result<HashMap<(TenantId, LevelsOf), Vec<StockLevel>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<LevelsOf>| async move {
            let variants: Vec<VariantId> = ids.iter().map(|l| l.0).collect();
            let rows = stock_repo::levels_of(&tx, &variants).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |l: &StockLevel| {
            LevelsOf(l.variant)
        })
        .await
    }
}

impl Loader<(TenantId, WarehouseId)> for Batch {
    type Value = Warehouse;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, WarehouseId)],
    ) -> Result<HashMap<(TenantId, WarehouseId), Warehouse>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<WarehouseId>| async move {
            let rows = warehouse_repo::get_many(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |w: &Warehouse| WarehouseId(w.id)).await
    }
}

impl Loader<(TenantId, SupplierId)> for Batch {
    type Value = Vec<SupplierItem>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, SupplierId)],
    ) -> Result<HashMap<(TenantId, SupplierId), Vec<SupplierItem>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<SupplierId>| async move {
            let rows = supplier_repo::items_of_suppliers(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |i: &SupplierItem| {
            SupplierId(i.supplier_id)
        })
        .await
    }
}

/// Lines of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinesOf(pub OrderId);

impl Loader<(TenantId, LinesOf)> for Batch {
    type Value = Vec<OrderLine>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, LinesOf)],
    ) -> Result<HashMap<(TenantId, LinesOf), Vec<OrderLine>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<LinesOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|l| l.0).collect();
            let rows = order_repo::lines_of(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |l: &OrderLine| {
            LinesOf(OrderId(l.order_id))
        })
        .await
    }
}

/// The allocations of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocationsOf(pub OrderId);

impl Loader<(TenantId, AllocationsOf)> for Batch {
    type Value = Vec<Allocation>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, AllocationsOf)],
    ) -> Result<HashMap<(TenantId, AllocationsOf), Vec<Allocation>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<AllocationsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|l| l.0).collect();
            let rows = allocation_repo::of_orders(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |a: &Allocation| {
            AllocationsOf(OrderId(a.order_id))
        })
        .await
    }
}

/// The parcels of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShipmentsOf(pub OrderId);

impl Loader<(TenantId, ShipmentsOf)> for Batch {
    type Value = Vec<ShipmentRecord>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ShipmentsOf)],
    ) -> Result<HashMap<(TenantId, ShipmentsOf), Vec<ShipmentRecord>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ShipmentsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|l| l.0).collect();
            let rows = shipping_repo::of_orders(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |s: &ShipmentRecord| {
            ShipmentsOf(OrderId(s.order_id))
        })
        .await
    }
}

/// A carrier, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CarrierOf(pub uuid::Uuid);

impl Loader<(TenantId, CarrierOf)> for Batch {
    type Value = CarrierRow;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, CarrierOf)],
    ) -> Result<HashMap<(TenantId, CarrierOf), CarrierRow>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<CarrierOf>| async move {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
            let rows = shipping_repo::carriers_by_id(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |c: &CarrierRow| CarrierOf(c.id)).await
    }
}

/// A carrier service, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceOf(pub uuid::Uuid);

impl Loader<(TenantId, ServiceOf)> for Batch {
    type Value = ServiceRecord;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ServiceOf)],
    ) -> Result<HashMap<(TenantId, ServiceOf), ServiceRecord>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ServiceOf>| async move {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
            let rows = shipping_repo::services_by_id(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |s: &ServiceRecord| {
            ServiceOf(s.id)
        })
        .await
    }
}

/// The services of a carrier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServicesOf(pub uuid::Uuid);

impl Loader<(TenantId, ServicesOf)> for Batch {
    type Value = Vec<ServiceRecord>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ServicesOf)],
    ) -> Result<HashMap<(TenantId, ServicesOf), Vec<ServiceRecord>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ServicesOf>| async move {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
            let rows = shipping_repo::services_of(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |s: &ServiceRecord| {
            ServicesOf(s.carrier_id)
        })
        .await
    }
}

/// The scans of a parcel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScansOf(pub uuid::Uuid);

impl Loader<(TenantId, ScansOf)> for Batch {
    type Value = Vec<ScanRecord>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ScansOf)],
    ) -> Result<HashMap<(TenantId, ScansOf), Vec<ScanRecord>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ScansOf>| async move {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
            let rows = tracking_repo::events_of(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |e: &ScanRecord| {
            ScansOf(e.shipment_id)
        })
        .await
    }
}

/// The delivery exceptions of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExceptionsOf(pub OrderId);

impl Loader<(TenantId, ExceptionsOf)> for Batch {
    type Value = Vec<ExceptionRecord>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ExceptionsOf)],
    ) -> Result<HashMap<(TenantId, ExceptionsOf), Vec<ExceptionRecord>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ExceptionsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|l| l.0).collect();
            let rows = tracking_repo::exceptions_of(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |e: &ExceptionRecord| {
            ExceptionsOf(OrderId(e.order_id))
        })
        .await
    }
}

/// The timeline of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventsOf(pub OrderId);

impl Loader<(TenantId, EventsOf)> for Batch {
    type Value = Vec<OrderEvent>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, EventsOf)],
    ) -> Result<HashMap<(TenantId, EventsOf), Vec<OrderEvent>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<EventsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|l| l.0).collect();
            let rows = order_repo::events_of(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |e: &OrderEvent| {
            EventsOf(OrderId(e.order_id))
        })
        .await
    }
}

impl Loader<(TenantId, CustomerId)> for Batch {
    type Value = Customer;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, CustomerId)],
    ) -> Result<HashMap<(TenantId, CustomerId), Customer>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<CustomerId>| async move {
            let rows = customer_repo::get_many(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |c: &Customer| CustomerId(c.id)).await
    }
}

/// The messages of a support thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessagesOf(pub uuid::Uuid);

impl Loader<(TenantId, MessagesOf)> for Batch {
    type Value = Vec<crate::lifecycle::support::repo::Message>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, MessagesOf)],
    ) -> Result<HashMap<(TenantId, MessagesOf), Self::Value>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<MessagesOf>| async move {
            let threads: Vec<uuid::Uuid> = ids.iter().map(|t| t.0).collect();
            let rows = crate::lifecycle::support::repo::messages_of(&tx, &threads).await?;
            Ok((tx, rows))
        };
        load_lists(
            &self.state,
            keys,
            fetch,
            |m: &crate::lifecycle::support::repo::Message| MessagesOf(m.thread_id),
        )
        .await
    }
}

/// The emails about an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotificationsOf(pub OrderId);

impl Loader<(TenantId, NotificationsOf)> for Batch {
    type Value = Vec<crate::lifecycle::notify::repo::Notification>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, NotificationsOf)],
    ) -> Result<HashMap<(TenantId, NotificationsOf), Self::Value>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<NotificationsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|o| o.0).collect();
            let rows = crate::lifecycle::notify::repo::of_orders(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(
            &self.state,
            keys,
            fetch,
            |n: &crate::lifecycle::notify::repo::Notification| {
                NotificationsOf(OrderId(n.order_id.unwrap_or_default()))
            },
        )
        .await
    }
}

/// The support threads about an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThreadsOf(pub OrderId);

impl Loader<(TenantId, ThreadsOf)> for Batch {
    type Value = Vec<crate::lifecycle::support::repo::Thread>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ThreadsOf)],
    ) -> Result<HashMap<(TenantId, ThreadsOf), Self::Value>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ThreadsOf>| async move {
            let orders: Vec<uuid::Uuid> = ids.iter().map(|o| o.0.uuid()).collect();
            let rows = crate::lifecycle::support::repo::threads_of_orders(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(
            &self.state,
            keys,
            fetch,
            |t: &crate::lifecycle::support::repo::Thread| {
                ThreadsOf(OrderId(t.order_id.unwrap_or_default()))
            },
        )
        .await
    }
}

/// The refunds of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefundsOf(pub OrderId);

impl Loader<(TenantId, RefundsOf)> for Batch {
    type Value = Vec<crate::lifecycle::refund::repo::Refund>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, RefundsOf)],
    ) -> Result<HashMap<(TenantId, RefundsOf), Self::Value>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<RefundsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|o| o.0).collect();
            let rows = crate::lifecycle::refund::repo::of_orders(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(
            &self.state,
            keys,
            fetch,
            |r: &crate::lifecycle::refund::repo::Refund| RefundsOf(OrderId(r.order_id)),
        )
        .await
    }
}

/// The returns of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReturnsOf(pub OrderId);

impl Loader<(TenantId, ReturnsOf)> for Batch {
    type Value = Vec<(
        crate::lifecycle::returns::repo::Return,
        Vec<crate::lifecycle::returns::repo::ReturnLine>,
    )>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ReturnsOf)],
    ) -> Result<HashMap<(TenantId, ReturnsOf), Self::Value>, Self::Error> {
        use crate::lifecycle::returns::repo as returns;
        let fetch = |tx: TenantTx, ids: Vec<ReturnsOf>| async move {
            let orders: Vec<OrderId> = ids.iter().map(|o| o.0).collect();
            let rows = returns::of_orders(&tx, &orders).await?;
            let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
            let lines = returns::lines_of(&tx, &ids).await?;
            let rows: Vec<_> = rows
                .into_iter()
                .map(|r| {
                    let mine = lines
                        .iter()
                        .filter(|l| l.return_id == r.id)
                        .cloned()
                        .collect();
                    (r, mine)
                })
                .collect();
            Ok((tx, rows))
        };
        load_lists(
            &self.state,
            keys,
            fetch,
            |r: &(returns::Return, Vec<returns::ReturnLine>)| ReturnsOf(OrderId(r.0.order_id)),
        )
        .await
    }
}
