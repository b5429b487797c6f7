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
use crate::lifecycle::shipping::carrier::{CarrierSetup, RatingBook};
use crate::lifecycle::shipping::ratecard::{Parcel, Place};
use crate::lifecycle::shipping::remote::easypost::EasyPost;
use crate::lifecycle::shipping::remote::shippo::Shippo;
use crate::lifecycle::shipping::remote::{
    self, CustomsLine, ParcelSpec, Provider, Quote, RemoteError, RemoteRate,
};
use crate::lifecycle::shipping::repo::{self, Piece};
use crate::lifecycle::shipping::service::{self, Choice};
use crate::lifecycle::shipping::shop::{self, RateOption};
use crate::order::repo::{Order, OrderLine};
use crate::state::AppState;
use crate::tenancy::TenantTx;
use entity::variants::Model as Variant;

/// One kind of goods in a parcel, for its customs declaration: `quantity` of the order line
/// `line` (or of `sku`, when the line is gone), made in `home` unless the catalog says
/// otherwise.
pub(crate) fn customs_line(
    line: Option<&OrderLine>,
    sku: &str,
    variant: Option<&Variant>,
    quantity: i64,
    order: &Order,
    home: &str,
) -> CustomsLine {
    let count = u32::try_from(quantity).unwrap_or(0);
    CustomsLine {
        description: line.map_or_else(|| sku.to_owned(), |l| l.title.clone()),
        quantity: count,
        weight_grams: variant
            .and_then(|v| v.weight_grams)
            .and_then(|g| u32::try_from(g).ok())
            .unwrap_or(0)
            .saturating_mul(count),
        value: line.map_or(Decimal::ZERO, |l| {
            crate::domain::money::amount_from_units(l.unit_price_units, &order.currency)
                * Decimal::from(quantity)
        }),
        currency: order.currency.to_string(),
        hs_code: variant.and_then(|v| v.hs_code.clone()),
        origin_country: variant
            .and_then(|v| v.origin_country.clone())
            .unwrap_or_else(|| home.to_owned()),
    }
}

/// An item's sides in millimetres, when the catalog has all three.
pub(crate) fn sides_of(v: &Variant) -> Option<[u32; 3]> {
    let (Some(l), Some(w), Some(h)) = (v.length_mm, v.width_mm, v.height_mm) else {
        return None;
    };
    Some([l, w, h].map(|x| u32::try_from(x).unwrap_or(0)))
}

/// An address as a remote carrier takes it, named after `name` when it has no name.
pub(crate) fn address_of(value: Option<&serde_json::Value>, name: Option<&str>) -> Option<Address> {
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
        sizes.extend(variant.and_then(sides_of));
        customs.push(customs_line(
            line,
            &piece.sku,
            variant,
            piece.quantity,
            &s.order,
            &from.country,
        ));
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
    let (options, excluded) = s.ctx.book.rates(&origin, &to, parcel, s.ctx.now);
    let ship_on = s.ctx.now.with_timezone(&origin.timezone).date_naive();
    let quotes = quote_remote(
        state,
        tenant,
        &s.ctx.book,
        |c| spec_for(s, c),
        (weight, ship_on),
        (options, excluded),
    )
    .await;
    if let Some(why) = quotes.address_problem {
        return Ok(Next::Fail { why, address: true });
    }
    let choice = match s.p.choice.strip_prefix("service:") {
        Some(id) => Choice::Service(id.parse().unwrap_or_default()),
        None => Choice::Recommended(Pick::parse(&s.p.choice).unwrap_or(s.ctx.settings.label_pick)),
    };
    // A carrier that is down may have had the best rate: wait for it while it may recover
    // (not when staff chose a service that answered).
    let chosen_here =
        matches!(choice, Choice::Service(id) if quotes.options.iter().any(|o| o.service_id == id));
    if let Some((why, after)) = quotes.unavailable()
        && !chosen_here
        && (quotes.options.is_empty() || s.p.attempts < 3)
    {
        return Ok(Next::Wait { why, after });
    }
    let promised = s.shipment.promised_at.map(|p| p.date_naive());
    let shopping = shop::shop(quotes.options.clone(), promised, quotes.excluded.clone());
    let (option, why) = match service::choose(&shopping, choice) {
        Ok(chosen) => chosen,
        Err(e) => {
            return Ok(Next::Fail {
                why: e.to_string(),
                address: false,
            });
        }
    };
    let (carrier_id, remote_shipment, rate) = match quotes.seller(&option) {
        Seller::RateCard => return Ok(Next::Local(Choice::Service(option.service_id))),
        Seller::Missing => {
            return Ok(Next::Fail {
                why: "the chosen rate is not in the carrier's answer".into(),
                address: false,
            });
        }
        Seller::Remote {
            carrier,
            shipment,
            rate,
        } => (carrier, shipment.to_owned(), rate),
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
    remember_service(&tx, carrier_id, &option, rate).await?;
    let stored = serde_json::to_value(&chosen).unwrap_or_default();
    let ours = advance(&tx, &s.p, BUYING, |row| {
        row.carrier_id = Set(Some(carrier_id));
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

/// Every remote account's answer to one parcel, as rate options beside the rate cards'.
pub(crate) struct Quotes {
    pub options: Vec<RateOption>,
    /// Services that could not take the parcel, and why.
    pub excluded: Vec<String>,
    /// The carrier could not verify the address for delivery: its words.
    pub address_problem: Option<String>,
    answers: Vec<(uuid::Uuid, Quote)>,
    unreachable: Vec<(String, Option<Duration>)>,
}

/// Who sells a chosen option.
pub(crate) enum Seller<'a> {
    /// One of Orderflow's rate cards: the label is drawn here.
    RateCard,
    /// A remote account's rate on the provider's shipment.
    Remote {
        carrier: uuid::Uuid,
        shipment: &'a str,
        rate: &'a RemoteRate,
    },
    /// A remote account's option whose rate is not in its answer.
    Missing,
}

impl Quotes {
    /// The accounts that could not be reached, in words, and the longest wait one asked for.
    pub fn unavailable(&self) -> Option<(String, Option<Duration>)> {
        if self.unreachable.is_empty() {
            return None;
        }
        let after = self.unreachable.iter().filter_map(|(_, w)| *w).max();
        let why = self
            .unreachable
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Some((why, after))
    }

    pub fn seller(&self, option: &RateOption) -> Seller<'_> {
        let Some((carrier, quote)) = self.answers.iter().find(|(c, _)| *c == option.carrier_id)
        else {
            return Seller::RateCard;
        };
        quote
            .rates
            .iter()
            .find(|r| {
                remote_service_id(*carrier, &format!("{}/{}", r.carrier, r.service))
                    == option.service_id
            })
            .map_or(Seller::Missing, |rate| Seller::Remote {
                carrier: *carrier,
                shipment: &quote.shipment_id,
                rate,
            })
    }
}

/// Asks every remote account of `book` for its rates on the parcel `spec` describes, and
/// adds them to the rate cards' `priced` options (weight in grams, and the day it ships).
pub(crate) async fn quote_remote(
    state: &AppState,
    tenant: TenantId,
    book: &RatingBook,
    spec: impl Fn(&CarrierSetup) -> Result<ParcelSpec, String>,
    (weight, ship_on): (u32, NaiveDate),
    (options, excluded): (Vec<RateOption>, Vec<String>),
) -> Quotes {
    let mut q = Quotes {
        options,
        excluded,
        address_problem: None,
        answers: Vec::new(),
        unreachable: Vec::new(),
    };
    for c in book.remote() {
        let quoted = match (account_of(state, tenant, c), spec(c)) {
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
            Ok(answer) => {
                if let Some(problem) = &answer.address_problem {
                    q.address_problem = Some(format!("{}: {problem}", c.row.name));
                }
                q.excluded.extend(
                    answer
                        .messages
                        .iter()
                        .map(|m| format!("{}: {m}", c.row.name)),
                );
                q.options.extend(
                    answer
                        .rates
                        .iter()
                        .map(|r| option_of(c, r, weight, ship_on)),
                );
                q.answers.push((c.row.id, answer));
            }
            Err(RemoteError::Unavailable {
                reason,
                retry_after,
            }) => q
                .unreachable
                .push((format!("{}: {reason}", c.row.name), retry_after)),
            Err(RemoteError::Refused(why)) => q.excluded.push(format!("{}: {why}", c.row.name)),
        }
    }
    q
}

/// A remote service seen for the first time becomes a service row, so its deliveries build
/// the reliability that "best experience" weighs.
pub(crate) async fn remember_service(
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
