//! A carrier's service with its rate card.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "carrier_services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub carrier_id: Uuid,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub rate_card: Json,
    /// HH:MM, local to the warehouse.
    pub cutoff: Option<String>,
    pub delivered_count: i32,
    pub on_time_count: i32,
    pub active: bool,
    /// A remote carrier's service as its provider names it (`USPS/Priority`): priced by the
    /// provider's API, not by `rate_card`.
    pub remote_code: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
