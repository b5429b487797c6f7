//! A remote carrier's postage given back for a voided label: asked for once, then followed
//! (hourly, then daily) until the carrier settles it; the outcome goes on the timeline.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

use super::{RunError, account_of};
use crate::domain::{OrderId, TenantId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::shipping::remote::easypost::EasyPost;
use crate::lifecycle::shipping::remote::shippo::Shippo;
use crate::lifecycle::shipping::remote::{self, Provider, RemoteError};
use crate::lifecycle::shipping::repo;
use crate::order::timeline::{self, NewEvent};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantTx};

/// Asks a remote carrier for a voided label's postage back, and follows the refund until the
/// carrier settles it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefundPostage {
    pub carrier: uuid::Uuid,
    /// The parcel: a shipment, or a return whose label it was.
    pub shipment: uuid::Uuid,
    pub refund_id: String,
    #[serde(default)]
    pub round: i32,
    /// The order whose timeline hears of it (a shipment's own order when left out).
    #[serde(default)]
    pub order: Option<uuid::Uuid>,
}

impl Job for RefundPostage {
    const NAME: &'static str = "shipping.refund_postage";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!(
            "postage:{}:{}:{}",
            self.shipment, self.refund_id, self.round
        ))
    }
}

/// Rounds of asking whether a submitted refund has settled (hourly, then daily).
const REFUND_ROUNDS: i32 = 30;

impl Run for RefundPostage {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        refund_postage(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

async fn refund_postage(
    state: &Arc<AppState>,
    tenant: TenantId,
    job: RefundPostage,
) -> Result<(), RunError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let book = repo::rating_book(&tx).await?;
    let order = match job.order {
        Some(order) => Some(OrderId(order)),
        None => repo::shipment(&tx, job.shipment)
            .await?
            .map(|s| OrderId(s.order_id)),
    };
    tx.commit().await?;
    let Some(c) = book.carrier(job.carrier) else {
        return Ok(());
    };
    let account = account_of(state, tenant, c).map_err(DbErr::Custom)?;
    let asked = match c.provider {
        Provider::Easypost => {
            let api = EasyPost {
                client: &state.http,
                account: &account,
            };
            if job.round == 0 {
                api.refund(&job.refund_id).await
            } else {
                api.refund_status(&job.refund_id).await
            }
        }
        Provider::Shippo => {
            Shippo {
                client: &state.http,
                account: &account,
            }
            .refund(&job.refund_id)
            .await
        }
        Provider::Simulated => return Ok(()),
    };
    let (shipment_id, refund_id) = (job.shipment, job.refund_id.clone());
    let note = |message: String| async move {
        let Some(order) = order else {
            return Ok::<_, DbErr>(());
        };
        let tx = TenantTx::begin(&state.db, tenant).await?;
        timeline::record_events(
            &tx,
            vec![NewEvent {
                order,
                kind: "shipment.postage_refund",
                actor: Actor::System,
                actor_label: Some("label job".into()),
                message,
                reason: None,
                data: serde_json::json!({ "shipmentId": shipment_id, "refundId": refund_id }),
            }],
        )
        .await?;
        tx.commit().await
    };
    match asked {
        Ok(remote::RefundStatus::Refunded) => {
            note(format!(
                "{} refunded the postage of the voided label",
                c.row.name
            ))
            .await?;
            Ok(())
        }
        Ok(remote::RefundStatus::Rejected(why)) => {
            note(format!(
                "{} refused to refund the voided label's postage: {why}",
                c.row.name
            ))
            .await?;
            Ok(())
        }
        Ok(remote::RefundStatus::Submitted) if job.round < REFUND_ROUNDS => {
            let tx = TenantTx::begin(&state.db, tenant).await?;
            let after = if job.round < 24 {
                Days::hours(1)
            } else {
                Days::days(1)
            };
            RefundPostage {
                round: job.round + 1,
                ..job.clone()
            }
            .enqueue_at(&tx, Utc::now() + after)
            .await?;
            tx.commit().await?;
            Ok(())
        }
        Ok(remote::RefundStatus::Submitted) => {
            note(format!(
                "{} has not settled the postage refund after {REFUND_ROUNDS} checks; ask the carrier",
                c.row.name
            ))
            .await?;
            Ok(())
        }
        Err(RemoteError::Unavailable { reason, .. }) => Err(DbErr::Custom(reason).into()),
        Err(RemoteError::Refused(why)) => {
            note(format!(
                "{} refused to refund the voided label's postage: {why}",
                c.row.name
            ))
            .await?;
            Ok(())
        }
    }
}
