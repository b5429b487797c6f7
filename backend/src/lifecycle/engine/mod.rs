//! The lifecycle engine: moves orders through the automated stages (capture issues, payment,
//! fraud, allocation) as jobs, and applies staff overrides. Every state change goes through
//! [`transition`], so it is legal, conditional on the state read, and on the timeline.

pub mod actions;
pub mod fulfil;
pub mod gate;
pub mod graphql;
pub mod pipeline;
pub mod split;
pub mod transition;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::app::AppState;
use crate::domain::{OrderId, TenantId};
use crate::jobs::queue::{self, Job, NewJob};
use crate::jobs::worker::JobError;
use crate::lifecycle::allocation::service as allocate;
use crate::lifecycle::capture::{self, repo};
use crate::lifecycle::state::OrderState;
use crate::tenancy::{Actor, AnyTx, TenantTx};

/// Moves one order through the automated stages; batched by the worker.
pub const ADVANCE: &str = "order.advance";
/// Gives back an unpaid order's reservation when it lapses.
pub const EXPIRE: &str = "order.reservation_expiry";
/// Stock became available: backordered orders try again.
pub const RESTOCKED: &str = "inventory.restocked";

/// At most this many orders are decided in one transaction.
pub const BATCH: u64 = 64;

fn order_of(job: &Job) -> Result<OrderId, JobError> {
    job.payload
        .get("orderId")
        .and_then(|v| v.as_str())
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .map(OrderId)
        .ok_or_else(|| "the job names no orderId".to_owned())
}

fn tenant_of(job: &Job) -> Result<TenantId, JobError> {
    job.tenant_id
        .map(TenantId)
        .ok_or_else(|| "the job names no tenant".to_owned())
}

/// Asks for `order` to be advanced, in the caller's transaction (one pending job per order).
pub async fn schedule(tx: &TenantTx, order: OrderId) -> Result<(), DbErr> {
    queue::enqueue(
        tx,
        NewJob::now(
            ADVANCE,
            Some(tx.tenant()),
            serde_json::json!({ "orderId": order.uuid() }),
        )
        .dedupe(format!("advance:{}", order.uuid())),
    )
    .await
}

pub async fn schedule_expiry(
    tx: &TenantTx,
    order: OrderId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    queue::enqueue(
        tx,
        NewJob::now(
            EXPIRE,
            Some(tx.tenant()),
            serde_json::json!({ "orderId": order.uuid() }),
        )
        .at(at)
        .dedupe(format!("expire:{}", order.uuid())),
    )
    .await
}

/// After stock grew: retry the tenant's backorders shortly (one pending retry per tenant, so
/// a receipt of a hundred lines causes one pass).
pub async fn schedule_restock(tx: &TenantTx) -> Result<(), DbErr> {
    queue::enqueue(
        tx,
        NewJob::now(RESTOCKED, Some(tx.tenant()), serde_json::json!({}))
            .at(Utc::now() + Duration::seconds(1))
            .dedupe(format!("restocked:{}", tx.tenant().uuid())),
    )
    .await
}

/// Runs a batch of `order.advance` jobs of one tenant in one transaction. A batch that fails
/// is retried order by order, so one bad order cannot hold up the rest; the per-job results
/// are returned in the order of `jobs`.
pub async fn run_advance(state: &Arc<AppState>, jobs: &[Job]) -> Vec<Result<(), JobError>> {
    let parsed: Vec<Result<(TenantId, OrderId), JobError>> = jobs
        .iter()
        .map(|j| Ok((tenant_of(j)?, order_of(j)?)))
        .collect();
    let ok: Vec<(TenantId, OrderId)> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    if let Some((tenant, _)) = ok.first()
        && ok.len() > 1
        && ok.iter().all(|(t, _)| t == tenant)
    {
        let ids: Vec<OrderId> = ok.iter().map(|(_, o)| *o).collect();
        match pipeline::advance(&state.db, *tenant, &ids).await {
            Ok(events) => {
                capture::publish_events(state, *tenant, &events).await;
                return parsed.into_iter().map(|p| p.map(|_| ())).collect();
            }
            Err(err) => {
                tracing::info!(error = %err, orders = ids.len(), "batch failed; retrying order by order")
            }
        }
    }
    let mut out = Vec::with_capacity(parsed.len());
    for p in parsed {
        out.push(match p {
            Ok((tenant, order)) => match pipeline::advance(&state.db, tenant, &[order]).await {
                Ok(events) => {
                    capture::publish_events(state, tenant, &events).await;
                    Ok(())
                }
                Err(err) => Err(err.to_string()),
            },
            Err(e) => Err(e),
        });
    }
    out
}

/// Releases an unpaid order's reservation once it lapsed (paid orders had theirs cleared).
pub async fn run_expiry(state: &Arc<AppState>, job: &Job) -> Result<(), JobError> {
    let tenant = tenant_of(job)?;
    let order_id = order_of(job)?;
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
                repo::record_event(
                    &tx,
                    repo::NewEvent {
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
    capture::publish_events(state, tenant, &events).await;
    Ok(())
}

/// Retries the tenant's backordered orders, oldest first.
pub async fn run_restocked(state: &Arc<AppState>, job: &Job) -> Result<(), JobError> {
    use entity::orders;
    let tenant = tenant_of(job)?;
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
        capture::publish_events(state, tenant, &events).await;
    }
    Ok(())
}

/// A channel changed an order's line items after stock was promised for them: the promise is
/// released and made again for the new lines (through `backordered`, which the next stage run
/// fills); an order already routed or being picked is held for a person to look at.
pub async fn replan_lines(
    tx: &TenantTx,
    order: &mut repo::Order,
    by: &transition::By,
) -> Result<Option<repo::OrderEvent>, DbErr> {
    use transition::{Step, state_of};
    let state = state_of(order);
    let effective = transition::stage_of(order);
    let id = OrderId(order.id);
    let fail = |e: transition::EngineError| match e {
        transition::EngineError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    };
    match effective {
        OrderState::Allocated | OrderState::Backordered | OrderState::PaymentReview => {
            let released = allocate::release(tx, order, by.actor, None).await?;
            if released.is_empty() && effective == OrderState::PaymentReview {
                return Ok(None);
            }
            let message = "Line items changed on the channel: the stock promised was given back \
                           and is allocated again for the new lines"
                .to_owned();
            let data = serde_json::json!({ "released": released });
            let event = if state == OrderState::Allocated {
                let step = Step {
                    to: OrderState::Backordered,
                    kind: "order.reallocating",
                    message,
                    reason: None,
                    data,
                };
                transition::apply(tx, order, by, step).await.map_err(fail)?
            } else {
                if state == OrderState::OnHold && effective == OrderState::Allocated {
                    // Released from the hold, it resumes allocation.
                    order.held_from = Some(OrderState::Backordered.as_str().to_owned());
                    transition::save(tx, order, Some(state))
                        .await
                        .map_err(fail)?;
                }
                repo::record_event(
                    tx,
                    repo::NewEvent {
                        order: id,
                        kind: "order.reallocating",
                        actor: by.actor,
                        actor_label: by.label.clone(),
                        message,
                        reason: None,
                        data,
                    },
                )
                .await?
            };
            schedule(tx, id).await?;
            Ok(Some(event))
        }
        OrderState::Routed | OrderState::Picking | OrderState::Packed
            if state != OrderState::OnHold =>
        {
            let why = "line items changed on the channel after the order was routed: check what \
                       to ship before releasing it";
            order.hold_reason = Some(why.to_owned());
            let step = Step {
                to: OrderState::OnHold,
                kind: "order.held",
                message: format!("Held: {why}"),
                reason: Some(why.to_owned()),
                data: serde_json::json!({}),
            };
            Ok(Some(
                transition::apply(tx, order, by, step).await.map_err(fail)?,
            ))
        }
        _ => Ok(None),
    }
}
