//! A tenant's connection to a sales channel. Secrets are sealed (encrypted) at rest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub platform: String,
    pub name: String,
    pub shop_domain: String,
    pub webhook_secret_sealed: Option<String>,
    pub credentials_sealed: Option<String>,
    pub active: bool,
    pub sync_cursor: Option<String>,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// Whether the channel may email the shopper about a fulfilment Orderflow pushes (off:
    /// Orderflow emails the shopper itself).
    pub notify_customer: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
