//! The return label: the shipping stage's carriers, rates and labels, from the shopper's
//! address to the receiving warehouse. The cheapest service is bought: drawn here from the
//! rate cards when the tenant has no carrier API, otherwise bought by the job in `remote.rs`
//! (the remote accounts quoted beside the rate cards).

pub mod remote;

use chrono::Utc;
use chrono_tz::Tz;
use entity::warehouses;
use sea_orm::DbErr;

use crate::domain::VariantId;
use crate::domain::money::to_units;
use crate::lifecycle::settings::fulfillment::Pick;
use crate::lifecycle::shipping::carrier::{Carrier, LabelRequest, Origin, RateCardCarrier};
use crate::lifecycle::shipping::context::Context;
use crate::lifecycle::shipping::label::address_lines;
use crate::lifecycle::shipping::purchase::sides_of;
use crate::lifecycle::shipping::ratecard::{Parcel, Place};
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::shipping::shop;
use crate::order::repo::{Order, OrderLine};
use crate::tenancy::TenantTx;

pub struct Bought {
    pub carrier_id: uuid::Uuid,
    pub service_id: uuid::Uuid,
    pub tracking_number: String,
    pub cost_units: i64,
    pub currency: String,
    pub pdf: Vec<u8>,
    pub zpl: String,
    /// For the timeline: what was bought.
    pub summary: String,
}

/// How a return's label is to be had.
pub enum Start {
    /// Drawn from a rate card, now.
    Bought(Bought),
    /// The tenant has a carrier API: the job in `remote.rs` buys it.
    Requested,
    /// No label: why, in words.
    Refused(String),
}

/// Starts the label for `items` (order lines and quantities) to `warehouse`.
pub async fn start(
    tx: &TenantTx,
    order: &Order,
    items: &[(&OrderLine, i64)],
    warehouse: &warehouses::Model,
) -> Result<Start, DbErr> {
    let trip = match Trip::of(tx, order, items, warehouse).await? {
        Ok(trip) => trip,
        Err(why) => return Ok(Start::Refused(why)),
    };
    if trip.ctx.book.has_remote() {
        return Ok(Start::Requested);
    }
    Ok(match draw(tx, order, &trip, warehouse).await? {
        Ok(b) => Start::Bought(b),
        Err(why) => Start::Refused(why),
    })
}

/// The parcel going back: where from and to, what it weighs, and the catalog and carriers
/// it is rated with.
pub struct Trip {
    pub from: Place,
    pub to: Place,
    pub origin: Origin,
    pub parcel: Parcel,
    /// Each item's sides (mm), for a remote carrier's box.
    pub sizes: Vec<[u32; 3]>,
    pub ctx: Context,
}

impl Trip {
    /// `Err` with why in words when the parcel has nowhere to come from or go to.
    pub async fn of(
        tx: &TenantTx,
        order: &Order,
        items: &[(&OrderLine, i64)],
        warehouse: &warehouses::Model,
    ) -> Result<Result<Self, String>, DbErr> {
        let Some(from) = order
            .shipping_address
            .as_ref()
            .and_then(Place::from_address)
        else {
            return Ok(Err(
                "the order has no shipping address to collect from".into()
            ));
        };
        let Some(to) = Place::from_address(&warehouse.address) else {
            return Ok(Err("the receiving warehouse has no usable address".into()));
        };
        let variants: Vec<VariantId> = items
            .iter()
            .filter_map(|(l, _)| l.variant_id.map(VariantId))
            .collect();
        let ctx = Context::load(tx, &variants).await?;
        let (mut grams, mut volume, mut sizes) = (0u32, 0u64, Vec::new());
        for (line, quantity) in items {
            let q = u32::try_from(*quantity).unwrap_or(0);
            let v = line.variant_id.and_then(|id| ctx.variants.get(&id));
            let unit_grams = v
                .and_then(|v| v.weight_grams)
                .or(line.grams)
                .and_then(|g| u32::try_from(g).ok())
                .unwrap_or(500);
            grams = grams.saturating_add(unit_grams.saturating_mul(q));
            if let Some(v) = v {
                let mm = |x: Option<i32>| u64::try_from(x.unwrap_or(0)).unwrap_or(0);
                volume += mm(v.length_mm) * mm(v.width_mm) * mm(v.height_mm) / 1000 * u64::from(q);
                sizes.extend(sides_of(v));
            }
        }
        Ok(Ok(Self {
            origin: Origin {
                place: from.clone(),
                timezone: warehouse.timezone.parse().unwrap_or(Tz::UTC),
            },
            from,
            to,
            parcel: Parcel {
                weight_grams: grams,
                volume_cm3: volume,
            },
            sizes,
            ctx,
        }))
    }
}

/// Draws the label from the cheapest rate card service; `Err` with the reason in words
/// when no service can take the parcel.
pub async fn draw(
    tx: &TenantTx,
    order: &Order,
    trip: &Trip,
    warehouse: &warehouses::Model,
) -> Result<Result<Bought, String>, DbErr> {
    let (ctx, from, grams) = (&trip.ctx, &trip.from, trip.parcel.weight_grams);
    let (options, excluded) = ctx
        .book
        .rates(&trip.origin, &trip.to, trip.parcel, Utc::now());
    let shopping = shop::shop(options, None, excluded);
    let Some(pick) = shopping
        .recommendations
        .iter()
        .find(|r| r.pick == Pick::Cheapest)
    else {
        return Ok(Err(if shopping.excluded.is_empty() {
            "no carrier is set up to collect returns".to_owned()
        } else {
            format!(
                "no carrier service takes this parcel ({})",
                shopping.excluded.join("; ")
            )
        }));
    };
    let option = shopping.options[pick.option].clone();
    let Some((carrier, service)) = ctx.book.service(option.service_id) else {
        return Ok(Err("the carrier service is no longer active".into()));
    };
    let origin_country = from.country.clone();
    let mut serial = shipping::next_serial(tx, carrier.row.id).await?;
    for _ in 0..20 {
        let number =
            RateCardCarrier(carrier).tracking_number(service, &origin_country, serial as u128);
        if shipping::by_tracking_number(tx, &number).await?.is_none()
            && super::repo::by_tracking_number(tx, &number)
                .await?
                .is_none()
        {
            break;
        }
        serial = shipping::next_serial(tx, carrier.row.id).await?;
    }
    let order_name = format!("{} return", order.name);
    let purchase = RateCardCarrier(carrier)
        .purchase(LabelRequest {
            service,
            zone: option.zone,
            price: option.price,
            ship_on: option.ship_on,
            serial: serial as u128,
            from: address_lines(
                order.customer_name.as_deref(),
                order
                    .shipping_address
                    .as_ref()
                    .unwrap_or(&serde_json::Value::Null),
            ),
            to: address_lines(Some(&warehouse.name), &warehouse.address),
            weight_grams: option.billable_grams.max(grams),
            order_name: &order_name,
            parcel: (1, 1),
            origin_country: &origin_country,
        })
        .await;
    let purchase = match purchase {
        Ok(p) => p,
        Err(e) => return Ok(Err(format!("the carrier refused the label: {e}"))),
    };
    Ok(Ok(Bought {
        carrier_id: carrier.row.id,
        service_id: service.row.id,
        summary: format!(
            "{} {}, tracking {}, {} {}",
            option.carrier, option.service, purchase.tracking_number, option.price, option.currency
        ),
        tracking_number: purchase.tracking_number,
        cost_units: to_units(purchase.cost).unwrap_or(0),
        currency: option.currency,
        pdf: purchase.pdf,
        zpl: purchase.zpl,
    }))
}
