//! A parcel quoted: every remote account asked for its rates, the rate cards priced beside
//! them, the tenant's pick chosen from all of them, and the choice written down before
//! anything is bought.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, Duration as Days, NaiveDate, Utc, Weekday};
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, DbErr};

use super::{BUYING, Chosen, Next, RunError, Scene, account_of, advance, label_format};
use crate::domain::TenantId;
use crate::domain::address::Address;
use crate::lifecycle::settings::fulfillment::Pick;
use crate::lifecycle::shipping::carrier::CarrierSetup;
use crate::lifecycle::shipping::ratecard::{Parcel, Place};
use crate::lifecycle::shipping::remote::easypost::EasyPost;
use crate::lifecycle::shipping::remote::shippo::Shippo;
use crate::lifecycle::shipping::remote::{
    self, CustomsLine, ParcelSpec, Provider, Quote, RemoteError, RemoteRate,
};
use crate::lifecycle::shipping::repo::{self, Piece};
use crate::lifecycle::shipping::service::{self, Choice};
use crate::lifecycle::shipping::shop::{self, RateOption};
use crate::state::AppState;
use crate::tenancy::TenantTx;

fn address_of(value: Option<&serde_json::Value>, name: Option<&str>) -> Option<Address> {
    let mut a: Address = serde_json::from_value(value?.clone()).ok()?;
    if a.name.as_deref().is_none_or(str::is_empty) {
        a.name = name.map(str::to_owned);
    }
    Some(a)
}

/// The parcel as a remote carrier needs it: addresses, weight, a box, customs abroad.
fn spec_for(s: &Scene, c: &CarrierSetup) -> Result<ParcelSpec, String> {
    let warehouse = s
        .ctx
        .warehouse(s.shipment.warehouse_id)
        .ok_or("the shipment's warehouse is not active")?;
    let from = address_of(Some(&warehouse.address), Some(&warehouse.name))
        .ok_or("the warehouse has no address")?;
    let to = address_of(
        s.order.shipping_address.as_ref(),
        s.order.customer_name.as_deref(),
    )
    .ok_or("the order has no shipping address")?;
    let pieces: Vec<Piece> = serde_json::from_value(s.shipment.lines.clone()).unwrap_or_default();
    let mut sizes = Vec::new();
    let mut customs = Vec::new();
    for piece in &pieces {
        let line = s.lines.iter().find(|l| l.position == piece.position);
        let variant = line
            .and_then(|l| l.variant_id)
            .and_then(|v| s.ctx.variants.get(&v));
        if let Some(v) = variant
            && let (Some(l), Some(w), Some(h)) = (v.length_mm, v.width_mm, v.height_mm)
        {
            sizes.push([l, w, h].map(|x| u32::try_from(x).unwrap_or(0)));
        }
        let quantity = u32::try_from(piece.quantity).unwrap_or(0);
        customs.push(CustomsLine {
            description: line.map_or_else(|| piece.sku.clone(), |l| l.title.clone()),
            quantity,
            weight_grams: variant
                .and_then(|v| v.weight_grams)
                .and_then(|g| u32::try_from(g).ok())
                .unwrap_or(0)
                .saturating_mul(quantity),
            value: line.map_or(Decimal::ZERO, |l| {
                crate::domain::money::amount_from_units(l.unit_price_units, &s.order.currency)
                    * Decimal::from(piece.quantity)
            }),
            currency: s.order.currency.to_string(),
            hs_code: variant.and_then(|v| v.hs_code.clone()),
            origin_country: variant
                .and_then(|v| v.origin_country.clone())
                .unwrap_or_else(|| from.country.clone()),
        });
    }
    Ok(ParcelSpec {
        reference: format!("{}-{}", s.order.name, s.shipment.parcel_no),
        from,
        to,
        weight_grams: u32::try_from(s.shipment.weight_grams).unwrap_or(0).max(1),
        dimensions_mm: remote::box_for(&sizes, u64::try_from(s.shipment.volume_cm3).unwrap_or(0)),
        customs,
        customs_signer: s.signer.clone(),
        label_format: label_format(c),
        is_return: false,
    })
}

/// Business days after `from` (a carrier's delivery days do not count weekends).
fn business_days_after(from: NaiveDate, days: u32) -> NaiveDate {
    let mut day = from;
    let mut left = days;
    while left > 0 {
        day += Days::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    day
}

/// A remote service's id: the same for the same carrier account and service every time.
pub fn remote_service_id(carrier: uuid::Uuid, code: &str) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(carrier.as_bytes())
        .chain_update(code.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// A remote rate as one of Orderflow's rate options.
fn option_of(c: &CarrierSetup, r: &RemoteRate, weight: u32, ship_on: NaiveDate) -> RateOption {
    let code = format!("{}/{}", r.carrier, r.service);
    let service_id = remote_service_id(c.row.id, &code);
    let transit_days = r.delivery_days.unwrap_or(5);
    let reliability = c
        .services
        .iter()
        .find(|s| s.row.id == service_id)
        .map_or_else(
            crate::lifecycle::shipping::carrier::prior_reliability,
            |s| s.reliability(),
        );
    RateOption {
        carrier_id: c.row.id,
        service_id,
        carrier: format!("{} {}", c.row.name, r.carrier),
        service: r.service.clone(),
        zone: 0,
        price: r.price,
        currency: r.currency.clone(),
        billable_grams: weight,
        transit_days,
        ship_on,
        delivery_on: r
            .delivery_date
            .unwrap_or_else(|| business_days_after(ship_on, transit_days)),
        reliability,
        on_time: 0.0,
    }
}

/// Quotes every remote account and prices the rate cards, chooses, and writes the choice
/// down before anything is bought.
pub(super) async fn quote_and_choose(state: &Arc<AppState>, s: &Scene) -> Result<Next, RunError> {
    let tenant = TenantId(s.p.tenant_id);
    let to = s
        .order
        .shipping_address
        .as_ref()
        .and_then(Place::from_address);
    let origin = s.ctx.origin(s.shipment.warehouse_id);
    let (Some(to), Some(origin)) = (to, origin) else {
        return Ok(Next::Fail {
            why: "the order has no shipping address or the warehouse is not active".into(),
            address: false,
        });
    };
    let weight = u32::try_from(s.shipment.weight_grams).unwrap_or(0);
    let parcel = Parcel {
        weight_grams: weight,
        volume_cm3: u64::try_from(s.shipment.volume_cm3).unwrap_or(0),
    };
    let (mut options, mut excluded) = s.ctx.book.rates(&origin, &to, parcel, s.ctx.now);
    let ship_on = s.ctx.now.with_timezone(&origin.timezone).date_naive();
    let mut quotes: Vec<(uuid::Uuid, Quote)> = Vec::new();
    let mut unavailable: Vec<(String, Option<Duration>)> = Vec::new();
    let mut address_problem = None;
    for c in s.ctx.book.remote() {
        let quoted = match (account_of(state, tenant, c), spec_for(s, c)) {
            (Ok(account), Ok(spec)) => match c.provider {
                Provider::Easypost => {
                    EasyPost {
                        client: &state.http,
                        account: &account,
                    }
                    .quote(&spec)
                    .await
                }
                Provider::Shippo => {
                    Shippo {
                        client: &state.http,
                        account: &account,
                    }
                    .quote(&spec)
                    .await
                }
                Provider::Simulated => continue,
            },
            (Err(why), _) | (_, Err(why)) => Err(RemoteError::Refused(why)),
        };
        match quoted {
            Ok(q) => {
                if let Some(problem) = &q.address_problem {
                    address_problem = Some(format!("{}: {problem}", c.row.name));
                }
                excluded.extend(q.messages.iter().map(|m| format!("{}: {m}", c.row.name)));
                options.extend(q.rates.iter().map(|r| option_of(c, r, weight, ship_on)));
                quotes.push((c.row.id, q));
            }
            Err(RemoteError::Unavailable {
                reason,
                retry_after,
            }) => unavailable.push((format!("{}: {reason}", c.row.name), retry_after)),
            Err(RemoteError::Refused(why)) => excluded.push(format!("{}: {why}", c.row.name)),
        }
    }
    if let Some(why) = address_problem {
        return Ok(Next::Fail { why, address: true });
    }
    let choice = match s.p.choice.strip_prefix("service:") {
        Some(id) => Choice::Service(id.parse().unwrap_or_default()),
        None => Choice::Recommended(Pick::parse(&s.p.choice).unwrap_or(s.ctx.settings.label_pick)),
    };
    // A carrier that is down may have had the best rate: wait for it while it may recover
    // (not when staff chose a service that answered).
    let chosen_here =
        matches!(choice, Choice::Service(id) if options.iter().any(|o| o.service_id == id));
    if !unavailable.is_empty() && !chosen_here && (options.is_empty() || s.p.attempts < 3) {
        let after = unavailable.iter().filter_map(|(_, w)| *w).max();
        let why = unavailable
            .into_iter()
            .map(|(w, _)| w)
            .collect::<Vec<_>>()
            .join("; ");
        return Ok(Next::Wait { why, after });
    }
    let promised = s.shipment.promised_at.map(|p| p.date_naive());
    let shopping = shop::shop(options, promised, excluded);
    let (option, why) = match service::choose(&shopping, choice) {
        Ok(chosen) => chosen,
        Err(e) => {
            return Ok(Next::Fail {
                why: e.to_string(),
                address: false,
            });
        }
    };
    let Some((carrier_id, quote)) = quotes.iter().find(|(c, _)| *c == option.carrier_id) else {
        // A rate card's service won.
        return Ok(Next::Local(Choice::Service(option.service_id)));
    };
    let Some(rate) = quote.rates.iter().find(|r| {
        remote_service_id(*carrier_id, &format!("{}/{}", r.carrier, r.service)) == option.service_id
    }) else {
        return Ok(Next::Fail {
            why: "the chosen rate is not in the carrier's answer".into(),
            address: false,
        });
    };
    let chosen = Chosen {
        rate_id: rate.id.clone(),
        carrier: rate.carrier.clone(),
        service: rate.service.clone(),
        price: rate.price,
        currency: rate.currency.clone(),
        delivery_days: rate.delivery_days,
        option: option.clone(),
        shopping,
        pick: match choice {
            Choice::Recommended(p) => p.as_str().to_owned(),
            Choice::Service(_) => "staff".to_owned(),
        },
        why,
    };
    // Written before the call that spends money.
    let tx = TenantTx::begin(&state.db, tenant).await?;
    remember_service(&tx, *carrier_id, &option, rate).await?;
    let remote_shipment = quote.shipment_id.clone();
    let stored = serde_json::to_value(&chosen).unwrap_or_default();
    let ours = advance(&tx, &s.p, BUYING, |row| {
        row.carrier_id = Set(Some(*carrier_id));
        row.remote_shipment = Set(Some(remote_shipment));
        row.rate = Set(Some(stored));
    })
    .await?;
    tx.commit().await?;
    if !ours {
        // Staff switched the service meanwhile: the new purchase buys, not this one.
        return Ok(Next::Stale);
    }
    Ok(Next::Buy(Box::new(chosen)))
}

/// A remote service seen for the first time becomes a service row, so its deliveries build
/// the reliability that "best experience" weighs.
async fn remember_service(
    tx: &TenantTx,
    carrier: uuid::Uuid,
    option: &RateOption,
    rate: &RemoteRate,
) -> Result<(), DbErr> {
    if repo::service(tx, option.service_id).await?.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let code = format!("{}/{}", rate.carrier, rate.service);
    repo::insert_service(
        tx,
        entity::carrier_services::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(option.service_id),
            carrier_id: Set(carrier),
            code: Set(code.to_ascii_lowercase()),
            name: Set(format!("{} {}", rate.carrier, rate.service)),
            currency: Set(rate.currency.clone()),
            rate_card: Set(serde_json::json!({ "zones": [] })),
            cutoff: Set(None),
            delivered_count: Set(0),
            on_time_count: Set(0),
            active: Set(true),
            remote_code: Set(Some(code)),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_days_skip_weekends() {
        let friday = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(
            business_days_after(friday, 1),
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
        );
        assert_eq!(business_days_after(friday, 0), friday);
        let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            business_days_after(monday, 3),
            NaiveDate::from_ymd_opt(2026, 12, 10).unwrap()
        );
    }

    #[test]
    fn a_remote_service_has_one_id_per_account() {
        let a = uuid::Uuid::now_v7();
        let b = uuid::Uuid::now_v7();
        let id = remote_service_id;
        assert_eq!(id(a, "USPS/Priority"), id(a, "USPS/Priority"));
        assert_ne!(id(a, "USPS/Priority"), id(b, "USPS/Priority"));
        assert_ne!(id(a, "USPS/Priority"), id(a, "USPS/Express"));
    }
}
