//! One stock figure on every channel. Orderflow's ledger is the stock master: for each SKU a
//! channel lists, it shows the free stock of the warehouses that stock that channel, its
//! share of it, less a safety buffer ([`ats`]). Every stock movement marks the SKU's
//! listings stale in its own transaction and queues one push per connection
//! ([`listings::mark`]); the push waits a second for others to join it and sends the latest
//! figures in the platform's bulk form ([`write`]), so a burst of changes costs a few pushes,
//! never one each. One push runs per connection at a time (a lease), so figures arrive in
//! order; a channel that is down or limiting keeps its listings stale and is asked again
//! with backoff (a `Retry-After` is honoured), so nothing is lost.
//!
//! The listing map comes from the channel's catalog ([`catalog`]), matched by SKU; what does
//! not match waits for staff. The same read, hourly, is the drift check: a mapped listing
//! showing another figure than the one pushed is counted and corrected.

pub mod ats;
pub mod catalog;
pub mod feed;
pub mod graphql;
pub mod listings;
pub mod shop;
pub mod write;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{channel_connections, channel_listings};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use self::listings::{Listing, NewLog, Told};
use self::shop::{CallError, Shop};
use self::write::Figure;
use super::connections::{api_credentials, open_secrets};
use super::repo::{self as channels, Connection};
use super::{Platform, health};
use crate::catalog::{listing_marks, product_repo, warehouse_repo};
use crate::domain::{ConnectionId, TenantId, VariantId};
use crate::infra::outbound::api::rate_limited_for;
use crate::infra::seal::Sealer;
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::inventory::repo as inventory;
use crate::lifecycle::settings::fulfillment as settings;
use crate::state::AppState;
use crate::tenancy::{AnyTx, TenantTx};

/// How long one stock run holds its connection (longer than a run may take).
const LEASE: chrono::Duration = chrono::Duration::seconds(150);
/// How often a connection's catalog is read again: the listing map refreshed, drift found.
pub const CHECK_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Sends a connection's stale figures.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct StockToChannel {
    pub connection: ConnectionId,
    /// Tries in a row the channel was unavailable (0 after one that worked).
    #[serde(default)]
    pub round: i32,
}

impl Job for StockToChannel {
    const NAME: &'static str = listing_marks::PUSH_JOB;
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(listing_marks::push_key(self.connection))
    }
}

impl Run for StockToChannel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        push(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Reads a connection's catalog: the listing map refreshed and its drift found and corrected;
/// then the next read is scheduled.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct CheckChannelStock {
    pub connection: ConnectionId,
}

impl Job for CheckChannelStock {
    const NAME: &'static str = "channel.stock_check";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(300);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("stock_check:{}", self.connection))
    }
}

impl Run for CheckChannelStock {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        check(state, claim.tenant, self.connection)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Whether Orderflow keeps this connection's stock: active, syncing, with API credentials.
pub fn keeps_stock(sealer: &Sealer, c: &Connection) -> bool {
    let Some(platform) = Platform::parse(&c.platform) else {
        return false;
    };
    c.active
        && c.stock_sync
        && open_secrets(sealer, c).is_ok_and(|s| {
            api_credentials(platform)
                .iter()
                .all(|k| s.credentials.contains_key(*k))
        })
}

/// Takes the connection's stock lease; false while another run holds it.
async fn lease(
    tx: &TenantTx,
    connection: ConnectionId,
    until: Option<chrono::DateTime<Utc>>,
) -> Result<bool, DbErr> {
    use channel_connections::Column as C;
    let now = Utc::now();
    let mut update = channel_connections::Entity::update_many()
        .col_expr(C::StockLeaseUntil, Expr::value(until))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(connection.uuid()));
    if until.is_some() {
        update = update.filter(C::StockLeaseUntil.is_null().or(C::StockLeaseUntil.lt(now)));
    }
    Ok(update.exec(tx.conn()).await?.rows_affected == 1)
}

async fn push(state: &Arc<AppState>, tenant: TenantId, job: StockToChannel) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let held = lease(&tx, job.connection, Some(Utc::now() + LEASE)).await?;
    tx.commit().await?;
    if !held {
        // Another run has the connection; this one's listings stay stale for the next.
        let tx = TenantTx::begin(&state.db, tenant).await?;
        job.enqueue_at(&tx, Utc::now() + chrono::Duration::seconds(2))
            .await?;
        return tx.commit().await;
    }
    let outcome = push_batch(state, tenant, job).await;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    lease(&tx, job.connection, None).await?;
    tx.commit().await?;
    outcome
}

/// The figures a run works out, before anything is sent.
struct Batch {
    connection: Connection,
    platform: Platform,
    listings: Vec<Listing>,
    /// Per listing: the figure it should show (None: unmapped, nothing to show).
    targets: Vec<Option<i64>>,
    full: bool,
}

async fn batch(tx: &TenantTx, c: Connection, platform: Platform) -> Result<Batch, DbErr> {
    let size = write::batch(platform);
    let listings = listings::dirty(tx, ConnectionId(c.id), size).await?;
    let variants: Vec<VariantId> = listings
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let levels = inventory::levels_of(tx, &variants).await?;
    let buffers = product_repo::variants_by_id(tx, &variants).await?;
    let buffer = i64::from(settings::load(tx).await?.channel_stock_buffer);
    let active: Vec<uuid::Uuid> = warehouse_repo::list(tx, false, None, 10_000)
        .await?
        .into_iter()
        .map(|w| w.id)
        .collect();
    let only: Option<Vec<uuid::Uuid>> = c
        .stock_warehouses
        .clone()
        .and_then(|w| serde_json::from_value(w).ok());
    let targets = listings
        .iter()
        .map(|l| {
            let variant = l.variant_id?;
            let of: Vec<&inventory::StockLevel> = levels
                .iter()
                .filter(|s| s.variant.uuid() == variant)
                .collect();
            let own = buffers
                .iter()
                .find(|v| v.id == variant)
                .and_then(|v| v.channel_buffer);
            Some(ats::available_to_sell(
                &of,
                &ats::Rule {
                    warehouses: only.as_deref(),
                    active: &active,
                    share: c.stock_share,
                    buffer: own.map_or(buffer, i64::from),
                },
            ))
        })
        .collect();
    Ok(Batch {
        full: listings.len() as u64 >= size,
        connection: c,
        platform,
        listings,
        targets,
    })
}

async fn push_batch(
    state: &Arc<AppState>,
    tenant: TenantId,
    job: StockToChannel,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(c) = channels::connection(&tx, job.connection).await? else {
        return tx.commit().await;
    };
    let Some(platform) = Platform::parse(&c.platform).filter(|_| keeps_stock(&state.sealer, &c))
    else {
        // Nothing is kept on this channel: its marks are dropped, not left to pile up.
        channel_listings::Entity::update_many()
            .col_expr(
                channel_listings::Column::DirtyAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(channel_listings::Column::TenantId.eq(tenant.uuid()))
            .filter(channel_listings::Column::ConnectionId.eq(c.id))
            .exec(tx.conn())
            .await?;
        return tx.commit().await;
    };
    let b = batch(&tx, c, platform).await?;
    tx.commit().await?;
    // Figures the channel already shows, and unmapped listings, need no call.
    let mut told: Vec<Told> = Vec::new();
    let mut figures: Vec<Figure<'_>> = Vec::new();
    for (l, target) in b.listings.iter().zip(&b.targets) {
        match target {
            Some(q) if l.pushed_quantity != Some(*q) || l.last_error.is_some() => {
                figures.push(Figure {
                    listing: l,
                    quantity: *q,
                });
            }
            _ => told.push(Told {
                listing: l.id,
                dirty_at: l.dirty_at,
                quantity: *target,
                error: None,
            }),
        }
    }
    let mut outcome: Result<(), CallError> = Ok(());
    let mut took = None;
    let mut feed_id = None;
    if !figures.is_empty() {
        let calls = write::calls(platform, &figures);
        let feed = platform == Platform::Amazon && figures.len() > feed::PATCH_UP_TO;
        if let Err(wait) = super::pace::take(state, b.connection.id, platform, calls).await {
            outcome = Err(CallError::Down(format!(
                "Orderflow's pace for {}: this connection's calls are spent for the next {} s",
                platform.label(),
                std::cmp::max(wait.as_secs(), 1)
            )));
        } else if let Err(wait) = feed_quota(state, b.connection.id, feed).await {
            outcome = Err(CallError::Down(format!(
                "Amazon's createFeed quota (one feed every two minutes) is spent (rate limited for {}s)",
                std::cmp::max(wait.as_secs(), 1)
            )));
        } else {
            let started = Instant::now();
            outcome = send(state, &b, &figures, &mut told)
                .await
                .map(|feed| feed_id = feed);
            took = Some(started.elapsed());
        }
    }
    let tx = TenantTx::begin(&state.db, tenant).await?;
    listings::settle(&tx, &told).await?;
    if let Some(id) = &feed_id {
        let carried: Vec<uuid::Uuid> = figures.iter().map(|f| f.listing.id).collect();
        feed::submitted(&tx, job.connection, id, &carried).await?;
    }
    let sent = figures.len();
    let refused: Vec<&Told> = told.iter().filter(|t| t.error.is_some()).collect();
    let summary = summary(&b, &figures, refused.len());
    match &outcome {
        Ok(()) => {
            if sent > 0 {
                listings::log(
                    &tx,
                    NewLog {
                        connection: job.connection,
                        kind: "stock",
                        state: if refused.is_empty() { "sent" } else { "failed" },
                        items: b.listings.len(),
                        changed: sent - refused.len(),
                        summary,
                        answer: refused.first().and_then(|t| t.error.clone()),
                        took,
                    },
                )
                .await?;
            }
            if b.full {
                // More are stale: the next batch at once (the window was waited for).
                listings::schedule_at(&tx, [job.connection.uuid()], Utc::now()).await?;
            }
            if sent > refused.len() {
                health::worked(&tx, job.connection.uuid()).await?;
            }
        }
        Err(CallError::Down(why)) => {
            listings::log(
                &tx,
                NewLog {
                    connection: job.connection,
                    kind: "stock",
                    state: "waiting",
                    items: b.listings.len(),
                    changed: 0,
                    summary,
                    answer: Some(why.clone()),
                    took,
                },
            )
            .await?;
            let round = job.round + 1;
            let after = crate::lifecycle::refund::remote::backoff(round, rate_limited_for(why));
            StockToChannel {
                connection: job.connection,
                round,
            }
            .enqueue_at(
                &tx,
                Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
            )
            .await?;
            health::failed(
                &tx,
                job.connection.uuid(),
                &format!("stock push waiting: {why}"),
            )
            .await?;
        }
        Err(CallError::Access(why) | CallError::Refused(why)) => {
            // Nothing more is tried until the connection is fixed (its update marks all).
            listings::log(
                &tx,
                NewLog {
                    connection: job.connection,
                    kind: "stock",
                    state: "failed",
                    items: b.listings.len(),
                    changed: 0,
                    summary,
                    answer: Some(why.clone()),
                    took,
                },
            )
            .await?;
            health::failed(
                &tx,
                job.connection.uuid(),
                &format!("stock push failed: {why}"),
            )
            .await?;
        }
    }
    tx.commit().await
}

/// An Amazon listings feed also takes from `createFeed`'s own quota.
async fn feed_quota(state: &AppState, connection: uuid::Uuid, feed: bool) -> Result<(), Duration> {
    if !feed {
        return Ok(());
    }
    let quota = super::pace::AMAZON_CREATE_FEED;
    super::pace::take_operation(state, connection, "amazon.createFeed", quota).await
}

/// Opens the shop and writes the figures; each figure's outcome joins `told`. The Amazon
/// listings feed that carries them, when they went as one.
async fn send(
    state: &AppState,
    b: &Batch,
    figures: &[Figure<'_>],
    told: &mut Vec<Told>,
) -> Result<Option<String>, CallError> {
    let secrets = open_secrets(&state.sealer, &b.connection).map_err(|_| {
        CallError::Access(format!(
            "the {} connection's credentials cannot be opened",
            b.platform.label()
        ))
    })?;
    let shop = Shop::open(
        &state.http,
        b.platform,
        &secrets.credentials,
        &b.connection.shop_domain,
    )
    .await
    .map_err(CallError::from)?;
    let results = write::write(&shop, b.connection.stock_location.as_deref(), figures).await;
    // Kept even when the write was throttled: that is when it matters.
    if let Some((used, limit)) = shop.used() {
        super::pace::observe(state, b.connection.id, b.platform, used, limit).await;
    }
    let written = results?;
    for (f, r) in figures.iter().zip(written.results) {
        told.push(Told {
            listing: f.listing.id,
            dirty_at: f.listing.dirty_at,
            quantity: r.is_ok().then_some(f.quantity),
            error: r.err(),
        });
    }
    Ok(written.feed)
}

fn summary(b: &Batch, figures: &[Figure<'_>], refused: usize) -> String {
    let shown: Vec<String> = figures
        .iter()
        .take(5)
        .map(|f| format!("{} → {}", f.listing.sku, f.quantity))
        .collect();
    let more = figures.len().saturating_sub(shown.len());
    format!(
        "stock of {} listing{} sent to {}{}{}{}",
        figures.len(),
        if figures.len() == 1 { "" } else { "s" },
        b.platform.label(),
        if shown.is_empty() {
            String::new()
        } else {
            format!(": {}", shown.join(", "))
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        if refused > 0 {
            format!(" ({refused} refused)")
        } else {
            String::new()
        },
    )
}

/// The SKUs a connection's orders named: Amazon's listings, which its API cannot list.
async fn ordered_skus(tx: &TenantTx, connection: ConnectionId) -> Result<Vec<String>, DbErr> {
    use entity::{order_lines, orders};
    let of_connection = Query::select()
        .column(orders::Column::Id)
        .from(orders::Entity)
        .and_where(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .and_where(orders::Column::ConnectionId.eq(connection.uuid()))
        .to_owned();
    let skus: Vec<Option<String>> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::Sku)
        .distinct()
        .filter(order_lines::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_lines::Column::OrderId.in_subquery(of_connection))
        .filter(order_lines::Column::Sku.is_not_null())
        .limit(1000)
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(skus.into_iter().flatten().collect())
}

async fn check(state: &Arc<AppState>, tenant: TenantId, id: ConnectionId) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(c) = channels::connection(&tx, id).await? else {
        return tx.commit().await;
    };
    let Some(platform) = Platform::parse(&c.platform).filter(|_| keeps_stock(&state.sealer, &c))
    else {
        return tx.commit().await;
    };
    // The next read, whatever this one comes to.
    CheckChannelStock { connection: id }
        .enqueue_at(&tx, Utc::now() + CHECK_EVERY)
        .await?;
    let mut known: Vec<String> = listings::of_connection(&tx, id, false, None, 10_000)
        .await?
        .into_iter()
        .map(|l| l.sku)
        .collect();
    if platform == Platform::Amazon {
        known.extend(ordered_skus(&tx, id).await?);
        known.sort();
        known.dedup();
    }
    tx.commit().await?;
    let started = Utc::now();
    let clock = Instant::now();
    let read = match open_secrets(&state.sealer, &c) {
        Err(_) => Err(CallError::Access(
            "the connection's credentials cannot be opened".into(),
        )),
        Ok(secrets) => {
            match Shop::open(&state.http, platform, &secrets.credentials, &c.shop_domain).await {
                Err(f) => Err(CallError::from(f)),
                Ok(shop) => catalog::read(&shop, c.stock_location.as_deref(), &known).await,
            }
        }
    };
    let took = clock.elapsed();
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let catalog = match read {
        Ok(catalog) => catalog,
        Err(CallError::Down(why) | CallError::Access(why) | CallError::Refused(why)) => {
            listings::log(
                &tx,
                NewLog {
                    connection: id,
                    kind: "import",
                    state: "failed",
                    items: 0,
                    changed: 0,
                    summary: format!("{}'s catalog could not be read", platform.label()),
                    answer: Some(why.clone()),
                    took: Some(took),
                },
            )
            .await?;
            health::failed(&tx, id.uuid(), &format!("catalog read failed: {why}")).await?;
            return tx.commit().await;
        }
    };
    if let Some(location) = &catalog.location {
        channel_connections::Entity::update_many()
            .col_expr(
                channel_connections::Column::StockLocation,
                Expr::value(Some(location.clone())),
            )
            .filter(channel_connections::Column::TenantId.eq(tenant.uuid()))
            .filter(channel_connections::Column::Id.eq(id.uuid()))
            .exec(tx.conn())
            .await?;
    }
    health::worked(&tx, id.uuid()).await?;
    let imported = listings::import(&tx, id, &catalog.items).await?;
    let gone = if catalog.complete {
        listings::forget_unseen(&tx, id, started).await?
    } else {
        0
    };
    listings::log(
        &tx,
        NewLog {
            connection: id,
            kind: "import",
            state: "sent",
            items: imported.listed,
            changed: imported.new,
            summary: format!(
                "{} items on {}: {} matched by SKU, {} unmatched, {} new, {} gone{}",
                imported.listed,
                platform.label(),
                imported.matched,
                imported.unmatched,
                imported.new,
                gone,
                if catalog.complete {
                    ""
                } else {
                    " (read cut short: the rest next time)"
                }
            ),
            answer: None,
            took: Some(took),
        },
    )
    .await?;
    let drifted = drift(&tx, id).await?;
    if drifted > 0 {
        listings::log(
            &tx,
            NewLog {
                connection: id,
                kind: "drift",
                state: "sent",
                items: imported.matched,
                changed: drifted,
                summary: format!(
                    "{drifted} listing{} on {} showed another figure than Orderflow pushed: corrected",
                    if drifted == 1 { "" } else { "s" },
                    platform.label()
                ),
                answer: None,
                took: None,
            },
        )
        .await?;
    }
    tx.commit().await
}

/// Mapped listings whose channel figure (as just read) is not the one pushed, and that no
/// stock change has made stale since: counted, and pushed again.
async fn drift(tx: &TenantTx, connection: ConnectionId) -> Result<usize, DbErr> {
    use channel_listings::Column as C;
    let drifted: Vec<Listing> = channel_listings::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::ConnectionId.eq(connection.uuid()))
        .filter(C::VariantId.is_not_null())
        .filter(C::DirtyAt.is_null())
        .filter(C::PushedQuantity.is_not_null())
        .filter(C::RemoteQuantity.is_not_null())
        .filter(Expr::col(C::RemoteQuantity).ne(Expr::col(C::PushedQuantity)))
        .all(tx.conn())
        .await?;
    if drifted.is_empty() {
        return Ok(0);
    }
    channel_listings::Entity::update_many()
        // What the channel holds is what was last told, as far as the push can know.
        .col_expr(C::PushedQuantity, Expr::col(C::RemoteQuantity))
        .col_expr(C::DriftCount, Expr::col(C::DriftCount).add(1))
        .col_expr(C::DirtyAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.is_in(drifted.iter().map(|l| l.id)))
        .exec(tx.conn())
        .await?;
    listings::schedule(tx, [connection.uuid()]).await?;
    Ok(drifted.len())
}
