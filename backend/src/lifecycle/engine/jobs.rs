//! The engine's jobs: advancing orders (in batches), giving back an unpaid order's
//! reservation when it lapses, and retrying backorders after a restock.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::pipeline;
use crate::domain::{OrderId, TenantId};
use crate::jobs::{Claim, JobError, Outcome, Run, RunBatch};
use crate::lifecycle::allocation::service as allocate;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::wake::{AdvanceOrder, BATCH, ExpireReservation, RetryBackorders};
use crate::order::repo;
use crate::order::timeline;
use crate::state::AppState;
use crate::tenancy::{Actor, AnyTx, TenantTx};

/// A batch of one tenant's orders is decided in one transaction. A batch that fails is
/// retried order by order, so one bad order cannot hold up the rest.
impl RunBatch for AdvanceOrder {
    async fn run_batch(
        state: &Arc<AppState>,
        tenant: TenantId,
        jobs: Vec<(Claim, Self)>,
    ) -> Vec<Outcome> {
        let ids: Vec<OrderId> = jobs.iter().map(|(_, j)| j.order).collect();
        if ids.len() > 1 {
            match pipeline::advance(&state.db, tenant, &ids).await {
                Ok(events) => {
                    timeline::publish_events(state, tenant, &events).await;
                    return ids.iter().map(|_| Ok(())).collect();
                }
                Err(err) => {
                    tracing::info!(error = %err, orders = ids.len(), "batch failed; retrying order by order")
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for order in ids {
            out.push(match pipeline::advance(&state.db, tenant, &[order]).await {
                Ok(events) => {
                    timeline::publish_events(state, tenant, &events).await;
                    Ok(())
                }
                Err(err) => Err(err.to_string()),
            });
        }
        out
    }
}

/// Releases an unpaid order's reservation once it lapsed (paid orders had theirs cleared).
impl Run for ExpireReservation {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        let (tenant, order_id) = (claim.tenant, self.order);
        let run = async {
            let tx = TenantTx::begin(&state.db, tenant).await?;
            let Some(order) = repo::get_for_update(&tx, order_id).await? else {
                return Ok::<_, DbErr>(Vec::new());
            };
            let released = allocate::release(&tx, &order, Actor::System, Some(Utc::now())).await?;
            let mut events = Vec::new();
            if !released.is_empty() {
                let units: i64 = released.iter().map(|r| r.quantity).sum();
                events.push(
                    timeline::record_event(
                        &tx,
                        timeline::NewEvent {
                            order: order_id,
                            kind: "order.reservation_expired",
                            actor: Actor::System,
                            actor_label: Some(pipeline::ENGINE.into()),
                            message: format!(
                                "{units} unit(s) held for this unpaid order went back to stock"
                            ),
                            reason: Some("the payment did not arrive in time".into()),
                            data: serde_json::json!({ "released": released }),
                        },
                    )
                    .await?,
                );
            }
            tx.commit().await?;
            Ok(events)
        };
        let events = run.await.map_err(|e| e.to_string())?;
        timeline::publish_events(state, tenant, &events).await;
        Ok(())
    }
}

/// Retries the tenant's backordered orders, oldest first.
impl Run for RetryBackorders {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        use entity::orders;
        let tenant = claim.tenant;
        let ids: Vec<uuid::Uuid> = {
            let tx = TenantTx::begin(&state.db, tenant)
                .await
                .map_err(|e| e.to_string())?;
            let ids = orders::Entity::find()
                .select_only()
                .column(orders::Column::Id)
                .filter(orders::Column::TenantId.eq(tenant.uuid()))
                .filter(orders::Column::State.eq(OrderState::Backordered.as_str()))
                .order_by_asc(orders::Column::Id)
                .limit(1000)
                .into_tuple()
                .all(tx.conn())
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            ids
        };
        for chunk in ids.chunks(BATCH as usize) {
            let chunk: Vec<OrderId> = chunk.iter().copied().map(OrderId).collect();
            let events = pipeline::advance(&state.db, tenant, &chunk)
                .await
                .map_err(|e| e.to_string())?;
            timeline::publish_events(state, tenant, &events).await;
        }
        Ok(())
    }
}
