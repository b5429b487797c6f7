//! The automated stages, run by the `order.advance` job: gate on capture issues, verify the
//! payment, screen for fraud, allocate stock. A batch of orders is decided in one
//! transaction: the orders are locked in id order, the stock levels they need in key order
//! (so two batches never deadlock), and every order is planned against what the ones before
//! it left.

use std::collections::HashMap;

use super::gate::gate;
use crate::customers::repo::{self as customers, Customer};
use crate::domain::TenantId;
use crate::domain::money::{Currency, Money, to_units};
use crate::domain::{CustomerId, OrderId, VariantId};
use crate::infra::db::Db;
use crate::jobs::Job;
use crate::lifecycle::allocation::repo::{self as allocations, Allocation, AllocationStatus};
use crate::lifecycle::allocation::service::{self as allocate, StockBook, stocked_lines};
use crate::lifecycle::fraud::model::{self as fraud, FraudOutcome};
use crate::lifecycle::fraud::signals;
use crate::lifecycle::payment::decide::{self as payment, PaymentVerdict};
use crate::lifecycle::settings::{self, LifecycleSettings};
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::wake::ExpireReservation;
use crate::lifecycle::transition::{self, By, Step, TransitionError};
use crate::order::canonical::{FinancialStatus, PaymentFacts};
use crate::order::issues::Issue;
use crate::order::repo::{self, Order, OrderLine};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, TenantTx};
use chrono::{Duration, Utc};

/// How the engine signs its timeline entries.
pub const ENGINE: &str = "lifecycle engine";

pub(super) struct Batch {
    pub(super) settings: LifecycleSettings,
    store_average: HashMap<Currency, Option<i64>>,
    pub(super) lines: HashMap<uuid::Uuid, Vec<OrderLine>>,
    allocations: HashMap<uuid::Uuid, Vec<Allocation>>,
    customers: HashMap<uuid::Uuid, Customer>,
    /// Timeline events of the batch, written together at the end.
    pending: Vec<NewEvent<'static>>,
    /// Orders changed by the batch, with the state each had when locked: each is written
    /// once at the end.
    dirty: HashMap<uuid::Uuid, OrderState>,
}

impl Batch {
    /// Moves the order in memory and keeps the event.
    pub(super) fn stage(
        &mut self,
        order: &mut Order,
        by: &By,
        step: Step,
    ) -> Result<(), TransitionError> {
        let from = order.state;
        let event = transition::make_move(order, by, step)?;
        self.dirty.entry(order.id).or_insert(from);
        self.pending.push(event);
        Ok(())
    }

    /// Keeps an event of an order whose columns may have changed without a move.
    pub(super) fn note(&mut self, order: &Order, event: NewEvent<'static>) {
        self.dirty.entry(order.id).or_insert_with(|| order.state);
        self.pending.push(event);
    }
}

/// Moves each order as far as the automated stages take it; returns the timeline events.
pub async fn advance(
    db: &Db,
    tenant: TenantId,
    ids: &[OrderId],
) -> Result<Vec<OrderEvent>, TransitionError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let mut orders = repo::get_many_for_update(&tx, ids).await?;
    let ids: Vec<OrderId> = orders.iter().map(|o| OrderId(o.id)).collect();
    let mut lines: HashMap<uuid::Uuid, Vec<OrderLine>> = HashMap::new();
    for l in repo::lines_of(&tx, &ids).await? {
        lines.entry(l.order_id).or_default().push(l);
    }
    let mut by_order: HashMap<uuid::Uuid, Vec<Allocation>> = HashMap::new();
    for a in allocations::of_orders(&tx, &ids).await? {
        by_order.entry(a.order_id).or_default().push(a);
    }
    let customer_ids: Vec<CustomerId> = orders
        .iter()
        .filter_map(|o| o.customer_id.map(CustomerId))
        .collect();
    let customers = customers::get_many(&tx, &customer_ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut batch = Batch {
        settings: settings::load(&tx).await?,
        store_average: HashMap::new(),
        lines,
        allocations: by_order,
        customers,
        pending: Vec::new(),
        dirty: HashMap::new(),
    };
    let by = By::system(ENGINE);
    let mut to_allocate = Vec::new();
    let mut stocked = Vec::new();
    for (i, order) in orders.iter_mut().enumerate() {
        if order.state == OrderState::Allocated {
            stocked.push(i);
        } else if let Some(why) = checks(&tx, &mut batch, order, &by).await? {
            to_allocate.push((i, why));
            stocked.push(i);
        }
    }
    if !stocked.is_empty() {
        // One book for allocation and routing: the levels are locked once, in key order.
        let variants: Vec<VariantId> = stocked
            .iter()
            .flat_map(|i| stocked_lines(batch.lines.get(&orders[*i].id).map_or(&[][..], |l| l)))
            .filter_map(|l| l.variant_id.map(VariantId))
            .collect();
        let mut book = StockBook::load(&tx, &variants).await?;
        for (i, why) in to_allocate {
            reserve(&tx, &mut batch, &mut book, &mut orders[i], why, &by).await?;
        }
        let routable: Vec<usize> = stocked
            .into_iter()
            .filter(|i| orders[*i].state == OrderState::Allocated)
            .collect();
        if !routable.is_empty() {
            let mut ctx = Context::load(&tx, &variants).await?;
            // Without a carrier service (or a carrier with a remote API) there is nothing to
            // route against: orders wait, allocated, until one is set up (which resumes them).
            if ctx.book.has_remote() || ctx.book.carriers.iter().any(|c| !c.services.is_empty()) {
                let ids: Vec<OrderId> = routable.iter().map(|i| OrderId(orders[*i].id)).collect();
                let mut held: HashMap<uuid::Uuid, Vec<Allocation>> = HashMap::new();
                for a in allocations::of_orders(&tx, &ids).await? {
                    held.entry(a.order_id).or_default().push(a);
                }
                for i in routable {
                    let order = &mut orders[i];
                    let mine = held.remove(&order.id).unwrap_or_default();
                    super::fulfil::route_and_label(
                        &tx, &mut batch, &mut ctx, &mut book, order, &mine, &by,
                    )
                    .await?;
                }
            }
        }
    }
    // One write per changed order and one for all the events, rather than one per stage.
    for order in orders.iter_mut() {
        if let Some(locked) = batch.dirty.get(&order.id) {
            transition::save(&tx, order, Some(*locked)).await?;
        }
    }
    let events = timeline::record_events(&tx, batch.pending).await?;
    tx.commit().await?;
    Ok(events)
}

/// Why an order reaches allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allocate {
    /// Screened, or backordered and retried.
    Fulfil,
    /// Waiting for payment: hold what is there for a while.
    HoldUnpaid,
}

/// Runs the stages before allocation; says whether (and why) the order goes on to it.
async fn checks(
    tx: &TenantTx,
    batch: &mut Batch,
    order: &mut Order,
    by: &By,
) -> Result<Option<Allocate>, TransitionError> {
    // Each pass moves the order one stage; a stage that leaves it where it is ends the run.
    for _ in 0..4 {
        let before = order.state;
        match before {
            OrderState::Received => {
                let issues: Vec<Issue> =
                    serde_json::from_value(order.issues.clone()).unwrap_or_default();
                if let Some((to, why)) = gate(&issues) {
                    let (kind, message) = if to == OrderState::AddressIssue {
                        (
                            "order.address_issue",
                            format!("Waiting for a correct shipping address: {why}"),
                        )
                    } else {
                        ("order.held", format!("Held until resolved: {why}"))
                    };
                    if to == OrderState::OnHold {
                        order.hold_reason = Some(why.clone());
                    }
                    batch.stage(
                        order,
                        by,
                        Step {
                            to,
                            kind,
                            message,
                            reason: Some(why),
                            data: serde_json::json!({}),
                        },
                    )?;
                    return Ok(None);
                }
                verify_payment(batch, order, by)?;
            }
            OrderState::PaymentReview => {
                verify_payment(batch, order, by)?;
                if order.state == OrderState::PaymentReview {
                    let unpaid = order.payment_verdict.as_deref() == Some("review");
                    let holds_any = batch
                        .allocations
                        .get(&order.id)
                        .is_some_and(|a| a.iter().any(|a| a.status == "reserved"));
                    return Ok((unpaid && batch.settings.reserve_unpaid && !holds_any)
                        .then_some(Allocate::HoldUnpaid));
                }
            }
            OrderState::PaymentVerified => screen(tx, batch, order, by).await?,
            OrderState::Screened | OrderState::Backordered => return Ok(Some(Allocate::Fulfil)),
            _ => return Ok(None),
        }
        if order.state == before {
            return Ok(None);
        }
    }
    Ok(None)
}

fn verify_payment(batch: &mut Batch, order: &mut Order, by: &By) -> Result<(), TransitionError> {
    let facts: PaymentFacts = serde_json::from_value(order.payment.clone()).unwrap_or_default();
    let decision = payment::decide(&payment::Facts {
        payment: &facts,
        financial_status: FinancialStatus::parse(&order.financial_status),
        total: order.total.shown(),
        currency: &order.currency,
    });
    let unchanged = order.payment_decision.as_ref()
        == Some(&serde_json::to_value(&decision).unwrap_or_default());
    order.payment_verdict = Some(decision.verdict.as_str().to_owned());
    order.payment_decision = Some(serde_json::to_value(&decision).unwrap_or_default());
    let reasons = decision.reasons().join("; ");
    let data = serde_json::json!({ "verdict": decision.verdict, "findings": decision.findings });
    let from = order.state;
    let step = match decision.verdict {
        PaymentVerdict::Verified => Step {
            to: OrderState::PaymentVerified,
            kind: "order.payment_verified",
            message: format!("Payment verified: {reasons}"),
            reason: None,
            data,
        },
        verdict if from == OrderState::PaymentReview => {
            // Still not verified: say so only when the facts changed.
            if !unchanged {
                batch.note(
                    order,
                    NewEvent {
                        order: OrderId(order.id),
                        kind: "order.payment_reassessed",
                        actor: by.actor,
                        actor_label: by.label.clone(),
                        message: format!(
                            "Payment still needs review ({}): {reasons}",
                            verdict.as_str()
                        ),
                        reason: None,
                        data,
                    },
                );
            }
            return Ok(());
        }
        verdict => Step {
            to: OrderState::PaymentReview,
            kind: "order.payment_review",
            message: if verdict == PaymentVerdict::Failed {
                format!("Payment failed: {reasons}")
            } else {
                format!("Payment needs review: {reasons}")
            },
            reason: Some(reasons.clone()),
            data,
        },
    };
    batch.stage(order, by, step)?;
    Ok(())
}

async fn screen(
    tx: &TenantTx,
    batch: &mut Batch,
    order: &mut Order,
    by: &By,
) -> Result<(), TransitionError> {
    let average = match batch.store_average.get(&order.currency) {
        Some(a) => *a,
        None => {
            let a = signals::store_average(tx, &order.currency).await?;
            batch.store_average.insert(order.currency, a);
            a
        }
    };
    let customer = order.customer_id.and_then(|c| batch.customers.get(&c));
    let lines = batch.lines.get(&order.id).map_or(&[][..], |l| l);
    let facts = signals::facts(tx, order, lines, customer, &batch.settings, average).await?;
    let assessment = fraud::score(&facts);
    order.fraud_score = Some(assessment.score);
    order.fraud_level = Some(assessment.level.as_str().to_owned());
    order.fraud_decision = Some(serde_json::to_value(&assessment).unwrap_or_default());
    let s = &batch.settings;
    let outcome = fraud::outcome(assessment.score, s.fraud_review_score, s.fraud_reject_score);
    let top: Vec<String> = {
        let mut r = assessment.reasons.clone();
        r.sort_by_key(|r| std::cmp::Reverse(r.contribution));
        r.iter()
            .filter(|r| r.contribution > 0)
            .take(3)
            .map(|r| r.message.clone())
            .collect()
    };
    let summary = format!(
        "fraud score {} ({}){}",
        assessment.score,
        assessment.level.as_str(),
        if top.is_empty() {
            String::new()
        } else {
            format!(": {}", top.join("; "))
        }
    );
    let data = serde_json::json!({
        "score": assessment.score,
        "level": assessment.level,
        "reasons": assessment.reasons,
        "thresholds": { "review": s.fraud_review_score, "reject": s.fraud_reject_score },
    });
    let step = match outcome {
        FraudOutcome::Approve => Step {
            to: OrderState::Screened,
            kind: "order.screened",
            message: format!("Screened, {summary}"),
            reason: None,
            data,
        },
        FraudOutcome::Review => Step {
            to: OrderState::FraudReview,
            kind: "order.fraud_review",
            message: format!("Held for fraud review, {summary}"),
            reason: Some(format!(
                "score {} ≥ review threshold {}",
                assessment.score, s.fraud_review_score
            )),
            data,
        },
        FraudOutcome::Reject => {
            order.refund_due = refund_due(order);
            Step {
                to: OrderState::Rejected,
                kind: "order.rejected",
                message: format!("Rejected automatically, {summary}"),
                reason: Some(format!(
                    "score {} ≥ reject threshold {}",
                    assessment.score, s.fraud_reject_score
                )),
                data,
            }
        }
    };
    let rejected = step.to == OrderState::Rejected;
    batch.stage(order, by, step)?;
    if rejected {
        // An unpaid reservation may have been made while payment was in review.
        super::release_plan(tx, order, Actor::System).await?;
    }
    Ok(())
}

/// What was captured and must go back when an order is stopped.
pub fn refund_due(order: &Order) -> Money {
    let facts: PaymentFacts = serde_json::from_value(order.payment.clone()).unwrap_or_default();
    let captured = to_units(facts.amount_captured)
        .unwrap_or(0)
        .clamp(0, order.total.units().max(0));
    Money::from_units(captured, order.currency)
}

async fn reserve(
    tx: &TenantTx,
    batch: &mut Batch,
    book: &mut StockBook,
    order: &mut Order,
    why: Allocate,
    by: &By,
) -> Result<(), TransitionError> {
    let lines = batch.lines.get(&order.id).cloned().unwrap_or_default();
    let existing = batch
        .allocations
        .get(&order.id)
        .cloned()
        .unwrap_or_default();
    let id = OrderId(order.id);
    let threshold = i64::from(batch.settings.low_stock_threshold);
    let watched = if threshold > 0 {
        let mut variants: Vec<VariantId> = stocked_lines(&lines)
            .filter_map(|l| l.variant_id.map(VariantId))
            .collect();
        variants.sort();
        variants.dedup();
        variants.into_iter().map(|v| (v, book.free(v))).collect()
    } else {
        Vec::new()
    };
    if why == Allocate::HoldUnpaid {
        let hours = batch.settings.unpaid_reservation_hours;
        let until = Utc::now() + Duration::hours(hours.into());
        let got = allocate::allocate(
            tx,
            book,
            allocate::Ask {
                order,
                lines: &lines,
                existing: &existing,
                expires_at: Some(until),
                backorder_rest: false,
            },
            Actor::System,
        )
        .await?;
        if got.reserved > 0 {
            ExpireReservation { order: id }
                .enqueue_at(tx, until)
                .await?;
            batch.note(
                order,
                NewEvent {
                    order: id,
                    kind: "order.stock_held",
                    actor: by.actor,
                    actor_label: by.label.clone(),
                    message: format!(
                        "{} unit(s) held for {hours} h while the payment is awaited",
                        got.reserved
                    ),
                    reason: None,
                    data: serde_json::json!({ "units": got.reserved, "expiresAt": until }),
                },
            );
        }
        stock_low(batch, book, order, by, &lines, &watched, threshold);
        return Ok(());
    }
    let got = allocate::allocate(
        tx,
        book,
        allocate::Ask {
            order,
            lines: &lines,
            existing: &existing,
            expires_at: None,
            backorder_rest: true,
        },
        Actor::System,
    )
    .await?;
    stock_low(batch, book, order, by, &lines, &watched, threshold);
    allocations::clear_expiry(tx, id).await?;
    let from = order.state;
    let already_reserved: i64 = existing
        .iter()
        .filter(|a| AllocationStatus::parse(&a.status) == AllocationStatus::Reserved)
        .map(|a| a.quantity)
        .sum();
    let step = if got.backorders.is_empty() {
        Step {
            to: OrderState::Allocated,
            kind: "order.allocated",
            message: format!(
                "Stock reserved for every line ({} unit(s){})",
                got.reserved + already_reserved,
                if from == OrderState::Backordered {
                    ", backorder filled"
                } else {
                    ""
                }
            ),
            reason: None,
            data: serde_json::json!({ "warehouses": got.warehouses.iter().map(|w| w.uuid()).collect::<Vec<_>>() }),
        }
    } else if from == OrderState::Backordered {
        if got.reserved > 0 {
            batch.note(
                order,
                NewEvent {
                    order: id,
                    kind: "order.backorder_progress",
                    actor: by.actor,
                    actor_label: by.label.clone(),
                    message: format!(
                        "{} more unit(s) reserved; still waiting for {}",
                        got.reserved,
                        describe(&got.backorders)
                    ),
                    reason: None,
                    data: serde_json::json!({ "backorders": got.backorders }),
                },
            );
        }
        return Ok(());
    } else {
        Step {
            to: OrderState::Backordered,
            kind: "order.backordered",
            message: format!("Backordered: waiting for {}", describe(&got.backorders)),
            reason: None,
            data: serde_json::json!({ "backorders": got.backorders, "reserved": got.reserved }),
        }
    };
    batch.stage(order, by, step)?;
    Ok(())
}

/// Records `order.stock_low` for each SKU this order's allocation took below the tenant's
/// threshold, so that rules can reorder, warn or tag.
fn stock_low(
    batch: &mut Batch,
    book: &StockBook,
    order: &Order,
    by: &By,
    lines: &[OrderLine],
    watched: &[(VariantId, i64)],
    threshold: i64,
) {
    for (variant, left) in book.fell_below(watched, threshold) {
        let sku = lines
            .iter()
            .find(|l| l.variant_id == Some(variant.uuid()))
            .and_then(|l| l.sku.clone());
        batch.note(
            order,
            NewEvent {
                order: OrderId(order.id),
                kind: "order.stock_low",
                actor: by.actor,
                actor_label: by.label.clone(),
                message: format!(
                    "Stock low: {} has {left} unit(s) free in all warehouses, below {threshold}",
                    sku.as_deref().unwrap_or("a variant")
                ),
                reason: None,
                data: serde_json::json!({
                    "sku": sku,
                    "variantId": variant.uuid(),
                    "available": left,
                    "threshold": threshold,
                }),
            },
        );
    }
}

fn describe(backorders: &[allocate::Backorder]) -> String {
    backorders
        .iter()
        .map(|b| {
            format!(
                "{} × {}{}",
                b.quantity,
                b.sku.as_deref().unwrap_or("?"),
                b.eta
                    .map(|e| format!(" (expected {})", e.format("%Y-%m-%d")))
                    .unwrap_or_else(|| " (no supplier date)".into())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
