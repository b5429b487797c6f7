//! Rate cards: what a carrier service charges and how long it takes, by zone and weight, and
//! the day a parcel handed over now would arrive. Pure.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a parcel starts or ends, as far as zones care.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub country: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
}

impl Place {
    pub fn from_address(value: &serde_json::Value) -> Option<Self> {
        let text = |k: &str| {
            value
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            country: text("country")?.to_ascii_uppercase(),
            region: text("region").map(|r| r.to_ascii_uppercase()),
            postal_code: text("postalCode"),
        })
    }

    /// `US-CA` when the region is known, else `US`.
    pub fn label(&self) -> String {
        match &self.region {
            Some(r) => format!("{}-{r}", self.country),
            None => self.country.clone(),
        }
    }
}

/// A line of a carrier's zone chart: parcels from `from` to `to` are in `zone`. Each side is
/// `*`, a country (`US`) or a country and region (`US-CA`); the most specific line wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneRule {
    pub from: String,
    pub to: String,
    pub zone: u8,
}

/// The zone of a route and how it was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Zone {
    pub zone: u8,
    pub basis: String,
}

/// Zones used when no chart line matches: within a region 2, within a country by postal
/// code distance (3–8, the way USPS zones grow with distance), another country 9.
pub const INTERNATIONAL_ZONE: u8 = 9;

fn specificity(pattern: &str, place: &Place) -> Option<u8> {
    let pattern = pattern.trim().to_ascii_uppercase();
    if pattern == "*" {
        return Some(0);
    }
    match pattern.split_once('-') {
        Some((country, region)) => {
            (country == place.country && place.region.as_deref() == Some(region)).then_some(2)
        }
        None => (pattern == place.country).then_some(1),
    }
}

pub fn zone(chart: &[ZoneRule], from: &Place, to: &Place) -> Zone {
    let best = chart
        .iter()
        .filter_map(|r| Some((specificity(&r.from, from)? + specificity(&r.to, to)?, r)))
        .max_by_key(|(s, _)| *s);
    if let Some((_, rule)) = best {
        return Zone {
            zone: rule.zone,
            basis: format!("zone chart: {} → {}", rule.from, rule.to),
        };
    }
    if from.country != to.country {
        return Zone {
            zone: INTERNATIONAL_ZONE,
            basis: format!("international {} → {}", from.country, to.country),
        };
    }
    if from.region.is_some() && from.region == to.region {
        return Zone {
            zone: 2,
            basis: format!("within {}", to.label()),
        };
    }
    let prefix = |p: &Place| -> Option<u32> {
        let digits: String = p.postal_code.as_deref()?.chars().take(3).collect();
        (digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
    };
    match (prefix(from), prefix(to)) {
        (Some(a), Some(b)) => Zone {
            zone: 3 + (a.abs_diff(b) / 150).min(5) as u8,
            basis: format!("postal code distance {a:03} → {b:03}"),
        },
        _ => Zone {
            zone: 5,
            basis: format!("within {}", to.country),
        },
    }
}

/// Prices of one zone: the first bracket the billable weight fits in, then `extraPerKg` for
/// each started kilogram beyond the last bracket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneRate {
    pub zone: u8,
    pub transit_days: u32,
    pub brackets: Vec<Bracket>,
    #[serde(default)]
    pub extra_per_kg: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bracket {
    pub up_to_grams: u32,
    pub price: Decimal,
}

/// A carrier service's prices and transit times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateCard {
    /// cm³ per kg for dimensional weight (5000 is common); none bills actual weight only.
    #[serde(default)]
    pub dim_divisor: Option<u32>,
    #[serde(default)]
    pub max_weight_grams: Option<u32>,
    pub zones: Vec<ZoneRate>,
}

/// A parcel as the rate card sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Parcel {
    pub weight_grams: u32,
    pub volume_cm3: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Priced {
    pub price: Decimal,
    pub billable_grams: u32,
    pub transit_days: u32,
    /// Whether dimensional weight set the price.
    pub dimensional: bool,
}

/// Why a service cannot take a parcel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotServed {
    Zone(u8),
    TooHeavy { grams: u32, max: u32 },
}

impl std::fmt::Display for NotServed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Zone(z) => write!(f, "does not serve zone {z}"),
            Self::TooHeavy { grams, max } => {
                write!(f, "takes at most {max} g; the parcel bills {grams} g")
            }
        }
    }
}

pub fn billable_grams(card: &RateCard, parcel: Parcel) -> (u32, bool) {
    let dim = card
        .dim_divisor
        .filter(|d| *d > 0)
        .map(|d| {
            (parcel.volume_cm3.saturating_mul(1000) / u64::from(d)).min(u64::from(u32::MAX)) as u32
        })
        .unwrap_or(0);
    if dim > parcel.weight_grams {
        (dim, true)
    } else {
        (parcel.weight_grams, false)
    }
}

pub fn price(card: &RateCard, zone: u8, parcel: Parcel) -> Result<Priced, NotServed> {
    let rates = card
        .zones
        .iter()
        .find(|z| z.zone == zone)
        .ok_or(NotServed::Zone(zone))?;
    let (grams, dimensional) = billable_grams(card, parcel);
    if let Some(max) = card.max_weight_grams
        && grams > max
    {
        return Err(NotServed::TooHeavy { grams, max });
    }
    let price = match rates.brackets.iter().find(|b| grams <= b.up_to_grams) {
        Some(b) => b.price,
        None => {
            let last = rates.brackets.last().ok_or(NotServed::Zone(zone))?;
            let per_kg = rates.extra_per_kg.ok_or(NotServed::TooHeavy {
                grams,
                max: last.up_to_grams,
            })?;
            let kilos = (grams - last.up_to_grams).div_ceil(1000);
            per_kg
                .checked_mul(Decimal::from(kilos))
                .and_then(|extra| last.price.checked_add(extra))
                .ok_or(NotServed::TooHeavy {
                    grams,
                    max: last.up_to_grams,
                })?
        }
    };
    Ok(Priced {
        price,
        billable_grams: grams,
        transit_days: rates.transit_days,
        dimensional,
    })
}

/// The dearest price a rate card may hold (a bracket, or a kilogram over the last one).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// A card that cannot price anything sensibly, with the field at fault.
pub fn validate(card: &RateCard) -> Result<(), (String, String)> {
    if card.zones.is_empty() {
        return Err(("zones".into(), "a rate card needs at least one zone".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, z) in card.zones.iter().enumerate() {
        let at = |f: &str| format!("zones.{i}.{f}");
        if !seen.insert(z.zone) {
            return Err((at("zone"), format!("zone {} appears twice", z.zone)));
        }
        if z.brackets.is_empty() {
            return Err((
                at("brackets"),
                "each zone needs at least one weight bracket".into(),
            ));
        }
        if z.transit_days > 60 {
            return Err((at("transitDays"), "transit days must be at most 60".into()));
        }
        let mut last = 0;
        for (j, b) in z.brackets.iter().enumerate() {
            if b.up_to_grams <= last {
                return Err((
                    format!("zones.{i}.brackets.{j}.upToGrams"),
                    "weight brackets must grow".into(),
                ));
            }
            if b.price.is_sign_negative() || b.price > MAX_RATE {
                return Err((
                    format!("zones.{i}.brackets.{j}.price"),
                    format!("a price is between 0 and {MAX_RATE}"),
                ));
            }
            last = b.up_to_grams;
        }
        if z.extra_per_kg
            .is_some_and(|p| p.is_sign_negative() || p > MAX_RATE)
        {
            return Err((
                at("extraPerKg"),
                format!("a price is between 0 and {MAX_RATE}"),
            ));
        }
    }
    Ok(())
}

/// Parses a daily cut-off written `HH:MM`.
pub fn parse_cutoff(raw: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok()
}

fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_business_day(mut d: NaiveDate) -> NaiveDate {
    loop {
        d += Duration::days(1);
        if is_business_day(d) {
            return d;
        }
    }
}

/// The day a parcel handed over at `now` leaves the warehouse: today when it is a weekday
/// before the cut-off (local to the warehouse), else the next weekday.
pub fn ship_day(now: DateTime<Utc>, tz: Tz, cutoff: Option<NaiveTime>) -> NaiveDate {
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let before_cutoff = cutoff.is_none_or(|c| local.time() < c);
    if is_business_day(today) && before_cutoff {
        today
    } else {
        next_business_day(today)
    }
}

/// The day a parcel that left on `ship` arrives after `transit_days` business days.
pub fn delivery_day(ship: NaiveDate, transit_days: u32) -> NaiveDate {
    (0..transit_days).fold(ship, |d, _| next_business_day(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    fn place(country: &str, region: Option<&str>, postal: Option<&str>) -> Place {
        Place {
            country: country.into(),
            region: region.map(Into::into),
            postal_code: postal.map(Into::into),
        }
    }

    fn card() -> RateCard {
        RateCard {
            dim_divisor: Some(5000),
            max_weight_grams: Some(30_000),
            zones: vec![ZoneRate {
                zone: 2,
                transit_days: 2,
                brackets: vec![
                    Bracket {
                        up_to_grams: 500,
                        price: d("5.00"),
                    },
                    Bracket {
                        up_to_grams: 2000,
                        price: d("8.50"),
                    },
                ],
                extra_per_kg: Some(d("1.25")),
            }],
        }
    }

    #[test]
    fn zones_follow_the_chart_then_distance() {
        let sf = place("US", Some("CA"), Some("94105"));
        let la = place("US", Some("CA"), Some("90012"));
        let ny = place("US", Some("NY"), Some("10001"));
        let reno = place("US", Some("NV"), Some("89501"));
        let berlin = place("DE", None, Some("10115"));
        assert_eq!(zone(&[], &sf, &la).zone, 2);
        assert_eq!(zone(&[], &sf, &ny).zone, 8);
        assert_eq!(zone(&[], &sf, &reno).zone, 3);
        assert_eq!(zone(&[], &sf, &berlin).zone, INTERNATIONAL_ZONE);
        let chart = vec![
            ZoneRule {
                from: "US".into(),
                to: "*".into(),
                zone: 7,
            },
            ZoneRule {
                from: "US-CA".into(),
                to: "US-NV".into(),
                zone: 1,
            },
        ];
        let z = zone(&chart, &sf, &reno);
        assert_eq!((z.zone, z.basis.as_str()), (1, "zone chart: US-CA → US-NV"));
        assert_eq!(zone(&chart, &sf, &berlin).zone, 7);
    }

    #[test]
    fn prices_by_bracket_then_per_kilogram_and_dimensional_weight() {
        let c = card();
        let small = Parcel {
            weight_grams: 400,
            volume_cm3: 1000,
        };
        assert_eq!(price(&c, 2, small).map(|p| p.price), Ok(d("5.00")));
        // 3.2 kg: last bracket 2 kg plus two started kilograms.
        let heavy = Parcel {
            weight_grams: 3200,
            volume_cm3: 1000,
        };
        assert_eq!(price(&c, 2, heavy).map(|p| p.price), Ok(d("11.00")));
        // Light but bulky: 20 000 cm³ / 5000 = 4 kg billed.
        let bulky = Parcel {
            weight_grams: 300,
            volume_cm3: 20_000,
        };
        let p = price(&c, 2, bulky);
        assert_eq!(
            p.as_ref()
                .map(|p| (p.billable_grams, p.dimensional, p.price)),
            Ok((4000, true, d("11.00")))
        );
        assert_eq!(price(&c, 5, small), Err(NotServed::Zone(5)));
        let too_heavy = Parcel {
            weight_grams: 31_000,
            volume_cm3: 0,
        };
        assert!(matches!(
            price(&c, 2, too_heavy),
            Err(NotServed::TooHeavy { .. })
        ));
    }

    #[test]
    fn invalid_cards_name_the_field() {
        let mut c = card();
        assert_eq!(validate(&c), Ok(()));
        c.zones[0].brackets[1].up_to_grams = 100;
        assert_eq!(
            validate(&c).map_err(|e| e.0),
            Err("zones.0.brackets.1.upToGrams".to_owned())
        );
    }

    #[test]
    fn cutoff_and_weekends_move_the_ship_day() {
        let tz: Tz = "America/Los_Angeles".parse().unwrap_or(Tz::UTC);
        let cutoff = parse_cutoff("15:00");
        // Wednesday 2026-11-25 14:00 in Los Angeles is 22:00 UTC.
        let wed_before = DateTime::parse_from_rfc3339("2026-11-25T22:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let wed = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default();
        assert_eq!(ship_day(wed_before, tz, cutoff), wed);
        let wed_after = wed_before + Duration::hours(2);
        assert_eq!(ship_day(wed_after, tz, cutoff), wed + Duration::days(1));
        // Friday after the cut-off ships Monday; two transit days land on Wednesday.
        let fri_after = wed_after + Duration::days(2);
        let monday = wed + Duration::days(5);
        assert_eq!(ship_day(fri_after, tz, cutoff), monday);
        assert_eq!(delivery_day(monday, 2), monday + Duration::days(2));
        assert_eq!(delivery_day(wed, 3), monday);
    }
}
