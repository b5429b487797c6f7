//! One refund intent: its key makes a retry find the refund already made.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub return_id: Option<Uuid>,
    pub idempotency_key: String,
    pub method: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub status: String,
    pub currency: String,
    pub goods_units: i64,
    pub shipping_units: i64,
    pub tax_units: i64,
    pub amount_units: i64,
    pub withheld_units: i64,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    /// 0, then one more each time a failed refund is asked for again.
    pub attempt: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
