//! The parcel back: carrier scans, receipt at the warehouse, inspection, and the resolution
//! (refund, exchange or store credit) it leads to.

use super::*;
use crate::lifecycle::events::{CarrierScan, ScanTaken};

/// The return parcel has moved: on its way, or arrived at the warehouse (received).
pub async fn on_scan(
    tx: &TenantTx,
    ret: Return,
    status: &str,
    detail: &str,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let by = By {
        actor: Actor::System,
        label: Some("carrier tracking".into()),
    };
    match status {
        "delivered" if [repo::APPROVED, repo::IN_TRANSIT].contains(&ret.status.as_str()) => {
            receive_in(
                tx,
                ret,
                &by,
                Some(format!("delivered to the warehouse: {detail}")),
            )
            .await
        }
        "in_transit" | "out_for_delivery" | "available_for_pickup"
            if ret.status == repo::APPROVED =>
        {
            let ret = save(
                tx,
                &ret,
                returns::ActiveModel {
                    status: Set(repo::IN_TRANSIT.into()),
                    label_status: Set(Some(status.to_owned())),
                    ..Default::default()
                },
            )
            .await?;
            let event = record(
                tx,
                &ret,
                &by,
                "return.in_transit",
                format!("Return {} is on its way back: {detail}", ret.name),
                None,
                json!({}),
            )
            .await?;
            Ok((ret, vec![event]))
        }
        _ => Ok((ret, Vec::new())),
    }
}

pub async fn receive_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    note: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::APPROVED, repo::IN_TRANSIT],
        "only an approved return can be received",
    )?;
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::RECEIVED.into()),
            label_status: Set(ret.tracking_number.as_ref().map(|_| "delivered".to_owned())),
            received_at: Set(Some(Utc::now())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.received",
        format!(
            "Return {} received at the warehouse; waiting for inspection",
            ret.name
        ),
        note,
        json!({ "return": { "number": ret.name, "resolution": ret.resolution } }),
    )
    .await?;
    Ok((ret, vec![event]))
}

/// One line's inspection.
pub struct Grade {
    /// The order line's position (its index in `order.lines`).
    pub position: i32,
    pub grade: String,
    pub note: Option<String>,
    /// Units that arrived; all of the line's when not said.
    pub received: Option<i64>,
}

/// What the inspection found beyond each line.
pub struct Findings {
    pub grades: Vec<Grade>,
    /// Whose fault it was, when the inspection says (else the reason the shopper gave).
    pub merchant_fault: Option<bool>,
    /// Whether the caller may pay money back: without it the return waits, inspected, for
    /// someone who may.
    pub may_refund: bool,
}

/// Grades the items; each unit is restocked, refurbished or disposed of by the policy; then
/// the return is resolved when the policy refunds by itself.
pub async fn inspect_in(
    tx: &TenantTx,
    ret: Return,
    findings: Findings,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let grades = &findings.grades;
    only(
        &ret,
        &[repo::RECEIVED],
        "only a received return can be inspected",
    )?;
    let p = settings::load(tx).await?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    for (i, g) in grades.iter().enumerate() {
        if !policy::GRADES.contains(&g.grade.as_str()) {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "grade".into()],
                message: "must be A (as new), B (opened), C (used) or D (damaged)".into(),
            }));
        }
        let Some(line) = lines.iter().find(|l| l.position == g.position) else {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "lineIndex".into()],
                message: "that order line is not on this return".into(),
            }));
        };
        if g.received
            .is_some_and(|r| r < 0 || r > i64::from(line.quantity))
        {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "received".into()],
                message: format!("must be between 0 and the {} asked for", line.quantity),
            }));
        }
    }
    if let Some(l) = lines
        .iter()
        .find(|l| !grades.iter().any(|g| g.position == l.position))
    {
        return Err(refused(
            "lines",
            format!("grade every item: {} has no grade", l.sku),
        ));
    }
    let reference = ret.name.clone();
    let mut decisions = Vec::new();
    for l in &lines {
        let Some(g) = grades.iter().find(|g| g.position == l.position) else {
            continue;
        };
        let received = g.received.unwrap_or(i64::from(l.quantity));
        let (disposition, why) = settle::dispose(&p, &g.grade, l.unit_value_units, &ret.currency);
        if disposition == Disposition::Restock
            && received > 0
            && let (Some(variant), Some(warehouse)) = (l.variant_id, ret.warehouse_id)
        {
            match move_stock(
                tx,
                by.actor,
                Move {
                    variant: VariantId(variant),
                    warehouse: WarehouseId(warehouse),
                    kind: MovementKind::ReturnRestock,
                    quantity: received,
                    reason: Some("returned, inspected and restocked"),
                    reference: Some(&reference),
                },
            )
            .await
            {
                Ok(_) => {}
                Err(MoveError::Db(e)) => return Err(e.into()),
                Err(MoveError::Rule(rule)) => {
                    return Err(refused(
                        "lines",
                        format!("{} cannot be restocked: {rule}", l.sku),
                    ));
                }
            }
        }
        repo::update_line(
            tx,
            return_lines::ActiveModel {
                tenant_id: Set(l.tenant_id),
                return_id: Set(l.return_id),
                position: Set(l.position),
                grade: Set(Some(g.grade.clone())),
                received_quantity: Set(Some(i32::try_from(received).unwrap_or(0))),
                inspection_note: Set(g.note.clone()),
                disposition: Set(Some(disposition.as_str().into())),
                disposition_reason: Set(Some(why.clone())),
                ..Default::default()
            },
        )
        .await?;
        decisions.push(format!(
            "{}{} × {} graded {}: {} ({why})",
            received,
            if received < i64::from(l.quantity) {
                format!(" of {} asked for", l.quantity)
            } else {
                String::new()
            },
            l.sku,
            g.grade,
            disposition.as_str()
        ));
    }
    let now = Utc::now();
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::INSPECTED.into()),
            merchant_fault: Set(Some(
                findings
                    .merchant_fault
                    .unwrap_or_else(|| p.reason(&ret.reason).is_some_and(|r| r.merchant_fault)),
            )),
            inspected_at: Set(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    let mut events = vec![
        record(
            tx,
            &ret,
            by,
            "return.inspected",
            format!("Return {} inspected: {}", ret.name, decisions.join("; ")),
            None,
            json!({ "decisions": decisions }),
        )
        .await?,
    ];
    if p.auto_refund && findings.may_refund {
        let (ret, more) = Box::pin(resolve_in(tx, ret, &By::policy())).await?;
        events.extend(more);
        return Ok((ret, events));
    }
    Ok((ret, events))
}

/// Pays the shopper what the inspection and the policy say (once: the refund's key is the
/// return's), or records the exchange.
pub async fn resolve_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::INSPECTED],
        "only an inspected return can be resolved",
    )?;
    let p = settings::load(tx).await?;
    let order = orders::get_for_update(tx, OrderId(ret.order_id))
        .await?
        .ok_or_else(|| refused("returnId", "the return's order is gone"))?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    let paid = refund::paid_of(tx, &order).await?;
    let merchant_fault = ret
        .merchant_fault
        .unwrap_or_else(|| p.reason(&ret.reason).is_some_and(|r| r.merchant_fault));
    let resolution = Resolution::parse(&ret.resolution).unwrap_or(Resolution::Refund);
    let inspected: Vec<Inspected> = lines
        .iter()
        .map(|l| Inspected {
            sku: l.sku.clone(),
            quantity: i64::from(l.received_quantity.unwrap_or(l.quantity)),
            unit_value: l.unit_value_units,
            unit_tax: l.unit_tax_units,
            grade: l.grade.clone().unwrap_or_else(|| "D".into()),
        })
        .collect();
    let settlement = settle::settle(
        &p,
        &inspected,
        &Terms {
            merchant_fault,
            shipping_left: paid.shipping - paid.shipping_refunded,
            // A label bought in another currency is not taken off this one.
            label_cost: ret
                .label_cost_units
                .filter(|_| ret.label_currency.as_deref() == Some(ret.currency.as_str()))
                .unwrap_or(0),
            refundable: paid.refundable(),
        },
        &ret.currency,
    );
    let mut events = Vec::new();
    let mut refund_id = None;
    let mut exchange_order = None;
    let message = match resolution {
        Resolution::Refund | Resolution::StoreCredit if settlement.amount() > 0 => {
            let done = refund::refund(
                tx,
                refund::Request {
                    order: OrderId(order.id),
                    return_id: Some(ret.id),
                    key: format!("return:{}", ret.id),
                    ask: RefundAsk::Parts(settlement.split()),
                    method: if resolution == Resolution::StoreCredit {
                        Method::StoreCredit
                    } else {
                        Method::Original
                    },
                    withheld: settlement.withheld,
                    reason: Some(format!("return {}", ret.name)),
                    actor: by.actor,
                    actor_label: by.label.clone(),
                },
            )
            .await
            .map_err(|e| match e {
                RefundError::Db(e) => ReturnError::Db(e),
                other => refused("returnId", other.to_string()),
            })?;
            if done.refund.status == crate::lifecycle::refund::repo::FAILED {
                // Left inspected: resolving again retries the same refund intent.
                events.extend(done.events);
                return Ok((ret, events));
            }
            refund_id = Some(done.refund.id);
            let sent = done.refund.status == crate::lifecycle::refund::repo::PENDING;
            events.extend(done.events);
            format!(
                "Return {} resolved: {} {}",
                ret.name,
                money(settlement.amount(), &ret.currency),
                if resolution == Resolution::StoreCredit {
                    "as store credit"
                } else if sent {
                    "to be refunded (requested from the payment provider)"
                } else {
                    "refunded"
                }
            )
        }
        Resolution::Refund | Resolution::StoreCredit => {
            format!("Return {} resolved: nothing to refund", ret.name)
        }
        Resolution::Exchange => {
            let order_lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
            let captured = exchange::replace(tx, &order, &order_lines, &ret, &lines, by)
                .await
                .map_err(|e| match e {
                    CaptureError::Db(e) => ReturnError::Db(e),
                    CaptureError::Invalid { field, message } => refused(
                        "lines",
                        format!("the replacement order cannot be made ({field}: {message})"),
                    ),
                })?;
            exchange_order = Some(captured.order.id);
            events.extend(captured.events);
            format!(
                "Return {} resolved by exchange: replacement order {} for {}",
                ret.name,
                captured.order.name,
                lines
                    .iter()
                    .map(|l| format!(
                        "{} × {}",
                        l.quantity,
                        l.exchange_sku.clone().unwrap_or_else(|| l.sku.clone())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let now = Utc::now();
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::RESOLVED.into()),
            refund_id: Set(refund_id),
            exchange_order_id: Set(exchange_order),
            settlement: Set(Some(serde_json::to_value(&settlement).unwrap_or_default())),
            resolved_at: Set(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    let notes = settlement.notes.join("; ");
    events.push(
        record(
            tx,
            &ret,
            by,
            "return.resolved",
            if notes.is_empty() {
                message
            } else {
                format!("{message} ({notes})")
            },
            None,
            json!({ "settlement": settlement, "refundId": refund_id, "exchangeOrderId": exchange_order }),
        )
        .await?,
    );
    Ok((ret, events))
}

/// A carrier's scan of a tracking number no outbound parcel has: when it is one of this
/// tenant's return labels (of that carrier), the return moves on. Registered in
/// `app::event_subscribers`.
pub async fn on_carrier_scan(tx: &TenantTx, scan: CarrierScan<'_>) -> Result<ScanTaken, DbErr> {
    let Some(found) = repo::by_tracking_number(tx, scan.tracking_number)
        .await?
        .filter(|r| r.carrier_id == Some(scan.carrier))
    else {
        return Ok(ScanTaken::NotOurs);
    };
    // The order's lock first, as every return step takes it.
    orders::get_for_update(tx, OrderId(found.order_id)).await?;
    let Some(ret) = repo::get_for_update(tx, found.id).await? else {
        return Ok(ScanTaken::NotOurs);
    };
    let before = ret.status.clone();
    Ok(match on_scan(tx, ret, scan.status, scan.detail).await {
        Ok((ret, events)) if ret.status == before => ScanTaken::Unchanged(events),
        Ok((_, events)) => ScanTaken::Moved(events),
        Err(ReturnError::Db(e)) => return Err(e),
        Err(ReturnError::Refused(r)) => ScanTaken::Refused(r.message),
        Err(ReturnError::NotFound(_)) => ScanTaken::NotOurs,
    })
}
