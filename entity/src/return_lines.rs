//! One order line (or part of it) coming back, with its inspection and disposition.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "return_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub return_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub sku: String,
    pub variant_id: Option<Uuid>,
    pub quantity: i32,
    pub reason: Option<String>,
    pub unit_value_units: i64,
    pub unit_tax_units: i64,
    pub received_quantity: Option<i32>,
    pub grade: Option<String>,
    pub inspection_note: Option<String>,
    pub disposition: Option<String>,
    pub disposition_reason: Option<String>,
    pub exchange_sku: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
