//! Reading orders.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::types::Order;
use crate::domain::{CustomerId, OrderId};
use crate::error::AppError;
use crate::graphql::context::{principal, state};
use crate::graphql::guard::Perm;
use crate::graphql::relay::{decode_id, page_size};
use crate::lifecycle::state::OrderState;
use crate::order::SalesChannel;
use crate::order::repo::{self, OrderFilter, OrderSort, SortKey};
use crate::tenancy::{Permission, TenantTx};

#[derive(InputObject, Default)]
pub struct OrderFilterInput {
    pub state: Option<OrderState>,
    /// Any of these states.
    pub states: Option<Vec<OrderState>>,
    pub channel: Option<SalesChannel>,
    /// Placed at or after.
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed before.
    pub placed_to: Option<DateTime<Utc>>,
    pub customer_id: Option<ID>,
    /// Orders with a line of this SKU.
    pub sku: Option<String>,
    pub tag: Option<String>,
    /// Order name or number, external id, email or customer name.
    pub search: Option<String>,
    /// Only orders with unresolved capture issues.
    #[graphql(default)]
    pub has_open_issues: bool,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderSortKey {
    #[default]
    PlacedAtDesc,
    PlacedAtAsc,
    TotalDesc,
    TotalAsc,
}

impl From<OrderSortKey> for OrderSort {
    fn from(k: OrderSortKey) -> Self {
        match k {
            OrderSortKey::PlacedAtDesc => OrderSort::PlacedDesc,
            OrderSortKey::PlacedAtAsc => OrderSort::PlacedAsc,
            OrderSortKey::TotalDesc => OrderSort::TotalDesc,
            OrderSortKey::TotalAsc => OrderSort::TotalAsc,
        }
    }
}

/// Cursors carry the sort key with the id, so pages stay stable under any sort.
fn encode_cursor(key: &SortKey, id: Uuid) -> String {
    let key = match key {
        SortKey::Placed(at) => format!("p{}", at.timestamp_micros()),
        SortKey::Total(units) => format!("t{units}"),
    };
    URL_SAFE_NO_PAD.encode(format!("order:{key}:{id}"))
}

fn decode_cursor(cursor: &str, sort: OrderSort) -> Result<(SortKey, Uuid), AppError> {
    let bad = || AppError::bad_input("after", "is not a cursor of this connection and sort");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, ':');
    let (Some("order"), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let id = Uuid::try_parse(id).map_err(|_| bad())?;
    let key = match (sort, key.split_at_checked(1)) {
        (OrderSort::PlacedDesc | OrderSort::PlacedAsc, Some(("p", micros))) => {
            let micros: i64 = micros.parse().map_err(|_| bad())?;
            SortKey::Placed(DateTime::from_timestamp_micros(micros).ok_or_else(bad)?)
        }
        (OrderSort::TotalDesc | OrderSort::TotalAsc, Some(("t", units))) => {
            SortKey::Total(units.parse().map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    };
    Ok((key, id))
}

fn to_filter(f: OrderFilterInput) -> Result<OrderFilter, AppError> {
    let mut states: Vec<String> = f
        .states
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    states.extend(f.state.map(|s| s.as_str().to_owned()));
    Ok(OrderFilter {
        states,
        channel: f.channel.map(|c| c.as_str().to_owned()),
        placed_from: f.placed_from,
        placed_to: f.placed_to,
        customer: f
            .customer_id
            .map(|id| decode_id(&id, "Customer", "filter.customerId").map(CustomerId))
            .transpose()?,
        sku: f.sku,
        tag: f.tag,
        search: f.search,
        with_issues: f.has_open_issues,
    })
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// Orders, newest placed first unless sorted otherwise.
    #[graphql(
        guard = "Perm(Permission::OrdersRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OrderFilterInput>,
        #[graphql(default)] sort: OrderSortKey,
    ) -> async_graphql::Result<Connection<String, Order>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let sort = OrderSort::from(sort);
        let cursor = after
            .as_deref()
            .map(|c| decode_cursor(c, sort))
            .transpose()?;
        let filter = to_filter(filter.unwrap_or_default())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let mut rows = repo::list(&tx, &filter, sort, cursor.clone(), limit + 1).await?;
        tx.commit().await?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let mut conn = Connection::new(cursor.is_some(), has_next);
        conn.edges.extend(rows.into_iter().map(|o| {
            let cursor = encode_cursor(&sort.key_of(&o), o.id);
            Edge::new(cursor, Order::from(o))
        }));
        Ok(conn)
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let p = principal(ctx)?;
        let id = OrderId(decode_id(&id, "Order", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::get(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Order::from))
    }
}
