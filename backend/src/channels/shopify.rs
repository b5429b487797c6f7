//! Shopify: `orders/create`, `orders/updated` and `orders/cancelled` webhooks (the REST order
//! object, unwrapped), signed with `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body
//! under the app's secret; redeliveries share `X-Shopify-Webhook-Id`.

use rust_decimal::Decimal;
use serde_json::Value;

use super::json::{array, boolean, decimal, id, int, required_decimal, text, time};
use super::{Inbound, Mapped, header};
use crate::domain::Address;
use crate::order::canonical::{
    CanonicalOrder, ClientDetails, CustomerFacts, Discount, FinancialStatus, FulfillmentStatus,
    Line, PaymentFacts, ShippingLine, TaxLine, Totals,
};

pub const ORDER_TOPICS: [&str; 3] = ["orders/create", "orders/updated", "orders/cancelled"];

pub fn verify(headers: &actix_web::http::header::HeaderMap, body: &[u8], secret: &str) -> bool {
    crate::infra::signature::valid_base64_hmac(
        header(headers, "x-shopify-hmac-sha256"),
        secret,
        body,
    )
}

pub fn classify(headers: &actix_web::http::header::HeaderMap, body: &Value) -> Inbound {
    Inbound {
        topic: header(headers, "x-shopify-topic")
            .unwrap_or("unknown")
            .to_owned(),
        delivery_id: header(headers, "x-shopify-webhook-id").map(str::to_owned),
        external_id: id(body, "id"),
    }
}

/// Maps a delivery of `topic`; other topics are kept but not turned into orders.
pub fn map(topic: &str, order: &Value) -> Result<Mapped, String> {
    // Without a topic header, an order-shaped body is taken for what it is.
    let untitled = topic == "unknown" && order.get("line_items").is_some_and(Value::is_array);
    if !ORDER_TOPICS.contains(&topic) && topic != super::poll::POLL_TOPIC && !untitled {
        return Ok(Mapped::Ignored(format!(
            "topic {topic} does not change orders"
        )));
    }
    map_order(order).map(|o| Mapped::Order(Box::new(o)))
}

pub fn address(v: &Value) -> Option<Address> {
    if !v.is_object() {
        return None;
    }
    let name = text(v, "name").or_else(|| {
        let joined = [text(v, "first_name"), text(v, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(joined).filter(|n| !n.is_empty())
    });
    Some(Address {
        name,
        company: text(v, "company"),
        line1: text(v, "address1").unwrap_or_default(),
        line2: text(v, "address2"),
        city: text(v, "city").unwrap_or_default(),
        region: text(v, "province_code").or_else(|| text(v, "province")),
        postal_code: text(v, "zip"),
        country: text(v, "country_code")
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default(),
        phone: text(v, "phone"),
    })
}

fn tax_lines(v: &Value, path: &str) -> Result<Vec<TaxLine>, String> {
    array(v, path)
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(TaxLine {
                title: text(t, "title").unwrap_or_else(|| "Tax".into()),
                rate: decimal(t, "rate"),
                amount: required_decimal(t, "price").map_err(|e| format!("{path}.{i}.{e}"))?,
            })
        })
        .collect()
}

fn financial_status(s: Option<&str>) -> FinancialStatus {
    match s {
        Some("authorized") => FinancialStatus::Authorized,
        Some("partially_paid") => FinancialStatus::PartiallyPaid,
        Some("paid") => FinancialStatus::Paid,
        Some("partially_refunded") => FinancialStatus::PartiallyRefunded,
        Some("refunded") => FinancialStatus::Refunded,
        Some("voided") => FinancialStatus::Voided,
        _ => FinancialStatus::Pending,
    }
}

fn fulfillment_status(s: Option<&str>) -> FulfillmentStatus {
    match s {
        Some("fulfilled") => FulfillmentStatus::Fulfilled,
        Some("partial") => FulfillmentStatus::Partial,
        Some("restocked") => FulfillmentStatus::Restocked,
        _ => FulfillmentStatus::Unfulfilled,
    }
}

/// The REST order object (as in `orders/*` webhooks) to the canonical order.
pub fn map_order(o: &Value) -> Result<CanonicalOrder, String> {
    let external_id = id(o, "id").ok_or("id is missing")?;
    let currency = text(o, "currency").ok_or("currency is missing")?;
    let mut lines = Vec::new();
    for (i, l) in array(o, "line_items").iter().enumerate() {
        let discount = match decimal(l, "total_discount") {
            Some(d) if !d.is_zero() => d,
            _ => array(l, "discount_allocations")
                .iter()
                .filter_map(|a| decimal(a, "amount"))
                .sum(),
        };
        lines.push(Line {
            external_id: id(l, "id"),
            sku: text(l, "sku"),
            title: text(l, "title")
                .or_else(|| text(l, "name"))
                .unwrap_or_else(|| "Item".into()),
            variant_title: text(l, "variant_title"),
            quantity: int(l, "quantity").ok_or(format!("line_items.{i}.quantity is missing"))?,
            unit_price: required_decimal(l, "price").map_err(|e| format!("line_items.{i}.{e}"))?,
            discount,
            tax_lines: tax_lines(l, "tax_lines")?,
            requires_shipping: boolean(l, "requires_shipping").unwrap_or(true),
            grams: int(l, "grams").and_then(|g| i32::try_from(g).ok()),
        });
    }
    let mut shipping_lines = Vec::new();
    for (i, s) in array(o, "shipping_lines").iter().enumerate() {
        let price = required_decimal(s, "price").map_err(|e| format!("shipping_lines.{i}.{e}"))?;
        let discounted = decimal(s, "discounted_price").unwrap_or(price);
        shipping_lines.push(ShippingLine {
            title: text(s, "title").unwrap_or_else(|| "Shipping".into()),
            code: text(s, "code"),
            price,
            discount: (price - discounted).max(Decimal::ZERO),
            tax_lines: tax_lines(s, "tax_lines")?,
        });
    }
    let discounts = array(o, "discount_codes")
        .iter()
        .map(|d| Discount {
            code: text(d, "code"),
            kind: text(d, "type").unwrap_or_else(|| "discount_code".into()),
            amount: decimal(d, "amount").unwrap_or_default(),
        })
        .collect();
    let line_sum: Decimal = lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let shipping = match decimal(o, "total_shipping_price_set.shop_money.amount") {
        Some(s) => s,
        None => shipping_lines.iter().map(|s| s.price).sum(),
    };
    let totals = Totals {
        subtotal: decimal(o, "total_line_items_price").unwrap_or(line_sum),
        discounts: decimal(o, "total_discounts").unwrap_or_default(),
        tax: decimal(o, "total_tax").unwrap_or_default(),
        shipping,
        total: required_decimal(o, "total_price")?,
    };
    let status = text(o, "financial_status");
    let financial = financial_status(status.as_deref());
    let outstanding = decimal(o, "total_outstanding");
    let (captured, authorized) = match financial {
        FinancialStatus::Paid | FinancialStatus::PartiallyRefunded | FinancialStatus::Refunded => {
            (totals.total, Decimal::ZERO)
        }
        FinancialStatus::PartiallyPaid => (
            totals.total - outstanding.unwrap_or(totals.total),
            Decimal::ZERO,
        ),
        FinancialStatus::Authorized => (Decimal::ZERO, totals.total),
        _ => (Decimal::ZERO, Decimal::ZERO),
    };
    let card_number = text(o, "payment_details.credit_card_number");
    let payment = PaymentFacts {
        gateway: text(o, "gateway").or_else(|| text(o, "payment_gateway_names.0")),
        status,
        amount_captured: captured,
        amount_authorized: authorized,
        avs_result: text(o, "payment_details.avs_result_code"),
        cvv_result: text(o, "payment_details.cvv_result_code"),
        gateway_risk: None,
        card_brand: text(o, "payment_details.credit_card_company"),
        card_last4: card_number.map(|n| {
            let digits: Vec<char> = n.chars().filter(char::is_ascii_digit).collect();
            digits[digits.len().saturating_sub(4)..].iter().collect()
        }),
        method: text(o, "processing_method"),
        currency: text(o, "currency"),
        failed_attempts: 0,
        reference: None,
    };
    let client = ClientDetails {
        ip: text(o, "browser_ip").or_else(|| text(o, "client_details.browser_ip")),
        user_agent: text(o, "client_details.user_agent"),
        language: text(o, "customer_locale").or_else(|| text(o, "client_details.accept_language")),
        device_id: text(o, "device_id"),
        browser_id: text(o, "client_details.session_hash"),
        ip_country: None,
    };
    let customer = CustomerFacts {
        email: text(o, "email")
            .or_else(|| text(o, "contact_email"))
            .or_else(|| text(o, "customer.email")),
        first_name: text(o, "customer.first_name")
            .or_else(|| text(o, "billing_address.first_name")),
        last_name: text(o, "customer.last_name").or_else(|| text(o, "billing_address.last_name")),
        phone: text(o, "phone").or_else(|| text(o, "customer.phone")),
        external_id: id(o, "customer.id"),
        accepts_marketing: boolean(o, "buyer_accepts_marketing").unwrap_or(false),
    };
    let tags = text(o, "tags")
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(CanonicalOrder {
        name: text(o, "name").unwrap_or_else(|| {
            format!(
                "#{}",
                text(o, "order_number").unwrap_or_else(|| external_id.clone())
            )
        }),
        external_id,
        placed_at: time(o, "processed_at")
            .or_else(|| time(o, "created_at"))
            .ok_or("created_at is missing")?,
        source_updated_at: time(o, "updated_at"),
        currency,
        customer,
        billing_address: address(super::json::at(o, "billing_address")),
        shipping_address: address(super::json::at(o, "shipping_address")),
        lines,
        shipping_lines,
        discounts,
        totals,
        taxes_included: boolean(o, "taxes_included").unwrap_or(false),
        payment,
        client,
        tags,
        note: text(o, "note"),
        financial_status: financial,
        fulfillment_status: fulfillment_status(text(o, "fulfillment_status").as_deref()),
        cancelled_at: time(o, "cancelled_at"),
        cancel_reason: text(o, "cancel_reason"),
        ship_by: None,
        test: boolean(o, "test").unwrap_or(false),
    })
}

/// The Admin REST API version requests are pinned to (the newest whose REST payloads the
/// tests serve: Shopify's generated API tests for 2026-07).
pub const API_VERSION: &str = "2026-07";

/// Orders updated since `since`, oldest update first, every page (Shopify paginates with
/// `Link: <…>; rel="next"`), for reconciliation: webhooks can be missed, the API cannot.
/// Oldest first, so a run cut short still moves the cursor only past what it read.
pub async fn fetch_since(
    client: &crate::infra::outbound::api::Client,
    shop: &str,
    credentials: &std::collections::BTreeMap<String, String>,
    since: chrono::DateTime<chrono::Utc>,
    budget: &mut super::poll::Budget,
) -> Result<Vec<super::poll::Polled>, crate::infra::outbound::api::ApiError> {
    use crate::infra::outbound::api::ApiError;
    let token = credentials
        .get("accessToken")
        .ok_or_else(|| ApiError::Permanent("credentials lack accessToken".into()))?;
    let root = credentials
        .get("apiUrl")
        .cloned()
        .unwrap_or_else(|| format!("https://{shop}"));
    let mut url = Some(format!(
        "{}/admin/api/{API_VERSION}/orders.json?status=any&limit=250&order=updated_at%20asc&updated_at_min={}",
        root.trim_end_matches('/'),
        since
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            .replace('+', "%2B")
    ));
    let mut out = Vec::new();
    while budget.spend() {
        let Some(page_url) = url.take() else { break };
        let (body, next) = client
            .json_with_next("Shopify GET orders", || {
                client
                    .request(reqwest::Method::GET, &page_url)
                    .header("X-Shopify-Access-Token", token)
            })
            .await?;
        for order in array(&body, "orders") {
            let Some(id) = id(order, "id") else { continue };
            out.push(super::poll::Polled {
                external_id: id,
                updated_at: time(order, "updated_at"),
                payload: order.clone(),
            });
        }
        url = next;
        if url.is_none() {
            budget.finish();
        }
    }
    Ok(out)
}
