//! API types of the catalog, built from repository records.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::catalog::product_repo::{Product as ProductRecord, Variant as VariantRecord};
use crate::catalog::products::ProductStatus;
use crate::catalog::supplier_repo::{Supplier as SupplierRecord, SupplierItem as ItemRecord};
use crate::catalog::warehouse_repo::Warehouse as WarehouseRecord;
use crate::domain::money::amount_from_units;
use crate::domain::{Address, ProductId, SupplierId, TenantId, VariantId};
use crate::graphql::extend::Extended;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::global_id;
use crate::graphql::scalars::Amount;

#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Product {
    pub id: ID,
    pub title: String,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub status: ProductStatus,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: (TenantId, ProductId),
}

impl From<ProductRecord> for Product {
    fn from(p: ProductRecord) -> Self {
        Self {
            id: global_id("Product", p.id),
            title: p.title,
            description: p.description,
            vendor: p.vendor,
            product_type: p.product_type,
            status: ProductStatus::parse(&p.status),
            tags: serde_json::from_value(p.tags).unwrap_or_default(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            key: (TenantId(p.tenant_id), ProductId(p.id)),
        }
    }
}

#[ComplexObject]
impl Product {
    /// Variants in creation order.
    async fn variants(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Variant>> {
        let rows = ctx.data_unchecked::<Loaders>().load_one(self.key).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Variant::from)
            .collect())
    }
}

/// One option of a variant, e.g. Size = M.
#[derive(Clone, Debug, SimpleObject, serde::Deserialize)]
pub struct VariantOption {
    pub name: String,
    pub value: String,
}

/// A sellable item: what orders, stock and suppliers refer to by SKU; inventory adds its
/// stock (a part, see `schema::parts`).
pub type Variant = Extended<VariantFields>;

/// What the catalog knows of a variant.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(name = "VariantFields")]
pub struct VariantFields {
    pub id: ID,
    pub product_id: ID,
    /// Unique within the tenant.
    pub sku: String,
    pub barcode: Option<String>,
    pub title: String,
    pub options: Vec<VariantOption>,
    pub price: Amount,
    pub cost: Option<Amount>,
    /// The tenant's currency, in which price and cost are given.
    pub currency: String,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    /// Units kept back from the sales channels (none: the tenant's buffer applies).
    pub channel_buffer: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: (TenantId, VariantId),
}

impl From<VariantRecord> for Variant {
    fn from(v: VariantRecord) -> Self {
        Extended::new(VariantFields::from(v))
    }
}

impl From<VariantRecord> for VariantFields {
    fn from(v: VariantRecord) -> Self {
        Self {
            id: global_id("Variant", v.id),
            product_id: global_id("Product", v.product_id),
            price: amount_from_units(v.price_units, &v.currency).into(),
            cost: v
                .cost_units
                .map(|c| amount_from_units(c, &v.currency).into()),
            options: serde_json::from_value(v.options).unwrap_or_default(),
            sku: v.sku,
            barcode: v.barcode,
            title: v.title,
            currency: v.currency,
            weight_grams: v.weight_grams,
            length_mm: v.length_mm,
            width_mm: v.width_mm,
            height_mm: v.height_mm,
            channel_buffer: v.channel_buffer,
            created_at: v.created_at,
            updated_at: v.updated_at,
            key: (TenantId(v.tenant_id), VariantId(v.id)),
        }
    }
}

/// A place stock is kept and orders ship from.
#[derive(Clone, Debug, SimpleObject)]
pub struct Warehouse {
    pub id: ID,
    /// Short code, unique within the tenant, e.g. "EU-1".
    pub code: String,
    pub name: String,
    pub address: Address,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Inactive warehouses keep their stock but are not routed to.
    pub active: bool,
    /// Orders a day it can ship.
    pub daily_capacity: i32,
    /// Orders it is working on now.
    pub current_workload: i32,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WarehouseRecord> for Warehouse {
    fn from(w: WarehouseRecord) -> Self {
        Self {
            id: global_id("Warehouse", w.id),
            code: w.code,
            name: w.name,
            address: serde_json::from_value(w.address).unwrap_or_default(),
            latitude: w.latitude,
            longitude: w.longitude,
            active: w.active,
            daily_capacity: w.daily_capacity,
            current_workload: w.current_workload,
            timezone: w.timezone.clone(),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Supplier {
    pub id: ID,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Days from order to delivery, unless an item says otherwise.
    pub lead_time_days: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: (TenantId, SupplierId),
}

impl From<SupplierRecord> for Supplier {
    fn from(s: SupplierRecord) -> Self {
        Self {
            id: global_id("Supplier", s.id),
            name: s.name,
            email: s.email,
            phone: s.phone,
            lead_time_days: s.lead_time_days,
            created_at: s.created_at,
            updated_at: s.updated_at,
            key: (TenantId(s.tenant_id), SupplierId(s.id)),
        }
    }
}

#[ComplexObject]
impl Supplier {
    /// What this supplier can deliver, per variant.
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupplierItem>> {
        let loaders = ctx.data_unchecked::<Loaders>();
        let items = loaders.load_one(self.key).await?.unwrap_or_default();
        let tenant = self.key.0;
        let keys: Vec<_> = items
            .iter()
            .map(|i| (tenant, VariantId(i.variant_id)))
            .collect();
        let variants = loaders.load_many(keys).await?;
        Ok(items
            .into_iter()
            .map(|item| {
                let sku = variants
                    .get(&(tenant, VariantId(item.variant_id)))
                    .map(|v| v.sku.clone())
                    .unwrap_or_default();
                SupplierItem::new(item, sku, self.lead_time_days)
            })
            .collect())
    }
}

/// What a supplier can deliver of one variant.
#[derive(Clone, Debug, SimpleObject)]
pub struct SupplierItem {
    pub supplier_id: ID,
    pub variant_id: ID,
    pub sku: String,
    /// The supplier's own code for it.
    pub supplier_sku: Option<String>,
    /// Units the supplier has said it can deliver; null when unknown.
    pub available_quantity: Option<i64>,
    /// The item's lead time, or the supplier's when the item has none.
    pub lead_time_days: i32,
    pub minimum_order_quantity: i32,
    pub cost: Option<Amount>,
    pub currency: String,
    pub updated_at: DateTime<Utc>,
}

impl SupplierItem {
    pub fn new(item: ItemRecord, sku: String, supplier_lead_time: i32) -> Self {
        Self {
            supplier_id: global_id("Supplier", item.supplier_id),
            variant_id: global_id("Variant", item.variant_id),
            sku,
            supplier_sku: item.supplier_sku,
            available_quantity: item.available_quantity,
            lead_time_days: item.lead_time_days.unwrap_or(supplier_lead_time),
            minimum_order_quantity: item.minimum_order_quantity,
            cost: item
                .cost_units
                .map(|c| amount_from_units(c, &item.currency).into()),
            currency: item.currency,
            updated_at: item.updated_at,
        }
    }
}
