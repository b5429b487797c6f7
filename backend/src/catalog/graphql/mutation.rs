//! Changing the catalog. Every mutation answers `{ <thing> userErrors }`.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};

use super::types::{Product, Supplier, SupplierItem, Variant, Warehouse};
use crate::catalog::products::{self, ProductFields, ProductStatus, VariantFields};
use crate::catalog::suppliers::{self, SupplierFields, SupplierItemFields};
use crate::catalog::warehouses::{self, WarehouseFields};
use crate::domain::{Address, ProductId, SupplierId, VariantId, WarehouseId};
use crate::error::UserError;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::decode_id;
use crate::graphql::scalars::Amount;
use crate::tenancy::Permission;

#[derive(InputObject)]
pub struct VariantOptionInput {
    pub name: String,
    pub value: String,
}

#[derive(InputObject)]
pub struct VariantInput {
    pub sku: String,
    /// Decimal string in the tenant's currency, e.g. "19.99".
    pub price: Amount,
    pub cost: Option<Amount>,
    pub barcode: Option<String>,
    /// Defaults to the option values joined by " / ".
    pub title: Option<String>,
    pub options: Option<Vec<VariantOptionInput>>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
}

fn options(list: Option<Vec<VariantOptionInput>>) -> Option<Vec<(String, String)>> {
    list.map(|l| l.into_iter().map(|o| (o.name, o.value)).collect())
}

impl From<VariantInput> for VariantFields {
    fn from(v: VariantInput) -> Self {
        VariantFields {
            sku: Some(v.sku),
            price: Some(v.price.0),
            cost: v.cost.map(|c| c.0),
            barcode: v.barcode,
            title: v.title,
            options: options(v.options),
            weight_grams: v.weight_grams,
            length_mm: v.length_mm,
            width_mm: v.width_mm,
            height_mm: v.height_mm,
            channel_buffer: None,
        }
    }
}

#[derive(InputObject)]
pub struct CreateProductInput {
    pub title: String,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub status: Option<ProductStatus>,
    pub tags: Option<Vec<String>>,
    pub variants: Vec<VariantInput>,
}

#[derive(InputObject)]
pub struct UpdateProductInput {
    pub id: ID,
    pub title: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub status: Option<ProductStatus>,
    pub tags: Option<Vec<String>>,
}

#[derive(SimpleObject)]
pub struct ProductPayload {
    pub product: Option<Product>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateVariantInput {
    pub product_id: ID,
    pub variant: VariantInput,
}

/// Only the fields given change.
#[derive(InputObject)]
pub struct UpdateVariantInput {
    pub id: ID,
    pub sku: Option<String>,
    pub price: Option<Amount>,
    pub cost: Option<Amount>,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub options: Option<Vec<VariantOptionInput>>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    /// Units kept back from the sales channels' stock figure, instead of the tenant's
    /// `channelStockBuffer`; null goes back to the tenant's.
    pub channel_buffer: MaybeUndefined<i32>,
}

#[derive(SimpleObject)]
pub struct VariantPayload {
    pub variant: Option<Variant>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateWarehouseInput {
    pub code: String,
    pub name: String,
    pub address: Address,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub active: Option<bool>,
    pub daily_capacity: Option<i32>,
    pub current_workload: Option<i32>,
    /// IANA time zone (e.g. America/Chicago); carrier cut-off times are local to it.
    pub timezone: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWarehouseInput {
    pub id: ID,
    pub code: Option<String>,
    pub name: Option<String>,
    pub address: Option<Address>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub active: Option<bool>,
    pub daily_capacity: Option<i32>,
    pub current_workload: Option<i32>,
    /// IANA time zone (e.g. America/Chicago); carrier cut-off times are local to it.
    pub timezone: Option<String>,
}

#[derive(SimpleObject)]
pub struct WarehousePayload {
    pub warehouse: Option<Warehouse>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateSupplierInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateSupplierInput {
    pub id: ID,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: Option<i32>,
}

#[derive(SimpleObject)]
pub struct SupplierPayload {
    pub supplier: Option<Supplier>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct SetSupplierItemInput {
    pub supplier_id: ID,
    pub sku: String,
    pub supplier_sku: Option<String>,
    pub available_quantity: Option<i64>,
    /// Overrides the supplier's lead time for this item.
    pub lead_time_days: Option<i32>,
    pub minimum_order_quantity: Option<i32>,
    pub cost: Option<Amount>,
}

#[derive(SimpleObject)]
pub struct SupplierItemPayload {
    pub supplier_item: Option<SupplierItem>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Creates a product with its variants (at least one; SKUs unique in the tenant).
    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        let fields = ProductFields {
            title: Some(input.title),
            description: input.description,
            vendor: input.vendor,
            product_type: input.product_type,
            status: input.status,
            tags: input.tags,
        };
        let variants = input
            .variants
            .into_iter()
            .map(VariantFields::from)
            .collect();
        let outcome = products::create_product(state(ctx), principal(ctx)?, fields, variants).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(ProductPayload {
            product: value.map(|(p, _)| p.into()),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        input: UpdateProductInput,
    ) -> async_graphql::Result<ProductPayload> {
        let id = ProductId(decode_id(&input.id, "Product", "id")?);
        let fields = ProductFields {
            title: input.title,
            description: input.description,
            vendor: input.vendor,
            product_type: input.product_type,
            status: input.status,
            tags: input.tags,
        };
        let outcome = products::update_product(state(ctx), principal(ctx)?, id, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(ProductPayload {
            product: value.map(Product::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn create_variant(
        &self,
        ctx: &Context<'_>,
        input: CreateVariantInput,
    ) -> async_graphql::Result<VariantPayload> {
        let product = ProductId(decode_id(&input.product_id, "Product", "productId")?);
        let fields = VariantFields::from(input.variant);
        let outcome = products::create_variant(state(ctx), principal(ctx)?, product, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(VariantPayload {
            variant: value.map(Variant::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn update_variant(
        &self,
        ctx: &Context<'_>,
        input: UpdateVariantInput,
    ) -> async_graphql::Result<VariantPayload> {
        let id = VariantId(decode_id(&input.id, "Variant", "id")?);
        let fields = VariantFields {
            sku: input.sku,
            price: input.price.map(|p| p.0),
            cost: input.cost.map(|c| c.0),
            barcode: input.barcode,
            title: input.title,
            options: options(input.options),
            weight_grams: input.weight_grams,
            length_mm: input.length_mm,
            width_mm: input.width_mm,
            height_mm: input.height_mm,
            channel_buffer: match input.channel_buffer {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(n) => Some(Some(n)),
            },
        };
        let outcome = products::update_variant(state(ctx), principal(ctx)?, id, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(VariantPayload {
            variant: value.map(Variant::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn create_warehouse(
        &self,
        ctx: &Context<'_>,
        input: CreateWarehouseInput,
    ) -> async_graphql::Result<WarehousePayload> {
        let fields = WarehouseFields {
            code: Some(input.code),
            name: Some(input.name),
            address: Some(input.address),
            latitude: input.latitude,
            longitude: input.longitude,
            active: input.active,
            daily_capacity: input.daily_capacity,
            current_workload: input.current_workload,
            timezone: input.timezone,
        };
        let outcome = warehouses::create_warehouse(state(ctx), principal(ctx)?, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(WarehousePayload {
            warehouse: value.map(Warehouse::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn update_warehouse(
        &self,
        ctx: &Context<'_>,
        input: UpdateWarehouseInput,
    ) -> async_graphql::Result<WarehousePayload> {
        let id = WarehouseId(decode_id(&input.id, "Warehouse", "id")?);
        let fields = WarehouseFields {
            code: input.code,
            name: input.name,
            address: input.address,
            latitude: input.latitude,
            longitude: input.longitude,
            active: input.active,
            daily_capacity: input.daily_capacity,
            current_workload: input.current_workload,
            timezone: input.timezone,
        };
        let outcome = warehouses::update_warehouse(state(ctx), principal(ctx)?, id, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(WarehousePayload {
            warehouse: value.map(Warehouse::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn create_supplier(
        &self,
        ctx: &Context<'_>,
        input: CreateSupplierInput,
    ) -> async_graphql::Result<SupplierPayload> {
        let fields = SupplierFields {
            name: Some(input.name),
            email: input.email,
            phone: input.phone,
            lead_time_days: input.lead_time_days,
        };
        let outcome = suppliers::create_supplier(state(ctx), principal(ctx)?, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(SupplierPayload {
            supplier: value.map(Supplier::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn update_supplier(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupplierInput,
    ) -> async_graphql::Result<SupplierPayload> {
        let id = SupplierId(decode_id(&input.id, "Supplier", "id")?);
        let fields = SupplierFields {
            name: input.name,
            email: input.email,
            phone: input.phone,
            lead_time_days: input.lead_time_days,
        };
        let outcome = suppliers::update_supplier(state(ctx), principal(ctx)?, id, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(SupplierPayload {
            supplier: value.map(Supplier::from),
            user_errors,
        })
    }

    /// Records what a supplier can deliver of a SKU, replacing what was recorded before.
    #[graphql(guard = "Perm(Permission::CatalogManage)")]
    async fn set_supplier_item(
        &self,
        ctx: &Context<'_>,
        input: SetSupplierItemInput,
    ) -> async_graphql::Result<SupplierItemPayload> {
        let supplier = SupplierId(decode_id(&input.supplier_id, "Supplier", "supplierId")?);
        let fields = SupplierItemFields {
            supplier,
            sku: input.sku,
            supplier_sku: input.supplier_sku,
            available_quantity: input.available_quantity,
            lead_time_days: input.lead_time_days,
            minimum_order_quantity: input.minimum_order_quantity,
            cost: input.cost.map(|c| c.0),
        };
        let outcome = suppliers::set_supplier_item(state(ctx), principal(ctx)?, fields).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(SupplierItemPayload {
            supplier_item: value.map(|(item, sku, lead)| SupplierItem::new(item, sku, lead)),
            user_errors,
        })
    }
}
