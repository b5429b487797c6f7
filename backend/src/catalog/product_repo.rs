//! Products and variants.

use chrono::Utc;
use entity::{products, variants};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};

use crate::domain::{ProductId, Sku, VariantId};
use crate::infra::db::contains_pattern;
use crate::tenancy::{AnyTx, TenantTx};

pub use products::Model as Product;
pub use variants::Model as Variant;

pub async fn insert_product(tx: &TenantTx, row: products::ActiveModel) -> Result<Product, DbErr> {
    products::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn insert_variant(tx: &TenantTx, row: variants::ActiveModel) -> Result<Variant, DbErr> {
    variants::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn update_product(
    tx: &TenantTx,
    mut row: products::ActiveModel,
) -> Result<Product, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn update_variant(
    tx: &TenantTx,
    mut row: variants::ActiveModel,
) -> Result<Variant, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn product(tx: &TenantTx, id: ProductId) -> Result<Option<Product>, DbErr> {
    products::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

/// The first product with exactly this title (imports group variants by title).
pub async fn by_title(tx: &TenantTx, title: &str) -> Result<Option<Product>, DbErr> {
    products::Entity::find()
        .filter(products::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(products::Column::Title.eq(title.trim()))
        .order_by_asc(products::Column::Id)
        .one(tx.conn())
        .await
}

pub async fn variant(tx: &TenantTx, id: VariantId) -> Result<Option<Variant>, DbErr> {
    variants::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn variant_by_sku(tx: &TenantTx, sku: &Sku) -> Result<Option<Variant>, DbErr> {
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(variants::Column::Sku.eq(sku.as_str()))
        .one(tx.conn())
        .await
}

pub async fn products_by_id(tx: &TenantTx, ids: &[ProductId]) -> Result<Vec<Product>, DbErr> {
    products::Entity::find()
        .filter(products::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(products::Column::Id.is_in(ids.iter().map(|p| p.uuid())))
        .all(tx.conn())
        .await
}

/// The variants with any of `skus`.
pub async fn variants_by_sku(tx: &TenantTx, skus: &[Sku]) -> Result<Vec<Variant>, DbErr> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(variants::Column::Sku.is_in(skus.iter().map(|s| s.as_str())))
        .all(tx.conn())
        .await
}

/// Variants of several products in one query, in creation order.
pub async fn variants_of(tx: &TenantTx, products: &[ProductId]) -> Result<Vec<Variant>, DbErr> {
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(variants::Column::ProductId.is_in(products.iter().map(|p| p.uuid())))
        .order_by_asc(variants::Column::Id)
        .all(tx.conn())
        .await
}

pub async fn variants_by_id(tx: &TenantTx, ids: &[VariantId]) -> Result<Vec<Variant>, DbErr> {
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(variants::Column::Id.is_in(ids.iter().map(|v| v.uuid())))
        .all(tx.conn())
        .await
}

#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// Matches the title, vendor or any variant's SKU or barcode, case-insensitively.
    pub search: Option<String>,
    pub status: Option<String>,
}

/// A page of products, newest first.
pub async fn list(
    tx: &TenantTx,
    filter: &ProductFilter,
    before: Option<ProductId>,
    limit: u64,
) -> Result<Vec<Product>, DbErr> {
    let tenant = tx.tenant().uuid();
    let mut query = products::Entity::find()
        .filter(products::Column::TenantId.eq(tenant))
        .order_by_desc(products::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(products::Column::Id.lt(before.uuid()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(products::Column::Status.eq(status.as_str()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = contains_pattern(search);
        let lower =
            |col: products::Column| Expr::expr(Func::lower(Expr::col((products::Entity, col))));
        let matching_variants = variants::Entity::find()
            .select_only()
            .column(variants::Column::ProductId)
            .filter(variants::Column::TenantId.eq(tenant))
            .filter(
                Condition::any()
                    .add(
                        Expr::expr(Func::lower(Expr::col((
                            variants::Entity,
                            variants::Column::Sku,
                        ))))
                        .like(pattern.clone()),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col((
                            variants::Entity,
                            variants::Column::Barcode,
                        ))))
                        .like(pattern.clone()),
                    ),
            )
            .into_query();
        query = query.filter(
            Condition::any()
                .add(lower(products::Column::Title).like(pattern.clone()))
                .add(lower(products::Column::Vendor).like(pattern.clone()))
                .add(products::Column::Id.in_subquery(matching_variants)),
        );
    }
    query.all(tx.conn()).await
}
