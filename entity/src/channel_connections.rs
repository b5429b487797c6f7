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
    /// Whether Orderflow keeps the channel's stock (for its mapped listings).
    pub stock_sync: bool,
    /// Percent of the free stock the channel may show.
    pub stock_share: i32,
    /// The warehouses whose stock the channel sells (a JSON array of ids); none: all.
    pub stock_warehouses: Option<Json>,
    /// Where the channel keeps its stock (a Shopify location id).
    pub stock_location: Option<String>,
    /// Until when a stock run holds the connection (one at a time, so figures stay in order).
    pub stock_lease_until: Option<DateTimeUtc>,
    /// Pushes, catalog reads and polls that failed in a row (0 after one that worked).
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
