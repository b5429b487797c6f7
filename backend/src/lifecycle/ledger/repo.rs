//! Journal entries and their lines, tenant-scoped and append-only (the database refuses
//! updates and deletes of both).

use chrono::{DateTime, Utc};
use entity::{ledger_entries, ledger_lines};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::book::{Account, Entry, Line};
use crate::domain::OrderId;
use crate::tenancy::{Actor, AnyTx, TenantTx};

pub use ledger_entries::Model as EntryRow;
pub use ledger_lines::Model as LineRow;

/// What an entry records money for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Order,
    Shipment,
    Return,
    Refund,
    Payout,
    Reconciliation,
    /// A correction: the entry reversed.
    Entry,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Order => "order",
            SourceKind::Shipment => "shipment",
            SourceKind::Return => "return",
            SourceKind::Refund => "refund",
            SourceKind::Payout => "payout",
            SourceKind::Reconciliation => "reconciliation",
            SourceKind::Entry => "entry",
        }
    }
}

/// A balanced entry ready to store.
pub struct NewEntry {
    pub kind: &'static str,
    pub entry: Entry,
    pub source: (SourceKind, uuid::Uuid),
    pub order: Option<OrderId>,
    pub reverses: Option<uuid::Uuid>,
    /// Posting twice under one key stores the entry once.
    pub dedupe_key: String,
    pub effective_at: DateTime<Utc>,
    pub actor: Actor,
}

/// Stores the entries whose keys are new; returns the ones stored.
pub async fn insert(tx: &TenantTx, entries: Vec<NewEntry>) -> Result<Vec<EntryRow>, DbErr> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // In chunks: a large import must stay under the databases' bound-parameter limits.
    let keys: Vec<&str> = entries.iter().map(|e| e.dedupe_key.as_str()).collect();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<String> = ledger_entries::Entity::find()
            .select_only()
            .column(ledger_entries::Column::DedupeKey)
            .filter(ledger_entries::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(ledger_entries::Column::DedupeKey.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        taken.extend(found);
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in entries {
        if taken.contains(&e.dedupe_key) || !seen.insert(e.dedupe_key.clone()) {
            continue;
        }
        if !e.entry.is_balanced() {
            return Err(DbErr::Custom(format!(
                "refusing an unbalanced ledger entry: {}",
                e.entry.memo
            )));
        }
        let id = uuid::Uuid::now_v7();
        for (i, l) in e.entry.lines.iter().enumerate() {
            lines.push(ledger_lines::ActiveModel {
                tenant_id: Set(tx.tenant().uuid()),
                entry_id: Set(id),
                line_no: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                account: Set(l.account.as_str().to_owned()),
                debit_units: Set(l.debit),
                credit_units: Set(l.credit),
                currency: Set(e.entry.currency.clone()),
                effective_at: Set(e.effective_at),
            });
        }
        rows.push(EntryRow {
            tenant_id: tx.tenant().uuid(),
            id,
            kind: e.kind.to_owned(),
            currency: e.entry.currency,
            memo: e.entry.memo,
            source_kind: e.source.0.as_str().to_owned(),
            source_id: e.source.1,
            order_id: e.order.map(|o| o.uuid()),
            reverses_id: e.reverses,
            dedupe_key: e.dedupe_key,
            effective_at: e.effective_at,
            actor_kind: e.actor.kind().to_owned(),
            actor_id: e.actor.id(),
            created_at: now,
        });
    }
    if rows.is_empty() {
        return Ok(rows);
    }
    ledger_entries::Entity::insert_many(
        rows.iter().cloned().map(ledger_entries::ActiveModel::from),
    )
    .exec_without_returning(tx.conn())
    .await?;
    ledger_lines::Entity::insert_many(lines)
        .exec_without_returning(tx.conn())
        .await?;
    Ok(rows)
}

pub async fn entry(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<EntryRow>, DbErr> {
    ledger_entries::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn by_key(tx: &TenantTx, key: &str) -> Result<Option<EntryRow>, DbErr> {
    ledger_entries::Entity::find()
        .filter(ledger_entries::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(ledger_entries::Column::DedupeKey.eq(key))
        .one(tx.conn())
        .await
}

/// The lines of `entries`, in entry then line order.
pub async fn lines_of(tx: &TenantTx, entries: &[uuid::Uuid]) -> Result<Vec<LineRow>, DbErr> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    ledger_lines::Entity::find()
        .filter(ledger_lines::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(ledger_lines::Column::EntryId.is_in(entries.iter().copied()))
        .order_by_asc(ledger_lines::Column::EntryId)
        .order_by_asc(ledger_lines::Column::LineNo)
        .all(tx.conn())
        .await
}

/// The stored entry as the book's type.
pub fn as_entry(row: &EntryRow, lines: &[LineRow]) -> Entry {
    Entry {
        currency: row.currency.clone(),
        memo: row.memo.clone(),
        lines: lines
            .iter()
            .filter(|l| l.entry_id == row.id)
            .filter_map(|l| {
                Some(Line {
                    account: Account::parse(&l.account)?,
                    debit: l.debit_units,
                    credit: l.credit_units,
                })
            })
            .collect(),
    }
}

#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub order: Option<OrderId>,
    pub kind: Option<String>,
    pub source_id: Option<uuid::Uuid>,
}

/// Entries newest recorded first, after the cursor (ids are time-ordered).
pub async fn entries(
    tx: &TenantTx,
    f: &EntryFilter,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<EntryRow>, DbErr> {
    use ledger_entries::Column as C;
    let mut q = ledger_entries::Entity::find().filter(C::TenantId.eq(tx.tenant().uuid()));
    if let Some(from) = f.from {
        q = q.filter(C::EffectiveAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(C::EffectiveAt.lt(to));
    }
    if let Some(o) = f.order {
        q = q.filter(C::OrderId.eq(o.uuid()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(C::Kind.eq(k.as_str()));
    }
    if let Some(s) = f.source_id {
        q = q.filter(C::SourceId.eq(s));
    }
    if let Some(id) = after {
        q = q.filter(C::Id.lt(id));
    }
    q.order_by_desc(C::Id).limit(limit).all(tx.conn()).await
}

/// Debits and credits per account and currency over `[from, to)`.
pub async fn totals(
    tx: &TenantTx,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<(String, String, i64, i64)>, DbErr> {
    use ledger_lines::Column as C;
    let mut q = ledger_lines::Entity::find()
        .select_only()
        .column(C::Account)
        .column(C::Currency)
        .column_as(
            Expr::expr(Func::sum(Expr::col(C::DebitUnits))).cast_as("BIGINT"),
            "debit",
        )
        .column_as(
            Expr::expr(Func::sum(Expr::col(C::CreditUnits))).cast_as("BIGINT"),
            "credit",
        )
        .filter(C::TenantId.eq(tx.tenant().uuid()));
    if let Some(from) = from {
        q = q.filter(C::EffectiveAt.gte(from));
    }
    if let Some(to) = to {
        q = q.filter(C::EffectiveAt.lt(to));
    }
    q.group_by(C::Account)
        .group_by(C::Currency)
        .into_tuple()
        .all(tx.conn())
        .await
}

/// The units the order's sales have taken so far (what the processor was debited).
pub async fn sold_for(tx: &TenantTx, order: OrderId) -> Result<i64, DbErr> {
    // Sales and their reversals (which keep the kind), on the processor's side.
    let ids: Vec<uuid::Uuid> = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::Id)
        .filter(ledger_entries::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(ledger_entries::Column::OrderId.eq(order.uuid()))
        .filter(ledger_entries::Column::Kind.eq("sale"))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(lines_of(tx, &ids)
        .await?
        .iter()
        .filter(|l| l.account == Account::ProcessorClearing.as_str())
        .map(|l| l.debit_units - l.credit_units)
        .sum())
}
