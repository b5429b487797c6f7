//! API keys. Only a SHA-256 of the secret is kept: the key has 256 bits of entropy, so a fast
//! hash is as safe as a slow one and keeps every API request cheap.

use chrono::{DateTime, Utc};
use entity::api_keys;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{ApiKeyId, UserId};
use crate::tenancy::{AnyTx, Permission, TenantTx};

#[derive(Clone, Debug)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Permission>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn from_row(row: api_keys::Model) -> ApiKey {
    let scopes = row
        .scopes
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().and_then(Permission::parse))
                .collect()
        })
        .unwrap_or_default();
    ApiKey {
        id: ApiKeyId(row.id),
        name: row.name,
        prefix: row.prefix,
        scopes,
        created_by: UserId(row.created_by),
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

pub struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub name: &'a str,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: &'a [Permission],
    pub created_by: UserId,
}

pub async fn create(tx: &TenantTx, new: NewApiKey<'_>) -> Result<ApiKey, DbErr> {
    let scopes: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
    let row = api_keys::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(new.id.uuid()),
        name: Set(new.name.to_owned()),
        prefix: Set(new.prefix),
        secret_hash: Set(new.secret_hash),
        scopes: Set(serde_json::json!(scopes)),
        created_by: Set(new.created_by.uuid()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    };
    Ok(from_row(
        api_keys::Entity::insert(row)
            .exec_with_returning(tx.conn())
            .await?,
    ))
}

pub async fn find_by_hash(tx: &TenantTx, secret_hash: &str) -> Result<Option<ApiKey>, DbErr> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(api_keys::Column::SecretHash.eq(secret_hash))
        .one(tx.conn())
        .await?
        .map(from_row))
}

pub async fn get(tx: &TenantTx, id: ApiKeyId) -> Result<Option<ApiKey>, DbErr> {
    Ok(
        api_keys::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
            .one(tx.conn())
            .await?
            .map(from_row),
    )
}

/// Records use at most once a minute per key, so busy integrations do not write on every call.
pub async fn touch(tx: &TenantTx, id: ApiKeyId, now: DateTime<Utc>) -> Result<(), DbErr> {
    let stale = now - chrono::Duration::minutes(1);
    api_keys::Entity::update_many()
        .col_expr(api_keys::Column::LastUsedAt, Some(now).into())
        .filter(api_keys::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(api_keys::Column::Id.eq(id.uuid()))
        .filter(
            Condition::any()
                .add(api_keys::Column::LastUsedAt.is_null())
                .add(api_keys::Column::LastUsedAt.lt(stale)),
        )
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn revoke(tx: &TenantTx, id: ApiKeyId) -> Result<bool, DbErr> {
    let result = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Some(Utc::now()).into())
        .filter(api_keys::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(api_keys::Column::Id.eq(id.uuid()))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(tx.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Newest first.
pub async fn list(
    tx: &TenantTx,
    before: Option<ApiKeyId>,
    limit: u64,
) -> Result<Vec<ApiKey>, DbErr> {
    let mut query = api_keys::Entity::find()
        .filter(api_keys::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(api_keys::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(api_keys::Column::Id.lt(before.uuid()));
    }
    Ok(query
        .all(tx.conn())
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}
