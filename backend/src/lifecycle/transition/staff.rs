//! What every staff action on an order shares, whichever stage offers it: the refusal of an
//! illegal move in the API's words, the reason asked for, who acted, and the commit that tells
//! live subscribers and wakes the workers.

use super::{By, TransitionError};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::order::repo::Order;
use crate::order::timeline::{self, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{Principal, TenantTx};

pub fn refused(err: TransitionError) -> crate::error::Fail {
    match err {
        TransitionError::Illegal(e) => {
            UserError::on("orderId", C::IllegalTransition, e.to_string()).into()
        }
        TransitionError::Conflict => UserError::on("orderId", C::Conflict, err.to_string()).into(),
        TransitionError::Db(e) => e.into(),
    }
}

pub fn required(reason: Option<String>, what: &str) -> Result<String, UserError> {
    let reason = reason.map(|r| r.trim().to_owned()).unwrap_or_default();
    if reason.is_empty() {
        return Err(UserError::on(
            "reason",
            C::Required,
            format!("say why the order is {what}"),
        ));
    }
    if reason.chars().count() > 1000 {
        return Err(UserError::on(
            "reason",
            C::Invalid,
            "must be at most 1000 characters",
        ));
    }
    Ok(reason)
}

pub fn optional(reason: Option<String>) -> Result<Option<String>, UserError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(UserError::on(
            "reason",
            C::Invalid,
            "must be at most 1000 characters",
        ));
    }
    Ok(reason)
}

pub async fn finish(
    state: &AppState,
    principal: &Principal,
    tx: TenantTx,
    order: Order,
    events: Vec<OrderEvent>,
) -> Outcome<Order> {
    tx.commit().await?;
    timeline::publish_events(state, principal.tenant, &events).await;
    // An action may have scheduled the order's next stage: no need to wait for a poll.
    state.wake_workers.notify_one();
    Ok(order)
}

pub fn by(principal: &Principal, label: Option<String>) -> By {
    By {
        actor: principal.actor,
        label,
    }
}
