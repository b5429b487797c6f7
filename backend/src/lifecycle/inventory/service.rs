//! Moving stock: the one function every stage uses ([`move_stock`]), and the staff actions
//! built on it (receive, adjust, set a bin).

use super::decide::{self, InventoryError, Level, MovementKind};
use super::repo::{self, Movement, StockLevel};
use crate::catalog::{product_repo, warehouse_repo};
use crate::domain::{Sku, VariantId, WarehouseId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::lifecycle::transition::wake;
use crate::state::AppState;
use crate::tenancy::{Actor, Permission, Principal, TenantTx};

/// Why a movement did not happen.
#[derive(Debug)]
pub enum MoveError {
    Rule(InventoryError),
    Db(sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for MoveError {
    fn from(err: sea_orm::DbErr) -> Self {
        MoveError::Db(err)
    }
}

/// One movement of stock, as asked for.
#[derive(Clone, Copy, Debug)]
pub struct Move<'a> {
    pub variant: VariantId,
    pub warehouse: WarehouseId,
    pub kind: MovementKind,
    /// Units; signed only for adjustments.
    pub quantity: i64,
    pub reason: Option<&'a str>,
    /// What caused it: an order, a purchase order, a return.
    pub reference: Option<&'a str>,
}

/// Applies a movement inside `tx` and records it in the ledger. Safe under concurrency: the
/// level changes only if the rule still holds at the moment of the update.
pub async fn move_stock(
    tx: &TenantTx,
    actor: Actor,
    m: Move<'_>,
) -> Result<(Level, Movement), MoveError> {
    let Move {
        variant,
        warehouse,
        kind,
        quantity,
        reason,
        reference,
    } = m;
    let delta = decide::plan(kind, quantity, reason).map_err(MoveError::Rule)?;
    let Some(after) = repo::try_apply(tx, variant, warehouse, delta).await? else {
        // Refused: say why, from the level as it is now.
        let now = repo::level(tx, variant, warehouse)
            .await?
            .map(|l| l.level)
            .unwrap_or_default();
        let err = decide::apply(now, delta)
            .err()
            .unwrap_or(InventoryError::NotEnoughAvailable {
                available: now.available(),
                requested: quantity,
            });
        return Err(MoveError::Rule(err));
    };
    if delta.on_hand - delta.reserved > 0 {
        // More is available now: backordered orders may be filled.
        wake::schedule_restock(tx).await?;
    }
    let movement = repo::record(
        tx,
        repo::NewMovement {
            variant,
            warehouse,
            kind,
            delta,
            after,
            reason,
            reference,
            actor,
        },
    )
    .await?;
    Ok((after, movement))
}

fn rule_error(err: InventoryError) -> UserError {
    match err {
        InventoryError::ReasonRequired => UserError::on("reason", C::Required, err.to_string()),
        InventoryError::BadQuantity(_) => UserError::on("delta", C::Invalid, err.to_string()),
        other => UserError::on("delta", C::InsufficientStock, other.to_string()),
    }
}

/// Resolves the SKU and warehouse of a staff action, naming the field that does not exist.
async fn locate(tx: &TenantTx, sku: &str, warehouse: WarehouseId) -> Outcome<(VariantId, String)> {
    let sku = Sku::parse(sku).map_err(|m| UserError::on("sku", C::Invalid, m))?;
    let Some(variant) = product_repo::variant_by_sku(tx, &sku).await? else {
        return Err(UserError::on("sku", C::NotFound, format!("no variant has SKU {sku}")).into());
    };
    if warehouse_repo::get(tx, warehouse).await?.is_none() {
        return Err(UserError::on("warehouseId", C::NotFound, "no such warehouse").into());
    }
    Ok((VariantId(variant.id), variant.sku))
}

pub struct StockChange {
    pub sku: String,
    pub warehouse: WarehouseId,
    pub quantity: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
}

/// A stock count: on hand is adjusted to `counted` with one adjustment, computed and applied
/// in one transaction with the level locked, so a receipt at the same moment is not lost.
/// Returns whether anything changed.
pub async fn count_stock(
    state: &AppState,
    principal: &Principal,
    sku: &str,
    warehouse: WarehouseId,
    counted: i64,
    reason: Option<&str>,
) -> Outcome<bool> {
    principal.require(Permission::InventoryManage)?;
    if counted < 0 {
        return Err(UserError::on("quantity", C::Invalid, "a count cannot be negative").into());
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let (variant, _) = locate(&tx, sku, warehouse).await?;
    let on_hand = repo::level_for_update(&tx, variant, warehouse)
        .await?
        .map(|l| l.level.on_hand)
        .unwrap_or(0);
    let delta = counted - on_hand;
    if delta == 0 {
        tx.commit().await?;
        return Ok(false);
    }
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .or(Some("stock count"));
    let request = Move {
        variant,
        warehouse,
        kind: MovementKind::Adjustment,
        quantity: delta,
        reason,
        reference: None,
    };
    match move_stock(&tx, principal.actor, request).await {
        Ok(_) => {}
        Err(MoveError::Rule(err)) => {
            let mut user = rule_error(err);
            user.field = vec!["input".into(), "quantity".into()];
            return Err(user.into());
        }
        Err(MoveError::Db(err)) => return Err(err.into()),
    }
    tx.commit().await?;
    Ok(true)
}

/// A staff receipt (`Receipt`) or correction (`Adjustment`): the new level, the SKU as stored,
/// and the ledger line.
pub async fn change_stock(
    state: &AppState,
    principal: &Principal,
    kind: MovementKind,
    change: StockChange,
) -> Outcome<(StockLevel, String, Movement)> {
    principal.require(Permission::InventoryManage)?;
    let reason = change
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let reference = change
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let (variant, sku) = locate(&tx, &change.sku, change.warehouse).await?;
    let request = Move {
        variant,
        warehouse: change.warehouse,
        kind,
        quantity: change.quantity,
        reason,
        reference,
    };
    let (_, movement) = match move_stock(&tx, principal.actor, request).await {
        Ok(done) => done,
        Err(MoveError::Rule(err)) => {
            let mut user = rule_error(err);
            if kind == MovementKind::Receipt && user.field.last().is_some_and(|f| f == "delta") {
                user.field = vec!["input".into(), "quantity".into()];
            }
            return Err(user.into());
        }
        Err(MoveError::Db(err)) => return Err(err.into()),
    };
    let level = repo::level(&tx, variant, change.warehouse)
        .await?
        .ok_or(AppError::NotFound("stock level"))?;
    tx.commit().await?;
    tracing::info!(tenant.id = %principal.tenant, sku = %sku, kind = kind.as_str(), quantity = change.quantity, "stock changed");
    Ok((level, sku, movement))
}

pub async fn set_bin_location(
    state: &AppState,
    principal: &Principal,
    sku: &str,
    warehouse: WarehouseId,
    bin: Option<String>,
) -> Outcome<(StockLevel, String)> {
    principal.require(Permission::InventoryManage)?;
    let bin = bin.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
    if bin.as_ref().is_some_and(|b| b.chars().count() > 40) {
        return Err(
            UserError::on("binLocation", C::Invalid, "must be at most 40 characters").into(),
        );
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let (variant, sku) = locate(&tx, sku, warehouse).await?;
    repo::set_bin(&tx, variant, warehouse, bin).await?;
    let level = repo::level(&tx, variant, warehouse)
        .await?
        .ok_or(AppError::NotFound("stock level"))?;
    tx.commit().await?;
    Ok((level, sku))
}
