//! A bought label written back: the file fetched through the outbound client, the parcel's
//! stock shipped, the label kept, the cost booked, and the order shipped once every parcel
//! has its label. A purchase that cannot be made holds the order with the carrier's words.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::ActiveValue::Set;

use super::refund::RefundPostage;
use super::{CANCELLED, DONE, FAILED, RunError, Scene, StoredLabel, advance, chosen_of, set_wait};
use crate::domain::{OrderId, TenantId, VariantId};
use crate::jobs::Job;
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::remote::RemoteError;
use crate::lifecycle::shipping::repo;
use crate::lifecycle::shipping::service::{self, Choice, Drawn, LabelError};
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{self, By, Step, shipped_step};
use crate::order::issues::{Issue, IssueCode};
use crate::order::repo::{self as orders, Order};
use crate::order::timeline::{self, NewEvent};
use crate::state::AppState;
use crate::tenancy::{Actor, TenantTx};

/// A label file may be this large.
const MAX_LABEL_FILE: usize = 4 * 1024 * 1024;
/// A carrier's label file server has this long to answer.
const FILE_TIMEOUT: Duration = Duration::from_secs(30);

/// Downloads the label file and writes the label: stock out, files kept, the parcel
/// labelled, the cost booked, and the order shipped once every parcel has its label.
pub(super) async fn write_label(
    state: &Arc<AppState>,
    s: &Scene,
    label: StoredLabel,
    file: (String, Vec<u8>, String),
) -> Result<(), RunError> {
    let tenant = TenantId(s.p.tenant_id);
    let chosen = chosen_of(&s.p)?;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(mut order) = orders::get_for_update(&tx, OrderId(s.order.id)).await? else {
        return Ok(());
    };
    let Some(shipment) = repo::shipment(&tx, s.shipment.id).await? else {
        return Ok(());
    };
    let by = By::system("label job");
    if !repo::OPEN.contains(&shipment.status.as_str()) {
        // Cancelled or voided while the label was being bought: its postage goes back.
        advance(&tx, &s.p, CANCELLED, |_| {}).await?;
        RefundPostage {
            carrier: s.p.carrier_id.unwrap_or_default(),
            shipment: shipment.id,
            refund_id: label.refund_id.clone(),
            round: 0,
            order: Some(shipment.order_id),
        }
        .enqueue(&tx)
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    service::ship_stock(
        &tx,
        &order,
        &s.lines,
        &shipment,
        MovementKind::Shipment,
        Actor::System,
    )
    .await?;
    let (media_type, body, zpl) = file;
    let drawn = Drawn {
        tracking_number: label.tracking_code.clone(),
        cost: label.cost,
        file: body,
        media_type,
        zpl,
        label_ref: Some(label.refund_id.clone()),
        tracker_id: label.tracker_id.clone(),
        tracking_url: label.public_url.clone(),
    };
    let mut option = chosen.option.clone();
    option.price = label.cost;
    let bought = service::record(
        &tx,
        &order,
        &shipment,
        &chosen.shopping,
        &option,
        chosen.choice(),
        &chosen.why,
        drawn,
        Actor::System,
    )
    .await?;
    advance(&tx, &s.p, DONE, |_| {}).await?;
    timeline::record_events(
        &tx,
        vec![NewEvent {
            order: OrderId(order.id),
            kind: "shipment.label_created",
            actor: by.actor,
            actor_label: by.label.clone(),
            message: bought.message,
            reason: None,
            data: serde_json::json!({
                "shipmentId": shipment.id,
                "trackingNumber": bought.shipment.tracking_number,
                "service": bought.option.service,
                "carrier": bought.option.carrier,
                "price": label.cost,
            }),
        }],
    )
    .await?;
    ship_when_labelled(&tx, &mut order, &by).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a routed (or packed) order to shipped once none of its parcels waits for a label.
pub async fn ship_when_labelled(
    tx: &TenantTx,
    order: &mut Order,
    by: &By,
) -> Result<(), transition::TransitionError> {
    if !matches!(order.state, OrderState::Routed | OrderState::Packed) {
        return Ok(());
    }
    let all = repo::of_orders(tx, &[OrderId(order.id)]).await?;
    if all.iter().any(|s| repo::OPEN.contains(&s.status.as_str())) {
        return Ok(());
    }
    let parcels = all.iter().filter(|s| s.status != repo::VOIDED).count();
    transition::apply(tx, order, by, shipped_step(parcels)).await?;
    Ok(())
}

/// The label file at `url`: its media type, the file, and its ZPL when it is ZPL.
pub(crate) async fn download(
    state: &AppState,
    url: &str,
) -> Result<(String, Vec<u8>, String), RemoteError> {
    let request = state.outbound.request(reqwest::Method::GET, url);
    let res = state
        .outbound
        .send(request, FILE_TIMEOUT, MAX_LABEL_FILE)
        .await
        .map_err(|e| {
            if e.is_transient() {
                RemoteError::Unavailable {
                    reason: format!("label file: {e}"),
                    retry_after: None,
                }
            } else {
                RemoteError::Refused(format!("label file: {e}"))
            }
        })?;
    if !res.status.is_success() {
        let reason = format!("label file: HTTP {}", res.status);
        return Err(if res.status.is_server_error() {
            RemoteError::Unavailable {
                reason,
                retry_after: None,
            }
        } else {
            RemoteError::Refused(reason)
        });
    }
    let declared = res
        .header("content-type")
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase());
    let media_type = sniff(&res.body)
        .or(declared)
        .unwrap_or_else(|| "application/octet-stream".into());
    if media_type == "application/zpl" {
        let zpl = String::from_utf8_lossy(&res.body).into_owned();
        return Ok((media_type, Vec::new(), zpl));
    }
    Ok((media_type, res.body.to_vec(), String::new()))
}

/// What a label file is, from its first bytes (a file server's content type is often
/// `binary/octet-stream`).
fn sniff(body: &[u8]) -> Option<String> {
    let kind = if body.starts_with(b"%PDF-") {
        "application/pdf"
    } else if body.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if body.starts_with(b"^XA") || body.starts_with(b"\n^XA") || body.starts_with(b"\r\n^XA")
    {
        "application/zpl"
    } else {
        return None;
    };
    Some(kind.to_owned())
}

/// A rate card's service won the shopping: Orderflow draws the label in one transaction.
pub(super) async fn buy_locally(
    state: &Arc<AppState>,
    s: &Scene,
    choice: Choice,
) -> Result<(), RunError> {
    let tenant = TenantId(s.p.tenant_id);
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(mut order) = orders::get_for_update(&tx, OrderId(s.order.id)).await? else {
        return Ok(());
    };
    let Some(shipment) = repo::shipment(&tx, s.shipment.id).await? else {
        return Ok(());
    };
    let ctx = Context::load(
        &tx,
        &s.ctx
            .variants
            .keys()
            .copied()
            .map(VariantId)
            .collect::<Vec<_>>(),
    )
    .await?;
    let by = By::system("label job");
    match service::buy(
        &tx,
        &ctx,
        &order,
        &s.lines,
        &shipment,
        choice,
        Actor::System,
    )
    .await
    {
        Ok(bought) => {
            advance(&tx, &s.p, DONE, |_| {}).await?;
            set_wait(&tx, shipment.id, None).await?;
            timeline::record_events(
                &tx,
                vec![NewEvent {
                    order: OrderId(order.id),
                    kind: "shipment.label_created",
                    actor: by.actor,
                    actor_label: by.label.clone(),
                    message: bought.message,
                    reason: None,
                    data: serde_json::json!({
                        "shipmentId": shipment.id,
                        "trackingNumber": bought.shipment.tracking_number,
                    }),
                }],
            )
            .await?;
            ship_when_labelled(&tx, &mut order, &by).await?;
            tx.commit().await?;
            Ok(())
        }
        Err(LabelError::Refused(why)) => {
            drop(tx);
            hold(state, s, &why, false).await
        }
        Err(LabelError::Db(e)) => Err(e.into()),
    }
}

/// No label can be bought: the purchase fails and the order is held with the carrier's
/// words (an address the carrier cannot deliver to is also an issue on the order).
pub(super) async fn hold(
    state: &Arc<AppState>,
    s: &Scene,
    why: &str,
    address: bool,
) -> Result<(), RunError> {
    let tenant = TenantId(s.p.tenant_id);
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let said = why.to_owned();
    advance(&tx, &s.p, FAILED, |row| row.last_error = Set(Some(said))).await?;
    set_wait(&tx, s.shipment.id, None).await?;
    let Some(mut order) = orders::get_for_update(&tx, OrderId(s.order.id)).await? else {
        tx.commit().await?;
        return Ok(());
    };
    let by = By::system("label job");
    let events = vec![NewEvent {
        order: OrderId(order.id),
        kind: "shipment.label_failed",
        actor: by.actor,
        actor_label: by.label.clone(),
        message: format!("No label bought for parcel {}: {why}", s.shipment.parcel_no),
        reason: Some(why.to_owned()),
        data: serde_json::json!({ "shipmentId": s.shipment.id }),
    }];
    if address {
        let mut issues: Vec<Issue> =
            serde_json::from_value(order.issues.clone()).unwrap_or_default();
        issues.push(Issue::new(
            IssueCode::AddressUndeliverable,
            Some("shippingAddress".to_owned()),
            why,
        ));
        order.issues = serde_json::to_value(&issues).unwrap_or_default();
    }
    timeline::record_events(&tx, events).await?;
    if crate::lifecycle::machine::successors(order.state).contains(&OrderState::OnHold) {
        let from = order.state;
        order.hold_reason = Some(why.to_owned());
        transition::apply(
            &tx,
            &mut order,
            &by,
            Step {
                to: OrderState::OnHold,
                kind: "order.held",
                message: format!("Held: no label could be bought: {why}"),
                reason: Some(why.to_owned()),
                data: serde_json::json!({ "from": from.as_str(), "address": address }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_files_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n").as_deref(), Some("application/pdf"));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....").as_deref(),
            Some("image/png")
        );
        assert_eq!(
            sniff(b"^XA^FO50,50^FDx^FS^XZ").as_deref(),
            Some("application/zpl")
        );
        assert_eq!(sniff(b"<html>"), None);
    }
}
