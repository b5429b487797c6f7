//! `GET /exports/kpis.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`: one row per day of the period, then
//! the period's totals and the previous period's; money columns per currency
//! (`revenue_USD`, …). Authenticated like `/graphql` (REPORTS_READ).

use std::collections::BTreeSet;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;

use super::graphql::bad_period;
use super::rollup::Kpis;
use super::service;
use crate::auth::http::{caller, refuse};
use crate::domain::money::amount_from_units;
use crate::error::AppError;
use crate::infra::csv::csv_bytes;
use crate::state::AppState;
use crate::tenancy::Permission;

const FIXED: [&str; 35] = [
    "scope",
    "from",
    "to",
    "orders",
    "cancelled_orders",
    "customers",
    "orders_shipped",
    "processing_median_seconds",
    "processing_p90_seconds",
    "shipments",
    "accurate_shipments",
    "fulfillment_accuracy",
    "deliveries",
    "average_shipping_seconds",
    "median_shipping_seconds",
    "promised_deliveries",
    "on_time_deliveries",
    "on_time_rate",
    "reviews",
    "average_rating",
    "csat",
    "returns",
    "return_rate",
    "units_shipped",
    "average_on_hand",
    "inventory_turnover",
    "support_tickets",
    "auto_resolved_tickets",
    "auto_resolution_rate",
    "fraud_holds",
    "fraud_approved",
    "fraud_rejected",
    "fraud_pending",
    "fraud_auto_rejected",
    "stock_drift_corrected",
];

const MONEY: [&str; 7] = [
    "revenue",
    "refunded",
    "net_revenue",
    "average_order_value",
    "costs",
    "cost_per_order",
    "revenue_per_customer",
];

#[derive(Debug, Default, serde::Deserialize)]
pub struct Dates {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn date(field: &str, raw: Option<&str>) -> Result<NaiveDate, AppError> {
    let raw = raw.ok_or_else(|| AppError::bad_input(field, "is required (YYYY-MM-DD)"))?;
    raw.trim()
        .parse()
        .map_err(|_| AppError::bad_input(field, format!("{raw:?} is not a date (YYYY-MM-DD)")))
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

fn row(
    scope: &str,
    from: NaiveDate,
    to: NaiveDate,
    k: &Kpis,
    currencies: &[String],
) -> Vec<String> {
    let mut r = vec![
        scope.to_owned(),
        from.to_string(),
        to.to_string(),
        k.orders.to_string(),
        k.cancelled.to_string(),
        k.customers.to_string(),
        k.orders_shipped.to_string(),
        num(k.processing_median),
        num(k.processing_p90),
        k.shipments.to_string(),
        k.accurate_shipments.to_string(),
        num(k.fulfillment_accuracy),
        k.deliveries.to_string(),
        num(k.shipping_average),
        num(k.shipping_median),
        k.promised.to_string(),
        k.on_time.to_string(),
        num(k.on_time_rate),
        k.reviews.to_string(),
        num(k.average_rating),
        num(k.csat),
        k.returns.to_string(),
        num(k.return_rate),
        k.units_shipped.to_string(),
        num(k.average_on_hand),
        num(k.inventory_turnover),
        k.tickets.to_string(),
        k.auto_resolved.to_string(),
        num(k.auto_resolution_rate),
        k.fraud_holds.to_string(),
        k.fraud_approved.to_string(),
        k.fraud_rejected.to_string(),
        k.fraud_pending.to_string(),
        k.fraud_auto_rejected.to_string(),
        k.stock_drift.to_string(),
    ];
    for c in currencies {
        let m = k.money.iter().find(|m| &m.currency == c);
        let money = |u: Option<i64>| {
            u.map(|u| amount_from_units(u, c).to_string())
                .unwrap_or_default()
        };
        r.extend([
            money(m.map(|m| m.revenue)),
            money(m.map(|m| m.refunded)),
            money(m.map(|m| m.net_revenue)),
            money(m.and_then(|m| m.average_order)),
            money(m.map(|m| m.costs)),
            money(m.and_then(|m| m.cost_per_order)),
            money(m.and_then(|m| m.revenue_per_customer)),
        ]);
    }
    r
}

pub async fn kpis_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Dates>,
) -> HttpResponse {
    let principal = match caller(&state, &req, Permission::ReportsRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let dates =
        date("from", query.from.as_deref()).and_then(|f| Ok((f, date("to", query.to.as_deref())?)));
    let (from, to) = match dates {
        Ok(d) => d,
        Err(e) => return refuse(e),
    };
    let report = match service::report(&state, principal.tenant, from, to).await {
        Ok(Ok(r)) => r,
        Ok(Err(bad)) => return refuse(bad_period(bad)),
        Err(e) => return refuse(e.into()),
    };
    // The tenant's currency first, then every other one any row has.
    let mut currencies = vec![report.currency.clone()];
    let others: BTreeSet<String> = std::iter::once(&report.current)
        .chain(std::iter::once(&report.before))
        .flat_map(|k| k.money.iter().map(|m| m.currency.clone()))
        .filter(|c| *c != report.currency)
        .collect();
    currencies.extend(others);
    let mut columns: Vec<String> = FIXED.iter().map(|c| (*c).to_owned()).collect();
    for c in &currencies {
        columns.extend(MONEY.iter().map(|m| format!("{m}_{c}")));
    }
    let mut rows: Vec<Vec<String>> = report
        .daily
        .iter()
        .map(|(d, k)| row("day", *d, *d, k, &currencies))
        .collect();
    let (p, q) = (&report.period, &report.previous);
    rows.push(row("period", p.from, p.to, &report.current, &currencies));
    rows.push(row("previous", q.from, q.to, &report.before, &currencies));
    rows.insert(0, columns);
    match csv_bytes(None, rows) {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"kpis-{from}-{to}.csv\""),
            ))
            .body(bytes),
        Err(e) => refuse(e),
    }
}
