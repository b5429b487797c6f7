//! Refresh tokens, rotated on every use; a family is every token descended from one login.

use chrono::{DateTime, Utc};
use entity::refresh_tokens;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::{UserId, new_id};
use crate::tenancy::{AnyTx, TenantTx};

pub use refresh_tokens::Model as RefreshToken;

pub async fn create(
    tx: &TenantTx,
    user: UserId,
    family: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<RefreshToken, DbErr> {
    let row = refresh_tokens::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(new_id()),
        user_id: Set(user.uuid()),
        family_id: Set(family),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    };
    refresh_tokens::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn find_by_hash(tx: &TenantTx, token_hash: &str) -> Result<Option<RefreshToken>, DbErr> {
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(tx.conn())
        .await
}

/// Marks the token used if nobody has; false means it was used already (reuse, or a race
/// between two refreshes with the same token — which is treated as reuse too).
pub async fn mark_used(tx: &TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Some(now).into())
        .filter(refresh_tokens::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn revoke_family(tx: &TenantTx, family: Uuid) -> Result<u64, DbErr> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Some(Utc::now()).into())
        .filter(refresh_tokens::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected)
}

/// Ends every session of a user in this tenant (password change, role change, removal).
pub async fn revoke_user(tx: &TenantTx, user: UserId) -> Result<u64, DbErr> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Some(Utc::now()).into())
        .filter(refresh_tokens::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refresh_tokens::Column::UserId.eq(user.uuid()))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected)
}

/// Deletes tokens expired before `cutoff`; they can no longer be used or reused.
pub async fn purge_expired(tx: &TenantTx, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(refresh_tokens::Column::ExpiresAt.lt(cutoff))
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected)
}
