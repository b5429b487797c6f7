//! Tracking updates applied: the scans are stored once each, the parcel takes the status of its
//! latest scan (by when it happened, so late or repeated deliveries change nothing), problems
//! become exceptions, and the order moves forward as its parcels do.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use chrono::Utc;
use entity::shipments;
use sea_orm::{ActiveValue::Set, DbErr};

use super::monitor::{self, ExceptionKind};
use super::normalize::{self, Scan, TrackingUpdate};
use super::repo as tracking;
use super::signature;
use crate::domain::{OrderId, TenantId};
use crate::lifecycle::events::{self, CarrierScan, ScanTaken};
use crate::lifecycle::shipping::carrier;
use crate::lifecycle::shipping::repo::{self as shipping, Shipment};
use crate::lifecycle::shipping::shop::Shopping;
use crate::lifecycle::shipping::status::{Source, TrackStatus};
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{self, By, Step};
use crate::order::repo as orders;
use crate::order::repo::Order;
use crate::order::timeline;
use crate::order::timeline::{NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{GlobalTx, TenantTx};

/// What became of a tracking webhook.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    Applied {
        new_scans: usize,
    },
    /// Every scan was known already.
    Duplicate,
    /// Not a tracking number of ours (sources send for every tracker of an account).
    UnknownTrackingNumber,
    /// Not a tracking event (another event type of the source).
    Ignored(String),
    UnknownCarrier,
    BadSignature,
    Malformed(String),
}

/// `POST /webhooks/carriers/{carrier}`: verifies with the carrier's secret in the format the
/// carrier is set up for, then applies.
pub async fn receive(
    state: &Arc<AppState>,
    carrier: uuid::Uuid,
    headers: &HeaderMap,
    query_token: Option<&str>,
    body: &[u8],
) -> Result<Receipt, DbErr> {
    let tx = GlobalTx::begin(&state.db).await?;
    let tenant = shipping::tenant_of_carrier(&tx, carrier).await?;
    tx.commit().await?;
    let Some(tenant) = tenant else {
        return Ok(Receipt::UnknownCarrier);
    };
    let (source, secret) = {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let row = shipping::carrier(&tx, carrier).await?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(Receipt::UnknownCarrier);
        };
        let Some(source) = Source::parse(&row.tracking_source) else {
            return Ok(Receipt::UnknownCarrier);
        };
        let secret = row.webhook_secret.as_deref().and_then(|s| {
            state
                .sealer
                .open(s, &carrier::secret_context(tenant, carrier))
                .ok()
        });
        (source, secret)
    };
    let Some(secret) = secret else {
        return Ok(Receipt::BadSignature);
    };
    if !signature::verify(
        source,
        headers,
        query_token,
        body,
        &secret,
        Utc::now().timestamp(),
    ) {
        return Ok(Receipt::BadSignature);
    }
    let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(Receipt::Malformed("the body is not JSON".into()));
    };
    let update = match normalize::parse(source, &parsed) {
        Ok(u) => u,
        Err(normalize::Unreadable(why)) if why.contains("event carries no") => {
            return Ok(Receipt::Ignored(why));
        }
        Err(normalize::Unreadable(why)) => return Ok(Receipt::Malformed(why)),
    };
    let (receipt, events) = apply(state, tenant, carrier, source, &update).await?;
    timeline::publish_events(state, tenant, &events).await;
    Ok(receipt)
}

/// A scan of a tracking number no outbound parcel has: offered to whoever takes such scans
/// (a return label's: the return moves on, received on delivery to the warehouse).
async fn other_parcel(
    tx: TenantTx,
    carrier: uuid::Uuid,
    update: &TrackingUpdate,
) -> Result<(Receipt, Vec<OrderEvent>), DbErr> {
    let detail = update
        .detail
        .clone()
        .or_else(|| update.scans.last().map(|s| s.message.clone()))
        .unwrap_or_default();
    let scan = CarrierScan {
        carrier,
        tracking_number: &update.tracking_number,
        status: update.status.as_str(),
        detail: &detail,
    };
    let (receipt, events) = match events::other_scan(&tx, scan).await? {
        ScanTaken::NotOurs => return Ok((Receipt::UnknownTrackingNumber, Vec::new())),
        ScanTaken::Refused(why) => return Ok((Receipt::Ignored(why), Vec::new())),
        ScanTaken::Unchanged(events) => (Receipt::Duplicate, events),
        ScanTaken::Moved(events) => (Receipt::Applied { new_scans: 1 }, events),
    };
    tx.commit().await?;
    Ok((receipt, events))
}

/// The order state its parcels put it in.
fn order_target(statuses: &[TrackStatus]) -> OrderState {
    if statuses.iter().all(|s| *s == TrackStatus::Delivered) {
        OrderState::Delivered
    } else if statuses
        .iter()
        .any(|s| s.progress() >= 3 && *s != TrackStatus::Delivered)
    {
        OrderState::OutForDelivery
    } else if statuses.iter().any(|s| s.progress() >= 2) {
        OrderState::InTransit
    } else {
        OrderState::Shipped
    }
}

fn rank(s: OrderState) -> u8 {
    match s {
        OrderState::Shipped => 1,
        OrderState::InTransit => 2,
        OrderState::OutForDelivery => 3,
        OrderState::Delivered => 4,
        _ => 0,
    }
}

fn describe(scan: &Scan) -> String {
    format!(
        "{}{}{}",
        scan.status.as_str().replace('_', " "),
        if scan.message.is_empty() {
            String::new()
        } else {
            format!(": {}", scan.message)
        },
        scan.location
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default()
    )
}

pub async fn apply(
    state: &AppState,
    tenant: TenantId,
    carrier: uuid::Uuid,
    source: Source,
    update: &TrackingUpdate,
) -> Result<(Receipt, Vec<OrderEvent>), DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    // Only this carrier's parcels: one carrier's secret never moves another's.
    let Some(found) = shipping::by_tracking_number(&tx, &update.tracking_number)
        .await?
        .filter(|s| s.carrier_id == Some(carrier))
    else {
        return other_parcel(tx, carrier, update).await;
    };
    // The order's lock is the shipment's: concurrent deliveries for one order take turns.
    let Some(mut order) = orders::get_for_update(&tx, OrderId(found.order_id)).await? else {
        return Ok((Receipt::UnknownTrackingNumber, Vec::new()));
    };
    // Read again under the lock: a label voided meanwhile no longer has this number.
    let Some(shipment) = shipping::shipment(&tx, found.id)
        .await?
        .filter(|s| s.tracking_number.as_deref() == Some(update.tracking_number.as_str()))
    else {
        return Ok((Receipt::UnknownTrackingNumber, Vec::new()));
    };
    let before = TrackStatus::parse(&shipment.status);
    let mut scans = update.scans.clone();
    if scans.is_empty() {
        // A source that sent only a status: one scan, now, if it moves the parcel on (a
        // replayed or late status-only body must not move it back).
        let moves_on =
            before.is_none_or(|b| update.status != b && update.status.progress() >= b.progress());
        if !moves_on {
            tx.commit().await?;
            return Ok((Receipt::Duplicate, Vec::new()));
        }
        scans.push(Scan {
            status: update.status,
            detail: update.detail.clone(),
            message: update.status.as_str().replace('_', " "),
            location: None,
            at: Utc::now(),
        });
    }
    let fresh = tracking::insert_new(&tx, shipment.id, source, &scans).await?;
    let new_estimate = update
        .estimated_delivery
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
        .filter(|e| shipment.estimated_at != Some(*e));
    if fresh.is_empty() && new_estimate.is_none() {
        tx.commit().await?;
        return Ok((Receipt::Duplicate, Vec::new()));
    }
    let by = By::system(&format!("tracking ({})", source.as_str()));
    let mut events = Vec::new();
    let (updated, delivered_now) = follow(&tx, &shipment, update).await?;
    if let Some(latest) = fresh.iter().max_by_key(|s| s.at) {
        events.push(
            timeline::record_event(
                &tx,
                NewEvent {
                    order: OrderId(order.id),
                    kind: "shipment.tracking",
                    actor: by.actor,
                    actor_label: by.label.clone(),
                    message: format!(
                        "Parcel {}/{} ({}): {}{}",
                        updated.parcel_no,
                        updated.parcel_count,
                        updated.tracking_number.as_deref().unwrap_or(""),
                        describe(latest),
                        if fresh.len() > 1 {
                            format!(" — {} new scan(s)", fresh.len())
                        } else {
                            String::new()
                        }
                    ),
                    reason: None,
                    data: serde_json::json!({
                        "shipmentId": updated.id,
                        "status": updated.status,
                        "scans": fresh,
                    }),
                },
            )
            .await?,
        );
    }
    // Problems the new scans report: only scans newer than what was known (a catch-up
    // history replays old attempts), and none once the parcel is delivered.
    let known_until = shipment.last_scan_at;
    let delivered = updated.status == TrackStatus::Delivered.as_str();
    for scan in fresh
        .iter()
        .filter(|s| !delivered && known_until.is_none_or(|k| s.at > k))
    {
        if let Some(finding) = monitor::from_scan(scan)
            && tracking::raise(&tx, OrderId(order.id), updated.id, &finding)
                .await?
                .is_some()
        {
            events.push(exception_event(&tx, &order, &updated, &finding, &by).await?);
        }
    }
    if delivered_now {
        tracking::resolve_kinds(
            &tx,
            updated.id,
            &[ExceptionKind::Late.as_str(), ExceptionKind::Lost.as_str()],
            "delivered",
        )
        .await?;
        if let Some(service) = updated.service_id {
            // Judged against the day quoted when the label was bought: carriers move their
            // later estimates as delays happen.
            let quoted = updated
                .rates
                .as_ref()
                .and_then(|r| serde_json::from_value::<Shopping>(r.clone()).ok())
                .and_then(|r| {
                    r.options
                        .into_iter()
                        .find(|o| Some(o.service_id) == updated.service_id)
                })
                .map(|o| o.delivery_on);
            let on_time = match (updated.delivered_at, quoted) {
                (Some(d), Some(q)) => d.date_naive() <= q,
                _ => true,
            };
            shipping::record_delivery(&tx, service, on_time).await?;
        }
    }
    // The order follows its parcels, forward only.
    let all = shipping::of_orders(&tx, &[OrderId(order.id)]).await?;
    let statuses: Vec<TrackStatus> = all
        .iter()
        .filter(|s| s.status != shipping::VOIDED)
        .map(|s| TrackStatus::parse(&s.status).unwrap_or(TrackStatus::Unknown))
        .collect();
    let now_state = order.state;
    let target = order_target(&statuses);
    if rank(now_state) > 0 && rank(target) > rank(now_state) {
        let step = Step {
            to: target,
            kind: match target {
                OrderState::InTransit => "order.in_transit",
                OrderState::OutForDelivery => "order.out_for_delivery",
                _ => "order.delivered",
            },
            message: match target {
                OrderState::InTransit => "In transit with the carrier".to_owned(),
                OrderState::OutForDelivery => "Out for delivery".to_owned(),
                _ => format!("Delivered ({} parcel(s))", statuses.len()),
            },
            reason: None,
            // The parcel that moved the order, for the shopper's email about it.
            data: serde_json::json!({
                "trackingNumber": updated.tracking_number,
                "shipmentId": updated.id,
                "status": updated.status,
            }),
        };
        events.push(
            transition::apply(&tx, &mut order, &by, step)
                .await
                .map_err(|e| DbErr::Custom(e.to_string()))?,
        );
    }
    tx.commit().await?;
    Ok((
        Receipt::Applied {
            new_scans: fresh.len(),
        },
        events,
    ))
}

/// Moves the shipment to what its latest scan says; returns it and whether it was delivered
/// by this update.
async fn follow(
    tx: &TenantTx,
    shipment: &Shipment,
    update: &TrackingUpdate,
) -> Result<(Shipment, bool), DbErr> {
    let stored = tracking::events_of(tx, &[shipment.id]).await?;
    let latest = stored.iter().max_by_key(|e| (e.occurred_at, e.id));
    let current = TrackStatus::parse(&shipment.status);
    let mut status = latest
        .and_then(|e| TrackStatus::parse(&e.status))
        .unwrap_or(update.status);
    // The tracker's own final word stands even when its scans sort oddly (a date-only
    // checkpoint reads as midnight); and delivered is final: a stray older-looking scan
    // arriving later does not undo it.
    if matches!(
        update.status,
        TrackStatus::Delivered | TrackStatus::ReturnToSender
    ) {
        status = update.status;
    }
    if current == Some(TrackStatus::Delivered) && status != TrackStatus::ReturnToSender {
        status = TrackStatus::Delivered;
    }
    let first_moving = stored
        .iter()
        .filter(|e| TrackStatus::parse(&e.status).is_some_and(|s| s.progress() >= 2))
        .map(|e| e.occurred_at)
        .min();
    let delivered_at = stored
        .iter()
        .filter(|e| e.status == TrackStatus::Delivered.as_str())
        .map(|e| e.occurred_at)
        .min();
    let delivered_now = status == TrackStatus::Delivered && current != Some(TrackStatus::Delivered);
    let mut row = shipments::ActiveModel {
        tenant_id: Set(shipment.tenant_id),
        id: Set(shipment.id),
        status: Set(status.as_str().to_owned()),
        last_scan_at: Set(latest.map(|e| e.occurred_at).or(shipment.last_scan_at)),
        last_detail: Set(latest.and_then(|e| e.detail.clone())),
        shipped_at: Set(shipment.shipped_at.or(first_moving)),
        delivered_at: Set(shipment.delivered_at.or(delivered_at)),
        ..Default::default()
    };
    if let Some(eta) = update.estimated_delivery {
        row.estimated_at = Set(eta.and_hms_opt(12, 0, 0).map(|t| t.and_utc()));
    }
    Ok((shipping::update_shipment(tx, row).await?, delivered_now))
}

pub async fn exception_event(
    tx: &TenantTx,
    order: &Order,
    shipment: &Shipment,
    finding: &monitor::Finding,
    by: &By,
) -> Result<OrderEvent, DbErr> {
    timeline::record_event(
        tx,
        NewEvent {
            order: OrderId(order.id),
            kind: "shipment.exception",
            actor: by.actor,
            actor_label: by.label.clone(),
            message: format!(
                "Delivery exception ({}) on parcel {}: {}. Recommended: {}",
                finding.kind.as_str().replace('_', " "),
                shipment.parcel_no,
                finding.detail,
                finding.action.as_str().replace('_', " ")
            ),
            reason: None,
            data: serde_json::json!({
                "shipmentId": shipment.id,
                "kind": finding.kind,
                "recommendedAction": finding.action,
                // The shopper is told proactively by the notification stage.
                "notifyShopper": true,
            }),
        },
    )
    .await
}

/// A wrong or missing item reported on a parcel (by staff, or by a return for the wrong
/// item): an exception for staff to act on (reship), counted against fulfillment accuracy.
/// Nothing new when the parcel already has one of that kind.
pub async fn report_fulfillment_error(
    tx: &TenantTx,
    shipment: &Shipment,
    kind: ExceptionKind,
    detail: String,
    actor: crate::tenancy::Actor,
    actor_label: Option<String>,
) -> Result<Option<(tracking::DeliveryException, OrderEvent)>, DbErr> {
    let finding = monitor::Finding {
        kind,
        action: monitor::Action::Reship,
        detail: detail.clone(),
    };
    let order = OrderId(shipment.order_id);
    let Some(raised) = tracking::raise(tx, order, shipment.id, &finding).await? else {
        return Ok(None);
    };
    // Accuracy counts on the day the parcel shipped: a settled day is computed again.
    if let Some(shipped) = shipment.shipped_at {
        crate::lifecycle::events::restated(tx, shipped).await?;
    }
    let event = timeline::record_event(
        tx,
        NewEvent {
            order,
            kind: "shipment.fulfillment_error",
            actor,
            actor_label,
            message: format!(
                "Parcel {} of {}: {} reported — {detail}",
                shipment.parcel_no,
                shipment.parcel_count,
                kind.as_str().replace('_', " ")
            ),
            reason: Some(detail),
            data: serde_json::json!({ "shipmentId": shipment.id, "exceptionId": raised.id, "kind": kind.as_str() }),
        },
    )
    .await?;
    Ok(Some((raised, event)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_follows_its_slowest_parcel() {
        use TrackStatus as T;
        assert_eq!(
            order_target(&[T::Delivered, T::Delivered]),
            OrderState::Delivered
        );
        assert_eq!(
            order_target(&[T::Delivered, T::PreTransit]),
            OrderState::InTransit
        );
        assert_eq!(
            order_target(&[T::PreTransit, T::PreTransit]),
            OrderState::Shipped
        );
        assert_eq!(
            order_target(&[T::InTransit, T::PreTransit]),
            OrderState::InTransit
        );
        assert_eq!(
            order_target(&[T::OutForDelivery, T::InTransit]),
            OrderState::OutForDelivery
        );
        assert_eq!(order_target(&[T::Failure]), OrderState::InTransit);
        assert!(rank(OrderState::Delivered) > rank(OrderState::OutForDelivery));
    }
}
