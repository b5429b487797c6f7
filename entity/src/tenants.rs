//! A merchant account; every tenant-owned row points at one.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// ISO 4217 code the catalog is priced in.
    pub currency: String,
    /// Short unique name for commands, e.g. `demo-shop`.
    pub slug: Option<String>,
    /// IANA timezone whose days the KPIs count in.
    pub timezone: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
