//! A line of an order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub external_id: Option<String>,
    pub sku: Option<String>,
    pub variant_id: Option<Uuid>,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    pub unit_price_units: i64,
    pub discount_units: i64,
    pub tax_units: i64,
    pub tax_lines: Json,
    pub requires_shipping: bool,
    pub grams: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
