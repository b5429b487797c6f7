//! `GET /exports/orders.csv`: every order matching the filter, one row each, streamed in
//! batches so a million orders never sit in memory at once. Authenticated like `/graphql`
//! (a bearer token or API key with ORDERS_READ).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};

use crate::auth::http::{caller, refuse};
use crate::domain::OrderId;
use crate::domain::money::Money;
use crate::error::AppError;
use crate::infra::csv::stream_csv;
use crate::lifecycle::state::OrderState;
use crate::order::issues::Issue;
use crate::order::repo::{self, Order, OrderFilter, OrderLine};
use crate::state::AppState;
use crate::tenancy::{Permission, TenantTx};

const BATCH: u64 = 500;

pub const COLUMNS: [&str; 22] = [
    "name",
    "external_id",
    "channel",
    "state",
    "placed_at",
    "email",
    "customer_name",
    "currency",
    "subtotal",
    "discounts",
    "tax",
    "shipping",
    "total",
    "financial_status",
    "fulfillment_status",
    "tags",
    "items",
    "ship_to_country",
    "ship_to_postal_code",
    "open_issues",
    "note",
    "id",
];

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportQuery {
    pub state: Option<String>,
    pub channel: Option<String>,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_to: Option<DateTime<Utc>>,
    pub search: Option<String>,
    pub tag: Option<String>,
    pub sku: Option<String>,
}

impl ExportQuery {
    fn filter(self) -> Result<OrderFilter, AppError> {
        let states = match self.state {
            Some(s) => {
                let state = OrderState::parse(&s.trim().to_ascii_lowercase()).ok_or_else(|| {
                    AppError::bad_input("state", format!("{s} is not an order state"))
                })?;
                vec![state.as_str().to_owned()]
            }
            None => Vec::new(),
        };
        Ok(OrderFilter {
            states,
            channel: self.channel.map(|c| c.trim().to_lowercase()),
            placed_from: self.placed_from,
            placed_to: self.placed_to,
            search: self.search,
            tag: self.tag,
            sku: self.sku,
            ..OrderFilter::default()
        })
    }
}

/// One CSV row of an order.
pub fn row(o: &Order, lines: &[&OrderLine]) -> Vec<String> {
    let money = |m: Money| m.shown().to_string();
    let tags: Vec<String> = serde_json::from_value(o.tags.clone()).unwrap_or_default();
    let issues: Vec<Issue> = serde_json::from_value(o.issues.clone()).unwrap_or_default();
    let ship_to = o.shipping_address.as_ref();
    let part = |key: &str| {
        ship_to
            .and_then(|a| a.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    vec![
        o.name.clone(),
        o.external_id.clone(),
        o.channel.clone(),
        o.state.as_str().to_owned(),
        o.placed_at.to_rfc3339(),
        o.email.clone().unwrap_or_default(),
        o.customer_name.clone().unwrap_or_default(),
        o.currency.code().to_owned(),
        money(o.subtotal),
        money(o.discounts),
        money(o.tax),
        money(o.shipping),
        money(o.total),
        o.financial_status.clone(),
        o.fulfillment_status.clone(),
        tags.join(", "),
        lines
            .iter()
            .map(|l| format!("{} x{}", l.sku.as_deref().unwrap_or(&l.title), l.quantity))
            .collect::<Vec<_>>()
            .join("; "),
        part("country"),
        part("postalCode"),
        issues.iter().filter(|i| !i.resolved).count().to_string(),
        o.note.clone().unwrap_or_default(),
        o.id.to_string(),
    ]
}

async fn batch(
    state: &AppState,
    tenant: crate::domain::TenantId,
    filter: &OrderFilter,
    after: Option<uuid::Uuid>,
) -> Result<(Vec<Vec<String>>, Option<uuid::Uuid>), AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let orders = repo::export_batch(&tx, filter, after, BATCH).await?;
    let ids: Vec<OrderId> = orders.iter().map(|o| OrderId(o.id)).collect();
    let lines = repo::lines_of(&tx, &ids).await?;
    tx.commit().await?;
    let last = orders.last().map(|o| o.id);
    let rows = orders
        .iter()
        .map(|o| {
            row(
                o,
                &lines
                    .iter()
                    .filter(|l| l.order_id == o.id)
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok((rows, last))
}

pub async fn orders_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ExportQuery>,
) -> HttpResponse {
    let principal = match caller(&state, &req, Permission::OrdersRead).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let filter = match query.into_inner().filter() {
        Ok(f) => f,
        Err(err) => return refuse(err),
    };
    let tenant = principal.tenant;
    stream_csv("orders.csv", &COLUMNS, BATCH as usize, move |after| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let (rows, last) = batch(&state, tenant, &filter, after).await?;
            let read = rows.len();
            Ok((rows, last, read))
        }
    })
}
