//! A tenant's sender, locale and support-automation settings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    /// The sender address the tenant confirmed by its link; mail goes out from
    /// `sender_address` only while the two are the same.
    pub sender_verified_address: Option<String>,
    pub reply_to: Option<String>,
    pub default_locale: String,
    pub review_request_days: i32,
    pub auto_reply: bool,
    pub auto_reply_confidence: i32,
    pub disabled_kinds: Json,
    /// Sealed token the inbound-mail webhook must present.
    pub inbound_secret: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
