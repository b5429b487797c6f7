//! `GET /exports/reconciliations/{id}.csv`: every line of an imported report with how it
//! matched. Authenticated like `/graphql` (FINANCE_READ).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::repo;
use crate::auth::http::{caller, refuse};
use crate::domain::money::amount_from_units;
use crate::error::AppError;
use crate::infra::csv::csv_bytes;
use crate::state::AppState;
use crate::tenancy::{Permission, TenantTx};

pub const COLUMNS: [&str; 17] = [
    "line",
    "transaction_id",
    "category",
    "source_id",
    "description",
    "occurred_at",
    "currency",
    "gross",
    "fee",
    "net",
    "payout_id",
    "status",
    "order_id",
    "expected",
    "discrepancy",
    "message",
    "resolution",
];

pub async fn reconciliation_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let principal = match caller(&state, &req, Permission::FinanceRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let Some(id) = path
        .strip_suffix(".csv")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
    else {
        return refuse(AppError::bad_input("id", "is not a reconciliation run"));
    };
    let run = async {
        let tx = TenantTx::begin(&state.db, principal.tenant).await?;
        let found = repo::run(&tx, id).await?;
        let items = repo::items_of(&tx, id).await?;
        tx.commit().await?;
        Ok::<_, AppError>(found.map(|_| items))
    };
    let items = match run.await {
        Ok(Some(items)) => items,
        Ok(None) => return HttpResponse::NotFound().body("no such reconciliation run"),
        Err(e) => return refuse(e),
    };
    let rows = items
        .into_iter()
        .map(|i| {
            let money = |u: i64| amount_from_units(u, &i.currency).to_string();
            vec![
                i.line_no.to_string(),
                i.transaction_id.clone(),
                i.category.clone(),
                i.source_id.clone().unwrap_or_default(),
                i.description.clone().unwrap_or_default(),
                i.occurred_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                i.currency.clone(),
                money(i.gross_units),
                money(i.fee_units),
                money(i.net_units),
                i.payout_id.clone().unwrap_or_default(),
                i.status.clone(),
                i.order_id.map(|o| o.to_string()).unwrap_or_default(),
                i.expected_units.map(money).unwrap_or_default(),
                i.discrepancy.clone().unwrap_or_default(),
                i.message.clone().unwrap_or_default(),
                i.resolution.clone().unwrap_or_default(),
            ]
        })
        .collect();
    match csv_bytes(Some(&COLUMNS[..]), rows) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"reconciliation-{id}.csv\""),
            ))
            .body(bytes),
        Err(e) => refuse(e),
    }
}
