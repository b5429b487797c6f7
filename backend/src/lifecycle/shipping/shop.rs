//! Rate shopping: from every service that can take a parcel, the cheapest, the fastest and the
//! best experience (the likelihood of arriving by the promised day, for what it costs). Pure.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::lifecycle::settings::fulfillment::Pick;

/// One service's offer for a parcel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateOption {
    pub carrier_id: uuid::Uuid,
    pub service_id: uuid::Uuid,
    pub carrier: String,
    pub service: String,
    pub zone: u8,
    pub price: Decimal,
    pub currency: String,
    pub billable_grams: u32,
    pub transit_days: u32,
    pub ship_on: NaiveDate,
    pub delivery_on: NaiveDate,
    /// Share of this service's parcels that arrived by their estimated day (tenant history,
    /// or the default for a new service).
    pub reliability: f64,
    /// Likelihood of arriving by the promised day.
    #[serde(default)]
    pub on_time: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub pick: Pick,
    /// Index into `Shopping::options`.
    pub option: usize,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shopping {
    /// Every service that can take the parcel, cheapest first.
    pub options: Vec<RateOption>,
    pub recommendations: Vec<Recommendation>,
    pub promised_by: Option<NaiveDate>,
    /// Services that could not take it, and why.
    pub excluded: Vec<String>,
}

impl Shopping {
    pub fn recommended(&self, pick: Pick) -> Option<&RateOption> {
        self.recommendations
            .iter()
            .find(|r| r.pick == pick)
            .and_then(|r| self.options.get(r.option))
    }
}

/// How much on-time likelihood one doubling of the price is worth: 10 points.
const PRICE_WEIGHT: f64 = 0.10;

/// The likelihood of arriving by `promised_by`: a service estimated to arrive after the promise
/// rarely makes it; each spare day shrinks the risk of the estimate slipping.
pub fn on_time_likelihood(option: &RateOption, promised_by: Option<NaiveDate>) -> f64 {
    let reliability = option.reliability.clamp(0.0, 1.0);
    let Some(promise) = promised_by else {
        return reliability;
    };
    let spare = (promise - option.delivery_on).num_days();
    if spare < 0 {
        0.05 * reliability
    } else {
        1.0 - (1.0 - reliability) / (1.0 + spare as f64)
    }
}

fn money(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::MAX)
}

pub fn shop(
    mut options: Vec<RateOption>,
    promised_by: Option<NaiveDate>,
    excluded: Vec<String>,
) -> Shopping {
    for o in &mut options {
        o.on_time = on_time_likelihood(o, promised_by);
    }
    options.sort_by(|a, b| {
        a.price
            .cmp(&b.price)
            .then(a.delivery_on.cmp(&b.delivery_on))
            .then(a.carrier.cmp(&b.carrier))
            .then(a.service.cmp(&b.service))
    });
    let mut recommendations = Vec::new();
    if !options.is_empty() {
        let cheapest = 0;
        recommendations.push(Recommendation {
            pick: Pick::Cheapest,
            option: cheapest,
            reason: format!(
                "lowest price, {} {}, arrives {}",
                options[0].price, options[0].currency, options[0].delivery_on
            ),
        });
        let fastest = (0..options.len())
            .min_by(|&a, &b| {
                options[a]
                    .delivery_on
                    .cmp(&options[b].delivery_on)
                    .then(options[a].price.cmp(&options[b].price))
            })
            .unwrap_or(0);
        recommendations.push(Recommendation {
            pick: Pick::Fastest,
            option: fastest,
            reason: format!(
                "earliest arrival, {}, for {} {}",
                options[fastest].delivery_on, options[fastest].price, options[fastest].currency
            ),
        });
        let floor = money(options[0].price).max(0.01);
        let value = |o: &RateOption| o.on_time - PRICE_WEIGHT * (money(o.price) / floor).log2();
        let best = (0..options.len())
            .max_by(|&a, &b| {
                value(&options[a])
                    .total_cmp(&value(&options[b]))
                    // On a tie the cheaper one (earlier in the list) wins.
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let b = &options[best];
        recommendations.push(Recommendation {
            pick: Pick::BestExperience,
            option: best,
            reason: format!(
                "{:.0}% likely on time{} for {} {}",
                b.on_time * 100.0,
                promised_by
                    .map(|p| format!(" (promised by {p})"))
                    .unwrap_or_default(),
                b.price,
                b.currency
            ),
        });
    }
    Shopping {
        options,
        recommendations,
        promised_by,
        excluded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn option(service: &str, price: &str, days: i64, reliability: f64) -> RateOption {
        let ship = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
        RateOption {
            carrier_id: uuid::Uuid::nil(),
            service_id: uuid::Uuid::nil(),
            carrier: "Acme".into(),
            service: service.into(),
            zone: 4,
            price: Decimal::from_str(price).unwrap_or_default(),
            currency: "USD".into(),
            billable_grams: 500,
            transit_days: days as u32,
            ship_on: ship,
            delivery_on: ship + chrono::Duration::days(days),
            reliability,
            on_time: 0.0,
        }
    }

    #[test]
    fn three_recommendations_with_reasons() {
        let promise = NaiveDate::from_ymd_opt(2026, 11, 27);
        let s = shop(
            vec![
                option("overnight", "30.00", 1, 0.97),
                option("ground", "6.00", 5, 0.90),
                option("two-day", "9.00", 2, 0.95),
            ],
            promise,
            vec![],
        );
        let name = |p| s.recommended(p).map(|o| o.service.clone());
        assert_eq!(name(Pick::Cheapest).as_deref(), Some("ground"));
        assert_eq!(name(Pick::Fastest).as_deref(), Some("overnight"));
        // Ground arrives after the promise; two-day arrives with two days to spare.
        assert_eq!(name(Pick::BestExperience).as_deref(), Some("two-day"));
        let best = s
            .recommendations
            .iter()
            .find(|r| r.pick == Pick::BestExperience);
        assert!(best.is_some_and(|r| r.reason.starts_with("98% likely on time")));
        assert_eq!(s.options[0].service, "ground");
    }

    #[test]
    fn without_a_promise_best_experience_weighs_reliability_against_price() {
        let s = shop(
            vec![
                option("ground", "6.00", 5, 0.90),
                option("premium", "60.00", 5, 0.99),
            ],
            None,
            vec![],
        );
        // Ten times the price for nine points of reliability is not worth it.
        assert_eq!(
            s.recommended(Pick::BestExperience)
                .map(|o| o.service.as_str()),
            Some("ground")
        );
    }

    #[test]
    fn likelihood_grows_with_spare_days_and_collapses_when_late() {
        let o = option("ground", "6.00", 3, 0.9);
        let day = o.delivery_on;
        assert!((on_time_likelihood(&o, Some(day)) - 0.9).abs() < 1e-9);
        assert!(
            (on_time_likelihood(&o, Some(day + chrono::Duration::days(1))) - 0.95).abs() < 1e-9
        );
        assert!(on_time_likelihood(&o, Some(day - chrono::Duration::days(1))) < 0.05);
        assert!(shop(vec![], None, vec![]).recommendations.is_empty());
    }
}
