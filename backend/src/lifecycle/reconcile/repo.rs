//! Reconciliation runs and their items, tenant-scoped.

use entity::{reconciliation_items, reconciliation_runs};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::tenancy::{AnyTx, TenantTx};

pub use reconciliation_items::Model as Item;
pub use reconciliation_runs::Model as Run;

pub const MATCHED: &str = "matched";
pub const DISCREPANCY: &str = "discrepancy";
pub const DUPLICATE: &str = "duplicate";

pub async fn insert_run(tx: &TenantTx, run: Run) -> Result<Run, DbErr> {
    reconciliation_runs::ActiveModel::from(run)
        .reset_all()
        .insert(tx.conn())
        .await
}

pub async fn insert_items(tx: &TenantTx, items: Vec<Item>) -> Result<(), DbErr> {
    for chunk in items.chunks(500) {
        reconciliation_items::Entity::insert_many(
            chunk
                .iter()
                .cloned()
                .map(|i| reconciliation_items::ActiveModel::from(i).reset_all()),
        )
        .exec_without_returning(tx.conn())
        .await?;
    }
    Ok(())
}

pub async fn update_item(
    tx: &TenantTx,
    item: reconciliation_items::ActiveModel,
) -> Result<Item, DbErr> {
    item.update(tx.conn()).await
}

pub async fn run(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Run>, DbErr> {
    reconciliation_runs::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn runs(tx: &TenantTx, after: Option<uuid::Uuid>, limit: u64) -> Result<Vec<Run>, DbErr> {
    let mut q = reconciliation_runs::Entity::find()
        .filter(reconciliation_runs::Column::TenantId.eq(tx.tenant().uuid()));
    if let Some(a) = after {
        q = q.filter(reconciliation_runs::Column::Id.lt(a));
    }
    q.order_by_desc(reconciliation_runs::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

pub async fn item_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Item>, DbErr> {
    reconciliation_items::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn items_of(tx: &TenantTx, run: uuid::Uuid) -> Result<Vec<Item>, DbErr> {
    reconciliation_items::Entity::find()
        .filter(reconciliation_items::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(reconciliation_items::Column::RunId.eq(run))
        .order_by_asc(reconciliation_items::Column::LineNo)
        .order_by_asc(reconciliation_items::Column::Id)
        .all(tx.conn())
        .await
}

/// Discrepancies, newest first; open ones only unless `all`.
pub async fn discrepancies(
    tx: &TenantTx,
    all: bool,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Item>, DbErr> {
    use reconciliation_items::Column as C;
    let mut q = reconciliation_items::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Status.eq(DISCREPANCY));
    if !all {
        q = q.filter(C::Resolution.is_null());
    }
    if let Some(a) = after {
        q = q.filter(C::Id.lt(a));
    }
    q.order_by_desc(C::Id).limit(limit).all(tx.conn()).await
}

/// Items already imported for these processor transaction ids (not counting duplicates).
pub async fn imported(tx: &TenantTx, ids: &[String]) -> Result<Vec<Item>, DbErr> {
    use reconciliation_items::Column as C;
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            reconciliation_items::Entity::find()
                .filter(C::TenantId.eq(tx.tenant().uuid()))
                .filter(C::TransactionId.is_in(chunk.iter().cloned()))
                .filter(C::Status.ne(DUPLICATE))
                .all(tx.conn())
                .await?,
        );
    }
    Ok(out)
}

/// The refunds already matched by earlier lines.
pub async fn matched_refunds(
    tx: &TenantTx,
    refunds: &[uuid::Uuid],
) -> Result<Vec<uuid::Uuid>, DbErr> {
    use reconciliation_items::Column as C;
    if refunds.is_empty() {
        return Ok(Vec::new());
    }
    reconciliation_items::Entity::find()
        .select_only()
        .column(C::RefundId)
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::RefundId.is_in(refunds.iter().copied()))
        // Any line that named the refund has used it, matched or not.
        .filter(C::Status.ne(DUPLICATE))
        .into_tuple::<Option<uuid::Uuid>>()
        .all(tx.conn())
        .await
        .map(|v| v.into_iter().flatten().collect())
}
