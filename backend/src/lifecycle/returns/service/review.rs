//! Staff and policy decisions on a requested return: approve (with its label), reject, cancel.

use super::*;

/// Approves a requested return: its label is bought (and booked) and the shopper told.
pub async fn approve_in(
    tx: &TenantTx,
    links: &Links<'_>,
    order: &Order,
    ret: Return,
    p: &Policy,
    by: &By,
    note: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED],
        "only a requested return can be approved",
    )?;
    let warehouse = receiving_warehouse(tx, order, p).await?;
    let lines = repo::lines_of(tx, &[ret.id]).await?;
    let order_lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
    let items: Vec<(&OrderLine, i64)> = lines
        .iter()
        .filter_map(|l| {
            order_lines
                .iter()
                .find(|o| o.position == l.position)
                .map(|o| (o, i64::from(l.quantity)))
        })
        .collect();
    let bought = match &warehouse {
        Some(w) => label::buy(tx, order, &items, w).await?,
        None => Err("no active warehouse to receive returns".to_owned()),
    };
    let now = Utc::now();
    let mut update = returns::ActiveModel {
        tenant_id: Set(ret.tenant_id),
        id: Set(ret.id),
        status: Set(repo::APPROVED.into()),
        approved_at: Set(Some(now)),
        warehouse_id: Set(warehouse.as_ref().map(|w| w.id)),
        updated_at: Set(now),
        ..Default::default()
    };
    let label_note = match &bought {
        Ok(b) => {
            update.carrier_id = Set(Some(b.carrier_id));
            update.service_id = Set(Some(b.service_id));
            update.tracking_number = Set(Some(b.tracking_number.clone()));
            update.label_cost_units = Set(Some(b.cost_units));
            update.label_currency = Set(Some(b.currency.clone()));
            update.label_status = Set(Some("pre_transit".into()));
            update.label_pdf = Set(Some(b.pdf.clone()));
            update.label_zpl = Set(Some(b.zpl.clone()));
            format!("return label bought: {}", b.summary)
        }
        Err(why) => format!("no return label ({why}): the shopper sends it back themselves"),
    };
    let ret = repo::update(tx, update).await?;
    if let (Ok(b), false) = (&bought, order.test) {
        ledger::post(
            tx,
            vec![Posting {
                op: Operation::Label { cost: b.cost_units },
                currency: b.currency.clone(),
                memo: format!("return label {} for {}", b.tracking_number, ret.name),
                source: (SourceKind::Return, ret.id),
                order: Some(OrderId(order.id)),
                key: format!("return-label:{}:{}", ret.id, b.tracking_number),
                at: now,
                actor: by.actor,
            }],
        )
        .await?;
    }
    let page = links.page(&ret);
    let titles: Vec<serde_json::Value> = items
        .iter()
        .map(|(l, q)| json!({ "quantity": q, "title": l.title, "sku": l.sku }))
        .collect();
    let deadline = (now + Duration::days(14)).format("%Y-%m-%d").to_string();
    let instructions = match (&bought, &warehouse) {
        (Ok(_), _) => "Print the label, stick it on the parcel over any old labels, and hand it to the carrier.".to_owned(),
        (Err(_), Some(w)) => format!(
            "Send the items to: {}",
            crate::lifecycle::shipping::label::address_lines(Some(&w.name), &w.address).join(", ")
        ),
        (Err(_), None) => "Reply to this email and we will tell you where to send the items.".to_owned(),
    };
    let event = record(
        tx,
        &ret,
        by,
        "return.approved",
        format!("Return {} approved; {label_note}", ret.name),
        note,
        json!({
            "return": {
                "number": ret.name,
                "items": titles,
                "label_url": bought.as_ref().ok().map(|_| format!("{page}/label.pdf")),
                "page_url": page,
                "instructions": instructions,
                "deadline": deadline,
            }
        }),
    )
    .await?;
    Ok((ret, vec![event]))
}

pub async fn reject_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    reason: String,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED],
        "only a requested return can be rejected",
    )?;
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::REJECTED.into()),
            rejection: Set(Some(reason.clone())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.rejected",
        format!("Return {} rejected", ret.name),
        Some(reason.clone()),
        json!({ "return": { "number": ret.name, "reason": reason } }),
    )
    .await?;
    Ok((ret, vec![event]))
}

/// Cancels a return that has not arrived; its unused label comes off the books.
pub async fn cancel_in(
    tx: &TenantTx,
    ret: Return,
    by: &By,
    reason: Option<String>,
) -> Result<(Return, Vec<OrderEvent>), ReturnError> {
    only(
        &ret,
        &[repo::REQUESTED, repo::APPROVED],
        "only a return not yet on its way back can be cancelled",
    )?;
    if let Some(number) = &ret.tracking_number
        && let Some(entry) =
            ledger_repo::by_key(tx, &format!("return-label:{}:{number}", ret.id)).await?
    {
        ledger::reverse(tx, &entry, "return cancelled, label unused", by.actor).await?;
    }
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::CANCELLED.into()),
            label_status: Set(ret.tracking_number.as_ref().map(|_| "voided".to_owned())),
            ..Default::default()
        },
    )
    .await?;
    let event = record(
        tx,
        &ret,
        by,
        "return.cancelled",
        format!("Return {} cancelled", ret.name),
        reason,
        json!({}),
    )
    .await?;
    Ok((ret, vec![event]))
}
