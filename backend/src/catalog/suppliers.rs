//! Suppliers, and what each can deliver of which variant.

use chrono::Utc;
use entity::{supplier_items, suppliers};
use sea_orm::ActiveValue::Set;

use super::product_repo;
use super::supplier_repo::{self as repo, Supplier, SupplierItem};
use crate::auth::service::publish_audit;
use crate::domain::money::{parse_price, to_units};
use crate::domain::{Email, Sku, SupplierId, VariantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::{audit, tenants};
use crate::tenancy::{Permission, Principal, TenantTx};

#[derive(Clone, Debug, Default)]
pub struct SupplierFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: Option<i32>,
}

fn fill(row: &mut suppliers::ActiveModel, f: SupplierFields) -> Result<(), UserError> {
    if let Some(name) = f.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(UserError::on(
                "name",
                C::Invalid,
                "must be 1 to 200 characters",
            ));
        }
        row.name = Set(name.to_owned());
    }
    if let Some(email) = f.email {
        let email = if email.trim().is_empty() {
            None
        } else {
            Some(
                Email::parse(&email)
                    .map_err(|m| UserError::on("email", C::InvalidEmail, m))?
                    .to_string(),
            )
        };
        row.email = Set(email);
    }
    if let Some(phone) = f.phone {
        row.phone = Set(Some(phone.trim().to_owned()).filter(|p| !p.is_empty()));
    }
    if let Some(days) = f.lead_time_days {
        if !(0..=365).contains(&days) {
            return Err(UserError::on(
                "leadTimeDays",
                C::Invalid,
                "must be 0 to 365 days",
            ));
        }
        row.lead_time_days = Set(days);
    }
    Ok(())
}

pub async fn create_supplier(
    state: &AppState,
    principal: &Principal,
    fields: SupplierFields,
) -> Outcome<Supplier> {
    principal.require(Permission::CatalogManage)?;
    if fields.name.is_none() {
        return Err(UserError::on("name", C::Required, "is required").into());
    }
    let now = Utc::now();
    let id = SupplierId::new();
    let mut row = suppliers::ActiveModel {
        tenant_id: Set(principal.tenant.uuid()),
        id: Set(id.uuid()),
        name: Set(String::new()),
        email: Set(None),
        phone: Set(None),
        lead_time_days: Set(7),
        created_at: Set(now),
        updated_at: Set(now),
    };
    fill(&mut row, fields)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let supplier = repo::insert(&tx, row).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "supplier.created",
        &format!("supplier:{id}"),
        serde_json::json!({ "name": supplier.name }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(supplier)
}

pub async fn update_supplier(
    state: &AppState,
    principal: &Principal,
    id: SupplierId,
    fields: SupplierFields,
) -> Outcome<Supplier> {
    principal.require(Permission::CatalogManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::get(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such supplier").into());
    };
    let mut row: suppliers::ActiveModel = existing.into();
    fill(&mut row, fields)?;
    let supplier = repo::update(&tx, row).await?;
    tx.commit().await?;
    Ok(supplier)
}

pub struct SupplierItemFields {
    pub supplier: SupplierId,
    pub sku: String,
    pub supplier_sku: Option<String>,
    pub available_quantity: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub minimum_order_quantity: Option<i32>,
    /// A decimal string.
    pub cost: Option<String>,
}

/// Records what a supplier can deliver of a variant (replacing what was recorded before).
/// Returns the item with its variant's SKU and the supplier's default lead time.
pub async fn set_supplier_item(
    state: &AppState,
    principal: &Principal,
    f: SupplierItemFields,
) -> Outcome<(SupplierItem, String, i32)> {
    principal.require(Permission::CatalogManage)?;
    let sku = Sku::parse(&f.sku).map_err(|m| UserError::on("sku", C::Invalid, m))?;
    if f.available_quantity.is_some_and(|q| q < 0) {
        return Err(UserError::on("availableQuantity", C::Invalid, "must not be negative").into());
    }
    if f.lead_time_days.is_some_and(|d| !(0..=365).contains(&d)) {
        return Err(UserError::on("leadTimeDays", C::Invalid, "must be 0 to 365 days").into());
    }
    let moq = f.minimum_order_quantity.unwrap_or(1);
    if moq < 1 {
        return Err(UserError::on("minimumOrderQuantity", C::Invalid, "must be at least 1").into());
    }
    let cost = f
        .cost
        .as_deref()
        .map(|c| parse_price(c).and_then(to_units))
        .transpose()
        .map_err(|m| UserError::on("cost", C::Invalid, m))?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(supplier) = repo::get(&tx, f.supplier).await? else {
        return Err(UserError::on("supplierId", C::NotFound, "no such supplier").into());
    };
    let Some(variant) = product_repo::variant_by_sku(&tx, &sku).await? else {
        return Err(UserError::on("sku", C::NotFound, format!("no variant has SKU {sku}")).into());
    };
    let currency = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.currency)
        .unwrap_or_else(|| "USD".into());
    let item = repo::upsert_item(
        &tx,
        supplier_items::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            supplier_id: Set(f.supplier.uuid()),
            variant_id: Set(VariantId(variant.id).uuid()),
            supplier_sku: Set(f
                .supplier_sku
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())),
            available_quantity: Set(f.available_quantity),
            lead_time_days: Set(f.lead_time_days),
            minimum_order_quantity: Set(moq),
            cost_units: Set(cost),
            currency: Set(currency),
            updated_at: Set(Utc::now()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((item, variant.sku, supplier.lead_time_days))
}
