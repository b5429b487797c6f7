//! Creating orders and the staff edits of capture.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use crate::domain::OrderId;
use crate::error::{AppError, UserError};
use crate::graphql::context::{actor_label, principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::decode_id;
use crate::lifecycle::capture::api::{self, CreateOrderInput};
use crate::lifecycle::capture::service::Change;
use crate::order::graphql::types::{Order, OrderPayload};
use crate::order::issues::IssueCode;
use crate::tenancy::Permission;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum CreateOrderResult {
    Created,
    /// An order with this externalId existed: it is returned unchanged.
    AlreadyExisted,
}

#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub order: Option<Order>,
    pub result: Option<CreateOrderResult>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct UpdateOrderTagsInput {
    pub order_id: ID,
    #[graphql(default)]
    pub add: Vec<String>,
    #[graphql(default)]
    pub remove: Vec<String>,
}

#[derive(InputObject)]
pub struct UpdateOrderNoteInput {
    pub order_id: ID,
    /// Null or empty clears it.
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct ResolveOrderIssueInput {
    pub order_id: ID,
    pub code: IssueCode,
    /// The issue's field, as listed on the order.
    pub field: Option<String>,
    /// How it was resolved; goes on the timeline.
    pub reason: String,
}

fn order_id(id: &ID) -> Result<OrderId, AppError> {
    Ok(OrderId(decode_id(id, "Order", "orderId")?))
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Creates an order directly (integrators, phone orders). It goes through the same checks
    /// as channel orders; a repeated `externalId` returns the existing order.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        input: CreateOrderInput,
    ) -> async_graphql::Result<CreateOrderPayload> {
        let p = principal(ctx)?;
        let label = actor_label(ctx, p).await?;
        // Capture runs the new order's automation rules too: a deep future. It runs as its own
        // task, polled from the top of the worker's stack rather than beneath the HTTP and
        // GraphQL layers.
        let st = ctx
            .data::<std::sync::Arc<crate::state::AppState>>()?
            .clone();
        let who = p.clone();
        let outcome = tokio::spawn(async move { api::create_order(&st, &who, label, input).await })
            .await
            .map_err(|e| async_graphql::Error::new(format!("order not created: {e}")))?;
        let (value, user_errors) = payload(outcome)?;
        Ok(match value {
            Some(captured) => CreateOrderPayload {
                result: Some(if captured.change == Change::Created {
                    CreateOrderResult::Created
                } else {
                    CreateOrderResult::AlreadyExisted
                }),
                order: Some(captured.order.into()),
                user_errors,
            },
            None => CreateOrderPayload {
                order: None,
                result: None,
                user_errors,
            },
        })
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn update_order_tags(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderTagsInput,
    ) -> async_graphql::Result<OrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let outcome = api::edit_tags(state(ctx), p, label, id, input.add, input.remove).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(OrderPayload {
            order: value.map(Order::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn update_order_note(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderNoteInput,
    ) -> async_graphql::Result<OrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let (value, user_errors) =
            payload(api::set_note(state(ctx), p, label, id, input.note).await)?;
        Ok(OrderPayload {
            order: value.map(Order::from),
            user_errors,
        })
    }

    /// Marks a capture issue resolved (e.g. the SKU was added to the catalog, the address was
    /// confirmed with the shopper).
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn resolve_order_issue(
        &self,
        ctx: &Context<'_>,
        input: ResolveOrderIssueInput,
    ) -> async_graphql::Result<OrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let outcome = api::resolve_issue(
            state(ctx),
            p,
            label,
            id,
            input.code,
            input.field,
            input.reason,
        )
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(OrderPayload {
            order: value.map(Order::from),
            user_errors,
        })
    }
}
