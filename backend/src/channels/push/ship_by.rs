//! A channel's ship-by time, watched. An order the channel wants shipped by a time (Amazon's
//! `LatestShipDate`: a confirmation after it counts against the seller's late-shipment rate)
//! is looked at [`WARN_BEFORE`] ahead of it. Unless by then every parcel is labelled and its
//! confirmation has reached the channel, staff get a task and the timeline says why, while
//! there is still time to ship or to confirm by hand.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::channel_pushes;
use serde::{Deserialize, Serialize};

use super::{FULFILLMENT, SENT, SKIPPED, of_order};
use crate::channels::Platform;
use crate::domain::{OrderId, TenantId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::state::OrderState;
use crate::order::repo as orders;
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantTx};

/// How long before the ship-by time an unconfirmed order is flagged: a working shift to pick,
/// pack and label it.
pub const WARN_BEFORE: chrono::Duration = chrono::Duration::hours(4);

/// Looks at one order ahead of its ship-by time.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct WatchShipBy {
    pub order: uuid::Uuid,
}

impl Job for WatchShipBy {
    const NAME: &'static str = "channel.ship_by";

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("ship_by:{}", self.order))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

impl Run for WatchShipBy {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        watch(state, claim.tenant, self.order)
            .await
            .map_err(|e| e.to_string())
    }
}

/// A new order from a channel with a ship-by time (carried on its `order.received` event)
/// is watched from now on.
pub async fn on_events(tx: &TenantTx, events: &[OrderEvent]) -> Result<(), sea_orm::DbErr> {
    for e in events.iter().filter(|e| e.kind == "order.received") {
        let Some(ship_by) = e.data["shipBy"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let at = (ship_by.with_timezone(&Utc) - WARN_BEFORE).max(Utc::now());
        WatchShipBy { order: e.order_id }.enqueue_at(tx, at).await?;
    }
    Ok(())
}

/// Why the order's shipment is not yet confirmed to its channel, if it is not: `labelled`,
/// its parcels with a live label.
pub fn unconfirmed(
    state: OrderState,
    labelled: &[uuid::Uuid],
    pushes: &[channel_pushes::Model],
) -> Option<&'static str> {
    if !state.has_shipped() {
        return Some("it has not shipped");
    }
    let told = |parcel: &uuid::Uuid| {
        pushes.iter().any(|p| {
            p.kind == FULFILLMENT
                && p.shipment_id == Some(*parcel)
                && (p.state == SENT || p.state == SKIPPED)
        })
    };
    if !labelled.iter().all(told) {
        return Some("a parcel's confirmation has not reached the channel");
    }
    None
}

/// "by 2026-12-10 19:49 UTC (in 3 h 40 min)", or how long ago it passed.
fn when(ship_by: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let at = ship_by.format("%Y-%m-%d %H:%M UTC");
    let gap = (ship_by - now).abs();
    let span = if gap.num_hours() > 0 {
        format!("{} h {} min", gap.num_hours(), gap.num_minutes() % 60)
    } else {
        format!("{} min", gap.num_minutes())
    };
    if ship_by > now {
        format!("by {at} (in {span})")
    } else {
        format!("by {at} (passed {span} ago)")
    }
}

async fn watch(state: &AppState, tenant: TenantId, id: uuid::Uuid) -> Result<(), sea_orm::DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(order) = orders::get_for_update(&tx, OrderId(id)).await? else {
        return tx.commit().await;
    };
    let Some(ship_by) = order.ship_by else {
        return tx.commit().await;
    };
    if matches!(order.state, OrderState::Cancelled | OrderState::Rejected) {
        return tx.commit().await;
    }
    let now = Utc::now();
    // The channel moved the time later since this was scheduled: look again then.
    if ship_by - WARN_BEFORE > now + chrono::Duration::minutes(1) {
        WatchShipBy { order: id }
            .enqueue_at(&tx, ship_by - WARN_BEFORE)
            .await?;
        return tx.commit().await;
    }
    let labelled: Vec<uuid::Uuid> = shipping::of_orders(&tx, &[OrderId(id)])
        .await?
        .iter()
        .filter(|s| s.status != shipping::VOIDED && s.tracking_number.is_some())
        .map(|s| s.id)
        .collect();
    let pushes = of_order(&tx, OrderId(id)).await?;
    let Some(why) = unconfirmed(order.state, &labelled, &pushes) else {
        return tx.commit().await;
    };
    let channel = Platform::parse(&order.channel).map_or("the channel", Platform::label);
    let title = format!(
        "Confirm {} shipped on {channel} {}",
        order.name,
        when(ship_by, now)
    );
    crate::automation::tasks::ask_staff(&tx, id, &title).await?;
    timeline::record_event(
        &tx,
        NewEvent {
            order: OrderId(id),
            kind: "channel.ship_by_at_risk",
            actor: Actor::System,
            actor_label: Some("channel sync".into()),
            message: format!("Not yet confirmed shipped to {channel}: {why}"),
            reason: Some(title),
            data: serde_json::json!({ "shipBy": ship_by, "channel": order.channel }),
        },
    )
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(shipment: u128, state: &str) -> channel_pushes::Model {
        channel_pushes::Model {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::now_v7(),
            connection_id: uuid::Uuid::nil(),
            order_id: uuid::Uuid::nil(),
            shipment_id: Some(uuid::Uuid::from_u128(shipment)),
            kind: FULFILLMENT.into(),
            key: String::new(),
            state: state.into(),
            summary: String::new(),
            remote_id: None,
            answer: None,
            attempts: 0,
            duration_ms: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            sent_at: None,
        }
    }

    #[test]
    fn an_order_is_confirmed_once_every_labelled_parcel_is_told() {
        let parcels = [uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2)];
        assert_eq!(
            unconfirmed(OrderState::Routed, &parcels, &[]),
            Some("it has not shipped")
        );
        let one = [push(1, SENT), push(2, "waiting")];
        assert!(unconfirmed(OrderState::Shipped, &parcels, &one).is_some());
        let both = [push(1, SENT), push(2, SENT)];
        assert_eq!(unconfirmed(OrderState::Shipped, &parcels, &both), None);
        assert_eq!(unconfirmed(OrderState::InTransit, &parcels, &both), None);
    }

    #[test]
    fn the_time_left_is_said_in_hours_and_minutes() {
        let by = DateTime::parse_from_rfc3339("2026-12-10T19:49:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            when(by, by - chrono::Duration::minutes(220)),
            "by 2026-12-10 19:49 UTC (in 3 h 40 min)"
        );
        assert_eq!(
            when(by, by + chrono::Duration::minutes(20)),
            "by 2026-12-10 19:49 UTC (passed 20 min ago)"
        );
    }
}
