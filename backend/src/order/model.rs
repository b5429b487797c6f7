//! The order as the stages see it: its state an [`OrderState`], its money [`Money`] in its
//! currency. The stored row (`entity::orders::Model`: state as text, amounts as integer units)
//! is converted here, at the repository's edge, and nowhere else.

use chrono::{DateTime, Utc};
use entity::orders;
use sea_orm::DbErr;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::domain::money::{Currency, Money};
use crate::lifecycle::state::OrderState;

/// An order in the canonical model, whatever channel it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub channel: String,
    pub connection_id: Option<Uuid>,
    pub external_id: String,
    /// Whose external id: the connection's id, or `api`.
    pub source: String,
    pub name: String,
    pub customer_id: Option<Uuid>,
    pub email: Option<String>,
    pub customer_name: Option<String>,
    pub currency: Currency,
    pub billing_address: Option<Json>,
    pub shipping_address: Option<Json>,
    pub subtotal: Money,
    pub discounts: Money,
    pub tax: Money,
    pub shipping: Money,
    pub total: Money,
    pub taxes_included: bool,
    pub shipping_lines: Json,
    /// The discount codes and applications (the amount is [`Order::discounts`]).
    pub discount_lines: Json,
    pub payment: Json,
    pub client: Json,
    pub tags: Json,
    pub note: Option<String>,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub state: OrderState,
    /// Problems found on capture, to resolve (a JSON array of `order::issues::Issue`).
    pub issues: Json,
    pub test: bool,
    pub placed_at: DateTime<Utc>,
    /// The channel's own last-update time: an older update never overwrites a newer one.
    pub source_updated_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub payment_verdict: Option<String>,
    pub payment_decision: Option<Json>,
    pub fraud_score: Option<i32>,
    pub fraud_level: Option<String>,
    pub fraud_decision: Option<Json>,
    /// While on hold: the state the hold interrupted.
    pub held_from: Option<OrderState>,
    pub hold_reason: Option<String>,
    /// Owed back to the shopper after a cancellation, until a refund settles it.
    pub refund_due: Money,
    /// The day the shopper was promised, set when the order is routed.
    pub promised_at: Option<DateTime<Utc>>,
    /// The latest the channel lets the merchant ship (Amazon's `LatestShipDate`).
    pub ship_by: Option<DateTime<Utc>>,
    /// The routing decision with the alternatives it was chosen over.
    pub routing: Option<Json>,
    /// The processor's id of the payment (Stripe `ch_…` / `pi_…`), for reconciliation.
    pub payment_reference: Option<String>,
    /// The warehouse (code) an automation rule said this order ships from.
    pub assigned_warehouse: Option<String>,
    /// The carrier service (`service` or `carrier/service` codes) a rule chose for its labels.
    pub assigned_service: Option<String>,
}

fn corrupt(row: &orders::Model, field: &str, value: &str) -> DbErr {
    DbErr::Custom(format!(
        "order {} has an unreadable {field}: {value:?}",
        row.id
    ))
}

fn state(row: &orders::Model, field: &str, value: &str) -> Result<OrderState, DbErr> {
    OrderState::parse(value).ok_or_else(|| corrupt(row, field, value))
}

impl TryFrom<orders::Model> for Order {
    type Error = DbErr;

    /// A stored row whose state or currency is not one Orderflow writes is refused by name
    /// rather than read as something it is not.
    fn try_from(row: orders::Model) -> Result<Self, DbErr> {
        let currency =
            Currency::parse(&row.currency).map_err(|_| corrupt(&row, "currency", &row.currency))?;
        let money = |units| Money::from_units(units, currency);
        let state_ = state(&row, "state", &row.state)?;
        let held_from = match &row.held_from {
            Some(s) => Some(state(&row, "held_from", s)?),
            None => None,
        };
        Ok(Self {
            subtotal: money(row.subtotal_units),
            discounts: money(row.discounts_units),
            tax: money(row.tax_units),
            shipping: money(row.shipping_units),
            total: money(row.total_units),
            refund_due: money(row.refund_due_units),
            state: state_,
            held_from,
            currency,
            tenant_id: row.tenant_id,
            id: row.id,
            channel: row.channel,
            connection_id: row.connection_id,
            external_id: row.external_id,
            source: row.source,
            name: row.name,
            customer_id: row.customer_id,
            email: row.email,
            customer_name: row.customer_name,
            billing_address: row.billing_address,
            shipping_address: row.shipping_address,
            taxes_included: row.taxes_included,
            shipping_lines: row.shipping_lines,
            discount_lines: row.discounts,
            payment: row.payment,
            client: row.client,
            tags: row.tags,
            note: row.note,
            financial_status: row.financial_status,
            fulfillment_status: row.fulfillment_status,
            issues: row.issues,
            test: row.test,
            placed_at: row.placed_at,
            source_updated_at: row.source_updated_at,
            cancelled_at: row.cancelled_at,
            cancel_reason: row.cancel_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            payment_verdict: row.payment_verdict,
            payment_decision: row.payment_decision,
            fraud_score: row.fraud_score,
            fraud_level: row.fraud_level,
            fraud_decision: row.fraud_decision,
            hold_reason: row.hold_reason,
            promised_at: row.promised_at,
            ship_by: row.ship_by,
            routing: row.routing,
            payment_reference: row.payment_reference,
            assigned_warehouse: row.assigned_warehouse,
            assigned_service: row.assigned_service,
        })
    }
}

impl From<Order> for orders::Model {
    fn from(o: Order) -> Self {
        Self {
            subtotal_units: o.subtotal.units(),
            discounts_units: o.discounts.units(),
            tax_units: o.tax.units(),
            shipping_units: o.shipping.units(),
            total_units: o.total.units(),
            refund_due_units: o.refund_due.units(),
            state: o.state.as_str().to_owned(),
            held_from: o.held_from.map(|s| s.as_str().to_owned()),
            currency: o.currency.code().to_owned(),
            tenant_id: o.tenant_id,
            id: o.id,
            channel: o.channel,
            connection_id: o.connection_id,
            external_id: o.external_id,
            source: o.source,
            name: o.name,
            customer_id: o.customer_id,
            email: o.email,
            customer_name: o.customer_name,
            billing_address: o.billing_address,
            shipping_address: o.shipping_address,
            taxes_included: o.taxes_included,
            shipping_lines: o.shipping_lines,
            discounts: o.discount_lines,
            payment: o.payment,
            client: o.client,
            tags: o.tags,
            note: o.note,
            financial_status: o.financial_status,
            fulfillment_status: o.fulfillment_status,
            issues: o.issues,
            test: o.test,
            placed_at: o.placed_at,
            source_updated_at: o.source_updated_at,
            cancelled_at: o.cancelled_at,
            cancel_reason: o.cancel_reason,
            created_at: o.created_at,
            updated_at: o.updated_at,
            payment_verdict: o.payment_verdict,
            payment_decision: o.payment_decision,
            fraud_score: o.fraud_score,
            fraud_level: o.fraud_level,
            fraud_decision: o.fraud_decision,
            hold_reason: o.hold_reason,
            promised_at: o.promised_at,
            ship_by: o.ship_by,
            routing: o.routing,
            payment_reference: o.payment_reference,
            assigned_warehouse: o.assigned_warehouse,
            assigned_service: o.assigned_service,
        }
    }
}

impl From<Order> for orders::ActiveModel {
    /// Every column "unchanged": a writer sets the ones it changes.
    fn from(o: Order) -> Self {
        orders::Model::from(o).into()
    }
}

/// Reads stored rows as orders.
pub(crate) fn read(rows: Vec<orders::Model>) -> Result<Vec<Order>, DbErr> {
    rows.into_iter().map(Order::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> orders::Model {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        orders::Model {
            tenant_id: Uuid::nil(),
            id: Uuid::nil(),
            channel: "api".into(),
            connection_id: None,
            external_id: "1".into(),
            source: "api".into(),
            name: "#1".into(),
            customer_id: None,
            email: None,
            customer_name: None,
            currency: "JPY".into(),
            billing_address: None,
            shipping_address: None,
            subtotal_units: 12_000_000,
            discounts_units: 0,
            tax_units: 5,
            shipping_units: 0,
            total_units: 12_000_005,
            taxes_included: false,
            shipping_lines: serde_json::json!([]),
            discounts: serde_json::json!([]),
            payment: serde_json::json!({}),
            client: serde_json::json!({}),
            tags: serde_json::json!([]),
            note: None,
            financial_status: "paid".into(),
            fulfillment_status: "unfulfilled".into(),
            state: "on_hold".into(),
            issues: serde_json::json!([]),
            test: false,
            placed_at: now,
            source_updated_at: None,
            cancelled_at: None,
            cancel_reason: None,
            created_at: now,
            updated_at: now,
            payment_verdict: None,
            payment_decision: None,
            fraud_score: None,
            fraud_level: None,
            fraud_decision: None,
            held_from: Some("allocated".into()),
            hold_reason: None,
            refund_due_units: 0,
            promised_at: None,
            ship_by: None,
            routing: None,
            payment_reference: None,
            assigned_warehouse: None,
            assigned_service: None,
        }
    }

    #[test]
    fn a_row_reads_typed_and_writes_back_unchanged() {
        let order = Order::try_from(row()).unwrap();
        assert_eq!(order.state, OrderState::OnHold);
        assert_eq!(order.held_from, Some(OrderState::Allocated));
        assert_eq!(order.total.currency.code(), "JPY");
        assert_eq!(order.total.amount.to_string(), "1200.0005");
        assert_eq!(orders::Model::from(order), row());
    }

    #[test]
    fn an_unknown_state_or_currency_is_refused_by_name() {
        let mut bad = row();
        bad.state = "teleported".into();
        let err = Order::try_from(bad).unwrap_err().to_string();
        assert!(err.contains("state") && err.contains("teleported"), "{err}");
        let mut bad = row();
        bad.held_from = Some("limbo".into());
        assert!(
            Order::try_from(bad)
                .unwrap_err()
                .to_string()
                .contains("held_from")
        );
        let mut bad = row();
        bad.currency = "dollars".into();
        assert!(
            Order::try_from(bad)
                .unwrap_err()
                .to_string()
                .contains("currency")
        );
    }
}
