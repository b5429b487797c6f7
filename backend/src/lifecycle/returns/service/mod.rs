//! A return from request to resolution. Each step runs in the caller's transaction under the
//! order's lock, is on the order's timeline (and so tells the shopper where a template exists),
//! and moves on by itself where the policy allows: approval, the label, receipt on the
//! carrier's delivery scan, and the refund after inspection.

use chrono::{Duration, Utc};
use entity::{orders as order_rows, return_lines, returns};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;

use super::exchange;
use super::label::{self, Start};
use super::policy::{self, Asked, Policy, Refused};
use super::repo::{self, Return, ReturnLine};
use super::settings;
use super::settle::{self, Disposition, Inspected, Terms};
use crate::domain::money::amount_from_units;
use crate::domain::{OrderId, VariantId, WarehouseId};
use crate::infra::link_token;
use crate::lifecycle::capture::service::CaptureError;
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service::{Move, MoveError, move_stock};
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::{self as ledger_repo, SourceKind};
use crate::lifecycle::ledger::service::{self as ledger, Posting};
pub use crate::lifecycle::notify::context::Links;
use crate::lifecycle::refund::service::{self as refund, Ask as RefundAsk, Method, RefundError};
use crate::lifecycle::shipping::repo as shipping;
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, AnyTx, TenantTx};

mod receipt;
mod request;
mod review;

pub use self::receipt::*;
pub use self::request::*;
pub use self::review::*;

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

pub(crate) async fn record(
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
    timeline::record_event(
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
