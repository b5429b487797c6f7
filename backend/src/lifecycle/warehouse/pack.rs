//! Packing, pure: the scans of a parcel against what it should hold. A scan is an item's
//! barcode or its SKU; a parcel is packed only when every item is scanned and nothing else is.

use std::collections::BTreeMap;

use serde::Serialize;

/// What a parcel should hold, per SKU.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub sku: String,
    pub barcode: Option<String>,
    pub quantity: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    /// SKUs short, with how many are missing.
    pub missing: Vec<(String, i64)>,
    /// SKUs scanned more often than the parcel holds them, with how many too many.
    pub extra: Vec<(String, i64)>,
    /// Scans that match no item of the parcel: a wrong item.
    pub wrong: Vec<String>,
}

impl Mismatch {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.wrong.is_empty() {
            parts.push(format!("not in this parcel: {}", self.wrong.join(", ")));
        }
        if !self.missing.is_empty() {
            parts.push(format!(
                "missing: {}",
                self.missing
                    .iter()
                    .map(|(s, q)| format!("{q} × {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.extra.is_empty() {
            parts.push(format!(
                "scanned too often: {}",
                self.extra
                    .iter()
                    .map(|(s, q)| format!("{q} × {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        parts.join("; ")
    }
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

pub fn verify(expected: &[Expected], scans: &[String]) -> Result<(), Mismatch> {
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for e in expected {
        *want.entry(e.sku.clone()).or_default() += e.quantity;
    }
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    let mut wrong = Vec::new();
    for scan in scans.iter().map(|s| norm(s)).filter(|s| !s.is_empty()) {
        let hit = expected.iter().find(|e| {
            norm(&e.sku) == scan || e.barcode.as_deref().is_some_and(|b| norm(b) == scan)
        });
        match hit {
            Some(e) => *got.entry(e.sku.clone()).or_default() += 1,
            None => wrong.push(scan),
        }
    }
    let mut m = Mismatch {
        wrong,
        ..Default::default()
    };
    for (sku, n) in &want {
        let have = got.get(sku).copied().unwrap_or(0);
        if have < *n {
            m.missing.push((sku.clone(), n - have));
        } else if have > *n {
            m.extra.push((sku.clone(), have - n));
        }
    }
    if m == Mismatch::default() {
        Ok(())
    } else {
        Err(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parcel() -> Vec<Expected> {
        vec![
            Expected {
                sku: "KETTLE-1".into(),
                barcode: Some("4006381333931".into()),
                quantity: 2,
            },
            Expected {
                sku: "MUG-2".into(),
                barcode: None,
                quantity: 1,
            },
        ]
    }

    #[test]
    fn barcodes_and_skus_both_count() {
        let scans = ["4006381333931", "kettle-1", "MUG-2"].map(String::from);
        assert_eq!(verify(&parcel(), &scans), Ok(()));
    }

    #[test]
    fn wrong_missing_and_extra_items_are_refused_with_the_reason() {
        let scans = ["4006381333931", "TOASTER-9"].map(String::from);
        let m = verify(&parcel(), &scans).err().unwrap_or_default();
        assert_eq!(m.wrong, ["TOASTER-9"]);
        assert_eq!(
            m.missing,
            [("KETTLE-1".to_owned(), 1), ("MUG-2".to_owned(), 1)]
        );
        assert_eq!(
            m.describe(),
            "not in this parcel: TOASTER-9; missing: 1 × KETTLE-1, 1 × MUG-2"
        );
        let scans = ["KETTLE-1", "KETTLE-1", "KETTLE-1", "MUG-2"].map(String::from);
        assert_eq!(
            verify(&parcel(), &scans).err().map(|m| m.extra),
            Some(vec![("KETTLE-1".to_owned(), 1)])
        );
    }
}
