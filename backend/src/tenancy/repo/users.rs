//! Users (global table: one person may belong to several tenants).

use chrono::Utc;
use entity::users;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::{Email, UserId};
use crate::tenancy::AnyTx;

pub async fn find_by_email(tx: &impl AnyTx, email: &Email) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
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

pub async fn create(
    tx: &impl AnyTx,
    email: &Email,
    password_hash: String,
) -> Result<users::Model, DbErr> {
    let now = Utc::now();
    let model = users::ActiveModel {
        id: Set(UserId::new().uuid()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
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
