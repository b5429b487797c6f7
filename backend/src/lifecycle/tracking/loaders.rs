//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): ScansOf, ExceptionsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::lifecycle::tracking::repo::{
    self as tracking_repo, DeliveryException as ExceptionRecord, TrackingEvent as ScanRecord,
};
use crate::tenancy::TenantTx;

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
