//! Memberships: a user's role in a tenant.

use chrono::{DateTime, Utc};
use entity::memberships;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{TenantId, UserId};
use crate::tenancy::{AnyTx, Role, TenantTx, UserTx};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub tenant: TenantId,
    pub user: UserId,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

fn from_row(row: memberships::Model) -> Result<Membership, DbErr> {
    Ok(Membership {
        tenant: TenantId(row.tenant_id),
        user: UserId(row.user_id),
        role: row.role.parse().map_err(DbErr::Custom)?,
        created_at: row.created_at,
    })
}

pub async fn create(tx: &TenantTx, user: UserId, role: Role) -> Result<Membership, DbErr> {
    let row = memberships::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        user_id: Set(user.uuid()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(Utc::now()),
    };
    from_row(
        memberships::Entity::insert(row)
            .exec_with_returning(tx.conn())
            .await?,
    )
}

pub async fn get(tx: &TenantTx, user: UserId) -> Result<Option<Membership>, DbErr> {
    memberships::Entity::find_by_id((tx.tenant().uuid(), user.uuid()))
        .one(tx.conn())
        .await?
        .map(from_row)
        .transpose()
}

/// A page of the tenant's members in joining order (user ids are time-ordered).
pub async fn list(
    tx: &TenantTx,
    after: Option<UserId>,
    limit: u64,
) -> Result<Vec<Membership>, DbErr> {
    let mut query = memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(memberships::Column::UserId)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(memberships::Column::UserId.gt(after.uuid()));
    }
    query
        .all(tx.conn())
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

pub async fn set_role(tx: &TenantTx, user: UserId, role: Role) -> Result<(), DbErr> {
    memberships::Entity::update_many()
        .col_expr(memberships::Column::Role, role.as_str().into())
        .filter(memberships::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(memberships::Column::UserId.eq(user.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn count_owners(tx: &TenantTx) -> Result<u64, DbErr> {
    memberships::Entity::find()
        .filter(memberships::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(memberships::Column::Role.eq(Role::Owner.as_str()))
        .count(tx.conn())
        .await
}

pub async fn delete(tx: &TenantTx, user: UserId) -> Result<bool, DbErr> {
    let result = memberships::Entity::delete_many()
        .filter(memberships::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(memberships::Column::UserId.eq(user.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected > 0)
}

/// The signed-in user's own memberships in every tenant, oldest first.
pub async fn of_user(tx: &UserTx) -> Result<Vec<Membership>, DbErr> {
    memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(tx.user().uuid()))
        .order_by_asc(memberships::Column::CreatedAt)
        .order_by_asc(memberships::Column::TenantId)
        .all(tx.conn())
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}
