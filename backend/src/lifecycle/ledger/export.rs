//! `GET /exports/ledger.csv?from=…&to=…`: one row per journal line, streamed in batches of
//! entries. Authenticated like `/graphql` (FINANCE_READ).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};

use super::repo::{self, EntryFilter};
use crate::auth::http::{caller, refuse};
use crate::domain::TenantId;
use crate::domain::money::amount_from_units;
use crate::error::AppError;
use crate::infra::csv::{CsvBatch, stream_csv};
use crate::state::AppState;
use crate::tenancy::{Permission, TenantTx};

const BATCH: u64 = 1000;

pub const COLUMNS: [&str; 12] = [
    "entry_id",
    "effective_at",
    "recorded_at",
    "kind",
    "memo",
    "source_kind",
    "source_id",
    "order_id",
    "reverses",
    "account",
    "debit",
    "credit",
];

#[derive(Debug, Default, serde::Deserialize)]
pub struct Period {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

async fn batch(
    state: &AppState,
    tenant: TenantId,
    f: &EntryFilter,
    after: Option<uuid::Uuid>,
) -> Result<CsvBatch, AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let entries = repo::entries(&tx, f, after, BATCH).await?;
    let ids: Vec<uuid::Uuid> = entries.iter().map(|e| e.id).collect();
    let lines = repo::lines_of(&tx, &ids).await?;
    tx.commit().await?;
    let mut rows = Vec::new();
    for e in &entries {
        for l in lines.iter().filter(|l| l.entry_id == e.id) {
            let money = |u: i64| amount_from_units(u, &e.currency).to_string();
            rows.push(vec![
                e.id.to_string(),
                e.effective_at.to_rfc3339(),
                e.created_at.to_rfc3339(),
                e.kind.clone(),
                e.memo.clone(),
                e.source_kind.clone(),
                e.source_id.to_string(),
                e.order_id.map(|o| o.to_string()).unwrap_or_default(),
                e.reverses_id.map(|r| r.to_string()).unwrap_or_default(),
                l.account.clone(),
                money(l.debit_units),
                money(l.credit_units),
            ]);
        }
    }
    Ok((rows, entries.last().map(|e| e.id), entries.len()))
}

pub async fn ledger_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Period>,
) -> HttpResponse {
    let principal = match caller(&state, &req, Permission::FinanceRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Period { from, to } = query.into_inner();
    if let Err(e) = super::graphql::period(from, to) {
        return refuse(e);
    }
    let filter = EntryFilter {
        from,
        to,
        ..EntryFilter::default()
    };
    let tenant = principal.tenant;
    stream_csv("ledger.csv", &COLUMNS, BATCH as usize, move |after| {
        let state = state.clone();
        let filter = filter.clone();
        async move { batch(&state, tenant, &filter, after).await }
    })
}
