//! Stock promised to an order line at one warehouse, or the part of a line waiting for stock
//! (a backorder: no warehouse, an expected date).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "allocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub line_position: i32,
    pub variant_id: Option<Uuid>,
    pub sku: Option<String>,
    pub warehouse_id: Option<Uuid>,
    pub quantity: i64,
    /// reserved, backordered, released, shipped
    pub status: String,
    pub supplier_id: Option<Uuid>,
    pub eta: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
