//! Buying and voiding labels. Buying shops every service that can take the parcel, buys the
//! recommended one (or the one asked for), keeps the files and the shopping that chose it,
//! and takes the parcel's units out of stock; voiding puts them back on the reservation.

use chrono::{NaiveDate, Utc};
use entity::shipments;
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, DbErr};

use super::carrier::{Carrier, LabelRequest, RateCardCarrier};
use super::context::Context;
use super::label::address_lines;
use super::ratecard::{Parcel, Place};
use super::remote::Provider;
use super::repo::{self, Shipment};
use super::shop::{self, RateOption, Shopping};
use crate::domain::money::to_units;
use crate::domain::{OrderId, VariantId, WarehouseId};
use crate::jobs::Job;
use crate::lifecycle::allocation::repo::{self as allocations, AllocationStatus};
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service::{Move, MoveError, move_stock};
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::{self as ledger_repo, SourceKind};
use crate::lifecycle::ledger::service as ledger;
use crate::lifecycle::settings::fulfillment::Pick;
use crate::lifecycle::shipping::repo::Piece;
use crate::lifecycle::transition::{By, TransitionError};
use crate::order::repo::{Order, OrderLine};
use crate::order::timeline::NewEvent;
use crate::tenancy::{Actor, TenantTx};

/// Which label to buy.
#[derive(Clone, Copy, Debug)]
pub enum Choice {
    Recommended(Pick),
    Service(uuid::Uuid),
}

#[derive(Debug)]
pub enum LabelError {
    /// A user-facing reason: no service takes the parcel, the shipment is not open, …
    Refused(String),
    Db(DbErr),
}

impl From<DbErr> for LabelError {
    fn from(e: DbErr) -> Self {
        LabelError::Db(e)
    }
}

impl std::fmt::Display for LabelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelError::Refused(m) => f.write_str(m),
            LabelError::Db(e) => e.fmt(f),
        }
    }
}

pub struct Bought {
    pub shipment: Shipment,
    pub option: RateOption,
    /// For the timeline: what was bought and why.
    pub message: String,
}

/// Shops rates for a shipment (nothing is bought).
pub fn shop_for(ctx: &Context, order: &Order, shipment: &Shipment) -> Result<Shopping, LabelError> {
    let to = order
        .shipping_address
        .as_ref()
        .and_then(Place::from_address)
        .ok_or_else(|| LabelError::Refused("the order has no shipping address".into()))?;
    let origin = ctx
        .origin(shipment.warehouse_id)
        .ok_or_else(|| LabelError::Refused("the shipment's warehouse is not active".into()))?;
    let parcel = Parcel {
        weight_grams: u32::try_from(shipment.weight_grams).unwrap_or(0),
        volume_cm3: u64::try_from(shipment.volume_cm3).unwrap_or(0),
    };
    let (options, excluded) = ctx.book.rates(&origin, &to, parcel, ctx.now);
    Ok(shop::shop(
        options,
        shipment.promised_at.map(|p| p.date_naive()),
        excluded,
    ))
}

fn pieces(shipment: &Shipment) -> Vec<Piece> {
    serde_json::from_value(shipment.lines.clone()).unwrap_or_default()
}

fn at_noon(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

/// The option `choice` names in `shopping`, and why it was taken.
pub fn choose(shopping: &Shopping, choice: Choice) -> Result<(RateOption, String), LabelError> {
    match choice {
        Choice::Recommended(pick) => {
            let r = shopping
                .recommendations
                .iter()
                .find(|r| r.pick == pick)
                .ok_or_else(|| {
                    LabelError::Refused(format!(
                        "no carrier service ships this parcel ({})",
                        if shopping.excluded.is_empty() {
                            "no carriers configured".to_owned()
                        } else {
                            shopping.excluded.join("; ")
                        }
                    ))
                })?;
            Ok((
                shopping.options[r.option].clone(),
                format!("{}: {}", pick.as_str().replace('_', " "), r.reason),
            ))
        }
        Choice::Service(id) => {
            let o = shopping
                .options
                .iter()
                .find(|o| o.service_id == id)
                .cloned()
                .ok_or_else(|| {
                    LabelError::Refused("that service cannot take this parcel".into())
                })?;
            Ok((o, "chosen by staff".to_owned()))
        }
    }
}

/// Buys a label from a carrier priced by its rate card (Orderflow draws it); a remote
/// carrier's labels are bought by the label job ([`super::purchase`]).
pub async fn buy(
    tx: &TenantTx,
    ctx: &Context,
    order: &Order,
    lines: &[OrderLine],
    shipment: &Shipment,
    choice: Choice,
    actor: Actor,
) -> Result<Bought, LabelError> {
    if !repo::OPEN.contains(&shipment.status.as_str()) {
        return Err(LabelError::Refused(format!(
            "parcel {} of order {} already has a label (status {})",
            shipment.parcel_no, order.name, shipment.status
        )));
    }
    let shopping = shop_for(ctx, order, shipment)?;
    let (option, why) = choose(&shopping, choice)?;
    let (carrier, service) = ctx
        .book
        .service(option.service_id)
        .ok_or_else(|| LabelError::Refused("the service is no longer active".into()))?;
    let warehouse = ctx
        .warehouse(shipment.warehouse_id)
        .ok_or_else(|| LabelError::Refused("the shipment's warehouse is not active".into()))?;
    // Stock first, then the carrier's serial: the same lock order as the engine's batch,
    // which holds the stock levels before it buys labels.
    ship_stock(tx, order, lines, shipment, MovementKind::Shipment, actor).await?;
    let origin_country = ctx
        .origin(warehouse.id)
        .map(|o| o.place.country)
        .unwrap_or_default();
    // Formats without the account in them (FedEx, DHL, S10, ours) can meet another carrier's
    // number of the tenant: skip serials whose number is taken.
    let mut serial = repo::next_serial(tx, carrier.row.id).await?;
    for _ in 0..20 {
        let number =
            RateCardCarrier(carrier).tracking_number(service, &origin_country, serial as u128);
        if repo::by_tracking_number(tx, &number).await?.is_none() {
            break;
        }
        serial = repo::next_serial(tx, carrier.row.id).await?;
    }
    let from = address_lines(Some(&warehouse.name), &warehouse.address);
    let to = address_lines(
        order.customer_name.as_deref(),
        order
            .shipping_address
            .as_ref()
            .unwrap_or(&serde_json::Value::Null),
    );
    let purchase = RateCardCarrier(carrier)
        .purchase(LabelRequest {
            service,
            zone: option.zone,
            price: option.price,
            ship_on: option.ship_on,
            serial: serial as u128,
            from,
            to,
            weight_grams: option
                .billable_grams
                .max(u32::try_from(shipment.weight_grams).unwrap_or(0)),
            order_name: &order.name,
            parcel: (shipment.parcel_no as usize, shipment.parcel_count as usize),
            origin_country: &origin_country,
        })
        .await
        // Stock has moved: a refusal now must roll back, not be skipped.
        .map_err(|e| {
            LabelError::Db(DbErr::Custom(format!("the carrier refused the label: {e}")))
        })?;
    let drawn = Drawn {
        tracking_number: purchase.tracking_number,
        cost: purchase.cost,
        file: purchase.pdf,
        media_type: "application/pdf".into(),
        zpl: purchase.zpl,
        label_ref: None,
        tracker_id: None,
        tracking_url: None,
    };
    record(
        tx, order, shipment, &shopping, &option, choice, &why, drawn, actor,
    )
    .await
}

/// A label in hand, from whichever carrier.
pub struct Drawn {
    pub tracking_number: String,
    pub cost: Decimal,
    /// The label file: a PDF, or the image a carrier sent.
    pub file: Vec<u8>,
    pub media_type: String,
    pub zpl: String,
    /// What refunds it at a remote carrier.
    pub label_ref: Option<String>,
    pub tracker_id: Option<String>,
    pub tracking_url: Option<String>,
}

/// Writes a label bought with `option` (taken from `shopping` as `choice`, for `why`) once
/// the parcel's stock has been shipped: its files kept, the parcel labelled and watched, the
/// cost booked.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    tx: &TenantTx,
    order: &Order,
    shipment: &Shipment,
    shopping: &Shopping,
    option: &RateOption,
    choice: Choice,
    why: &str,
    drawn: Drawn,
    actor: Actor,
) -> Result<Bought, LabelError> {
    repo::insert_label_file(tx, shipment.id, drawn.file, drawn.zpl, &drawn.media_type).await?;
    // The parcel is on its way: the delivery watch looks after it.
    crate::lifecycle::transition::wake::schedule_watch(
        tx,
        crate::lifecycle::transition::wake::WATCH_EVERY,
    )
    .await?;
    let now = Utc::now();
    let updated = repo::update_shipment(
        tx,
        shipments::ActiveModel {
            tenant_id: Set(shipment.tenant_id),
            id: Set(shipment.id),
            carrier_id: Set(Some(option.carrier_id)),
            service_id: Set(Some(option.service_id)),
            status: Set("pre_transit".into()),
            zone: Set(Some(i32::from(option.zone))),
            currency: Set(option.currency.clone()),
            cost_units: Set(to_units(drawn.cost).ok()),
            tracking_number: Set(Some(drawn.tracking_number.clone())),
            rates: Set(Some(serde_json::to_value(shopping).unwrap_or_default())),
            rate_pick: Set(Some(match choice {
                Choice::Recommended(p) => p.as_str().to_owned(),
                Choice::Service(_) => "staff".to_owned(),
            })),
            estimated_at: Set(Some(at_noon(option.delivery_on))),
            labelled_at: Set(Some(now)),
            voided_at: Set(None),
            label_ref: Set(drawn.label_ref),
            tracker_id: Set(drawn.tracker_id),
            tracking_url: Set(drawn.tracking_url),
            label_wait: Set(None),
            ..Default::default()
        },
    )
    .await?;
    book_label(tx, order, &updated, actor).await?;
    let others = |pick: Pick| {
        shopping
            .recommended(pick)
            .filter(|o| o.service_id != option.service_id)
            .map(|o| {
                format!(
                    "{} {} {} {} arriving {}",
                    pick.as_str().replace('_', " "),
                    o.service,
                    o.price,
                    o.currency,
                    o.delivery_on
                )
            })
    };
    let alternatives: Vec<String> = [Pick::Cheapest, Pick::Fastest, Pick::BestExperience]
        .into_iter()
        .filter_map(others)
        .collect();
    let message = format!(
        "Label bought for parcel {}/{}: {} {}, tracking {}, {} {}, arriving {} ({why}){}",
        shipment.parcel_no,
        shipment.parcel_count,
        option.carrier,
        option.service,
        drawn.tracking_number,
        drawn.cost,
        option.currency,
        option.delivery_on,
        if alternatives.is_empty() {
            String::new()
        } else {
            format!("; other options: {}", alternatives.join("; "))
        }
    );
    Ok(Bought {
        shipment: updated,
        option: option.clone(),
        message,
    })
}

/// Takes a parcel's units out of stock (`Shipment`) or, for a voided label, puts them back
/// and reserves them again (`ReturnRestock`, then `Reservation`).
pub(super) async fn ship_stock(
    tx: &TenantTx,
    order: &Order,
    lines: &[OrderLine],
    shipment: &Shipment,
    kind: MovementKind,
    actor: Actor,
) -> Result<(), LabelError> {
    let reference = format!("order {} parcel {}", order.name, shipment.parcel_no);
    let warehouse = WarehouseId(shipment.warehouse_id);
    let mut positions = Vec::new();
    for piece in pieces(shipment) {
        let Some(variant) = lines
            .iter()
            .find(|l| l.position == piece.position)
            .and_then(|l| l.variant_id)
        else {
            continue;
        };
        let kinds: &[MovementKind] = if kind == MovementKind::Shipment {
            &[MovementKind::Shipment]
        } else {
            &[MovementKind::ReturnRestock, MovementKind::Reservation]
        };
        for k in kinds {
            let m = Move {
                variant: VariantId(variant),
                warehouse,
                kind: *k,
                quantity: piece.quantity,
                reason: (*k == MovementKind::ReturnRestock).then_some("shipping label voided"),
                reference: Some(&reference),
            };
            match move_stock(tx, actor, m).await {
                Ok(_) => {}
                Err(MoveError::Db(e)) => return Err(e.into()),
                // Earlier pieces may have moved: the books disagree, roll back.
                Err(MoveError::Rule(rule)) => {
                    return Err(LabelError::Db(DbErr::Custom(format!(
                        "stock of {} at the warehouse does not match the parcel: {rule}",
                        piece.sku
                    ))));
                }
            }
        }
        positions.push(piece.position);
    }
    let (from, to) = if kind == MovementKind::Shipment {
        (AllocationStatus::Reserved, AllocationStatus::Shipped)
    } else {
        (AllocationStatus::Shipped, AllocationStatus::Reserved)
    };
    let ids: Vec<uuid::Uuid> = allocations::of_orders(tx, &[OrderId(order.id)])
        .await?
        .into_iter()
        .filter(|a| {
            a.warehouse_id == Some(shipment.warehouse_id)
                && positions.contains(&a.line_position)
                && AllocationStatus::parse(&a.status) == from
        })
        .map(|a| a.id)
        .collect();
    allocations::set_status(tx, &ids, to).await?;
    Ok(())
}

/// Voids a label the carrier has not scanned yet; the parcel is open again (packed, or
/// planned without the warehouse workflow).
pub async fn void(
    tx: &TenantTx,
    ctx: &Context,
    order: &Order,
    lines: &[OrderLine],
    shipment: &Shipment,
    actor: Actor,
) -> Result<Shipment, LabelError> {
    // Before the carrier has the parcel moving (an electronic "label created" event is fine).
    let unscanned = shipment.status == "pre_transit" && shipment.shipped_at.is_none();
    if !unscanned {
        return Err(LabelError::Refused(format!(
            "only a label the carrier has not scanned can be voided (parcel is {})",
            shipment.status
        )));
    }
    ship_stock(
        tx,
        order,
        lines,
        shipment,
        MovementKind::ReturnRestock,
        actor,
    )
    .await?;
    repo::delete_label(tx, shipment.id).await?;
    // The voided label's scans and problems are not the next label's.
    repo::forget_scans(tx, shipment.id).await?;
    // The carrier last, so a refused void rolls back everything above.
    let carrier = shipment
        .carrier_id
        .and_then(|c| ctx.book.carrier(c))
        .or_else(|| {
            shipment
                .service_id
                .and_then(|s| ctx.book.service(s))
                .map(|(c, _)| c)
        });
    match (carrier, &shipment.label_ref) {
        // Postage paid to a remote carrier comes back by its refund, which a job asks for
        // and follows (it settles days later).
        (Some(carrier), Some(refund_id)) if carrier.provider != Provider::Simulated => {
            super::purchase::RefundPostage {
                carrier: carrier.row.id,
                shipment: shipment.id,
                refund_id: refund_id.clone(),
                round: 0,
                order: Some(shipment.order_id),
            }
            .enqueue(tx)
            .await?;
        }
        (Some(carrier), _) => RateCardCarrier(carrier)
            .void(shipment.tracking_number.as_deref().unwrap_or_default())
            .await
            .map_err(|e| LabelError::Refused(format!("the carrier refused to void: {e}")))?,
        (None, _) => {}
    }
    // The carrier takes a voided label back: its cost comes off the books.
    if let Some(number) = &shipment.tracking_number
        && let Some(entry) = ledger_repo::by_key(tx, &label_key(shipment.id, number)).await?
    {
        ledger::reverse(tx, &entry, "label voided", actor).await?;
    }
    let reopened = if shipment.packed_at.is_some() {
        repo::PACKED
    } else {
        repo::PLANNED
    };
    Ok(repo::update_shipment(
        tx,
        shipments::ActiveModel {
            tenant_id: Set(shipment.tenant_id),
            id: Set(shipment.id),
            status: Set(reopened.into()),
            tracking_number: Set(None),
            cost_units: Set(None),
            labelled_at: Set(None),
            estimated_at: Set(None),
            last_scan_at: Set(None),
            last_detail: Set(None),
            voided_at: Set(Some(Utc::now())),
            label_ref: Set(None),
            tracker_id: Set(None),
            tracking_url: Set(None),
            ..Default::default()
        },
    )
    .await?)
}

/// Voids every label of the order the carrier has not scanned (the order is being cancelled):
/// their units come back to the shelf and onto the reservation, to be released with the rest.
/// Returns the voided tracking numbers.
pub async fn void_unmoved(
    tx: &TenantTx,
    order: &Order,
    actor: Actor,
) -> Result<Vec<String>, DbErr> {
    let id = OrderId(order.id);
    let labelled: Vec<Shipment> = repo::of_orders(tx, &[id])
        .await?
        .into_iter()
        .filter(|s| s.status == "pre_transit" && s.shipped_at.is_none())
        .collect();
    if labelled.is_empty() {
        return Ok(Vec::new());
    }
    let lines = crate::order::repo::lines_of(tx, &[id]).await?;
    let variants: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let ctx = Context::load(tx, &variants).await?;
    let mut voided = Vec::new();
    for s in &labelled {
        void(tx, &ctx, order, &lines, s, actor)
            .await
            .map_err(|e| match e {
                LabelError::Db(e) => e,
                LabelError::Refused(m) => DbErr::Custom(m),
            })?;
        voided.extend(s.tracking_number.clone());
    }
    Ok(voided)
}

fn label_key(shipment: uuid::Uuid, tracking_number: &str) -> String {
    format!("label:{shipment}:{tracking_number}")
}

/// Books a bought label's cost (owed to the carrier).
async fn book_label(
    tx: &TenantTx,
    order: &Order,
    shipment: &Shipment,
    actor: Actor,
) -> Result<(), DbErr> {
    let (Some(cost), Some(number)) = (shipment.cost_units, &shipment.tracking_number) else {
        return Ok(());
    };
    if cost <= 0 || order.test {
        return Ok(());
    }
    ledger::post(
        tx,
        vec![ledger::Posting {
            op: Operation::Label { cost },
            currency: shipment.currency.clone(),
            memo: format!("label {number} for {}", order.name),
            source: (SourceKind::Shipment, shipment.id),
            order: Some(OrderId(order.id)),
            key: label_key(shipment.id, number),
            at: Utc::now(),
            actor,
        }],
    )
    .await?;
    Ok(())
}

/// Label cost as money, for display.
pub fn cost_of(shipment: &Shipment) -> Option<Decimal> {
    shipment
        .cost_units
        .map(|u| crate::domain::money::amount_from_units(u, &shipment.currency))
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
) -> Result<(Vec<NewEvent<'static>>, bool), TransitionError> {
    let mut events = Vec::new();
    let mut all = true;
    for s in shipments {
        if !crate::lifecycle::shipping::repo::OPEN.contains(&s.status.as_str()) {
            continue;
        }
        // A remote carrier's label is bought by a job, outside this transaction.
        if ctx.book.has_remote() {
            all = false;
            let choice = match order
                .assigned_service
                .as_deref()
                .and_then(|code| ctx.book.service_by_code(code))
            {
                Some(id) => Choice::Service(id),
                None => Choice::Recommended(ctx.settings.label_pick),
            };
            match super::purchase::request(tx, order, s, choice, by).await {
                Ok(event) => events.push(event),
                Err(LabelError::Db(e)) => return Err(e.into()),
                // Already being bought.
                Err(LabelError::Refused(_)) => {}
            }
            continue;
        }
        // A rule's chosen service, when it takes the parcel; the tenant's pick otherwise.
        let pinned = order
            .assigned_service
            .as_deref()
            .and_then(|code| ctx.book.service_by_code(code));
        let recommended = Choice::Recommended(ctx.settings.label_pick);
        let bought = match pinned {
            Some(id) => match buy(tx, ctx, order, lines, s, Choice::Service(id), by.actor).await {
                Err(LabelError::Refused(_)) => {
                    buy(tx, ctx, order, lines, s, recommended, by.actor).await
                }
                other => other,
            },
            None => buy(tx, ctx, order, lines, s, recommended, by.actor).await,
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
