//! A tenant's return policy: window, eligibility, reasons, auto-approval, fees, handling costs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "return_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub window_days: i32,
    pub final_sale_skus: Json,
    pub reasons: Json,
    pub grade_refund_percent: Json,
    pub auto_approve: bool,
    pub auto_approve_max_units: i64,
    pub auto_approve_max_fraud_score: i32,
    pub auto_approve_max_recent: i32,
    pub restocking_fee_percent: i32,
    pub refund_shipping: bool,
    pub deduct_label_cost: bool,
    pub handling_cost_units: i64,
    pub refurbish_cost_units: i64,
    pub auto_refund: bool,
    pub warehouse_id: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
