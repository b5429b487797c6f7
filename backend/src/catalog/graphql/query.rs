//! Reading the catalog: products, variants, warehouses, suppliers.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};

use super::types::{Product, Supplier, Variant, Warehouse};
use crate::catalog::product_repo::{self, ProductFilter};
use crate::catalog::products::ProductStatus;
use crate::catalog::{supplier_repo, warehouse_repo};
use crate::domain::{ProductId, Sku, SupplierId, VariantId, WarehouseId};
use crate::error::AppError;
use crate::graphql::context::{principal, state};
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, page_size};
use crate::tenancy::{Permission, TenantTx};

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    /// Matches title, vendor, or any variant's SKU or barcode (case-insensitive substring).
    pub search: Option<String>,
    pub status: Option<ProductStatus>,
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Products, newest first.
    #[graphql(
        guard = "Perm(Permission::CatalogRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ProductFilterInput>,
    ) -> async_graphql::Result<Connection<String, Product>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = ProductFilter {
            search: filter.search,
            status: filter.status.map(|s| s.as_str().to_owned()),
        };
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = product_repo::list(&tx, &filter, after.map(ProductId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|r| (r.id, Product::from(r))).collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    #[graphql(guard = "Perm(Permission::CatalogRead)")]
    async fn product(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Product>> {
        let p = principal(ctx)?;
        let id = ProductId(decode_id(&id, "Product", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = product_repo::product(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Product::from))
    }

    /// One variant, by id or by SKU (give exactly one).
    #[graphql(guard = "Perm(Permission::CatalogRead)")]
    async fn variant(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        sku: Option<String>,
    ) -> async_graphql::Result<Option<Variant>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = match (id, sku) {
            (Some(id), None) => {
                let id = VariantId(decode_id(&id, "Variant", "id")?);
                product_repo::variant(&tx, id).await?
            }
            (None, Some(sku)) => {
                let sku = Sku::parse(&sku).map_err(|m| AppError::bad_input("sku", m))?;
                product_repo::variant_by_sku(&tx, &sku).await?
            }
            _ => return Err(AppError::bad_input("id", "give either id or sku").into()),
        };
        tx.commit().await?;
        Ok(row.map(Variant::from))
    }

    /// Warehouses, oldest first; inactive ones only when asked for.
    #[graphql(
        guard = "Perm(Permission::CatalogRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn warehouses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default = false)] include_inactive: bool,
    ) -> async_graphql::Result<Connection<String, Warehouse>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows =
            warehouse_repo::list(&tx, include_inactive, after.map(WarehouseId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|r| (r.id, Warehouse::from(r)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    #[graphql(guard = "Perm(Permission::CatalogRead)")]
    async fn warehouse(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Warehouse>> {
        let p = principal(ctx)?;
        let id = WarehouseId(decode_id(&id, "Warehouse", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = warehouse_repo::get(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Warehouse::from))
    }

    /// Suppliers, oldest first.
    #[graphql(
        guard = "Perm(Permission::CatalogRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn suppliers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Supplier>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = supplier_repo::list(&tx, after.map(SupplierId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|r| (r.id, Supplier::from(r)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    #[graphql(guard = "Perm(Permission::CatalogRead)")]
    async fn supplier(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Supplier>> {
        let p = principal(ctx)?;
        let id = SupplierId(decode_id(&id, "Supplier", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = supplier_repo::get(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Supplier::from))
    }
}
