//! The canonical order: what every connector maps its platform's payload to, and what
//! `createOrder` builds. Plain data; amounts are exact decimals in the order's currency.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use crate::customers::facts::CustomerFacts;
use crate::domain::Address;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CanonicalOrder {
    /// The platform's id of the order: with the channel, the idempotency key.
    pub external_id: String,
    /// What the shopper and the merchant call it, e.g. "#1001".
    pub name: String,
    pub placed_at: DateTime<Utc>,
    /// The platform's last-update time; an update older than what we hold is ignored.
    pub source_updated_at: Option<DateTime<Utc>>,
    pub currency: String,
    pub customer: CustomerFacts,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub lines: Vec<Line>,
    pub shipping_lines: Vec<ShippingLine>,
    /// Order-level discounts (codes, automatic discounts), as applied.
    pub discounts: Vec<Discount>,
    pub totals: Totals,
    /// Prices include tax (VAT-style): tax is then not added on top.
    pub taxes_included: bool,
    pub payment: PaymentFacts,
    pub client: ClientDetails,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub financial_status: FinancialStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// The latest the channel lets the merchant ship (Amazon's `LatestShipDate`): a shipment
    /// confirmed after it counts against the seller.
    #[serde(default)]
    pub ship_by: Option<DateTime<Utc>>,
    /// A test order placed by the merchant (Shopify's bogus gateway, sandboxes).
    pub test: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub external_id: Option<String>,
    pub sku: Option<String>,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    pub unit_price: Decimal,
    /// Discounts allocated to this line, in total (not per unit).
    pub discount: Decimal,
    pub tax_lines: Vec<TaxLine>,
    pub requires_shipping: bool,
    pub grams: Option<i32>,
}

impl Line {
    pub fn tax(&self) -> Decimal {
        self.tax_lines.iter().map(|t| t.amount).sum()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxLine {
    pub title: String,
    /// As a fraction, e.g. 0.06 for 6 %.
    pub rate: Option<Decimal>,
    pub amount: Decimal,
}

impl TaxLine {
    /// A single tax line for platforms that report only an amount; none when it is zero.
    pub fn lump(title: &str, amount: Decimal) -> Vec<TaxLine> {
        if amount.is_zero() {
            Vec::new()
        } else {
            vec![TaxLine {
                title: title.to_owned(),
                rate: None,
                amount,
            }]
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingLine {
    pub title: String,
    pub code: Option<String>,
    /// Before discounts.
    pub price: Decimal,
    pub discount: Decimal,
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    pub code: Option<String>,
    /// e.g. "discount_code", "automatic", "coupon".
    pub kind: String,
    pub amount: Decimal,
}

/// What the channel says the order adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Lines at their unit prices, before any discount.
    pub subtotal: Decimal,
    /// Every discount: on lines, on the order and on shipping.
    pub discounts: Decimal,
    pub tax: Decimal,
    /// Shipping before shipping discounts.
    pub shipping: Decimal,
    pub total: Decimal,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFacts {
    pub gateway: Option<String>,
    /// How the channel describes the payment state, e.g. "paid", "authorized", "pending".
    pub status: Option<String>,
    pub amount_captured: Decimal,
    /// Authorized but not yet captured.
    pub amount_authorized: Decimal,
    pub avs_result: Option<String>,
    pub cvv_result: Option<String>,
    /// The gateway's or channel's own risk verdict, e.g. "low", "elevated", "high".
    pub gateway_risk: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub method: Option<String>,
    /// The currency the payment was taken in, when the gateway reports it.
    #[serde(default)]
    pub currency: Option<String>,
    /// Declined attempts before this payment succeeded.
    #[serde(default)]
    pub failed_attempts: u32,
    /// The processor's id of the payment (a Stripe charge `ch_…` or payment intent `pi_…`,
    /// a PayPal capture id), for refunds and payout reconciliation.
    #[serde(default)]
    pub reference: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDetails {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub language: Option<String>,
    pub device_id: Option<String>,
    pub browser_id: Option<String>,
    /// ISO country of the shopper's IP address, when the channel or a geo-IP lookup gives it.
    #[serde(default)]
    pub ip_country: Option<String>,
}

/// Where the money stands, in the channel's terms mapped onto one vocabulary.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum FinancialStatus {
    #[default]
    Pending,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Failed,
}

impl FinancialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "authorized" => Self::Authorized,
            "partially_paid" => Self::PartiallyPaid,
            "paid" => Self::Paid,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            "voided" => Self::Voided,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    #[default]
    Unfulfilled,
    Partial,
    Fulfilled,
    Restocked,
}

impl FulfillmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unfulfilled => "unfulfilled",
            Self::Partial => "partial",
            Self::Fulfilled => "fulfilled",
            Self::Restocked => "restocked",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "partial" => Self::Partial,
            "fulfilled" => Self::Fulfilled,
            "restocked" => Self::Restocked,
            _ => Self::Unfulfilled,
        }
    }
}
