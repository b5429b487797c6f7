//! A shipment's label files.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_labels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub shipment_id: Uuid,
    #[sea_orm(column_type = "VarBinary(StringLen::None)")]
    pub pdf: Vec<u8>,
    pub zpl: String,
    /// What `pdf` holds: a PDF, or the provider's image when it sent one.
    pub media_type: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
