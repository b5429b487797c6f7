//! Amazon Selling Partner API: orders are polled — `getOrders` for everything updated since
//! the last sync, then `getOrderItems` for each — with an access token from Login with
//! Amazon (LWA) obtained from the seller's refresh token.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::json::{array, at, boolean, decimal, int, text, time};
use crate::domain::Address;
use crate::infra::outbound::api::{ApiError, Client};
use crate::order::canonical::{
    CanonicalOrder, ClientDetails, CustomerFacts, Discount, FinancialStatus, FulfillmentStatus,
    Line, PaymentFacts, ShippingLine, TaxLine, Totals,
};

pub const DEFAULT_API: &str = "https://sellingpartnerapi-na.amazon.com";
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

/// Marketplaces whose item prices include VAT or GST (Europe, the UK, Japan, Australia,
/// India and the like); North and South American prices exclude sales tax.
const TAX_INCLUSIVE: &[&str] = &[
    "A1PA6795UKMFR9",
    "A1F83G8C2ARO7P",
    "A13V1IB3VIYZZH",
    "APJ6JRA9NG5V4",
    "A1RKKUPIHCS9HS",
    "A1805IZSGTT6HS",
    "A2NODRKZP88ZB9",
    "A1C3SOZRARQ6R3",
    "AMEN7PMS3EDWL",
    "A33AVAJ2PDY3EV",
    "A1VC38T7YXB528",
    "A39IBJ37TRP1C6",
    "A21TJRUUN4KGV",
    "A19VAU5U5O7RUS",
    "A2VIGQ35RCS4UG",
    "A17E79C6D8DWNP",
    "ARBP9OOSHTCHU",
];

pub struct Api<'a> {
    client: &'a Client,
    base: String,
    token_url: String,
    credentials: &'a BTreeMap<String, String>,
}

fn credential<'c>(c: &'c BTreeMap<String, String>, name: &str) -> Result<&'c str, ApiError> {
    c.get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::Permanent(format!("credentials lack {name}")))
}

/// One page of orders and where the next starts.
pub struct OrdersPage {
    pub orders: Vec<Value>,
    pub next_token: Option<String>,
}

impl<'a> Api<'a> {
    pub fn new(client: &'a Client, credentials: &'a BTreeMap<String, String>) -> Self {
        let get = |k: &str, default: &str| {
            credentials
                .get(k)
                .map(String::as_str)
                .unwrap_or(default)
                .trim_end_matches('/')
                .to_owned()
        };
        Self {
            client,
            base: get("apiUrl", DEFAULT_API),
            token_url: get("tokenUrl", DEFAULT_TOKEN_URL),
            credentials,
        }
    }

    /// An LWA access token for the seller's refresh token.
    pub async fn access_token(&self) -> Result<String, ApiError> {
        let form = [
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                credential(self.credentials, "refreshToken")?,
            ),
            ("client_id", credential(self.credentials, "clientId")?),
            (
                "client_secret",
                credential(self.credentials, "clientSecret")?,
            ),
        ];
        let answer = self
            .client
            .json("Amazon LWA token", || {
                self.client
                    .request(Method::POST, &self.token_url)
                    .form(&form)
            })
            .await?;
        text(&answer, "access_token")
            .ok_or_else(|| ApiError::Permanent("LWA answered without an access_token".into()))
    }

    async fn get(&self, token: &str, path_and_query: &str) -> Result<Value, ApiError> {
        let url = format!("{}{path_and_query}", self.base);
        self.client
            .json(
                &format!(
                    "Amazon GET {}",
                    path_and_query.split('?').next().unwrap_or("")
                ),
                || {
                    self.client
                        .request(Method::GET, &url)
                        .header("x-amz-access-token", token)
                        .header("accept", "application/json")
                },
            )
            .await
    }

    /// `getOrders`: orders updated after `since` (or the page `next_token` points to).
    pub async fn orders(
        &self,
        token: &str,
        since: DateTime<Utc>,
        next_token: Option<&str>,
    ) -> Result<OrdersPage, ApiError> {
        let marketplace = credential(self.credentials, "marketplaceId")?;
        let query = match next_token {
            Some(next) => format!(
                "MarketplaceIds={}&NextToken={}",
                enc(marketplace),
                enc(next)
            ),
            None => format!(
                "MarketplaceIds={}&LastUpdatedAfter={}&MaxResultsPerPage=100",
                enc(marketplace),
                enc(&since.to_rfc3339_opts(SecondsFormat::Secs, true))
            ),
        };
        let answer = self
            .get(token, &format!("/orders/v0/orders?{query}"))
            .await?;
        Ok(OrdersPage {
            orders: array(&answer, "payload.Orders").to_vec(),
            next_token: text(&answer, "payload.NextToken"),
        })
    }

    /// The shipping address and buyer details of an order: restricted data, read with a
    /// Restricted Data Token from the Tokens API. `None` when the seller's app is not
    /// authorised for it (Amazon answers 403): the order is captured without them and its
    /// missing address flagged.
    pub async fn restricted(
        &self,
        token: &str,
        order_id: &str,
    ) -> Result<Option<(Value, Value)>, ApiError> {
        let address_path = format!("/orders/v0/orders/{}/address", enc(order_id));
        let buyer_path = format!("/orders/v0/orders/{}/buyerInfo", enc(order_id));
        let body = json!({ "restrictedResources": [
            { "method": "GET", "path": address_path },
            { "method": "GET", "path": buyer_path },
        ] });
        let url = format!("{}/tokens/2021-03-01/restrictedDataToken", self.base);
        let answer = self
            .client
            .json("Amazon restricted data token", || {
                self.client
                    .request(Method::POST, &url)
                    .header("x-amz-access-token", token)
                    .json(&body)
            })
            .await;
        let rdt = match answer {
            Ok(a) => text(&a, "restrictedDataToken").ok_or_else(|| {
                ApiError::Permanent("no restrictedDataToken in the answer".into())
            })?,
            Err(ApiError::Permanent(e)) if e.contains("403") => return Ok(None),
            Err(e) => return Err(e),
        };
        let address = self.get(&rdt, &address_path).await?;
        let buyer = self.get(&rdt, &buyer_path).await?;
        Ok(Some((
            at(&address, "payload.ShippingAddress").clone(),
            at(&buyer, "payload").clone(),
        )))
    }

    /// `getOrderItems`, every page.
    pub async fn items(&self, token: &str, order_id: &str) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..50 {
            let path = match &next {
                Some(t) => format!(
                    "/orders/v0/orders/{}/orderItems?NextToken={}",
                    enc(order_id),
                    enc(t)
                ),
                None => format!("/orders/v0/orders/{}/orderItems", enc(order_id)),
            };
            let answer = self.get(token, &path).await?;
            items.extend(array(&answer, "payload.OrderItems").iter().cloned());
            next = text(&answer, "payload.NextToken");
            if next.is_none() {
                break;
            }
        }
        Ok(items)
    }
}

// What Orderflow writes back (see `push`).
impl Api<'_> {
    /// The marketplace the seller's orders are in.
    pub fn marketplace(&self) -> Result<&str, ApiError> {
        credential(self.credentials, "marketplaceId")
    }

    /// A request to the Selling Partner API with an access token.
    pub fn authed(&self, token: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, &format!("{}{path}", self.base))
            .header("x-amz-access-token", token)
            .header("accept", "application/json")
    }

    /// `confirmShipment` for one package: sent once (a lost answer is found from the order
    /// items' shipped quantities next time); the answer comes back as it is.
    pub async fn confirm_shipment(
        &self,
        token: &str,
        order_id: &str,
        body: &Value,
    ) -> Result<crate::infra::outbound::Answer, (ApiError, Option<std::time::Duration>)> {
        let url = format!(
            "{}/orders/v0/orders/{}/shipmentConfirmation",
            self.base,
            enc(order_id)
        );
        let request = self
            .client
            .request(Method::POST, &url)
            .header("x-amz-access-token", token)
            .header("accept", "application/json")
            .json(body);
        self.client.once("Amazon confirmShipment", request).await
    }
}

/// Percent-encodes a path segment (a SKU may hold anything).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the poller stores per order: the order and its items, as Amazon sent them.
pub fn delivery_payload(order: &Value, items: &[Value]) -> Value {
    json!({ "order": order, "items": items })
}

fn money(v: &Value, path: &str) -> Decimal {
    decimal(v, &format!("{path}.Amount")).unwrap_or_default()
}

fn address(v: &Value) -> Option<Address> {
    if !v.is_object() {
        return None;
    }
    let line2 = [text(v, "AddressLine2"), text(v, "AddressLine3")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    Some(Address {
        name: text(v, "Name"),
        company: text(v, "CompanyName"),
        line1: text(v, "AddressLine1").unwrap_or_default(),
        line2: Some(line2).filter(|l| !l.is_empty()),
        city: text(v, "City").unwrap_or_default(),
        region: text(v, "StateOrRegion"),
        postal_code: text(v, "PostalCode"),
        country: text(v, "CountryCode")
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default(),
        phone: text(v, "Phone"),
    })
}

fn statuses(status: &str) -> (FinancialStatus, FulfillmentStatus) {
    match status {
        // Amazon has not charged the buyer yet.
        "Pending" | "PendingAvailability" | "InvoiceUnconfirmed" => {
            (FinancialStatus::Pending, FulfillmentStatus::Unfulfilled)
        }
        "Unshipped" => (FinancialStatus::Paid, FulfillmentStatus::Unfulfilled),
        "PartiallyShipped" => (FinancialStatus::Paid, FulfillmentStatus::Partial),
        "Shipped" => (FinancialStatus::Paid, FulfillmentStatus::Fulfilled),
        "Canceled" => (FinancialStatus::Voided, FulfillmentStatus::Unfulfilled),
        "Unfulfillable" => (FinancialStatus::Failed, FulfillmentStatus::Unfulfilled),
        _ => (FinancialStatus::Pending, FulfillmentStatus::Unfulfilled),
    }
}

/// An order from `getOrders`/`getOrder` with its `getOrderItems` items.
pub fn map_order(o: &Value, items: &[Value]) -> Result<CanonicalOrder, String> {
    let id = text(o, "AmazonOrderId").ok_or("AmazonOrderId is missing")?;
    let currency = text(o, "OrderTotal.CurrencyCode")
        .or_else(|| items.iter().find_map(|i| text(i, "ItemPrice.CurrencyCode")))
        .ok_or("no currency: OrderTotal and item prices are missing")?;
    let inclusive = text(o, "MarketplaceId").is_some_and(|m| TAX_INCLUSIVE.contains(&m.as_str()));
    let mut lines = Vec::new();
    let mut shipping = Decimal::ZERO;
    let mut shipping_tax = Decimal::ZERO;
    let mut shipping_discount = Decimal::ZERO;
    for (i, item) in items.iter().enumerate() {
        let quantity =
            int(item, "QuantityOrdered").ok_or(format!("items.{i}.QuantityOrdered is missing"))?;
        // ItemPrice is for the whole quantity.
        let total = money(item, "ItemPrice");
        let tax = money(item, "ItemTax");
        shipping += money(item, "ShippingPrice");
        shipping_tax += money(item, "ShippingTax");
        shipping_discount += money(item, "ShippingDiscount");
        let gift_wrap = money(item, "BuyerInfo.GiftWrapPrice");
        lines.push(Line {
            external_id: text(item, "OrderItemId"),
            sku: text(item, "SellerSKU"),
            title: text(item, "Title").unwrap_or_else(|| "Item".into()),
            variant_title: text(item, "ASIN").map(|a| format!("ASIN {a}")),
            quantity,
            unit_price: if quantity > 0 {
                (total / Decimal::from(quantity)).normalize()
            } else {
                total
            },
            discount: money(item, "PromotionDiscount"),
            tax_lines: TaxLine::lump("Tax", tax),
            requires_shipping: true,
            grams: None,
        });
        if !gift_wrap.is_zero() {
            lines.push(Line {
                external_id: text(item, "OrderItemId").map(|i| format!("{i}-giftwrap")),
                title: "Gift wrap".into(),
                quantity: 1,
                unit_price: gift_wrap,
                tax_lines: TaxLine::lump("Tax", money(item, "BuyerInfo.GiftWrapTax")),
                requires_shipping: false,
                ..Default::default()
            });
        }
    }
    let subtotal: Decimal = lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let line_discounts: Decimal = lines.iter().map(|l| l.discount).sum();
    let tax: Decimal = lines.iter().map(Line::tax).sum::<Decimal>() + shipping_tax;
    let computed = subtotal - line_discounts - shipping_discount
        + if inclusive { Decimal::ZERO } else { tax }
        + shipping;
    let total = decimal(o, "OrderTotal.Amount").unwrap_or(computed);
    let status = text(o, "OrderStatus").unwrap_or_else(|| "Pending".into());
    let (financial, fulfillment) = statuses(&status);
    let buyer_name = text(o, "BuyerInfo.BuyerName");
    let (first, last) = match buyer_name.as_deref().and_then(|n| n.rsplit_once(' ')) {
        Some((f, l)) => (Some(f.to_owned()), Some(l.to_owned())),
        None => (buyer_name.clone(), None),
    };
    let modified = time(o, "LastUpdateDate");
    Ok(CanonicalOrder {
        name: id.clone(),
        external_id: id,
        placed_at: time(o, "PurchaseDate").ok_or("PurchaseDate is missing")?,
        source_updated_at: modified,
        currency,
        customer: CustomerFacts {
            email: text(o, "BuyerInfo.BuyerEmail"),
            first_name: first,
            last_name: last,
            phone: text(o, "ShippingAddress.Phone"),
            external_id: None,
            accepts_marketing: false,
        },
        billing_address: None,
        shipping_address: address(at(o, "ShippingAddress")),
        lines,
        shipping_lines: if shipping.is_zero() && items.is_empty() {
            Vec::new()
        } else {
            vec![ShippingLine {
                title: text(o, "ShipServiceLevel").unwrap_or_else(|| "Amazon shipping".into()),
                code: text(o, "ShipmentServiceLevelCategory"),
                price: shipping,
                discount: shipping_discount,
                tax_lines: TaxLine::lump("Shipping tax", shipping_tax),
            }]
        },
        discounts: if shipping_discount.is_zero() {
            Vec::new()
        } else {
            vec![Discount {
                code: None,
                kind: "shipping_promotion".into(),
                amount: shipping_discount,
            }]
        },
        totals: Totals {
            subtotal,
            discounts: line_discounts + shipping_discount,
            tax,
            shipping,
            total,
        },
        taxes_included: inclusive,
        payment: PaymentFacts {
            gateway: Some("amazon".into()),
            status: Some(status.clone()),
            amount_captured: if financial == FinancialStatus::Paid {
                total
            } else {
                Decimal::ZERO
            },
            method: array(o, "PaymentMethodDetails")
                .iter()
                .filter_map(|m| m.as_str())
                .next()
                .map(str::to_owned)
                .or_else(|| text(o, "PaymentMethod")),
            ..Default::default()
        },
        client: ClientDetails::default(),
        tags: [
            boolean(o, "IsPrime").unwrap_or(false).then_some("prime"),
            boolean(o, "IsBusinessOrder")
                .unwrap_or(false)
                .then_some("business"),
            (text(o, "FulfillmentChannel").as_deref() == Some("AFN")).then_some("fba"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect(),
        note: None,
        financial_status: financial,
        fulfillment_status: fulfillment,
        cancelled_at: (status == "Canceled").then_some(modified).flatten(),
        cancel_reason: (status == "Canceled").then(|| "cancelled on Amazon".to_owned()),
        ship_by: time(o, "LatestShipDate"),
        test: false,
    })
}
