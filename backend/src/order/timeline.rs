//! An order's timeline: every change, by whom and why. Recording an event writes its row and
//! hands it to `lifecycle::events`, in the same transaction, which decides who hears of it;
//! after commit, [`publish_events`] tells live subscriptions.

use chrono::Utc;
use entity::order_events;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::{OrderEventId, OrderId, TenantId};
use crate::infra::events::{TenantEvent, topics};
use crate::state::AppState;
use crate::tenancy::{Actor, AnyTx, TenantTx};

pub use order_events::Model as OrderEvent;

pub struct NewEvent<'a> {
    pub order: OrderId,
    /// e.g. `order.received`, `order.updated`, `order.cancelled`, `order.tagged`.
    pub kind: &'a str,
    pub actor: Actor,
    /// Who, in words: a user's email, an API key's name, "Shopify (shop.myshopify.com)".
    pub actor_label: Option<String>,
    pub message: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
}

pub async fn record_event(tx: &TenantTx, e: NewEvent<'_>) -> Result<OrderEvent, DbErr> {
    let row = order_events::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(OrderEventId::new().uuid()),
        order_id: Set(e.order.uuid()),
        kind: Set(e.kind.to_owned()),
        actor_kind: Set(e.actor.kind().to_owned()),
        actor_id: Set(e.actor.id()),
        actor_label: Set(e.actor_label),
        message: Set(e.message),
        reason: Set(e.reason),
        data: Set(e.data),
        at: Set(Utc::now()),
    };
    let event = order_events::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await?;
    crate::lifecycle::events::dispatch(tx, std::slice::from_ref(&event)).await?;
    Ok(event)
}

/// Records several events in one statement (a batch of the engine), in the given order.
pub async fn record_events(
    tx: &TenantTx,
    events: Vec<NewEvent<'_>>,
) -> Result<Vec<OrderEvent>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<OrderEvent> = events
        .into_iter()
        .map(|e| OrderEvent {
            tenant_id: tx.tenant().uuid(),
            id: OrderEventId::new().uuid(),
            order_id: e.order.uuid(),
            kind: e.kind.to_owned(),
            actor_kind: e.actor.kind().to_owned(),
            actor_id: e.actor.id(),
            actor_label: e.actor_label,
            message: e.message,
            reason: e.reason,
            data: e.data,
            at: now,
        })
        .collect();
    order_events::Entity::insert_many(
        rows.iter()
            .cloned()
            // From a model every value is "unchanged"; an insert wants them set.
            .map(|m| order_events::ActiveModel::from(m).reset_all())
            .collect::<Vec<_>>(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    crate::lifecycle::events::dispatch(tx, &rows).await?;
    Ok(rows)
}

/// The timeline of several orders, oldest first.
pub async fn events_of(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<OrderEvent>, DbErr> {
    order_events::Entity::find()
        .filter(order_events::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_events::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(order_events::Column::Id)
        .all(tx.conn())
        .await
}

/// Tells live subscribers about timeline events, after their transaction committed.
pub async fn publish_events(state: &AppState, tenant: TenantId, events: &[OrderEvent]) {
    for event in events {
        state
            .events
            .publish(TenantEvent {
                tenant,
                topic: topics::ORDERS.to_owned(),
                payload: serde_json::to_value(super::graphql::types::OrderEvent::from(
                    event.clone(),
                ))
                .unwrap_or_default(),
            })
            .await;
    }
}
