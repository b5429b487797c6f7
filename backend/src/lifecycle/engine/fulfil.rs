//! The fulfillment stages the engine runs unattended: route an allocated order and, for a
//! store without the warehouse workflow, buy its labels at once.

use super::pipeline::Batch;
use super::transition::{By, EngineError, Step};
use crate::domain::OrderId;
use crate::lifecycle::allocation::repo::Allocation;
use crate::lifecycle::allocation::service::StockBook;
use crate::lifecycle::routing::decide::Decision;
use crate::lifecycle::routing::service::{self as routing, RouteError};
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::repo::Shipment;
use crate::lifecycle::shipping::service::{self as labels, Choice, LabelError};
use crate::lifecycle::state::OrderState;
use crate::order::repo::{Order, OrderLine};
use crate::order::timeline::NewEvent;
use crate::tenancy::TenantTx;

/// The decision in a sentence: the plan, and what it was chosen over.
pub fn routing_message(d: &Decision, moved: i64) -> String {
    let mut m = format!("Routed: {}", d.chosen.summary);
    if let Some(next) = d.alternatives.first() {
        m.push_str(&format!(
            "; chosen over {} alternative(s), next best {}",
            d.alternatives.len(),
            next.summary
        ));
    }
    if !d.excluded.is_empty() {
        m.push_str(&format!("; left out {}", d.excluded.join(", ")));
    }
    if moved > 0 {
        m.push_str(&format!(
            "; {moved} reserved unit(s) moved to the chosen warehouse"
        ));
    }
    m
}

pub(super) async fn route_and_label(
    tx: &TenantTx,
    batch: &mut Batch,
    ctx: &mut Context,
    book: &mut StockBook,
    order: &mut Order,
    allocations: &[Allocation],
    by: &By,
) -> Result<(), EngineError> {
    let lines = batch.lines.get(&order.id).cloned().unwrap_or_default();
    let routed = match routing::route(tx, ctx, book, order, &lines, allocations).await {
        Ok(r) => r,
        Err(RouteError::Db(e)) => return Err(e.into()),
        Err(RouteError::NothingToShip) => return Ok(()),
        Err(RouteError::NoRoute(why)) => {
            let why = format!("cannot be routed: {why}");
            order.hold_reason = Some(why.clone());
            return batch.stage(
                order,
                by,
                Step {
                    to: OrderState::OnHold,
                    kind: "order.held",
                    message: format!("Held: {why}"),
                    reason: Some(why),
                    data: serde_json::json!({}),
                },
            );
        }
    };
    order.routing = Some(serde_json::to_value(&routed.decision).unwrap_or_default());
    order.promised_at = routed.shipments.first().and_then(|s| s.promised_at);
    batch.stage(
        order,
        by,
        Step {
            to: OrderState::Routed,
            kind: "order.routed",
            message: routing_message(&routed.decision, routed.moved),
            reason: None,
            data: serde_json::json!({
                "parcels": routed.decision.chosen.parcels.len(),
                "cost": routed.decision.chosen.cost,
                "promisedBy": routed.promised_by,
                "method": routed.decision.method,
            }),
        },
    )?;
    if ctx.settings.auto_buy_labels && !ctx.settings.warehouse_workflow {
        let (events, all) = label_all(tx, ctx, order, &lines, &routed.shipments, by).await?;
        for e in events {
            batch.note(order, e);
        }
        if all {
            batch.stage(order, by, shipped_step(routed.shipments.len()))?;
        }
    }
    Ok(())
}

pub fn shipped_step(parcels: usize) -> Step {
    Step {
        to: OrderState::Shipped,
        kind: "order.shipped",
        message: format!("Shipped: {parcels} parcel(s) labelled and handed to the carrier"),
        reason: None,
        data: serde_json::json!({ "parcels": parcels }),
    }
}

/// Buys the recommended label of every open shipment; returns the timeline events and
/// whether every parcel of the order now has a label. A refusal (no service takes a parcel)
/// is recorded and leaves the order for staff.
pub async fn label_all(
    tx: &TenantTx,
    ctx: &Context,
    order: &Order,
    lines: &[OrderLine],
    shipments: &[Shipment],
    by: &By,
) -> Result<(Vec<NewEvent<'static>>, bool), EngineError> {
    let mut events = Vec::new();
    let mut all = true;
    for s in shipments {
        if !crate::lifecycle::shipping::repo::OPEN.contains(&s.status.as_str()) {
            continue;
        }
        // A rule's chosen service, when it takes the parcel; the tenant's pick otherwise.
        let pinned = order
            .assigned_service
            .as_deref()
            .and_then(|code| ctx.book.service_by_code(code));
        let recommended = Choice::Recommended(ctx.settings.label_pick);
        let bought = match pinned {
            Some(id) => {
                match labels::buy(tx, ctx, order, lines, s, Choice::Service(id), by.actor).await {
                    Err(LabelError::Refused(_)) => {
                        labels::buy(tx, ctx, order, lines, s, recommended, by.actor).await
                    }
                    other => other,
                }
            }
            None => labels::buy(tx, ctx, order, lines, s, recommended, by.actor).await,
        };
        match bought {
            Ok(bought) => events.push(NewEvent {
                order: OrderId(order.id),
                kind: "shipment.label_created",
                actor: by.actor,
                actor_label: by.label.clone(),
                message: bought.message,
                reason: None,
                data: serde_json::json!({
                    "shipmentId": s.id,
                    "trackingNumber": bought.shipment.tracking_number,
                    "service": bought.option.service,
                    "carrier": bought.option.carrier,
                    "price": bought.option.price,
                }),
            }),
            Err(LabelError::Db(e)) => return Err(e.into()),
            Err(LabelError::Refused(why)) => {
                all = false;
                events.push(NewEvent {
                    order: OrderId(order.id),
                    kind: "shipment.label_failed",
                    actor: by.actor,
                    actor_label: by.label.clone(),
                    message: format!("No label bought for parcel {}: {why}", s.parcel_no),
                    reason: Some(why),
                    data: serde_json::json!({ "shipmentId": s.id }),
                });
            }
        }
    }
    Ok((events, all))
}
