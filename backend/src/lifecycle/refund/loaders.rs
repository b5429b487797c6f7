//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): RefundsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::tenancy::TenantTx;

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
