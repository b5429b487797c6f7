//! Picking, pure: which parcels go into a wave (urgent first), and the walk through the
//! warehouse — aisle by aisle, up one aisle and down the next (serpentine), so a picker never
//! walks an aisle twice.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A bin location split into its parts: `A-03-2` is aisle A, bay 3, level 2. Letters and
/// numbers compare naturally (`A-10` after `A-9`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bin {
    pub aisle: Part,
    pub rest: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Number(u64),
    Text(String),
}

fn parts(raw: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    let flush = |current: &mut String, digits: bool, out: &mut Vec<Part>| {
        if !current.is_empty() {
            out.push(if digits {
                Part::Number(current.parse().unwrap_or(u64::MAX))
            } else {
                Part::Text(current.to_ascii_uppercase())
            });
            current.clear();
        }
    };
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            let d = c.is_ascii_digit();
            if !current.is_empty() && d != digits {
                flush(&mut current, digits, &mut out);
            }
            digits = d;
            current.push(c);
        } else {
            flush(&mut current, digits, &mut out);
        }
    }
    flush(&mut current, digits, &mut out);
    out
}

pub fn parse_bin(raw: &str) -> Option<Bin> {
    let mut p = parts(raw);
    if p.is_empty() {
        return None;
    }
    let aisle = p.remove(0);
    Some(Bin { aisle, rest: p })
}

/// One line to pick for one parcel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Need {
    pub shipment: uuid::Uuid,
    pub order: uuid::Uuid,
    pub variant: Option<uuid::Uuid>,
    pub sku: String,
    pub quantity: i64,
    pub bin: Option<String>,
}

/// The walk: needs in the order a picker meets their bins. Aisles in order; within every
/// second aisle the bays run backwards; needs without a bin come last, by SKU. At one bin the
/// needs keep their given order (urgent parcels first).
pub fn walk(mut needs: Vec<Need>) -> Vec<Need> {
    let mut aisles: Vec<Part> = needs
        .iter()
        .filter_map(|n| n.bin.as_deref().and_then(parse_bin).map(|b| b.aisle))
        .collect();
    aisles.sort();
    aisles.dedup();
    let rank = |n: &Need| -> (usize, Vec<Part>, bool) {
        match n.bin.as_deref().and_then(parse_bin) {
            Some(b) => {
                let i = aisles
                    .iter()
                    .position(|a| *a == b.aisle)
                    .unwrap_or(usize::MAX);
                (i, b.rest, i % 2 == 1)
            }
            None => (usize::MAX, vec![Part::Text(n.sku.clone())], false),
        }
    };
    needs.sort_by(|a, b| {
        let (ai, ar, a_back) = rank(a);
        let (bi, br, _) = rank(b);
        ai.cmp(&bi)
            .then_with(|| if a_back { br.cmp(&ar) } else { ar.cmp(&br) })
            .then_with(|| a.sku.cmp(&b.sku))
    });
    needs
}

/// A parcel waiting to be picked.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub shipment: uuid::Uuid,
    /// Express shipping, or a promise due within a day.
    pub urgent: bool,
    pub promised_by: Option<DateTime<Utc>>,
    pub routed_at: DateTime<Utc>,
}

/// Parcels into waves of at most `size`: urgent first, then the earliest promise, then the
/// oldest.
pub fn waves(mut waiting: Vec<Waiting>, size: usize) -> Vec<Vec<uuid::Uuid>> {
    waiting.sort_by(|a, b| {
        b.urgent
            .cmp(&a.urgent)
            .then_with(|| match (a.promised_by, b.promised_by) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
            .then(a.routed_at.cmp(&b.routed_at))
            .then(a.shipment.cmp(&b.shipment))
    });
    waiting
        .chunks(size.max(1))
        .map(|c| c.iter().map(|w| w.shipment).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(sku: &str, bin: Option<&str>) -> Need {
        Need {
            shipment: uuid::Uuid::nil(),
            order: uuid::Uuid::nil(),
            variant: None,
            sku: sku.into(),
            quantity: 1,
            bin: bin.map(Into::into),
        }
    }

    #[test]
    fn bins_compare_naturally() {
        assert!(parse_bin("A-10").map(|b| b.rest) > parse_bin("A-9").map(|b| b.rest));
        assert_eq!(
            parse_bin("b12-03").map(|b| (b.aisle, b.rest)),
            Some((
                Part::Text("B".into()),
                vec![Part::Number(12), Part::Number(3)]
            ))
        );
        assert_eq!(parse_bin(" - "), None);
    }

    #[test]
    fn the_walk_snakes_through_the_aisles() {
        let order = walk(vec![
            need("s1", Some("B-01")),
            need("s2", Some("A-05")),
            need("s3", Some("B-07")),
            need("s4", None),
            need("s5", Some("A-01")),
            need("s6", Some("C-02")),
            need("s7", Some("C-01")),
        ]);
        let skus: Vec<&str> = order.iter().map(|n| n.sku.as_str()).collect();
        // A up (01, 05), B down (07, 01), C up (01, 02), then the unbinned.
        assert_eq!(skus, ["s5", "s2", "s3", "s1", "s7", "s6", "s4"]);
    }

    #[test]
    fn urgent_parcels_lead_the_waves() {
        let t = |h: i64| {
            DateTime::<Utc>::from_timestamp(1_700_000_000 + h * 3600, 0).unwrap_or_default()
        };
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let w = waves(
            vec![
                Waiting {
                    shipment: id(1),
                    urgent: false,
                    promised_by: Some(t(100)),
                    routed_at: t(0),
                },
                Waiting {
                    shipment: id(2),
                    urgent: true,
                    promised_by: Some(t(20)),
                    routed_at: t(5),
                },
                Waiting {
                    shipment: id(3),
                    urgent: false,
                    promised_by: Some(t(50)),
                    routed_at: t(1),
                },
                Waiting {
                    shipment: id(4),
                    urgent: false,
                    promised_by: None,
                    routed_at: t(0),
                },
            ],
            2,
        );
        assert_eq!(w, vec![vec![id(2), id(3)], vec![id(1), id(4)]]);
    }
}
