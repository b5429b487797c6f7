//! The lifecycle states of an order (GraphQL enum `OrderState`). The transitions between them
//! belong to the lifecycle engine; capture only ever sets `Received` or `Cancelled`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Received,
    PaymentReview,
    PaymentVerified,
    FraudReview,
    Screened,
    Backordered,
    Allocated,
    Routed,
    Picking,
    Packed,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    AddressIssue,
    OnHold,
    Cancelled,
    Rejected,
}

impl OrderState {
    pub const ALL: [OrderState; 18] = [
        Self::Received,
        Self::PaymentReview,
        Self::PaymentVerified,
        Self::FraudReview,
        Self::Screened,
        Self::Backordered,
        Self::Allocated,
        Self::Routed,
        Self::Picking,
        Self::Packed,
        Self::Shipped,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::AddressIssue,
        Self::OnHold,
        Self::Cancelled,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::PaymentReview => "payment_review",
            Self::PaymentVerified => "payment_verified",
            Self::FraudReview => "fraud_review",
            Self::Screened => "screened",
            Self::Backordered => "backordered",
            Self::Allocated => "allocated",
            Self::Routed => "routed",
            Self::Picking => "picking",
            Self::Packed => "packed",
            Self::Shipped => "shipped",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::AddressIssue => "address_issue",
            Self::OnHold => "on_hold",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Parcels have left: a channel's cancellation can no longer simply stop the order.
    pub fn has_shipped(self) -> bool {
        matches!(
            self,
            Self::Shipped | Self::InTransit | Self::OutForDelivery | Self::Delivered
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Cancelled | Self::Rejected | Self::Delivered)
    }
}
