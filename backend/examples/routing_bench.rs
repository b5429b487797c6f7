//! Routing benchmark: decisions per second, and the shipping cost and lateness of the routing
//! optimiser against the nearest-warehouse baseline, on a generated scenario — 5 US
//! warehouses, 400 SKUs each stocked at some of them, 10,000 orders of 1–6 lines to addresses
//! across the country, rated by a ground and an express service on the built-in rate-card
//! carrier. Pure: no database, so the figures are the decision's own cost.
//!
//! `cargo run --release -p orderflow --example routing_bench [-- --orders 10000 --seed 7]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use orderflow::lifecycle::routing::decide::{self, Facts, Line, Site};
use orderflow::lifecycle::routing::service::BookQuoter;
use orderflow::lifecycle::settings::fulfillment::{Rules, Weights};
use orderflow::lifecycle::shipping::carrier::{Origin, RatingBook};
use orderflow::lifecycle::shipping::ratecard::Place;

const WAREHOUSES: [(&str, &str, &str, &str); 5] = [
    ("NJ", "NJ", "07001", "America/New_York"),
    ("GA", "GA", "30301", "America/New_York"),
    ("TX", "TX", "75201", "America/Chicago"),
    ("IL", "IL", "60601", "America/Chicago"),
    ("CA", "CA", "90001", "America/Los_Angeles"),
];

/// (region, zip3) of destinations, spread over the country.
const DESTINATIONS: [(&str, &str); 16] = [
    ("NY", "100"),
    ("MA", "021"),
    ("PA", "191"),
    ("FL", "331"),
    ("NC", "282"),
    ("OH", "441"),
    ("MI", "482"),
    ("MN", "554"),
    ("MO", "631"),
    ("CO", "802"),
    ("AZ", "850"),
    ("NV", "891"),
    ("WA", "981"),
    ("OR", "972"),
    ("CA", "941"),
    ("TX", "770"),
];

fn card(express: bool) -> serde_json::Value {
    let zones: Vec<_> = (1..=8)
        .map(|z: i32| {
            if express {
                json!({ "zone": z, "transitDays": 1, "brackets": [{ "upToGrams": 5000, "price": format!("{}.00", 20 + 2 * z) }], "extraPerKg": "3.00" })
            } else {
                json!({ "zone": z, "transitDays": 1 + z / 2, "extraPerKg": "1.00", "brackets": [
                    { "upToGrams": 1000, "price": format!("{}.00", 5 + z) },
                    { "upToGrams": 5000, "price": format!("{:.2}", 8.0 + 1.5 * f64::from(z)) }
                ] })
            }
        })
        .collect();
    json!({ "dimDivisor": 5000, "zones": zones })
}

fn book() -> RatingBook {
    let now = Utc::now();
    let tenant = uuid::Uuid::nil();
    let carrier_id = uuid::Uuid::from_u128(1);
    let carrier = entity::carriers::Model {
        tenant_id: tenant,
        id: carrier_id,
        code: "bench".into(),
        name: "Bench Parcel".into(),
        tracking_format: "orderflow".into(),
        account: String::new(),
        tracking_source: "orderflow".into(),
        webhook_secret: None,
        zone_chart: json!([]),
        next_serial: 0,
        active: true,
        provider: "simulated".into(),
        api_key: None,
        api_base: None,
        provider_accounts: None,
        label_format: "pdf".into(),
        created_at: now,
        updated_at: now,
    };
    let services = [("ground", false), ("express", true)]
        .iter()
        .enumerate()
        .map(|(i, (code, express))| entity::carrier_services::Model {
            tenant_id: tenant,
            id: uuid::Uuid::from_u128(10 + i as u128),
            carrier_id,
            code: (*code).into(),
            name: (*code).into(),
            currency: "USD".into(),
            rate_card: card(*express),
            cutoff: Some("16:00".into()),
            delivered_count: 0,
            on_time_count: 0,
            active: true,
            remote_code: None,
            created_at: now,
            updated_at: now,
        })
        .collect();
    RatingBook::from_rows(vec![carrier], services)
}

#[derive(Default)]
struct Tally {
    price: f64,
    parcels: usize,
    late_orders: usize,
    late_days: i64,
}

impl Tally {
    fn add(&mut self, plan: &decide::Plan) {
        self.price += plan.shipping_price;
        self.parcels += plan.parcels.len();
        let late: i64 = plan.parcels.iter().map(|p| p.days_late).max().unwrap_or(0);
        if late > 0 {
            self.late_orders += 1;
            self.late_days += late;
        }
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let orders = arg("--orders", 10_000) as usize;
    let mut rng = StdRng::seed_from_u64(arg("--seed", 7));
    let book = book();
    // A Tuesday morning, so cut-offs and weekends affect only transit.
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 14, 0, 0).unwrap();
    let skus = 400;
    let variants: Vec<uuid::Uuid> = (0..skus).map(|i| uuid::Uuid::from_u128(1000 + i)).collect();
    let weights: Vec<u32> = (0..skus).map(|_| rng.random_range(100..3000)).collect();
    let mut sites = Vec::new();
    let mut origins = HashMap::new();
    for (i, (code, region, zip, tz)) in WAREHOUSES.iter().enumerate() {
        let id = uuid::Uuid::from_u128(100 + i as u128);
        let place = Place {
            country: "US".into(),
            region: Some((*region).into()),
            postal_code: Some((*zip).into()),
        };
        origins.insert(
            id,
            Origin {
                place: place.clone(),
                timezone: tz.parse().unwrap(),
            },
        );
        // Each SKU is stocked at a warehouse with probability 0.6, 0–40 units.
        let mut stock = HashMap::new();
        for v in &variants {
            if rng.random_bool(0.6) {
                stock.insert(*v, rng.random_range(0..40));
            }
        }
        sites.push(Site {
            id,
            code: (*code).into(),
            place,
            capacity: 2000,
            workload: rng.random_range(100..1800),
            stock,
        });
    }
    let mut scenario = Vec::with_capacity(orders);
    for _ in 0..orders {
        let (region, zip3) = DESTINATIONS[rng.random_range(0..DESTINATIONS.len())];
        let to = Place {
            country: "US".into(),
            region: Some(region.into()),
            postal_code: Some(format!("{zip3}{:02}", rng.random_range(0..100))),
        };
        let n = rng.random_range(1..=6);
        let lines: Vec<Line> = (0..n)
            .map(|p| {
                let v = rng.random_range(0..skus as usize);
                Line {
                    position: p,
                    variant: variants[v],
                    sku: format!("SKU-{v}"),
                    quantity: rng.random_range(1..=3),
                    unit_grams: Some(weights[v]),
                    unit_cm3: u64::from(weights[v]) * 2,
                }
            })
            .collect();
        // One order in five is express: promised in two days; the rest in five.
        let days = if rng.random_bool(0.2) { 2 } else { 5 };
        scenario.push((to, lines, (now + Duration::days(days)).date_naive()));
    }
    let rules = Rules::default();
    // Lateness weighed lightly, moderately, and as by default (100 a day).
    for late_day in [15.0, 40.0, Weights::default().late_day] {
        let weights = Weights {
            late_day,
            ..Weights::default()
        };
        run(&scenario, &sites, &origins, &book, now, &weights, &rules);
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    scenario: &[(Place, Vec<Line>, chrono::NaiveDate)],
    sites: &[Site],
    origins: &HashMap<uuid::Uuid, Origin>,
    book: &RatingBook,
    now: chrono::DateTime<Utc>,
    weights: &Weights,
    rules: &Rules,
) {
    let orders = scenario.len();
    let mut ours = Tally::default();
    let mut nearest = Tally::default();
    let mut unroutable = 0;
    let mut exact = 0;
    let mut evaluated = 0;
    let mut decide_time = std::time::Duration::ZERO;
    let mut slowest = std::time::Duration::ZERO;
    for (to, lines, promise) in scenario {
        let quoter = BookQuoter::new(book, origins.clone(), to, now);
        let facts = Facts {
            lines,
            sites,
            destination: to,
            promised_by: Some(*promise),
            weights,
            rules,
        };
        let started = Instant::now();
        let decision = decide::decide(&facts, &quoter);
        let took = started.elapsed();
        decide_time += took;
        slowest = slowest.max(took);
        let (Ok(d), Ok(base)) = (decision, decide::nearest(&facts, &quoter)) else {
            unroutable += 1;
            continue;
        };
        if d.method == "exact" {
            exact += 1;
        }
        evaluated += d.evaluated;
        ours.add(&d.chosen);
        nearest.add(&base);
    }
    let routed = orders - unroutable;
    let per_sec = routed as f64 / decide_time.as_secs_f64();
    println!("\n== late-day weight {} ==", weights.late_day);
    println!("orders {orders}, routed {routed} (unroutable: {unroutable}, stock short everywhere)");
    println!(
        "decisions: {per_sec:.0}/s on one core ({:.1} µs mean, {:.1} ms slowest); exact search {exact}, heuristic {}; {:.1} plans scored per order",
        decide_time.as_secs_f64() * 1e6 / routed as f64,
        slowest.as_secs_f64() * 1e3,
        routed - exact,
        evaluated as f64 / routed as f64
    );
    println!("                 shipping      parcels   late orders   days late");
    for (name, t) in [("nearest", &nearest), ("optimiser", &ours)] {
        println!(
            "{name:<12} {:>12.2} {:>12} {:>13} {:>11}",
            t.price, t.parcels, t.late_orders, t.late_days
        );
    }
    println!(
        "saving: shipping {:.1}%, parcels {:.1}%, late orders {:.1}%",
        100.0 * (nearest.price - ours.price) / nearest.price,
        100.0 * (nearest.parcels as f64 - ours.parcels as f64) / nearest.parcels as f64,
        100.0 * (nearest.late_orders as f64 - ours.late_orders as f64)
            / nearest.late_orders.max(1) as f64,
    );
}
