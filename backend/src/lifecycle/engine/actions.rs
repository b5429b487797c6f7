//! Staff overrides of the automated stages: approve or reject a review, hold and release,
//! cancel, correct the shipping address. Each is permission-checked, legal for the order's
//! state or refused with the reason, and on the timeline with who did it and why.

use chrono::Utc;

use super::gate::gate;
use super::pipeline::refund_due;
use crate::domain::address::normalise;
use crate::domain::money::amount_from_units;
use crate::domain::{Address, OrderId};
use crate::error::{Fail, Outcome, UserError, UserErrorCode as C};
use crate::jobs::Job;
use crate::lifecycle::capture::validate;
use crate::lifecycle::fraud::signals::{self, LabelSource};
use crate::lifecycle::machine;
use crate::lifecycle::shipping::actions::request_missing_labels;
use crate::lifecycle::shipping::service::LabelError;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::staff::{by, finish, optional, refused, required};
use crate::lifecycle::transition::wake::AdvanceOrder;
use crate::lifecycle::transition::{self, By, Step, stage_of};
use crate::order::issues::{Issue, IssueCode};
use crate::order::repo::{self, Order};
use crate::order::timeline::{self, NewEvent};
use crate::state::AppState;
use crate::tenancy::{Permission, Principal, TenantTx};

/// Opens the tenant's transaction with the order locked.
async fn open(state: &AppState, principal: &Principal, id: OrderId) -> Outcome<(TenantTx, Order)> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(order) = repo::get_for_update(&tx, id).await? else {
        return Err(UserError::on("orderId", C::NotFound, "no such order").into());
    };
    Ok((tx, order))
}

/// Makes a staff move, queues the order's next stage when it goes on through them, commits
/// and tells live subscribers.
async fn conclude(
    state: &AppState,
    principal: &Principal,
    tx: TenantTx,
    mut order: Order,
    who: &By,
    step: Step,
    next_stage: bool,
) -> Outcome<Order> {
    let event = transition::apply(&tx, &mut order, who, step)
        .await
        .map_err(refused)?;
    if next_stage {
        AdvanceOrder {
            order: OrderId(order.id),
        }
        .enqueue(&tx)
        .await?;
    }
    finish(state, principal, tx, order, vec![event]).await
}

/// Approves an order held in payment or fraud review; it goes on through the stages.
pub async fn approve(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = optional(reason)?;
    let (tx, order) = open(state, principal, id).await?;
    let who = by(principal, label.clone());
    let step = match order.state {
        OrderState::PaymentReview => Step {
            to: OrderState::PaymentVerified,
            kind: "order.payment_approved",
            message: "Payment approved by staff".into(),
            reason,
            data: serde_json::json!({ "verdict": order.payment_verdict }),
        },
        OrderState::FraudReview => {
            signals::label(&tx, &order, LabelSource::StaffApproved, label).await?;
            Step {
                to: OrderState::Screened,
                kind: "order.fraud_approved",
                message: format!(
                    "Approved by staff after fraud review (score {})",
                    order.fraud_score.unwrap_or_default()
                ),
                reason,
                data: serde_json::json!({ "score": order.fraud_score }),
            }
        }
        other => {
            return Err(UserError::on(
                "orderId",
                C::IllegalTransition,
                format!(
                    "only orders in payment or fraud review can be approved; this one is {}",
                    other.as_str()
                ),
            )
            .into());
        }
    };
    conclude(state, principal, tx, order, &who, step, true).await
}

/// Stops an order for good: stock goes back, the captured amount is due back to the shopper,
/// and a rejection after fraud screening is kept as a fraud label.
pub async fn reject(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = required(reason, "rejected")?;
    let (tx, mut order) = open(state, principal, id).await?;
    let from = order.state;
    machine::check(from, OrderState::Rejected).map_err(|e| refused(e.into()))?;
    let released = super::release_plan(&tx, &order, principal.actor).await?;
    if order.fraud_decision.is_some() {
        signals::label(&tx, &order, LabelSource::StaffRejected, label.clone()).await?;
    }
    order.refund_due = refund_due(&order);
    let due = order.refund_due.shown();
    let step = Step {
        to: OrderState::Rejected,
        kind: "order.rejected",
        message: format!("Rejected by staff{}", refund_note(&order)),
        reason: Some(reason),
        data: serde_json::json!({ "released": released, "refundDue": due.to_string() }),
    };
    conclude(
        state,
        principal,
        tx,
        order,
        &by(principal, label),
        step,
        false,
    )
    .await
}

fn refund_note(order: &Order) -> String {
    if order.refund_due.is_positive() {
        format!(
            "; {} {} captured is due back to the shopper",
            order.refund_due.shown(),
            order.currency
        )
    } else {
        String::new()
    }
}

/// Cancels an order that has not shipped: stock goes back and the refund due is recorded.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = required(reason, "cancelled")?;
    let (tx, mut order) = open(state, principal, id).await?;
    let from = order.state;
    if !machine::can_cancel(from) {
        return Err(UserError::on(
            "orderId",
            C::IllegalTransition,
            format!(
                "an order in state {} can no longer be cancelled{}",
                from.as_str(),
                if from.has_shipped() {
                    ": it has shipped, start a return instead"
                } else {
                    ""
                }
            ),
        )
        .into());
    }
    // Labels bought for parcels that have not moved are voided first: their units come back
    // and are released with the rest.
    let voided =
        crate::lifecycle::shipping::service::void_unmoved(&tx, &order, principal.actor).await?;
    let released = super::release_plan(&tx, &order, principal.actor).await?;
    order.refund_due = refund_due(&order);
    order.cancelled_at = Some(Utc::now());
    order.cancel_reason = Some(reason.clone());
    let due = order.refund_due.shown();
    let step = Step {
        to: OrderState::Cancelled,
        kind: "order.cancelled",
        message: format!("Cancelled by staff{}", refund_note(&order)),
        reason: Some(reason),
        data: serde_json::json!({ "released": released, "refundDue": due.to_string(), "labelsVoided": voided }),
    };
    conclude(
        state,
        principal,
        tx,
        order,
        &by(principal, label),
        step,
        false,
    )
    .await
}

/// Stops the automated stages for an order until someone releases it.
pub async fn hold(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = required(reason, "held")?;
    let (tx, mut order) = open(state, principal, id).await?;
    order.hold_reason = Some(reason.clone());
    let step = Step {
        to: OrderState::OnHold,
        kind: "order.held",
        message: format!("Put on hold: {reason}"),
        reason: Some(reason),
        data: serde_json::json!({}),
    };
    conclude(
        state,
        principal,
        tx,
        order,
        &by(principal, label),
        step,
        false,
    )
    .await
}

/// Returns a held order to where it was; the stages pick it up again.
pub async fn release(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = optional(reason)?;
    let (tx, order) = open(state, principal, id).await?;
    let from = order.state;
    if from != OrderState::OnHold {
        return Err(UserError::on(
            "orderId",
            C::IllegalTransition,
            format!("the order is not on hold (it is {})", from.as_str()),
        )
        .into());
    }
    let back = stage_of(&order);
    let issues: Vec<Issue> = serde_json::from_value(order.issues.clone()).unwrap_or_default();
    if back == OrderState::Received
        && let Some((_, why)) = gate(&issues)
    {
        return Err(UserError::on(
            "orderId",
            C::IllegalTransition,
            format!("resolve the open issues first: {why}"),
        )
        .into());
    }
    let step = Step {
        to: back,
        kind: "order.released",
        message: format!("Released from hold, back to {}", back.as_str()),
        reason,
        data: serde_json::json!({ "heldFor": order.hold_reason }),
    };
    let who = by(principal, label);
    if back == OrderState::Routed {
        let asked = request_missing_labels(&tx, &order, &who)
            .await
            .map_err(|e| match e {
                LabelError::Db(e) => Fail::from(e),
                LabelError::Refused(m) => UserError::on("orderId", C::IllegalTransition, m).into(),
            })?;
        timeline::record_events(&tx, asked).await?;
    }
    conclude(state, principal, tx, order, &who, step, true).await
}

const ADDRESS_CODES: [IssueCode; 3] = [
    IssueCode::NoShippingAddress,
    IssueCode::AddressIncomplete,
    IssueCode::PostalCodeInvalid,
];

/// Replaces the shipping address, checked as strictly as a label needs. An order waiting in
/// address_issue goes back through the stages.
pub async fn update_shipping_address(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    address: Address,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = optional(reason)?;
    let address =
        normalise(address).map_err(|(part, m)| UserError::at(&["address", part], C::Invalid, m))?;
    if let Some(problem) = validate::check_address("address", &address)
        .into_iter()
        .next()
    {
        let field = problem.field.unwrap_or_else(|| "address".into());
        let path: Vec<&str> = field.split('.').collect();
        return Err(UserError::at(&path, C::Invalid, problem.message).into());
    }
    let (tx, mut order) = open(state, principal, id).await?;
    let from = order.state;
    if !machine::address_editable(from) {
        return Err(UserError::on(
            "orderId",
            C::IllegalTransition,
            format!(
                "the address can no longer change: the order is {}",
                from.as_str()
            ),
        )
        .into());
    }
    let mut issues: Vec<Issue> = serde_json::from_value(order.issues.clone()).unwrap_or_default();
    for issue in issues
        .iter_mut()
        .filter(|i| ADDRESS_CODES.contains(&i.code))
    {
        issue.resolved = true;
    }
    order.issues = serde_json::to_value(&issues).unwrap_or_default();
    order.shipping_address = Some(serde_json::to_value(&address).unwrap_or_default());
    let who = by(principal, label);
    let mut events = Vec::new();
    transition::save(&tx, &mut order, Some(from))
        .await
        .map_err(refused)?;
    events.push(
        timeline::record_event(
            &tx,
            NewEvent {
                order: id,
                kind: "order.address_changed",
                actor: who.actor,
                actor_label: who.label.clone(),
                message: format!(
                    "Shipping address changed to {}, {} {}",
                    address.line1, address.city, address.country
                ),
                reason: reason.clone(),
                data: serde_json::json!({ "address": address }),
            },
        )
        .await?,
    );
    if from == OrderState::AddressIssue {
        let step = Step {
            to: OrderState::Received,
            kind: "order.address_fixed",
            message: "The address is fixed: the order goes on".into(),
            reason,
            data: serde_json::json!({}),
        };
        events.push(
            transition::apply(&tx, &mut order, &who, step)
                .await
                .map_err(refused)?,
        );
        AdvanceOrder { order: id }.enqueue(&tx).await?;
    }
    finish(state, principal, tx, order, events).await
}

/// Records a chargeback the payment processor reported: on the timeline, on the customer's
/// record (which later screenings read), and as a fraud label.
pub async fn record_chargeback(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    amount: rust_decimal::Decimal,
    reason: Option<String>,
) -> Outcome<Order> {
    let reason = required(reason, "charged back")?;
    let units = crate::domain::money::to_units(amount)
        .map_err(|m| UserError::on("amount", C::Invalid, m))?;
    let (tx, order) = open(state, principal, id).await?;
    if units <= 0 || units > order.total.units() {
        return Err(UserError::on(
            "amount",
            C::Invalid,
            format!(
                "must be more than 0 and at most the order total, {}",
                order.total.shown()
            ),
        )
        .into());
    }
    if let Some(customer) = order.customer_id {
        crate::customers::repo::record_chargeback(&tx, crate::domain::CustomerId(customer)).await?;
    }
    signals::label(&tx, &order, LabelSource::Chargeback, label.clone()).await?;
    let event = timeline::record_event(
        &tx,
        NewEvent {
            order: id,
            kind: "order.chargeback",
            actor: principal.actor,
            actor_label: label,
            message: format!("Chargeback of {} {}", amount_from_units(units, &order.currency), order.currency),
            reason: Some(reason),
            data: serde_json::json!({ "amount": amount_from_units(units, &order.currency).to_string() }),
        },
    )
    .await?;
    finish(state, principal, tx, order, vec![event]).await
}
