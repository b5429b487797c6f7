//! Rate cards are entered by merchants and parcels come from their catalogs: any card the
//! checks accept prices any parcel without a panic or an overflow, and zones and days are
//! computed for any place and time.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use orderflow::lifecycle::routing::decide::{self, PACKAGING_GRAMS};
use orderflow::lifecycle::shipping::ratecard::{
    self, Bracket, NotServed, Parcel, Place, RateCard, ZoneRate, ZoneRule,
};
use orderflow::lifecycle::shipping::repo::Piece;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::config;

/// Any decimal `rust_decimal` can hold, biased towards the extremes.
fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        prop::sample::select(vec![
            Decimal::ZERO,
            Decimal::ONE,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(1, 28),
            Decimal::new(1_000_000_000_000, 0),
        ]),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            0u32..=28
        )
            .prop_map(|(lo, mid, hi, negative, scale)| Decimal::from_parts(
                lo, mid, hi, negative, scale
            )),
        (0i64..100_000_000, 0u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
    ]
}

fn grams() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), 0u32..100_000, Just(u32::MAX)]
}

fn card() -> impl Strategy<Value = RateCard> {
    let zone = (
        0u8..10,
        prop_oneof![0u32..=60, any::<u32>()],
        prop::collection::vec((grams(), decimal()), 0..5),
        prop::option::of(decimal()),
        prop::bool::weighted(0.75),
    )
        .prop_map(|(zone, transit_days, mut brackets, extra_per_kg, sorted)| {
            // Mostly growing brackets, as the checks want; sometimes not.
            if sorted {
                brackets.sort_by_key(|(g, _)| *g);
                brackets.dedup_by_key(|(g, _)| *g);
            }
            ZoneRate {
                zone,
                transit_days,
                brackets: brackets
                    .into_iter()
                    .map(|(up_to_grams, price)| Bracket { up_to_grams, price })
                    .collect(),
                extra_per_kg,
            }
        });
    (
        prop::option::of(prop_oneof![Just(0u32), Just(5000), any::<u32>()]),
        prop::option::of(grams()),
        prop::collection::vec(zone, 0..4),
    )
        .prop_map(|(dim_divisor, max_weight_grams, zones)| RateCard {
            dim_divisor,
            max_weight_grams,
            zones,
        })
}

/// A card the checks accept: distinct zones, growing brackets, prices not negative.
fn valid_card() -> impl Strategy<Value = RateCard> {
    let zone = (
        0u32..=60,
        prop::collection::vec(
            (prop_oneof![1u32..100_000, 1u32..=u32::MAX], decimal()),
            1..5,
        ),
        prop::option::of(decimal()),
    );
    (
        prop::option::of(prop_oneof![Just(0u32), Just(5000), any::<u32>()]),
        prop::option::of(grams()),
        prop::collection::vec(zone, 1..4),
    )
        .prop_map(|(dim_divisor, max_weight_grams, zones)| RateCard {
            dim_divisor,
            max_weight_grams,
            zones: zones
                .into_iter()
                .zip((0u8..).step_by(3))
                .map(|((transit_days, mut brackets, extra), zone)| {
                    brackets.sort_by_key(|(g, _)| *g);
                    brackets.dedup_by_key(|(g, _)| *g);
                    ZoneRate {
                        zone,
                        transit_days,
                        brackets: brackets
                            .into_iter()
                            .map(|(up_to_grams, price)| Bracket {
                                up_to_grams,
                                price: price.abs().min(ratecard::MAX_RATE),
                            })
                            .collect(),
                        extra_per_kg: extra.map(|p| p.abs().min(ratecard::MAX_RATE)),
                    }
                })
                .collect(),
        })
}

fn parcel() -> impl Strategy<Value = Parcel> {
    (
        grams(),
        prop_oneof![any::<u64>(), 0u64..10_000_000, Just(u64::MAX)],
    )
        .prop_map(|(weight_grams, volume_cm3)| Parcel {
            weight_grams,
            volume_cm3,
        })
}

fn place() -> impl Strategy<Value = Place> {
    (
        prop::sample::select(vec!["US", "CA", "DE", "", "ÜS"]),
        prop::option::of(prop::sample::select(vec!["CA", "NY", "NV", "", "-"])),
        prop::option::of(prop_oneof!["[0-9]{3,5}", "\\PC{0,6}"]),
    )
        .prop_map(|(country, region, postal_code)| Place {
            country: country.to_owned(),
            region: region.map(str::to_owned),
            postal_code,
        })
}

fn chart() -> impl Strategy<Value = Vec<ZoneRule>> {
    let side = prop_oneof![
        prop::sample::select(vec!["*", "US", "US-CA", "us-ny", "DE", "-", "US-"])
            .prop_map(str::to_owned),
        "\\PC{0,6}",
    ];
    prop::collection::vec(
        (side.clone(), side, any::<u8>()).prop_map(|(from, to, zone)| ZoneRule { from, to, zone }),
        0..5,
    )
}

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_cutoff_text_is_a_time_or_nothing(raw in "\\PC{0,8}") {
        if let Some(t) = ratecard::parse_cutoff(&raw) {
            prop_assert_eq!(ratecard::parse_cutoff(&t.format("%H:%M").to_string()), Some(t));
        }
    }

    #[test]
    fn every_time_of_day_is_a_cutoff(h in 0u32..24, m in 0u32..60) {
        prop_assert_eq!(ratecard::parse_cutoff(&format!(" {h:02}:{m:02} ")), NaiveTime::from_hms_opt(h, m, 0));
    }

    #[test]
    fn any_route_has_a_zone(chart in chart(), from in place(), to in place()) {
        let z = ratecard::zone(&chart, &from, &to);
        if z.basis.starts_with("zone chart") {
            prop_assert!(chart.iter().any(|r| r.zone == z.zone));
        } else {
            prop_assert!((2..=ratecard::INTERNATIONAL_ZONE).contains(&z.zone), "{z:?}");
        }
        if chart.is_empty() && from.country != to.country {
            prop_assert_eq!(z.zone, ratecard::INTERNATIONAL_ZONE);
        }
    }

    #[test]
    fn billable_weight_is_at_least_the_actual_weight(card in card(), parcel in parcel()) {
        let (grams, dimensional) = ratecard::billable_grams(&card, parcel);
        prop_assert!(grams >= parcel.weight_grams);
        prop_assert_eq!(dimensional, grams > parcel.weight_grams);
    }

    #[test]
    fn a_card_dearer_than_the_bound_is_refused_by_its_field(card in valid_card(), price in decimal()) {
        let mut card = card;
        card.zones[0].brackets[0].price = price;
        let too_dear = price.is_sign_negative() || price > ratecard::MAX_RATE;
        let checked = ratecard::validate(&card);
        prop_assert_eq!(checked.is_err(), too_dear, "{:?}", checked);
        if let Err((field, _)) = checked {
            prop_assert_eq!(field, "zones.0.brackets.0.price");
        }
    }

    #[test]
    fn any_card_the_checks_accept_prices_any_parcel(card in valid_card(), parcel in parcel(), zone in 0u8..10) {
        prop_assert_eq!(ratecard::validate(&card), Ok(()));
        let (grams, _) = ratecard::billable_grams(&card, parcel);
        match ratecard::price(&card, zone, parcel) {
            Ok(priced) => {
                prop_assert_eq!(priced.billable_grams, grams);
                prop_assert!(!priced.price.is_sign_negative() || priced.price.is_zero());
                prop_assert!(card.max_weight_grams.is_none_or(|max| grams <= max));
            }
            Err(NotServed::Zone(z)) => {
                prop_assert_eq!(z, zone);
                prop_assert!(card.zones.iter().all(|r| r.zone != zone));
            }
            Err(NotServed::TooHeavy { grams: g, .. }) => prop_assert_eq!(g, grams),
        }
    }

    #[test]
    fn any_card_is_accepted_or_refused_with_its_field(card in card()) {
        if let Err((field, message)) = ratecard::validate(&card) {
            prop_assert!(field.starts_with("zones") && !message.is_empty(), "{field}: {message}");
        }
    }

    #[test]
    fn parcels_leave_on_a_weekday_and_arrive_on_one_after_their_transit_days(
        secs in 0i64..7_258_118_400,
        tz in prop::sample::select(vec!["UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu"]),
        cutoff in prop::option::of((0u32..24, 0u32..60)),
        transit in 0u32..=60,
    ) {
        let now = DateTime::from_timestamp(secs, 0).unwrap();
        let tz: Tz = tz.parse().unwrap();
        let cutoff = cutoff.and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0));
        let ship = ratecard::ship_day(now, tz, cutoff);
        let today = now.with_timezone(&tz).date_naive();
        prop_assert!(is_weekday(ship) && ship >= today && (ship - today).num_days() <= 3);
        let arrives = ratecard::delivery_day(ship, transit);
        let business_days = ship.iter_days().skip(1).take_while(|d| *d <= arrives).filter(|d| is_weekday(*d)).count();
        prop_assert_eq!(business_days, transit as usize);
        prop_assert!(is_weekday(arrives));
    }

    #[test]
    fn a_parcel_of_any_lines_weighs_at_least_its_box(
        lines in prop::collection::vec(
            (
                prop::option::of(prop_oneof![any::<u32>(), 0u32..5_000]),
                // Volumes as the router computes them: mm³ of three i32 dimensions, over 1000.
                prop_oneof![0u64..1_000_000, 0u64..=u64::MAX / 1000],
                // Quantities as the mappers let them through.
                prop_oneof![1i64..10, -1_000_000_000_000i64..=1_000_000_000_000],
            ),
            1..4,
        ),
    ) {
        let route: Vec<decide::Line> = lines.iter().enumerate().map(|(i, (unit_grams, unit_cm3, quantity))| decide::Line {
            position: i as i32,
            variant: uuid::Uuid::nil(),
            sku: format!("SKU-{i}"),
            quantity: *quantity,
            unit_grams: *unit_grams,
            unit_cm3: *unit_cm3,
        }).collect();
        let pieces: Vec<Piece> = route.iter().map(|l| Piece { position: l.position, sku: l.sku.clone(), quantity: l.quantity }).collect();
        let parcel = decide::parcel_of(&route, &pieces);
        prop_assert!(parcel.weight_grams >= PACKAGING_GRAMS);
    }
}
