//! The stored day rollups (`kpi_days`) and the tenant's reporting timezone.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use entity::{kpi_days, orders, tenants};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::rollup::DayRollup;
use crate::tenancy::{AnyTx, TenantTx};

/// Rows per upsert (5 columns each: well under every backend's parameter limit).
const CHUNK: usize = 100;

/// What is known of a stored day without reading its counters.
pub struct Stored {
    pub timezone: String,
    pub computed_at: DateTime<Utc>,
}

fn key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn day_of(key: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(key, "%Y-%m-%d").ok()
}

/// The tenant's timezone (UTC when unset or unknown) and currency.
pub async fn tenant(tx: &TenantTx) -> Result<(Tz, String), DbErr> {
    let t = tenants::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await?;
    Ok(t.map_or((chrono_tz::UTC, "USD".to_owned()), |t| {
        (t.timezone.parse().unwrap_or(chrono_tz::UTC), t.currency)
    }))
}

pub async fn set_timezone(tx: &TenantTx, tz: Tz) -> Result<(), DbErr> {
    tenants::Entity::update_many()
        .col_expr(
            tenants::Column::Timezone,
            sea_orm::sea_query::Expr::value(tz.name()),
        )
        .filter(tenants::Column::Id.eq(tx.tenant().uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// When and in which timezone each stored day of `from..=to` was computed.
pub async fn stored(
    tx: &TenantTx,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, Stored>, DbErr> {
    use kpi_days::Column as K;
    let rows: Vec<(String, String, DateTime<Utc>)> = kpi_days::Entity::find()
        .select_only()
        .columns([K::Day, K::Timezone, K::ComputedAt])
        .filter(K::TenantId.eq(tx.tenant().uuid()))
        .filter(K::Day.gte(key(from)))
        .filter(K::Day.lte(key(to)))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(day, timezone, computed_at)| {
            Some((
                day_of(&day)?,
                Stored {
                    timezone,
                    computed_at,
                },
            ))
        })
        .collect())
}

/// The counters of the stored days `from..=to`; a row this version cannot read is left out
/// (and computed again).
pub async fn load(
    tx: &TenantTx,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, DayRollup>, DbErr> {
    use kpi_days::Column as K;
    let rows: Vec<(String, String)> = kpi_days::Entity::find()
        .select_only()
        .columns([K::Day, K::Data])
        .filter(K::TenantId.eq(tx.tenant().uuid()))
        .filter(K::Day.gte(key(from)))
        .filter(K::Day.lte(key(to)))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(day, data)| Some((day_of(&day)?, serde_json::from_str(&data).ok()?)))
        .collect())
}

pub async fn save(
    tx: &TenantTx,
    tz: Tz,
    days: &BTreeMap<NaiveDate, DayRollup>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows: Vec<kpi_days::ActiveModel> = days
        .iter()
        .map(|(day, r)| kpi_days::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            day: Set(key(*day)),
            timezone: Set(tz.name().to_owned()),
            data: Set(serde_json::to_string(r).unwrap_or_default()),
            computed_at: Set(at),
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        kpi_days::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([kpi_days::Column::TenantId, kpi_days::Column::Day])
                    .update_columns([
                        kpi_days::Column::Timezone,
                        kpi_days::Column::Data,
                        kpi_days::Column::ComputedAt,
                    ])
                    .to_owned(),
            )
            .exec(tx.conn())
            .await?;
    }
    Ok(())
}

/// Forgets the rollups of the days around `at` (any timezone's day holding it), so they are
/// computed again: for changes dated in the settled past, like an order imported late or a
/// cancellation weeks after the order. Recent days are recomputed anyway: nothing to do.
pub async fn touch(tx: &TenantTx, at: DateTime<Utc>) -> Result<(), DbErr> {
    if at >= Utc::now() - super::service::SETTLE {
        return Ok(());
    }
    let day = at.date_naive();
    forget(tx, day - Days::new(1), day + Days::new(1)).await?;
    Ok(())
}

/// Forgets every stored day between two dates (inclusive).
pub async fn forget(tx: &TenantTx, from: NaiveDate, to: NaiveDate) -> Result<u64, DbErr> {
    let done = kpi_days::Entity::delete_many()
        .filter(kpi_days::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(kpi_days::Column::Day.gte(key(from)))
        .filter(kpi_days::Column::Day.lte(key(to)))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected)
}

/// When the tenant's first (`newest` false) or latest order was placed.
pub async fn order_edge(tx: &TenantTx, newest: bool) -> Result<Option<DateTime<Utc>>, DbErr> {
    let q = orders::Entity::find()
        .select_only()
        .column(orders::Column::PlacedAt)
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()));
    let q = if newest {
        q.order_by_desc(orders::Column::PlacedAt)
    } else {
        q.order_by_asc(orders::Column::PlacedAt)
    };
    q.limit(1).into_tuple().one(tx.conn()).await
}
