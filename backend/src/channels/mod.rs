//! Sales channels: a tenant's connections to its platforms, the webhook endpoint they post
//! to, the deliveries kept raw, and one connector module per platform that verifies and maps
//! the platform's own payloads onto the canonical order.

pub mod amazon;
pub mod bigcommerce;
pub mod connections;
pub mod deliveries;
pub mod etsy;
pub mod graphql;
pub mod health;
pub mod http;
pub mod json;
pub mod pace;
pub mod poll;
pub mod push;
pub mod refunds;
pub mod repo;
pub mod shopify;
pub mod stock;
pub mod store;
pub mod woocommerce;

use crate::order::canonical::CanonicalOrder;

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

#[cfg(test)]
mod tests {
    use super::Platform;
    use crate::order::SalesChannel;

    #[test]
    fn every_platform_is_a_sales_channel_under_its_own_name() {
        for platform in Platform::ALL {
            let channel = SalesChannel::parse(platform.as_str());
            assert_ne!(channel, SalesChannel::Api, "{platform:?}");
            assert_eq!(channel.as_str(), platform.as_str());
        }
        assert_eq!(SalesChannel::parse("api"), SalesChannel::Api);
    }
}
