//! Opening a return: what may be returned, the policy's answer, and the wrong-item report.

use super::*;

/// Opens a return; approves it (and buys its label) when the policy allows.
pub async fn request(
    tx: &TenantTx,
    links: &Links<'_>,
    order: OrderId,
    ask: Ask,
    by: &By,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    let order = orders::get_for_update(tx, order)
        .await?
        .ok_or(ReturnError::NotFound("orderId"))?;
    let p = settings::load(tx).await?;
    let lines = returnable(tx, &order).await?;
    // Asks naming one line twice count together against what may come back.
    let mut merged: Vec<(usize, usize, i64)> = Vec::new();
    for (i, a) in ask.lines.iter().enumerate() {
        if lines.get(a.line_index).is_none() {
            return Err(ReturnError::Refused(Refused {
                field: vec!["lines".into(), i.to_string(), "lineIndex".into()],
                message: format!("the order has {} lines", lines.len()),
            }));
        }
        match merged
            .iter_mut()
            .find(|(_, index, _)| *index == a.line_index)
        {
            Some(m) => m.2 = m.2.saturating_add(a.quantity),
            None => merged.push((i, a.line_index, a.quantity)),
        }
    }
    let asked: Vec<Asked> = merged
        .iter()
        .map(|&(i, index, quantity)| {
            let (line, left) = &lines[index];
            let (value, tax) = unit_value(&order, line);
            Asked {
                index: i,
                sku: line.sku.clone().unwrap_or_else(|| line.title.clone()),
                quantity,
                returnable: *left,
                unit_paid: value + tax,
            }
        })
        .collect();
    let req = policy::Request {
        delivered_at: delivered_at(tx, OrderId(order.id)).await?,
        now: Utc::now(),
        reason: &ask.reason,
        lines: &asked,
        fraud_score: order.fraud_score,
        recent_returns: recent_returns(tx, &order).await?,
    };
    policy::eligible(&p, &req).map_err(ReturnError::Refused)?;
    let currency = order.currency.to_string();
    let approval = policy::approval(&p, &req, |u| money(u, &currency));
    let count = repo::of_orders(tx, &[OrderId(order.id)]).await?.len();
    let now = Utc::now();
    let id = uuid::Uuid::now_v7();
    let mut rows = Vec::new();
    for a in &ask.lines {
        let (line, _) = &lines[a.line_index];
        // Two asks for one line add up.
        if let Some(r) = rows
            .iter_mut()
            .find(|r: &&mut ReturnLine| r.position == line.position)
        {
            r.quantity += i32::try_from(a.quantity).unwrap_or(0);
            continue;
        }
        let (value, tax) = unit_value(&order, line);
        rows.push(ReturnLine {
            tenant_id: tx.tenant().uuid(),
            return_id: id,
            position: line.position,
            sku: line.sku.clone().unwrap_or_else(|| line.title.clone()),
            variant_id: line.variant_id,
            quantity: i32::try_from(a.quantity).unwrap_or(0),
            reason: Some(ask.reason.clone()),
            unit_value_units: value,
            unit_tax_units: tax,
            received_quantity: None,
            grade: None,
            inspection_note: None,
            disposition: None,
            disposition_reason: None,
            exchange_sku: a
                .exchange_sku
                .clone()
                .filter(|_| ask.resolution == Resolution::Exchange)
                .or_else(|| {
                    (ask.resolution == Resolution::Exchange)
                        .then(|| line.sku.clone())
                        .flatten()
                }),
        });
    }
    let total: i64 = asked.iter().map(|a| a.unit_paid * a.quantity).sum();
    let ret = repo::insert(
        tx,
        Return {
            tenant_id: tx.tenant().uuid(),
            id,
            order_id: order.id,
            name: format!("{}-R{}", order.name, count + 1),
            status: repo::REQUESTED.into(),
            source: ask.source.as_str().into(),
            reason: ask.reason.clone(),
            comment: ask.comment.clone(),
            currency: order.currency.to_string(),
            decision: Some(serde_json::to_value(&approval).unwrap_or_default()),
            rejection: None,
            resolution: ask.resolution.as_str().into(),
            warehouse_id: None,
            carrier_id: None,
            service_id: None,
            tracking_number: None,
            label_cost_units: None,
            label_currency: None,
            label_status: None,
            label_pdf: None,
            label_zpl: None,
            label_purchase: None,
            label_wait: None,
            refund_id: None,
            exchange_order_id: None,
            settlement: None,
            merchant_fault: None,
            approved_at: None,
            received_at: None,
            inspected_at: None,
            resolved_at: None,
            created_at: now,
            updated_at: now,
        },
        rows.clone(),
    )
    .await?;
    let items: Vec<String> = rows
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.sku))
        .collect();
    let reason_label = p
        .reason(&ask.reason)
        .map(|r| r.label.clone())
        .unwrap_or_else(|| ask.reason.clone());
    let mut events = vec![
        record(
            tx,
            &ret,
            by,
            "return.requested",
            format!(
                "Return {} requested by the {} ({}): {}, worth {}; {}",
                ret.name,
                match ask.source {
                    Source::Shopper => "shopper",
                    Source::Staff => "staff",
                    Source::Api => "API",
                },
                reason_label,
                items.join(", "),
                money(total, &ret.currency),
                if approval.automatic {
                    "approved by policy".to_owned()
                } else {
                    format!("for staff review: {}", approval.reasons.join("; "))
                }
            ),
            ask.comment.clone(),
            json!({
                "decision": approval,
                "return": { "number": ret.name, "items": titles_of(&rows, &lines) },
            }),
        )
        .await?,
    ];
    if ask.reason == WRONG_ITEM {
        events.extend(Box::pin(wrong_item_reported(tx, &ret, &rows, by)).await?);
    }
    let ret = if approval.automatic {
        let (ret, more) =
            Box::pin(approve_in(tx, links, &order, ret, &p, &By::policy(), None)).await?;
        events.extend(more);
        ret
    } else {
        ret
    };
    Ok((ret, events))
}

/// The return reason that says the warehouse sent the wrong thing.
const WRONG_ITEM: &str = "wrong_item";

/// A return for the wrong item is a fulfillment error of the parcels that carried it (of the
/// only parcel when none names the SKU): an exception each, counted against accuracy.
async fn wrong_item_reported(
    tx: &TenantTx,
    ret: &Return,
    rows: &[ReturnLine],
    by: &By,
) -> Result<Vec<OrderEvent>, DbErr> {
    let parcels = shipping::of_orders(tx, &[OrderId(ret.order_id)]).await?;
    let shipped: Vec<&shipping::Shipment> = parcels
        .iter()
        .filter(|s| s.shipped_at.is_some() && s.voided_at.is_none())
        .collect();
    let skus: Vec<String> = rows.iter().map(|l| format!("\"{}\"", l.sku)).collect();
    let carrying: Vec<&shipping::Shipment> = shipped
        .iter()
        .copied()
        .filter(|s| {
            let text = s.lines.to_string();
            skus.iter().any(|k| text.contains(k.as_str()))
        })
        .collect();
    let detail = format!(
        "return {}: {}",
        ret.name,
        ret.comment.as_deref().unwrap_or("wrong item sent")
    );
    let mut events = Vec::new();
    // None names the SKU: a single parcel carried it; among several, which one is unknown.
    let flagged = match (carrying.is_empty(), shipped.len()) {
        (false, _) => carrying,
        (true, 1) => shipped,
        (true, _) => Vec::new(),
    };
    for s in flagged {
        let reported = crate::lifecycle::tracking::service::report_fulfillment_error(
            tx,
            s,
            crate::lifecycle::tracking::monitor::ExceptionKind::WrongItem,
            detail.clone(),
            by.actor,
            by.label.clone(),
        )
        .await?;
        events.extend(reported.map(|(_, e)| e));
    }
    Ok(events)
}

/// The items of a return as the shopper's emails list them.
fn titles_of(rows: &[ReturnLine], lines: &[(OrderLine, i64)]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            let title = lines
                .iter()
                .find(|(l, _)| l.position == r.position)
                .map(|(l, _)| l.title.clone())
                .unwrap_or_else(|| r.sku.clone());
            json!({ "quantity": r.quantity, "title": title, "sku": r.sku })
        })
        .collect()
}
