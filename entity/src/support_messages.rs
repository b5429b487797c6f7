//! One message of a support thread, in or out, with its classification and proposals.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "support_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub thread_id: Uuid,
    pub direction: String,
    pub source: String,
    pub from_address: String,
    pub from_name: Option<String>,
    pub to_address: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub text_body: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_body: Option<String>,
    pub message_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub in_reply_to: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reference_ids: Option<String>,
    pub intent: Option<String>,
    pub confidence: Option<i32>,
    pub classification: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub suggested_reply: Option<String>,
    pub proposed_action: Option<Json>,
    pub action_status: Option<String>,
    pub author_id: Option<Uuid>,
    pub author_label: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
