//! Capture: a canonical order from any source becomes exactly one stored order. Idempotent on
//! (tenant, channel, external id); an update replaces what the channel says, unless it is older
//! than what we hold; every change lands on the order's timeline with its actor.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{order_lines, orders};
use sea_orm::ActiveValue::Set;

use super::validate;
use crate::catalog::product_repo;
use crate::customers::repo as customers;
use crate::domain::money::{Currency, to_units};
use crate::domain::{ConnectionId, CustomerId, Email, OrderId, Sku, VariantId};
use crate::error::AppError;
use crate::jobs::Job;
use crate::lifecycle::events::{self, ChannelChange};
use crate::lifecycle::ledger::service as ledger;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::wake::AdvanceOrder;
use crate::order::canonical::{CanonicalOrder, Line};
use crate::order::issues::{Issue, IssueCode};
use crate::order::repo::{self, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, TenantTx};

/// Where an order came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// `shopify`, `woocommerce`, `bigcommerce`, `amazon`, `etsy` or `api`.
    pub channel: String,
    pub connection: Option<ConnectionId>,
    pub actor: Actor,
    /// Who, in words, for the timeline.
    pub actor_label: Option<String>,
}

impl Source {
    /// Whose external ids these are: each connection has its own (two shops on one platform
    /// may both have an order 1234); orders created over the API share `api`.
    pub fn key(&self) -> String {
        match self.connection {
            Some(c) => c.to_string(),
            None => self.channel.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    /// A redelivery, or an update older than what we hold.
    Unchanged,
}

#[derive(Debug)]
pub struct Captured {
    pub change: Change,
    pub order: Order,
    pub events: Vec<OrderEvent>,
}

/// The payload cannot be stored as an order at all (as opposed to issues, which are stored).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<CaptureError> for AppError {
    fn from(err: CaptureError) -> Self {
        match err {
            CaptureError::Invalid { field, message } => AppError::bad_input(field, message),
            CaptureError::Db(db) => db.into(),
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> CaptureError {
    CaptureError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn units(field: &str, amount: rust_decimal::Decimal) -> Result<i64, CaptureError> {
    to_units(amount).map_err(|m| invalid(field, m))
}

/// Checks what must hold for an order to be stored at all.
fn check_storable(o: &CanonicalOrder) -> Result<Currency, CaptureError> {
    if o.external_id.trim().is_empty() {
        return Err(invalid("externalId", "is required"));
    }
    let currency = Currency::parse(&o.currency).map_err(|m| invalid("currency", m))?;
    if o.lines.is_empty() {
        return Err(invalid("lines", "an order needs at least one line"));
    }
    // Every amount must be storable exactly; checked in input order so the first is named.
    for (i, l) in o.lines.iter().enumerate() {
        units(&format!("lines.{i}.unitPrice"), l.unit_price)?;
        units(&format!("lines.{i}.discount"), l.discount)?;
        for (j, t) in l.tax_lines.iter().enumerate() {
            units(&format!("lines.{i}.taxLines.{j}.amount"), t.amount)?;
        }
    }
    for (i, s) in o.shipping_lines.iter().enumerate() {
        units(&format!("shippingLines.{i}.price"), s.price)?;
    }
    Ok(currency)
}

fn line_rows(
    tx: &TenantTx,
    order: OrderId,
    lines: &[Line],
    variants: &HashMap<String, VariantId>,
) -> Result<Vec<order_lines::ActiveModel>, CaptureError> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let sku = l.sku.as_deref().map(str::trim).filter(|s| !s.is_empty());
            Ok(order_lines::ActiveModel {
                tenant_id: Set(tx.tenant().uuid()),
                order_id: Set(order.uuid()),
                position: Set(i as i32),
                external_id: Set(l.external_id.clone()),
                sku: Set(sku.map(str::to_owned)),
                variant_id: Set(sku.and_then(|s| variants.get(s)).map(|v| v.uuid())),
                title: Set(l.title.clone()),
                variant_title: Set(l.variant_title.clone()),
                quantity: Set(l.quantity),
                unit_price_units: Set(units(&format!("lines.{i}.unitPrice"), l.unit_price)?),
                discount_units: Set(units(&format!("lines.{i}.discount"), l.discount)?),
                tax_units: Set(units(&format!("lines.{i}.taxLines"), l.tax())?),
                tax_lines: Set(serde_json::to_value(&l.tax_lines).unwrap_or_default()),
                requires_shipping: Set(l.requires_shipping),
                grams: Set(l.grams),
            })
        })
        .collect()
}

/// The catalog's variants for the order's SKUs, in one query.
async fn match_skus(
    tx: &TenantTx,
    lines: &[Line],
) -> Result<HashMap<String, VariantId>, CaptureError> {
    let skus: Vec<Sku> = lines
        .iter()
        .filter_map(|l| l.sku.as_deref())
        .filter_map(|s| Sku::parse(s).ok())
        .collect();
    Ok(product_repo::variants_by_sku(tx, &skus)
        .await?
        .into_iter()
        .map(|v| (v.sku, VariantId(v.id)))
        .collect())
}

/// Every capture check; `previous` keeps the resolved flag of issues already resolved.
fn issues_of(
    o: &CanonicalOrder,
    variants: &HashMap<String, VariantId>,
    duplicate_of: Option<&str>,
    previous: &[Issue],
) -> Vec<Issue> {
    let mut issues = validate::check_totals(o);
    issues.extend(validate::check_lines(&o.lines, |sku| {
        variants.contains_key(sku)
    }));
    issues.extend(validate::check_shipping_address(o));
    if let Some(other) = duplicate_of {
        issues.push(Issue::new(
            IssueCode::PossibleDuplicate,
            None,
            format!("same customer, items and total as order {other}, placed within a day"),
        ));
    }
    for issue in &mut issues {
        issue.resolved = previous
            .iter()
            .any(|p| p.resolved && p.code == issue.code && p.field == issue.field);
    }
    issues
}

/// Another order that looks like the same purchase: same email, total and items, within 24h.
async fn find_duplicate(
    tx: &TenantTx,
    o: &CanonicalOrder,
    email: &str,
    total_units: i64,
    source_key: &str,
) -> Result<Option<String>, CaptureError> {
    let window = Duration::hours(24);
    let candidates =
        repo::recent_by_email(tx, email, o.placed_at - window, o.placed_at + window).await?;
    let candidates: Vec<_> = candidates
        .into_iter()
        .filter(|c| !(c.source == source_key && c.external_id == o.external_id))
        .filter(|c| c.total.units() == total_units && c.cancelled_at.is_none())
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let mine = validate::fingerprint(
        Some(email),
        total_units,
        &o.lines
            .iter()
            .map(|l| (l.sku.clone(), l.quantity))
            .collect::<Vec<_>>(),
    );
    let ids: Vec<OrderId> = candidates.iter().map(|c| OrderId(c.id)).collect();
    let lines = repo::lines_of(tx, &ids).await?;
    Ok(candidates.into_iter().find_map(|c| {
        let theirs: Vec<_> = lines
            .iter()
            .filter(|l| l.order_id == c.id)
            .map(|l| (l.sku.clone(), l.quantity))
            .collect();
        (validate::fingerprint(c.email.as_deref(), c.total.units(), &theirs) == mine)
            .then(|| c.name.clone())
    }))
}

/// What a channel owns of an order, copied onto its row on create and on every newer update.
fn channel_fields(
    row: &mut orders::ActiveModel,
    o: &CanonicalOrder,
    currency: Currency,
    customer: Option<CustomerId>,
    email: Option<&Email>,
) -> Result<(), CaptureError> {
    repo::set_channel_fields(row, o, currency, customer, email.map(Email::as_str))
        .map_err(|u| invalid(u.field, u.message))
}

fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.chars().take(40).collect());
        }
    }
    out
}

/// Stores `o` as a new order, or updates the order it already is.
pub async fn capture(
    tx: &TenantTx,
    source: &Source,
    o: CanonicalOrder,
) -> Result<Captured, CaptureError> {
    let currency = check_storable(&o)?;
    let mut captured = match repo::by_external_id(tx, &source.key(), o.external_id.trim()).await? {
        Some(existing) => update(tx, source, existing, o, currency).await?,
        None => create(tx, source, o, currency).await?,
    };
    // A new order's rules run now, in this transaction, before the engine's first stage.
    let more = events::at_capture(tx, &captured.events).await?;
    if !more.is_empty() {
        // The rules may have changed the order (a hold, tags, pins): the caller sees it so.
        if let Some(fresh) = repo::get(tx, OrderId(captured.order.id)).await? {
            captured.order = fresh;
        }
        captured.events.extend(more);
    }
    Ok(captured)
}

async fn create(
    tx: &TenantTx,
    source: &Source,
    o: CanonicalOrder,
    currency: Currency,
) -> Result<Captured, CaptureError> {
    let id = OrderId::new();
    let variants = match_skus(tx, &o.lines).await?;
    let email = o
        .customer
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok());
    let total_units = units("totals.total", o.totals.total)?;
    let customer = match &email {
        Some(email) => Some(
            customers::upsert(
                tx,
                email,
                &o.customer,
                &source.channel,
                o.shipping_address.as_ref(),
                currency.code(),
            )
            .await?,
        ),
        None => None,
    };
    let duplicate = match &email {
        Some(email) => find_duplicate(tx, &o, email.as_str(), total_units, &source.key()).await?,
        None => None,
    };
    let issues = issues_of(&o, &variants, duplicate.as_deref(), &[]);
    let state = if o.cancelled_at.is_some() {
        OrderState::Cancelled
    } else {
        OrderState::Received
    };
    let now = Utc::now();
    let mut row = orders::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        channel: Set(source.channel.clone()),
        connection_id: Set(source.connection.map(|c| c.uuid())),
        external_id: Set(o.external_id.trim().to_owned()),
        source: Set(source.key()),
        tags: Set(serde_json::json!(clean_tags(&o.tags))),
        state: Set(state.as_str().to_owned()),
        issues: Set(serde_json::to_value(&issues).unwrap_or_default()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let customer_id = customer.as_ref().map(|c| CustomerId(c.id));
    channel_fields(&mut row, &o, currency, customer_id, email.as_ref())?;
    let lines = line_rows(tx, id, &o.lines, &variants)?;
    let order = repo::insert(tx, row).await?;
    repo::replace_lines(tx, id, lines).await?;
    if let Some(c) = &customer {
        customers::record_order(tx, c, total_units, currency.code(), o.placed_at).await?;
    }

    if state == OrderState::Received {
        AdvanceOrder { order: id }.enqueue(tx).await?;
    }
    ledger::on_captured(tx, &order, source.actor).await?;
    let mut events = vec![
        timeline::record_event(
            tx,
            NewEvent {
                order: id,
                kind: "order.received",
                actor: source.actor,
                actor_label: source.actor_label.clone(),
                message: format!(
                    "Order {} received from {} ({} {} across {} lines)",
                    order.name,
                    source.channel,
                    o.totals.total,
                    currency,
                    o.lines.len()
                ),
                reason: None,
                // The channel's ship-by time rides along: whoever watches it needs no read.
                data: serde_json::json!({ "channel": source.channel, "externalId": order.external_id, "shipBy": o.ship_by }),
            },
        )
        .await?,
    ];
    if !issues.is_empty() {
        events.push(issues_event(tx, id, &issues).await?);
    }
    if state == OrderState::Cancelled {
        events.push(cancelled_event(tx, source, id, &o).await?);
    }
    Ok(Captured {
        change: Change::Created,
        order,
        events,
    })
}

async fn issues_event(
    tx: &TenantTx,
    order: OrderId,
    issues: &[Issue],
) -> Result<OrderEvent, CaptureError> {
    let open: Vec<&Issue> = issues.iter().filter(|i| !i.resolved).collect();
    Ok(timeline::record_event(
        tx,
        NewEvent {
            order,
            kind: "order.issues_found",
            actor: Actor::System,
            actor_label: Some("capture checks".into()),
            message: format!(
                "{} issue(s) to resolve: {}",
                open.len(),
                open.iter()
                    .map(|i| i.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            reason: None,
            data: serde_json::to_value(issues).unwrap_or_default(),
        },
    )
    .await?)
}

async fn cancelled_event(
    tx: &TenantTx,
    source: &Source,
    order: OrderId,
    o: &CanonicalOrder,
) -> Result<OrderEvent, CaptureError> {
    Ok(timeline::record_event(
        tx,
        NewEvent {
            order,
            kind: "order.cancelled",
            actor: source.actor,
            actor_label: source.actor_label.clone(),
            message: format!("Cancelled on {}", source.channel),
            reason: o.cancel_reason.clone(),
            data: serde_json::json!({ "cancelledAt": o.cancelled_at }),
        },
    )
    .await?)
}

/// What a channel update changed, in words, for the timeline.
fn describe_changes(before: &Order, after: &Order, lines_changed: bool) -> Vec<String> {
    let mut changes = Vec::new();
    let mut field = |name: &str, from: String, to: String| {
        if from != to {
            changes.push(format!("{name}: {from} → {to}"));
        }
    };
    field(
        "financial status",
        before.financial_status.clone(),
        after.financial_status.clone(),
    );
    field(
        "fulfillment status",
        before.fulfillment_status.clone(),
        after.fulfillment_status.clone(),
    );
    field(
        "total units",
        before.total.units().to_string(),
        after.total.units().to_string(),
    );
    field(
        "email",
        before.email.clone().unwrap_or_default(),
        after.email.clone().unwrap_or_default(),
    );
    if before.shipping_address != after.shipping_address {
        changes.push("shipping address changed".into());
    }
    if before.note != after.note {
        changes.push("note changed".into());
    }
    if lines_changed {
        changes.push("line items changed".into());
    }
    changes
}

async fn update(
    tx: &TenantTx,
    source: &Source,
    existing: Order,
    o: CanonicalOrder,
    currency: Currency,
) -> Result<Captured, CaptureError> {
    let stale = match (o.source_updated_at, existing.source_updated_at) {
        // Platforms stamp to the second: an update in the same second as the one held is
        // applied (an exact redelivery then changes nothing and records nothing).
        (Some(new), Some(held)) => new < held,
        // Without timestamps (the API), a resubmission is a redelivery.
        (None, _) => true,
        (Some(_), None) => false,
    };
    if stale {
        return Ok(Captured {
            change: Change::Unchanged,
            order: existing,
            events: Vec::new(),
        });
    }
    let id = OrderId(existing.id);
    let variants = match_skus(tx, &o.lines).await?;
    let email = o
        .customer
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok());
    let previous: Vec<Issue> = serde_json::from_value(existing.issues.clone()).unwrap_or_default();
    // A duplicate flag raised on creation stays; it is not re-derived on updates.
    let duplicate = previous
        .iter()
        .find(|i| i.code == IssueCode::PossibleDuplicate)
        .map(|i| i.message.clone());
    let mut issues = issues_of(&o, &variants, None, &previous);
    if let Some(message) = duplicate {
        let resolved = previous
            .iter()
            .any(|p| p.code == IssueCode::PossibleDuplicate && p.resolved);
        issues.push(Issue {
            resolved,
            ..Issue::new(IssueCode::PossibleDuplicate, None, message)
        });
    }
    let customer = match &email {
        Some(email) => Some(
            customers::upsert(
                tx,
                email,
                &o.customer,
                &source.channel,
                o.shipping_address.as_ref(),
                currency.code(),
            )
            .await?,
        ),
        None => None,
    };
    let state = existing.state;
    let newly_cancelled = o.cancelled_at.is_some() && existing.cancelled_at.is_none();
    let old_lines = repo::lines_of(tx, &[id]).await?;
    let new_lines = line_rows(tx, id, &o.lines, &variants)?;
    let lines_changed = old_lines.len() != new_lines.len()
        || old_lines.iter().zip(&o.lines).any(|(a, b)| {
            a.sku.as_deref() != b.sku.as_deref().map(str::trim) || a.quantity != b.quantity
        });

    let mut row: orders::ActiveModel = existing.clone().into();
    channel_fields(
        &mut row,
        &o,
        currency,
        customer.as_ref().map(|c| CustomerId(c.id)),
        email.as_ref(),
    )?;
    row.issues = Set(serde_json::to_value(&issues).unwrap_or_default());
    // The note is staff's once the order exists; a channel's later note does not replace it.
    row.note = Set(existing
        .note
        .clone()
        .or(o.note.clone())
        .filter(|n| !n.trim().is_empty()));
    // Tags the channel adds join ours; tags staff added here are never dropped by a channel.
    let mut tags: Vec<String> = serde_json::from_value(existing.tags.clone()).unwrap_or_default();
    tags.extend(o.tags.iter().cloned());
    row.tags = Set(serde_json::json!(clean_tags(&tags)));
    if newly_cancelled && !state.has_shipped() && !state.is_terminal() {
        row.state = Set(OrderState::Cancelled.as_str().to_owned());
    }
    let mut order = repo::update(tx, row).await?;
    repo::replace_lines(tx, id, new_lines).await?;
    let cancelled = newly_cancelled && !state.has_shipped() && !state.is_terminal();
    let mut replanned = None;
    if cancelled || lines_changed {
        let change = ChannelChange {
            order: id,
            actor: source.actor,
            actor_label: source.actor_label.clone(),
            cancelled,
            lines_changed,
        };
        replanned = events::channel_changed(tx, change).await?;
        // The lifecycle may have moved the order (a hold, a new allocation): read it again.
        if let Some(fresh) = repo::get(tx, id).await? {
            order = fresh;
        }
    }
    if !cancelled && matches!(state, OrderState::Received | OrderState::PaymentReview) {
        // New payment facts (a capture, a settled transfer) may let the order go on.
        AdvanceOrder { order: id }.enqueue(tx).await?;
    }
    // A customer known only now (Amazon reveals the buyer after payment) gets the order counted.
    if existing.customer_id.is_none()
        && let Some(c) = &customer
    {
        customers::record_order(tx, c, order.total.units(), &order.currency, order.placed_at)
            .await?;
    }

    // A capture the channel reports later (authorized, then paid) is booked now.
    if existing.payment != order.payment {
        ledger::on_captured(tx, &order, source.actor).await?;
    }
    let changes = describe_changes(&existing, &order, lines_changed);
    if changes.is_empty() && issues == previous && o.source_updated_at == existing.source_updated_at
    {
        return Ok(Captured {
            change: Change::Unchanged,
            order,
            events: Vec::new(),
        });
    }
    let mut events = Vec::new();
    events.push(
        timeline::record_event(
            tx,
            NewEvent {
                order: id,
                kind: "order.updated",
                actor: source.actor,
                actor_label: source.actor_label.clone(),
                message: if changes.is_empty() {
                    format!(
                        "Updated on {} (no change to the order's terms)",
                        source.channel
                    )
                } else {
                    format!("Updated on {}: {}", source.channel, changes.join("; "))
                },
                reason: None,
                data: serde_json::json!({ "changes": changes }),
            },
        )
        .await?,
    );
    events.extend(replanned);
    let had_open = previous.iter().filter(|i| !i.resolved).count();
    let open = issues.iter().filter(|i| !i.resolved).count();
    if open > 0 && issues != previous {
        events.push(issues_event(tx, id, &issues).await?);
    } else if open == 0 && had_open > 0 {
        events.push(
            timeline::record_event(
                tx,
                NewEvent {
                    order: id,
                    kind: "order.issues_cleared",
                    actor: Actor::System,
                    actor_label: Some("capture checks".into()),
                    message: "The update cleared every open issue".into(),
                    reason: None,
                    data: serde_json::json!({}),
                },
            )
            .await?,
        );
    }
    if newly_cancelled {
        events.push(cancelled_event(tx, source, id, &o).await?);
        if state.has_shipped() {
            events.push(
                timeline::record_event(
                    tx,
                    NewEvent {
                        order: id,
                        kind: "order.cancel_after_shipment",
                        actor: Actor::System,
                        actor_label: None,
                        message: "Cancelled on the channel after it shipped: handle as a return"
                            .into(),
                        reason: o.cancel_reason.clone(),
                        data: serde_json::json!({ "state": state.as_str() }),
                    },
                )
                .await?,
            );
        }
    }
    Ok(Captured {
        change: Change::Updated,
        order,
        events,
    })
}
