//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): ReturnsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::tenancy::TenantTx;

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
