//! A shopper of a tenant: one per email, with their order history in figures.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub accepts_marketing: bool,
    /// JSON array of addresses seen on their orders, newest first.
    pub addresses: Json,
    /// JSON object: channel → the channel's customer id.
    pub external_ids: Json,
    pub order_count: i64,
    pub total_spent_units: i64,
    pub currency: String,
    pub first_order_at: Option<DateTimeUtc>,
    pub last_order_at: Option<DateTimeUtc>,
    pub refund_count: i64,
    pub refunded_units: i64,
    pub chargeback_count: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
