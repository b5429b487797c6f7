//! BigCommerce: `store/order/*` webhooks carry only the order id (and no signature: the hook
//! is created with a secret custom header, `X-Orderflow-Secret`, which we check). The order,
//! its products and its shipping addresses are then fetched from the v2 API.

use std::collections::BTreeMap;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::Mapped;
use super::json::{array, at, decimal, id, int, required_decimal, text, time};
use crate::domain::Address;
use crate::infra::outbound::api::{ApiError, Client};
use crate::order::canonical::{
    CanonicalOrder, ClientDetails, CustomerFacts, Discount, FinancialStatus, FulfillmentStatus,
    Line, PaymentFacts, ShippingLine, TaxLine, Totals,
};

pub const DEFAULT_API: &str = "https://api.bigcommerce.com";

/// The v2 Orders API of one store.
pub struct Api<'a> {
    client: &'a Client,
    base: String,
    token: String,
}

impl<'a> Api<'a> {
    pub fn new(
        client: &'a Client,
        credentials: &BTreeMap<String, String>,
    ) -> Result<Self, ApiError> {
        let hash = credentials
            .get("storeHash")
            .ok_or_else(|| ApiError::Permanent("credentials lack storeHash".into()))?;
        let token = credentials
            .get("accessToken")
            .ok_or_else(|| ApiError::Permanent("credentials lack accessToken".into()))?;
        let root = credentials
            .get("apiUrl")
            .map(String::as_str)
            .unwrap_or(DEFAULT_API)
            .trim_end_matches('/');
        Ok(Self {
            client,
            base: format!("{root}/stores/{hash}/v2"),
            token: token.clone(),
        })
    }

    async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.base);
        self.client
            .json(&format!("BigCommerce GET {path}"), || {
                self.client
                    .request(Method::GET, &url)
                    .header("X-Auth-Token", &self.token)
                    .header("Accept", "application/json")
            })
            .await
    }

    /// A request to the store's v3 API (catalog, inventory), authenticated.
    pub fn v3(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/v3/{path}", self.base.trim_end_matches("/v2"));
        self.client
            .request(method, &url)
            .header("X-Auth-Token", &self.token)
            .header("Accept", "application/json")
    }

    /// A list resource, page by page (BigCommerce answers 204 past the last page).
    async fn all(&self, path: &str) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        for page in 1..=100 {
            let batch = self.get(&format!("{path}?page={page}&limit=250")).await?;
            let batch = batch.as_array().cloned().unwrap_or_default();
            let done = batch.len() < 250;
            items.extend(batch);
            if done {
                break;
            }
        }
        Ok(items)
    }

    /// The order with its products and shipping addresses, mapped.
    pub async fn order(&self, id: &str) -> Result<CanonicalOrder, ApiError> {
        let order = self.get(&format!("/orders/{id}")).await?;
        // The order links its sub-resources; follow the links it gives.
        let link = |key: &str, default: String| {
            text(&order, &format!("{key}.resource"))
                .filter(|r| r.starts_with('/'))
                .unwrap_or(default)
        };
        let products = self
            .all(&link("products", format!("/orders/{id}/products")))
            .await?;
        let addresses = self
            .all(&link(
                "shipping_addresses",
                format!("/orders/{id}/shipping_addresses"),
            ))
            .await?;
        map_order(&order, &products, &addresses).map_err(ApiError::Permanent)
    }
}

// What Orderflow writes back (see `push`).
impl Api<'_> {
    /// The order's shipments (BigCommerce's parcels, with their tracking numbers).
    pub async fn shipments(&self, order: &str) -> Result<Vec<Value>, ApiError> {
        self.all(&format!("/orders/{order}/shipments")).await
    }

    /// The ids of the order's shipping addresses, first first.
    pub async fn shipping_address_ids(&self, order: &str) -> Result<Vec<i64>, ApiError> {
        Ok(self
            .all(&format!("/orders/{order}/shipping_addresses"))
            .await?
            .iter()
            .filter_map(|a| a["id"].as_i64())
            .collect())
    }

    /// Sets the order's status (`status_id`, as in BigCommerce's status list).
    pub async fn update_status(&self, order: &str, status_id: i64) -> Result<Value, ApiError> {
        let url = format!("{}/orders/{order}", self.base);
        let body = serde_json::json!({ "status_id": status_id });
        self.client
            .json("BigCommerce order status", || {
                self.client
                    .request(Method::PUT, &url)
                    .header("X-Auth-Token", &self.token)
                    .header("Accept", "application/json")
                    .json(&body)
            })
            .await
    }

    /// Creates a shipment: sent once (a lost answer is found by its tracking number next
    /// time); the answer comes back as it is, refusals included.
    pub async fn create_shipment(
        &self,
        order: &str,
        body: &Value,
    ) -> Result<crate::infra::outbound::Answer, (ApiError, Option<std::time::Duration>)> {
        let url = format!("{}/orders/{order}/shipments", self.base);
        let request = self
            .client
            .request(Method::POST, &url)
            .header("X-Auth-Token", &self.token)
            .header("Accept", "application/json")
            .json(body);
        self.client.once("BigCommerce shipment", request).await
    }
}

/// Which topics change orders; the rest are kept and ignored.
pub fn changes_orders(topic: &str) -> bool {
    matches!(
        topic,
        "store/order/created"
            | "store/order/updated"
            | "store/order/statusUpdated"
            | "store/order/archived"
    )
}

/// Fetches and maps the order a webhook names.
pub async fn map(
    client: &Client,
    credentials: &BTreeMap<String, String>,
    topic: &str,
    payload: &Value,
) -> Result<Mapped, ApiError> {
    if !changes_orders(topic) {
        return Ok(Mapped::Ignored(format!(
            "topic {topic} does not change orders"
        )));
    }
    let order_id =
        id(payload, "data.id").ok_or_else(|| ApiError::Permanent("data.id is missing".into()))?;
    let api = Api::new(client, credentials)?;
    Ok(Mapped::Order(Box::new(api.order(&order_id).await?)))
}

fn address(v: &Value) -> Option<Address> {
    if !v.is_object() {
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
        line1: text(v, "street_1").unwrap_or_default(),
        line2: text(v, "street_2"),
        city: text(v, "city").unwrap_or_default(),
        region: text(v, "state"),
        postal_code: text(v, "zip"),
        country: text(v, "country_iso2")
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default(),
        phone: text(v, "phone"),
    })
}

/// BigCommerce's order status ids (`/v2/order_statuses`).
fn statuses(status_id: i64, payment_status: Option<&str>) -> (FinancialStatus, FulfillmentStatus) {
    let financial = match status_id {
        4 => FinancialStatus::Refunded,
        14 => FinancialStatus::PartiallyRefunded,
        5 => FinancialStatus::Voided,
        6 => FinancialStatus::Failed,
        2 | 3 | 8 | 9 | 10 | 11 => FinancialStatus::Paid,
        _ => match payment_status {
            Some("authorized") => FinancialStatus::Authorized,
            Some("captured" | "paid") => FinancialStatus::Paid,
            _ => FinancialStatus::Pending,
        },
    };
    let fulfillment = match status_id {
        2 | 10 => FulfillmentStatus::Fulfilled,
        3 => FulfillmentStatus::Partial,
        _ => FulfillmentStatus::Unfulfilled,
    };
    (financial, fulfillment)
}

pub fn map_order(
    o: &Value,
    products: &[Value],
    shipping: &[Value],
) -> Result<CanonicalOrder, String> {
    let external_id = id(o, "id").ok_or("id is missing")?;
    let currency = text(o, "currency_code")
        .or_else(|| text(o, "default_currency_code"))
        .ok_or("currency_code is missing")?;
    let inclusive = super::json::boolean(o, "is_tax_inclusive_pricing").unwrap_or(false);
    let mut lines = Vec::new();
    for (i, p) in products.iter().enumerate() {
        let price_key = if inclusive {
            "price_inc_tax"
        } else {
            "price_ex_tax"
        };
        let options: Vec<String> = array(p, "product_options")
            .iter()
            .filter_map(|opt| {
                Some(format!(
                    "{}: {}",
                    text(opt, "display_name")?,
                    text(opt, "display_value")?
                ))
            })
            .collect();
        let tax = decimal(p, "total_tax").unwrap_or_default();
        lines.push(Line {
            external_id: id(p, "id"),
            sku: text(p, "sku"),
            title: text(p, "name").unwrap_or_else(|| "Item".into()),
            variant_title: Some(options.join(", ")).filter(|t| !t.is_empty()),
            quantity: int(p, "quantity").ok_or(format!("products.{i}.quantity is missing"))?,
            unit_price: required_decimal(p, price_key).map_err(|e| format!("products.{i}.{e}"))?,
            discount: array(p, "applied_discounts")
                .iter()
                .filter_map(|d| decimal(d, "amount"))
                .sum(),
            tax_lines: TaxLine::lump("Tax", tax),
            requires_shipping: text(p, "type").as_deref() != Some("digital"),
            grams: None,
        });
    }
    // Fees set on the order are charges of their own: lines that do not ship.
    for f in array(o, "fees") {
        // The API documents both spellings of the tax-exclusive cost.
        let cost = if inclusive {
            decimal(f, "cost_inc_tax")
        } else {
            decimal(f, "cost_ex_tax").or_else(|| decimal(f, "cost_exc_tax"))
        }
        .unwrap_or_default();
        let tax = decimal(f, "cost_tax").unwrap_or_default();
        lines.push(Line {
            external_id: id(f, "id").map(|i| format!("fee-{i}")),
            sku: None,
            title: text(f, "display_name_customer").unwrap_or_else(|| "Fee".into()),
            variant_title: None,
            quantity: 1,
            unit_price: cost,
            discount: Decimal::ZERO,
            tax_lines: TaxLine::lump("Tax", tax),
            requires_shipping: false,
            grams: None,
        });
    }
    let suffix = if inclusive { "inc_tax" } else { "ex_tax" };
    let shipping_cost = ["shipping_cost", "handling_cost", "wrapping_cost"]
        .iter()
        .filter_map(|k| decimal(o, &format!("{k}_{suffix}")))
        .sum::<Decimal>();
    let shipping_lines: Vec<ShippingLine> = shipping
        .iter()
        .map(|s| ShippingLine {
            title: text(s, "shipping_method").unwrap_or_else(|| "Shipping".into()),
            code: text(s, "shipping_zone_name"),
            price: decimal(s, &format!("cost_{suffix}")).unwrap_or_default(),
            discount: Decimal::ZERO,
            tax_lines: TaxLine::lump("Shipping tax", decimal(s, "cost_tax").unwrap_or_default()),
        })
        .collect();
    let subtotal: Decimal = lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    let totals = Totals {
        subtotal,
        discounts: decimal(o, "discount_amount").unwrap_or_default(),
        tax: decimal(o, "total_tax").unwrap_or_default(),
        shipping: shipping_cost,
        total: required_decimal(o, "total_inc_tax")?,
    };
    let status_id = int(o, "status_id").unwrap_or(0);
    let payment_status = text(o, "payment_status");
    let (financial, fulfillment) = statuses(status_id, payment_status.as_deref());
    let captured = match financial {
        FinancialStatus::Paid | FinancialStatus::PartiallyRefunded | FinancialStatus::Refunded => {
            totals.total
        }
        _ => Decimal::ZERO,
    };
    let billing = at(o, "billing_address");
    let modified = time(o, "date_modified");
    let coupons = decimal(o, "coupon_discount").unwrap_or_default();
    Ok(CanonicalOrder {
        name: format!("#{external_id}"),
        external_id,
        placed_at: time(o, "date_created").ok_or("date_created is missing")?,
        source_updated_at: modified,
        currency,
        customer: CustomerFacts {
            email: text(billing, "email"),
            first_name: text(billing, "first_name"),
            last_name: text(billing, "last_name"),
            phone: text(billing, "phone"),
            external_id: id(o, "customer_id").filter(|c| c != "0"),
            accepts_marketing: super::json::boolean(o, "is_email_opt_in").unwrap_or(false),
        },
        billing_address: address(billing),
        shipping_address: shipping.first().and_then(address),
        lines,
        shipping_lines,
        discounts: if coupons.is_zero() {
            Vec::new()
        } else {
            vec![Discount {
                code: None,
                kind: "coupon".into(),
                amount: coupons,
            }]
        },
        totals,
        taxes_included: inclusive,
        payment: PaymentFacts {
            gateway: text(o, "payment_provider_id").or_else(|| text(o, "payment_method")),
            status: payment_status,
            amount_captured: captured,
            method: text(o, "payment_method"),
            card_brand: text(o, "credit_card_type"),
            // The payment's id at the provider, for refunds and reconciliation.
            reference: text(o, "payment_provider_id").filter(|t| !t.trim().is_empty()),
            ..Default::default()
        },
        client: ClientDetails {
            ip: text(o, "ip_address").or_else(|| text(o, "ip_address_v6")),
            language: text(o, "customer_locale"),
            ..Default::default()
        },
        tags: Vec::new(),
        note: text(o, "customer_message"),
        financial_status: financial,
        fulfillment_status: fulfillment,
        cancelled_at: (status_id == 5).then_some(modified).flatten(),
        cancel_reason: (status_id == 5).then(|| "cancelled in BigCommerce".to_owned()),
        ship_by: None,
        test: false,
    })
}
