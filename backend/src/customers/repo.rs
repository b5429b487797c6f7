//! Customers. Created or refreshed on capture, one per email per tenant.

use chrono::{DateTime, Utc};
use entity::customers;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::facts::CustomerFacts;
use crate::domain::{Address, CustomerId, Email};
use crate::infra::db::contains_pattern;
use crate::tenancy::{AnyTx, TenantTx};

pub use customers::Model as Customer;

/// Addresses kept per customer, newest first.
const MAX_ADDRESSES: usize = 10;

pub async fn get(tx: &TenantTx, id: CustomerId) -> Result<Option<Customer>, DbErr> {
    customers::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn get_many(tx: &TenantTx, ids: &[CustomerId]) -> Result<Vec<Customer>, DbErr> {
    customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(customers::Column::Id.is_in(ids.iter().map(|c| c.uuid())))
        .all(tx.conn())
        .await
}

pub async fn by_email(tx: &TenantTx, email: &Email) -> Result<Option<Customer>, DbErr> {
    customers::Entity::find()
        .filter(customers::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(customers::Column::Email.eq(email.as_str()))
        .one(tx.conn())
        .await
}

fn merge_address(list: &serde_json::Value, address: Option<&Address>) -> serde_json::Value {
    let mut all: Vec<Address> = serde_json::from_value(list.clone()).unwrap_or_default();
    if let Some(address) = address {
        all.retain(|a| a != address);
        all.insert(0, address.clone());
        all.truncate(MAX_ADDRESSES);
    }
    serde_json::to_value(all).unwrap_or_default()
}

/// Finds the customer with this email or creates them; refreshes what the order says of them.
pub async fn upsert(
    tx: &TenantTx,
    email: &Email,
    facts: &CustomerFacts,
    channel: &str,
    address: Option<&Address>,
    currency: &str,
) -> Result<Customer, DbErr> {
    let now = Utc::now();
    let existing = by_email(tx, email).await?;
    let keep = |new: &Option<String>, old: Option<String>| {
        new.as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .or(old)
    };
    match existing {
        Some(c) => {
            let mut ids = c.external_ids.clone();
            if let (Some(id), Some(map)) = (&facts.external_id, ids.as_object_mut()) {
                map.insert(channel.to_owned(), serde_json::json!(id));
            }
            let addresses = merge_address(&c.addresses, address);
            let mut row: customers::ActiveModel = c.clone().into();
            row.first_name = Set(keep(&facts.first_name, c.first_name));
            row.last_name = Set(keep(&facts.last_name, c.last_name));
            row.phone = Set(keep(&facts.phone, c.phone));
            row.accepts_marketing = Set(facts.accepts_marketing || c.accepts_marketing);
            row.addresses = Set(addresses);
            row.external_ids = Set(ids);
            row.updated_at = Set(now);
            row.update(tx.conn()).await
        }
        None => {
            let mut ids = serde_json::Map::new();
            if let Some(id) = &facts.external_id {
                ids.insert(channel.to_owned(), serde_json::json!(id));
            }
            let row = customers::ActiveModel {
                tenant_id: Set(tx.tenant().uuid()),
                id: Set(CustomerId::new().uuid()),
                email: Set(email.as_str().to_owned()),
                first_name: Set(keep(&facts.first_name, None)),
                last_name: Set(keep(&facts.last_name, None)),
                phone: Set(keep(&facts.phone, None)),
                accepts_marketing: Set(facts.accepts_marketing),
                addresses: Set(merge_address(&serde_json::json!([]), address)),
                external_ids: Set(serde_json::Value::Object(ids)),
                order_count: Set(0),
                total_spent_units: Set(0),
                currency: Set(currency.to_owned()),
                first_order_at: Set(None),
                last_order_at: Set(None),
                refund_count: Set(0),
                refunded_units: Set(0),
                chargeback_count: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            };
            // Another capture may create the same customer at the same moment.
            customers::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::columns([
                        customers::Column::TenantId,
                        customers::Column::Email,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(tx.conn())
                .await?;
            by_email(tx, email)
                .await?
                .ok_or(DbErr::RecordNotFound("customer just upserted".into()))
        }
    }
}

/// Counts a new order in the customer's history. Spending is summed in the customer's
/// currency only; orders in other currencies count but do not add to it.
/// `c` is the customer as read (or upserted) in this transaction.
pub async fn record_order(
    tx: &TenantTx,
    c: &Customer,
    total_units: i64,
    currency: &str,
    placed_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use customers::Column as C;
    let spent = if c.currency == currency {
        total_units
    } else {
        0
    };
    customers::Entity::update_many()
        .col_expr(C::OrderCount, Expr::col(C::OrderCount).add(1))
        .col_expr(C::TotalSpentUnits, Expr::col(C::TotalSpentUnits).add(spent))
        .col_expr(
            C::FirstOrderAt,
            Expr::value(Some(
                c.first_order_at
                    .map_or(placed_at, |f| Ord::min(f, placed_at)),
            )),
        )
        .col_expr(
            C::LastOrderAt,
            Expr::value(Some(
                c.last_order_at
                    .map_or(placed_at, |l| Ord::max(l, placed_at)),
            )),
        )
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(c.id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Counts a chargeback against the customer (fraud screening reads it).
pub async fn record_chargeback(tx: &TenantTx, id: CustomerId) -> Result<(), DbErr> {
    use customers::Column as C;
    customers::Entity::update_many()
        .col_expr(C::ChargebackCount, Expr::col(C::ChargebackCount).add(1))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(id.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// A page of customers, newest first; `search` matches email or name.
pub async fn list(
    tx: &TenantTx,
    search: Option<&str>,
    before: Option<CustomerId>,
    limit: u64,
) -> Result<Vec<Customer>, DbErr> {
    use customers::Column as C;
    let mut query = customers::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(C::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(C::Id.lt(before.uuid()));
    }
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = contains_pattern(search);
        let lower = |col: C| Expr::expr(Func::lower(Expr::col((customers::Entity, col))));
        query = query.filter(
            Condition::any()
                .add(lower(C::Email).like(pattern.clone()))
                .add(lower(C::FirstName).like(pattern.clone()))
                .add(lower(C::LastName).like(pattern)),
        );
    }
    query.all(tx.conn()).await
}
