//! Making a refund: under the order's lock, once per intent key, never more than was captured
//! less what was refunded; the provider moves the money, the ledger books it, the timeline
//! and the shopper hear of it.

use chrono::Utc;
use sea_orm::DbErr;

use super::decide::{self, Paid, Refusal, Split};
use super::provider::{BuiltIn, PaymentProvider, ProviderOutcome, RefundCall};
use super::repo::{self, FAILED, PENDING, Refund, SUCCEEDED};
use crate::domain::OrderId;
use crate::domain::money::{Money, amount_from_units};
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::SourceKind;
use crate::lifecycle::ledger::service::{self as ledger, Posting, captured_units};
use crate::order::canonical::PaymentFacts;
use crate::order::repo::{self as orders_repo, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Back to the payment method the shopper paid with.
    Original,
    StoreCredit,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Original => "original",
            Method::StoreCredit => "store_credit",
        }
    }
}

/// How much to pay back.
#[derive(Clone, Copy, Debug)]
pub enum Ask {
    /// An amount (everything refundable when `None`) of which `shipping` is shipping.
    Amount {
        amount: Option<i64>,
        shipping: Option<i64>,
    },
    /// Exactly these parts (a return works them out line by line).
    Parts(Split),
}

pub struct Request {
    pub order: OrderId,
    pub return_id: Option<uuid::Uuid>,
    /// One per refund intent: the same key is the same refund.
    pub key: String,
    pub ask: Ask,
    pub method: Method,
    /// Kept back (restocking fee, label), for the record.
    pub withheld: i64,
    pub reason: Option<String>,
    pub actor: Actor,
    pub actor_label: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no such order")]
    NoOrder,
    #[error("{0}")]
    Refused(Refusal),
    #[error(
        "this idempotency key was used for a different refund ({0}); use a new key for a new refund"
    )]
    KeyReused(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub struct Refunded {
    pub refund: Refund,
    /// False when the key had been used: the refund made then, nothing new.
    pub made: bool,
    pub events: Vec<OrderEvent>,
}

/// What the order has taken and given back.
pub async fn paid_of(tx: &TenantTx, order: &Order) -> Result<Paid, DbErr> {
    let done: Vec<Refund> = repo::of_orders(tx, &[OrderId(order.id)])
        .await?
        .into_iter()
        .filter(|r| r.status != FAILED)
        .collect();
    Ok(Paid {
        captured: captured_units(order),
        refunded: done.iter().map(|r| r.amount_units).sum(),
        shipping: order.shipping.units(),
        shipping_refunded: done.iter().map(|r| r.shipping_units).sum(),
        total: order.total.units(),
        tax: order.tax.units(),
    })
}

/// Refunds, once per `req.key`.
pub async fn refund(tx: &TenantTx, req: Request) -> Result<Refunded, RefundError> {
    // The order's lock makes concurrent refunds of one order take turns, so each sees
    // what the others refunded.
    let order = orders_repo::get_for_update(tx, req.order)
        .await?
        .ok_or(RefundError::NoOrder)?;
    let earlier = repo::by_key(tx, &req.key).await?;
    if let Some(done) = &earlier {
        let same = done.order_id == order.id
            && done.return_id == req.return_id
            && done.method == req.method.as_str()
            && match req.ask {
                Ask::Parts(s) => s.amount() == done.amount_units,
                Ask::Amount { amount, .. } => amount.is_none_or(|a| a == done.amount_units),
            };
        if !same {
            return Err(RefundError::KeyReused(format!(
                "{} on order {}",
                amount_from_units(done.amount_units, &done.currency),
                done.order_id
            )));
        }
        if done.status != FAILED {
            return Ok(Refunded {
                refund: done.clone(),
                made: false,
                events: Vec::new(),
            });
        }
    }
    let paid = paid_of(tx, &order).await?;
    let split = match (&earlier, req.ask) {
        // A failed intent tried again: the same parts, still within what is left.
        (Some(failed), _) => {
            let s = Split {
                goods: failed.goods_units,
                shipping: failed.shipping_units,
                tax: failed.tax_units,
            };
            decide::check(&paid, &s).map(|()| s)
        }
        (None, Ask::Amount { amount, shipping }) => decide::split(&paid, amount, shipping),
        (None, Ask::Parts(s)) => decide::check(&paid, &s).map(|()| s),
    }
    .map_err(RefundError::Refused)?;
    let now = Utc::now();
    let row = match earlier {
        Some(failed) => failed,
        None => {
            repo::insert(
                tx,
                Refund {
                    tenant_id: tx.tenant().uuid(),
                    id: uuid::Uuid::now_v7(),
                    order_id: order.id,
                    return_id: req.return_id,
                    idempotency_key: req.key.clone(),
                    method: req.method.as_str().to_owned(),
                    provider: BuiltIn.name().to_owned(),
                    provider_ref: None,
                    status: PENDING.to_owned(),
                    currency: order.currency.to_string(),
                    goods_units: split.goods,
                    shipping_units: split.shipping,
                    tax_units: split.tax,
                    amount_units: split.amount(),
                    withheld_units: req.withheld.max(0),
                    reason: req.reason.clone(),
                    error: None,
                    actor_kind: req.actor.kind().to_owned(),
                    actor_id: req.actor.id(),
                    created_at: now,
                    completed_at: None,
                },
            )
            .await?
        }
    };
    let outcome = match req.method {
        Method::StoreCredit => Ok(ProviderOutcome::Succeeded {
            reference: format!("credit_{}", row.id.simple()),
        }),
        Method::Original => {
            let facts: PaymentFacts =
                serde_json::from_value(order.payment.clone()).unwrap_or_default();
            BuiltIn
                .refund(RefundCall {
                    key: &req.key,
                    amount_units: split.amount(),
                    currency: &order.currency,
                    payment_reference: facts.reference.as_deref(),
                    reason: req.reason.as_deref(),
                })
                .await
        }
    };
    let amount = format!(
        "{} {}",
        amount_from_units(split.amount(), &order.currency),
        order.currency
    );
    let (refund, event) = match outcome {
        Ok(ProviderOutcome::Succeeded { reference }) => {
            let refund = repo::finish(tx, row.id, SUCCEEDED, Some(reference), None).await?;
            book(tx, &order, &refund, split, req.actor).await?;
            settle_order(tx, &order, &paid, split.amount()).await?;
            let event = NewEvent {
                order: req.order,
                kind: "refund.issued",
                actor: req.actor,
                actor_label: req.actor_label.clone(),
                message: format!(
                    "Refunded {amount}{}{}",
                    match req.method {
                        Method::Original => " to the original payment method",
                        Method::StoreCredit => " as store credit",
                    },
                    if refund.withheld_units > 0 {
                        format!(
                            " ({} {} withheld)",
                            amount_from_units(refund.withheld_units, &order.currency),
                            order.currency
                        )
                    } else {
                        String::new()
                    }
                ),
                reason: req.reason.clone(),
                data: serde_json::json!({
                    "refundId": refund.id,
                    "returnId": refund.return_id,
                    "refund": {
                        "amount": amount,
                        "method": match req.method {
                            Method::Original => "original payment method",
                            Method::StoreCredit => "store credit",
                        },
                        "reason": req.reason,
                        "expected": (req.method == Method::Original).then_some("5 to 10 business days"),
                    },
                }),
            };
            (refund, event)
        }
        Ok(ProviderOutcome::Failed { reason }) | Err(reason) => {
            let refund = repo::finish(tx, row.id, FAILED, None, Some(reason.clone())).await?;
            let event = NewEvent {
                order: req.order,
                kind: "refund.failed",
                actor: req.actor,
                actor_label: req.actor_label.clone(),
                message: format!("Refund of {amount} failed: {reason}"),
                reason: req.reason.clone(),
                data: serde_json::json!({ "refundId": refund.id, "error": reason }),
            };
            (refund, event)
        }
    };
    let event = timeline::record_event(tx, event).await?;
    Ok(Refunded {
        refund,
        made: true,
        events: vec![event],
    })
}

async fn book(
    tx: &TenantTx,
    order: &Order,
    refund: &Refund,
    s: Split,
    actor: Actor,
) -> Result<(), DbErr> {
    if order.test {
        return Ok(());
    }
    let op = if refund.method == Method::StoreCredit.as_str() {
        Operation::CreditRefund {
            goods: s.goods,
            shipping: s.shipping,
            tax: s.tax,
        }
    } else {
        Operation::Refund {
            goods: s.goods,
            shipping: s.shipping,
            tax: s.tax,
        }
    };
    ledger::post(
        tx,
        vec![Posting {
            op,
            currency: order.currency.to_string(),
            memo: format!("refund for {}", order.name),
            source: (SourceKind::Refund, refund.id),
            order: Some(OrderId(order.id)),
            key: format!("refund:{}", refund.id),
            at: refund.completed_at.unwrap_or_else(Utc::now),
            actor,
        }],
    )
    .await?;
    Ok(())
}

/// The order's money state after a refund: less due back, refunded or partly refunded.
async fn settle_order(tx: &TenantTx, order: &Order, paid: &Paid, amount: i64) -> Result<(), DbErr> {
    let left = Money::from_units((order.refund_due.units() - amount).max(0), order.currency);
    orders_repo::set_refund_due(
        tx,
        OrderId(order.id),
        left,
        decide::status_after(paid, amount),
    )
    .await
}
