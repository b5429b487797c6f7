//! Routing an allocated order: loads the facts (its reserved lines, the stock each active
//! warehouse could give it, the carriers' prices from each), decides, moves the reservations
//! to the chosen warehouses, and plans one shipment per parcel.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::shipments;
use sea_orm::{ActiveValue::Set, DbErr};

use super::decide::{self, Decision, Facts, Line, ParcelQuote, Quoter, Site};
use crate::domain::{OrderId, VariantId, WarehouseId};
use crate::lifecycle::allocation::repo::{
    self as allocations, Allocation, AllocationStatus, NewAllocation,
};
use crate::lifecycle::allocation::service::StockBook;
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service::{Move, MoveError, move_stock};
use crate::lifecycle::shipping::carrier::{Offers, Origin, RatingBook, origin_of};
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::ratecard::{Parcel, Place};
use crate::lifecycle::shipping::repo::{self as shipping, Shipment};
use crate::order::canonical::ShippingLine;
use crate::order::repo::{Order, OrderLine};
use crate::tenancy::{Actor, TenantTx};

/// Why an order could not be routed, in words for the timeline.
#[derive(Debug)]
pub enum RouteError {
    NoRoute(String),
    /// No line holds stock to ship (gift cards, digital goods): nothing to route.
    NothingToShip,
    Db(DbErr),
}

impl From<DbErr> for RouteError {
    fn from(e: DbErr) -> Self {
        RouteError::Db(e)
    }
}

/// A routed order.
pub struct Routed {
    pub decision: Decision,
    pub shipments: Vec<Shipment>,
    /// Units whose reservation moved to another warehouse.
    pub moved: i64,
    pub promised_by: NaiveDate,
}

/// Shipping methods that promise speed, by the words channels use for them.
pub fn is_express(shipping_lines: &serde_json::Value) -> bool {
    let lines: Vec<ShippingLine> =
        serde_json::from_value(shipping_lines.clone()).unwrap_or_default();
    lines.iter().any(|l| {
        let t = format!("{} {}", l.title, l.code.as_deref().unwrap_or("")).to_ascii_lowercase();
        [
            "express",
            "overnight",
            "next day",
            "next-day",
            "2-day",
            "two-day",
            "priority",
            "expedited",
        ]
        .iter()
        .any(|w| t.contains(w))
    })
}

/// The day the shopper may expect the order: what the order says, else the tenant's promise
/// for its shipping method.
pub fn promise(order: &Order, ctx: &Context) -> (DateTime<Utc>, bool) {
    let express = is_express(&order.shipping_lines);
    if let Some(p) = order.promised_at {
        return (p, express);
    }
    let days = if express {
        ctx.settings.express_promise_days
    } else {
        ctx.settings.standard_promise_days
    };
    // Counted from when the order reached us: an order imported late is not late already.
    let from = order.placed_at.max(order.created_at);
    (from + Duration::days(days.into()), express)
}

/// Prices parcels from the tenant's carriers, each warehouse's route worked out once.
pub struct BookQuoter<'a> {
    book: &'a RatingBook,
    origins: HashMap<uuid::Uuid, Origin>,
    to: &'a Place,
    now: chrono::DateTime<Utc>,
    routes: RefCell<HashMap<uuid::Uuid, Offers<'a>>>,
}

/// Transit days routing assumes for a remote carrier it cannot price.
const REMOTE_TRANSIT_DAYS: u32 = 3;

impl<'a> BookQuoter<'a> {
    pub fn new(
        book: &'a RatingBook,
        origins: HashMap<uuid::Uuid, Origin>,
        to: &'a Place,
        now: chrono::DateTime<Utc>,
    ) -> Self {
        Self {
            book,
            origins,
            to,
            now,
            routes: RefCell::new(HashMap::new()),
        }
    }
}

impl Quoter for BookQuoter<'_> {
    fn quotes(&self, site: &Site, parcel: Parcel) -> Vec<ParcelQuote> {
        let mut routes = self.routes.borrow_mut();
        let offers = match routes.entry(site.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let Some(origin) = self.origins.get(&site.id) else {
                    return Vec::new();
                };
                e.insert(self.book.offers(origin, self.to, self.now))
            }
        };
        let mut quotes: Vec<ParcelQuote> = offers
            .rates(parcel)
            .0
            .into_iter()
            .map(|o| ParcelQuote {
                service_id: o.service_id,
                service: format!("{} {}", o.carrier, o.service),
                zone: o.zone,
                price: rust_decimal::prelude::ToPrimitive::to_f64(&o.price).unwrap_or(f64::MAX),
                delivery_on: o.delivery_on,
            })
            .collect();
        // A carrier with a remote API prices a parcel only when its label is bought (a call
        // routing does not make): every warehouse can ship with it, at a price routing cannot
        // compare, arriving in a typical ground transit.
        if let Some(origin) = self.origins.get(&site.id) {
            let ship_on = self.now.with_timezone(&origin.timezone).date_naive();
            for c in self.book.remote() {
                quotes.push(ParcelQuote {
                    service_id: uuid::Uuid::nil(),
                    service: format!("{} (priced when the label is bought)", c.row.name),
                    zone: 0,
                    price: 0.0,
                    delivery_on: crate::lifecycle::shipping::ratecard::delivery_day(
                        ship_on,
                        REMOTE_TRANSIT_DAYS,
                    ),
                });
            }
        }
        quotes
    }
}

/// What the order holds, per line and warehouse.
fn held(allocations: &[Allocation]) -> BTreeMap<(i32, uuid::Uuid), i64> {
    let mut m = BTreeMap::new();
    for a in allocations {
        if AllocationStatus::parse(&a.status) == AllocationStatus::Reserved
            && let Some(w) = a.warehouse_id
        {
            *m.entry((a.line_position, w)).or_default() += a.quantity;
        }
    }
    m
}

pub async fn route(
    tx: &TenantTx,
    ctx: &mut Context,
    book: &mut StockBook,
    order: &Order,
    lines: &[OrderLine],
    allocations: &[Allocation],
) -> Result<Routed, RouteError> {
    let destination = order
        .shipping_address
        .as_ref()
        .and_then(Place::from_address)
        .ok_or_else(|| RouteError::NoRoute("the order has no shipping address".into()))?;
    let holding = held(allocations);
    let mut route_lines = Vec::new();
    for line in lines {
        let quantity: i64 = holding
            .iter()
            .filter(|((p, _), _)| *p == line.position)
            .map(|(_, q)| *q)
            .sum();
        let Some(variant) = line.variant_id.filter(|_| quantity > 0) else {
            continue;
        };
        let v = ctx.variants.get(&variant);
        let dims = v.map_or(0, |v| {
            [v.length_mm, v.width_mm, v.height_mm]
                .iter()
                .map(|d| u64::from(d.unwrap_or(0).max(0) as u32))
                .fold(1u64, u64::saturating_mul)
                / 1000
        });
        route_lines.push(Line {
            position: line.position,
            variant,
            sku: line.sku.clone().unwrap_or_else(|| line.title.clone()),
            quantity,
            unit_grams: v
                .and_then(|v| v.weight_grams)
                .or(line.grams)
                .and_then(|g| u32::try_from(g).ok()),
            unit_cm3: dims,
        });
    }
    if route_lines.is_empty() {
        return Err(RouteError::NothingToShip);
    }
    let sites: Vec<Site> = ctx
        .warehouses
        .iter()
        .map(|w| {
            let variants: std::collections::BTreeSet<uuid::Uuid> =
                route_lines.iter().map(|l| l.variant).collect();
            // What it has free plus what this order already holds there (two lines of one
            // variant share both).
            let stock = variants
                .into_iter()
                .map(|v| {
                    let own: i64 = holding
                        .iter()
                        .filter(|((p, wh), _)| {
                            *wh == w.id
                                && route_lines
                                    .iter()
                                    .any(|l| l.position == *p && l.variant == v)
                        })
                        .map(|(_, q)| *q)
                        .sum();
                    (v, book.free_at(VariantId(v), WarehouseId(w.id)) + own)
                })
                .collect();
            Site {
                id: w.id,
                code: w.code.clone(),
                place: Place::from_address(&w.address).unwrap_or_default(),
                capacity: w.daily_capacity,
                workload: ctx.workload.get(&w.id).copied().unwrap_or(0),
                stock,
            }
        })
        .collect();
    // A rule pinned the order to one warehouse: only that one is considered.
    let mut sites = sites;
    if let Some(code) = order.assigned_warehouse.as_deref() {
        sites.retain(|s| s.code.eq_ignore_ascii_case(code));
        if sites.is_empty() {
            return Err(RouteError::NoRoute(format!(
                "the order is assigned to warehouse {code}, which is not active"
            )));
        }
    }
    let (promised_at, _) = promise(order, ctx);
    let promised_by = promised_at.date_naive();
    let decision = {
        let facts = Facts {
            lines: &route_lines,
            sites: &sites,
            destination: &destination,
            promised_by: Some(promised_by),
            weights: &ctx.settings.weights,
            rules: &ctx.settings.rules,
        };
        let origins = ctx
            .warehouses
            .iter()
            .map(|w| (w.id, origin_of(w)))
            .collect();
        decide::decide(
            &facts,
            &BookQuoter::new(&ctx.book, origins, &destination, ctx.now),
        )
        .map_err(|e| RouteError::NoRoute(e.to_string()))?
    };
    let moved = move_reservations(
        tx,
        book,
        order,
        &route_lines,
        allocations,
        &holding,
        &decision,
    )
    .await?;
    let count = decision.chosen.parcels.len() as i32;
    let now = Utc::now();
    let mut rows = Vec::new();
    let mut planned = Vec::new();
    for (i, p) in decision.chosen.parcels.iter().enumerate() {
        *ctx.workload.entry(p.warehouse_id).or_default() += 1;
        let row = Shipment {
            tenant_id: tx.tenant().uuid(),
            id: uuid::Uuid::now_v7(),
            order_id: order.id,
            warehouse_id: p.warehouse_id,
            carrier_id: None,
            service_id: p.quote.as_ref().map(|q| q.service_id),
            parcel_no: i as i32 + 1,
            parcel_count: count,
            status: shipping::PLANNED.into(),
            lines: serde_json::to_value(&p.pieces).unwrap_or_default(),
            weight_grams: p.weight_grams as i32,
            volume_cm3: p.volume_cm3 as i64,
            zone: p.quote.as_ref().map(|q| i32::from(q.zone)),
            currency: order.currency.to_string(),
            cost_units: None,
            tracking_number: None,
            rates: None,
            rate_pick: None,
            promised_at: Some(promised_at),
            estimated_at: None,
            predicted_at: None,
            prediction: None,
            labelled_at: None,
            shipped_at: None,
            delivered_at: None,
            last_scan_at: None,
            last_detail: None,
            picked_at: None,
            packed_at: None,
            voided_at: None,
            label_ref: None,
            tracker_id: None,
            tracking_url: None,
            label_wait: None,
            created_at: now,
            updated_at: now,
        };
        rows.push(active(&row));
        planned.push(row);
    }
    shipping::insert_shipments(tx, rows).await?;
    Ok(Routed {
        decision,
        shipments: planned,
        moved,
        promised_by,
    })
}

fn active(s: &Shipment) -> shipments::ActiveModel {
    let s = s.clone();
    shipments::ActiveModel {
        tenant_id: Set(s.tenant_id),
        id: Set(s.id),
        order_id: Set(s.order_id),
        warehouse_id: Set(s.warehouse_id),
        carrier_id: Set(s.carrier_id),
        service_id: Set(s.service_id),
        parcel_no: Set(s.parcel_no),
        parcel_count: Set(s.parcel_count),
        status: Set(s.status),
        lines: Set(s.lines),
        weight_grams: Set(s.weight_grams),
        volume_cm3: Set(s.volume_cm3),
        zone: Set(s.zone),
        currency: Set(s.currency),
        cost_units: Set(s.cost_units),
        tracking_number: Set(s.tracking_number),
        rates: Set(s.rates),
        rate_pick: Set(s.rate_pick),
        promised_at: Set(s.promised_at),
        estimated_at: Set(s.estimated_at),
        predicted_at: Set(s.predicted_at),
        prediction: Set(s.prediction),
        labelled_at: Set(s.labelled_at),
        shipped_at: Set(s.shipped_at),
        delivered_at: Set(s.delivered_at),
        last_scan_at: Set(s.last_scan_at),
        last_detail: Set(s.last_detail),
        picked_at: Set(s.picked_at),
        packed_at: Set(s.packed_at),
        voided_at: Set(s.voided_at),
        label_ref: Set(s.label_ref),
        tracker_id: Set(s.tracker_id),
        tracking_url: Set(s.tracking_url),
        label_wait: Set(s.label_wait),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
    }
}

/// Moves the order's reservations to where the chosen plan ships from: only the net
/// difference moves stock; the allocation rows of a changed line are replaced.
async fn move_reservations(
    tx: &TenantTx,
    book: &mut StockBook,
    order: &Order,
    lines: &[Line],
    allocations: &[Allocation],
    holding: &BTreeMap<(i32, uuid::Uuid), i64>,
    decision: &Decision,
) -> Result<i64, RouteError> {
    let mut wanted: BTreeMap<(i32, uuid::Uuid), i64> = BTreeMap::new();
    for p in &decision.chosen.parcels {
        for piece in &p.pieces {
            *wanted.entry((piece.position, p.warehouse_id)).or_default() += piece.quantity;
        }
    }
    if &wanted == holding {
        return Ok(0);
    }
    let reference = format!("order {} (routing)", order.name);
    let mut moved = 0;
    let mut changed_lines = Vec::new();
    let keys: std::collections::BTreeSet<(i32, uuid::Uuid)> =
        wanted.keys().chain(holding.keys()).copied().collect();
    // Releases first, so a reservation moving between warehouses never needs both at once.
    let mut steps: Vec<((i32, uuid::Uuid), i64)> = keys
        .into_iter()
        .map(|k| {
            (
                k,
                wanted.get(&k).copied().unwrap_or(0) - holding.get(&k).copied().unwrap_or(0),
            )
        })
        .filter(|(_, d)| *d != 0)
        .collect();
    steps.sort_by_key(|(_, d)| *d);
    for ((position, warehouse), delta) in steps {
        let Some(line) = lines.iter().find(|l| l.position == position) else {
            continue;
        };
        let variant = VariantId(line.variant);
        let (kind, quantity) = if delta > 0 {
            (MovementKind::Reservation, delta)
        } else {
            (MovementKind::Release, -delta)
        };
        match move_stock(
            tx,
            Actor::System,
            Move {
                variant,
                warehouse: WarehouseId(warehouse),
                kind,
                quantity,
                reason: None,
                reference: Some(&reference),
            },
        )
        .await
        {
            Ok(_) => {}
            Err(MoveError::Db(e)) => return Err(e.into()),
            Err(MoveError::Rule(rule)) => {
                // The levels are locked and the book agrees with them, so this is a books
                // mismatch: roll everything back rather than commit half a move.
                return Err(RouteError::Db(DbErr::Custom(format!(
                    "moving {quantity} × {} to the chosen warehouse failed: {rule}",
                    line.sku
                ))));
            }
        }
        book.draw(variant, WarehouseId(warehouse), delta);
        if delta > 0 {
            moved += delta;
        }
        if !changed_lines.contains(&position) {
            changed_lines.push(position);
        }
    }
    let old: Vec<uuid::Uuid> = allocations
        .iter()
        .filter(|a| {
            changed_lines.contains(&a.line_position)
                && AllocationStatus::parse(&a.status) == AllocationStatus::Reserved
        })
        .map(|a| a.id)
        .collect();
    allocations::set_status(tx, &old, AllocationStatus::Released).await?;
    let rows = wanted
        .iter()
        .filter(|((p, _), _)| changed_lines.contains(p))
        .filter_map(|((position, warehouse), quantity)| {
            let line = lines.iter().find(|l| l.position == *position)?;
            Some(NewAllocation {
                order: OrderId(order.id),
                line: *position,
                variant: VariantId(line.variant),
                sku: Some(line.sku.clone()),
                warehouse: Some(WarehouseId(*warehouse)),
                quantity: *quantity,
                status: AllocationStatus::Reserved,
                supplier: None,
                eta: None,
                expires_at: None,
            })
        })
        .collect();
    allocations::insert_many(tx, rows).await?;
    Ok(moved)
}
