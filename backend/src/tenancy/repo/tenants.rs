//! Tenants (global table).

use chrono::Utc;
use entity::tenants;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::{Currency, TenantId};
use crate::tenancy::AnyTx;

pub async fn create(
    tx: &impl AnyTx,
    id: TenantId,
    name: &str,
    currency: Currency,
) -> Result<tenants::Model, DbErr> {
    let model = tenants::ActiveModel {
        id: Set(id.uuid()),
        name: Set(name.to_owned()),
        currency: Set(currency.code().to_owned()),
        created_at: Set(Utc::now()),
    };
    tenants::Entity::insert(model)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn get(tx: &impl AnyTx, id: TenantId) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id.uuid()).one(tx.conn()).await
}

pub async fn get_many(tx: &impl AnyTx, ids: &[TenantId]) -> Result<Vec<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(tx.conn())
        .await
}

/// Every tenant id, for sweeps that visit each tenant in its own scoped transaction.
pub async fn all_ids(tx: &impl AnyTx) -> Result<Vec<TenantId>, DbErr> {
    Ok(tenants::Entity::find()
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|t| TenantId(t.id))
        .collect())
}
