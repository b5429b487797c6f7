//! The lifecycle engine: moves orders through the automated stages (capture issues, payment,
//! fraud, allocation) as jobs, and applies staff overrides. Every state change goes through
//! [`transition`], so it is legal, conditional on the state read, and on the timeline.
//!
//! Decided by each stage's pure module, gated by `gate.rs` (pure), moved by
//! `lifecycle::transition` (legal moves: `lifecycle::machine`); run by `jobs.rs`
//! (`AdvanceOrder` in batches through `pipeline.rs`, `ExpireReservation`, `RetryBackorders`,
//! whose messages are `transition::wake`'s, so stages below set the engine going without
//! importing it); staff overrides in `actions.rs`,
//! splits in `split.rs`, routing and auto-labels in `fulfil.rs`; exposed in `graphql.rs`.

pub mod actions;
pub mod fulfil;
pub mod gate;
pub mod graphql;
pub mod jobs;
pub mod pipeline;
pub mod split;

use sea_orm::DbErr;

use crate::domain::OrderId;
use crate::jobs::Job;
use crate::lifecycle::allocation::service as allocate;
use crate::lifecycle::events::ChannelChange;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{self, wake::AdvanceOrder};
use crate::order::repo;
use crate::order::timeline;
use crate::tenancy::TenantTx;

/// Gives back an order's stock, and voids its open parcels: it will not ship what was planned.
/// (A reservation that lapses goes back through `allocate::release` alone.)
pub async fn release_plan(
    tx: &TenantTx,
    order: &repo::Order,
    actor: crate::tenancy::Actor,
) -> Result<Vec<allocate::Released>, DbErr> {
    let released = allocate::release(tx, order, actor, None).await?;
    crate::lifecycle::shipping::repo::void_open(tx, OrderId(order.id)).await?;
    // A label job that has not spent anything stops; one that has refunds what it bought.
    crate::lifecycle::shipping::purchase::cancel_open(tx, OrderId(order.id)).await?;
    Ok(released)
}

/// The lifecycle's answer to a channel changing an order it had sent (registered in
/// `app::event_subscribers`): a cancellation voids the labels of parcels that have not moved
/// and gives back the plan; changed lines are allocated again.
pub async fn on_channel_change(
    tx: &TenantTx,
    change: ChannelChange,
) -> Result<Option<timeline::OrderEvent>, DbErr> {
    let Some(mut order) = repo::get(tx, change.order).await? else {
        return Ok(None);
    };
    if change.cancelled {
        crate::lifecycle::shipping::service::void_unmoved(tx, &order, change.actor).await?;
        release_plan(tx, &order, change.actor).await?;
        return Ok(None);
    }
    if !change.lines_changed {
        return Ok(None);
    }
    let by = transition::By {
        actor: change.actor,
        label: change.actor_label,
    };
    replan_lines(tx, &mut order, &by).await
}

/// A channel changed an order's line items after stock was promised for them: the promise is
/// released and made again for the new lines (through `backordered`, which the next stage run
/// fills); an order already routed or being picked is held for a person to look at.
pub async fn replan_lines(
    tx: &TenantTx,
    order: &mut repo::Order,
    by: &transition::By,
) -> Result<Option<timeline::OrderEvent>, DbErr> {
    use transition::Step;
    let state = order.state;
    let effective = transition::stage_of(order);
    let id = OrderId(order.id);
    let fail = |e: transition::TransitionError| match e {
        transition::TransitionError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    };
    match effective {
        OrderState::Allocated | OrderState::Backordered | OrderState::PaymentReview => {
            let released = release_plan(tx, order, by.actor).await?;
            if released.is_empty() && effective == OrderState::PaymentReview {
                return Ok(None);
            }
            let message = "Line items changed on the channel: the stock promised was given back \
                           and is allocated again for the new lines"
                .to_owned();
            let data = serde_json::json!({ "released": released });
            let event = if state == OrderState::Allocated {
                let step = Step {
                    to: OrderState::Backordered,
                    kind: "order.reallocating",
                    message,
                    reason: None,
                    data,
                };
                transition::apply(tx, order, by, step).await.map_err(fail)?
            } else {
                if state == OrderState::OnHold && effective == OrderState::Allocated {
                    // Released from the hold, it resumes allocation.
                    order.held_from = Some(OrderState::Backordered);
                    transition::save(tx, order, Some(state))
                        .await
                        .map_err(fail)?;
                }
                timeline::record_event(
                    tx,
                    timeline::NewEvent {
                        order: id,
                        kind: "order.reallocating",
                        actor: by.actor,
                        actor_label: by.label.clone(),
                        message,
                        reason: None,
                        data,
                    },
                )
                .await?
            };
            AdvanceOrder { order: id }.enqueue(tx).await?;
            Ok(Some(event))
        }
        OrderState::Routed | OrderState::Picking | OrderState::Packed
            if state != OrderState::OnHold =>
        {
            let why = "line items changed on the channel after the order was routed: check what \
                       to ship before releasing it";
            order.hold_reason = Some(why.to_owned());
            let step = Step {
                to: OrderState::OnHold,
                kind: "order.held",
                message: format!("Held: {why}"),
                reason: Some(why.to_owned()),
                data: serde_json::json!({}),
            };
            Ok(Some(
                transition::apply(tx, order, by, step).await.map_err(fail)?,
            ))
        }
        _ => Ok(None),
    }
}
