//! Warehouses.

use chrono::Utc;
use entity::warehouses;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::WarehouseId;
use crate::tenancy::{AnyTx, TenantTx};

pub use warehouses::Model as Warehouse;

pub async fn insert(tx: &TenantTx, row: warehouses::ActiveModel) -> Result<Warehouse, DbErr> {
    warehouses::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn update(tx: &TenantTx, mut row: warehouses::ActiveModel) -> Result<Warehouse, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn get(tx: &TenantTx, id: WarehouseId) -> Result<Option<Warehouse>, DbErr> {
    warehouses::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn by_code(tx: &TenantTx, code: &str) -> Result<Option<Warehouse>, DbErr> {
    warehouses::Entity::find()
        .filter(warehouses::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(warehouses::Column::Code.eq(code))
        .one(tx.conn())
        .await
}

pub async fn get_many(tx: &TenantTx, ids: &[WarehouseId]) -> Result<Vec<Warehouse>, DbErr> {
    warehouses::Entity::find()
        .filter(warehouses::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(warehouses::Column::Id.is_in(ids.iter().map(|w| w.uuid())))
        .all(tx.conn())
        .await
}

/// Oldest first (the first warehouse is usually the main one).
pub async fn list(
    tx: &TenantTx,
    include_inactive: bool,
    after: Option<WarehouseId>,
    limit: u64,
) -> Result<Vec<Warehouse>, DbErr> {
    let mut query = warehouses::Entity::find()
        .filter(warehouses::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(warehouses::Column::Id)
        .limit(limit);
    if !include_inactive {
        query = query.filter(warehouses::Column::Active.eq(true));
    }
    if let Some(after) = after {
        query = query.filter(warehouses::Column::Id.gt(after.uuid()));
    }
    query.all(tx.conn()).await
}
