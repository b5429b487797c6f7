//! One parcel of an order: planned by routing, labelled, then tracked.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub warehouse_id: Uuid,
    pub carrier_id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub parcel_no: i32,
    pub parcel_count: i32,
    /// planned, picking, packed, a tracking status, or voided.
    pub status: String,
    pub lines: Json,
    pub weight_grams: i32,
    pub volume_cm3: i64,
    pub zone: Option<i32>,
    pub currency: String,
    pub cost_units: Option<i64>,
    pub tracking_number: Option<String>,
    pub rates: Option<Json>,
    pub rate_pick: Option<String>,
    pub promised_at: Option<DateTimeUtc>,
    pub estimated_at: Option<DateTimeUtc>,
    pub predicted_at: Option<DateTimeUtc>,
    pub prediction: Option<Json>,
    pub labelled_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub last_scan_at: Option<DateTimeUtc>,
    pub last_detail: Option<String>,
    pub picked_at: Option<DateTimeUtc>,
    pub packed_at: Option<DateTimeUtc>,
    pub voided_at: Option<DateTimeUtc>,
    /// What refunds a label bought from a remote API (EasyPost's shipment, Shippo's
    /// transaction).
    pub label_ref: Option<String>,
    pub tracker_id: Option<String>,
    pub tracking_url: Option<String>,
    /// Why a requested label is still waiting.
    pub label_wait: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
