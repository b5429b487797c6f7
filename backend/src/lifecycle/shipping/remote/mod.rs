//! Carriers with a remote API (EasyPost, Shippo). Orderflow describes a parcel, the carrier
//! quotes its rates, one rate is bought (a label file and a tracking code), and a bought label
//! can be refunded. The clients here only speak the APIs, through the hardened outbound
//! client; which rate to buy, and what a purchase changes, is decided by `service.rs` and the
//! label job.

pub mod easypost;
pub mod shippo;

use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::address::Address;
use crate::infra::outbound::api::ApiError;

/// Who sells the postage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Orderflow's own rate cards and labels: simulated postage, nothing is paid.
    Simulated,
    Easypost,
    Shippo,
}

impl Provider {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "simulated" => Some(Self::Simulated),
            "easypost" => Some(Self::Easypost),
            "shippo" => Some(Self::Shippo),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Simulated => "simulated",
            Self::Easypost => "easypost",
            Self::Shippo => "shippo",
        }
    }

    /// The production API.
    pub fn default_api(self) -> Option<&'static str> {
        match self {
            Self::Simulated => None,
            Self::Easypost => Some(easypost::DEFAULT_API),
            Self::Shippo => Some(shippo::DEFAULT_API),
        }
    }
}

/// How to reach a tenant's account: the API's base URL and its key (unsealed, in memory only).
#[derive(Clone)]
pub struct Account {
    pub base: String,
    pub api_key: String,
    /// The carrier accounts at the provider to rate with (empty: all of them).
    pub carrier_accounts: Vec<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("base", &self.base)
            .field("carrier_accounts", &self.carrier_accounts)
            .finish_non_exhaustive()
    }
}

/// The label file asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelFormat {
    /// A 4x6 inch PDF.
    Pdf,
    /// Zebra printer language.
    Zpl,
}

impl LabelFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "pdf" => Some(Self::Pdf),
            "zpl" => Some(Self::Zpl),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Zpl => "zpl",
        }
    }
}

/// One kind of goods in an international parcel, for the customs declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomsLine {
    pub description: String,
    pub quantity: u32,
    /// Of all `quantity` items together.
    pub weight_grams: u32,
    /// Of all `quantity` items together.
    pub value: Decimal,
    pub currency: String,
    pub hs_code: Option<String>,
    pub origin_country: String,
}

/// A parcel to quote: everything a carrier needs to rate it and print its label.
#[derive(Clone, Debug)]
pub struct ParcelSpec {
    /// Orderflow's name for it (order name and parcel number), printed as the reference.
    pub reference: String,
    pub from: Address,
    pub to: Address,
    pub weight_grams: u32,
    /// Length, width, height in millimetres, longest first.
    pub dimensions_mm: [u32; 3],
    /// Empty for a domestic parcel.
    pub customs: Vec<CustomsLine>,
    /// Who certifies the customs declaration (the merchant).
    pub customs_signer: String,
    pub label_format: LabelFormat,
    /// A return label: from the shopper back to the warehouse.
    pub is_return: bool,
}

impl ParcelSpec {
    pub fn is_international(&self) -> bool {
        !self.from.country.eq_ignore_ascii_case(&self.to.country)
    }
}

/// One service's price for a quoted parcel.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRate {
    /// The provider's id of this rate, to buy it.
    pub id: String,
    pub carrier: String,
    pub service: String,
    pub price: Decimal,
    pub currency: String,
    pub delivery_days: Option<u32>,
    pub delivery_date: Option<NaiveDate>,
    pub carrier_account: Option<String>,
}

/// The provider's answer to a parcel: its shipment id and rates, and what it had to say.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    /// The provider's shipment; buying and asking again refer to it.
    pub shipment_id: String,
    pub rates: Vec<RemoteRate>,
    /// The carriers' remarks (a service that could not rate the parcel, and why).
    pub messages: Vec<String>,
    /// The carrier could not verify the shopper's address for delivery: its words.
    pub address_problem: Option<String>,
}

/// A bought label.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Label {
    /// What refunds it: the shipment (EasyPost) or the transaction (Shippo).
    pub refund_id: String,
    pub tracking_code: String,
    /// Where the label file is; fetched through the outbound client.
    pub label_url: String,
    pub tracker_id: Option<String>,
    pub public_url: Option<String>,
    pub carrier: String,
    pub service: String,
    pub cost: Decimal,
    pub currency: String,
}

/// Where a purchase stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Purchase {
    Bought(Label),
    /// The provider is still buying it (Shippo's QUEUED transaction): ask again later.
    Pending {
        transaction_id: String,
    },
}

/// Where a refund of postage stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// Asked for; the carrier decides later.
    Submitted,
    Refunded,
    /// Not refunded, with the carrier's words.
    Rejected(String),
}

/// Why a remote carrier did not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteError {
    /// Down, slow or limiting us: the same call may succeed later.
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The carrier will not do it (bad address, no service, wrong key): its own words.
    Refused(String),
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable { reason, .. } => write!(f, "carrier unavailable: {reason}"),
            Self::Refused(m) => f.write_str(m),
        }
    }
}

impl From<ApiError> for RemoteError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Transient(reason) => Self::Unavailable {
                reason,
                retry_after: None,
            },
            ApiError::Permanent(m) => Self::Refused(m),
        }
    }
}

impl From<(ApiError, Option<Duration>)> for RemoteError {
    fn from((e, wait): (ApiError, Option<Duration>)) -> Self {
        match Self::from(e) {
            Self::Unavailable { reason, .. } => Self::Unavailable {
                reason,
                retry_after: wait,
            },
            refused => refused,
        }
    }
}

/// A parcel's box from its contents: the longest item's sides where they fit, otherwise a
/// box as long as the longest item and as deep and wide as the volume needs (a carrier
/// prices by dimensional weight, so a box that is too small is a surcharge later).
pub fn box_for(items: &[[u32; 3]], volume_cm3: u64) -> [u32; 3] {
    let mut longest = [0u32; 3];
    for item in items {
        let mut sides = *item;
        sides.sort_unstable_by(|a, b| b.cmp(a));
        for (l, s) in longest.iter_mut().zip(sides) {
            *l = (*l).max(s);
        }
    }
    let volume_mm3 = volume_cm3.saturating_mul(1000);
    let fits = |b: [u32; 3]| b.iter().map(|&s| u64::from(s)).product::<u64>() >= volume_mm3;
    if longest[2] > 0 && fits(longest) {
        return longest;
    }
    // Keep the longest side and square off the rest around the volume.
    let length = longest[0].max(((volume_mm3 as f64).cbrt().ceil() as u32).max(10));
    let face = ((volume_mm3 as f64 / f64::from(length)).sqrt().ceil() as u32)
        .max(longest[1])
        .max(10);
    let depth = longest[2].max(10).max(
        (volume_mm3 as f64 / (f64::from(length) * f64::from(face)))
            .ceil()
            .min(f64::from(u32::MAX)) as u32,
    );
    let mut sides = [length, face, depth];
    sides.sort_unstable_by(|a, b| b.cmp(a));
    sides
}

/// The carrier's message, or a plain one when it said nothing readable.
fn words(message: Option<String>, fallback: &str) -> String {
    message
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_fits_the_longest_item_and_the_volume() {
        // One item: its own sides, longest first.
        assert_eq!(box_for(&[[100, 300, 200]], 6000), [300, 200, 100]);
        // Two items whose volume the longest one's box cannot hold.
        let b = box_for(&[[300, 200, 100], [100, 100, 100]], 7000);
        assert!(b[0] >= 300 && b[1] >= 200 && b[2] >= 100, "{b:?}");
        assert!(
            b.iter().map(|&s| u64::from(s)).product::<u64>() >= 7_000_000,
            "{b:?}"
        );
        // Nothing measured: a box around the volume.
        let b = box_for(&[], 1000);
        assert!(
            b.iter().map(|&s| u64::from(s)).product::<u64>() >= 1_000_000,
            "{b:?}"
        );
        assert!(b.iter().all(|&s| s >= 10));
        // Nothing at all: the smallest box.
        assert_eq!(box_for(&[], 0), [10, 10, 10]);
    }
}
