//! A tenant's fulfillment settings: the routing trade-off and rules, whether labels are bought
//! automatically and which recommendation is bought, whether orders go through the warehouse
//! (pick and pack) first, the delivery promise, and when a silent parcel counts as lost. A
//! tenant that never saved any gets the defaults: a small store that ships from one place.

use chrono::Utc;
use entity::fulfillment_settings;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, sea_query::OnConflict};

use serde::{Deserialize, Serialize};

use crate::domain::address::parse_country;
use crate::error::{UserError, UserErrorCode as C};
use crate::tenancy::{AnyTx, TenantTx};

/// The tenant's trade-off, in the order's currency: what one day late, a full warehouse and
/// one more parcel are worth against shipping price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Weights {
    pub shipping: f64,
    pub late_day: f64,
    pub workload: f64,
    pub extra_parcel: f64,
    pub preferred: f64,
}

impl Default for Weights {
    /// A promise is kept unless keeping it costs more than 100 a day: on the benchmark's
    /// scenario this makes no order late and still ships 12 % cheaper than the nearest
    /// warehouse would (at 15, 10 % more orders are late than with the nearest warehouse).
    fn default() -> Self {
        Self {
            shipping: 1.0,
            late_day: 100.0,
            workload: 5.0,
            extra_parcel: 4.0,
            preferred: 3.0,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preference {
    pub country: String,
    pub warehouse: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    pub never_split: bool,
    pub skip_at_capacity: bool,
    pub prefer: Vec<Preference>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    Cheapest,
    Fastest,
    BestExperience,
}

impl Pick {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_lowercase().as_str() {
            "cheapest" => Self::Cheapest,
            "fastest" => Self::Fastest,
            "best_experience" => Self::BestExperience,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cheapest => "cheapest",
            Self::Fastest => "fastest",
            Self::BestExperience => "best_experience",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FulfillmentSettings {
    pub weights: Weights,
    pub rules: Rules,
    /// Buy the recommended label as soon as the order is routed (or packed, with the
    /// warehouse workflow).
    pub auto_buy_labels: bool,
    /// Orders are picked in waves and packed with scan verification before the label.
    pub warehouse_workflow: bool,
    pub label_pick: Pick,
    /// Days from the order to the promised delivery, for standard and express shipping.
    pub standard_promise_days: i32,
    pub express_promise_days: i32,
    /// A parcel with no scan for this many days is probably lost.
    pub lost_after_days: i32,
    /// Shipments per wave.
    pub wave_size: i32,
    /// Units of every SKU kept back from the sales channels (a variant may keep its own).
    pub channel_stock_buffer: i32,
}

impl Default for FulfillmentSettings {
    fn default() -> Self {
        Self {
            weights: Weights::default(),
            rules: Rules::default(),
            auto_buy_labels: true,
            warehouse_workflow: false,
            label_pick: Pick::BestExperience,
            standard_promise_days: 5,
            express_promise_days: 2,
            lost_after_days: 5,
            wave_size: 20,
            channel_stock_buffer: 0,
        }
    }
}

impl FulfillmentSettings {
    /// Checks and normalises, naming the field at fault.
    pub fn validate(mut self) -> Result<Self, UserError> {
        let w = &self.weights;
        for (field, v) in [
            ("shipping", w.shipping),
            ("lateDay", w.late_day),
            ("workload", w.workload),
            ("extraParcel", w.extra_parcel),
            ("preferred", w.preferred),
        ] {
            if !v.is_finite() || !(0.0..=10_000.0).contains(&v) {
                return Err(UserError::at(
                    &["routingWeights", field],
                    C::Invalid,
                    "must be a number from 0 to 10000",
                ));
            }
        }
        for (i, p) in self.rules.prefer.iter_mut().enumerate() {
            let at = |f: &str| {
                vec![
                    "routingRules".to_owned(),
                    "prefer".into(),
                    i.to_string(),
                    f.into(),
                ]
            };
            p.country = parse_country(&p.country).map_err(|m| {
                let path = at("country");
                UserError::at(
                    &path.iter().map(String::as_str).collect::<Vec<_>>(),
                    C::Invalid,
                    m,
                )
            })?;
            p.warehouse = p.warehouse.trim().to_ascii_uppercase();
            if p.warehouse.is_empty() {
                let path = at("warehouse");
                return Err(UserError::at(
                    &path.iter().map(String::as_str).collect::<Vec<_>>(),
                    C::Invalid,
                    "names a warehouse by its code",
                ));
            }
        }
        for (field, v, range) in [
            ("standardPromiseDays", self.standard_promise_days, 1..=60),
            ("expressPromiseDays", self.express_promise_days, 1..=60),
            ("lostAfterDays", self.lost_after_days, 1..=60),
            ("waveSize", self.wave_size, 1..=500),
            (
                "channelStockBuffer",
                self.channel_stock_buffer,
                0..=1_000_000,
            ),
        ] {
            if !range.contains(&v) {
                return Err(UserError::on(
                    field,
                    C::Invalid,
                    format!("must be from {} to {}", range.start(), range.end()),
                ));
            }
        }
        if self.express_promise_days > self.standard_promise_days {
            return Err(UserError::on(
                "expressPromiseDays",
                C::Invalid,
                "must not be longer than standardPromiseDays",
            ));
        }
        Ok(self)
    }
}

fn from_row(r: fulfillment_settings::Model) -> FulfillmentSettings {
    let d = FulfillmentSettings::default();
    FulfillmentSettings {
        weights: serde_json::from_value(r.routing_weights).unwrap_or(d.weights),
        rules: serde_json::from_value(r.routing_rules).unwrap_or(d.rules),
        auto_buy_labels: r.auto_buy_labels,
        warehouse_workflow: r.warehouse_workflow,
        label_pick: Pick::parse(&r.label_pick).unwrap_or(d.label_pick),
        standard_promise_days: r.standard_promise_days,
        express_promise_days: r.express_promise_days,
        lost_after_days: r.lost_after_days,
        wave_size: r.wave_size,
        channel_stock_buffer: r.channel_stock_buffer,
    }
}

pub async fn load(tx: &TenantTx) -> Result<FulfillmentSettings, DbErr> {
    Ok(fulfillment_settings::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await?
        .map(from_row)
        .unwrap_or_default())
}

pub async fn save(tx: &TenantTx, s: &FulfillmentSettings) -> Result<(), DbErr> {
    use fulfillment_settings::Column as Col;
    let row = fulfillment_settings::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        routing_weights: Set(serde_json::to_value(&s.weights).unwrap_or_default()),
        routing_rules: Set(serde_json::to_value(&s.rules).unwrap_or_default()),
        auto_buy_labels: Set(s.auto_buy_labels),
        warehouse_workflow: Set(s.warehouse_workflow),
        label_pick: Set(s.label_pick.as_str().to_owned()),
        standard_promise_days: Set(s.standard_promise_days),
        express_promise_days: Set(s.express_promise_days),
        lost_after_days: Set(s.lost_after_days),
        wave_size: Set(s.wave_size),
        channel_stock_buffer: Set(s.channel_stock_buffer),
        updated_at: Set(Utc::now()),
    };
    fulfillment_settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Col::TenantId)
                .update_columns([
                    Col::RoutingWeights,
                    Col::RoutingRules,
                    Col::AutoBuyLabels,
                    Col::WarehouseWorkflow,
                    Col::LabelPick,
                    Col::StandardPromiseDays,
                    Col::ExpressPromiseDays,
                    Col::LostAfterDays,
                    Col::WaveSize,
                    Col::ChannelStockBuffer,
                    Col::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let mut bad = FulfillmentSettings::default();
        bad.weights.late_day = -1.0;
        assert_eq!(
            bad.validate().err().map(|e| e.field),
            Some(vec![
                "input".into(),
                "routingWeights".into(),
                "lateDay".into()
            ])
        );
        let mut bad = FulfillmentSettings::default();
        bad.rules.prefer = vec![Preference {
            country: "Narnia".into(),
            warehouse: "WH1".into(),
        }];
        assert_eq!(
            bad.validate().err().map(|e| e.field),
            Some(vec![
                "input".into(),
                "routingRules".into(),
                "prefer".into(),
                "0".into(),
                "country".into()
            ])
        );
        let bad = FulfillmentSettings {
            express_promise_days: 9,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let mut ok = FulfillmentSettings::default();
        ok.rules.prefer = vec![Preference {
            country: "de".into(),
            warehouse: " ber-1 ".into(),
        }];
        let ok = ok.validate().ok();
        assert_eq!(
            ok.map(|s| (
                s.rules.prefer[0].country.clone(),
                s.rules.prefer[0].warehouse.clone()
            )),
            Some(("DE".to_owned(), "BER-1".to_owned()))
        );
    }
}
