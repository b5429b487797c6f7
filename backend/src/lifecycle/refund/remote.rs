//! Refunds a provider makes by a call out, each by a job rather than inside the transaction
//! that asked: Stripe's here (`SendRefund`); a channel's by `RefundThroughChannel`, whose run
//! is the channels' (they hold the connection). The job sends the refund intent's key with
//! every request, so however often it runs, the provider makes one refund.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

use super::processors;
use super::provider::ProviderOutcome;
use super::repo::{self, PENDING, Refund};
use super::service::finish;
use super::stripe::{RefundAsk, Status, Stripe, StripeError, StripeRefund};
use crate::domain::money::amount_from_units;
use crate::domain::{OrderId, TenantId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::transition::By;
use crate::order::repo as orders;
use crate::order::timeline;
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// Tries while the provider cannot be reached before the refund stops and is due again.
pub const MAX_TRIES: i32 = 16;
/// Waits between tries, doubling, capped.
const MAX_WAIT: Duration = Duration::from_secs(30 * 60);
/// When a pending refund is asked about if no webhook has ended it: soon, then hourly,
/// then daily (a bank can take days).
fn follow_after(round: i32) -> Duration {
    match round {
        0..=2 => Duration::from_secs(10 * 60),
        3..=26 => Duration::from_secs(60 * 60),
        _ => Duration::from_secs(24 * 60 * 60),
    }
}
/// Checks of a pending refund before staff are told to look in the provider's dashboard.
const FOLLOW_ROUNDS: i32 = 40;

/// 1 s, 2 s, 4 s… after the first, second, third failed try.
pub fn backoff(tries: i32, asked: Option<Duration>) -> Duration {
    asked
        .unwrap_or_else(|| Duration::from_secs(1 << (tries - 1).clamp(0, 11)))
        .min(MAX_WAIT)
}

/// Asks Stripe for a refund, then follows it until Stripe ends it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct SendRefund {
    pub refund: uuid::Uuid,
    pub order: uuid::Uuid,
    /// Which try (or check) this is: each is a job of its own.
    #[serde(default)]
    pub round: i32,
}

impl Job for SendRefund {
    const NAME: &'static str = "refund.send";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("refund:{}:{}", self.refund, self.round))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

/// Asks the order's sales channel for a refund (run by the channels, which hold the
/// connection and speak the platform).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RefundThroughChannel {
    pub refund: uuid::Uuid,
    pub order: uuid::Uuid,
    #[serde(default)]
    pub round: i32,
}

impl Job for RefundThroughChannel {
    const NAME: &'static str = "refund.channel";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("refund-channel:{}:{}", self.refund, self.round))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

impl Run for SendRefund {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        send(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The refund still under way, if it is.
pub async fn pending(
    state: &AppState,
    tenant: TenantId,
    id: uuid::Uuid,
) -> Result<Option<Refund>, DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let row = repo::get(&tx, id).await?;
    tx.commit().await?;
    Ok(row.filter(|r| r.status == PENDING))
}

/// Ends a refund in its own transaction and tells whoever listens.
pub async fn settle(
    state: &Arc<AppState>,
    tenant: TenantId,
    refund: uuid::Uuid,
    outcome: Result<ProviderOutcome, String>,
    by: &str,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let event = finish(&tx, refund, outcome, &By::system(by)).await?;
    tx.commit().await?;
    if let Some(e) = event {
        timeline::publish_events(state, tenant, &[e]).await;
    }
    Ok(())
}

/// Queues the next round of a refund job at `after` from now.
pub async fn again<J: Job>(
    state: &AppState,
    tenant: TenantId,
    job: J,
    after: Duration,
    note: Option<(uuid::Uuid, &str)>,
) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    if let Some((id, error)) = note {
        repo::note_error(&tx, id, error).await?;
    }
    job.enqueue_at(
        &tx,
        Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
    )
    .await?;
    tx.commit().await
}

async fn send(state: &Arc<AppState>, tenant: TenantId, job: SendRefund) -> Result<(), DbErr> {
    let Some(row) = pending(state, tenant, job.refund).await? else {
        return Ok(());
    };
    let (processor, order) = {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let p = processors::stripe_of(&tx).await?;
        let o = orders::get(&tx, OrderId(row.order_id)).await?;
        tx.commit().await?;
        (p, o)
    };
    let (Some(processor), Some(order)) = (processor, order) else {
        let why = "the Stripe account was removed before the refund could be sent".to_owned();
        return settle(state, tenant, row.id, Err(why), "Stripe").await;
    };
    let account = match processors::account(state, &processor) {
        Ok(a) => a,
        Err(why) => return settle(state, tenant, row.id, Err(why), "Stripe").await,
    };
    let api = Stripe {
        client: &state.http,
        account: &account,
    };
    let asked = match &row.provider_ref {
        // Sent and answered before: how it stands now.
        Some(id) => api.refund_status(id).await,
        None => {
            let key = repo::provider_key(&row);
            let order_name = order.name.clone();
            let return_id = row.return_id.map(|r| r.to_string());
            let payment = order.payment_reference.clone().unwrap_or_default();
            let amount = amount_from_units(row.amount_units, &row.currency);
            api.refund(&RefundAsk {
                key: &key,
                payment: &payment,
                amount,
                currency: &row.currency,
                order: &order_name,
                return_id: return_id.as_deref(),
            })
            .await
        }
    };
    match asked {
        Ok(r) => answered(state, tenant, job, &row, r).await,
        Err(StripeError::Refused(why)) => settle(state, tenant, row.id, Err(why), "Stripe").await,
        Err(StripeError::Unavailable(why)) => {
            let tries = job.round + 1;
            if tries >= MAX_TRIES && row.provider_ref.is_none() {
                let why = format!(
                    "Stripe could not be reached over {tries} tries ({why}); check the \
                     Stripe dashboard for a refund with key {} before refunding again",
                    repo::provider_key(&row)
                );
                return settle(state, tenant, row.id, Err(why), "Stripe").await;
            }
            tracing::info!(refund = %row.id, tries, "Stripe unavailable; the refund waits");
            let next = SendRefund {
                round: tries,
                ..job
            };
            again(
                state,
                tenant,
                next,
                backoff(tries, None),
                Some((row.id, &format!("waiting for Stripe (try {tries}): {why}"))),
            )
            .await
        }
    }
}

/// Stripe's answer: ended, or pending and followed.
async fn answered(
    state: &Arc<AppState>,
    tenant: TenantId,
    job: SendRefund,
    row: &Refund,
    r: StripeRefund,
) -> Result<(), DbErr> {
    match r.status {
        Status::Succeeded => {
            let done = Ok(ProviderOutcome::Succeeded {
                reference: r.id,
                note: None,
            });
            settle(state, tenant, row.id, done, "Stripe").await
        }
        Status::Failed(why) => {
            let failed = Ok(ProviderOutcome::Failed { reason: why });
            settle(state, tenant, row.id, failed, "Stripe").await
        }
        Status::Pending if job.round >= FOLLOW_ROUNDS => {
            let tx = TenantTx::begin(&state.db, tenant).await?;
            repo::set_reference(&tx, row.id, &r.id).await?;
            repo::note_error(
                &tx,
                row.id,
                "Stripe has not ended the refund after many checks; look at it in the Stripe \
                 dashboard",
            )
            .await?;
            tx.commit().await
        }
        Status::Pending => {
            {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                repo::set_reference(&tx, row.id, &r.id).await?;
                tx.commit().await?;
            }
            // Stripe's webhook should end it; if it is late, ask.
            let next = SendRefund {
                round: job.round + 1,
                ..job
            };
            again(state, tenant, next, follow_after(job.round), None).await
        }
    }
}
