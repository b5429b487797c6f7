//! Which tenant a carrier belongs to, read before any tenant scope exists (tracking webhooks).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "carrier_routes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub carrier_id: Uuid,
    pub tenant_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
