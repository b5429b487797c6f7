//! One write to a sales channel (a parcel's fulfilment, its hand-over), and the sync log's
//! line for it. Unique per tenant by `key`, so what one cause says is sent once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_pushes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    pub order_id: Uuid,
    pub shipment_id: Option<Uuid>,
    /// fulfillment or in_transit.
    pub kind: String,
    pub key: String,
    /// queued, waiting, sent, failed or skipped.
    pub state: String,
    /// What it says, in words.
    pub summary: String,
    /// What the channel made of it (a fulfilment's id, a note's id…).
    pub remote_id: Option<String>,
    /// The platform's answer (or why it was not sent).
    pub answer: Option<String>,
    pub attempts: i32,
    pub duration_ms: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
