//! The recurring delivery watch, per tenant: predicts each parcel's arrival from the tenant's
//! own transit history, and raises an exception for parcels that are late or silent. It runs
//! while the tenant has parcels on their way, hourly, and is started by the first label.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::shipments;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::monitor::{self, InFlight};
use super::repo as tracking;
use super::service::exception_event;
use crate::domain::{OrderId, TenantId};
use crate::jobs::{Claim, JobError, Run};
use crate::lifecycle::settings::fulfillment as settings;
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::shipping::status::TrackStatus;
use crate::lifecycle::transition::By;
use crate::lifecycle::transition::wake::{WATCH_EVERY, WatchDeliveries, schedule_watch};
use crate::order::repo as orders;
use crate::order::timeline;
use crate::state::AppState;
use crate::tenancy::{AnyTx, TenantTx};

/// How far back the transit history reaches.
const HISTORY_DAYS: i64 = 180;

/// Statuses of parcels on their way.
const IN_FLIGHT: [&str; 6] = [
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "available_for_pickup",
    "failure",
    "unknown",
];

impl Run for WatchDeliveries {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        run(state, claim.tenant)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// One look; returns the exceptions raised.
pub async fn run(state: &AppState, tenant: TenantId) -> Result<usize, DbErr> {
    let now = Utc::now();
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let s = settings::load(&tx).await?;
    let parcels = shipments::Entity::find()
        .filter(shipments::Column::TenantId.eq(tenant.uuid()))
        .filter(shipments::Column::Status.is_in(IN_FLIGHT))
        .limit(10_000)
        .all(tx.conn())
        .await?;
    let history = tracking::transit_history(&tx, now - Duration::days(HISTORY_DAYS)).await?;
    let by = By::system("delivery watch");
    let mut events = Vec::new();
    let mut raised = 0;
    let order_ids: Vec<OrderId> = parcels.iter().map(|p| OrderId(p.order_id)).collect();
    let order_rows = orders::get_many(&tx, &order_ids).await?;
    for p in &parcels {
        let since = p.shipped_at.or(p.labelled_at).unwrap_or(p.created_at);
        let prediction = match (p.service_id, p.zone) {
            (Some(service), Some(zone)) => {
                monitor::predict(&history, service, zone, since, p.estimated_at)
            }
            _ => None,
        };
        if let Some(pr) = &prediction
            && p.predicted_at != Some(pr.at)
        {
            shipping::update_shipment(
                &tx,
                shipments::ActiveModel {
                    tenant_id: Set(p.tenant_id),
                    id: Set(p.id),
                    predicted_at: Set(Some(pr.at)),
                    prediction: Set(Some(serde_json::to_value(pr).unwrap_or_default())),
                    ..Default::default()
                },
            )
            .await?;
        }
        let facts = InFlight {
            status: TrackStatus::parse(&p.status).unwrap_or(TrackStatus::Unknown),
            promised_by: p.promised_at.map(|d| d.date_naive()),
            expected_by: prediction
                .as_ref()
                .map(|pr| pr.at)
                .or(p.estimated_at)
                .map(|d| d.date_naive()),
            labelled_at: p.labelled_at,
            last_scan_at: p.last_scan_at,
        };
        let findings = monitor::overdue(&facts, now, i64::from(s.lost_after_days));
        // Read the parcel again just before raising: a delivery may have been applied since
        // this pass began.
        let still_out = !findings.is_empty()
            && shipping::shipment(&tx, p.id)
                .await?
                .is_some_and(|now| IN_FLIGHT.contains(&now.status.as_str()));
        for finding in findings.into_iter().filter(|_| still_out) {
            if tracking::raise(&tx, OrderId(p.order_id), p.id, &finding)
                .await?
                .is_some()
            {
                raised += 1;
                if let Some(order) = order_rows.iter().find(|o| o.id == p.order_id) {
                    events.push(exception_event(&tx, order, p, &finding, &by).await?);
                }
            }
        }
    }
    if !parcels.is_empty() {
        schedule_watch(&tx, WATCH_EVERY).await?;
    }
    tx.commit().await?;
    timeline::publish_events(state, tenant, &events).await;
    Ok(raised)
}
