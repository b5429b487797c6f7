//! A tenant's routing, label and warehouse settings.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "fulfillment_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub routing_weights: Json,
    pub routing_rules: Json,
    pub auto_buy_labels: bool,
    pub warehouse_workflow: bool,
    pub label_pick: String,
    pub standard_promise_days: i32,
    pub express_promise_days: i32,
    pub lost_after_days: i32,
    pub wave_size: i32,
    /// Units of every SKU kept back from the channels.
    pub channel_stock_buffer: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
