//! An order in the canonical model, whatever channel it came from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
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
    pub currency: String,
    pub billing_address: Option<Json>,
    pub shipping_address: Option<Json>,
    pub subtotal_units: i64,
    pub discounts_units: i64,
    pub tax_units: i64,
    pub shipping_units: i64,
    pub total_units: i64,
    pub taxes_included: bool,
    pub shipping_lines: Json,
    pub discounts: Json,
    pub payment: Json,
    pub client: Json,
    pub tags: Json,
    pub note: Option<String>,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub state: String,
    /// JSON array of problems found on capture, to resolve.
    pub issues: Json,
    pub test: bool,
    pub placed_at: DateTimeUtc,
    /// The channel's own last-update time: an older update never overwrites a newer one.
    pub source_updated_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub payment_verdict: Option<String>,
    pub payment_decision: Option<Json>,
    pub fraud_score: Option<i32>,
    pub fraud_level: Option<String>,
    pub fraud_decision: Option<Json>,
    /// While on hold: the state the hold interrupted.
    pub held_from: Option<String>,
    pub hold_reason: Option<String>,
    /// Owed back to the shopper after a cancellation, until a refund settles it.
    pub refund_due_units: i64,
    /// The day the shopper was promised, set when the order is routed.
    pub promised_at: Option<DateTimeUtc>,
    /// The latest the channel lets the merchant ship (Amazon's `LatestShipDate`).
    pub ship_by: Option<DateTimeUtc>,
    /// The routing decision with the alternatives it was chosen over.
    pub routing: Option<Json>,
    /// The processor's id of the payment (Stripe `ch_…` / `pi_…`), for reconciliation.
    pub payment_reference: Option<String>,
    /// The warehouse (code) an automation rule said this order ships from.
    pub assigned_warehouse: Option<String>,
    /// The carrier service (`service` or `carrier/service` codes) a rule chose for its labels.
    pub assigned_service: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
