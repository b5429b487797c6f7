//! What a rule's condition can see of an order event, and its types. Pure.

use rust_decimal::Decimal;

use super::expr::{Facts, Schema, Type, Value};
use crate::domain::money::Money;
use crate::order::repo::{Order, OrderLine};

pub fn schema() -> Schema {
    [
        ("event.kind", Type::Text),
        ("order.name", Type::Text),
        ("order.channel", Type::Text),
        ("order.state", Type::Text),
        ("order.currency", Type::Text),
        ("order.total", Type::Number),
        ("order.subtotal", Type::Number),
        ("order.discounts", Type::Number),
        ("order.shipping", Type::Number),
        ("order.tax", Type::Number),
        ("order.tags", Type::TextList),
        ("order.test", Type::Bool),
        ("payment.verdict", Type::Text),
        ("fraud.score", Type::Number),
        ("fraud.level", Type::Text),
        ("lines.count", Type::Number),
        ("lines.quantity", Type::Number),
        ("lines.skus", Type::TextList),
        ("shipping.country", Type::Text),
        ("customer.email", Type::Text),
        ("customer.orders_count", Type::Number),
        ("customer.total_spent", Type::Number),
        ("stock.sku", Type::Text),
        ("stock.available", Type::Number),
    ]
    .into_iter()
    .collect()
}

/// A customer's history, when the order has a customer.
pub struct History {
    pub orders: i64,
    pub total_spent_units: i64,
}

/// What the event itself says: for `order.stock_low`, the SKU and the units left (its data).
pub struct Event<'a> {
    pub kind: &'a str,
    pub data: &'a serde_json::Value,
}

pub fn of(
    event: Event<'_>,
    order: &Order,
    lines: &[OrderLine],
    customer: Option<&History>,
) -> Facts {
    let kind = event.kind;
    let money = |m: Money| Value::Number(m.shown());
    let text = |t: Option<&str>| t.map_or(Value::Missing, |t| Value::Text(t.to_owned()));
    let tags: Vec<String> = serde_json::from_value(order.tags.clone()).unwrap_or_default();
    let country = order
        .shipping_address
        .as_ref()
        .and_then(|a| a.get("country"))
        .and_then(|c| c.as_str());
    [
        (
            "event.kind",
            if kind.is_empty() {
                Value::Missing
            } else {
                Value::Text(kind.to_owned())
            },
        ),
        ("order.name", Value::Text(order.name.clone())),
        ("order.channel", Value::Text(order.channel.clone())),
        ("order.state", Value::Text(order.state.as_str().to_owned())),
        (
            "order.currency",
            Value::Text(order.currency.code().to_owned()),
        ),
        ("order.total", money(order.total)),
        ("order.subtotal", money(order.subtotal)),
        ("order.discounts", money(order.discounts)),
        ("order.shipping", money(order.shipping)),
        ("order.tax", money(order.tax)),
        ("order.tags", Value::TextList(tags)),
        ("order.test", Value::Bool(order.test)),
        ("payment.verdict", text(order.payment_verdict.as_deref())),
        (
            "fraud.score",
            order
                .fraud_score
                .map_or(Value::Missing, |s| Value::Number(Decimal::from(s))),
        ),
        ("fraud.level", text(order.fraud_level.as_deref())),
        ("lines.count", Value::Number(Decimal::from(lines.len()))),
        (
            "lines.quantity",
            Value::Number(Decimal::from(lines.iter().map(|l| l.quantity).sum::<i64>())),
        ),
        (
            "lines.skus",
            Value::TextList(lines.iter().filter_map(|l| l.sku.clone()).collect()),
        ),
        ("shipping.country", text(country)),
        ("customer.email", text(order.email.as_deref())),
        (
            "customer.orders_count",
            customer.map_or(Value::Missing, |c| Value::Number(Decimal::from(c.orders))),
        ),
        (
            "customer.total_spent",
            customer.map_or(Value::Missing, |c| {
                money(Money::from_units(c.total_spent_units, order.currency))
            }),
        ),
        (
            "stock.sku",
            text(event.data.get("sku").and_then(|v| v.as_str())),
        ),
        (
            "stock.available",
            event
                .data
                .get("available")
                .and_then(|v| v.as_i64())
                .map_or(Value::Missing, |n| Value::Number(Decimal::from(n))),
        ),
    ]
    .into_iter()
    .collect()
}
