//! A return from request to resolution. Each step runs in the caller's transaction under the
//! order's lock, is on the order's timeline (and so tells the shopper where a template exists),
//! and moves on by itself where the policy allows: approval, the label, receipt on the
//! carrier's delivery scan, and the refund after inspection.

use chrono::{Duration, Utc};
use entity::{orders as order_rows, return_lines, returns};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use super::exchange;
use super::label;
use super::policy::{self, Asked, Policy, Refused};
use super::repo::{self, Return, ReturnLine};
use super::settings;
use super::settle::{self, Disposition, Inspected, Terms};
use crate::domain::money::amount_from_units;
use crate::domain::{OrderId, VariantId, WarehouseId};
use crate::infra::link_token;
use crate::lifecycle::capture::repo::{self as orders, NewEvent, Order, OrderEvent, OrderLine};
use crate::lifecycle::capture::service::CaptureError;
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service::{Move, MoveError, move_stock};
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::{self as ledger_repo, SourceKind};
use crate::lifecycle::ledger::service::{self as ledger, Posting};
pub use crate::lifecycle::notify::context::Links;
use crate::lifecycle::refund::service::{self as refund, Ask as RefundAsk, Method, RefundError};
use crate::lifecycle::shipping::repo as shipping;
use crate::tenancy::{Actor, AnyTx, TenantTx};

/// Link purposes: the shopper's return form for an order, and one return's page and label.
pub const START: &str = "return-start";
pub const PAGE: &str = "return";

/// What the shopper wants back for the items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Refund,
    StoreCredit,
    Exchange,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Refund => "refund",
            Resolution::StoreCredit => "store_credit",
            Resolution::Exchange => "exchange",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Refund, Self::StoreCredit, Self::Exchange]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// Who asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Shopper,
    Staff,
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Shopper => "shopper",
            Source::Staff => "staff",
            Source::Api => "api",
        }
    }
}

pub struct AskLine {
    /// Index of the order line (as in `order.lines`).
    pub line_index: usize,
    pub quantity: i64,
    /// For an exchange: the SKU to send instead (the same one when left out).
    pub exchange_sku: Option<String>,
}

pub struct Ask {
    pub lines: Vec<AskLine>,
    pub reason: String,
    pub comment: Option<String>,
    pub resolution: Resolution,
    pub source: Source,
}

/// Who acts, for the timeline.
#[derive(Clone, Debug)]
pub struct By {
    pub actor: Actor,
    pub label: Option<String>,
}

impl By {
    pub fn policy() -> Self {
        Self {
            actor: Actor::System,
            label: Some("return policy".into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReturnError {
    #[error("{}", .0.message)]
    Refused(Refused),
    /// The field names something that does not exist (for this tenant).
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn refused(field: &str, message: impl Into<String>) -> ReturnError {
    ReturnError::Refused(Refused {
        field: vec![field.to_owned()],
        message: message.into(),
    })
}

// The shopper's return links are signed like the other email links.
impl Links<'_> {
    /// The form a shopper starts a return of an order with.
    pub fn start(&self, order: &Order) -> String {
        let token = link_token::sign(
            self.key,
            START,
            &[&order.tenant_id.to_string(), &order.id.to_string()],
        );
        format!("{}/returns/new/{token}", self.public_url)
    }

    /// A return's status page (its label is under it).
    pub fn page(&self, r: &Return) -> String {
        self.page_of(r.tenant_id, r.id)
    }

    pub fn page_of(&self, tenant: uuid::Uuid, id: uuid::Uuid) -> String {
        let token = link_token::sign(self.key, PAGE, &[&tenant.to_string(), &id.to_string()]);
        format!("{}/returns/{token}", self.public_url)
    }
}

fn money(units: i64, currency: &str) -> String {
    format!("{} {currency}", amount_from_units(units, currency))
}

/// One unit's value without tax (after its share of the line's discount) and its tax.
pub fn unit_value(order: &Order, line: &OrderLine) -> (i64, i64) {
    let q = line.quantity.max(1);
    let gross = line.unit_price_units * line.quantity - line.discount_units;
    let tax = line.tax_units / q;
    let value = gross / q - if order.taxes_included { tax } else { 0 };
    (value.max(0), tax.max(0))
}

/// Units of each order line already on a return that is still going.
async fn on_returns(tx: &TenantTx, order: OrderId) -> Result<Vec<(i32, i64)>, DbErr> {
    let live: Vec<uuid::Uuid> = repo::of_orders(tx, &[order])
        .await?
        .into_iter()
        .filter(|r| r.status != repo::REJECTED && r.status != repo::CANCELLED)
        .map(|r| r.id)
        .collect();
    Ok(repo::lines_of(tx, &live)
        .await?
        .into_iter()
        .map(|l| (l.position, i64::from(l.quantity)))
        .collect())
}

/// When the order arrived: its last parcel's delivery.
async fn delivered_at(
    tx: &TenantTx,
    order: OrderId,
) -> Result<Option<chrono::DateTime<Utc>>, DbErr> {
    let parcels = shipping::of_orders(tx, &[order]).await?;
    let live: Vec<_> = parcels.iter().filter(|s| s.status != "voided").collect();
    if live.is_empty() || live.iter().any(|s| s.delivered_at.is_none()) {
        return Ok(None);
    }
    Ok(live.iter().filter_map(|s| s.delivered_at).max())
}

async fn recent_returns(tx: &TenantTx, order: &Order) -> Result<i64, DbErr> {
    let Some(customer) = order.customer_id else {
        return Ok(0);
    };
    let ids: Vec<uuid::Uuid> = order_rows::Entity::find()
        .select_only()
        .column(order_rows::Column::Id)
        .filter(order_rows::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_rows::Column::CustomerId.eq(customer))
        .limit(1000)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let n = repo::count_since(tx, &ids, Utc::now() - Duration::days(90)).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The order lines and how many of each may still come back.
pub async fn returnable(tx: &TenantTx, order: &Order) -> Result<Vec<(OrderLine, i64)>, DbErr> {
    let id = OrderId(order.id);
    let lines = orders::lines_of(tx, &[id]).await?;
    let taken = on_returns(tx, id).await?;
    Ok(lines
        .into_iter()
        .map(|l| {
            let out: i64 = taken
                .iter()
                .filter(|(p, _)| *p == l.position)
                .map(|(_, q)| q)
                .sum();
            let left = (l.quantity - out).max(0);
            (l, left)
        })
        .collect())
}

/// Opens a return; approves it (and buys its label) when the policy allows.
pub async fn request(
    tx: &TenantTx,
    links: &Links<'_>,
    order: OrderId,
    ask: Ask,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let order = orders::get_for_update(tx, order)
        .await?
        .ok_or(ReturnError::NotFound("orderId"))?;
    let p = settings::load(tx).await?;
    let lines = returnable(tx, &order).await?;
    // Asks naming one line twice count together against what may come back.
    let mut merged: Vec<(usize, usize, i64)> = Vec::new();
    for (i, a) in ask.lines.iter().enumerate() {
        if lines.get(a.line_index).is_none() {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "lineIndex".into()],
                message: format!("the order has {} lines", lines.len()),
            }));
        }
        match merged
            .iter_mut()
            .find(|(_, index, _)| *index == a.line_index)
        {
            Some(m) => m.2 = m.2.saturating_add(a.quantity),
            None => merged.push((i, a.line_index, a.quantity)),
        }
    }
    let asked: Vec<Asked> = merged
        .iter()
        .map(|&(i, index, quantity)| {
            let (line, left) = &lines[index];
            let (value, tax) = unit_value(&order, line);
            Asked {
                index: i,
                sku: line.sku.clone().unwrap_or_else(|| line.title.clone()),
                quantity,
                returnable: *left,
                unit_paid: value + tax,
            }
        })
        .collect();
    let req = policy::Request {
        delivered_at: delivered_at(tx, OrderId(order.id)).await?,
        now: Utc::now(),
        reason: &ask.reason,
        lines: &asked,
        fraud_score: order.fraud_score,
        recent_returns: recent_returns(tx, &order).await?,
    };
    policy::eligible(&p, &req).map_err(ReturnError::Refused)?;
    let currency = order.currency.clone();
    let approval = policy::approval(&p, &req, |u| money(u, &currency));
    let count = repo::of_orders(tx, &[OrderId(order.id)]).await?.len();
    let now = Utc::now();
    let id = uuid::Uuid::now_v7();
    let mut rows = Vec::new();
    for a in &ask.lines {
        let (line, _) = &lines[a.line_index];
        // Two asks for one line add up.
        if let Some(r) = rows
            .iter_mut()
            .find(|r: &&mut ReturnLine| r.position == line.position)
        {
            r.quantity += i32::try_from(a.quantity).unwrap_or(0);
            continue;
        }
        let (value, tax) = unit_value(&order, line);
        rows.push(ReturnLine {
            tenant_id: tx.tenant().uuid(),
            return_id: id,
            position: line.position,
            sku: line.sku.clone().unwrap_or_else(|| line.title.clone()),
            variant_id: line.variant_id,
            quantity: i32::try_from(a.quantity).unwrap_or(0),
            reason: Some(ask.reason.clone()),
            unit_value_units: value,
            unit_tax_units: tax,
            received_quantity: None,
            grade: None,
            inspection_note: None,
            disposition: None,
            disposition_reason: None,
            exchange_sku: a
                .exchange_sku
                .clone()
                .filter(|_| ask.resolution == Resolution::Exchange)
                .or_else(|| {
                    (ask.resolution == Resolution::Exchange)
                        .then(|| line.sku.clone())
                        .flatten()
                }),
        });
    }
    let total: i64 = asked.iter().map(|a| a.unit_paid * a.quantity).sum();
    let ret = repo::insert(
        tx,
        Return {
            tenant_id: tx.tenant().uuid(),
            id,
            order_id: order.id,
            name: format!("{}-R{}", order.name, count + 1),
            status: repo::REQUESTED.into(),
            source: ask.source.as_str().into(),
            reason: ask.reason.clone(),
            comment: ask.comment.clone(),
            currency: order.currency.clone(),
            decision: Some(serde_json::to_value(&approval).unwrap_or_default()),
            rejection: None,
            resolution: ask.resolution.as_str().into(),
            warehouse_id: None,
            carrier_id: None,
            service_id: None,
            tracking_number: None,
            label_cost_units: None,
            label_currency: None,
            label_status: None,
            label_pdf: None,
            label_zpl: None,
            refund_id: None,
            exchange_order_id: None,
            settlement: None,
            merchant_fault: None,
            approved_at: None,
            received_at: None,
            inspected_at: None,
            resolved_at: None,
            created_at: now,
            updated_at: now,
        },
        rows.clone(),
    )
    .await?;
    let items: Vec<String> = rows
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.sku))
        .collect();
    let reason_label = p
        .reason(&ask.reason)
        .map(|r| r.label.clone())
        .unwrap_or_else(|| ask.reason.clone());
    let mut events = vec![
        record(
            tx,
            &ret,
            by,
            "return.requested",
            format!(
                "Return {} requested by the {} ({}): {}, worth {}; {}",
                ret.name,
                match ask.source {
                    Source::Shopper => "shopper",
                    Source::Staff => "staff",
                    Source::Api => "API",
                },
                reason_label,
                items.join(", "),
                money(total, &ret.currency),
                if approval.automatic {
                    "approved by policy".to_owned()
                } else {
                    format!("for staff review: {}", approval.reasons.join("; "))
                }
            ),
            ask.comment.clone(),
            json!({
                "decision": approval,
                "return": { "number": ret.name, "items": titles_of(&rows, &lines) },
            }),
        )
        .await?,
    ];
    if ask.reason == WRONG_ITEM {
        events.extend(Box::pin(wrong_item_reported(tx, &ret, &rows, by)).await?);
    }
    let ret = if approval.automatic {
        let (ret, more) =
            Box::pin(approve_in(tx, links, &order, ret, &p, &By::policy(), None)).await?;
        events.extend(more);
        ret
    } else {
        ret
    };
    Ok((ret, events))
}

/// The return reason that says the warehouse sent the wrong thing.
const WRONG_ITEM: &str = "wrong_item";

/// A return for the wrong item is a fulfillment error of the parcels that carried it (of the
/// only parcel when none names the SKU): an exception each, counted against accuracy.
async fn wrong_item_reported(
    tx: &TenantTx,
    ret: &Return,
    rows: &[ReturnLine],
    by: &By,
) -> Result<Vec<OrderEvent>, DbErr> {
    let parcels = shipping::of_orders(tx, &[OrderId(ret.order_id)]).await?;
    let shipped: Vec<&shipping::Shipment> = parcels
        .iter()
        .filter(|s| s.shipped_at.is_some() && s.voided_at.is_none())
        .collect();
    let skus: Vec<String> = rows.iter().map(|l| format!("\"{}\"", l.sku)).collect();
    let carrying: Vec<&shipping::Shipment> = shipped
        .iter()
        .copied()
        .filter(|s| {
            let text = s.lines.to_string();
            skus.iter().any(|k| text.contains(k.as_str()))
        })
        .collect();
    let detail = format!(
        "return {}: {}",
        ret.name,
        ret.comment.as_deref().unwrap_or("wrong item sent")
    );
    let mut events = Vec::new();
    // None names the SKU: a single parcel carried it; among several, which one is unknown.
    let flagged = match (carrying.is_empty(), shipped.len()) {
        (false, _) => carrying,
        (true, 1) => shipped,
        (true, _) => Vec::new(),
    };
    for s in flagged {
        let reported = crate::lifecycle::tracking::service::report_fulfillment_error(
            tx,
            s,
            crate::lifecycle::tracking::monitor::ExceptionKind::WrongItem,
            detail.clone(),
            by.actor,
            by.label.clone(),
        )
        .await?;
        events.extend(reported.map(|(_, e)| e));
    }
    Ok(events)
}

/// The items of a return as the shopper's emails list them.
fn titles_of(rows: &[ReturnLine], lines: &[(OrderLine, i64)]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            let title = lines
                .iter()
                .find(|(l, _)| l.position == r.position)
                .map(|(l, _)| l.title.clone())
                .unwrap_or_else(|| r.sku.clone());
            json!({ "quantity": r.quantity, "title": title, "sku": r.sku })
        })
        .collect()
}

/// Saves `changes` to a return (its keys and `updated_at` are filled in).
async fn save(
    tx: &TenantTx,
    ret: &Return,
    mut changes: returns::ActiveModel,
) -> Result<Return, DbErr> {
    changes.tenant_id = Set(ret.tenant_id);
    changes.id = Set(ret.id);
    changes.updated_at = Set(Utc::now());
    repo::update(tx, changes).await
}

/// A step allowed only from `allowed` statuses: `what` says which, in words.
fn only(ret: &Return, allowed: &[&str], what: &str) -> Result<(), ReturnError> {
    if allowed.contains(&ret.status.as_str()) {
        return Ok(());
    }
    Err(refused(
        "returnId",
        format!("{what}; this one is {}", ret.status.replace('_', " ")),
    ))
}

async fn record(
    tx: &TenantTx,
    r: &Return,
    by: &By,
    kind: &str,
    message: String,
    reason: Option<String>,
    data: serde_json::Value,
) -> Result<OrderEvent, DbErr> {
    let mut data = data;
    data["returnId"] = json!(r.id);
    data["returnName"] = json!(r.name);
    orders::record_event(
        tx,
        NewEvent {
            order: OrderId(r.order_id),
            kind,
            actor: by.actor,
            actor_label: by.label.clone(),
            message,
            reason,
            data,
        },
    )
    .await
}

/// The warehouse a return goes to: the policy's, else the one that shipped the order, else
/// the first active one.
async fn receiving_warehouse(
    tx: &TenantTx,
    order: &Order,
    p: &Policy,
) -> Result<Option<entity::warehouses::Model>, DbErr> {
    let all = crate::catalog::warehouse_repo::list(tx, false, None, 1000).await?;
    let shipped_from = shipping::of_orders(tx, &[OrderId(order.id)])
        .await?
        .into_iter()
        .find(|s| s.status != "voided")
        .map(|s| s.warehouse_id);
    let pick = p
        .warehouse_id
        .and_then(|id| all.iter().find(|w| w.id == id))
        .or_else(|| shipped_from.and_then(|id| all.iter().find(|w| w.id == id)))
        .or_else(|| all.first());
    Ok(pick.cloned())
}

/// Approves a requested return: its label is bought (and booked) and the shopper told.
pub async fn approve_in(
    tx: &TenantTx,
    links: &Links<'_>,
    order: &Order,
    ret: Return,
    p: &Policy,
    by: &By,
    note: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED],
        "only a requested return can be approved",
    )?;
    let warehouse = receiving_warehouse(tx, order, p).await?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    let order_lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
    let items: Vec<(&OrderLine, i64)> = lines
        .iter()
        .filter_map(|l| {
            order_lines
                .iter()
                .find(|o| o.position == l.position)
                .map(|o| (o, i64::from(l.quantity)))
        })
        .collect();
    let bought = match &warehouse {
        Some(w) => label::buy(tx, order, &items, w).await?,
        None => Err("no active warehouse to receive returns".to_owned()),
    };
    let now = Utc::now();
    let mut update = returns::ActiveModel {
        tenant_id: Set(ret.tenant_id),
        id: Set(ret.id),
        status: Set(repo::APPROVED.into()),
        approved_at: Set(Some(now)),
        warehouse_id: Set(warehouse.as_ref().map(|w| w.id)),
        updated_at: Set(now),
        ..Default::default()
    };
    let label_note = match &bought {
        Ok(b) => {
            update.carrier_id = Set(Some(b.carrier_id));
            update.service_id = Set(Some(b.service_id));
            update.tracking_number = Set(Some(b.tracking_number.clone()));
            update.label_cost_units = Set(Some(b.cost_units));
            update.label_currency = Set(Some(b.currency.clone()));
            update.label_status = Set(Some("pre_transit".into()));
            update.label_pdf = Set(Some(b.pdf.clone()));
            update.label_zpl = Set(Some(b.zpl.clone()));
            format!("return label bought: {}", b.summary)
        }
        Err(why) => format!("no return label ({why}): the shopper sends it back themselves"),
    };
    let ret = repo::update(tx, update).await?;
    if let (Ok(b), false) = (&bought, order.test) {
        ledger::post(
            tx,
            vec![Posting {
                op: Operation::Label { cost: b.cost_units },
                currency: b.currency.clone(),
                memo: format!("return label {} for {}", b.tracking_number, ret.name),
                source: (SourceKind::Return, ret.id),
                order: Some(OrderId(order.id)),
                key: format!("return-label:{}:{}", ret.id, b.tracking_number),
                at: now,
                actor: by.actor,
            }],
        )
        .await?;
    }
    let page = links.page(&ret);
    let titles: Vec<serde_json::Value> = items
        .iter()
        .map(|(l, q)| json!({ "quantity": q, "title": l.title, "sku": l.sku }))
        .collect();
    let deadline = (now + Duration::days(14)).format("%Y-%m-%d").to_string();
    let instructions = match (&bought, &warehouse) {
        (Ok(_), _) => "Print the label, stick it on the parcel over any old labels, and hand it to the carrier.".to_owned(),
        (Err(_), Some(w)) => format!(
            "Send the items to: {}",
            crate::lifecycle::shipping::label::address_lines(Some(&w.name), &w.address).join(", ")
        ),
        (Err(_), None) => "Reply to this email and we will tell you where to send the items.".to_owned(),
    };
    let event = record(
        tx,
        &ret,
        by,
        "return.approved",
        format!("Return {} approved; {label_note}", ret.name),
        note,
        json!({
            "return": {
                "number": ret.name,
                "items": titles,
                "label_url": bought.as_ref().ok().map(|_| format!("{page}/label.pdf")),
                "page_url": page,
                "instructions": instructions,
                "deadline": deadline,
            }
        }),
    )
    .await?;
    Ok((ret, vec![event]))
}

pub async fn reject_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    reason: String,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED],
        "only a requested return can be rejected",
    )?;
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::REJECTED.into()),
            rejection: Set(Some(reason.clone())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.rejected",
        format!("Return {} rejected", ret.name),
        Some(reason.clone()),
        json!({ "return": { "number": ret.name, "reason": reason } }),
    )
    .await?;
    Ok((ret, vec![event]))
}

/// Cancels a return that has not arrived; its unused label comes off the books.
pub async fn cancel_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    reason: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED, repo::APPROVED],
        "only a return not yet on its way back can be cancelled",
    )?;
    if let Some(number) = &ret.tracking_number
        && let Some(entry) =
            ledger_repo::by_key(tx, &format!("return-label:{}:{number}", ret.id)).await?
    {
        ledger::reverse(tx, &entry, "return cancelled, label unused", by.actor).await?;
    }
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::CANCELLED.into()),
            label_status: Set(ret.tracking_number.as_ref().map(|_| "voided".to_owned())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.cancelled",
        format!("Return {} cancelled", ret.name),
        reason,
        json!({}),
    )
    .await?;
    Ok((ret, vec![event]))
}

/// The return parcel has moved: on its way, or arrived at the warehouse (received).
pub async fn on_scan(
    tx: &TenantTx,
    ret: Return,
    status: &str,
    detail: &str,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let by = By {
        actor: Actor::System,
        label: Some("carrier tracking".into()),
    };
    match status {
        "delivered" if [repo::APPROVED, repo::IN_TRANSIT].contains(&ret.status.as_str()) => {
            receive_in(
                tx,
                ret,
                &by,
                Some(format!("delivered to the warehouse: {detail}")),
            )
            .await
        }
        "in_transit" | "out_for_delivery" | "available_for_pickup"
            if ret.status == repo::APPROVED =>
        {
            let ret = save(
                tx,
                &ret,
                returns::ActiveModel {
                    status: Set(repo::IN_TRANSIT.into()),
                    label_status: Set(Some(status.to_owned())),
                    ..Default::default()
                },
            )
            .await?;
            let event = record(
                tx,
                &ret,
                &by,
                "return.in_transit",
                format!("Return {} is on its way back: {detail}", ret.name),
                None,
                json!({}),
            )
            .await?;
            Ok((ret, vec![event]))
        }
        _ => Ok((ret, Vec::new())),
    }
}

pub async fn receive_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    note: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::APPROVED, repo::IN_TRANSIT],
        "only an approved return can be received",
    )?;
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::RECEIVED.into()),
            label_status: Set(ret.tracking_number.as_ref().map(|_| "delivered".to_owned())),
            received_at: Set(Some(Utc::now())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.received",
        format!(
            "Return {} received at the warehouse; waiting for inspection",
            ret.name
        ),
        note,
        json!({ "return": { "number": ret.name, "resolution": ret.resolution } }),
    )
    .await?;
    Ok((ret, vec![event]))
}

/// One line's inspection.
pub struct Grade {
    /// The order line's position (its index in `order.lines`).
    pub position: i32,
    pub grade: String,
    pub note: Option<String>,
    /// Units that arrived; all of the line's when not said.
    pub received: Option<i64>,
}

/// What the inspection found beyond each line.
pub struct Findings {
    pub grades: Vec<Grade>,
    /// Whose fault it was, when the inspection says (else the reason the shopper gave).
    pub merchant_fault: Option<bool>,
    /// Whether the caller may pay money back: without it the return waits, inspected, for
    /// someone who may.
    pub may_refund: bool,
}

/// Grades the items; each unit is restocked, refurbished or disposed of by the policy; then
/// the return is resolved when the policy refunds by itself.
pub async fn inspect_in(
    tx: &TenantTx,
    ret: Return,
    findings: Findings,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let grades = &findings.grades;
    only(
        &ret,
        &[repo::RECEIVED],
        "only a received return can be inspected",
    )?;
    let p = settings::load(tx).await?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    for (i, g) in grades.iter().enumerate() {
        if !policy::GRADES.contains(&g.grade.as_str()) {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "grade".into()],
                message: "must be A (as new), B (opened), C (used) or D (damaged)".into(),
            }));
        }
        let Some(line) = lines.iter().find(|l| l.position == g.position) else {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "lineIndex".into()],
                message: "that order line is not on this return".into(),
            }));
        };
        if g.received
            .is_some_and(|r| r < 0 || r > i64::from(line.quantity))
        {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "received".into()],
                message: format!("must be between 0 and the {} asked for", line.quantity),
            }));
        }
    }
    if let Some(l) = lines
        .iter()
        .find(|l| !grades.iter().any(|g| g.position == l.position))
    {
        return Err(refused(
            "lines",
            format!("grade every item: {} has no grade", l.sku),
        ));
    }
    let reference = ret.name.clone();
    let mut decisions = Vec::new();
    for l in &lines {
        let Some(g) = grades.iter().find(|g| g.position == l.position) else {
            continue;
        };
        let received = g.received.unwrap_or(i64::from(l.quantity));
        let (disposition, why) = settle::dispose(&p, &g.grade, l.unit_value_units, &ret.currency);
        if disposition == Disposition::Restock
            && received > 0
            && let (Some(variant), Some(warehouse)) = (l.variant_id, ret.warehouse_id)
        {
            match move_stock(
                tx,
                by.actor,
                Move {
                    variant: VariantId(variant),
                    warehouse: WarehouseId(warehouse),
                    kind: MovementKind::ReturnRestock,
                    quantity: received,
                    reason: Some("returned, inspected and restocked"),
                    reference: Some(&reference),
                },
            )
            .await
            {
                Ok(_) => {}
                Err(MoveError::Db(e)) => return Err(e.into()),
                Err(MoveError::Rule(rule)) => {
                    return Err(refused(
                        "lines",
                        format!("{} cannot be restocked: {rule}", l.sku),
                    ));
                }
            }
        }
        repo::update_line(
            tx,
            return_lines::ActiveModel {
                tenant_id: Set(l.tenant_id),
                return_id: Set(l.return_id),
                position: Set(l.position),
                grade: Set(Some(g.grade.clone())),
                received_quantity: Set(Some(i32::try_from(received).unwrap_or(0))),
                inspection_note: Set(g.note.clone()),
                disposition: Set(Some(disposition.as_str().into())),
                disposition_reason: Set(Some(why.clone())),
                ..Default::default()
            },
        )
        .await?;
        decisions.push(format!(
            "{}{} × {} graded {}: {} ({why})",
            received,
            if received < i64::from(l.quantity) {
                format!(" of {} asked for", l.quantity)
            } else {
                String::new()
            },
            l.sku,
            g.grade,
            disposition.as_str()
        ));
    }
    let now = Utc::now();
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::INSPECTED.into()),
            merchant_fault: Set(Some(
                findings
                    .merchant_fault
                    .unwrap_or_else(|| p.reason(&ret.reason).is_some_and(|r| r.merchant_fault)),
            )),
            inspected_at: Set(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    let mut events = vec![
        record(
            tx,
            &ret,
            by,
            "return.inspected",
            format!("Return {} inspected: {}", ret.name, decisions.join("; ")),
            None,
            json!({ "decisions": decisions }),
        )
        .await?,
    ];
    if p.auto_refund && findings.may_refund {
        let (ret, more) = Box::pin(resolve_in(tx, ret, &By::policy())).await?;
        events.extend(more);
        return Ok((ret, events));
    }
    Ok((ret, events))
}

/// Pays the shopper what the inspection and the policy say (once: the refund's key is the
/// return's), or records the exchange.
pub async fn resolve_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::INSPECTED],
        "only an inspected return can be resolved",
    )?;
    let p = settings::load(tx).await?;
    let order = orders::get_for_update(tx, OrderId(ret.order_id))
        .await?
        .ok_or_else(|| refused("returnId", "the return's order is gone"))?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    let paid = refund::paid_of(tx, &order).await?;
    let merchant_fault = ret
        .merchant_fault
        .unwrap_or_else(|| p.reason(&ret.reason).is_some_and(|r| r.merchant_fault));
    let resolution = Resolution::parse(&ret.resolution).unwrap_or(Resolution::Refund);
    let inspected: Vec<Inspected> = lines
        .iter()
        .map(|l| Inspected {
            sku: l.sku.clone(),
            quantity: i64::from(l.received_quantity.unwrap_or(l.quantity)),
            unit_value: l.unit_value_units,
            unit_tax: l.unit_tax_units,
            grade: l.grade.clone().unwrap_or_else(|| "D".into()),
        })
        .collect();
    let settlement = settle::settle(
        &p,
        &inspected,
        &Terms {
            merchant_fault,
            shipping_left: paid.shipping - paid.shipping_refunded,
            // A label bought in another currency is not taken off this one.
            label_cost: ret
                .label_cost_units
                .filter(|_| ret.label_currency.as_deref() == Some(ret.currency.as_str()))
                .unwrap_or(0),
            refundable: paid.refundable(),
        },
        &ret.currency,
    );
    let mut events = Vec::new();
    let mut refund_id = None;
    let mut exchange_order = None;
    let message = match resolution {
        Resolution::Refund | Resolution::StoreCredit if settlement.amount() > 0 => {
            let done = refund::refund(
                tx,
                refund::Request {
                    order: OrderId(order.id),
                    return_id: Some(ret.id),
                    key: format!("return:{}", ret.id),
                    ask: RefundAsk::Parts(settlement.split()),
                    method: if resolution == Resolution::StoreCredit {
                        Method::StoreCredit
                    } else {
                        Method::Original
                    },
                    withheld: settlement.withheld,
                    reason: Some(format!("return {}", ret.name)),
                    actor: by.actor,
                    actor_label: by.label.clone(),
                },
            )
            .await
            .map_err(|e| match e {
                RefundError::Db(e) => ReturnError::Db(e),
                other => refused("returnId", other.to_string()),
            })?;
            if done.refund.status == crate::lifecycle::refund::repo::FAILED {
                // Left inspected: resolving again retries the same refund intent.
                events.extend(done.events);
                return Ok((ret, events));
            }
            refund_id = Some(done.refund.id);
            events.extend(done.events);
            format!(
                "Return {} resolved: {} {}",
                ret.name,
                money(settlement.amount(), &ret.currency),
                if resolution == Resolution::StoreCredit {
                    "as store credit"
                } else {
                    "refunded"
                }
            )
        }
        Resolution::Refund | Resolution::StoreCredit => {
            format!("Return {} resolved: nothing to refund", ret.name)
        }
        Resolution::Exchange => {
            let order_lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
            let captured = exchange::replace(tx, &order, &order_lines, &ret, &lines, by)
                .await
                .map_err(|e| match e {
                    CaptureError::Db(e) => ReturnError::Db(e),
                    CaptureError::Invalid { field, message } => refused(
                        "lines",
                        format!("the replacement order cannot be made ({field}: {message})"),
                    ),
                })?;
            exchange_order = Some(captured.order.id);
            events.extend(captured.events);
            format!(
                "Return {} resolved by exchange: replacement order {} for {}",
                ret.name,
                captured.order.name,
                lines
                    .iter()
                    .map(|l| format!(
                        "{} × {}",
                        l.quantity,
                        l.exchange_sku.clone().unwrap_or_else(|| l.sku.clone())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let now = Utc::now();
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::RESOLVED.into()),
            refund_id: Set(refund_id),
            exchange_order_id: Set(exchange_order),
            settlement: Set(Some(serde_json::to_value(&settlement).unwrap_or_default())),
            resolved_at: Set(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    let notes = settlement.notes.join("; ");
    events.push(
        record(
            tx,
            &ret,
            by,
            "return.resolved",
            if notes.is_empty() {
                message
            } else {
                format!("{message} ({notes})")
            },
            None,
            json!({ "settlement": settlement, "refundId": refund_id, "exchangeOrderId": exchange_order }),
        )
        .await?,
    );
    Ok((ret, events))
}
