//! Outbound webhooks: every timeline event a subscription wants becomes a delivery, written
//! in the event's transaction (so none is lost or made twice) and sent by a job, signed,
//! retried with backoff, each attempt logged.
//!
//! Signature (`X-Orderflow-Signature: t=<unix seconds>,v1=<hex>`): `v1` is the hex
//! HMAC-SHA256 of `"<t>.<raw body>"` under the subscription's secret. A receiver recomputes
//! it, compares in constant time and rejects a `t` more than five minutes old.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::webhook_deliveries;
use rand::RngCore;
use sea_orm::{ActiveValue::Set, DbErr};
use serde_json::json;

use super::pattern;
use super::repo::{self, Attempt, DELIVERED, Delivery, FAILED, PENDING, Subscription};
use crate::domain::TenantId;
use crate::graphql::relay::global_id;
use crate::infra::outbound::{CallError, Outbound};
use crate::jobs::{Claim, Job, JobError, Run, queue};
use crate::lifecycle::tracking::signature::sign_orderflow;
use crate::order::timeline::OrderEvent;
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// One attempt at a delivery to a subscriber's endpoint.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct DeliverWebhook {
    pub delivery: uuid::Uuid,
    /// Set when a person asked for it again: a job of its own beside any pending one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redelivery: Option<i64>,
}

impl Job for DeliverWebhook {
    const NAME: &'static str = "webhook.deliver";
    const MAX_ATTEMPTS: i32 = ATTEMPTS;
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(60);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(match self.redelivery {
            Some(at) => format!("webhook:{}:{at}", self.delivery),
            None => format!("webhook:{}", self.delivery),
        })
    }
}
/// Attempts per delivery: with the queue's backoff (2^n seconds), about nine minutes.
pub const ATTEMPTS: i32 = 9;
/// A receiver has this long to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Of a receiver's answer only this much is read (and 500 characters kept).
const MAX_ANSWER: usize = 64 * 1024;

fn secret_context(tenant: uuid::Uuid, subscription: uuid::Uuid) -> String {
    format!("{tenant}/{subscription}/webhook_secret")
}

/// A new signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

pub fn seal(state: &AppState, s: &Subscription, secret: &str) -> String {
    state
        .sealer
        .seal(secret, &secret_context(s.tenant_id, s.id))
}

/// Whether `url` may receive webhooks: HTTPS to a public address, or (when the operator allows
/// it, for development and tests) HTTP to this machine — the outbound client's own rules.
pub fn check_url(outbound: &Outbound, url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("is not a URL: {e}"))?;
    outbound.check_url(&parsed).map_err(|e| e.to_string())?;
    Ok(parsed)
}

/// The body a subscription receives for a timeline event.
pub fn body_of(event: &OrderEvent) -> String {
    json!({
        "id": event.id,
        "type": event.kind,
        "createdAt": event.at,
        "tenantId": event.tenant_id,
        "data": {
            "orderId": global_id("Order", event.order_id),
            "message": event.message,
            "reason": event.reason,
            "actor": event.actor_label.clone().unwrap_or_else(|| event.actor_kind.clone()),
            "details": event.data,
        }
    })
    .to_string()
}

/// Called with every timeline event as it is recorded: a delivery for each subscription
/// that wants it, and its job, in the same transaction.
pub async fn on_events(tx: &TenantTx, events: &[OrderEvent]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let subscriptions = repo::active(tx).await?;
    if subscriptions.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    for e in events {
        for s in &subscriptions {
            let wanted: Vec<String> = serde_json::from_value(s.events.clone()).unwrap_or_default();
            if !pattern::matches(&wanted, &e.kind) {
                continue;
            }
            rows.push(delivery_of(tx, s.id, e, now));
        }
    }
    store(tx, rows).await
}

fn delivery_of(
    tx: &TenantTx,
    subscription: uuid::Uuid,
    e: &OrderEvent,
    now: chrono::DateTime<Utc>,
) -> Delivery {
    Delivery {
        tenant_id: tx.tenant().uuid(),
        id: uuid::Uuid::now_v7(),
        subscription_id: subscription,
        event_id: e.id,
        event_kind: e.kind.clone(),
        order_id: Some(e.order_id),
        body: body_of(e),
        status: PENDING.into(),
        attempts: 0,
        last_status_code: None,
        last_error: None,
        created_at: now,
        delivered_at: None,
        updated_at: now,
    }
}

/// Stores deliveries (once per subscription and event) and queues a job for each new one.
async fn store(tx: &TenantTx, rows: Vec<Delivery>) -> Result<(), DbErr> {
    let ids = repo::insert_deliveries(tx, rows).await?;
    queue::enqueue_many(
        tx,
        ids.into_iter()
            .map(|delivery| {
                DeliverWebhook {
                    delivery,
                    redelivery: None,
                }
                .row(tx.tenant(), Utc::now())
            })
            .collect(),
    )
    .await
}

/// Delivers `event` to one subscription whatever it subscribes to (an automation rule's
/// webhook action); nothing new when it has it already.
pub async fn deliver_to(
    tx: &TenantTx,
    subscription: uuid::Uuid,
    event: &OrderEvent,
) -> Result<(), DbErr> {
    store(tx, vec![delivery_of(tx, subscription, event, Utc::now())]).await
}

/// Sends a delivery again (the log's "redeliver"): due at once, its earlier attempts kept.
pub async fn redeliver(tx: &TenantTx, d: &Delivery) -> Result<Delivery, DbErr> {
    let d = repo::reopen(tx, d).await?;
    DeliverWebhook {
        delivery: d.id,
        redelivery: Some(Utc::now().timestamp_millis()),
    }
    .enqueue(tx)
    .await?;
    Ok(d)
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    response: Option<String>,
    duration_ms: i32,
}

async fn post(state: &AppState, url: &str, delivery: &Delivery, secret: &str) -> Outcome {
    let started = Instant::now();
    let elapsed = || i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let signature = sign_orderflow(secret, delivery.body.as_bytes(), Utc::now().timestamp());
    let request = state
        .outbound
        .request(reqwest::Method::POST, url.trim())
        .header("content-type", "application/json")
        .header("x-orderflow-signature", signature)
        .header("x-orderflow-event", &delivery.event_kind)
        .header("x-orderflow-delivery", delivery.id.to_string())
        .header("x-orderflow-attempt", (delivery.attempts + 1).to_string())
        .body(delivery.body.clone());
    match state
        .outbound
        .send_keeping_start(request, TIMEOUT, MAX_ANSWER)
        .await
    {
        Ok(res) => {
            let status = res.status.as_u16();
            Outcome {
                status: Some(status),
                error: (!(200..300).contains(&status))
                    .then(|| format!("the receiver answered {status}")),
                response: Some(res.excerpt(500)),
                duration_ms: elapsed(),
            }
        }
        Err(e) => Outcome {
            status: None,
            error: Some(match e {
                CallError::Timeout(_) => format!("no answer within {} seconds", TIMEOUT.as_secs()),
                other => other.to_string(),
            }),
            response: None,
            duration_ms: elapsed(),
        },
    }
}

/// The job: one attempt; a failure is retried by the queue with backoff until the last.
impl Run for DeliverWebhook {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        deliver(state, claim, self.delivery).await
    }
}

async fn deliver(state: &Arc<AppState>, claim: Claim, id: uuid::Uuid) -> Result<(), JobError> {
    let tenant = claim.tenant;
    let db = |e: DbErr| e.to_string();
    let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
    let Some(delivery) = repo::delivery(&tx, id).await.map_err(db)? else {
        return Ok(());
    };
    if delivery.status == DELIVERED {
        return Ok(());
    }
    let subscription = repo::subscription(&tx, delivery.subscription_id)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let Some(subscription) = subscription.filter(|s| s.active) else {
        let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
        finish(
            &tx,
            &delivery,
            FAILED,
            None,
            Some("the subscription is disabled".into()),
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        return Ok(());
    };
    let last = claim.is_last();
    let Ok(secret) = state.sealer.open(
        &subscription.secret,
        &secret_context(subscription.tenant_id, subscription.id),
    ) else {
        let why = "the subscription's secret cannot be opened (the platform's key changed?)";
        if last {
            let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
            finish(&tx, &delivery, FAILED, None, Some(why.into()))
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            return Ok(());
        }
        return Err(why.into());
    };
    // No transaction is held while the receiver takes its time.
    let outcome = post(state, &subscription.url, &delivery, &secret).await;
    let status = match (&outcome.error, last) {
        (None, _) => DELIVERED,
        (Some(_), true) => FAILED,
        (Some(_), false) => PENDING,
    };
    let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
    // Locked and read again: a redelivery may have raced this attempt.
    let current = repo::delivery_for_update(&tx, id)
        .await
        .map_err(db)?
        .unwrap_or(delivery);
    repo::insert_attempt(
        &tx,
        Attempt {
            tenant_id: tenant.uuid(),
            id: uuid::Uuid::now_v7(),
            delivery_id: id,
            attempt: current.attempts + 1,
            started_at: Utc::now(),
            duration_ms: outcome.duration_ms,
            status_code: outcome.status.map(i32::from),
            error: outcome.error.clone(),
            response: outcome.response,
        },
    )
    .await
    .map_err(db)?;
    finish(&tx, &current, status, outcome.status, outcome.error.clone())
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    match (outcome.error, last) {
        (Some(e), false) => Err(e),
        _ => Ok(()),
    }
}

async fn finish(
    tx: &TenantTx,
    d: &Delivery,
    status: &str,
    code: Option<u16>,
    error: Option<String>,
) -> Result<Delivery, DbErr> {
    let now = Utc::now();
    repo::update_delivery(
        tx,
        webhook_deliveries::ActiveModel {
            tenant_id: Set(d.tenant_id),
            id: Set(d.id),
            status: Set(status.into()),
            attempts: Set(d.attempts + i32::from(code.is_some() || error.is_some())),
            last_status_code: Set(code.map(i32::from)),
            last_error: Set(error),
            delivered_at: Set((status == DELIVERED).then_some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_when_allowed() {
        let strict = Outbound::new(false, "test");
        assert!(check_url(&strict, "https://hooks.example.com/x").is_ok());
        assert_eq!(
            check_url(&strict, "http://hooks.example.com/x").unwrap_err(),
            "the URL must use https"
        );
        assert!(check_url(&strict, "http://127.0.0.1:9000/x").is_err());
        assert!(check_url(&Outbound::new(true, "test"), "http://127.0.0.1:9000/x").is_ok());
        assert!(check_url(&strict, "https://user:pw@hooks.example.com/").is_err());
        assert!(check_url(&strict, "ftp://hooks.example.com/").is_err());
        assert!(check_url(&strict, "not a url").is_err());
        assert!(check_url(&strict, "https://[64:ff9b::a00:1]/").is_err());
    }
}
