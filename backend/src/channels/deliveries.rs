//! Deliveries: what a channel sent, kept raw. The webhook request only verifies, stores and
//! enqueues (one transaction), so it answers fast; a job maps and captures. A delivery that
//! cannot be mapped waits as `needs_attention` with its error, and can be processed again.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use chrono::Utc;
use entity::channel_deliveries;
use sea_orm::ActiveValue::Set;

use super::connections::open_secrets;
use super::repo::{self, Connection, Delivery};
use super::{Inbound, Mapped, Platform, amazon, bigcommerce, etsy, shopify, woocommerce};
use crate::domain::{ConnectionId, DeliveryId, OrderId, TenantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::infra::outbound::api::ApiError;
use crate::jobs::{Claim, Job, Run};
use crate::lifecycle::capture::service::{self, CaptureError, Source};
use crate::order::timeline::publish_events;
use crate::state::AppState;
use crate::tenancy::{Actor, GlobalTx, Permission, Principal, TenantTx};

/// Maps and captures a stored delivery (one pending per delivery).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProcessDelivery {
    pub delivery: DeliveryId,
}

impl Job for ProcessDelivery {
    const NAME: &'static str = "channels.process_delivery";
    const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("delivery:{}", self.delivery))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum DeliveryStatus {
    /// Stored; the job has not run yet.
    Pending,
    /// Mapped and captured.
    Processed,
    /// Kept, but not an order change (another topic).
    Ignored,
    /// Could not be mapped: the error says why. Process again once fixed.
    NeedsAttention,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processed => "processed",
            Self::Ignored => "ignored",
            Self::NeedsAttention => "needs_attention",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "processed" => Self::Processed,
            "ignored" => Self::Ignored,
            "needs_attention" => Self::NeedsAttention,
            _ => Self::Pending,
        }
    }
}

/// How the webhook endpoint answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Accepted(DeliveryId),
    /// The platform sent this delivery before: nothing new is stored.
    Duplicate,
    Ping,
    /// No such connection, or it belongs to another platform.
    UnknownConnection,
    /// The signature did not verify: nothing was stored.
    BadSignature,
    /// Signed correctly, but not JSON.
    Malformed,
}

/// Verifies a webhook request and, when it is genuine, stores it and enqueues its job.
pub async fn receive(
    state: &AppState,
    platform: Platform,
    connection: ConnectionId,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Receipt, crate::error::AppError> {
    let tx = GlobalTx::begin(&state.db).await?;
    let route = repo::route(&tx, connection).await?;
    tx.commit().await?;
    let Some((tenant, routed_platform)) = route else {
        return Ok(Receipt::UnknownConnection);
    };
    if routed_platform != platform.as_str() {
        return Ok(Receipt::UnknownConnection);
    }
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(conn) = repo::connection(&tx, connection).await? else {
        return Ok(Receipt::UnknownConnection);
    };
    if platform == Platform::Woocommerce && woocommerce::is_ping(headers, body) {
        return Ok(Receipt::Ping);
    }
    let secrets = open_secrets(&state.sealer, &conn).map_err(|e| {
        crate::error::AppError::Internal(anyhow::anyhow!("connection {connection}: {e}"))
    })?;
    let Some(secret) = secrets.webhook_secret.as_deref() else {
        return Ok(Receipt::BadSignature);
    };
    let genuine = match platform {
        Platform::Shopify => shopify::verify(headers, body, secret),
        Platform::Woocommerce => woocommerce::verify(headers, body, secret),
        Platform::Bigcommerce | Platform::Amazon | Platform::Etsy => {
            crate::infra::signature::same_secret(
                super::header(headers, "x-orderflow-secret"),
                secret,
            )
        }
    };
    if !genuine {
        return Ok(Receipt::BadSignature);
    }
    // Only now, with the signature checked, is the body parsed.
    let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(Receipt::Malformed);
    };
    let inbound = match platform {
        Platform::Shopify => shopify::classify(headers, &parsed),
        Platform::Woocommerce => woocommerce::classify(headers, &parsed),
        _ => Inbound {
            topic: super::json::text(&parsed, "scope").unwrap_or_else(|| "unknown".into()),
            delivery_id: super::json::text(&parsed, "hash"),
            external_id: super::json::id(&parsed, "data.id"),
        },
    };
    let Inbound {
        topic,
        delivery_id,
        external_id,
    } = inbound;
    let id = DeliveryId::new();
    let row = channel_deliveries::ActiveModel {
        tenant_id: Set(tenant.uuid()),
        id: Set(id.uuid()),
        connection_id: Set(Some(connection.uuid())),
        platform: Set(platform.as_str().to_owned()),
        topic: Set(topic),
        delivery_id: Set(delivery_id),
        external_id: Set(external_id),
        payload: Set(String::from_utf8_lossy(body).into_owned()),
        // A paused connection keeps what arrives, pending, and maps it when resumed.
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        error: Set((!conn.active).then(|| "received while the connection was paused".to_owned())),
        attempts: Set(0),
        order_id: Set(None),
        received_at: Set(Utc::now()),
        processed_at: Set(None),
    };
    if !repo::insert_delivery(&tx, row).await? {
        tx.commit().await?;
        return Ok(Receipt::Duplicate);
    }
    if conn.active {
        ProcessDelivery { delivery: id }.enqueue(&tx).await?;
    }
    tx.commit().await?;
    state.wake_workers.notify_one();
    Ok(Receipt::Accepted(id))
}

/// Maps a delivery's payload with its platform's connector; BigCommerce's needs the API.
async fn map(
    state: &AppState,
    d: &Delivery,
    connection: Option<&Connection>,
) -> Result<Mapped, ApiError> {
    let payload: serde_json::Value = serde_json::from_str(&d.payload)
        .map_err(|e| ApiError::Permanent(format!("payload is not JSON: {e}")))?;
    match Platform::parse(&d.platform) {
        Some(Platform::Shopify) => shopify::map(&d.topic, &payload).map_err(ApiError::Permanent),
        Some(Platform::Woocommerce) => {
            woocommerce::map(&d.topic, &payload).map_err(ApiError::Permanent)
        }
        Some(Platform::Bigcommerce) => {
            let connection = connection
                .ok_or_else(|| ApiError::Permanent("the connection was removed".into()))?;
            let secrets = open_secrets(&state.sealer, connection)
                .map_err(|e| ApiError::Permanent(e.to_string()))?;
            bigcommerce::map(&state.http, &secrets.credentials, &d.topic, &payload).await
        }
        Some(Platform::Amazon) => {
            let items = payload["items"].as_array().cloned().unwrap_or_default();
            amazon::map_order(&payload["order"], &items)
                .map(|o| Mapped::Order(Box::new(o)))
                .map_err(ApiError::Permanent)
        }
        Some(Platform::Etsy) => etsy::map_receipt(&payload)
            .map(|o| Mapped::Order(Box::new(o)))
            .map_err(ApiError::Permanent),
        None => Err(ApiError::Permanent(format!(
            "unknown platform {}",
            d.platform
        ))),
    }
}

/// The job: map, capture, and record what became of the delivery. Transient failures (the
/// database) return an error so the job is retried; a payload that cannot be mapped is parked.
impl Run for ProcessDelivery {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), String> {
        process(state, claim.tenant, self.delivery, claim.is_last())
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    }
}

/// `last_attempt`: a transient failure now parks the delivery instead of asking for a retry.
pub async fn process(
    state: &AppState,
    tenant: TenantId,
    id: DeliveryId,
    last_attempt: bool,
) -> Result<DeliveryStatus, crate::error::AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(delivery) = repo::delivery(&tx, id).await? else {
        return Ok(DeliveryStatus::Ignored);
    };
    let status = DeliveryStatus::parse(&delivery.status);
    if matches!(status, DeliveryStatus::Processed | DeliveryStatus::Ignored) {
        // Already done: a job run twice does nothing twice.
        return Ok(status);
    }
    let connection = match delivery.connection_id {
        Some(c) => repo::connection(&tx, ConnectionId(c)).await?,
        None => None,
    };
    tx.commit().await?;
    // Mapping may call the platform's API: never while holding a transaction.
    let mapped = map(state, &delivery, connection.as_ref()).await;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let label = connection.as_ref().map(|c| {
        format!(
            "{} ({})",
            Platform::parse(&c.platform)
                .map(Platform::label)
                .unwrap_or("channel"),
            c.shop_domain
        )
    });
    let mut row: channel_deliveries::ActiveModel = delivery.clone().into();
    row.attempts = Set(delivery.attempts + 1);
    row.processed_at = Set(Some(Utc::now()));
    let (outcome, events) = match mapped {
        Ok(Mapped::Order(order)) => {
            let source = Source {
                channel: delivery.platform.clone(),
                connection: delivery.connection_id.map(ConnectionId),
                actor: delivery
                    .connection_id
                    .map(|c| Actor::Channel(ConnectionId(c)))
                    .unwrap_or(Actor::System),
                actor_label: label,
            };
            match service::capture(&tx, &source, *order).await {
                Ok(captured) => {
                    row.order_id = Set(Some(captured.order.id));
                    row.error = Set(None);
                    (DeliveryStatus::Processed, captured.events)
                }
                Err(CaptureError::Invalid { field, message }) => {
                    row.error = Set(Some(format!(
                        "cannot be stored as an order: {field} {message}"
                    )));
                    (DeliveryStatus::NeedsAttention, Vec::new())
                }
                Err(CaptureError::Db(err)) if !last_attempt => return Err(err.into()),
                Err(CaptureError::Db(err)) => {
                    // The failed statement ended this transaction (PostgreSQL): park the
                    // delivery in a fresh one.
                    drop(tx);
                    return park(state, tenant, id, format!("cannot be stored: {err}")).await;
                }
            }
        }
        Ok(Mapped::Ignored(reason)) => {
            row.error = Set(Some(reason));
            (DeliveryStatus::Ignored, Vec::new())
        }
        Err(ApiError::Permanent(error)) => {
            row.error = Set(Some(error));
            (DeliveryStatus::NeedsAttention, Vec::new())
        }
        Err(ApiError::Transient(error)) if !last_attempt => {
            // The job retries with backoff; the delivery stays pending meanwhile.
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(error)));
        }
        Err(ApiError::Transient(error)) => {
            row.error = Set(Some(format!("gave up after repeated failures: {error}")));
            (DeliveryStatus::NeedsAttention, Vec::new())
        }
    };
    row.status = Set(outcome.as_str().to_owned());
    let stored = repo::update_delivery(&tx, row).await?;
    tx.commit().await?;
    if outcome == DeliveryStatus::NeedsAttention {
        tracing::warn!(tenant.id = %tenant, delivery.id = %id, platform = %stored.platform, error = stored.error.as_deref().unwrap_or(""), "delivery needs attention");
    }
    publish_events(state, tenant, &events).await;
    Ok(outcome)
}

/// Marks a delivery as needing attention, with why.
async fn park(
    state: &AppState,
    tenant: TenantId,
    id: DeliveryId,
    error: String,
) -> Result<DeliveryStatus, crate::error::AppError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    if let Some(delivery) = repo::delivery(&tx, id).await? {
        let mut row: channel_deliveries::ActiveModel = delivery.clone().into();
        row.status = Set(DeliveryStatus::NeedsAttention.as_str().to_owned());
        row.error = Set(Some(error));
        row.attempts = Set(delivery.attempts + 1);
        row.processed_at = Set(Some(Utc::now()));
        repo::update_delivery(&tx, row).await?;
    }
    tx.commit().await?;
    Ok(DeliveryStatus::NeedsAttention)
}

/// Processes a delivery again (after a mapping fix, or to retry one that needs attention).
pub async fn reprocess(
    state: &AppState,
    principal: &Principal,
    id: DeliveryId,
) -> Outcome<Delivery> {
    principal.require(Permission::ChannelsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(delivery) = repo::delivery(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such delivery").into());
    };
    let mut row: channel_deliveries::ActiveModel = delivery.into();
    row.status = Set(DeliveryStatus::Pending.as_str().to_owned());
    repo::update_delivery(&tx, row).await?;
    tx.commit().await?;
    process(state, principal.tenant, id, true).await?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let delivery = repo::delivery(&tx, id)
        .await?
        .ok_or(crate::error::AppError::NotFound("delivery"))?;
    tx.commit().await?;
    Ok(delivery)
}

/// The order a processed delivery created or updated.
pub fn order_of(d: &Delivery) -> Option<OrderId> {
    d.order_id.map(OrderId)
}
