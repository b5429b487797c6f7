//! One local day of a tenant's operation in a few counters, and the KPIs of any set of days
//! derived from them. A day's rollup is what the rollup job stores; a period's KPIs add its
//! days up, so a year reads 365 small rows instead of a year of orders. Pure.
//!
//! Each measure counts on the day its measurement closes: an order on the day it was placed,
//! processing time on the day the order shipped, shipping time and punctuality on the day of
//! delivery, a refund on the day it was made, a fraud hold on the day the order was held.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::distinct::Distinct;
use super::histogram::Histogram;

/// Money of one currency over a day (minor storage units, as orders keep them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CurrencyDay {
    /// Orders placed and not cancelled.
    pub orders: u64,
    /// Their totals.
    pub revenue: i64,
    /// Refunds made that day (to the shopper's payment or as store credit).
    pub refunded: i64,
    /// Labels and payment fees booked that day, net of reversals.
    pub costs: i64,
    /// Who placed those orders.
    pub customers: Distinct,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayRollup {
    /// Orders placed (test orders excluded), cancelled ones included.
    pub orders: u64,
    pub cancelled: u64,
    pub money: BTreeMap<String, CurrencyDay>,
    pub customers: Distinct,
    /// Orders whose first parcel shipped that day, and how long each took from receipt.
    pub orders_shipped: u64,
    pub processing: Histogram,
    /// Parcels shipped that day, and of those the ones with a wrong- or missing-item report.
    pub shipments: u64,
    pub mispacked: u64,
    /// Parcels delivered that day, shipped → delivered, and punctuality against the promise.
    pub deliveries: u64,
    pub shipping: Histogram,
    pub shipping_secs: u64,
    pub promised: u64,
    pub on_time: u64,
    /// Review-request ratings (1–5) received that day; satisfied means 4 or 5.
    pub reviews: u64,
    pub rating_sum: u64,
    pub satisfied: u64,
    /// Returns requested that day (cancelled and rejected requests excluded).
    pub returns: u64,
    /// Units that left the warehouses for orders, and units on hand when the day ended.
    pub units_shipped: u64,
    pub on_hand_end: i64,
    /// Support threads opened that day, and those answered without staff.
    pub tickets: u64,
    pub auto_resolved: u64,
    /// Orders first held for fraud review that day; approvals and rejections after a review
    /// that day.
    pub fraud_holds: u64,
    pub fraud_approved: u64,
    pub fraud_rejected: u64,
    /// Orders rejected by the fraud score alone, without review.
    pub fraud_auto_rejected: u64,
    /// Channel listings found showing another stock figure than Orderflow pushed, corrected.
    pub stock_drift: u64,
}

/// Money KPIs of one currency over a period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CurrencyKpis {
    pub currency: String,
    pub orders: u64,
    pub revenue: i64,
    pub refunded: i64,
    /// Revenue less refunds.
    pub net_revenue: i64,
    pub average_order: Option<i64>,
    pub costs: i64,
    /// Labels and fees per order placed in this currency.
    pub cost_per_order: Option<i64>,
    pub customers: u64,
    pub revenue_per_customer: Option<i64>,
}

/// The KPIs of a set of days.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kpis {
    pub orders: u64,
    pub cancelled: u64,
    pub money: Vec<CurrencyKpis>,
    pub customers: u64,
    pub orders_shipped: u64,
    /// Received → shipped, seconds.
    pub processing_median: Option<f64>,
    pub processing_p90: Option<f64>,
    pub shipments: u64,
    pub accurate_shipments: u64,
    pub fulfillment_accuracy: Option<f64>,
    pub deliveries: u64,
    /// Shipped → delivered, seconds.
    pub shipping_average: Option<f64>,
    pub shipping_median: Option<f64>,
    pub promised: u64,
    pub on_time: u64,
    pub on_time_rate: Option<f64>,
    pub reviews: u64,
    pub average_rating: Option<f64>,
    /// Share of ratings that are 4 or 5.
    pub csat: Option<f64>,
    pub returns: u64,
    /// Returns requested per order shipped.
    pub return_rate: Option<f64>,
    pub units_shipped: u64,
    pub average_on_hand: Option<f64>,
    /// Units shipped over the average units on hand (for the period, not annualised).
    pub inventory_turnover: Option<f64>,
    pub tickets: u64,
    pub auto_resolved: u64,
    pub auto_resolution_rate: Option<f64>,
    pub fraud_holds: u64,
    pub fraud_approved: u64,
    pub fraud_rejected: u64,
    /// Of the period's holds, those still waiting now (read live, not from the rollups).
    pub fraud_pending: u64,
    pub fraud_auto_rejected: u64,
    pub stock_drift: u64,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn per(amount: i64, n: u64) -> Option<i64> {
    (n > 0).then(|| {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        // Rounded half away from zero, like money elsewhere.
        (2 * amount + amount.signum() * n) / (2 * n)
    })
}

/// `amount / n` in whole minor units of `currency` (cents for USD, yen for JPY).
fn per_money(amount: i64, n: u64, currency: &str) -> Option<i64> {
    let exponent = crate::domain::Currency::parse(currency).map_or(2, |c| c.exponent());
    let step = 10i64.pow(crate::domain::money::STORAGE_SCALE.saturating_sub(exponent));
    per(amount, n.checked_mul(u64::try_from(step).ok()?)?).map(|x| x * step)
}

impl Kpis {
    /// `primary` (the tenant's currency) is listed first, the others after it by code.
    pub fn of<'a>(days: impl IntoIterator<Item = &'a DayRollup>, primary: &str) -> Self {
        let mut k = Kpis::default();
        let mut money: BTreeMap<String, CurrencyDay> = BTreeMap::new();
        let mut customers = Distinct::default();
        let mut processing = Histogram::default();
        let mut shipping = Histogram::default();
        let (mut rating_sum, mut satisfied, mut on_hand_sum, mut day_count) = (0, 0, 0i64, 0u64);
        let mut shipping_secs = 0u64;
        for d in days {
            day_count += 1;
            k.orders += d.orders;
            k.cancelled += d.cancelled;
            for (cur, m) in &d.money {
                let into = money.entry(cur.clone()).or_default();
                into.orders += m.orders;
                into.revenue += m.revenue;
                into.refunded += m.refunded;
                into.costs += m.costs;
                into.customers.merge(&m.customers);
            }
            customers.merge(&d.customers);
            k.orders_shipped += d.orders_shipped;
            processing.merge(&d.processing);
            k.shipments += d.shipments;
            k.accurate_shipments += d.shipments.saturating_sub(d.mispacked);
            k.deliveries += d.deliveries;
            shipping.merge(&d.shipping);
            shipping_secs += d.shipping_secs;
            k.promised += d.promised;
            k.on_time += d.on_time;
            k.reviews += d.reviews;
            rating_sum += d.rating_sum;
            satisfied += d.satisfied;
            k.returns += d.returns;
            k.units_shipped += d.units_shipped;
            on_hand_sum += d.on_hand_end;
            k.tickets += d.tickets;
            k.auto_resolved += d.auto_resolved;
            k.fraud_holds += d.fraud_holds;
            k.fraud_approved += d.fraud_approved;
            k.fraud_rejected += d.fraud_rejected;
            k.fraud_auto_rejected += d.fraud_auto_rejected;
            k.stock_drift += d.stock_drift;
        }
        k.customers = customers.count();
        k.processing_median = processing.quantile(0.5);
        k.processing_p90 = processing.quantile(0.9);
        k.fulfillment_accuracy = ratio(k.accurate_shipments, k.shipments);
        // Over the parcels whose shipping time is known (a parcel never scanned as shipped
        // has none).
        k.shipping_average = ratio(shipping_secs, shipping.count());
        k.shipping_median = shipping.quantile(0.5);
        k.on_time_rate = ratio(k.on_time, k.promised);
        k.average_rating = ratio(rating_sum, k.reviews);
        k.csat = ratio(satisfied, k.reviews);
        k.return_rate = ratio(k.returns, k.orders_shipped);
        k.average_on_hand = (day_count > 0).then(|| on_hand_sum as f64 / day_count as f64);
        k.inventory_turnover = k
            .average_on_hand
            .filter(|avg| *avg > 0.0)
            .map(|avg| k.units_shipped as f64 / avg);
        k.auto_resolution_rate = ratio(k.auto_resolved, k.tickets);
        let mut list: Vec<CurrencyKpis> = money
            .into_iter()
            .map(|(currency, m)| {
                let buyers = m.customers.count();
                CurrencyKpis {
                    orders: m.orders,
                    revenue: m.revenue,
                    refunded: m.refunded,
                    net_revenue: m.revenue - m.refunded,
                    average_order: per_money(m.revenue, m.orders, &currency),
                    costs: m.costs,
                    cost_per_order: per_money(m.costs, m.orders, &currency),
                    customers: buyers,
                    revenue_per_customer: per_money(m.revenue, buyers, &currency),
                    currency,
                }
            })
            .collect();
        list.sort_by_key(|c| (c.currency != primary, c.currency.clone()));
        k.money = list;
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporting::distinct::hash_of;

    #[test]
    fn money_per_order_is_in_whole_minor_units() {
        assert_eq!(per_money(1_000_000, 3, "USD"), Some(333_300));
        assert_eq!(per_money(1_000_000, 3, "JPY"), Some(330_000));
        assert_eq!(per_money(1_000_000, 0, "USD"), None);
    }

    fn day(orders: u64, revenue: i64, buyers: &[&str]) -> DayRollup {
        let hashes: Vec<u64> = buyers.iter().map(|b| hash_of(b.as_bytes())).collect();
        let mut d = DayRollup {
            orders,
            customers: Distinct::from_hashes(hashes.clone()),
            ..DayRollup::default()
        };
        d.money.insert(
            "USD".into(),
            CurrencyDay {
                orders,
                revenue,
                customers: Distinct::from_hashes(hashes),
                ..CurrencyDay::default()
            },
        );
        d
    }

    #[test]
    fn a_period_adds_its_days_and_counts_each_customer_once() {
        let a = day(2, 300_000, &["ann", "bob"]);
        let mut b = day(1, 100_000, &["ann"]);
        if let Some(m) = b.money.get_mut("USD") {
            m.costs = 50_000;
        }
        b.money.insert(
            "EUR".into(),
            CurrencyDay {
                orders: 1,
                revenue: 70_000,
                ..CurrencyDay::default()
            },
        );
        let k = Kpis::of([&a, &b], "USD");
        assert_eq!(k.orders, 3);
        assert_eq!(k.customers, 2);
        let usd = &k.money[0];
        assert_eq!(usd.currency, "USD");
        assert_eq!(usd.revenue, 400_000);
        assert_eq!(usd.revenue_per_customer, Some(200_000));
        // Whole cents: 13.33 and 1.67 (storage keeps four decimals).
        assert_eq!(usd.average_order, Some(133_300));
        assert_eq!(usd.cost_per_order, Some(16_700));
        assert_eq!(k.money[1].currency, "EUR");
    }

    #[test]
    fn rates_are_none_without_a_denominator() {
        let k = Kpis::of([&DayRollup::default()], "USD");
        assert_eq!(k.fulfillment_accuracy, None);
        assert_eq!(k.on_time_rate, None);
        assert_eq!(k.csat, None);
        assert_eq!(k.return_rate, None);
        assert_eq!(k.inventory_turnover, None);
        assert_eq!(k.processing_median, None);
        assert!(k.money.is_empty());
    }

    #[test]
    fn inventory_turnover_is_units_out_over_average_on_hand() {
        let d1 = DayRollup {
            units_shipped: 10,
            on_hand_end: 90,
            ..DayRollup::default()
        };
        let d2 = DayRollup {
            units_shipped: 20,
            on_hand_end: 70,
            ..DayRollup::default()
        };
        let k = Kpis::of([&d1, &d2], "USD");
        assert_eq!(k.average_on_hand, Some(80.0));
        assert_eq!(k.inventory_turnover, Some(30.0 / 80.0));
    }

    #[test]
    fn per_rounds_half_away_from_zero() {
        assert_eq!(per(5, 2), Some(3));
        assert_eq!(per(-5, 2), Some(-3));
        assert_eq!(per(4, 3), Some(1));
        assert_eq!(per(1, 0), None);
    }
}
