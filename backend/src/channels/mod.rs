//! Sales channels: a tenant's connections to its platforms, the webhook endpoint they post
//! to, the deliveries kept raw, and one connector module per platform that verifies and maps
//! the platform's own payloads onto the canonical order.

pub mod amazon;
pub mod bigcommerce;
pub mod connections;
pub mod deliveries;
pub mod etsy;
pub mod graphql;
pub mod http;
pub mod json;
pub mod poll;
pub mod repo;
pub mod shopify;
pub mod woocommerce;

use crate::lifecycle::capture::canonical::CanonicalOrder;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    async_graphql::Enum,
)]
pub enum Platform {
    Shopify,
    Woocommerce,
    Bigcommerce,
    Amazon,
    Etsy,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::Shopify,
        Platform::Woocommerce,
        Platform::Bigcommerce,
        Platform::Amazon,
        Platform::Etsy,
    ];

    /// The channel name on orders and in webhook URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Woocommerce => "woocommerce",
            Platform::Bigcommerce => "bigcommerce",
            Platform::Amazon => "amazon",
            Platform::Etsy => "etsy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::Shopify => "Shopify",
            Platform::Woocommerce => "WooCommerce",
            Platform::Bigcommerce => "BigCommerce",
            Platform::Amazon => "Amazon",
            Platform::Etsy => "Etsy",
        }
    }

    /// Whether orders arrive by webhook (the others are polled).
    pub fn pushes_webhooks(self) -> bool {
        matches!(
            self,
            Platform::Shopify | Platform::Woocommerce | Platform::Bigcommerce
        )
    }
}

/// Where an order came from: a platform, or the API (integrators, phone orders).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    async_graphql::Enum,
)]
pub enum SalesChannel {
    Shopify,
    Woocommerce,
    Bigcommerce,
    Amazon,
    Etsy,
    Api,
}

impl SalesChannel {
    /// As stored on orders.
    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::Api => "api",
            SalesChannel::Shopify => Platform::Shopify.as_str(),
            SalesChannel::Woocommerce => Platform::Woocommerce.as_str(),
            SalesChannel::Bigcommerce => Platform::Bigcommerce.as_str(),
            SalesChannel::Amazon => Platform::Amazon.as_str(),
            SalesChannel::Etsy => Platform::Etsy.as_str(),
        }
    }

    pub fn parse(s: &str) -> Self {
        match Platform::parse(s) {
            Some(Platform::Shopify) => SalesChannel::Shopify,
            Some(Platform::Woocommerce) => SalesChannel::Woocommerce,
            Some(Platform::Bigcommerce) => SalesChannel::Bigcommerce,
            Some(Platform::Amazon) => SalesChannel::Amazon,
            Some(Platform::Etsy) => SalesChannel::Etsy,
            None => SalesChannel::Api,
        }
    }
}

/// What a verified webhook delivery says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    pub topic: String,
    /// The platform's id of this delivery; redeliveries repeat it.
    pub delivery_id: Option<String>,
    /// The order it is about, when the payload says.
    pub external_id: Option<String>,
}

/// What a delivery becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum Mapped {
    Order(Box<CanonicalOrder>),
    /// Kept, but not an order change (another topic); the reason is recorded.
    Ignored(String),
}

/// A request header as text.
pub fn header<'a>(headers: &'a actix_web::http::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
