//! The stock side of a channel over GraphQL: its listing map (what is matched, what waits for
//! staff), its stock log (pushes, catalog reads, drift found), and the figures' health.

use async_graphql::connection::Connection as Page;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::CheckChannelStock;
use super::listings::{self, Listing, LogEntry};
use crate::catalog::product_repo;
use crate::channels::repo as channels;
use crate::domain::{ConnectionId, Sku, VariantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::jobs::Job;
use crate::state::AppState;
use crate::tenancy::{Permission, Principal, TenantTx};

/// What a channel sells one SKU as, and the figure Orderflow last told it.
#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelListing {
    pub id: ID,
    pub connection_id: ID,
    pub sku: String,
    pub title: String,
    /// The channel's product (Etsy: listing) id.
    pub remote_product_id: String,
    /// The channel's variant (Etsy: product) id.
    pub remote_variant_id: Option<String>,
    /// Shopify's inventory item.
    pub remote_inventory_item_id: Option<String>,
    /// The variant it is matched to; none: unmatched, waiting for staff.
    pub variant_id: Option<ID>,
    pub mapped_by_hand: bool,
    /// The figure the channel showed when last read.
    pub channel_quantity: Option<i64>,
    /// The figure Orderflow last pushed.
    pub pushed_quantity: Option<i64>,
    pub pushed_at: Option<DateTime<Utc>>,
    /// A stock change is waiting to be pushed.
    pub stale: bool,
    pub drift_count: i32,
    /// The platform's refusal of the last push, in its words.
    pub last_error: Option<String>,
    pub seen_at: DateTime<Utc>,
}

impl From<Listing> for ChannelListing {
    fn from(l: Listing) -> Self {
        Self {
            id: global_id("ChannelListing", l.id),
            connection_id: global_id("ChannelConnection", l.connection_id),
            sku: l.sku,
            title: l.title,
            remote_product_id: l.remote_product,
            remote_variant_id: l.remote_variant,
            remote_inventory_item_id: l.remote_item,
            variant_id: l.variant_id.map(|v| global_id("Variant", v)),
            mapped_by_hand: l.mapped_by_hand,
            channel_quantity: l.remote_quantity,
            pushed_quantity: l.pushed_quantity,
            pushed_at: l.pushed_at,
            stale: l.dirty_at.is_some() && l.variant_id.is_some(),
            drift_count: l.drift_count,
            last_error: l.last_error,
            seen_at: l.seen_at,
        }
    }
}

/// A stock push, catalog read or drift check, as the stock log shows it.
#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelStockEntry {
    pub id: ID,
    /// stock, import or drift.
    pub kind: String,
    /// sent, waiting (the channel is down or limiting: asked again) or failed.
    pub state: String,
    pub items: i32,
    pub changed: i32,
    pub summary: String,
    pub answer: Option<String>,
    pub duration_ms: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<LogEntry> for ChannelStockEntry {
    fn from(e: LogEntry) -> Self {
        Self {
            id: global_id("ChannelStockEntry", e.id),
            kind: e.kind,
            state: e.state,
            items: e.items,
            changed: e.changed,
            summary: e.summary,
            answer: e.answer,
            duration_ms: e.duration_ms,
            created_at: e.created_at,
        }
    }
}

/// How true a channel's stock is.
#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelStockSummary {
    pub listed: i64,
    pub matched: i64,
    pub unmatched: i64,
    /// Matched listings with a stock change still to push.
    pub stale: i64,
    /// Listings whose last push the channel refused.
    pub failing: i64,
    /// Times the drift check found a channel figure not the one pushed (and corrected it).
    pub drift_found: i64,
}

#[derive(InputObject)]
pub struct MapChannelListingInput {
    pub listing_id: ID,
    /// The SKU of ours it is; none unmaps it.
    pub sku: Option<String>,
}

#[derive(SimpleObject)]
pub struct ChannelListingPayload {
    pub channel_listing: Option<ChannelListing>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CheckChannelStockInput {
    pub connection_id: ID,
}

#[derive(SimpleObject)]
pub struct CheckChannelStockPayload {
    pub queued: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ChannelStockQuery;

fn connection_id(id: &ID) -> async_graphql::Result<ConnectionId> {
    Ok(ConnectionId(decode_id(
        id,
        "ChannelConnection",
        "connectionId",
    )?))
}

#[Object]
impl ChannelStockQuery {
    /// A connection's listing map by id; `unmatchedOnly` lists what waits for staff.
    #[graphql(
        guard = "Perm(Permission::ChannelsManage)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn channel_listings(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        #[graphql(default = false)] unmatched_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Page<String, ChannelListing>> {
        let p = principal(ctx)?;
        let id = self::connection_id(&connection_id)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = listings::of_connection(&tx, id, unmatched_only, after, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|l| (l.id, ChannelListing::from(l)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    /// A connection's stock pushes, catalog reads and drift checks, newest first.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn channel_stock_log(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<ChannelStockEntry>> {
        let p = principal(ctx)?;
        let id = self::connection_id(&connection_id)?;
        let limit = u64::try_from(first.clamp(1, 500)).unwrap_or(50);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = listings::log_of(&tx, id, limit).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(ChannelStockEntry::from).collect())
    }

    /// How true a connection's stock is: listed, matched, stale, failing, drift found.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn channel_stock(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
    ) -> async_graphql::Result<ChannelStockSummary> {
        let p = principal(ctx)?;
        let id = self::connection_id(&connection_id)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let c = listings::counts(&tx, id).await?;
        tx.commit().await?;
        Ok(ChannelStockSummary {
            listed: c.listed,
            matched: c.matched,
            unmatched: c.listed - c.matched,
            stale: c.stale,
            failing: c.failing,
            drift_found: c.drift,
        })
    }
}

#[derive(Default)]
pub struct ChannelStockMutation;

#[Object]
impl ChannelStockMutation {
    /// Maps a channel listing to one of our SKUs (kept through catalog reads), or unmaps it;
    /// its figure is pushed at once.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn map_channel_listing(
        &self,
        ctx: &Context<'_>,
        input: MapChannelListingInput,
    ) -> async_graphql::Result<ChannelListingPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.listing_id, "ChannelListing", "listingId")?;
        let (value, user_errors) = payload(map(state(ctx), p, id, input.sku).await)?;
        Ok(ChannelListingPayload {
            channel_listing: value.map(ChannelListing::from),
            user_errors,
        })
    }

    /// Reads a connection's catalog now (the listing map refreshed, drift found and
    /// corrected) instead of at its next hourly check.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn check_channel_stock(
        &self,
        ctx: &Context<'_>,
        input: CheckChannelStockInput,
    ) -> async_graphql::Result<CheckChannelStockPayload> {
        let p = principal(ctx)?;
        let id = connection_id(&input.connection_id)?;
        let (value, user_errors) = payload(check_now(state(ctx), p, id).await)?;
        Ok(CheckChannelStockPayload {
            queued: value.unwrap_or(false),
            user_errors,
        })
    }
}

async fn map(
    state: &AppState,
    principal: &Principal,
    id: uuid::Uuid,
    sku: Option<String>,
) -> Outcome<Listing> {
    principal.require(Permission::ChannelsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(listing) = listings::get(&tx, id).await? else {
        return Err(UserError::on("listingId", C::NotFound, "no such channel listing").into());
    };
    let variant = match sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let sku = Sku::parse(raw).map_err(|m| UserError::on("sku", C::Invalid, m))?;
            let Some(v) = product_repo::variant_by_sku(&tx, &sku).await? else {
                return Err(UserError::on("sku", C::NotFound, "no variant has this SKU").into());
            };
            Some(VariantId(v.id))
        }
    };
    let saved = listings::map_by_hand(&tx, listing, variant).await?;
    tx.commit().await?;
    Ok(saved)
}

async fn check_now(state: &AppState, principal: &Principal, id: ConnectionId) -> Outcome<bool> {
    principal.require(Permission::ChannelsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(c) = channels::connection(&tx, id).await? else {
        return Err(
            UserError::on("connectionId", C::NotFound, "no such channel connection").into(),
        );
    };
    if !super::keeps_stock(&state.sealer, &c) {
        return Err(UserError::on(
            "connectionId",
            C::Invalid,
            "Orderflow does not keep this channel's stock: it needs to be active, with stock sync on and API credentials",
        )
        .into());
    }
    let check = CheckChannelStock { connection: id };
    let key = check.dedupe_key(principal.tenant).unwrap_or_default();
    check.enqueue(&tx).await?;
    // The hourly check already queued runs now instead.
    crate::jobs::queue::due_now(&tx, &key).await?;
    tx.commit().await?;
    Ok(true)
}
