//! Making a refund: under the order's lock, once per intent key, never more than was captured
//! less what was refunded; the provider moves the money, the ledger books it, the timeline
//! and the shopper hear of it.

use chrono::Utc;
use sea_orm::DbErr;

use super::decide::{self, Paid, Refusal, Split};
use super::processors;
use super::provider::{BuiltIn, PaymentProvider, ProviderOutcome, RefundCall};
use super::remote::{RefundThroughChannel, SendRefund};
use super::repo::{self, FAILED, PENDING, Refund, SUCCEEDED};
use super::route::Route;
use crate::domain::OrderId;
use crate::domain::money::{Money, amount_from_units};
use crate::jobs::Job;
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::SourceKind;
use crate::lifecycle::ledger::service::{self as ledger, Posting, captured_units};
use crate::lifecycle::transition::By;
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
    /// The order's refund route cannot be followed (why, in words).
    #[error("{0}")]
    Route(String),
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
    let route = match req.method {
        Method::StoreCredit => Route::Simulated,
        Method::Original => {
            processors::decide_for(tx, &order)
                .await?
                .0
                .map_err(RefundError::Route)?
                .route
        }
    };
    let now = Utc::now();
    let row = match earlier {
        Some(failed) => repo::retry(tx, &failed, route.provider()).await?,
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
                    provider: route.provider().to_owned(),
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
                    attempt: 0,
                },
            )
            .await?
        }
    };
    let by = By {
        actor: req.actor,
        label: req.actor_label.clone(),
    };
    if route.calls_out() {
        let event = request(tx, &order, &row, route, &by).await?;
        return Ok(Refunded {
            refund: row,
            made: true,
            events: vec![event],
        });
    }
    let outcome = match req.method {
        Method::StoreCredit => Ok(ProviderOutcome::Succeeded {
            reference: format!("credit_{}", row.id.simple()),
            note: None,
        }),
        Method::Original => {
            BuiltIn
                .refund(RefundCall {
                    key: &req.key,
                    amount_units: split.amount(),
                    currency: &order.currency,
                    payment_reference: order.payment_reference.as_deref(),
                    reason: req.reason.as_deref(),
                })
                .await
        }
    };
    let event = conclude(tx, &order, &row, outcome, &by, false).await?;
    Ok(Refunded {
        refund: repo::get(tx, row.id).await?.unwrap_or(row),
        made: true,
        events: vec![event],
    })
}

/// A refund the provider makes by a call out: the money is on its way (no longer due), and a
/// job asks for it with the intent's key.
async fn request(
    tx: &TenantTx,
    order: &Order,
    row: &Refund,
    route: Route,
    by: &By,
) -> Result<OrderEvent, DbErr> {
    let left = Money::from_units(
        (order.refund_due.units() - row.amount_units).max(0),
        order.currency,
    );
    orders_repo::set_refund_due(tx, OrderId(order.id), left, &order.financial_status).await?;
    match route {
        Route::Channel(_) => {
            RefundThroughChannel {
                refund: row.id,
                order: order.id,
                round: 0,
            }
            .enqueue(tx)
            .await?
        }
        _ => {
            SendRefund {
                refund: row.id,
                order: order.id,
                round: 0,
            }
            .enqueue(tx)
            .await?
        }
    }
    let who = match route {
        Route::Channel(c) => c.title(),
        _ => "Stripe",
    };
    timeline::record_event(
        tx,
        NewEvent {
            order: OrderId(order.id),
            kind: "refund.requested",
            actor: by.actor,
            actor_label: by.label.clone(),
            message: format!(
                "Refund of {} requested from {who}",
                shown(row.amount_units, &order.currency)
            ),
            reason: row.reason.clone(),
            data: serde_json::json!({ "refundId": row.id, "provider": route.provider() }),
        },
    )
    .await
}

fn shown(units: i64, currency: &str) -> String {
    format!("{} {currency}", amount_from_units(units, currency))
}

/// Ends a refund with the provider's answer, under the order's lock: a refund made is booked
/// and settles the order; a failed one is due again (when it had been taken off what is due)
/// with the provider's reason. Nothing happens to a refund that has already ended.
pub async fn finish(
    tx: &TenantTx,
    refund: uuid::Uuid,
    outcome: Result<ProviderOutcome, String>,
    by: &By,
) -> Result<Option<OrderEvent>, DbErr> {
    let Some(row) = repo::get(tx, refund).await? else {
        return Ok(None);
    };
    let Some(order) = orders_repo::get_for_update(tx, OrderId(row.order_id)).await? else {
        return Ok(None);
    };
    // Read again under the lock: a webhook and the job may answer at once.
    let Some(row) = repo::get(tx, row.id).await?.filter(|r| r.status == PENDING) else {
        return Ok(None);
    };
    conclude(tx, &order, &row, outcome, by, true)
        .await
        .map(Some)
}

/// Writes the outcome. `requested`: the amount was taken off what is due when the refund was
/// asked for (a provider called out to), so it is not taken again, and a failure gives it back.
async fn conclude(
    tx: &TenantTx,
    order: &Order,
    row: &Refund,
    outcome: Result<ProviderOutcome, String>,
    by: &By,
    requested: bool,
) -> Result<OrderEvent, DbErr> {
    let split = Split {
        goods: row.goods_units,
        shipping: row.shipping_units,
        tax: row.tax_units,
    };
    let amount = shown(row.amount_units, &order.currency);
    let method = if row.method == Method::StoreCredit.as_str() {
        Method::StoreCredit
    } else {
        Method::Original
    };
    let through = match Route::of_provider(&row.provider) {
        Some(Route::Simulated) | None => String::new(),
        Some(Route::Stripe) => " through Stripe".into(),
        Some(Route::Channel(c)) => format!(" through {}", c.title()),
    };
    let event = match outcome {
        Ok(ProviderOutcome::Succeeded { reference, note }) => {
            // What the order had given back before this refund.
            let mut paid = paid_of(tx, order).await?;
            paid.refunded -= row.amount_units;
            let refund = repo::finish(tx, row.id, SUCCEEDED, Some(reference), None).await?;
            book(tx, order, &refund, split, by.actor).await?;
            let due = if requested {
                order.refund_due.units()
            } else {
                (order.refund_due.units() - row.amount_units).max(0)
            };
            orders_repo::set_refund_due(
                tx,
                OrderId(order.id),
                Money::from_units(due, order.currency),
                decide::status_after(&paid, row.amount_units),
            )
            .await?;
            NewEvent {
                order: OrderId(order.id),
                kind: "refund.issued",
                actor: by.actor,
                actor_label: by.label.clone(),
                message: format!(
                    "Refunded {amount}{}{through}{}{}",
                    match method {
                        Method::Original => " to the original payment method",
                        Method::StoreCredit => " as store credit",
                    },
                    if refund.withheld_units > 0 {
                        format!(
                            " ({} withheld)",
                            shown(refund.withheld_units, &order.currency)
                        )
                    } else {
                        String::new()
                    },
                    note.map(|n| format!(". {n}")).unwrap_or_default()
                ),
                reason: row.reason.clone(),
                data: serde_json::json!({
                    "refundId": refund.id,
                    "returnId": refund.return_id,
                    "refund": {
                        "amount": amount,
                        "method": match method {
                            Method::Original => "original payment method",
                            Method::StoreCredit => "store credit",
                        },
                        "reason": row.reason,
                        "expected": (method == Method::Original).then_some("5 to 10 business days"),
                    },
                }),
            }
        }
        Ok(ProviderOutcome::Failed { reason }) | Err(reason) => {
            // Stripe's id stays with a failed refund: staff can look it up there.
            let refund = repo::finish(
                tx,
                row.id,
                FAILED,
                row.provider_ref.clone(),
                Some(reason.clone()),
            )
            .await?;
            if requested {
                orders_repo::set_refund_due(
                    tx,
                    OrderId(order.id),
                    Money::from_units(order.refund_due.units() + row.amount_units, order.currency),
                    &order.financial_status,
                )
                .await?;
            }
            NewEvent {
                order: OrderId(order.id),
                kind: "refund.failed",
                actor: by.actor,
                actor_label: by.label.clone(),
                message: format!(
                    "Refund of {amount}{through} failed: {reason}{}",
                    if requested { "; it is due again" } else { "" }
                ),
                reason: row.reason.clone(),
                data: serde_json::json!({ "refundId": refund.id, "error": reason }),
            }
        }
    };
    timeline::record_event(tx, event).await
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
