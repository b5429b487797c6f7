//! A parcel's tracking vocabulary: the status every tracking source is mapped to, and which
//! source reports a carrier's parcels. Tracking (`lifecycle::tracking::normalize`) maps each
//! source's payloads into it.

use serde::{Deserialize, Serialize};

/// The one status vocabulary every source is mapped to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackStatus {
    PreTransit,
    InTransit,
    OutForDelivery,
    Delivered,
    AvailableForPickup,
    ReturnToSender,
    Failure,
    Unknown,
}

impl TrackStatus {
    pub const ALL: [TrackStatus; 8] = [
        Self::PreTransit,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::AvailableForPickup,
        Self::ReturnToSender,
        Self::Failure,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreTransit => "pre_transit",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::AvailableForPickup => "available_for_pickup",
            Self::ReturnToSender => "return_to_sender",
            Self::Failure => "failure",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// How far along the way to the shopper: a parcel never goes back on this scale (a
    /// late-arriving older scan does not undo a newer one).
    pub fn progress(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::PreTransit => 1,
            Self::InTransit | Self::Failure | Self::ReturnToSender => 2,
            Self::OutForDelivery | Self::AvailableForPickup => 3,
            Self::Delivered => 4,
        }
    }
}

/// Which format a body is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Easypost,
    Shippo,
    Aftership,
    Orderflow,
}

impl Source {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_lowercase().as_str() {
            "easypost" => Self::Easypost,
            "shippo" => Self::Shippo,
            "aftership" => Self::Aftership,
            "orderflow" => Self::Orderflow,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Easypost => "easypost",
            Self::Shippo => "shippo",
            Self::Aftership => "aftership",
            Self::Orderflow => "orderflow",
        }
    }
}
