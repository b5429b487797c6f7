//! One stop of a pick walk: a SKU, a bin, a quantity for one shipment.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pick_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub wave_id: Uuid,
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub sequence: i32,
    pub bin_location: Option<String>,
    pub variant_id: Option<Uuid>,
    pub sku: String,
    pub quantity: i64,
    pub picked: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
