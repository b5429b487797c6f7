//! What a supplier can deliver of one variant, how soon and at what cost.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub variant_id: Uuid,
    pub supplier_sku: Option<String>,
    /// Units the supplier has; unknown when null.
    pub available_quantity: Option<i64>,
    /// Overrides the supplier default.
    pub lead_time_days: Option<i32>,
    pub minimum_order_quantity: i32,
    /// Unit cost at scale 4.
    pub cost_units: Option<i64>,
    pub currency: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
