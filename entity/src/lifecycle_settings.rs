//! A tenant's lifecycle settings: fraud thresholds and lists, unpaid reservations, low stock.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lifecycle_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub fraud_review_score: i32,
    pub fraud_reject_score: i32,
    pub high_risk_countries: Json,
    pub forwarder_addresses: Json,
    pub reserve_unpaid: bool,
    pub unpaid_reservation_hours: i32,
    pub low_stock_threshold: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
