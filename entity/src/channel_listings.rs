//! What a channel sells one SKU as (a product, variant, inventory item or listing), and the
//! stock figure last pushed to it. Unmatched while no variant of ours has its SKU.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_listings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    /// The platform's identity of it, unique per connection.
    pub remote_key: String,
    pub remote_product: String,
    pub remote_variant: Option<String>,
    /// Shopify's inventory item.
    pub remote_item: Option<String>,
    pub sku: String,
    pub title: String,
    pub variant_id: Option<Uuid>,
    /// Mapped by staff: an import keeps it.
    pub mapped_by_hand: bool,
    /// What the channel said it holds when last read.
    pub remote_quantity: Option<i64>,
    pub pushed_quantity: Option<i64>,
    pub pushed_at: Option<DateTimeUtc>,
    /// Set when a stock change makes the pushed figure stale.
    pub dirty_at: Option<DateTimeUtc>,
    /// Times a drift check found the channel's figure not the one pushed.
    pub drift_count: i32,
    pub last_error: Option<String>,
    /// The Amazon listings feed that carried its last figure, until Amazon's report is read.
    pub stock_feed: Option<String>,
    /// When the channel's catalog last listed it.
    pub seen_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
