//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): LinesOf, EventsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{OrderId, TenantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::order::repo::{self as order_repo, OrderLine};
use crate::order::timeline::{self, OrderEvent};
use crate::tenancy::TenantTx;

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
            let rows = timeline::events_of(&tx, &orders).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |e: &OrderEvent| {
            EventsOf(OrderId(e.order_id))
        })
        .await
    }
}
