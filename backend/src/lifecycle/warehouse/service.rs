//! The warehouse workflow: routed parcels are batched into waves with a walk through the bins,
//! picked, then packed with every item scanned; the packing slip goes in the box. With
//! automatic labels, packing the last parcel of an order buys its labels and ships it.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{pick_tasks, shipments};
use sea_orm::ActiveValue::Set;

use super::pack::{self, Expected};
use super::picking::{self, Need, Waiting};
use super::repo::{self, PickTask, Wave};
use super::slip::{self, SlipFacts, SlipLine};
use crate::catalog::{product_repo, warehouse_repo};
use crate::domain::{OrderId, VariantId, WarehouseId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::lifecycle::inventory::repo as stock;
use crate::lifecycle::settings::fulfillment as settings;
use crate::lifecycle::shipping::actions::open_shipment;
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::label::address_lines;
use crate::lifecycle::shipping::repo::Piece;
use crate::lifecycle::shipping::repo::{self as shipping, PACKED, PICKING, Shipment};
use crate::lifecycle::shipping::service::label_all;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::staff::{by, finish, refused};
use crate::lifecycle::transition::{self, Step, shipped_step};
use crate::order::repo::{self as orders, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{Permission, Principal, TenantTx};

fn pieces(s: &Shipment) -> Vec<Piece> {
    serde_json::from_value(s.lines.clone()).unwrap_or_default()
}

/// A wave and its walk.
pub struct WaveView {
    pub wave: Wave,
    pub tasks: Vec<PickTask>,
}

/// Batches the warehouse's routed parcels into waves (urgent first) and writes each wave's
/// walk; the orders move to picking.
pub async fn create_waves(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    warehouse: uuid::Uuid,
) -> Outcome<Vec<WaveView>> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if warehouse_repo::get(&tx, WarehouseId(warehouse))
        .await?
        .is_none()
    {
        return Err(UserError::on("warehouseId", C::NotFound, "no such warehouse").into());
    }
    let s = settings::load(&tx).await?;
    let planned = repo::planned_at(&tx, warehouse, 5000).await?;
    let order_ids: Vec<OrderId> = {
        let mut ids: Vec<OrderId> = planned.iter().map(|s| OrderId(s.order_id)).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut locked: HashMap<uuid::Uuid, Order> = orders::get_many_for_update(&tx, &order_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    // Read again under the orders' locks: a concurrent wave run may have taken some.
    let planned: Vec<Shipment> = repo::planned_at(&tx, warehouse, 5000)
        .await?
        .into_iter()
        .filter(|s| locked.contains_key(&s.order_id))
        .collect();
    // Only parcels of orders that are routed (not held, not cancelled) are picked.
    let ready: Vec<&Shipment> = planned
        .iter()
        .filter(|p| {
            locked
                .get(&p.order_id)
                .is_some_and(|o| matches!(o.state, OrderState::Routed | OrderState::Picking))
        })
        .collect();
    if ready.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let soon = Utc::now() + Duration::days(1);
    let waiting: Vec<Waiting> = ready
        .iter()
        .map(|p| {
            let o = &locked[&p.order_id];
            Waiting {
                shipment: p.id,
                urgent: p.promised_at.is_some_and(|d| d <= soon)
                    || crate::lifecycle::routing::service::is_express(&o.shipping_lines),
                promised_by: p.promised_at,
                routed_at: p.created_at,
            }
        })
        .collect();
    let batches = picking::waves(waiting, s.wave_size.max(1) as usize);
    let lines = orders::lines_of(&tx, &order_ids).await?;
    let variants: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let bins: HashMap<uuid::Uuid, Option<String>> = stock::levels_of(&tx, &variants)
        .await?
        .into_iter()
        .filter(|l| l.warehouse.uuid() == warehouse)
        .map(|l| (l.variant.uuid(), l.bin_location))
        .collect();
    let by_id: HashMap<uuid::Uuid, &Shipment> = ready.iter().map(|s| (s.id, *s)).collect();
    let who = by(principal, label);
    let mut events: Vec<OrderEvent> = Vec::new();
    let mut out = Vec::new();
    for batch in batches {
        let wave = repo::insert_wave(&tx, warehouse, batch.len() as i32).await?;
        let mut needs = Vec::new();
        for id in &batch {
            let sh = by_id[id];
            for piece in pieces(sh) {
                let variant = lines
                    .iter()
                    .find(|l| l.order_id == sh.order_id && l.position == piece.position)
                    .and_then(|l| l.variant_id);
                needs.push(Need {
                    shipment: sh.id,
                    order: sh.order_id,
                    variant,
                    sku: piece.sku.clone(),
                    quantity: piece.quantity,
                    bin: variant.and_then(|v| bins.get(&v).cloned().flatten()),
                });
            }
        }
        let now = Utc::now();
        let rows: Vec<pick_tasks::ActiveModel> = picking::walk(needs)
            .into_iter()
            .enumerate()
            .map(|(i, n)| pick_tasks::ActiveModel {
                tenant_id: Set(tx.tenant().uuid()),
                id: Set(uuid::Uuid::now_v7()),
                wave_id: Set(wave.id),
                shipment_id: Set(n.shipment),
                order_id: Set(n.order),
                sequence: Set(i as i32 + 1),
                bin_location: Set(n.bin),
                variant_id: Set(n.variant),
                sku: Set(n.sku),
                quantity: Set(n.quantity),
                picked: Set(0),
                created_at: Set(now),
            })
            .collect();
        repo::insert_tasks(&tx, rows).await?;
        for id in &batch {
            let sh = by_id[id];
            shipping::update_shipment(
                &tx,
                shipments::ActiveModel {
                    tenant_id: Set(sh.tenant_id),
                    id: Set(sh.id),
                    status: Set(PICKING.into()),
                    ..Default::default()
                },
            )
            .await?;
            if let Some(order) = locked.get_mut(&sh.order_id)
                && order.state == OrderState::Routed
            {
                let step = Step {
                    to: OrderState::Picking,
                    kind: "order.picking",
                    message: format!(
                        "Picking in a wave of {} parcel(s) at the warehouse",
                        batch.len()
                    ),
                    reason: None,
                    data: serde_json::json!({ "waveId": wave.id, "shipmentId": sh.id }),
                };
                events.push(
                    transition::apply(&tx, order, &who, step)
                        .await
                        .map_err(refused)?,
                );
            }
        }
        let tasks = repo::tasks_of(&tx, wave.id).await?;
        out.push(WaveView { wave, tasks });
    }
    tx.commit().await?;
    crate::order::timeline::publish_events(state, principal.tenant, &events).await;
    Ok(out)
}

/// Confirms a wave's items picked (all, or those of the given parcels); the wave is done
/// when every item is.
pub async fn mark_picked(
    state: &AppState,
    principal: &Principal,
    wave: uuid::Uuid,
    only: Option<Vec<uuid::Uuid>>,
) -> Outcome<WaveView> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(w) = repo::wave(&tx, wave).await? else {
        return Err(UserError::on("waveId", C::NotFound, "no such wave").into());
    };
    let tasks = repo::tasks_of(&tx, wave).await?;
    if let Some(only) = &only
        && let Some(stray) = only
            .iter()
            .find(|s| !tasks.iter().any(|t| t.shipment_id == **s))
    {
        return Err(UserError::on(
            "shipmentIds",
            C::Invalid,
            format!(
                "shipment {} is not in this wave",
                crate::graphql::relay::global_id("Shipment", *stray).0
            ),
        )
        .into());
    }
    let chosen: Vec<&PickTask> = tasks
        .iter()
        .filter(|t| only.as_ref().is_none_or(|o| o.contains(&t.shipment_id)))
        .collect();
    repo::mark_picked(&tx, &chosen.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
    let mut done_shipments: Vec<uuid::Uuid> = chosen.iter().map(|t| t.shipment_id).collect();
    done_shipments.sort();
    done_shipments.dedup();
    let now = Utc::now();
    for s in done_shipments {
        shipping::update_shipment(
            &tx,
            shipments::ActiveModel {
                tenant_id: Set(tx.tenant().uuid()),
                id: Set(s),
                picked_at: Set(Some(now)),
                ..Default::default()
            },
        )
        .await?;
    }
    let tasks = repo::tasks_of(&tx, wave).await?;
    let mut wave = w;
    if tasks.iter().all(|t| t.picked >= t.quantity) {
        repo::close_wave(&tx, wave.id).await?;
        wave.status = repo::DONE.into();
        wave.completed_at = Some(now);
    }
    tx.commit().await?;
    Ok(WaveView { wave, tasks })
}

/// Packs a picked parcel: every item scanned (barcode or SKU), nothing missing, nothing
/// else. A wrong or missing item refuses the parcel with what is wrong.
pub async fn pack(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    shipment: uuid::Uuid,
    scans: Vec<String>,
) -> Outcome<(Order, Shipment)> {
    let (tx, mut order, sh) = open_shipment(state, principal, shipment).await?;
    if sh.status != PICKING || order.state != OrderState::Picking {
        return Err(UserError::on(
            "shipmentId",
            C::IllegalTransition,
            format!(
                "only a parcel being picked can be packed (the parcel is {}, the order {})",
                sh.status,
                order.state.as_str()
            ),
        )
        .into());
    }
    let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
    let variant_ids: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let variants: HashMap<uuid::Uuid, product_repo::Variant> =
        product_repo::variants_by_id(&tx, &variant_ids)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
    let expected: Vec<Expected> = pieces(&sh)
        .into_iter()
        .map(|p| {
            let barcode = lines
                .iter()
                .find(|l| l.position == p.position)
                .and_then(|l| l.variant_id)
                .and_then(|v| variants.get(&v))
                .and_then(|v| v.barcode.clone());
            Expected {
                sku: p.sku,
                barcode,
                quantity: p.quantity,
            }
        })
        .collect();
    if let Err(m) = pack::verify(&expected, &scans) {
        return Err(UserError::on(
            "scans",
            C::Invalid,
            format!("the parcel does not match the order: {}", m.describe()),
        )
        .into());
    }
    let now = Utc::now();
    let packed = shipping::update_shipment(
        &tx,
        shipments::ActiveModel {
            tenant_id: Set(sh.tenant_id),
            id: Set(sh.id),
            status: Set(PACKED.into()),
            picked_at: Set(sh.picked_at.or(Some(now))),
            packed_at: Set(Some(now)),
            ..Default::default()
        },
    )
    .await?;
    let who = by(principal, label);
    let units: i64 = expected.iter().map(|e| e.quantity).sum();
    let mut events = vec![
        timeline::record_event(
            &tx,
            NewEvent {
                order: OrderId(order.id),
                kind: "shipment.packed",
                actor: who.actor,
                actor_label: who.label.clone(),
                message: format!(
                    "Parcel {}/{} packed: {units} item(s), every one scanned",
                    sh.parcel_no, sh.parcel_count
                ),
                reason: None,
                data: serde_json::json!({ "shipmentId": sh.id, "scans": scans.len() }),
            },
        )
        .await?,
    ];
    let all = shipping::of_orders(&tx, &[OrderId(order.id)]).await?;
    let live: Vec<&Shipment> = all
        .iter()
        .filter(|s| s.status != shipping::VOIDED)
        .collect();
    if live
        .iter()
        .all(|s| s.status != shipping::PLANNED && s.status != PICKING)
    {
        events.push(
            transition::apply(
                &tx,
                &mut order,
                &who,
                Step {
                    to: OrderState::Packed,
                    kind: "order.packed",
                    message: format!("Packed: {} parcel(s) ready for labels", live.len()),
                    reason: None,
                    data: serde_json::json!({}),
                },
            )
            .await
            .map_err(refused)?,
        );
        let ctx = Context::load(&tx, &variant_ids).await?;
        if ctx.settings.auto_buy_labels {
            let packed_now: Vec<Shipment> = shipping::of_orders(&tx, &[OrderId(order.id)]).await?;
            let (label_events, all_labelled) =
                label_all(&tx, &ctx, &order, &lines, &packed_now, &who)
                    .await
                    .map_err(refused)?;
            for e in label_events {
                events.push(timeline::record_event(&tx, e).await?);
            }
            if all_labelled {
                events.push(
                    transition::apply(&tx, &mut order, &who, shipped_step(live.len()))
                        .await
                        .map_err(refused)?,
                );
            }
        }
    }
    let order = finish(state, principal, tx, order, events).await?;
    let packed = {
        let tx = TenantTx::begin(&state.db, principal.tenant).await?;
        let s = shipping::shipment(&tx, packed.id).await?.unwrap_or(packed);
        tx.commit().await?;
        s
    };
    Ok((order, packed))
}

/// The packing slip of a parcel.
pub async fn packing_slip(
    state: &AppState,
    principal: &Principal,
    shipment: uuid::Uuid,
) -> Outcome<Option<(String, Vec<u8>)>> {
    principal.require(Permission::OrdersRead)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(sh) = shipping::shipment(&tx, shipment).await? else {
        return Ok(None);
    };
    let Some(order) = orders::get(&tx, OrderId(sh.order_id)).await? else {
        return Ok(None);
    };
    let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
    let tasks = repo::tasks_of_shipment(&tx, sh.id).await?;
    let warehouse = warehouse_repo::get(&tx, WarehouseId(sh.warehouse_id)).await?;
    let tenant = crate::tenancy::repo::tenants::get(&tx, principal.tenant).await?;
    tx.commit().await?;
    let slip_lines: Vec<SlipLine> = pieces(&sh)
        .into_iter()
        .map(|p| {
            let line = lines.iter().find(|l| l.position == p.position);
            SlipLine {
                title: line.map(|l| l.title.clone()).unwrap_or_default(),
                bin: tasks
                    .iter()
                    .find(|t| t.sku == p.sku)
                    .and_then(|t| t.bin_location.clone()),
                sku: p.sku,
                quantity: p.quantity,
            }
        })
        .collect();
    let to = address_lines(
        order.customer_name.as_deref(),
        order
            .shipping_address
            .as_ref()
            .unwrap_or(&serde_json::Value::Null),
    );
    let bytes = slip::pdf(&SlipFacts {
        shop: tenant.as_ref().map_or("", |t| t.name.as_str()),
        order_name: &order.name,
        placed_on: order.placed_at.date_naive(),
        ship_to: &to,
        warehouse: warehouse.as_ref().map_or("", |w| w.code.as_str()),
        parcel: (sh.parcel_no, sh.parcel_count),
        lines: &slip_lines,
    })
    .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(Some((order.name.trim_start_matches('#').to_owned(), bytes)))
}
