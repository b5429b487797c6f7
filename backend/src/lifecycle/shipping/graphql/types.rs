//! The shipping objects and inputs of the schema, and their conversions from the records.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::super::actions::{self};
use super::super::ratecard::{Bracket, RateCard, ZoneRate, ZoneRule};
use super::super::remote::{LabelFormat, Provider};
use super::super::repo::{self, CarrierRow, Service, Shipment as ShipmentRecord};
use super::super::service::cost_of;
use super::super::shop::{RateOption, Shopping};
use super::super::tracking_number::TrackingFormat;
use crate::catalog::graphql::types::Warehouse;
use crate::domain::{TenantId, WarehouseId};
use crate::error::{UserError, UserErrorCode as C};
use crate::graphql::extend::Extended;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::global_id;
use crate::graphql::scalars::Amount;
use crate::lifecycle::settings::fulfillment::FulfillmentSettings as Settings;
use crate::lifecycle::settings::fulfillment::{Pick, Weights};
use crate::lifecycle::shipping::loaders::{CarrierOf, ServiceOf, ServicesOf};
use crate::lifecycle::shipping::status::{Source, TrackStatus};
use crate::order::graphql::types::Order;

/// How a carrier's tracking numbers are written.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "TrackingFormat")]
pub enum TrackingNumberFormat {
    Ups,
    Usps,
    Fedex,
    Dhl,
    S10,
    Orderflow,
}

/// The format a carrier's tracking webhooks arrive in.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "Source")]
pub enum TrackingSource {
    Easypost,
    Shippo,
    Aftership,
    Orderflow,
}

/// Who sells a carrier's postage.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "Provider")]
pub enum PostageProvider {
    /// Orderflow's own rate cards and labels: simulated postage, nothing is paid and no
    /// parcel can travel on these labels (for rehearsals and the demo).
    Simulated,
    Easypost,
    Shippo,
}

/// The label file bought from a remote carrier.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "LabelFormat")]
pub enum LabelFileFormat {
    /// A 4x6 inch PDF.
    Pdf,
    /// Zebra printer language.
    Zpl,
}

/// Which rate-shopping recommendation.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "Pick")]
pub enum RatePick {
    Cheapest,
    Fastest,
    BestExperience,
}

/// Where a parcel is: before the carrier has it (planned, picking, packed), the tracking
/// vocabulary after, or voided.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShipmentStatus {
    Planned,
    Picking,
    Packed,
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    AvailableForPickup,
    ReturnToSender,
    Failure,
    Unknown,
    Voided,
}

impl ShipmentStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            repo::PLANNED => Self::Planned,
            repo::PICKING => Self::Picking,
            repo::PACKED => Self::Packed,
            repo::VOIDED => Self::Voided,
            other => match TrackStatus::parse(other) {
                Some(TrackStatus::PreTransit) => Self::PreTransit,
                Some(TrackStatus::InTransit) => Self::InTransit,
                Some(TrackStatus::OutForDelivery) => Self::OutForDelivery,
                Some(TrackStatus::Delivered) => Self::Delivered,
                Some(TrackStatus::AvailableForPickup) => Self::AvailableForPickup,
                Some(TrackStatus::ReturnToSender) => Self::ReturnToSender,
                Some(TrackStatus::Failure) => Self::Failure,
                _ => Self::Unknown,
            },
        }
    }
}

#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "ZoneRuleInput")]
pub struct ZoneChartLine {
    /// `*`, a country (`US`) or a country and region (`US-CA`).
    pub from: String,
    pub to: String,
    pub zone: i32,
}

#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "WeightBracketInput")]
pub struct WeightBracket {
    pub up_to_grams: i32,
    pub price: Amount,
}

#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "ZoneRateInput")]
pub struct ZoneRates {
    pub zone: i32,
    pub transit_days: i32,
    pub brackets: Vec<WeightBracket>,
    /// Per started kilogram beyond the last bracket; none: heavier parcels are not taken.
    pub extra_per_kg: Option<Amount>,
}

/// Prices by zone and weight, with transit days per zone.
#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "RateCardInput")]
pub struct RateCardType {
    /// cm³ per kg for dimensional weight (5000 is common).
    pub dim_divisor: Option<i32>,
    pub max_weight_grams: Option<i32>,
    pub zones: Vec<ZoneRates>,
}

impl From<RateCard> for RateCardType {
    fn from(c: RateCard) -> Self {
        Self {
            dim_divisor: c.dim_divisor.map(|d| d as i32),
            max_weight_grams: c.max_weight_grams.map(|d| d as i32),
            zones: c
                .zones
                .into_iter()
                .map(|z| ZoneRates {
                    zone: i32::from(z.zone),
                    transit_days: z.transit_days as i32,
                    brackets: z
                        .brackets
                        .into_iter()
                        .map(|b| WeightBracket {
                            up_to_grams: b.up_to_grams as i32,
                            price: b.price.normalize().into(),
                        })
                        .collect(),
                    extra_per_kg: z.extra_per_kg.map(|p| p.normalize().into()),
                })
                .collect(),
        }
    }
}

pub(super) fn non_negative(v: i32, path: &[&str]) -> Result<u32, UserError> {
    u32::try_from(v).map_err(|_| UserError::at(path, C::Invalid, "must not be negative"))
}

impl RateCardType {
    pub(super) fn parse(self) -> Result<RateCard, UserError> {
        let mut zones = Vec::new();
        for (i, z) in self.zones.into_iter().enumerate() {
            let i = i.to_string();
            let zone = u8::try_from(z.zone).map_err(|_| {
                UserError::at(
                    &["rateCard", "zones", &i, "zone"],
                    C::Invalid,
                    "must be 0 to 255",
                )
            })?;
            let mut brackets = Vec::new();
            for (j, b) in z.brackets.into_iter().enumerate() {
                let j = j.to_string();
                brackets.push(Bracket {
                    up_to_grams: non_negative(
                        b.up_to_grams,
                        &["rateCard", "zones", &i, "brackets", &j, "upToGrams"],
                    )?,
                    price: actions::price_of(
                        &b.price.0,
                        &["rateCard", "zones", &i, "brackets", &j, "price"],
                    )?,
                });
            }
            zones.push(ZoneRate {
                zone,
                transit_days: non_negative(
                    z.transit_days,
                    &["rateCard", "zones", &i, "transitDays"],
                )?,
                brackets,
                extra_per_kg: z
                    .extra_per_kg
                    .map(|p| actions::price_of(&p.0, &["rateCard", "zones", &i, "extraPerKg"]))
                    .transpose()?,
            });
        }
        Ok(RateCard {
            dim_divisor: self
                .dim_divisor
                .map(|d| non_negative(d, &["rateCard", "dimDivisor"]))
                .transpose()?,
            max_weight_grams: self
                .max_weight_grams
                .map(|d| non_negative(d, &["rateCard", "maxWeightGrams"]))
                .transpose()?,
            zones,
        })
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct CarrierService {
    pub id: ID,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub rate_card: Option<RateCardType>,
    /// Daily hand-over cut-off, HH:MM local to the warehouse.
    pub cutoff: Option<String>,
    /// Parcels delivered, and the share by their estimate (blended with a 90% prior).
    pub delivered_count: i32,
    pub on_time_rate: f64,
    pub active: bool,
}

impl From<Service> for CarrierService {
    fn from(s: Service) -> Self {
        let card: Option<RateCard> = serde_json::from_value(s.rate_card.clone()).ok();
        let on_time = (f64::from(s.on_time_count) + 9.0) / (f64::from(s.delivered_count) + 10.0);
        Self {
            id: global_id("CarrierService", s.id),
            code: s.code,
            name: s.name,
            currency: s.currency,
            rate_card: card.map(RateCardType::from),
            cutoff: s.cutoff,
            delivered_count: s.delivered_count,
            on_time_rate: on_time,
            active: s.active,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Carrier {
    pub id: ID,
    pub code: String,
    pub name: String,
    pub tracking_format: TrackingNumberFormat,
    pub account: String,
    pub tracking_source: TrackingSource,
    /// Where the carrier or tracking service posts tracking events.
    pub tracking_webhook_url: String,
    pub has_webhook_secret: bool,
    pub zone_chart: Vec<ZoneChartLine>,
    pub active: bool,
    pub provider: PostageProvider,
    /// Its labels are drawn by Orderflow, not bought: not postage.
    pub simulated: bool,
    pub has_api_key: bool,
    /// The remote API, when not the provider's production one.
    pub api_base: Option<String>,
    /// The provider's carrier accounts it rates with (all when empty).
    pub provider_accounts: Vec<String>,
    pub label_format: LabelFileFormat,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: (TenantId, uuid::Uuid),
}

impl From<CarrierRow> for Carrier {
    fn from(c: CarrierRow) -> Self {
        let chart: Vec<ZoneRule> = serde_json::from_value(c.zone_chart.clone()).unwrap_or_default();
        Self {
            id: global_id("Carrier", c.id),
            code: c.code,
            name: c.name,
            tracking_format: TrackingFormat::parse(&c.tracking_format)
                .unwrap_or(TrackingFormat::Orderflow)
                .into(),
            account: c.account,
            tracking_source: Source::parse(&c.tracking_source)
                .unwrap_or(Source::Orderflow)
                .into(),
            tracking_webhook_url: format!("/webhooks/carriers/{}", c.id),
            has_webhook_secret: c.webhook_secret.is_some(),
            provider: Provider::parse(&c.provider)
                .unwrap_or(Provider::Simulated)
                .into(),
            simulated: Provider::parse(&c.provider).is_none_or(|p| p == Provider::Simulated),
            has_api_key: c.api_key.is_some(),
            api_base: c.api_base.clone(),
            provider_accounts: c
                .provider_accounts
                .clone()
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default(),
            label_format: LabelFormat::parse(&c.label_format)
                .unwrap_or(LabelFormat::Pdf)
                .into(),
            zone_chart: chart
                .into_iter()
                .map(|r| ZoneChartLine {
                    from: r.from,
                    to: r.to,
                    zone: i32::from(r.zone),
                })
                .collect(),
            active: c.active,
            created_at: c.created_at,
            key: (TenantId(c.tenant_id), c.id),
        }
    }
}

#[ComplexObject]
impl Carrier {
    async fn services(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CarrierService>> {
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((self.key.0, ServicesOf(self.key.1)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(CarrierService::from)
            .collect())
    }
}

/// One service's offer for a parcel.
#[derive(Clone, Debug, SimpleObject)]
pub struct RateQuote {
    pub carrier_id: ID,
    pub service_id: ID,
    pub carrier: String,
    pub service: String,
    pub zone: i32,
    pub price: Amount,
    pub currency: String,
    pub billable_grams: i32,
    pub transit_days: i32,
    pub ship_on: NaiveDate,
    pub delivery_on: NaiveDate,
    /// The service's record of arriving by its estimate.
    pub reliability: f64,
    /// Likelihood of arriving by the promised day.
    pub on_time_likelihood: f64,
}

impl From<&RateOption> for RateQuote {
    fn from(o: &RateOption) -> Self {
        Self {
            carrier_id: global_id("Carrier", o.carrier_id),
            service_id: global_id("CarrierService", o.service_id),
            carrier: o.carrier.clone(),
            service: o.service.clone(),
            zone: i32::from(o.zone),
            price: o.price.normalize().into(),
            currency: o.currency.clone(),
            billable_grams: o.billable_grams as i32,
            transit_days: o.transit_days as i32,
            ship_on: o.ship_on,
            delivery_on: o.delivery_on,
            reliability: o.reliability,
            on_time_likelihood: o.on_time,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct RateRecommendation {
    pub pick: RatePick,
    pub quote: RateQuote,
    pub reason: String,
}

/// Every service that can take a parcel, and the three recommendations.
#[derive(Clone, Debug, SimpleObject)]
pub struct RateShopping {
    pub options: Vec<RateQuote>,
    pub recommendations: Vec<RateRecommendation>,
    pub promised_by: Option<NaiveDate>,
    /// Services that could not take it, and why.
    pub excluded: Vec<String>,
}

impl From<Shopping> for RateShopping {
    fn from(s: Shopping) -> Self {
        Self {
            recommendations: s
                .recommendations
                .iter()
                .filter_map(|r| {
                    Some(RateRecommendation {
                        pick: r.pick.into(),
                        quote: RateQuote::from(s.options.get(r.option)?),
                        reason: r.reason.clone(),
                    })
                })
                .collect(),
            options: s.options.iter().map(RateQuote::from).collect(),
            promised_by: s.promised_by,
            excluded: s.excluded,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ShipmentLine {
    /// Index of the order line (0-based).
    pub line_index: i32,
    pub sku: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ShipmentPrediction {
    pub at: DateTime<Utc>,
    /// Deliveries it rests on (0: the carrier's estimate).
    pub samples: i32,
    pub basis: String,
}

/// A parcel: planned by routing, labelled by shipping; tracking adds its scans (a part, see
/// `schema::parts`).
pub type Shipment = Extended<ShipmentFields>;

/// What shipping knows of a parcel.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(name = "ShipmentFields", complex)]
pub struct ShipmentFields {
    pub id: ID,
    pub order_id: ID,
    pub parcel_no: i32,
    pub parcel_count: i32,
    pub status: ShipmentStatus,
    pub tracking_number: Option<String>,
    /// Download of the label file (bearer token or API key), while there is one: a 4×6 PDF,
    /// or the image a remote carrier sent.
    pub label_url: Option<String>,
    /// The same label in ZPL for thermal printers.
    pub label_zpl_url: Option<String>,
    /// The packing slip for the box (PDF).
    pub packing_slip_url: String,
    pub lines: Vec<ShipmentLine>,
    pub weight_grams: i32,
    pub zone: Option<i32>,
    pub cost: Option<Amount>,
    pub currency: String,
    /// Which recommendation was bought (or `staff`).
    pub rate_pick: Option<String>,
    pub rates: Option<RateShopping>,
    pub promised_at: Option<DateTime<Utc>>,
    /// The carrier's estimate.
    pub estimated_delivery: Option<DateTime<Utc>>,
    /// Ours, from the tenant's own transit history.
    pub predicted_delivery: Option<ShipmentPrediction>,
    pub labelled_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_scan_at: Option<DateTime<Utc>>,
    pub picked_at: Option<DateTime<Utc>>,
    pub packed_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    /// Why the label asked for is not bought yet (a remote carrier's label is bought by a
    /// job): "label requested from the carrier", or the carrier's trouble and the next try.
    pub label_wait: Option<String>,
    /// The carrier's own tracking page, when it has one.
    pub tracking_url: Option<String>,
    /// The label was drawn by Orderflow for a simulated carrier: no postage was paid, and no
    /// parcel can travel on it.
    pub simulated: bool,
    #[graphql(skip)]
    pub key: (TenantId, uuid::Uuid),
    #[graphql(skip)]
    pub warehouse_key: (TenantId, WarehouseId),
    #[graphql(skip)]
    pub carrier_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub service_id: Option<uuid::Uuid>,
}

impl From<ShipmentRecord> for Shipment {
    fn from(s: ShipmentRecord) -> Self {
        Extended::new(ShipmentFields::from(s))
    }
}

impl From<ShipmentRecord> for ShipmentFields {
    fn from(s: ShipmentRecord) -> Self {
        let tenant = TenantId(s.tenant_id);
        let pieces: Vec<crate::lifecycle::shipping::repo::Piece> =
            serde_json::from_value(s.lines.clone()).unwrap_or_default();
        let labelled = s.tracking_number.is_some();
        let prediction = s.predicted_at.map(|at| {
            let p: Option<crate::lifecycle::shipping::repo::Prediction> = s
                .prediction
                .clone()
                .and_then(|p| serde_json::from_value(p).ok());
            ShipmentPrediction {
                at,
                samples: p.as_ref().map_or(0, |p| p.samples as i32),
                basis: p.map(|p| p.basis).unwrap_or_default(),
            }
        });
        Self {
            id: global_id("Shipment", s.id),
            order_id: global_id("Order", s.order_id),
            parcel_no: s.parcel_no,
            parcel_count: s.parcel_count,
            status: ShipmentStatus::parse(&s.status),
            label_url: labelled.then(|| format!("/shipments/{}/label.pdf", s.id)),
            label_zpl_url: labelled.then(|| format!("/shipments/{}/label.zpl", s.id)),
            packing_slip_url: format!("/shipments/{}/packing-slip.pdf", s.id),
            cost: cost_of(&s).map(|c| c.normalize().into()),
            tracking_number: s.tracking_number,
            lines: pieces
                .into_iter()
                .map(|p| ShipmentLine {
                    line_index: p.position,
                    sku: p.sku,
                    quantity: p.quantity,
                })
                .collect(),
            weight_grams: s.weight_grams,
            zone: s.zone,
            currency: s.currency,
            rate_pick: s.rate_pick,
            rates: s
                .rates
                .and_then(|r| serde_json::from_value::<Shopping>(r).ok())
                .map(RateShopping::from),
            promised_at: s.promised_at,
            estimated_delivery: s.estimated_at,
            predicted_delivery: prediction,
            labelled_at: s.labelled_at,
            shipped_at: s.shipped_at,
            delivered_at: s.delivered_at,
            last_scan_at: s.last_scan_at,
            picked_at: s.picked_at,
            packed_at: s.packed_at,
            voided_at: s.voided_at,
            label_wait: s.label_wait,
            tracking_url: s.tracking_url,
            simulated: labelled && s.label_ref.is_none(),
            key: (tenant, s.id),
            warehouse_key: (tenant, WarehouseId(s.warehouse_id)),
            carrier_id: s.carrier_id,
            service_id: s.service_id,
        }
    }
}

#[ComplexObject]
impl ShipmentFields {
    async fn warehouse(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Warehouse>> {
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one(self.warehouse_key)
            .await?;
        Ok(row.map(Warehouse::from))
    }

    /// The carrier's name (e.g. "UPS"), once a label is bought.
    async fn carrier(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.carrier_id else {
            return Ok(None);
        };
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one((self.key.0, CarrierOf(id)))
            .await?;
        Ok(row.map(|c| c.name))
    }

    async fn service(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.service_id else {
            return Ok(None);
        };
        let row = ctx
            .data_unchecked::<Loaders>()
            .load_one((self.key.0, ServiceOf(id)))
            .await?;
        Ok(row.map(|s| s.name))
    }
}

#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "WarehousePreferenceInput")]
pub struct WarehousePreference {
    pub country: String,
    /// The warehouse's code.
    pub warehouse: String,
}

/// The tenant's trade-off between shipping price, lateness, workload and parcels.
#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "RoutingWeightsInput")]
pub struct RoutingWeights {
    /// Per unit of shipping price.
    pub shipping: f64,
    /// Per day later than promised.
    pub late_day: f64,
    /// Per warehouse at full capacity (scaled by how full).
    pub workload: f64,
    /// Per parcel beyond the first.
    pub extra_parcel: f64,
    /// Taken off for a preferred warehouse.
    pub preferred: f64,
}

impl From<Weights> for RoutingWeights {
    fn from(w: Weights) -> Self {
        Self {
            shipping: w.shipping,
            late_day: w.late_day,
            workload: w.workload,
            extra_parcel: w.extra_parcel,
            preferred: w.preferred,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct FulfillmentSettings {
    pub routing_weights: RoutingWeights,
    pub never_split: bool,
    pub skip_at_capacity: bool,
    pub preferred_warehouses: Vec<WarehousePreference>,
    pub auto_buy_labels: bool,
    pub warehouse_workflow: bool,
    pub label_pick: RatePick,
    pub standard_promise_days: i32,
    pub express_promise_days: i32,
    pub lost_after_days: i32,
    pub wave_size: i32,
    /// Units of every SKU kept back from the sales channels' stock figure (a variant's
    /// `channelBuffer` overrides it).
    pub channel_stock_buffer: i32,
}

impl From<Settings> for FulfillmentSettings {
    fn from(s: Settings) -> Self {
        Self {
            routing_weights: s.weights.into(),
            never_split: s.rules.never_split,
            skip_at_capacity: s.rules.skip_at_capacity,
            preferred_warehouses: s
                .rules
                .prefer
                .into_iter()
                .map(|p| WarehousePreference {
                    country: p.country,
                    warehouse: p.warehouse,
                })
                .collect(),
            auto_buy_labels: s.auto_buy_labels,
            warehouse_workflow: s.warehouse_workflow,
            label_pick: s.label_pick.into(),
            standard_promise_days: s.standard_promise_days,
            express_promise_days: s.express_promise_days,
            lost_after_days: s.lost_after_days,
            wave_size: s.wave_size,
            channel_stock_buffer: s.channel_stock_buffer,
        }
    }
}

#[derive(InputObject, Default)]
pub struct UpdateFulfillmentSettingsInput {
    pub routing_weights: Option<RoutingWeights>,
    pub never_split: Option<bool>,
    pub skip_at_capacity: Option<bool>,
    pub preferred_warehouses: Option<Vec<WarehousePreference>>,
    pub auto_buy_labels: Option<bool>,
    pub warehouse_workflow: Option<bool>,
    pub label_pick: Option<RatePick>,
    pub standard_promise_days: Option<i32>,
    pub express_promise_days: Option<i32>,
    pub lost_after_days: Option<i32>,
    pub wave_size: Option<i32>,
    pub channel_stock_buffer: Option<i32>,
}

#[derive(SimpleObject)]
pub struct FulfillmentSettingsPayload {
    pub settings: Option<FulfillmentSettings>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateCarrierInput {
    /// Short code, unique per tenant (e.g. `ups`).
    pub code: String,
    pub name: String,
    pub tracking_format: TrackingNumberFormat,
    /// Shipper account or mailer id printed into tracking numbers.
    pub account: Option<String>,
    pub tracking_source: Option<TrackingSource>,
    /// The secret tracking webhooks are signed with.
    pub webhook_secret: Option<String>,
    pub zone_chart: Option<Vec<ZoneChartLine>>,
    /// SIMULATED (the default) draws labels from rate cards; EASYPOST and SHIPPO buy them.
    pub provider: Option<PostageProvider>,
    /// The provider's API key (test or production); stored sealed, never shown again.
    pub api_key: Option<String>,
    /// The provider's API address, when not its production one.
    pub api_base: Option<String>,
    pub provider_accounts: Option<Vec<String>>,
    pub label_format: Option<LabelFileFormat>,
}

#[derive(InputObject)]
pub struct UpdateCarrierInput {
    pub id: ID,
    pub code: Option<String>,
    pub name: Option<String>,
    pub tracking_format: Option<TrackingNumberFormat>,
    pub account: Option<String>,
    pub tracking_source: Option<TrackingSource>,
    pub webhook_secret: Option<String>,
    pub zone_chart: Option<Vec<ZoneChartLine>>,
    pub active: Option<bool>,
    pub provider: Option<PostageProvider>,
    pub api_key: Option<String>,
    pub api_base: Option<String>,
    pub provider_accounts: Option<Vec<String>>,
    pub label_format: Option<LabelFileFormat>,
}

#[derive(SimpleObject)]
pub struct CarrierPayload {
    pub carrier: Option<Carrier>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CreateCarrierServiceInput {
    pub carrier_id: ID,
    pub code: String,
    pub name: String,
    pub currency: String,
    pub rate_card: RateCardType,
    /// Daily hand-over cut-off, HH:MM local to the warehouse.
    pub cutoff: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateCarrierServiceInput {
    pub id: ID,
    pub code: Option<String>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub rate_card: Option<RateCardType>,
    pub cutoff: Option<String>,
    pub active: Option<bool>,
}

#[derive(SimpleObject)]
pub struct CarrierServicePayload {
    pub service: Option<CarrierService>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct BuyShippingLabelInput {
    pub shipment_id: ID,
    /// Buy this service; otherwise the recommendation of `pick` (the tenant's default).
    pub service_id: Option<ID>,
    pub pick: Option<RatePick>,
}

#[derive(InputObject)]
pub struct VoidShippingLabelInput {
    pub shipment_id: ID,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct ShipmentPayload {
    pub shipment: Option<Shipment>,
    pub order: Option<Order>,
    pub user_errors: Vec<UserError>,
}

pub(super) fn zone_chart(
    lines: Option<Vec<ZoneChartLine>>,
) -> Result<Option<Vec<ZoneRule>>, UserError> {
    lines
        .map(|c| {
            c.into_iter()
                .enumerate()
                .map(|(i, l)| {
                    Ok(ZoneRule {
                        zone: u8::try_from(l.zone).map_err(|_| {
                            UserError::at(
                                &["zoneChart", &i.to_string(), "zone"],
                                C::Invalid,
                                "must be 0 to 255",
                            )
                        })?,
                        from: l.from.trim().to_ascii_uppercase(),
                        to: l.to.trim().to_ascii_uppercase(),
                    })
                })
                .collect::<Result<Vec<_>, UserError>>()
        })
        .transpose()
}
