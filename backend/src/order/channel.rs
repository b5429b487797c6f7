//! Where an order came from.

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
    const ALL: [SalesChannel; 6] = [
        SalesChannel::Shopify,
        SalesChannel::Woocommerce,
        SalesChannel::Bigcommerce,
        SalesChannel::Amazon,
        SalesChannel::Etsy,
        SalesChannel::Api,
    ];

    /// As stored on orders: the platform's name (as in `channels::Platform`), or `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            SalesChannel::Api => "api",
            SalesChannel::Shopify => "shopify",
            SalesChannel::Woocommerce => "woocommerce",
            SalesChannel::Bigcommerce => "bigcommerce",
            SalesChannel::Amazon => "amazon",
            SalesChannel::Etsy => "etsy",
        }
    }

    /// Anything that is not a platform's name is the API.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(SalesChannel::Api)
    }
}
