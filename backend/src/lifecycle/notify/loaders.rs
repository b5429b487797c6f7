//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): NotificationsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::tenancy::TenantTx;

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
