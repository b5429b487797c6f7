//! The listing map: which channel item each SKU is, which figure it was last told, and
//! whether a stock change made that figure stale (the marks themselves are
//! [`crate::catalog::listing_marks`], beneath the stages that change stock).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{channel_listings, channel_stock_log};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::catalog::product_repo;
use crate::domain::{ConnectionId, Sku, VariantId};
use crate::tenancy::{AnyTx, TenantTx};

pub use channel_listings::Model as Listing;
pub use channel_stock_log::Model as LogEntry;

pub use crate::catalog::listing_marks::{mark, mark_all, schedule, schedule_at};

/// A connection's stale mapped listings, longest stale first.
pub async fn dirty(
    tx: &TenantTx,
    connection: ConnectionId,
    limit: u64,
) -> Result<Vec<Listing>, DbErr> {
    channel_listings::Entity::find()
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::ConnectionId.eq(connection.uuid()))
        .filter(channel_listings::Column::DirtyAt.is_not_null())
        .order_by_asc(channel_listings::Column::DirtyAt)
        .order_by_asc(channel_listings::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

/// What became of a listing's figure.
pub struct Told {
    pub listing: uuid::Uuid,
    /// The mark it answers: a newer one keeps the listing stale.
    pub dirty_at: Option<DateTime<Utc>>,
    /// The figure the channel now holds (pushed, or found already there).
    pub quantity: Option<i64>,
    pub error: Option<String>,
}

pub async fn settle(tx: &TenantTx, told: &[Told]) -> Result<(), DbErr> {
    use channel_listings::Column as C;
    let now = Utc::now();
    for t in told {
        let mut update = channel_listings::Entity::update_many()
            .col_expr(C::LastError, Expr::value(t.error.clone()))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::TenantId.eq(tx.tenant().uuid()))
            .filter(C::Id.eq(t.listing));
        if let Some(q) = t.quantity {
            // A figure sent since an Amazon feed was: that feed's report no longer speaks
            // for the listing.
            update = update
                .col_expr(C::PushedQuantity, Expr::value(q))
                .col_expr(C::PushedAt, Expr::value(now))
                .col_expr(C::StockFeed, Expr::value(Option::<String>::None));
        }
        update.exec(tx.conn()).await?;
        // Clean again only if no stock change came in since it was read. A refused item is
        // clean too, keeping its refusal: sent again with its SKU's next change, a drift check
        // or a settings change, never in a loop.
        let mut clear = channel_listings::Entity::update_many()
            .col_expr(C::DirtyAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(C::TenantId.eq(tx.tenant().uuid()))
            .filter(C::Id.eq(t.listing));
        clear = match t.dirty_at {
            Some(at) => clear.filter(C::DirtyAt.lte(at)),
            None => clear.filter(C::DirtyAt.is_null()),
        };
        clear.exec(tx.conn()).await?;
    }
    Ok(())
}

/// A channel item as its catalog lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub remote_key: String,
    pub product: String,
    pub variant: Option<String>,
    pub item: Option<String>,
    pub sku: String,
    pub title: String,
    pub quantity: Option<i64>,
}

/// What an import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub listed: usize,
    pub new: usize,
    pub matched: usize,
    pub unmatched: usize,
}

/// Writes what the channel's catalog lists: new items added, known ones refreshed, each
/// matched by SKU to a variant (unless staff mapped it by hand). A newly matched listing is
/// stale: its figure is pushed.
pub async fn import(
    tx: &TenantTx,
    connection: ConnectionId,
    seen: &[Seen],
) -> Result<Imported, DbErr> {
    use channel_listings::Column as C;
    let mut known: HashMap<String, Listing> = channel_listings::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::ConnectionId.eq(connection.uuid()))
        .filter(C::RemoteKey.is_in(seen.iter().map(|s| s.remote_key.clone())))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|l| (l.remote_key.clone(), l))
        .collect();
    let skus: Vec<Sku> = seen
        .iter()
        .filter_map(|s| Sku::parse(&s.sku).ok())
        .collect();
    let variants: HashMap<String, uuid::Uuid> = product_repo::variants_by_sku(tx, &skus)
        .await?
        .into_iter()
        .map(|v| (v.sku, v.id))
        .collect();
    let now = Utc::now();
    let mut out = Imported {
        listed: seen.len(),
        ..Imported::default()
    };
    let mut touched = false;
    for s in seen {
        let by_sku = variants.get(s.sku.trim()).copied();
        match known.remove(&s.remote_key) {
            Some(l) => {
                let variant = if l.mapped_by_hand {
                    l.variant_id
                } else {
                    by_sku
                };
                let newly = variant.is_some() && variant != l.variant_id;
                let mut row: channel_listings::ActiveModel = l.into();
                row.remote_product = Set(s.product.clone());
                row.remote_variant = Set(s.variant.clone());
                row.remote_item = Set(s.item.clone());
                row.sku = Set(s.sku.clone());
                row.title = Set(s.title.clone());
                row.variant_id = Set(variant);
                row.remote_quantity = Set(s.quantity);
                row.seen_at = Set(now);
                row.updated_at = Set(now);
                if newly {
                    row.dirty_at = Set(Some(now));
                    touched = true;
                }
                channel_listings::Entity::update(row)
                    .exec(tx.conn())
                    .await?;
                count(&mut out, variant.is_some());
            }
            None => {
                out.new += 1;
                touched |= by_sku.is_some();
                channel_listings::Entity::insert(channel_listings::ActiveModel {
                    tenant_id: Set(tx.tenant().uuid()),
                    id: Set(uuid::Uuid::now_v7()),
                    connection_id: Set(connection.uuid()),
                    remote_key: Set(s.remote_key.clone()),
                    remote_product: Set(s.product.clone()),
                    remote_variant: Set(s.variant.clone()),
                    remote_item: Set(s.item.clone()),
                    sku: Set(s.sku.clone()),
                    title: Set(s.title.clone()),
                    variant_id: Set(by_sku),
                    mapped_by_hand: Set(false),
                    remote_quantity: Set(s.quantity),
                    pushed_quantity: Set(None),
                    pushed_at: Set(None),
                    dirty_at: Set(by_sku.map(|_| now)),
                    drift_count: Set(0),
                    last_error: Set(None),
                    stock_feed: Set(None),
                    seen_at: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                })
                .exec_without_returning(tx.conn())
                .await?;
                count(&mut out, by_sku.is_some());
            }
        }
    }
    if touched {
        schedule(tx, [connection.uuid()]).await?;
    }
    Ok(out)
}

fn count(out: &mut Imported, matched: bool) {
    if matched {
        out.matched += 1;
    } else {
        out.unmatched += 1;
    }
}

/// After a complete import: what the catalog no longer lists is no longer a listing.
pub async fn forget_unseen(
    tx: &TenantTx,
    connection: ConnectionId,
    started: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(channel_listings::Entity::delete_many()
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::ConnectionId.eq(connection.uuid()))
        .filter(channel_listings::Column::SeenAt.lt(started))
        .exec(tx.conn())
        .await?
        .rows_affected)
}

/// A connection's listings by SKU (unmatched ones only, if asked), after a cursor.
pub async fn of_connection(
    tx: &TenantTx,
    connection: ConnectionId,
    unmatched: bool,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Listing>, DbErr> {
    let mut q = channel_listings::Entity::find()
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::ConnectionId.eq(connection.uuid()));
    if unmatched {
        q = q.filter(channel_listings::Column::VariantId.is_null());
    }
    if let Some(after) = after {
        q = q.filter(channel_listings::Column::Id.gt(after));
    }
    q.order_by_asc(channel_listings::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

pub async fn get(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Listing>, DbErr> {
    channel_listings::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// Staff map a listing to a variant (or unmap it): kept through imports; its figure is
/// pushed at once.
pub async fn map_by_hand(
    tx: &TenantTx,
    listing: Listing,
    variant: Option<VariantId>,
) -> Result<Listing, DbErr> {
    let now = Utc::now();
    let connection = listing.connection_id;
    let mut row: channel_listings::ActiveModel = listing.into();
    row.variant_id = Set(variant.map(VariantId::uuid));
    row.mapped_by_hand = Set(variant.is_some());
    row.dirty_at = Set(variant.map(|_| now));
    row.pushed_quantity = Set(None);
    row.last_error = Set(None);
    row.updated_at = Set(now);
    let saved = channel_listings::Entity::update(row)
        .exec(tx.conn())
        .await?;
    if variant.is_some() {
        schedule(tx, [connection]).await?;
    }
    Ok(saved)
}

/// Counts of a connection's listings: all, matched, stale, in error, drift found.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub listed: i64,
    pub matched: i64,
    pub stale: i64,
    pub failing: i64,
    pub drift: i64,
}

/// A listing as counted: its variant, stale mark, refusal and drift count.
type CountRow = (
    Option<uuid::Uuid>,
    Option<DateTime<Utc>>,
    Option<String>,
    i32,
);

pub async fn counts(tx: &TenantTx, connection: ConnectionId) -> Result<Counts, DbErr> {
    // Per connection at most a catalog's size; summed here rather than in five queries.
    let rows: Vec<CountRow> = channel_listings::Entity::find()
        .select_only()
        .column(channel_listings::Column::VariantId)
        .column(channel_listings::Column::DirtyAt)
        .column(channel_listings::Column::LastError)
        .column(channel_listings::Column::DriftCount)
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::ConnectionId.eq(connection.uuid()))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows.iter().fold(Counts::default(), |mut c, r| {
        c.listed += 1;
        c.matched += i64::from(r.0.is_some());
        c.stale += i64::from(r.0.is_some() && r.1.is_some());
        c.failing += i64::from(r.2.is_some());
        c.drift += i64::from(r.3);
        c
    }))
}

/// A line of the stock sync log.
pub struct NewLog<'a> {
    pub connection: ConnectionId,
    pub kind: &'a str,
    pub state: &'a str,
    pub items: usize,
    pub changed: usize,
    pub summary: String,
    pub answer: Option<String>,
    pub took: Option<std::time::Duration>,
}

pub async fn log(tx: &TenantTx, l: NewLog<'_>) -> Result<(), DbErr> {
    channel_stock_log::Entity::insert(channel_stock_log::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(uuid::Uuid::now_v7()),
        connection_id: Set(l.connection.uuid()),
        kind: Set(l.kind.to_owned()),
        state: Set(l.state.to_owned()),
        items: Set(i32::try_from(l.items).unwrap_or(i32::MAX)),
        changed: Set(i32::try_from(l.changed).unwrap_or(i32::MAX)),
        summary: Set(l.summary),
        answer: Set(l.answer),
        duration_ms: Set(l
            .took
            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX))),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

/// A connection's stock log, newest first.
pub async fn log_of(
    tx: &TenantTx,
    connection: ConnectionId,
    limit: u64,
) -> Result<Vec<LogEntry>, DbErr> {
    channel_stock_log::Entity::find()
        .filter(channel_stock_log::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_stock_log::Column::ConnectionId.eq(connection.uuid()))
        .order_by_desc(channel_stock_log::Column::CreatedAt)
        .order_by_desc(channel_stock_log::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}
