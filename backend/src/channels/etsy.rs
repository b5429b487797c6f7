//! Etsy Open API v3: shop receipts (with their transactions) are polled by
//! `min_last_modified`. Requests carry the app's key (`x-api-key`) and the shop's OAuth
//! token; with a refresh token the access token is renewed before each poll.
//!
//! Field names follow Etsy's published `ShopReceipt` / `ShopReceiptTransaction` schemas,
//! plus the fields the live API added since (`transactions`, `buyer_email`, `status`,
//! `sku`, `variations`, `updated_timestamp`). Money is `{amount, divisor, currency_code}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::json::{array, boolean, int, text};
use super::poll::Polled;
use crate::domain::Address;
use crate::infra::outbound::api::{ApiError, Client};
use crate::order::canonical::{
    CanonicalOrder, CustomerFacts, Discount, FinancialStatus, FulfillmentStatus, Line,
    PaymentFacts, ShippingLine, Totals,
};

pub const DEFAULT_API: &str = "https://openapi.etsy.com";
pub const DEFAULT_TOKEN_URL: &str = "https://api.etsy.com/v3/public/oauth/token";

/// Etsy's Money: an integer amount over a divisor.
pub fn money(v: &Value, path: &str) -> Option<(Decimal, Option<String>)> {
    let amount = int(v, &format!("{path}.amount"))?;
    let divisor = int(v, &format!("{path}.divisor"))
        .filter(|d| *d > 0)
        .unwrap_or(1);
    let value = match divisor {
        1 => Decimal::from(amount),
        10 => Decimal::new(amount, 1),
        100 => Decimal::new(amount, 2),
        1000 => Decimal::new(amount, 3),
        d => Decimal::from(amount) / Decimal::from(d),
    };
    Some((value, text(v, &format!("{path}.currency_code"))))
}

fn amount(v: &Value, path: &str) -> Decimal {
    money(v, path).map(|(a, _)| a).unwrap_or_default()
}

fn epoch(v: &Value, path: &str) -> Option<DateTime<Utc>> {
    int(v, path).and_then(|s| DateTime::from_timestamp(s, 0))
}

async fn access_token(
    client: &Client,
    credentials: &BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let key = credentials
        .get("apiKey")
        .ok_or_else(|| ApiError::Permanent("credentials lack apiKey".into()))?;
    let Some(refresh) = credentials.get("refreshToken") else {
        return credentials
            .get("accessToken")
            .cloned()
            .ok_or_else(|| ApiError::Permanent("credentials lack accessToken".into()));
    };
    let url = credentials
        .get("tokenUrl")
        .cloned()
        .unwrap_or_else(|| DEFAULT_TOKEN_URL.into());
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", key.as_str()),
        ("refresh_token", refresh.as_str()),
    ];
    let answer = client
        .json("Etsy token refresh", || {
            client.request(Method::POST, &url).form(&form)
        })
        .await?;
    text(&answer, "access_token")
        .ok_or_else(|| ApiError::Permanent("Etsy answered without an access_token".into()))
}

/// A shop's receipts, for what Orderflow writes back (see `push`).
pub struct Receipts<'a> {
    client: &'a Client,
    base: String,
    key: String,
    shop: String,
    token: String,
}

impl<'a> Receipts<'a> {
    /// Opens the shop's API with a fresh access token.
    pub async fn open(
        client: &'a Client,
        credentials: &BTreeMap<String, String>,
    ) -> Result<Self, ApiError> {
        let need = |k: &str| {
            credentials
                .get(k)
                .cloned()
                .ok_or_else(|| ApiError::Permanent(format!("credentials lack {k}")))
        };
        Ok(Self {
            client,
            base: credentials
                .get("apiUrl")
                .map(String::as_str)
                .unwrap_or(DEFAULT_API)
                .trim_end_matches('/')
                .to_owned(),
            key: need("apiKey")?,
            shop: need("shopId")?,
            token: access_token(client, credentials).await?,
        })
    }

    /// A request to the shop's Open API v3, authenticated (`path` after `/v3/application/`).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, &format!("{}/v3/application/{path}", self.base))
            .header("x-api-key", &self.key)
            .bearer_auth(&self.token)
    }

    /// The shop's id.
    pub fn shop(&self) -> &str {
        &self.shop
    }

    fn url(&self, receipt: &str, rest: &str) -> String {
        format!(
            "{}/v3/application/shops/{}/receipts/{receipt}{rest}",
            self.base, self.shop
        )
    }

    /// `getShopReceipt`: the receipt with its shipments.
    pub async fn receipt(&self, receipt: &str) -> Result<Value, ApiError> {
        let url = self.url(receipt, "");
        self.client
            .json("Etsy GET receipt", || {
                self.client
                    .request(Method::GET, &url)
                    .header("x-api-key", &self.key)
                    .bearer_auth(&self.token)
            })
            .await
    }

    /// `createReceiptShipment` (form-encoded, as the spec has it): sent once; the answer
    /// comes back as it is.
    pub async fn create_shipment(
        &self,
        receipt: &str,
        form: &[(&str, String)],
    ) -> Result<crate::infra::outbound::Answer, (ApiError, Option<std::time::Duration>)> {
        let request = self
            .client
            .request(Method::POST, &self.url(receipt, "/tracking"))
            .header("x-api-key", &self.key)
            .bearer_auth(&self.token)
            .form(form);
        self.client
            .once("Etsy createReceiptShipment", request)
            .await
    }
}

/// Receipts modified since `since`, oldest change first (so a run cut short by the page cap
/// moves the cursor only past what it read), every page.
pub async fn fetch(
    client: &Client,
    credentials: &BTreeMap<String, String>,
    since: DateTime<Utc>,
    budget: &mut super::poll::Budget,
) -> Result<Vec<Polled>, ApiError> {
    let key = credentials
        .get("apiKey")
        .ok_or_else(|| ApiError::Permanent("credentials lack apiKey".into()))?;
    let shop = credentials
        .get("shopId")
        .ok_or_else(|| ApiError::Permanent("credentials lack shopId".into()))?;
    let base = credentials
        .get("apiUrl")
        .map(String::as_str)
        .unwrap_or(DEFAULT_API)
        .trim_end_matches('/')
        .to_owned();
    let token = access_token(client, credentials).await?;
    let mut out = Vec::new();
    let mut offset = 0;
    while budget.spend() {
        let url = format!(
            "{base}/v3/application/shops/{shop}/receipts?min_last_modified={}&sort_on=updated&sort_order=asc&limit=100&offset={offset}",
            since.timestamp()
        );
        let page = client
            .json("Etsy GET receipts", || {
                client
                    .request(Method::GET, &url)
                    .header("x-api-key", key)
                    .bearer_auth(&token)
            })
            .await?;
        let results = array(&page, "results");
        for receipt in results {
            let Some(id) = text(receipt, "receipt_id") else {
                continue;
            };
            out.push(Polled {
                external_id: id,
                updated_at: epoch(receipt, "updated_timestamp")
                    .or_else(|| epoch(receipt, "update_timestamp")),
                payload: receipt.clone(),
            });
        }
        offset += results.len();
        let total = usize::try_from(int(&page, "count").unwrap_or(0)).unwrap_or(0);
        if results.is_empty() || offset >= total {
            budget.finish();
            break;
        }
    }
    Ok(out)
}

/// A receipt with its transactions to the canonical order.
pub fn map_receipt(r: &Value) -> Result<CanonicalOrder, String> {
    let id = text(r, "receipt_id").ok_or("receipt_id is missing")?;
    let currency = money(r, "grandtotal")
        .and_then(|(_, c)| c)
        .ok_or("grandtotal.currency_code is missing")?;
    let mut lines = Vec::new();
    let mut shipping_from_lines = Decimal::ZERO;
    for (i, t) in array(r, "transactions").iter().enumerate() {
        let options: Vec<String> = array(t, "variations")
            .iter()
            .filter_map(|v| {
                Some(format!(
                    "{}: {}",
                    text(v, "formatted_name")?,
                    text(v, "formatted_value")?
                ))
            })
            .collect();
        shipping_from_lines += amount(t, "shipping_cost");
        lines.push(Line {
            external_id: text(t, "transaction_id"),
            sku: text(t, "sku"),
            title: text(t, "title").unwrap_or_else(|| "Item".into()),
            variant_title: Some(options.join(", ")).filter(|o| !o.is_empty()),
            quantity: int(t, "quantity").ok_or(format!("transactions.{i}.quantity is missing"))?,
            unit_price: money(t, "price")
                .map(|(a, _)| a)
                .ok_or(format!("transactions.{i}.price is missing"))?,
            discount: Decimal::ZERO,
            tax_lines: Vec::new(),
            requires_shipping: !boolean(t, "is_digital").unwrap_or(false),
            grams: None,
        });
    }
    let shipping = money(r, "total_shipping_cost")
        .map(|(a, _)| a)
        .unwrap_or(shipping_from_lines);
    let gift_wrap = amount(r, "gift_wrap_price");
    if !gift_wrap.is_zero() {
        lines.push(Line {
            title: "Gift wrap".into(),
            quantity: 1,
            unit_price: gift_wrap,
            requires_shipping: false,
            ..Default::default()
        });
    }
    let discount = amount(r, "discount_amt");
    let paid = boolean(r, "is_paid").unwrap_or(false);
    let shipped = boolean(r, "is_shipped").unwrap_or(false);
    let status = text(r, "status").map(|s| s.to_ascii_lowercase());
    let cancelled = status.as_deref() == Some("canceled");
    let financial = match (cancelled, paid) {
        (true, _) => FinancialStatus::Voided,
        (false, true) => FinancialStatus::Paid,
        (false, false) => FinancialStatus::Pending,
    };
    let total = amount(r, "grandtotal");
    let subtotal = money(r, "total_price").map(|(a, _)| a).unwrap_or_else(|| {
        lines
            .iter()
            .map(|l| l.unit_price * Decimal::from(l.quantity))
            .sum()
    });
    let modified = epoch(r, "updated_timestamp").or_else(|| epoch(r, "update_timestamp"));
    let name = text(r, "name");
    let (first, last) = match name.as_deref().and_then(|n| n.rsplit_once(' ')) {
        Some((f, l)) => (Some(f.to_owned()), Some(l.to_owned())),
        None => (name.clone(), None),
    };
    Ok(CanonicalOrder {
        name: format!("#{id}"),
        external_id: id,
        placed_at: epoch(r, "create_timestamp")
            .or_else(|| epoch(r, "created_timestamp"))
            .ok_or("create_timestamp is missing")?,
        source_updated_at: modified,
        currency,
        customer: CustomerFacts {
            email: text(r, "buyer_email").or_else(|| text(r, "payment_email")),
            first_name: first,
            last_name: last,
            phone: None,
            external_id: text(r, "buyer_user_id"),
            accepts_marketing: false,
        },
        billing_address: None,
        shipping_address: text(r, "first_line").map(|line1| Address {
            name,
            company: None,
            line1,
            line2: text(r, "second_line"),
            city: text(r, "city").unwrap_or_default(),
            region: text(r, "state"),
            postal_code: text(r, "zip"),
            country: text(r, "country_iso")
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_default(),
            phone: None,
        }),
        lines,
        shipping_lines: vec![ShippingLine {
            title: "Etsy shipping".into(),
            code: None,
            price: shipping,
            discount: Decimal::ZERO,
            tax_lines: Vec::new(),
        }],
        discounts: if discount.is_zero() {
            Vec::new()
        } else {
            vec![Discount {
                code: None,
                kind: "coupon".into(),
                amount: discount,
            }]
        },
        totals: Totals {
            subtotal: subtotal + gift_wrap,
            discounts: discount,
            tax: amount(r, "total_tax_cost") + amount(r, "total_vat_cost"),
            shipping,
            total,
        },
        taxes_included: false,
        payment: PaymentFacts {
            gateway: text(r, "payment_method"),
            status: status
                .clone()
                .or_else(|| Some(if paid { "paid".into() } else { "unpaid".into() })),
            amount_captured: if financial == FinancialStatus::Paid {
                total
            } else {
                Decimal::ZERO
            },
            ..Default::default()
        },
        client: Default::default(),
        tags: Vec::new(),
        note: text(r, "message_from_buyer"),
        financial_status: financial,
        fulfillment_status: if shipped {
            FulfillmentStatus::Fulfilled
        } else {
            FulfillmentStatus::Unfulfilled
        },
        cancelled_at: cancelled.then_some(modified).flatten(),
        cancel_reason: cancelled.then(|| "cancelled on Etsy".to_owned()),
        ship_by: None,
        test: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_an_amount_over_its_divisor() {
        let v = json!({ "a": { "amount": 1999, "divisor": 100, "currency_code": "USD" }, "b": { "amount": 1500, "divisor": 1, "currency_code": "JPY" }, "c": { "amount": 7, "divisor": 3, "currency_code": "X" } });
        assert_eq!(
            money(&v, "a").unwrap(),
            (Decimal::new(1999, 2), Some("USD".into()))
        );
        assert_eq!(money(&v, "b").unwrap().0, Decimal::from(1500));
        assert_eq!(
            money(&v, "c").unwrap().0.round_dp(4),
            Decimal::new(23333, 4)
        );
        assert_eq!(money(&v, "missing"), None);
    }
}
