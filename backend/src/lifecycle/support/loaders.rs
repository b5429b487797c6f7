//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): MessagesOf, ThreadsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::tenancy::TenantTx;

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
