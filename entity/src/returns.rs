//! A return (RMA): asked for, decided, labelled, received, inspected and resolved.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub name: String,
    pub status: String,
    pub source: String,
    pub reason: String,
    pub comment: Option<String>,
    pub currency: String,
    pub decision: Option<Json>,
    pub rejection: Option<String>,
    pub resolution: String,
    pub warehouse_id: Option<Uuid>,
    pub carrier_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub tracking_number: Option<String>,
    pub label_cost_units: Option<i64>,
    pub label_currency: Option<String>,
    pub label_status: Option<String>,
    pub label_pdf: Option<Vec<u8>>,
    pub label_zpl: Option<String>,
    /// A label being bought from a remote carrier: its provider shipment, rate, transaction
    /// and, once bought, the label (see `lifecycle::returns::label`).
    pub label_purchase: Option<Json>,
    /// Why a requested label is still waiting.
    pub label_wait: Option<String>,
    pub refund_id: Option<Uuid>,
    pub exchange_order_id: Option<Uuid>,
    pub settlement: Option<Json>,
    pub merchant_fault: Option<bool>,
    pub approved_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
    pub inspected_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
