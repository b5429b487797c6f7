//! Users (global table: one person may belong to several tenants). An address is held by at
//! most one verified account; unverified accounts may share it (a sign-up never reveals
//! whether an address is registered), and none of them is trusted with it.

use chrono::Utc;
use entity::users;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::{Email, UserId};
use crate::tenancy::AnyTx;

/// Unverified accounts one address may have at once (each is a password to check at login).
pub const MAX_UNVERIFIED_PER_EMAIL: usize = 3;

/// Every account with `email`: the verified one first, then the unverified, newest first.
pub async fn all_by_email(tx: &impl AnyTx, email: &Email) -> Result<Vec<users::Model>, DbErr> {
    let mut found = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .order_by_desc(users::Column::CreatedAt)
        .all(tx.conn())
        .await?;
    found.sort_by_key(|u| u.email_verified_at.is_none());
    Ok(found)
}

/// The account that owns `email`: the verified one.
pub async fn verified_by_email(
    tx: &impl AnyTx,
    email: &Email,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .filter(users::Column::EmailVerifiedAt.is_not_null())
        .one(tx.conn())
        .await
}

pub async fn get(tx: &impl AnyTx, id: UserId) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id.uuid()).one(tx.conn()).await
}

pub async fn get_many(tx: &impl AnyTx, ids: &[UserId]) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(tx.conn())
        .await
}

/// A new account; `verified` when its creator proved the address (an invitation's link).
pub async fn create(
    tx: &impl AnyTx,
    email: &Email,
    password_hash: String,
    verified: bool,
) -> Result<users::Model, DbErr> {
    let now = Utc::now();
    let model = users::ActiveModel {
        id: Set(UserId::new().uuid()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        email_verified_at: Set(verified.then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    users::Entity::insert(model)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn set_password(tx: &impl AnyTx, id: UserId, password_hash: String) -> Result<(), DbErr> {
    users::ActiveModel {
        id: Set(id.uuid()),
        password_hash: Set(password_hash),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(tx.conn())
    .await?;
    Ok(())
}

/// Marks the account's address verified. Fails with a unique violation when another account
/// verified the address first.
pub async fn mark_verified(tx: &impl AnyTx, id: UserId) -> Result<(), DbErr> {
    let now = Utc::now();
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Some(now).into())
        .col_expr(users::Column::UpdatedAt, now.into())
        .filter(users::Column::Id.eq(id.uuid()))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(())
}
