//! One tenant's operation over one local day, rolled up for the KPIs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "kpi_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// YYYY-MM-DD in `timezone`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    pub timezone: String,
    /// The day's counters as JSON (`reporting::rollup::DayRollup`).
    #[sea_orm(column_type = "Text")]
    pub data: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
