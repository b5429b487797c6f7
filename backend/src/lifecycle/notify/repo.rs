//! Notifications, templates, settings and suppressions, tenant-scoped.

use chrono::{DateTime, Utc};
use entity::{email_suppressions, notification_settings, notification_templates, notifications};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::OrderId;
use crate::tenancy::{AnyTx, TenantTx};

pub use notification_templates::Model as TemplateRow;
pub use notifications::Model as Notification;

pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const BOUNCED: &str = "bounced";
pub const SUPPRESSED: &str = "suppressed";

/// Inserts notifications; one that exists under the same key is left as it is.
pub async fn insert_new(tx: &TenantTx, rows: Vec<Notification>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    notifications::Entity::insert_many(
        rows.into_iter()
            .map(|m| notifications::ActiveModel::from(m).reset_all()),
    )
    .on_conflict(
        OnConflict::columns([
            notifications::Column::TenantId,
            notifications::Column::DedupeKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Notification>, DbErr> {
    notifications::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// The notification under `key`, locked for the rest of the transaction.
pub async fn by_key_for_update(tx: &TenantTx, key: &str) -> Result<Option<Notification>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(notifications::Column::DedupeKey.eq(key))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn save(tx: &TenantTx, row: Notification) -> Result<Notification, DbErr> {
    let mut active = notifications::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    notifications::Entity::update(active).exec(tx.conn()).await
}

/// Mail about `orders`, oldest first.
pub async fn of_orders(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<Notification>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(notifications::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(notifications::Column::CreatedAt)
        .order_by_asc(notifications::Column::Id)
        .all(tx.conn())
        .await
}

/// The mail we sent with this Message-ID (without brackets).
pub async fn by_message_id(tx: &TenantTx, id: &str) -> Result<Option<Notification>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(notifications::Column::MessageId.eq(id))
        .one(tx.conn())
        .await
}

/// Recent mail, newest first (the delivery log).
pub async fn recent(
    tx: &TenantTx,
    status: Option<&str>,
    before: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: u64,
) -> Result<Vec<Notification>, DbErr> {
    use sea_orm::Condition;
    let mut q = notifications::Entity::find()
        .filter(notifications::Column::TenantId.eq(tx.tenant().uuid()));
    if let Some(status) = status {
        q = q.filter(notifications::Column::Status.eq(status));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            Condition::any()
                .add(notifications::Column::CreatedAt.lt(at))
                .add(
                    Condition::all()
                        .add(notifications::Column::CreatedAt.eq(at))
                        .add(notifications::Column::Id.lt(id)),
                ),
        );
    }
    q.order_by_desc(notifications::Column::CreatedAt)
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

pub async fn settings(tx: &TenantTx) -> Result<Option<notification_settings::Model>, DbErr> {
    notification_settings::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await
}

pub async fn save_settings(tx: &TenantTx, row: notification_settings::Model) -> Result<(), DbErr> {
    let mut active = notification_settings::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    notification_settings::Entity::insert(active)
        .on_conflict(
            OnConflict::column(notification_settings::Column::TenantId)
                .update_columns([
                    notification_settings::Column::SenderName,
                    notification_settings::Column::SenderAddress,
                    notification_settings::Column::SenderVerifiedAddress,
                    notification_settings::Column::ReplyTo,
                    notification_settings::Column::DefaultLocale,
                    notification_settings::Column::ReviewRequestDays,
                    notification_settings::Column::AutoReply,
                    notification_settings::Column::AutoReplyConfidence,
                    notification_settings::Column::DisabledKinds,
                    notification_settings::Column::InboundSecret,
                    notification_settings::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

pub async fn template(tx: &TenantTx, kind: &str) -> Result<Option<TemplateRow>, DbErr> {
    notification_templates::Entity::find_by_id((tx.tenant().uuid(), kind.to_owned()))
        .one(tx.conn())
        .await
}

pub async fn templates(tx: &TenantTx) -> Result<Vec<TemplateRow>, DbErr> {
    notification_templates::Entity::find()
        .filter(notification_templates::Column::TenantId.eq(tx.tenant().uuid()))
        .all(tx.conn())
        .await
}

pub async fn save_template(tx: &TenantTx, row: TemplateRow) -> Result<(), DbErr> {
    let mut active = notification_templates::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    notification_templates::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([
                notification_templates::Column::TenantId,
                notification_templates::Column::Kind,
            ])
            .update_columns([
                notification_templates::Column::Subject,
                notification_templates::Column::TextBody,
                notification_templates::Column::HtmlBody,
                notification_templates::Column::Version,
                notification_templates::Column::UpdatedBy,
                notification_templates::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

pub async fn delete_template(tx: &TenantTx, kind: &str) -> Result<bool, DbErr> {
    let done = notification_templates::Entity::delete_many()
        .filter(notification_templates::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(notification_templates::Column::Kind.eq(kind))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected > 0)
}

/// Whether mail of `scope` to `email` is suppressed (by that scope, or by a hard bounce).
pub async fn is_suppressed(tx: &TenantTx, email: &str, scope: &str) -> Result<bool, DbErr> {
    let found = email_suppressions::Entity::find()
        .filter(email_suppressions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(email_suppressions::Column::Email.eq(email.to_ascii_lowercase()))
        .filter(email_suppressions::Column::Scope.is_in([scope, "all"]))
        .one(tx.conn())
        .await?;
    Ok(found.is_some())
}

pub async fn suppress(tx: &TenantTx, email: &str, scope: &str, reason: &str) -> Result<(), DbErr> {
    email_suppressions::Entity::insert(email_suppressions::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        email: Set(email.to_ascii_lowercase()),
        scope: Set(scope.to_owned()),
        reason: Set(reason.to_owned()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            email_suppressions::Column::TenantId,
            email_suppressions::Column::Email,
            email_suppressions::Column::Scope,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

/// The tenant's name, for the From line and the layout.
pub async fn tenant_name(tx: &TenantTx) -> Result<String, DbErr> {
    Ok(crate::tenancy::repo::tenants::get(tx, tx.tenant())
        .await?
        .map(|t| t.name)
        .unwrap_or_default())
}

/// An unsaved notification of `kind` about `order`, to render a preview or a reply's context.
pub fn probe(
    tenant: uuid::Uuid,
    kind: &str,
    order: Option<uuid::Uuid>,
    recipient: &str,
) -> Notification {
    Notification {
        tenant_id: tenant,
        id: uuid::Uuid::nil(),
        kind: kind.to_owned(),
        dedupe_key: String::new(),
        order_id: order,
        event_id: None,
        thread_id: None,
        support_message_id: None,
        recipient: recipient.to_owned(),
        context: serde_json::Value::Null,
        status: String::new(),
        subject: None,
        message_id: String::new(),
        in_reply_to: None,
        reference_ids: None,
        locale: None,
        attempts: 0,
        attempted_at: None,
        last_error: None,
        bounce_reason: None,
        created_at: Utc::now(),
        sent_at: None,
        bounced_at: None,
    }
}
