//! Customers over GraphQL.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::repo::{self, Customer as Record};
use crate::domain::money::amount_from_units;
use crate::domain::{Address, CustomerId};
use crate::graphql::context::{principal, state};
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::graphql::scalars::Amount;
use crate::tenancy::{Permission, TenantTx};

/// A customer's record with the tenant, in figures.
#[derive(Clone, Debug, SimpleObject)]
pub struct CustomerHistory {
    pub order_count: i64,
    /// In `currency`; orders in other currencies are counted but not summed.
    pub total_spent: Amount,
    pub currency: String,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub refund_count: i64,
    pub refunded: Amount,
    pub chargeback_count: i64,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct Customer {
    pub id: ID,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub accepts_marketing: bool,
    /// Addresses from their orders, most recent first.
    pub addresses: Vec<Address>,
    pub history: CustomerHistory,
    pub created_at: DateTime<Utc>,
}

impl From<Record> for Customer {
    fn from(c: Record) -> Self {
        Self {
            id: global_id("Customer", c.id),
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            phone: c.phone,
            accepts_marketing: c.accepts_marketing,
            addresses: serde_json::from_value(c.addresses).unwrap_or_default(),
            history: CustomerHistory {
                order_count: c.order_count,
                total_spent: amount_from_units(c.total_spent_units, &c.currency).into(),
                first_order_at: c.first_order_at,
                last_order_at: c.last_order_at,
                refund_count: c.refund_count,
                refunded: amount_from_units(c.refunded_units, &c.currency).into(),
                chargeback_count: c.chargeback_count,
                currency: c.currency,
            },
            created_at: c.created_at,
        }
    }
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers, newest first; `search` matches email or name.
    #[graphql(
        guard = "Perm(Permission::OrdersRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> async_graphql::Result<Connection<String, Customer>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::list(&tx, search.as_deref(), after.map(CustomerId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|c| (c.id, Customer::from(c)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Customer>> {
        let p = principal(ctx)?;
        let id = CustomerId(decode_id(&id, "Customer", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::get(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(Customer::from))
    }
}
