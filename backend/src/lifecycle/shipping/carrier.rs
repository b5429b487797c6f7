//! Carriers behind one trait. The built-in carrier is configured in the database (rate cards by
//! zone and weight, transit days, cut-offs, tracking-number format) and makes its own labels;
//! a carrier with a remote API implements the same trait and the stages do not change.

use std::future::Future;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use entity::{carrier_services, carriers};
use rust_decimal::Decimal;

use super::label::{self, LabelFacts};
use super::ratecard::{self, Parcel, Place, RateCard, ZoneRule};
use super::remote::Provider;
use super::shop::RateOption;
use super::tracking_number::{self, Issuer, TrackingFormat};
use crate::domain::TenantId;
use crate::state::AppState;

/// Default on-time rate of a service with no delivery history yet, and how many deliveries
/// that prior is worth.
const PRIOR_ON_TIME: f64 = 0.9;
const PRIOR_WEIGHT: f64 = 10.0;

/// A carrier account and its active services, as configured by the tenant.
#[derive(Clone, Debug)]
pub struct CarrierSetup {
    pub row: carriers::Model,
    /// Who sells its postage: Orderflow's rate cards (simulated), or a remote API.
    pub provider: Provider,
    pub format: TrackingFormat,
    pub zone_chart: Vec<ZoneRule>,
    pub services: Vec<ServiceSetup>,
}

#[derive(Clone, Debug)]
pub struct ServiceSetup {
    pub row: carrier_services::Model,
    pub card: RateCard,
    pub cutoff: Option<NaiveTime>,
}

/// The on-time rate assumed for a service with no deliveries yet.
pub fn prior_reliability() -> f64 {
    PRIOR_ON_TIME
}

impl ServiceSetup {
    /// Share of parcels delivered by their estimate, the tenant's history blended with the
    /// prior so a handful of deliveries does not swing it.
    pub fn reliability(&self) -> f64 {
        (f64::from(self.row.on_time_count) + PRIOR_ON_TIME * PRIOR_WEIGHT)
            / (f64::from(self.row.delivered_count) + PRIOR_WEIGHT)
    }
}

/// Where a parcel leaves from.
#[derive(Clone, Debug)]
pub struct Origin {
    pub place: Place,
    pub timezone: Tz,
}

/// What a label is bought for.
pub struct LabelRequest<'a> {
    pub service: &'a ServiceSetup,
    pub zone: u8,
    pub price: Decimal,
    pub ship_on: NaiveDate,
    /// Any number unique to the shipment; the tracking number is derived from it.
    pub serial: u128,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub weight_grams: u32,
    pub order_name: &'a str,
    pub parcel: (usize, usize),
    /// Printed into international postal (S10) numbers.
    pub origin_country: &'a str,
}

/// A bought label.
#[derive(Clone, Debug)]
pub struct Purchase {
    pub tracking_number: String,
    pub cost: Decimal,
    pub pdf: Vec<u8>,
    pub zpl: String,
}

/// A carrier's answer when it will not do something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarrierError(pub String);

impl std::fmt::Display for CarrierError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every carrier does for the stages.
pub trait Carrier {
    /// Every active service's offer for a parcel, and the services that cannot take it.
    fn rates(
        &self,
        origin: &Origin,
        to: &Place,
        parcel: Parcel,
        now: DateTime<Utc>,
    ) -> (Vec<RateOption>, Vec<String>);

    fn purchase(
        &self,
        request: LabelRequest<'_>,
    ) -> impl Future<Output = Result<Purchase, CarrierError>> + Send;

    fn void(&self, tracking_number: &str) -> impl Future<Output = Result<(), CarrierError>> + Send;
}

/// The built-in carrier: prices from its rate cards, labels drawn here.
pub struct RateCardCarrier<'a>(pub &'a CarrierSetup);

impl Carrier for RateCardCarrier<'_> {
    fn rates(
        &self,
        origin: &Origin,
        to: &Place,
        parcel: Parcel,
        now: DateTime<Utc>,
    ) -> (Vec<RateOption>, Vec<String>) {
        Offers::of(std::slice::from_ref(self.0), origin, to, now).rates(parcel)
    }

    async fn purchase(&self, r: LabelRequest<'_>) -> Result<Purchase, CarrierError> {
        let c = self.0;
        let tracking_number = self.tracking_number(r.service, r.origin_country, r.serial);
        let facts = LabelFacts {
            tracking_number: &tracking_number,
            carrier: &c.row.name,
            service: &r.service.row.name,
            from: &r.from,
            to: &r.to,
            weight_grams: r.weight_grams,
            zone: r.zone,
            ship_on: r.ship_on,
            order_name: r.order_name,
            parcel: r.parcel,
        };
        let pdf = label::pdf(&facts).map_err(CarrierError)?;
        let zpl = label::zpl(&facts);
        Ok(Purchase {
            tracking_number,
            cost: r.price,
            pdf,
            zpl,
        })
    }

    async fn void(&self, _tracking_number: &str) -> Result<(), CarrierError> {
        // Our own labels are void once we say so; nothing was charged elsewhere.
        Ok(())
    }
}

impl RateCardCarrier<'_> {
    /// The number a label with `serial` gets.
    pub fn tracking_number(
        &self,
        service: &ServiceSetup,
        origin_country: &str,
        serial: u128,
    ) -> String {
        let issuer = Issuer {
            account: &self.0.row.account,
            service: &service.row.code,
            country: origin_country,
        };
        tracking_number::generate(self.0.format, &issuer, serial)
    }
}

/// A tenant's carriers, loaded once per batch.
#[derive(Clone, Debug, Default)]
pub struct RatingBook {
    pub carriers: Vec<CarrierSetup>,
}

impl RatingBook {
    pub fn from_rows(
        carriers: Vec<carriers::Model>,
        services: Vec<carrier_services::Model>,
    ) -> Self {
        let carriers = carriers
            .into_iter()
            .filter(|c| c.active)
            .map(|row| {
                let services = services
                    .iter()
                    .filter(|s| s.active && s.carrier_id == row.id)
                    .filter_map(|s| {
                        Some(ServiceSetup {
                            card: serde_json::from_value(s.rate_card.clone()).ok()?,
                            cutoff: s.cutoff.as_deref().and_then(ratecard::parse_cutoff),
                            row: s.clone(),
                        })
                    })
                    .collect();
                CarrierSetup {
                    provider: Provider::parse(&row.provider).unwrap_or(Provider::Simulated),
                    format: TrackingFormat::parse(&row.tracking_format)
                        .unwrap_or(TrackingFormat::Orderflow),
                    zone_chart: serde_json::from_value(row.zone_chart.clone()).unwrap_or_default(),
                    services,
                    row,
                }
            })
            .collect();
        Self { carriers }
    }

    /// Every offer of every carrier for a parcel.
    pub fn rates(
        &self,
        origin: &Origin,
        to: &Place,
        parcel: Parcel,
        now: DateTime<Utc>,
    ) -> (Vec<RateOption>, Vec<String>) {
        self.offers(origin, to, now).rates(parcel)
    }

    /// What every service offers from `origin` to `to` now, before weight.
    pub fn offers(&self, origin: &Origin, to: &Place, now: DateTime<Utc>) -> Offers<'_> {
        Offers::of(&self.carriers, origin, to, now)
    }

    /// The active service a code names: `service` (any carrier's) or `carrier/service`.
    pub fn service_by_code(&self, code: &str) -> Option<uuid::Uuid> {
        let (carrier, service) = match code.split_once('/') {
            Some((c, s)) => (Some(c.trim()), s.trim()),
            None => (None, code.trim()),
        };
        self.carriers
            .iter()
            .filter(|c| carrier.is_none_or(|k| c.row.code.eq_ignore_ascii_case(k)))
            .find_map(|c| {
                c.services
                    .iter()
                    .find(|s| s.row.code.eq_ignore_ascii_case(service) && s.row.active)
                    .map(|s| s.row.id)
            })
    }

    /// Whether any active carrier sells postage through a remote API: then labels are bought
    /// by the label job, not inside the caller's transaction.
    pub fn has_remote(&self) -> bool {
        self.remote().next().is_some()
    }

    /// The active carriers that sell postage through a remote API.
    pub fn remote(&self) -> impl Iterator<Item = &CarrierSetup> {
        self.carriers
            .iter()
            .filter(|c| c.provider != Provider::Simulated)
    }

    pub fn carrier(&self, id: uuid::Uuid) -> Option<&CarrierSetup> {
        self.carriers.iter().find(|c| c.row.id == id)
    }

    pub fn service(&self, id: uuid::Uuid) -> Option<(&CarrierSetup, &ServiceSetup)> {
        self.carriers
            .iter()
            .find_map(|c| c.services.iter().find(|s| s.row.id == id).map(|s| (c, s)))
    }
}

/// One service's offer on one route, before weight.
struct Offer<'a> {
    carrier: &'a CarrierSetup,
    service: &'a ServiceSetup,
    zone: u8,
    ship_on: NaiveDate,
    delivery_on: NaiveDate,
    transit_days: u32,
}

/// What each service offers on one route (origin to destination, now): the zone, the day a
/// parcel would leave and arrive. The route is worked out once; each parcel is then only a
/// price lookup — routing prices many parcels on few routes.
pub struct Offers<'a> {
    items: Vec<Offer<'a>>,
    excluded: Vec<String>,
}

impl<'a> Offers<'a> {
    fn of(carriers: &'a [CarrierSetup], origin: &Origin, to: &Place, now: DateTime<Utc>) -> Self {
        let mut items = Vec::new();
        let mut excluded = Vec::new();
        // A remote carrier's prices come from its API, per parcel (the label job asks).
        for c in carriers
            .iter()
            .filter(|c| c.provider == Provider::Simulated)
        {
            let zone = ratecard::zone(&c.zone_chart, &origin.place, to).zone;
            for s in &c.services {
                match s.card.zones.iter().find(|z| z.zone == zone) {
                    Some(rates) => {
                        let ship_on = ratecard::ship_day(now, origin.timezone, s.cutoff);
                        items.push(Offer {
                            carrier: c,
                            service: s,
                            zone,
                            ship_on,
                            delivery_on: ratecard::delivery_day(ship_on, rates.transit_days),
                            transit_days: rates.transit_days,
                        });
                    }
                    None => excluded.push(format!(
                        "{} {}: {}",
                        c.row.name,
                        s.row.name,
                        ratecard::NotServed::Zone(zone)
                    )),
                }
            }
        }
        Self { items, excluded }
    }

    /// Every offer's price for `parcel`, and the services that cannot take it.
    pub fn rates(&self, parcel: Parcel) -> (Vec<RateOption>, Vec<String>) {
        let mut options = Vec::with_capacity(self.items.len());
        let mut excluded = self.excluded.clone();
        for o in &self.items {
            match ratecard::price(&o.service.card, o.zone, parcel) {
                Ok(priced) => options.push(RateOption {
                    carrier_id: o.carrier.row.id,
                    service_id: o.service.row.id,
                    carrier: o.carrier.row.name.clone(),
                    service: o.service.row.name.clone(),
                    zone: o.zone,
                    price: priced.price,
                    currency: o.service.row.currency.clone(),
                    billable_grams: priced.billable_grams,
                    transit_days: o.transit_days,
                    ship_on: o.ship_on,
                    delivery_on: o.delivery_on,
                    reliability: o.service.reliability(),
                    on_time: 0.0,
                }),
                Err(why) => excluded.push(format!(
                    "{} {}: {why}",
                    o.carrier.row.name, o.service.row.name
                )),
            }
        }
        (options, excluded)
    }
}

/// The origin of a warehouse row.
pub fn origin_of(w: &entity::warehouses::Model) -> Origin {
    Origin {
        place: Place::from_address(&w.address).unwrap_or_default(),
        timezone: w.timezone.parse().unwrap_or(Tz::UTC),
    }
}

/// The seal context of a carrier's tracking-webhook secret.
pub fn secret_context(tenant: TenantId, carrier: uuid::Uuid) -> String {
    secret_context_of(tenant, carrier, "tracking_webhook_secret")
}

/// The seal context of one of a carrier's secrets (`api_key`, `tracking_webhook_secret`).
pub fn secret_context_of(tenant: TenantId, carrier: uuid::Uuid, what: &str) -> String {
    format!("{tenant}/{carrier}/{what}")
}

pub fn seal_secret(
    state: &AppState,
    tenant: TenantId,
    carrier: uuid::Uuid,
    secret: &str,
) -> String {
    state.sealer.seal(secret, &secret_context(tenant, carrier))
}
