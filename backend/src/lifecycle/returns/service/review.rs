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
    let items = items_of(&lines, &order_lines);
    let started = match &warehouse {
        Some(w) => label::start(tx, order, &items, w).await?,
        None => Start::Refused("no active warehouse to receive returns".to_owned()),
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
    let label_note = match &started {
        Start::Bought(b) => {
            update.carrier_id = Set(Some(b.carrier_id));
            update.service_id = Set(Some(b.service_id));
            update.tracking_number = Set(Some(b.tracking_number.clone()));
            update.label_cost_units = Set(Some(b.cost_units));
            update.label_currency = Set(Some(b.currency.clone()));
            update.label_status = Set(Some(LABELLED.into()));
            update.label_pdf = Set(Some(b.pdf.clone()));
            update.label_zpl = Set(Some(b.zpl.clone()));
            format!("return label bought: {}", b.summary)
        }
        Start::Requested => {
            label::remote::request(&mut update);
            "return label requested from the carrier's API".to_owned()
        }
        Start::Refused(why) => {
            format!("no return label ({why}): the shopper sends it back themselves")
        }
    };
    let ret = repo::update(tx, update).await?;
    match (&started, order.test) {
        (Start::Bought(b), false) => {
            book_label(
                tx,
                order,
                &ret,
                b.cost_units,
                &b.currency,
                &b.tracking_number,
                by,
            )
            .await?;
        }
        (Start::Requested, _) => label::remote::enqueue(tx, &ret).await?,
        _ => {}
    }
    let pending = matches!(started, Start::Requested);
    let mut mail = approval_mail(
        links,
        &ret,
        &items,
        warehouse.as_ref(),
        matches!(started, Start::Bought(_)),
    );
    // The shopper is told once the label is there (or cannot be had), not before.
    mail["return"]["labelPending"] = json!(pending);
    let event = record(
        tx,
        &ret,
        by,
        "return.approved",
        format!("Return {} approved; {label_note}", ret.name),
        note,
        mail,
    )
    .await?;
    Ok((ret, vec![event]))
}

/// A return's label status once its label is bought and not yet scanned by the carrier.
pub const LABELLED: &str = "pre_transit";

/// The order lines a return takes back, with how many of each.
pub(crate) fn items_of<'a>(
    lines: &[ReturnLine],
    order_lines: &'a [OrderLine],
) -> Vec<(&'a OrderLine, i64)> {
    lines
        .iter()
        .filter_map(|l| {
            order_lines
                .iter()
                .find(|o| o.position == l.position)
                .map(|o| (o, i64::from(l.quantity)))
        })
        .collect()
}

/// Books a return label's postage (keyed by return and tracking number, so it is booked
/// once and reversed when the return is cancelled).
pub(crate) async fn book_label(
    tx: &TenantTx,
    order: &Order,
    ret: &Return,
    cost_units: i64,
    currency: &str,
    tracking_number: &str,
    by: &By,
) -> Result<(), DbErr> {
    ledger::post(
        tx,
        vec![Posting {
            op: Operation::Label { cost: cost_units },
            currency: currency.to_owned(),
            memo: format!("return label {tracking_number} for {}", ret.name),
            source: (SourceKind::Return, ret.id),
            order: Some(OrderId(order.id)),
            key: format!("return-label:{}:{tracking_number}", ret.id),
            at: Utc::now(),
            actor: by.actor,
        }],
    )
    .await?;
    Ok(())
}

/// What the shopper's approval email says: the items, and the label to print or where to
/// send the parcel.
pub(crate) fn approval_mail(
    links: &Links<'_>,
    ret: &Return,
    items: &[(&OrderLine, i64)],
    warehouse: Option<&entity::warehouses::Model>,
    labelled: bool,
) -> serde_json::Value {
    let page = links.page(ret);
    let titles: Vec<serde_json::Value> = items
        .iter()
        .map(|(l, q)| json!({ "quantity": q, "title": l.title, "sku": l.sku }))
        .collect();
    let approved = ret.approved_at.unwrap_or_else(Utc::now);
    let deadline = (approved + Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    let instructions = match (labelled, warehouse) {
        (true, _) => "Print the label, stick it on the parcel over any old labels, and hand it to the carrier.".to_owned(),
        (false, Some(w)) => format!(
            "Send the items to: {}",
            crate::lifecycle::shipping::label::address_lines(Some(&w.name), &w.address).join(", ")
        ),
        (false, None) => "Reply to this email and we will tell you where to send the items.".to_owned(),
    };
    json!({
        "return": {
            "number": ret.name,
            "items": titles,
            "label_url": labelled.then(|| format!("{page}/label.pdf")),
            "page_url": page,
            "instructions": instructions,
            "deadline": deadline,
        }
    })
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
    if let Some(status) = ret.label_status.as_deref()
        && label::remote::UNDER_WAY.contains(&status)
    {
        return Err(refused(
            "returnId",
            "the return label is being bought from the carrier right now; cancel once it is there",
        ));
    }
    if let Some(number) = &ret.tracking_number {
        if let Some(entry) =
            ledger_repo::by_key(tx, &format!("return-label:{}:{number}", ret.id)).await?
        {
            ledger::reverse(tx, &entry, "return cancelled, label unused", by.actor).await?;
        }
        // Postage paid to a carrier's API is asked back.
        label::remote::refund_postage(tx, &ret).await?;
    }
    let ret = save(
        tx,
        &ret,
        returns::ActiveModel {
            status: Set(repo::CANCELLED.into()),
            label_status: Set(ret.tracking_number.as_ref().map(|_| "voided".to_owned())),
            label_wait: Set(None),
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
