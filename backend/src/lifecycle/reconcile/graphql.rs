//! GraphQL of payout reconciliation: importing a report, its runs and lines, and resolving
//! discrepancies.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::repo::{self, DISCREPANCY, DUPLICATE, Item, Run};
use super::service::{self, Format, ImportError, MAX_BYTES, Resolution, ResolveError};
use crate::domain::money::amount_from_units;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::graphql::scalars::Amount;
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum PayoutReportFormat {
    /// Stripe's payout-reconciliation or balance report, or the dashboard's balance export.
    StripeCsv,
    /// Stripe API objects: balance transactions, payouts, disputes, charges.
    StripeJson,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReconciliationStatus {
    Matched,
    Discrepancy,
    /// Imported before: nothing booked again.
    Duplicate,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DiscrepancyKind {
    Unmatched,
    AmountMismatch,
    CurrencyMismatch,
    UnexpectedCategory,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DiscrepancyResolution {
    /// The difference is explained; nothing is booked.
    Accepted,
    /// The processor's figure stands: the difference is booked as an adjustment.
    WrittenOff,
}

/// One line of an imported report.
#[derive(Clone, Debug, SimpleObject)]
pub struct ReconciliationItem {
    pub id: ID,
    pub run_id: ID,
    pub line_no: i32,
    /// The processor's id (txn_…).
    pub transaction_id: String,
    pub category: String,
    pub source_id: Option<String>,
    pub description: Option<String>,
    pub currency: String,
    pub gross: Amount,
    pub fee: Amount,
    pub net: Amount,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payout_id: Option<String>,
    pub status: ReconciliationStatus,
    pub order_id: Option<ID>,
    pub refund_id: Option<ID>,
    /// What our books say the gross should be, when they disagree.
    pub expected: Option<Amount>,
    pub discrepancy: Option<DiscrepancyKind>,
    pub message: Option<String>,
    pub resolution: Option<DiscrepancyResolution>,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Item> for ReconciliationItem {
    fn from(i: Item) -> Self {
        let money = |u: i64| Amount::from(amount_from_units(u, &i.currency));
        Self {
            id: global_id("ReconciliationItem", i.id),
            run_id: global_id("ReconciliationRun", i.run_id),
            line_no: i.line_no,
            gross: money(i.gross_units),
            fee: money(i.fee_units),
            net: money(i.net_units),
            expected: i.expected_units.map(money),
            status: match i.status.as_str() {
                DISCREPANCY => ReconciliationStatus::Discrepancy,
                DUPLICATE => ReconciliationStatus::Duplicate,
                _ => ReconciliationStatus::Matched,
            },
            discrepancy: i.discrepancy.as_deref().map(|d| match d {
                "unmatched" => DiscrepancyKind::Unmatched,
                "amount_mismatch" => DiscrepancyKind::AmountMismatch,
                "currency_mismatch" => DiscrepancyKind::CurrencyMismatch,
                _ => DiscrepancyKind::UnexpectedCategory,
            }),
            resolution: i.resolution.as_deref().map(|r| match r {
                "written_off" => DiscrepancyResolution::WrittenOff,
                _ => DiscrepancyResolution::Accepted,
            }),
            order_id: i.order_id.map(|o| global_id("Order", o)),
            refund_id: i.refund_id.map(|r| global_id("Refund", r)),
            transaction_id: i.transaction_id,
            category: i.category,
            source_id: i.source_id,
            description: i.description,
            currency: i.currency,
            occurred_at: i.occurred_at,
            payout_id: i.payout_id,
            message: i.message,
            resolution_note: i.resolution_note,
            resolved_at: i.resolved_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ReportTotals {
    pub currency: String,
    pub gross: Amount,
    pub fee: Amount,
    pub net: Amount,
}

/// One imported report.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct ReconciliationRun {
    pub id: ID,
    pub provider: String,
    pub format: PayoutReportFormat,
    pub file_name: Option<String>,
    pub payout_id: Option<String>,
    pub lines: i32,
    pub matched: i32,
    pub discrepancies: i32,
    pub duplicates: i32,
    pub totals: Vec<ReportTotals>,
    pub created_at: DateTime<Utc>,
    /// Where its CSV export is (authenticated like `/graphql`).
    pub csv_url: String,
    #[graphql(skip)]
    pub key: uuid::Uuid,
}

impl From<Run> for ReconciliationRun {
    fn from(r: Run) -> Self {
        let n = |k: &str| {
            r.summary
                .get(k)
                .and_then(serde_json::Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0)
        };
        let totals = r
            .summary
            .get("totals")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                let c = t["currency"].as_str().unwrap_or_default().to_owned();
                let money =
                    |k: &str| Amount::from(amount_from_units(t[k].as_i64().unwrap_or(0), &c));
                ReportTotals {
                    gross: money("gross"),
                    fee: money("fee"),
                    net: money("net"),
                    currency: c,
                }
            })
            .collect();
        Self {
            id: global_id("ReconciliationRun", r.id),
            provider: r.provider.clone(),
            format: if r.format == Format::StripeJson.as_str() {
                PayoutReportFormat::StripeJson
            } else {
                PayoutReportFormat::StripeCsv
            },
            file_name: r.file_name.clone(),
            payout_id: r.payout_id.clone(),
            lines: n("lines"),
            matched: n("matched"),
            discrepancies: n("discrepancies"),
            duplicates: n("duplicates"),
            totals,
            created_at: r.created_at,
            csv_url: format!("/exports/reconciliations/{}.csv", r.id),
            key: r.id,
        }
    }
}

#[ComplexObject]
impl ReconciliationRun {
    /// Its lines, in file order.
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReconciliationItem>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let items = repo::items_of(&tx, self.key).await?;
        tx.commit().await?;
        Ok(items.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct ImportPayoutReportInput {
    pub format: PayoutReportFormat,
    /// The file's text.
    pub content: String,
    pub file_name: Option<String>,
}

#[derive(SimpleObject)]
pub struct ImportPayoutReportPayload {
    pub run: Option<ReconciliationRun>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ResolveDiscrepancyInput {
    pub item_id: ID,
    pub resolution: DiscrepancyResolution,
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct ResolveDiscrepancyPayload {
    pub item: Option<ReconciliationItem>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ReconcileQuery;

#[Object]
impl ReconcileQuery {
    /// Imported reports, newest first.
    #[graphql(guard = "Perm(Permission::FinanceRead)")]
    async fn reconciliation_runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ReconciliationRun>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::runs(&tx, cursor, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|r| (r.id, r.into())).collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    #[graphql(guard = "Perm(Permission::FinanceRead)")]
    async fn reconciliation_run(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ReconciliationRun>> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "ReconciliationRun", "id")?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let run = repo::run(&tx, id).await?;
        tx.commit().await?;
        Ok(run.map(Into::into))
    }

    /// Lines that did not match our books, newest first; unresolved ones unless
    /// `includeResolved`.
    #[graphql(guard = "Perm(Permission::FinanceRead)")]
    async fn discrepancies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        include_resolved: Option<bool>,
    ) -> async_graphql::Result<Connection<String, ReconciliationItem>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows =
            repo::discrepancies(&tx, include_resolved.unwrap_or(false), cursor, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|i| (i.id, i.into())).collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }
}

#[derive(Default)]
pub struct ReconcileMutation;

#[Object]
impl ReconcileMutation {
    /// Imports a processor's report: each line matched to orders and refunds, fees,
    /// chargebacks and payouts booked, discrepancies kept. A file that cannot be read is
    /// refused whole, naming the line.
    #[graphql(guard = "Perm(Permission::FinanceManage)")]
    async fn import_payout_report(
        &self,
        ctx: &Context<'_>,
        input: ImportPayoutReportInput,
    ) -> async_graphql::Result<ImportPayoutReportPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome: Outcome<ReconciliationRun> = async {
            p.require(Permission::FinanceManage)?;
            if input.content.len() > MAX_BYTES {
                return Err(UserError::on(
                    "content",
                    C::Invalid,
                    format!(
                        "is larger than {} MB; split the report",
                        MAX_BYTES / 1024 / 1024
                    ),
                )
                .into());
            }
            let format = match input.format {
                PayoutReportFormat::StripeCsv => Format::StripeCsv,
                PayoutReportFormat::StripeJson => Format::StripeJson,
            };
            let name = input
                .file_name
                .map(|n| n.trim().chars().take(200).collect::<String>())
                .filter(|n| !n.is_empty());
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let done = service::import(&tx, format, &input.content, name, p.actor)
                .await
                .map_err(|e| match e {
                    ImportError::Unreadable(u) => crate::error::Fail::from(UserError::on(
                        "content",
                        C::Invalid,
                        format!("{}: {}", u.at, u.message),
                    )),
                    ImportError::Db(e) => e.into(),
                })?;
            tx.commit().await?;
            Ok(done.run.into())
        }
        .await;
        let (run, user_errors) = payload(outcome)?;
        Ok(ImportPayoutReportPayload { run, user_errors })
    }

    /// Settles a discrepancy with what was decided and why; once.
    #[graphql(guard = "Perm(Permission::FinanceManage)")]
    async fn resolve_discrepancy(
        &self,
        ctx: &Context<'_>,
        input: ResolveDiscrepancyInput,
    ) -> async_graphql::Result<ResolveDiscrepancyPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.item_id, "ReconciliationItem", "itemId")?;
        let st = state(ctx);
        let outcome: Outcome<Item> = async {
            p.require(Permission::FinanceManage)?;
            let note = input.note.map(|n| n.trim().to_owned()).unwrap_or_default();
            if note.chars().count() > 2000 {
                return Err(
                    UserError::on("note", C::Invalid, "must be at most 2000 characters").into(),
                );
            }
            let resolution = match input.resolution {
                DiscrepancyResolution::Accepted => Resolution::Accepted,
                DiscrepancyResolution::WrittenOff => Resolution::WrittenOff,
            };
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let item = service::resolve(&tx, id, resolution, note, p.actor)
                .await
                .map_err(|e| match e {
                    ResolveError::NotFound => crate::error::Fail::from(UserError::on(
                        "itemId",
                        C::NotFound,
                        "no such discrepancy",
                    )),
                    ResolveError::Refused(m) => UserError::on("itemId", C::Conflict, m).into(),
                    ResolveError::Db(e) => e.into(),
                })?;
            tx.commit().await?;
            Ok(item)
        }
        .await;
        let (item, user_errors) = payload(outcome)?;
        Ok(ResolveDiscrepancyPayload {
            item: item.map(Into::into),
            user_errors,
        })
    }
}
