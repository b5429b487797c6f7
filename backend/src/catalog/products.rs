//! Creating and changing products and variants, with every input checked and named.

use chrono::Utc;
use entity::{products, variants};
use sea_orm::ActiveValue::Set;

use super::product_repo::{self as repo, Product, Variant};
use crate::auth::service::publish_audit;
use crate::domain::money::{parse_price, to_units};
use crate::domain::{ProductId, Sku, VariantId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::{audit, tenants};
use crate::tenancy::{Permission, Principal, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "draft" => ProductStatus::Draft,
            "archived" => ProductStatus::Archived,
            _ => ProductStatus::Active,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct VariantFields {
    pub sku: Option<String>,
    /// Decimal strings, checked here so errors name the field.
    pub price: Option<String>,
    pub cost: Option<String>,
    pub barcode: Option<String>,
    pub title: Option<String>,
    pub options: Option<Vec<(String, String)>>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    /// Units kept back from the sales channels instead of the tenant's buffer (`Some(None)`
    /// clears it).
    pub channel_buffer: Option<Option<i32>>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductFields {
    pub title: Option<String>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub status: Option<ProductStatus>,
    pub tags: Option<Vec<String>>,
}

const MAX_VARIANTS: usize = 100;
const MAX_TITLE: usize = 255;
const MAX_TAG: usize = 40;

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_title(path: &[&str], title: &str) -> Result<String, UserError> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(UserError::at(
            path,
            C::Invalid,
            "must be 1 to 255 characters",
        ));
    }
    Ok(title.to_owned())
}

fn check_tags(tags: Vec<String>) -> Result<Vec<String>, UserError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.chars().count() > MAX_TAG {
            return Err(UserError::at(
                &["tags"],
                C::Invalid,
                "each tag must be 1 to 40 characters",
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// An error on `leaf` inside the input object at `path`.
fn err_at(path: &[&str], leaf: &str, code: C, message: &str) -> UserError {
    let mut full: Vec<&str> = path.to_vec();
    full.push(leaf);
    UserError::at(&full, code, message)
}

fn money_units(path: &[&str], leaf: &str, raw: &str) -> Result<i64, UserError> {
    parse_price(raw)
        .and_then(to_units)
        .map_err(|m| err_at(path, leaf, C::Invalid, m))
}

/// Applies checked variant fields onto `row`; `path` locates the variant in the input.
fn fill_variant(
    path: &[&str],
    row: &mut variants::ActiveModel,
    f: VariantFields,
) -> Result<(), UserError> {
    if let Some(sku) = f.sku {
        let sku = Sku::parse(&sku).map_err(|m| err_at(path, "sku", C::Invalid, m))?;
        row.sku = Set(sku.as_str().to_owned());
    }
    if let Some(price) = f.price {
        row.price_units = Set(money_units(path, "price", &price)?);
    }
    if let Some(cost) = f.cost {
        row.cost_units = Set(Some(money_units(path, "cost", &cost)?));
    }
    if let Some(barcode) = f.barcode {
        row.barcode = Set(text(Some(barcode)));
    }
    if let Some(options) = &f.options {
        if options
            .iter()
            .any(|(name, value)| name.trim().is_empty() || value.trim().is_empty())
        {
            return Err(err_at(
                path,
                "options",
                C::Invalid,
                "each option needs a name and a value",
            ));
        }
        let json: Vec<serde_json::Value> = options
            .iter()
            .map(|(n, v)| serde_json::json!({ "name": n.trim(), "value": v.trim() }))
            .collect();
        row.options = Set(serde_json::Value::Array(json));
    }
    if let Some(title) = text(f.title) {
        row.title = Set(title);
    } else if let Some(options) = &f.options
        && !options.is_empty()
    {
        row.title = Set(options
            .iter()
            .map(|(_, v)| v.trim())
            .collect::<Vec<_>>()
            .join(" / "));
    }
    for (leaf, value, slot) in [
        ("weightGrams", f.weight_grams, &mut row.weight_grams),
        ("lengthMm", f.length_mm, &mut row.length_mm),
        ("widthMm", f.width_mm, &mut row.width_mm),
        ("heightMm", f.height_mm, &mut row.height_mm),
    ] {
        match value {
            Some(n) if n < 0 => return Err(err_at(path, leaf, C::Invalid, "must not be negative")),
            Some(n) => *slot = Set(Some(n)),
            None => {}
        }
    }
    match f.channel_buffer {
        Some(Some(n)) if !(0..=1_000_000).contains(&n) => {
            return Err(err_at(
                path,
                "channelBuffer",
                C::Invalid,
                "must be from 0 to 1000000",
            ));
        }
        Some(buffer) => row.channel_buffer = Set(buffer),
        None => {}
    }
    Ok(())
}

async fn sku_taken(tx: &TenantTx, sku: &str, except: Option<VariantId>) -> Result<bool, AppError> {
    let Ok(sku) = Sku::parse(sku) else {
        return Ok(false);
    };
    Ok(repo::variant_by_sku(tx, &sku)
        .await?
        .is_some_and(|v| Some(VariantId(v.id)) != except))
}

fn new_variant_row(tx: &TenantTx, product: ProductId, currency: &str) -> variants::ActiveModel {
    let now = Utc::now();
    variants::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(VariantId::new().uuid()),
        product_id: Set(product.uuid()),
        sku: Set(String::new()),
        barcode: Set(None),
        title: Set("Default".to_owned()),
        options: Set(serde_json::json!([])),
        price_units: Set(0),
        cost_units: Set(None),
        currency: Set(currency.to_owned()),
        weight_grams: Set(None),
        length_mm: Set(None),
        width_mm: Set(None),
        height_mm: Set(None),
        hs_code: Set(None),
        origin_country: Set(None),
        channel_buffer: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Every variant needs a SKU and a price.
fn require_sku_and_price(index: usize, v: &VariantFields) -> Result<(), UserError> {
    let i = index.to_string();
    if v.sku.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(UserError::at(
            &["variants", &i, "sku"],
            C::Required,
            "is required",
        ));
    }
    if v.price.is_none() {
        return Err(UserError::at(
            &["variants", &i, "price"],
            C::Required,
            "is required",
        ));
    }
    Ok(())
}

pub async fn create_product(
    state: &AppState,
    principal: &Principal,
    fields: ProductFields,
    variants_in: Vec<VariantFields>,
) -> Outcome<(Product, Vec<Variant>)> {
    principal.require(Permission::CatalogManage)?;
    let title = check_title(&["title"], fields.title.as_deref().unwrap_or_default())?;
    if variants_in.is_empty() {
        return Err(UserError::at(
            &["variants"],
            C::Required,
            "a product needs at least one variant",
        )
        .into());
    }
    if variants_in.len() > MAX_VARIANTS {
        return Err(UserError::at(
            &["variants"],
            C::Invalid,
            "at most 100 variants per product",
        )
        .into());
    }
    let tags = check_tags(fields.tags.unwrap_or_default())?;
    let mut seen: Vec<String> = Vec::new();
    for (i, v) in variants_in.iter().enumerate() {
        require_sku_and_price(i, v)?;
        let sku = v.sku.as_deref().unwrap_or_default().trim().to_owned();
        if seen.contains(&sku) {
            return Err(UserError::at(
                &["variants", &i.to_string(), "sku"],
                C::Taken,
                format!("{sku} appears twice in this product"),
            )
            .into());
        }
        seen.push(sku);
    }

    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let currency = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.currency)
        .unwrap_or_else(|| "USD".into());
    let now = Utc::now();
    let id = ProductId::new();
    let product = repo::insert_product(
        &tx,
        products::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(id.uuid()),
            title: Set(title),
            description: Set(text(fields.description)),
            vendor: Set(text(fields.vendor)),
            product_type: Set(text(fields.product_type)),
            status: Set(fields
                .status
                .unwrap_or(ProductStatus::Active)
                .as_str()
                .to_owned()),
            tags: Set(serde_json::json!(tags)),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    let mut created = Vec::new();
    for (i, v) in variants_in.into_iter().enumerate() {
        let index = i.to_string();
        let path = ["variants", index.as_str()];
        if sku_taken(&tx, v.sku.as_deref().unwrap_or_default(), None).await? {
            return Err(UserError::at(
                &["variants", &index, "sku"],
                C::Taken,
                "is already used by another variant",
            )
            .into());
        }
        let mut row = new_variant_row(&tx, id, &currency);
        fill_variant(&path, &mut row, v)?;
        created.push(repo::insert_variant(&tx, row).await?);
    }
    let entry = audit::record(&tx, principal.actor, "product.created", &format!("product:{id}"), serde_json::json!({ "title": product.title, "skus": created.iter().map(|v| v.sku.clone()).collect::<Vec<_>>() })).await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok((product, created))
}

pub async fn update_product(
    state: &AppState,
    principal: &Principal,
    id: ProductId,
    fields: ProductFields,
) -> Outcome<Product> {
    principal.require(Permission::CatalogManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::product(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such product").into());
    };
    let mut row: products::ActiveModel = existing.into();
    if let Some(title) = fields.title {
        row.title = Set(check_title(&["title"], &title)?);
    }
    if let Some(d) = fields.description {
        row.description = Set(text(Some(d)));
    }
    if let Some(v) = fields.vendor {
        row.vendor = Set(text(Some(v)));
    }
    if let Some(t) = fields.product_type {
        row.product_type = Set(text(Some(t)));
    }
    if let Some(status) = fields.status {
        row.status = Set(status.as_str().to_owned());
    }
    if let Some(tags) = fields.tags {
        row.tags = Set(serde_json::json!(check_tags(tags)?));
    }
    let product = repo::update_product(&tx, row).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "product.updated",
        &format!("product:{id}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(product)
}

pub async fn create_variant(
    state: &AppState,
    principal: &Principal,
    product: ProductId,
    fields: VariantFields,
) -> Outcome<Variant> {
    principal.require(Permission::CatalogManage)?;
    if fields.sku.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(UserError::at(&["sku"], C::Required, "is required").into());
    }
    if fields.price.is_none() {
        return Err(UserError::at(&["price"], C::Required, "is required").into());
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if repo::product(&tx, product).await?.is_none() {
        return Err(UserError::on("productId", C::NotFound, "no such product").into());
    }
    if sku_taken(&tx, fields.sku.as_deref().unwrap_or_default(), None).await? {
        return Err(UserError::on("sku", C::Taken, "is already used by another variant").into());
    }
    let currency = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.currency)
        .unwrap_or_else(|| "USD".into());
    let mut row = new_variant_row(&tx, product, &currency);
    fill_variant(&[], &mut row, fields)?;
    let variant = repo::insert_variant(&tx, row).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "variant.created",
        &format!("variant:{}", variant.id),
        serde_json::json!({ "sku": variant.sku }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(variant)
}

pub async fn update_variant(
    state: &AppState,
    principal: &Principal,
    id: VariantId,
    fields: VariantFields,
) -> Outcome<Variant> {
    principal.require(Permission::CatalogManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::variant(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such variant").into());
    };
    if let Some(sku) = &fields.sku
        && sku_taken(&tx, sku, Some(id)).await?
    {
        return Err(UserError::on("sku", C::Taken, "is already used by another variant").into());
    }
    let before = (existing.sku.clone(), existing.price_units);
    let buffer = existing.channel_buffer;
    let mut row: variants::ActiveModel = existing.into();
    fill_variant(&[], &mut row, fields)?;
    let variant = repo::update_variant(&tx, row).await?;
    if variant.channel_buffer != buffer {
        // The channels' figure for it moves with its buffer.
        crate::catalog::listing_marks::mark(&tx, id).await?;
    }
    let entry = audit::record(&tx, principal.actor, "variant.updated", &format!("variant:{id}"), serde_json::json!({ "sku": { "from": before.0, "to": variant.sku }, "priceUnits": { "from": before.1, "to": variant.price_units } })).await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(variant)
}
