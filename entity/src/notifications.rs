//! One email to a shopper (or staff): the outbox row that makes sending idempotent.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub dedupe_key: String,
    pub order_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub thread_id: Option<Uuid>,
    pub support_message_id: Option<Uuid>,
    pub recipient: String,
    pub context: Json,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub subject: Option<String>,
    pub message_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub in_reply_to: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reference_ids: Option<String>,
    pub locale: Option<String>,
    pub attempts: i32,
    pub attempted_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub bounce_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub bounced_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
