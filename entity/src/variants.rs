//! A sellable variant of a product, identified by its SKU.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "variants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    /// Unique per tenant.
    pub sku: String,
    pub barcode: Option<String>,
    pub title: String,
    /// JSON array of `{name, value}`.
    pub options: Json,
    /// Price at scale 4 (12.5 is 125000).
    pub price_units: i64,
    /// Unit cost at scale 4.
    pub cost_units: Option<i64>,
    pub currency: String,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    /// Harmonized System code, for customs declarations.
    pub hs_code: Option<String>,
    /// Where it was made (ISO 3166-1 alpha-2), for customs declarations.
    pub origin_country: Option<String>,
    /// Units kept back from the channels, instead of the tenant's buffer.
    pub channel_buffer: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
