//! WooCommerce: `order.created` and `order.updated` webhooks carry the REST API v3 order,
//! signed with `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the body under the webhook's
//! secret. When a webhook is saved WooCommerce first sends a ping: a form-encoded
//! `webhook_id=N`, unsigned, that must be answered 200.

use rust_decimal::Decimal;
use serde_json::Value;

use super::json::{array, at, boolean, decimal, id, int, required_decimal, text, time};
use super::{Inbound, Mapped, header};
use crate::domain::Address;
use crate::order::canonical::{
    CanonicalOrder, ClientDetails, CustomerFacts, Discount, FinancialStatus, FulfillmentStatus,
    Line, PaymentFacts, ShippingLine, TaxLine, Totals,
};

/// The unsigned ping WooCommerce sends when a webhook is created or re-enabled.
pub fn is_ping(headers: &actix_web::http::header::HeaderMap, body: &[u8]) -> bool {
    header(headers, "x-wc-webhook-signature").is_none()
        && body.starts_with(b"webhook_id=")
        && body.len() < 64
}

pub fn verify(headers: &actix_web::http::header::HeaderMap, body: &[u8], secret: &str) -> bool {
    crate::infra::signature::valid_base64_hmac(
        header(headers, "x-wc-webhook-signature"),
        secret,
        body,
    )
}

pub fn classify(headers: &actix_web::http::header::HeaderMap, body: &Value) -> Inbound {
    Inbound {
        topic: header(headers, "x-wc-webhook-topic")
            .unwrap_or("unknown")
            .to_owned(),
        delivery_id: header(headers, "x-wc-webhook-delivery-id").map(str::to_owned),
        external_id: id(body, "id"),
    }
}

pub fn map(topic: &str, order: &Value) -> Result<Mapped, String> {
    match topic {
        "order.created" | "order.updated" | "order.restored" | super::poll::POLL_TOPIC => {
            map_order(order).map(|o| Mapped::Order(Box::new(o)))
        }
        "order.deleted" => Ok(Mapped::Ignored(
            "order deleted in WooCommerce (trashed): kept here as it was".into(),
        )),
        // Without a topic header, an order-shaped body is taken for what it is.
        "unknown" if order.get("line_items").is_some_and(Value::is_array) => {
            map_order(order).map(|o| Mapped::Order(Box::new(o)))
        }
        other => Ok(Mapped::Ignored(format!(
            "topic {other} does not change orders"
        ))),
    }
}

/// WooCommerce sends product names HTML-escaped ("Ship Your Idea &ndash; Color: Black").
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "ndash" => Some('–'),
            "mdash" => Some('—'),
            "lsquo" => Some('‘'),
            "rsquo" => Some('’'),
            "ldquo" => Some('“'),
            "rdquo" => Some('”'),
            "hellip" => Some('…'),
            "times" => Some('×'),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn address(v: &Value) -> Option<Address> {
    let line1 = text(v, "address_1");
    let country = text(v, "country");
    if line1.is_none() && country.is_none() {
        return None;
    }
    let name = [text(v, "first_name"), text(v, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(Address {
        name: Some(name).filter(|n| !n.is_empty()),
        company: text(v, "company"),
        line1: line1.unwrap_or_default(),
        line2: text(v, "address_2"),
        city: text(v, "city").unwrap_or_default(),
        region: text(v, "state"),
        postal_code: text(v, "postcode"),
        country: country.map(|c| c.to_ascii_uppercase()).unwrap_or_default(),
        phone: text(v, "phone"),
    })
}

/// Tax rates by id, from the order's tax lines: (label, rate as a fraction when given).
fn rates(o: &Value) -> Vec<(String, String, Option<Decimal>)> {
    array(o, "tax_lines")
        .iter()
        .map(|t| {
            (
                text(t, "rate_id").unwrap_or_default(),
                text(t, "label").unwrap_or_else(|| "Tax".into()),
                decimal(t, "rate_percent").map(|p| p / Decimal::ONE_HUNDRED),
            )
        })
        .collect()
}

fn taxes(v: &Value, rates: &[(String, String, Option<Decimal>)]) -> Vec<TaxLine> {
    array(v, "taxes")
        .iter()
        .filter_map(|t| {
            let amount = decimal(t, "total")?;
            let rate_id = text(t, "id").unwrap_or_default();
            let (title, rate) = rates
                .iter()
                .find(|(id, _, _)| *id == rate_id)
                .map(|(_, label, rate)| (label.clone(), *rate))
                .unwrap_or_else(|| ("Tax".into(), None));
            Some(TaxLine {
                title,
                rate,
                amount,
            })
        })
        .collect()
}

/// A REST API v3 order to the canonical order.
pub fn map_order(o: &Value) -> Result<CanonicalOrder, String> {
    let external_id = id(o, "id").ok_or("id is missing")?;
    let currency = text(o, "currency").ok_or("currency is missing")?;
    let rates = rates(o);
    let mut lines = Vec::new();
    for (i, l) in array(o, "line_items").iter().enumerate() {
        let quantity = int(l, "quantity").ok_or(format!("line_items.{i}.quantity is missing"))?;
        let subtotal =
            required_decimal(l, "subtotal").map_err(|e| format!("line_items.{i}.{e}"))?;
        let total = decimal(l, "total").unwrap_or(subtotal);
        let unit_price = if quantity > 0 {
            subtotal / Decimal::from(quantity)
        } else {
            subtotal
        };
        let options: Vec<String> = array(l, "meta_data")
            .iter()
            .filter(|m| text(m, "key").is_some_and(|k| !k.starts_with('_')))
            .filter_map(|m| text(m, "display_value").or_else(|| text(m, "value")))
            .collect();
        lines.push(Line {
            external_id: id(l, "id"),
            sku: text(l, "sku"),
            title: decode_entities(&text(l, "name").unwrap_or_else(|| "Item".into())),
            variant_title: Some(options.join(" / ")).filter(|t| !t.is_empty()),
            quantity,
            unit_price: unit_price.normalize(),
            discount: (subtotal - total).max(Decimal::ZERO),
            tax_lines: taxes(l, &rates),
            requires_shipping: true,
            grams: None,
        });
    }
    // Fees (gift wrap, payment surcharges) are charges of their own: lines that do not ship.
    for (i, f) in array(o, "fee_lines").iter().enumerate() {
        let amount = required_decimal(f, "total").map_err(|e| format!("fee_lines.{i}.{e}"))?;
        lines.push(Line {
            external_id: id(f, "id"),
            sku: None,
            title: decode_entities(&text(f, "name").unwrap_or_else(|| "Fee".into())),
            variant_title: None,
            quantity: 1,
            unit_price: amount,
            discount: Decimal::ZERO,
            tax_lines: taxes(f, &rates),
            requires_shipping: false,
            grams: None,
        });
    }
    let shipping_lines: Vec<ShippingLine> = array(o, "shipping_lines")
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(ShippingLine {
                title: text(s, "method_title").unwrap_or_else(|| "Shipping".into()),
                code: text(s, "method_id"),
                price: required_decimal(s, "total")
                    .map_err(|e| format!("shipping_lines.{i}.{e}"))?,
                discount: Decimal::ZERO,
                tax_lines: taxes(s, &rates),
            })
        })
        .collect::<Result<_, String>>()?;
    let discounts = array(o, "coupon_lines")
        .iter()
        .map(|c| Discount {
            code: text(c, "code"),
            kind: "coupon".into(),
            amount: decimal(c, "discount").unwrap_or_default(),
        })
        .collect();
    let subtotal: Decimal = lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let totals = Totals {
        subtotal,
        discounts: decimal(o, "discount_total").unwrap_or_default(),
        tax: decimal(o, "total_tax").unwrap_or_default(),
        shipping: decimal(o, "shipping_total").unwrap_or_default(),
        total: required_decimal(o, "total")?,
    };
    let status = text(o, "status").unwrap_or_else(|| "pending".into());
    let paid = text(o, "date_paid_gmt").is_some() || text(o, "date_paid").is_some();
    let financial = match status.as_str() {
        "refunded" => FinancialStatus::Refunded,
        "cancelled" => FinancialStatus::Voided,
        "failed" => FinancialStatus::Failed,
        "processing" | "completed" => FinancialStatus::Paid,
        _ if paid => FinancialStatus::Paid,
        _ => FinancialStatus::Pending,
    };
    let captured = if matches!(financial, FinancialStatus::Paid | FinancialStatus::Refunded) {
        totals.total
    } else {
        Decimal::ZERO
    };
    let modified = time(o, "date_modified_gmt").or_else(|| time(o, "date_modified"));
    let billing = at(o, "billing");
    Ok(CanonicalOrder {
        name: format!(
            "#{}",
            text(o, "number").unwrap_or_else(|| external_id.clone())
        ),
        external_id,
        placed_at: time(o, "date_created_gmt")
            .or_else(|| time(o, "date_created"))
            .ok_or("date_created_gmt is missing")?,
        source_updated_at: modified,
        currency,
        customer: CustomerFacts {
            email: text(billing, "email"),
            first_name: text(billing, "first_name"),
            last_name: text(billing, "last_name"),
            phone: text(billing, "phone"),
            external_id: id(o, "customer_id").filter(|c| c != "0"),
            accepts_marketing: false,
        },
        billing_address: address(billing),
        shipping_address: address(at(o, "shipping")),
        lines,
        shipping_lines,
        discounts,
        totals,
        taxes_included: boolean(o, "prices_include_tax").unwrap_or(false),
        payment: PaymentFacts {
            gateway: text(o, "payment_method"),
            status: Some(status.clone()),
            amount_captured: captured,
            amount_authorized: Decimal::ZERO,
            method: text(o, "payment_method_title"),
            // The gateway's id of the payment (Stripe's ch_… or pi_…), when it reports one.
            reference: text(o, "transaction_id").filter(|t| !t.trim().is_empty()),
            ..Default::default()
        },
        client: ClientDetails {
            ip: text(o, "customer_ip_address"),
            user_agent: text(o, "customer_user_agent"),
            ..Default::default()
        },
        tags: Vec::new(),
        note: text(o, "customer_note"),
        financial_status: financial,
        fulfillment_status: if status == "completed" {
            FulfillmentStatus::Fulfilled
        } else {
            FulfillmentStatus::Unfulfilled
        },
        cancelled_at: (status == "cancelled").then_some(modified).flatten(),
        cancel_reason: (status == "cancelled").then(|| "cancelled in WooCommerce".to_owned()),
        ship_by: None,
        test: false,
    })
}

/// Orders modified since `since`, every page, from the REST API v3 (consumer key and secret
/// over HTTPS basic auth), for reconciliation of missed webhooks.
pub async fn fetch_since(
    client: &crate::infra::outbound::api::Client,
    shop: &str,
    credentials: &std::collections::BTreeMap<String, String>,
    since: chrono::DateTime<chrono::Utc>,
    budget: &mut super::poll::Budget,
) -> Result<Vec<super::poll::Polled>, crate::infra::outbound::api::ApiError> {
    use crate::infra::outbound::api::ApiError;
    let key = credentials
        .get("consumerKey")
        .ok_or_else(|| ApiError::Permanent("credentials lack consumerKey".into()))?;
    let secret = credentials
        .get("consumerSecret")
        .ok_or_else(|| ApiError::Permanent("credentials lack consumerSecret".into()))?;
    let root = credentials
        .get("apiUrl")
        .cloned()
        .unwrap_or_else(|| format!("https://{shop}"));
    let mut out = Vec::new();
    let mut page = 0;
    while budget.spend() {
        page += 1;
        let url = format!(
            "{}/wp-json/wc/v3/orders?modified_after={}&dates_are_gmt=true&per_page=100&page={page}&orderby=modified&order=asc",
            root.trim_end_matches('/'),
            since.format("%Y-%m-%dT%H:%M:%S")
        );
        let body = client
            .json("WooCommerce GET orders", || {
                client
                    .request(reqwest::Method::GET, &url)
                    .basic_auth(key, Some(secret))
            })
            .await?;
        let orders = body.as_array().cloned().unwrap_or_default();
        for order in &orders {
            let Some(id) = id(order, "id") else { continue };
            out.push(super::poll::Polled {
                external_id: id,
                updated_at: time(order, "date_modified_gmt"),
                payload: order.clone(),
            });
        }
        if orders.len() < 100 {
            budget.finish();
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_entities_in_names_are_decoded() {
        assert_eq!(
            decode_entities("Ship Your Idea &ndash; Color: Black"),
            "Ship Your Idea – Color: Black"
        );
        assert_eq!(
            decode_entities("Tom &amp; Jerry&#39;s &#x263A; & more"),
            "Tom & Jerry's ☺ & more"
        );
        assert_eq!(decode_entities("a &bogus; b"), "a &bogus; b");
    }
}
