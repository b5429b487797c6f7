//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): AllocationsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::lifecycle::allocation::repo::{self as allocation_repo, Allocation};
use crate::tenancy::TenantTx;

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
