//! API types of orders.

use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::customers::graphql::Customer;
use crate::domain::money::amount_from_units;
use crate::domain::{Address, CustomerId, OrderId, TenantId};
use crate::error::UserError;
use crate::graphql::extend::Extended;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::global_id;
use crate::graphql::scalars::Amount;
use crate::lifecycle::state::OrderState;
use crate::order::SalesChannel;
use crate::order::canonical::{
    self, ClientDetails as ClientRecord, FinancialStatus, FulfillmentStatus, PaymentFacts,
};
use crate::order::issues::{Issue, IssueCode};
use crate::order::loaders::{EventsOf, LinesOf};
use crate::order::repo::{Order as OrderRecord, OrderLine as LineRecord};
use crate::order::timeline::OrderEvent as EventRecord;

fn money(units: i64, currency: &str) -> Amount {
    amount_from_units(units, currency).into()
}

fn decimal(d: rust_decimal::Decimal) -> Amount {
    d.normalize().into()
}

#[derive(Clone, Debug, SimpleObject)]
pub struct OrderTotals {
    /// Lines at their unit prices, before discounts.
    pub subtotal: Amount,
    pub discounts: Amount,
    pub tax: Amount,
    pub shipping: Amount,
    pub total: Amount,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct TaxLine {
    pub title: String,
    pub rate: Option<Amount>,
    pub amount: Amount,
}

impl From<canonical::TaxLine> for TaxLine {
    fn from(t: canonical::TaxLine) -> Self {
        Self {
            title: t.title,
            rate: t.rate.map(decimal),
            amount: decimal(t.amount),
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct OrderLine {
    pub position: i32,
    pub sku: Option<String>,
    /// The catalog variant the SKU matched; null when it matched none.
    pub variant_id: Option<ID>,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    pub unit_price: Amount,
    /// Discount on the line, in total.
    pub discount: Amount,
    pub tax: Amount,
    pub tax_lines: Vec<TaxLine>,
    pub requires_shipping: bool,
    pub grams: Option<i32>,
}

impl OrderLine {
    pub fn new(l: LineRecord, currency: &str) -> Self {
        let tax_lines: Vec<canonical::TaxLine> =
            serde_json::from_value(l.tax_lines).unwrap_or_default();
        Self {
            position: l.position,
            sku: l.sku,
            variant_id: l.variant_id.map(|v| global_id("Variant", v)),
            title: l.title,
            variant_title: l.variant_title,
            quantity: l.quantity,
            unit_price: money(l.unit_price_units, currency),
            discount: money(l.discount_units, currency),
            tax: money(l.tax_units, currency),
            tax_lines: tax_lines.into_iter().map(TaxLine::from).collect(),
            requires_shipping: l.requires_shipping,
            grams: l.grams,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ShippingLine {
    pub title: String,
    pub code: Option<String>,
    pub price: Amount,
    pub discount: Amount,
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct OrderDiscount {
    pub code: Option<String>,
    pub kind: String,
    pub amount: Amount,
}

/// The payment as the channel or gateway reported it; payment verification adds its verdict
/// (a part, see `schema::parts`).
pub type OrderPayment = Extended<OrderPaymentFields>;

/// What the order itself knows of its payment: the facts as reported.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(name = "OrderPaymentFields")]
pub struct OrderPaymentFields {
    pub gateway: Option<String>,
    pub status: Option<String>,
    pub amount_captured: Amount,
    pub amount_authorized: Amount,
    pub avs_result: Option<String>,
    pub cvv_result: Option<String>,
    pub gateway_risk: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub method: Option<String>,
    pub currency: Option<String>,
    pub failed_attempts: i32,
    /// Payment verification's decision as stored on the order; read by its part.
    #[graphql(skip)]
    pub decision: Option<serde_json::Value>,
}

impl OrderPaymentFields {
    fn new(p: PaymentFacts, decision: Option<serde_json::Value>) -> Self {
        Self {
            currency: p.currency,
            failed_attempts: i32::try_from(p.failed_attempts).unwrap_or(i32::MAX),
            gateway: p.gateway,
            status: p.status,
            amount_captured: decimal(p.amount_captured),
            amount_authorized: decimal(p.amount_authorized),
            avs_result: p.avs_result,
            cvv_result: p.cvv_result,
            gateway_risk: p.gateway_risk,
            card_brand: p.card_brand,
            card_last4: p.card_last4,
            method: p.method,
            decision,
        }
    }
}

/// What the shopper's browser or device told the channel.
#[derive(Clone, Debug, SimpleObject)]
pub struct ClientDetails {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub language: Option<String>,
    pub device_id: Option<String>,
    pub browser_id: Option<String>,
    pub ip_country: Option<String>,
}

impl From<ClientRecord> for ClientDetails {
    fn from(c: ClientRecord) -> Self {
        Self {
            ip: c.ip,
            user_agent: c.user_agent,
            language: c.language,
            device_id: c.device_id,
            browser_id: c.browser_id,
            ip_country: c.ip_country,
        }
    }
}

/// A problem found on capture, to resolve.
#[derive(Clone, Debug, SimpleObject)]
pub struct OrderIssue {
    pub code: IssueCode,
    pub field: Option<String>,
    pub message: String,
    pub resolved: bool,
}

impl From<Issue> for OrderIssue {
    fn from(i: Issue) -> Self {
        Self {
            code: i.code,
            field: i.field,
            message: i.message,
            resolved: i.resolved,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, serde::Serialize, serde::Deserialize)]
pub enum ActorKind {
    System,
    User,
    ApiKey,
    Channel,
}

/// One entry of an order's timeline.
#[derive(Clone, Debug, SimpleObject, serde::Serialize, serde::Deserialize)]
pub struct OrderEvent {
    pub id: ID,
    pub order_id: ID,
    pub at: DateTime<Utc>,
    /// e.g. `order.received`, `order.updated`, `order.cancelled`, `order.tags_changed`.
    pub kind: String,
    /// Who: a name where one is known (a channel and shop, a key's name), else the kind.
    pub actor: String,
    pub actor_kind: ActorKind,
    pub actor_id: Option<ID>,
    pub message: String,
    pub reason: Option<String>,
}

impl From<EventRecord> for OrderEvent {
    fn from(e: EventRecord) -> Self {
        let (actor_kind, type_name) = match e.actor_kind.as_str() {
            "user" => (ActorKind::User, "User"),
            "api_key" => (ActorKind::ApiKey, "ApiKey"),
            "channel" => (ActorKind::Channel, "ChannelConnection"),
            _ => (ActorKind::System, "System"),
        };
        Self {
            id: global_id("OrderEvent", e.id),
            order_id: global_id("Order", e.order_id),
            at: e.at,
            kind: e.kind,
            actor: e.actor_label.unwrap_or_else(|| e.actor_kind.clone()),
            actor_kind,
            actor_id: e.actor_id.map(|id| global_id(type_name, id)),
            message: e.message,
            reason: e.reason,
        }
    }
}

/// An order as the API shows it: the order's own fields, and those each stage adds.
pub type Order = Extended<OrderFields>;

/// What the order itself knows; the stages' fields are parts (see `schema::parts`), which read
/// the stage records kept here unexposed.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(name = "OrderFields", complex)]
pub struct OrderFields {
    pub id: ID,
    /// As the shopper knows it, e.g. "#1001".
    pub name: String,
    /// The channel's id of the order.
    pub external_id: String,
    pub channel: SalesChannel,
    pub connection_id: Option<ID>,
    pub state: OrderState,
    pub currency: String,
    pub email: Option<String>,
    pub customer_name: Option<String>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub totals: OrderTotals,
    pub taxes_included: bool,
    pub shipping_lines: Vec<ShippingLine>,
    pub discounts: Vec<OrderDiscount>,
    pub payment: OrderPayment,
    pub client: ClientDetails,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub financial_status: FinancialStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub issues: Vec<OrderIssue>,
    pub test: bool,
    pub placed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why the order is on hold, while it is.
    pub hold_reason: Option<String>,
    /// The state a hold interrupted: where a release returns the order.
    pub held_from: Option<OrderState>,
    /// Captured money owed back to the shopper after a cancellation or rejection.
    pub refund_due: Amount,
    /// The day the shopper was promised, set when the order is routed.
    pub promised_at: Option<DateTime<Utc>>,
    /// The latest the channel lets the merchant ship (Amazon's `LatestShipDate`): Orderflow
    /// tells staff before it passes with the shipment not yet confirmed.
    pub ship_by: Option<DateTime<Utc>>,
    /// Fraud screening's assessment as stored (read by its part).
    #[graphql(skip)]
    pub fraud_record: Option<serde_json::Value>,
    /// Routing's decision as stored (read by its part).
    #[graphql(skip)]
    pub routing_record: Option<serde_json::Value>,
    #[graphql(skip)]
    pub key: (TenantId, OrderId),
    #[graphql(skip)]
    pub customer_key: Option<(TenantId, CustomerId)>,
}

impl From<OrderRecord> for Order {
    fn from(o: OrderRecord) -> Self {
        Extended::new(OrderFields::from(o))
    }
}

impl From<OrderRecord> for OrderFields {
    fn from(o: OrderRecord) -> Self {
        let shipping: Vec<canonical::ShippingLine> =
            serde_json::from_value(o.shipping_lines).unwrap_or_default();
        let discounts: Vec<canonical::Discount> =
            serde_json::from_value(o.discount_lines).unwrap_or_default();
        let issues: Vec<Issue> = serde_json::from_value(o.issues).unwrap_or_default();
        let tenant = TenantId(o.tenant_id);
        Self {
            id: global_id("Order", o.id),
            name: o.name,
            external_id: o.external_id,
            channel: SalesChannel::parse(&o.channel),
            connection_id: o.connection_id.map(|c| global_id("ChannelConnection", c)),
            state: o.state,
            email: o.email,
            customer_name: o.customer_name,
            billing_address: o
                .billing_address
                .and_then(|a| serde_json::from_value(a).ok()),
            shipping_address: o
                .shipping_address
                .and_then(|a| serde_json::from_value(a).ok()),
            totals: OrderTotals {
                subtotal: o.subtotal.into(),
                discounts: o.discounts.into(),
                tax: o.tax.into(),
                shipping: o.shipping.into(),
                total: o.total.into(),
            },
            taxes_included: o.taxes_included,
            shipping_lines: shipping
                .into_iter()
                .map(|s| ShippingLine {
                    title: s.title,
                    code: s.code,
                    price: decimal(s.price),
                    discount: decimal(s.discount),
                    tax_lines: s.tax_lines.into_iter().map(TaxLine::from).collect(),
                })
                .collect(),
            discounts: discounts
                .into_iter()
                .map(|d| OrderDiscount {
                    code: d.code,
                    kind: d.kind,
                    amount: decimal(d.amount),
                })
                .collect(),
            payment: Extended::new(OrderPaymentFields::new(
                serde_json::from_value::<PaymentFacts>(o.payment).unwrap_or_default(),
                o.payment_decision,
            )),
            fraud_record: o.fraud_decision,
            hold_reason: o.hold_reason,
            held_from: o.held_from,
            refund_due: o.refund_due.into(),
            promised_at: o.promised_at,
            ship_by: o.ship_by,
            routing_record: o.routing,
            client: serde_json::from_value::<ClientRecord>(o.client)
                .unwrap_or_default()
                .into(),
            tags: serde_json::from_value(o.tags).unwrap_or_default(),
            note: o.note,
            financial_status: FinancialStatus::parse(&o.financial_status),
            fulfillment_status: FulfillmentStatus::parse(&o.fulfillment_status),
            issues: issues.into_iter().map(OrderIssue::from).collect(),
            test: o.test,
            placed_at: o.placed_at,
            cancelled_at: o.cancelled_at,
            cancel_reason: o.cancel_reason,
            created_at: o.created_at,
            updated_at: o.updated_at,
            currency: o.currency.to_string(),
            key: (tenant, OrderId(o.id)),
            customer_key: o.customer_id.map(|id| (tenant, CustomerId(id))),
        }
    }
}

#[ComplexObject]
impl OrderFields {
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderLine>> {
        let (tenant, order) = self.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, LinesOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|l| OrderLine::new(l, &self.currency))
            .collect())
    }

    /// The timeline, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderEvent>> {
        let (tenant, order) = self.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, EventsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OrderEvent::from)
            .collect())
    }

    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        let Some(key) = self.customer_key else {
            return Ok(None);
        };
        let row = ctx.data_unchecked::<Loaders>().load_one(key).await?;
        Ok(row.map(Customer::from))
    }
}

// What a mutation of one order answers (no description: the SDL predates the move).
#[derive(SimpleObject)]
pub struct OrderPayload {
    pub order: Option<Order>,
    pub user_errors: Vec<UserError>,
}
