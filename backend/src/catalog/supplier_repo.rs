//! Suppliers and what they supply.

use chrono::Utc;
use entity::{supplier_items, suppliers};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{SupplierId, VariantId};
use crate::tenancy::{AnyTx, TenantTx};

pub use supplier_items::Model as SupplierItem;
pub use suppliers::Model as Supplier;

pub async fn insert(tx: &TenantTx, row: suppliers::ActiveModel) -> Result<Supplier, DbErr> {
    suppliers::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn update(tx: &TenantTx, mut row: suppliers::ActiveModel) -> Result<Supplier, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn get(tx: &TenantTx, id: SupplierId) -> Result<Option<Supplier>, DbErr> {
    suppliers::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

/// In creation order.
pub async fn list(
    tx: &TenantTx,
    after: Option<SupplierId>,
    limit: u64,
) -> Result<Vec<Supplier>, DbErr> {
    let mut query = suppliers::Entity::find()
        .filter(suppliers::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(suppliers::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(suppliers::Column::Id.gt(after.uuid()));
    }
    query.all(tx.conn()).await
}

/// Creates or replaces what `row`'s supplier says about its variant.
pub async fn upsert_item(
    tx: &TenantTx,
    mut row: supplier_items::ActiveModel,
) -> Result<SupplierItem, DbErr> {
    use supplier_items::Column as C;
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    supplier_items::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::SupplierId, C::VariantId])
                .update_columns([
                    C::SupplierSku,
                    C::AvailableQuantity,
                    C::LeadTimeDays,
                    C::MinimumOrderQuantity,
                    C::CostUnits,
                    C::Currency,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_with_returning(tx.conn())
        .await
}

pub async fn items_of_suppliers(
    tx: &TenantTx,
    ids: &[SupplierId],
) -> Result<Vec<SupplierItem>, DbErr> {
    supplier_items::Entity::find()
        .filter(supplier_items::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(supplier_items::Column::SupplierId.is_in(ids.iter().map(|s| s.uuid())))
        .all(tx.conn())
        .await
}

/// Who can supply a variant (for backorder ETAs).
pub async fn items_of_variant(
    tx: &TenantTx,
    variant: VariantId,
) -> Result<Vec<SupplierItem>, DbErr> {
    supplier_items::Entity::find()
        .filter(supplier_items::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(supplier_items::Column::VariantId.eq(variant.uuid()))
        .all(tx.conn())
        .await
}
