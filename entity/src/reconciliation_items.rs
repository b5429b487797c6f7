//! One line of an imported report, matched to our books or a discrepancy.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reconciliation_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub run_id: Uuid,
    pub line_no: i32,
    pub transaction_id: String,
    pub category: String,
    pub source_id: Option<String>,
    pub description: Option<String>,
    pub currency: String,
    pub gross_units: i64,
    pub fee_units: i64,
    pub net_units: i64,
    pub occurred_at: Option<DateTimeUtc>,
    pub payout_id: Option<String>,
    pub status: String,
    pub order_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub expected_units: Option<i64>,
    pub discrepancy: Option<String>,
    pub message: Option<String>,
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub raw: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
