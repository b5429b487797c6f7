//! Creating and changing warehouses.

use chrono::Utc;
use entity::warehouses;
use sea_orm::ActiveValue::Set;

use super::warehouse_repo::{self as repo, Warehouse};
use crate::auth::service::publish_audit;
use crate::domain::WarehouseId;
use crate::domain::address::{Address, normalise};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::audit;
use crate::tenancy::{Permission, Principal, TenantTx};

#[derive(Clone, Debug, Default)]
pub struct WarehouseFields {
    pub code: Option<String>,
    pub name: Option<String>,
    pub address: Option<Address>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub active: Option<bool>,
    pub daily_capacity: Option<i32>,
    pub current_workload: Option<i32>,
    pub timezone: Option<String>,
}

/// Checks the given fields onto `row`.
fn fill(row: &mut warehouses::ActiveModel, f: WarehouseFields) -> Result<(), UserError> {
    if let Some(code) = f.code {
        let code = code.trim().to_ascii_uppercase();
        if code.is_empty()
            || code.len() > 20
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(UserError::on(
                "code",
                C::Invalid,
                "must be 1 to 20 letters, digits, - or _",
            ));
        }
        row.code = Set(code);
    }
    if let Some(name) = f.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(UserError::on(
                "name",
                C::Invalid,
                "must be 1 to 100 characters",
            ));
        }
        row.name = Set(name.to_owned());
    }
    if let Some(address) = f.address {
        let address = normalise(address)
            .map_err(|(part, m)| UserError::at(&["address", part], C::Invalid, m))?;
        row.address = Set(serde_json::to_value(address).unwrap_or_default());
    }
    if let Some(lat) = f.latitude {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(UserError::on(
                "latitude",
                C::Invalid,
                "must be between -90 and 90",
            ));
        }
        row.latitude = Set(Some(lat));
    }
    if let Some(lon) = f.longitude {
        if !(-180.0..=180.0).contains(&lon) {
            return Err(UserError::on(
                "longitude",
                C::Invalid,
                "must be between -180 and 180",
            ));
        }
        row.longitude = Set(Some(lon));
    }
    if let Some(tz) = f.timezone {
        let tz = tz.trim();
        if tz.parse::<chrono_tz::Tz>().is_err() {
            return Err(UserError::on(
                "timezone",
                C::Invalid,
                "must be an IANA time zone such as America/Chicago or Europe/Berlin",
            ));
        }
        row.timezone = Set(tz.to_owned());
    }
    if let Some(active) = f.active {
        row.active = Set(active);
    }
    for (field, value, slot) in [
        ("dailyCapacity", f.daily_capacity, &mut row.daily_capacity),
        (
            "currentWorkload",
            f.current_workload,
            &mut row.current_workload,
        ),
    ] {
        match value {
            Some(n) if n < 0 => {
                return Err(UserError::on(field, C::Invalid, "must not be negative"));
            }
            Some(n) => *slot = Set(n),
            None => {}
        }
    }
    Ok(())
}

async fn code_taken(
    tx: &TenantTx,
    code: &str,
    except: Option<WarehouseId>,
) -> Result<bool, sea_orm::DbErr> {
    let code = code.trim().to_ascii_uppercase();
    Ok(repo::by_code(tx, &code)
        .await?
        .is_some_and(|w| Some(WarehouseId(w.id)) != except))
}

pub async fn create_warehouse(
    state: &AppState,
    principal: &Principal,
    fields: WarehouseFields,
) -> Outcome<Warehouse> {
    principal.require(Permission::CatalogManage)?;
    if fields.code.is_none() {
        return Err(UserError::on("code", C::Required, "is required").into());
    }
    if fields.name.is_none() {
        return Err(UserError::on("name", C::Required, "is required").into());
    }
    if fields.address.is_none() {
        return Err(UserError::on("address", C::Required, "is required").into());
    }
    let now = Utc::now();
    let id = WarehouseId::new();
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if code_taken(&tx, fields.code.as_deref().unwrap_or_default(), None).await? {
        return Err(UserError::on("code", C::Taken, "another warehouse has this code").into());
    }
    let mut row = warehouses::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id.uuid()),
        code: Set(String::new()),
        name: Set(String::new()),
        address: Set(serde_json::json!({})),
        latitude: Set(None),
        longitude: Set(None),
        active: Set(true),
        daily_capacity: Set(0),
        current_workload: Set(0),
        timezone: Set("UTC".into()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    fill(&mut row, fields)?;
    let warehouse = repo::insert(&tx, row).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "warehouse.created",
        &format!("warehouse:{id}"),
        serde_json::json!({ "code": warehouse.code }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(warehouse)
}

pub async fn update_warehouse(
    state: &AppState,
    principal: &Principal,
    id: WarehouseId,
    fields: WarehouseFields,
) -> Outcome<Warehouse> {
    principal.require(Permission::CatalogManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::get(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such warehouse").into());
    };
    if let Some(code) = &fields.code
        && code_taken(&tx, code, Some(id)).await?
    {
        return Err(UserError::on("code", C::Taken, "another warehouse has this code").into());
    }
    let was_active = existing.active;
    let mut row: warehouses::ActiveModel = existing.into();
    fill(&mut row, fields)?;
    let warehouse = repo::update(&tx, row).await?;
    if warehouse.active != was_active {
        // Its stock now sells on the channels, or no longer does.
        crate::catalog::listing_marks::mark_all(&tx, None).await?;
    }
    let entry = audit::record(
        &tx,
        principal.actor,
        "warehouse.updated",
        &format!("warehouse:{id}"),
        serde_json::json!({ "active": warehouse.active }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(warehouse)
}
