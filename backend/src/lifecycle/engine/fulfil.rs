//! The fulfillment stages the engine runs unattended: route an allocated order and, for a
//! store without the warehouse workflow, buy its labels at once.

use super::pipeline::Batch;
use crate::lifecycle::allocation::repo::Allocation;
use crate::lifecycle::allocation::service::StockBook;
use crate::lifecycle::routing::decide::Decision;
use crate::lifecycle::routing::service::{self as routing, RouteError};
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::service::label_all;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{By, Step, TransitionError, shipped_step};
use crate::order::repo::Order;
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
) -> Result<(), TransitionError> {
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
