//! GraphQL of the ledger: entries with their lines, balances over a period, and the one
//! correction there is (a reversing entry).

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::book::Account;
use super::repo::{self, EntryFilter, EntryRow, LineRow};
use super::service;
use crate::domain::OrderId;
use crate::domain::money::amount_from_units;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::graphql::scalars::Amount;
use crate::tenancy::{Permission, TenantTx};

#[derive(Clone, Debug, SimpleObject)]
pub struct LedgerLine {
    pub account: Account,
    pub debit: Amount,
    pub credit: Amount,
}

/// A journal entry: its debits equal its credits.
#[derive(Clone, Debug, SimpleObject)]
pub struct LedgerEntry {
    pub id: ID,
    /// sale, fee, refund, credit_refund, label, chargeback, payout, adjustment.
    pub kind: String,
    pub currency: String,
    pub memo: String,
    /// What it records money for: order, shipment, return, refund, payout, reconciliation,
    /// or entry (a reversal).
    pub source_kind: String,
    pub source_id: String,
    pub order_id: Option<ID>,
    /// The entry this one reverses.
    pub reverses_id: Option<ID>,
    pub effective_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<LedgerLine>,
}

impl LedgerEntry {
    pub fn of(e: EntryRow, lines: &[LineRow]) -> Self {
        let money = |u: i64| Amount::from(amount_from_units(u, &e.currency));
        Self {
            id: global_id("LedgerEntry", e.id),
            lines: lines
                .iter()
                .filter(|l| l.entry_id == e.id)
                .filter_map(|l| {
                    Some(LedgerLine {
                        account: Account::parse(&l.account)?,
                        debit: money(l.debit_units),
                        credit: money(l.credit_units),
                    })
                })
                .collect(),
            kind: e.kind,
            memo: e.memo,
            source_kind: e.source_kind,
            source_id: e.source_id.to_string(),
            order_id: e.order_id.map(|o| global_id("Order", o)),
            reverses_id: e.reverses_id.map(|r| global_id("LedgerEntry", r)),
            effective_at: e.effective_at,
            created_at: e.created_at,
            currency: e.currency,
        }
    }
}

/// One account's movement over a period, in one currency.
#[derive(Clone, Debug, SimpleObject)]
pub struct AccountBalance {
    pub account: Account,
    pub currency: String,
    pub debit: Amount,
    pub credit: Amount,
    /// Debits less credits: positive for assets and expenses, negative for liabilities and
    /// revenue.
    pub balance: Amount,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct LedgerBalances {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub accounts: Vec<AccountBalance>,
    /// Debits equal credits in every currency (always, by construction; shown for trust).
    pub balanced: bool,
}

#[derive(InputObject)]
pub struct ReverseLedgerEntryInput {
    pub entry_id: ID,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct LedgerEntryPayload {
    /// The reversing entry.
    pub entry: Option<LedgerEntry>,
    pub user_errors: Vec<UserError>,
}

pub fn period(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(), crate::error::AppError> {
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(crate::error::AppError::bad_input(
            "to",
            "must be after from",
        ));
    }
    Ok(())
}

pub fn balances_of(rows: Vec<(String, String, i64, i64)>) -> (Vec<AccountBalance>, bool) {
    let mut accounts: Vec<(Account, String, i64, i64)> = rows
        .into_iter()
        .filter_map(|(a, c, d, cr)| Some((Account::parse(&a)?, c, d, cr)))
        .collect();
    accounts.sort_by(|a, b| (a.1.as_str(), a.0).cmp(&(b.1.as_str(), b.0)));
    let mut per_currency = std::collections::BTreeMap::<String, i64>::new();
    for (_, c, d, cr) in &accounts {
        *per_currency.entry(c.clone()).or_default() += d - cr;
    }
    let balanced = per_currency.values().all(|v| *v == 0);
    let out = accounts
        .into_iter()
        .map(|(account, currency, d, cr)| {
            let money = |u: i64| Amount::from(amount_from_units(u, &currency));
            AccountBalance {
                account,
                debit: money(d),
                credit: money(cr),
                balance: money(d - cr),
                currency,
            }
        })
        .collect();
    (out, balanced)
}

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// Journal entries, newest recorded first; `from`/`to` bound when they took effect.
    #[allow(clippy::too_many_arguments)]
    #[graphql(guard = "Perm(Permission::FinanceRead)")]
    async fn ledger_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        order_id: Option<ID>,
        kind: Option<String>,
    ) -> async_graphql::Result<Connection<String, LedgerEntry>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        period(from, to)?;
        let order = order_id
            .map(|o| decode_id(&o, "Order", "orderId"))
            .transpose()?
            .map(OrderId);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let f = EntryFilter {
            from,
            to,
            order,
            kind,
            source_id: None,
        };
        let rows = repo::entries(&tx, &f, cursor, limit + 1).await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|e| e.id).collect();
        let lines = repo::lines_of(&tx, &ids).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|e| (e.id, LedgerEntry::of(e, &lines)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    /// Each account's debits, credits and balance over `[from, to)` (all time when open).
    #[graphql(guard = "Perm(Permission::FinanceRead)")]
    async fn ledger_balances(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<LedgerBalances> {
        let p = principal(ctx)?;
        period(from, to)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::totals(&tx, from, to).await?;
        tx.commit().await?;
        let (accounts, balanced) = balances_of(rows);
        Ok(LedgerBalances {
            from,
            to,
            accounts,
            balanced,
        })
    }
}

#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    /// Corrects an entry the only way the ledger allows: a reversing entry (once per entry).
    #[graphql(guard = "Perm(Permission::FinanceManage)")]
    async fn reverse_ledger_entry(
        &self,
        ctx: &Context<'_>,
        input: ReverseLedgerEntryInput,
    ) -> async_graphql::Result<LedgerEntryPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.entry_id, "LedgerEntry", "entryId")?;
        let st = state(ctx);
        let outcome: Outcome<LedgerEntry> = async {
            p.require(Permission::FinanceManage)?;
            let reason = input
                .reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    UserError::on("reason", C::Required, "say why the entry is reversed")
                })?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(entry) = repo::entry(&tx, id).await? else {
                return Err(UserError::on("entryId", C::NotFound, "no such ledger entry").into());
            };
            if entry.reverses_id.is_some() {
                return Err(UserError::on(
                    "entryId",
                    C::Invalid,
                    "this entry is itself a reversal; post the correct entry instead",
                )
                .into());
            }
            let Some(reversal) = service::reverse(&tx, &entry, &reason, p.actor).await? else {
                return Err(UserError::on(
                    "entryId",
                    C::Conflict,
                    "this entry is already reversed",
                )
                .into());
            };
            let lines = repo::lines_of(&tx, &[reversal.id]).await?;
            tx.commit().await?;
            Ok(LedgerEntry::of(reversal, &lines))
        }
        .await;
        let (entry, user_errors) = payload(outcome)?;
        Ok(LedgerEntryPayload { entry, user_errors })
    }
}
