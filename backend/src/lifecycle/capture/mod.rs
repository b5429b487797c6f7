//! Stage 1, capture: orders from every channel and the API become one canonical order,
//! checked, stored once, with a timeline of every change.
//!
//! Decided in `validate.rs` and `canonical.rs` (pure); stored by `repo.rs` (orders, lines, the
//! timeline, whose events `lifecycle::events` fans out); run by `service.rs` (`capture`, from
//! channel deliveries and `api.rs`'s `createOrder`); exposed in `graphql/` (the `Order` object,
//! its queries, mutations and subscription).

pub mod api;
pub mod canonical;
pub mod graphql;
pub mod loaders;
pub mod postal;
pub mod repo;
pub mod service;
pub mod validate;

use crate::domain::TenantId;
use crate::infra::events::{TenantEvent, topics};
use crate::state::AppState;

/// Tells live subscribers about timeline events, after their transaction committed.
pub async fn publish_events(state: &AppState, tenant: TenantId, events: &[repo::OrderEvent]) {
    for event in events {
        state
            .events
            .publish(TenantEvent {
                tenant,
                topic: topics::ORDERS.to_owned(),
                payload: serde_json::to_value(graphql::types::OrderEvent::from(event.clone()))
                    .unwrap_or_default(),
            })
            .await;
    }
}
