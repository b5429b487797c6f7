//! Moving an order from one state to another: checked against the state machine, written with
//! the engine's columns only if the order is still in the state it was read in, and recorded
//! on the timeline with its actor and reason. Every stage moves orders through here, beneath
//! the engine: `staff.rs` holds what staff actions share, `wake.rs` the jobs that set the
//! engine going.

pub mod staff;
pub mod wake;

use sea_orm::DbErr;

use crate::domain::OrderId;
use crate::lifecycle::machine::{self, IllegalTransition};
use crate::lifecycle::state::OrderState;
use crate::order::repo::{self, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, TenantTx};

#[derive(Debug)]
pub enum TransitionError {
    Illegal(IllegalTransition),
    /// Someone else changed the order's state since it was read.
    Conflict,
    Db(DbErr),
}

impl From<DbErr> for TransitionError {
    fn from(err: DbErr) -> Self {
        TransitionError::Db(err)
    }
}

impl From<IllegalTransition> for TransitionError {
    fn from(err: IllegalTransition) -> Self {
        TransitionError::Illegal(err)
    }
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransitionError::Illegal(e) => e.fmt(f),
            TransitionError::Conflict => f.write_str("the order changed meanwhile; try again"),
            TransitionError::Db(e) => e.fmt(f),
        }
    }
}

/// Who acts, in the timeline's terms.
#[derive(Clone, Debug)]
pub struct By {
    pub actor: Actor,
    pub label: Option<String>,
}

impl By {
    pub fn system(label: &str) -> Self {
        Self {
            actor: Actor::System,
            label: Some(label.to_owned()),
        }
    }
}

pub struct Step {
    pub to: OrderState,
    /// The event kind, e.g. `order.payment_verified`.
    pub kind: &'static str,
    pub message: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
}

/// The stage an order is at: for a held order, the state its hold interrupted.
pub fn stage_of(order: &Order) -> OrderState {
    match order.state {
        OrderState::OnHold => order.held_from.unwrap_or(OrderState::Received),
        state => state,
    }
}

/// Moves `order` (in memory) to `step.to` if the state machine allows it, and returns the
/// timeline event that records the move. Nothing is written: see [`apply`] and [`save`].
/// A release from a hold is allowed only back to the state the hold interrupted.
pub fn make_move(
    order: &mut Order,
    by: &By,
    step: Step,
) -> Result<NewEvent<'static>, IllegalTransition> {
    let from = order.state;
    if from == OrderState::OnHold {
        let held = stage_of(order);
        if step.to != held {
            machine::check(from, step.to)?;
        } else {
            machine::check_release(from, held)?;
        }
    } else {
        machine::check(from, step.to)?;
    }
    if step.to == OrderState::OnHold {
        order.held_from = Some(from);
    } else if from == OrderState::OnHold {
        order.held_from = None;
        order.hold_reason = None;
    }
    order.state = step.to;
    Ok(NewEvent {
        order: OrderId(order.id),
        kind: step.kind,
        actor: by.actor,
        actor_label: by.label.clone(),
        message: step.message,
        reason: step.reason,
        data: merge(
            step.data,
            serde_json::json!({ "from": from.as_str(), "to": step.to.as_str() }),
        ),
    })
}

/// Writes the engine's columns of `order` (changed by the caller) and moves it to `step.to`,
/// with the event on the timeline.
pub async fn apply(
    tx: &TenantTx,
    order: &mut Order,
    by: &By,
    step: Step,
) -> Result<OrderEvent, TransitionError> {
    let from = order.state;
    let ends = matches!(step.to, OrderState::Cancelled | OrderState::Rejected);
    let event = make_move(order, by, step)?;
    save(tx, order, Some(from)).await?;
    if ends {
        // The order's revenue leaves the day it was placed; a settled day is computed again.
        crate::lifecycle::events::restated(tx, order.placed_at).await?;
    }
    Ok(timeline::record_event(tx, event).await?)
}

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    if let (Some(a), serde_json::Value::Object(b)) = (a.as_object_mut(), &b) {
        for (k, v) in b {
            a.entry(k.clone()).or_insert(v.clone());
        }
        return serde_json::Value::Object(a.clone());
    }
    b
}

/// Writes the engine's columns; with `expected`, only if the state is still that one.
pub async fn save(
    tx: &TenantTx,
    order: &mut Order,
    expected: Option<OrderState>,
) -> Result<(), TransitionError> {
    if !repo::save_stage(tx, order, expected).await? {
        return Err(TransitionError::Conflict);
    }
    Ok(())
}

/// Every parcel labelled and handed over: the order has shipped.
pub fn shipped_step(parcels: usize) -> Step {
    Step {
        to: OrderState::Shipped,
        kind: "order.shipped",
        message: format!("Shipped: {parcels} parcel(s) labelled and handed to the carrier"),
        reason: None,
        data: serde_json::json!({ "parcels": parcels }),
    }
}
