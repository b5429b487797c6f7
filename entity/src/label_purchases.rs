//! One purchase of a label from a remote carrier API, written before each call so that a
//! retry or a crash never buys twice. Its id is the idempotency key sent with the purchase.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "label_purchases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    /// `recommended`, or `service:<uuid>` when staff chose the service.
    pub choice: String,
    /// requested, buying, pending, bought, done, failed or cancelled.
    pub state: String,
    /// The carrier account the rate is bought from.
    pub carrier_id: Option<Uuid>,
    /// The provider's shipment the rates belong to.
    pub remote_shipment: Option<String>,
    /// The rate being bought and the option it was chosen as.
    pub rate: Option<Json>,
    /// Shippo's transaction, while it is queued.
    pub transaction_id: Option<String>,
    /// The bought label, kept before anything else is done with it.
    pub label: Option<Json>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
