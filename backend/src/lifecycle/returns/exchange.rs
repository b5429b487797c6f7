//! An exchange: the replacement order, captured like any other order so it goes through the
//! lifecycle (payment, fraud, allocation, routing, label, emails). It costs the shopper
//! nothing: each line is discounted in full, paid for by the items sent back.

use chrono::Utc;
use rust_decimal::Decimal;

use super::repo::{Return, ReturnLine};
use crate::domain::Address;
use crate::domain::money::amount_from_units;
use crate::lifecycle::capture::service::{self as capture, CaptureError, Captured, Source};
use crate::order::canonical::{
    CanonicalOrder, CustomerFacts, FinancialStatus, Line, PaymentFacts, Totals,
};
use crate::order::repo::{Order, OrderLine};
use crate::tenancy::TenantTx;

use super::service::By;

/// Captures the replacement for `lines` of `ret`.
pub async fn replace(
    tx: &TenantTx,
    order: &Order,
    order_lines: &[OrderLine],
    ret: &Return,
    lines: &[ReturnLine],
    by: &By,
) -> Result<Captured, CaptureError> {
    let cur = order.currency.code();
    let items: Vec<Line> = lines
        .iter()
        .map(|l| {
            let original = order_lines.iter().find(|o| o.position == l.position);
            let sku = l.exchange_sku.clone().unwrap_or_else(|| l.sku.clone());
            let same = original.and_then(|o| o.sku.as_deref()) == Some(sku.as_str());
            let unit = amount_from_units(l.unit_value_units + l.unit_tax_units, cur);
            let quantity = i64::from(l.quantity);
            Line {
                external_id: None,
                title: original
                    .filter(|_| same)
                    .map(|o| o.title.clone())
                    .unwrap_or_else(|| sku.clone()),
                variant_title: original
                    .filter(|_| same)
                    .and_then(|o| o.variant_title.clone()),
                sku: Some(sku),
                quantity,
                unit_price: unit,
                discount: unit * Decimal::from(quantity),
                tax_lines: Vec::new(),
                requires_shipping: true,
                grams: original.and_then(|o| o.grams),
            }
        })
        .collect();
    let subtotal: Decimal = items
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let address = |v: &Option<serde_json::Value>| {
        v.clone()
            .and_then(|v| serde_json::from_value::<Address>(v).ok())
    };
    let canonical = CanonicalOrder {
        external_id: format!("exchange-{}", ret.id),
        name: format!("{}-EX", ret.name),
        placed_at: Utc::now(),
        source_updated_at: None,
        currency: order.currency.to_string(),
        customer: CustomerFacts {
            email: order.email.clone(),
            first_name: order.customer_name.clone(),
            ..CustomerFacts::default()
        },
        billing_address: address(&order.billing_address),
        shipping_address: address(&order.shipping_address),
        lines: items,
        shipping_lines: Vec::new(),
        discounts: Vec::new(),
        totals: Totals {
            subtotal,
            discounts: subtotal,
            tax: Decimal::ZERO,
            shipping: Decimal::ZERO,
            total: Decimal::ZERO,
        },
        taxes_included: false,
        payment: PaymentFacts {
            gateway: Some("exchange".into()),
            status: Some("paid".into()),
            method: Some(format!("exchange for return {}", ret.name)),
            ..PaymentFacts::default()
        },
        client: Default::default(),
        tags: vec!["exchange".into()],
        note: Some(format!(
            "Exchange for return {} of order {}",
            ret.name, order.name
        )),
        financial_status: FinancialStatus::Paid,
        fulfillment_status: Default::default(),
        cancelled_at: None,
        cancel_reason: None,
        ship_by: None,
        test: order.test,
    };
    let source = Source {
        channel: "api".into(),
        connection: None,
        actor: by.actor,
        actor_label: by.label.clone(),
    };
    // Boxed: capture's future is large, and it runs deep inside a return step's.
    Box::pin(capture::capture(tx, &source, canonical)).await
}
