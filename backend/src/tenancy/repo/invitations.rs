//! Invitations to join a tenant.

use chrono::{DateTime, Utc};
use entity::invitations;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{Email, InvitationId, UserId};
use crate::tenancy::{AnyTx, Role, TenantTx};

pub use invitations::Model as Invitation;

pub struct NewInvitation<'a> {
    pub email: &'a Email,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(tx: &TenantTx, new: NewInvitation<'_>) -> Result<Invitation, DbErr> {
    let row = invitations::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(InvitationId::new().uuid()),
        email: Set(new.email.as_str().to_owned()),
        role: Set(new.role.as_str().to_owned()),
        token_hash: Set(new.token_hash),
        invited_by: Set(new.invited_by.uuid()),
        expires_at: Set(new.expires_at),
        accepted_at: Set(None),
        revoked_at: Set(None),
        email_status: Set("pending".to_owned()),
        email_error: Set(None),
        created_at: Set(Utc::now()),
    };
    invitations::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn get(tx: &TenantTx, id: InvitationId) -> Result<Option<Invitation>, DbErr> {
    invitations::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn find_by_token_hash(
    tx: &TenantTx,
    token_hash: &str,
) -> Result<Option<Invitation>, DbErr> {
    invitations::Entity::find()
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(invitations::Column::TokenHash.eq(token_hash))
        .one(tx.conn())
        .await
}

/// Marks the invitation accepted unless it already was; false means someone got there first.
pub async fn mark_accepted(tx: &TenantTx, id: InvitationId) -> Result<bool, DbErr> {
    let result = invitations::Entity::update_many()
        .col_expr(invitations::Column::AcceptedAt, Some(Utc::now()).into())
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(invitations::Column::Id.eq(id.uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn set_email_status(
    tx: &TenantTx,
    id: InvitationId,
    status: &str,
    error: Option<String>,
) -> Result<(), DbErr> {
    invitations::Entity::update_many()
        .col_expr(invitations::Column::EmailStatus, status.into())
        .col_expr(invitations::Column::EmailError, error.into())
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(invitations::Column::Id.eq(id.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Replaces the token of an open invitation (resending invalidates the old link).
pub async fn renew(
    tx: &TenantTx,
    id: InvitationId,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitations::Entity::update_many()
        .col_expr(invitations::Column::TokenHash, token_hash.into())
        .col_expr(invitations::Column::ExpiresAt, expires_at.into())
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(invitations::Column::Id.eq(id.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn revoke(tx: &TenantTx, id: InvitationId) -> Result<bool, DbErr> {
    let result = invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Some(Utc::now()).into())
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(invitations::Column::Id.eq(id.uuid()))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Newest first.
pub async fn list(
    tx: &TenantTx,
    before: Option<InvitationId>,
    limit: u64,
) -> Result<Vec<Invitation>, DbErr> {
    let mut query = invitations::Entity::find()
        .filter(invitations::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(invitations::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(invitations::Column::Id.lt(before.uuid()));
    }
    query.all(tx.conn()).await
}
