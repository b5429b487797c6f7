//! Polling the channels that do not push (Amazon, Etsy): a recurring job per connection reads
//! what changed since the last sync and stores each order as a delivery, exactly like a
//! webhook — so the same job maps it, and the same dedupe absorbs what is read twice.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::{channel_connections, channel_deliveries};
use sea_orm::ActiveValue::Set;
use serde_json::Value;

use super::connections::open_secrets;
use super::deliveries::{DeliveryStatus, ProcessDelivery};
use super::repo::{self, Connection};
use super::{Platform, amazon, etsy, shopify, woocommerce};
use crate::domain::{ConnectionId, DeliveryId, TenantId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::infra::outbound::api::ApiError;
use crate::jobs::{Claim, Job, Run};
use crate::state::AppState;
use crate::tenancy::{Permission, Principal, TenantTx};

/// Reads a polled connection's new orders, then schedules the next read (one pending per
/// connection).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct PollChannel {
    pub connection: ConnectionId,
}

impl Job for PollChannel {
    const NAME: &'static str = "channels.poll";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("poll:{}", self.connection))
    }
}
/// The topic of deliveries read by polling rather than pushed.
pub const POLL_TOPIC: &str = "poll";
/// How often each polled connection is read.
pub const EVERY: Duration = Duration::minutes(5);
/// How often webhook platforms are read too, to catch deliveries that never arrived.
pub const RECONCILE_EVERY: Duration = Duration::hours(1);
/// Re-read this far behind the cursor: platforms index updates with some lag.
const OVERLAP: Duration = Duration::minutes(10);
/// How far back a first sync reaches.
const FIRST_SYNC: Duration = Duration::days(30);

/// Pages one poll reads at most, and how long it may take: one tenant's slow or huge shop
/// holds a worker for a bounded while. The rest is read on the next run, from the cursor.
const MAX_PAGES: usize = 20;
const TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(90);

/// What one poll may still read, and whether it read to the end.
pub struct Budget {
    pages: usize,
    deadline: std::time::Instant,
    complete: bool,
}

impl Budget {
    pub fn new(pages: usize, time: std::time::Duration) -> Self {
        Self {
            pages,
            deadline: std::time::Instant::now() + time,
            complete: false,
        }
    }

    /// Takes one page (or one further request) from the budget; false when it is spent.
    pub fn spend(&mut self) -> bool {
        if self.complete || self.pages == 0 || std::time::Instant::now() >= self.deadline {
            return false;
        }
        self.pages -= 1;
        true
    }

    /// Whether time is left (for requests within a page, such as Amazon's order items).
    pub fn has_time(&self) -> bool {
        std::time::Instant::now() < self.deadline
    }

    /// The platform has nothing more to give.
    pub fn finish(&mut self) {
        self.complete = true;
    }

    pub fn complete(&self) -> bool {
        self.complete
    }
}

/// One order read from a platform, ready to store as a delivery.
pub struct Polled {
    pub external_id: String,
    pub updated_at: Option<DateTime<Utc>>,
    pub payload: Value,
}

impl Run for PollChannel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), String> {
        run(state, claim.tenant, self.connection).await
    }
}

async fn run(state: &Arc<AppState>, tenant: TenantId, id: ConnectionId) -> Result<(), String> {
    let outcome = poll(state, tenant, id).await;
    // The next run is scheduled whatever happened: a failing platform is retried on the
    // next tick, with its error shown on the connection, rather than given up on.
    let tx = TenantTx::begin(&state.db, tenant)
        .await
        .map_err(|e| e.to_string())?;
    let connection = repo::connection(&tx, id).await.map_err(|e| e.to_string())?;
    if let Some(c) = connection.filter(|c| c.active)
        && let Some(platform) = Platform::parse(&c.platform)
    {
        let every = if platform.pushes_webhooks() {
            RECONCILE_EVERY
        } else {
            EVERY
        };
        PollChannel { connection: id }
            .enqueue_at(&tx, Utc::now() + every)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    match outcome {
        Ok(_) => Ok(()),
        Err(AppError::Database(e)) => Err(e.to_string()),
        Err(_) => Ok(()),
    }
}

async fn record_outcome(
    state: &AppState,
    tenant: TenantId,
    c: &Connection,
    cursor: Option<String>,
    error: Option<String>,
) -> Result<(), AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let mut row: channel_connections::ActiveModel = c.clone().into();
    if error.is_none() {
        row.last_synced_at = Set(Some(Utc::now()));
        if let Some(cursor) = cursor {
            row.sync_cursor = Set(Some(cursor));
        }
    }
    repo::update_connection(&tx, row).await?;
    match error {
        Some(why) => super::health::failed(&tx, c.id, &why).await?,
        None => super::health::worked(&tx, c.id).await?,
    }
    tx.commit().await?;
    Ok(())
}

/// Reads what changed since the cursor and stores it; returns how many orders were new
/// deliveries. Errors from the platform are recorded on the connection.
pub async fn poll(state: &AppState, tenant: TenantId, id: ConnectionId) -> Result<usize, AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let connection = repo::connection(&tx, id).await?;
    tx.commit().await?;
    let Some(c) = connection.filter(|c| c.active) else {
        return Ok(0);
    };
    let Some(platform) = Platform::parse(&c.platform) else {
        return Ok(0);
    };
    let since = c
        .sync_cursor
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc) - OVERLAP)
        .unwrap_or_else(|| Utc::now() - FIRST_SYNC);
    let secrets =
        open_secrets(&state.sealer, &c).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let mut budget = Budget::new(MAX_PAGES, TIME_BUDGET);
    let (http, credentials, shop) = (&state.http, &secrets.credentials, &c.shop_domain);
    let fetched = match platform {
        Platform::Amazon => fetch_amazon(state, credentials, since, &mut budget).await,
        Platform::Etsy => etsy::fetch(http, credentials, since, &mut budget).await,
        Platform::Shopify => {
            shopify::fetch_since(http, shop, credentials, since, &mut budget).await
        }
        Platform::Woocommerce => {
            woocommerce::fetch_since(http, shop, credentials, since, &mut budget).await
        }
        // Its webhooks name the order; each is fetched when it arrives.
        Platform::Bigcommerce => Ok(Vec::new()),
    };
    let orders = match fetched {
        Ok(orders) => orders,
        Err(err) => {
            let message = err.to_string();
            tracing::warn!(tenant.id = %tenant, connection.id = %id, platform = platform.as_str(), error = %message, "poll failed");
            record_outcome(state, tenant, &c, None, Some(message)).await?;
            return Err(AppError::Internal(anyhow::anyhow!(err.to_string())));
        }
    };
    // Shopify, WooCommerce and Etsy answer oldest change first, so a run cut short may move
    // the cursor past what it read; Amazon promises no order, so only a complete run may.
    let newest = orders
        .iter()
        .filter_map(|o| o.updated_at)
        .max()
        .filter(|_| budget.complete() || platform != Platform::Amazon);
    if !budget.complete() {
        tracing::info!(tenant.id = %tenant, connection.id = %id, platform = platform.as_str(), read = orders.len(), "poll cut short by its budget; the rest is read next run");
    }
    let mut stored = 0;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    for order in orders {
        let delivery = DeliveryId::new();
        let version = order.updated_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        let row = channel_deliveries::ActiveModel {
            tenant_id: Set(tenant.uuid()),
            id: Set(delivery.uuid()),
            connection_id: Set(Some(id.uuid())),
            platform: Set(platform.as_str().to_owned()),
            topic: Set(POLL_TOPIC.into()),
            // The same version of the same order is stored once, however often it is read.
            delivery_id: Set(Some(format!("{}@{version}", order.external_id))),
            external_id: Set(Some(order.external_id)),
            payload: Set(order.payload.to_string()),
            status: Set(DeliveryStatus::Pending.as_str().to_owned()),
            error: Set(None),
            attempts: Set(0),
            order_id: Set(None),
            received_at: Set(Utc::now()),
            processed_at: Set(None),
        };
        if repo::insert_delivery(&tx, row).await? {
            ProcessDelivery { delivery }.enqueue(&tx).await?;
            stored += 1;
        }
    }
    tx.commit().await?;
    state.wake_workers.notify_one();
    let cursor = newest.map(|t| t.to_rfc3339()).or(c.sync_cursor.clone());
    record_outcome(state, tenant, &c, cursor, None).await?;
    tracing::info!(tenant.id = %tenant, connection.id = %id, platform = platform.as_str(), stored, "polled");
    Ok(stored)
}

async fn fetch_amazon(
    state: &AppState,
    credentials: &std::collections::BTreeMap<String, String>,
    since: DateTime<Utc>,
    budget: &mut Budget,
) -> Result<Vec<Polled>, ApiError> {
    let api = amazon::Api::new(&state.http, credentials);
    let token = api.access_token().await?;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    while budget.spend() {
        let page = api.orders(&token, since, next.as_deref()).await?;
        for mut order in page.orders {
            if !budget.has_time() {
                return Ok(out);
            }
            let Some(id) = super::json::text(&order, "AmazonOrderId") else {
                continue;
            };
            let items = api.items(&token, &id).await?;
            // Orders Amazon fulfils itself need no address here; the seller's own do.
            let seller_fulfilled =
                super::json::text(&order, "FulfillmentChannel").as_deref() != Some("AFN");
            if seller_fulfilled
                && !order["ShippingAddress"].is_object()
                && let Some((address, buyer)) = api.restricted(&token, &id).await?
            {
                order["ShippingAddress"] = address;
                order["BuyerInfo"] = buyer;
            }
            out.push(Polled {
                updated_at: super::json::time(&order, "LastUpdateDate"),
                payload: amazon::delivery_payload(&order, &items),
                external_id: id,
            });
        }
        next = page.next_token;
        if next.is_none() {
            budget.finish();
            break;
        }
    }
    Ok(out)
}

/// `syncChannelConnection`: reads the platform now rather than at the next tick (for webhook
/// platforms, a reconciliation that catches deliveries that never arrived).
pub async fn sync_now(
    state: &AppState,
    principal: &Principal,
    id: ConnectionId,
) -> Outcome<Connection> {
    principal.require(Permission::ChannelsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if repo::connection(&tx, id).await?.is_none() {
        return Err(UserError::on("id", C::NotFound, "no such channel connection").into());
    }
    tx.commit().await?;
    // The platform's errors are recorded on the connection, which is returned; ours are not
    // the platform's, and fail the request.
    match poll(state, principal.tenant, id).await {
        Ok(_) => {}
        Err(err @ AppError::Database(_)) => return Err(err.into()),
        Err(err) => {
            tracing::info!(tenant.id = %principal.tenant, connection.id = %id, error = %err.public_message(), "sync failed; recorded on the connection")
        }
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let c = repo::connection(&tx, id)
        .await?
        .ok_or(AppError::NotFound("channel connection"))?;
    tx.commit().await?;
    Ok(c)
}
