//! The return label: the shipping stage's carriers, rates and labels, from the shopper's
//! address to the receiving warehouse. The cheapest service is bought.

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

/// Buys a label for `items` (order lines and quantities) to `warehouse`; `Err` with the
/// reason in words when no service can take the parcel.
pub async fn buy(
    tx: &TenantTx,
    order: &Order,
    items: &[(&OrderLine, i64)],
    warehouse: &warehouses::Model,
) -> Result<Result<Bought, String>, DbErr> {
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
    let (mut grams, mut volume) = (0u32, 0u64);
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
        }
    }
    let origin = Origin {
        place: from.clone(),
        timezone: warehouse.timezone.parse().unwrap_or(Tz::UTC),
    };
    let parcel = Parcel {
        weight_grams: grams,
        volume_cm3: volume,
    };
    let (options, excluded) = ctx.book.rates(&origin, &to, parcel, Utc::now());
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
