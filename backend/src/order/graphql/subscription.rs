//! The live timeline.

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt};

use super::types::OrderEvent;
use crate::graphql::context::{principal, state};
use crate::graphql::guard::Perm;
use crate::graphql::relay::{decode_id, global_id};
use crate::infra::events::topics;
use crate::tenancy::Permission;

#[derive(Default)]
pub struct OrderSubscription;

#[Subscription]
impl OrderSubscription {
    /// Timeline events as they happen: of one order, or of every order when `orderId` is
    /// left out.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn order_events(
        &self,
        ctx: &Context<'_>,
        order_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = OrderEvent>> {
        let tenant = principal(ctx)?.tenant;
        // Normalised, so that an id given with stray whitespace still matches.
        let only = order_id
            .map(|id| decode_id(&id, "Order", "orderId").map(|uuid| global_id("Order", uuid)))
            .transpose()?;
        let stream = state(ctx)
            .events
            .subscribe(tenant, topics::ORDERS)
            .filter_map(move |event| {
                let wanted = only.clone();
                async move {
                    let e: OrderEvent = serde_json::from_value(event.payload).ok()?;
                    wanted.is_none_or(|o| o == e.order_id).then_some(e)
                }
            });
        crate::graphql::live::while_allowed(ctx, Permission::OrdersRead, stream).await
    }
}
