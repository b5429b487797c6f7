//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): ShipmentsOf, CarrierOf, ServiceOf, ServicesOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_grouped, load_lists};
use crate::lifecycle::shipping::repo::{
    self as shipping_repo, CarrierRow, Service as ServiceRecord, Shipment as ShipmentRecord,
};
use crate::tenancy::TenantTx;

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
