//! The emails Orderflow sends, each with a template of its own.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(name = "NotificationKind")]
pub enum Kind {
    OrderConfirmation,
    PaymentProblem,
    BackorderNotice,
    Shipped,
    OutForDelivery,
    Delayed,
    Delivered,
    DeliveryException,
    /// A return waiting for staff: the shopper hears it was received.
    ReturnRequested,
    ReturnApproved,
    ReturnRejected,
    /// The return parcel arrived at the warehouse.
    ReturnReceived,
    RefundIssued,
    ReviewRequest,
    Invitation,
    PasswordReset,
    /// A support reply (staff or automatic): its text is the message itself.
    SupportReply,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::OrderConfirmation,
        Kind::PaymentProblem,
        Kind::BackorderNotice,
        Kind::Shipped,
        Kind::OutForDelivery,
        Kind::Delayed,
        Kind::Delivered,
        Kind::DeliveryException,
        Kind::ReturnRequested,
        Kind::ReturnApproved,
        Kind::ReturnRejected,
        Kind::ReturnReceived,
        Kind::RefundIssued,
        Kind::ReviewRequest,
        Kind::Invitation,
        Kind::PasswordReset,
        Kind::SupportReply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OrderConfirmation => "order_confirmation",
            Kind::PaymentProblem => "payment_problem",
            Kind::BackorderNotice => "backorder_notice",
            Kind::Shipped => "shipped",
            Kind::OutForDelivery => "out_for_delivery",
            Kind::Delayed => "delayed",
            Kind::Delivered => "delivered",
            Kind::DeliveryException => "delivery_exception",
            Kind::ReturnRequested => "return_requested",
            Kind::ReturnApproved => "return_approved",
            Kind::ReturnRejected => "return_rejected",
            Kind::ReturnReceived => "return_received",
            Kind::RefundIssued => "refund_issued",
            Kind::ReviewRequest => "review_request",
            Kind::Invitation => "invitation",
            Kind::PasswordReset => "password_reset",
            Kind::SupportReply => "support_reply",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// In words, for the timeline and the settings page.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OrderConfirmation => "order confirmation",
            Kind::PaymentProblem => "payment problem",
            Kind::BackorderNotice => "backorder notice",
            Kind::Shipped => "shipping confirmation",
            Kind::OutForDelivery => "out for delivery",
            Kind::Delayed => "delay notice",
            Kind::Delivered => "delivery confirmation",
            Kind::DeliveryException => "delivery problem",
            Kind::ReturnRequested => "return request received",
            Kind::ReturnApproved => "return approved",
            Kind::ReturnRejected => "return not accepted",
            Kind::ReturnReceived => "return arrived",
            Kind::RefundIssued => "refund issued",
            Kind::ReviewRequest => "review request",
            Kind::Invitation => "staff invitation",
            Kind::PasswordReset => "password reset",
            Kind::SupportReply => "support reply",
        }
    }

    /// Kinds a shopper can opt out of (the rest are about their order).
    pub fn is_optional(self) -> bool {
        self == Kind::ReviewRequest
    }

    /// Kinds whose template a tenant edits. Not a support reply (written per message), and
    /// not the platform's own account mail (invitations, password resets): it goes out from
    /// the platform's address, and a tenant's text there would be phishing under its name.
    pub fn has_template(self) -> bool {
        !matches!(
            self,
            Kind::SupportReply | Kind::Invitation | Kind::PasswordReset
        )
    }
}
