//! One stock push, catalog import or drift check of a connection: the stock half of its
//! sync log.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "channel_stock_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    /// stock, import or drift.
    pub kind: String,
    /// sent, waiting or failed.
    pub state: String,
    /// Listings it was about.
    pub items: i32,
    /// Of those, the ones changed (pushed, newly listed, found drifted).
    pub changed: i32,
    pub summary: String,
    /// The platform's answer, in its words.
    pub answer: Option<String>,
    pub duration_ms: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
