//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): VariantId, ProductId, WarehouseId, SupplierId.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::catalog::product_repo::{self, Variant};
use crate::catalog::supplier_repo::{self, SupplierItem};
use crate::catalog::warehouse_repo::{self, Warehouse};
use crate::domain::{ProductId, SupplierId, TenantId, VariantId, WarehouseId};
use crate::graphql::loader::{Batch, load_grouped, load_lists};
use crate::tenancy::TenantTx;

impl Loader<(TenantId, VariantId)> for Batch {
    type Value = Variant;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, VariantId)],
    ) -> Result<HashMap<(TenantId, VariantId), Variant>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<VariantId>| async move {
            let rows = product_repo::variants_by_id(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |v: &Variant| VariantId(v.id)).await
    }
}

impl Loader<(TenantId, ProductId)> for Batch {
    type Value = Vec<Variant>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, ProductId)],
    ) -> Result<HashMap<(TenantId, ProductId), Vec<Variant>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<ProductId>| async move {
            let rows = product_repo::variants_of(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |v: &Variant| {
            ProductId(v.product_id)
        })
        .await
    }
}

impl Loader<(TenantId, WarehouseId)> for Batch {
    type Value = Warehouse;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, WarehouseId)],
    ) -> Result<HashMap<(TenantId, WarehouseId), Warehouse>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<WarehouseId>| async move {
            let rows = warehouse_repo::get_many(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |w: &Warehouse| WarehouseId(w.id)).await
    }
}

impl Loader<(TenantId, SupplierId)> for Batch {
    type Value = Vec<SupplierItem>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, SupplierId)],
    ) -> Result<HashMap<(TenantId, SupplierId), Vec<SupplierItem>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<SupplierId>| async move {
            let rows = supplier_repo::items_of_suppliers(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |i: &SupplierItem| {
            SupplierId(i.supplier_id)
        })
        .await
    }
}
