//! A connected store's API, for what Orderflow writes to it (refunds, fulfilments, tracking):
//! the connection's credentials opened, requests built with each platform's authentication,
//! and answers read with the platform's own words when it refuses.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::Value;

use crate::infra::outbound::Answer;
use crate::infra::outbound::api::{ApiError, Client, json_of};

/// Why a write did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Unavailable(String),
    Refused(String),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Transient(m) => Self::Unavailable(m),
            ApiError::Permanent(m) => Self::Refused(m),
        }
    }
}

impl Failure {
    pub fn words(&self) -> &str {
        match self {
            Self::Unavailable(m) | Self::Refused(m) => m,
        }
    }
}

/// Where a store's API is: the `apiUrl` credential, else the shop's own domain.
pub fn root(credentials: &BTreeMap<String, String>, shop_domain: &str) -> String {
    credentials
        .get("apiUrl")
        .cloned()
        .unwrap_or_else(|| format!("https://{shop_domain}"))
}

/// A store's API: its root URL and the connection's credentials, opened.
pub struct Store<'a> {
    pub client: &'a Client,
    pub root: String,
    pub credentials: &'a BTreeMap<String, String>,
}

impl Store<'_> {
    pub fn shopify(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, Failure> {
        let token = self
            .credentials
            .get("accessToken")
            .ok_or_else(|| Failure::Refused("the Shopify connection has no accessToken".into()))?;
        Ok(self
            .client
            .request(
                method,
                &format!(
                    "{}/admin/api/{}/{path}",
                    self.root.trim_end_matches('/'),
                    super::shopify::API_VERSION
                ),
            )
            .header("X-Shopify-Access-Token", token))
    }

    pub fn woo(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, Failure> {
        let key = self.credentials.get("consumerKey");
        let secret = self.credentials.get("consumerSecret");
        let (Some(key), Some(secret)) = (key, secret) else {
            return Err(Failure::Refused(
                "the WooCommerce connection has no consumerKey and consumerSecret".into(),
            ));
        };
        Ok(self
            .client
            .request(
                method,
                &format!("{}/wp-json/wc/v3/{path}", self.root.trim_end_matches('/')),
            )
            .basic_auth(key, Some(secret)))
    }
}

/// The answer's JSON, or the platform's refusal in its own words.
pub fn answer_json(what: &str, res: &Answer) -> Result<Value, Failure> {
    if res.status.is_success() {
        return Ok(json_of(what, res)?);
    }
    let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    Err(Failure::Refused(format!(
        "{what}: HTTP {}: {}",
        res.status.as_u16(),
        refusal_words(&body).unwrap_or_else(|| res.excerpt(300))
    )))
}

/// The platform's own words in an error body: Shopify's `errors` (a string, a list or fields
/// with lists), WooCommerce's `message`.
pub fn refusal_words(body: &Value) -> Option<String> {
    if let Some(m) = body["message"].as_str() {
        return Some(m.to_owned());
    }
    match &body["errors"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Value::Object(o) => Some(
            o.iter()
                .map(|(k, v)| match v {
                    Value::Array(a) => format!(
                        "{k} {}",
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => format!("{k} {other}"),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    }
}

/// An id as text, whether the platform sends a number or a string.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
