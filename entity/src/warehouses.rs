//! A place stock is kept and shipped from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "warehouses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Short code, unique per tenant.
    pub code: String,
    pub name: String,
    /// `{line1, line2, city, region, postalCode, country}`.
    pub address: Json,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub active: bool,
    /// Orders it can ship a day.
    pub daily_capacity: i32,
    /// Orders waiting to ship.
    pub current_workload: i32,
    /// IANA time zone; carrier cut-offs are local to it.
    pub timezone: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
