//! A webhook or poll result as received, kept raw, with what became of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Option<Uuid>,
    pub platform: String,
    pub topic: String,
    pub delivery_id: Option<String>,
    pub external_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub status: String,
    pub error: Option<String>,
    pub attempts: i32,
    pub order_id: Option<Uuid>,
    pub received_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
