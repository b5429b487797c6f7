//! A connected shop's API as the stock sync calls it: opened once per run with the
//! connection's credentials (tokens fetched for Amazon and Etsy), every request
//! authenticated the platform's way and answered as JSON or the platform's refusal.

use std::collections::BTreeMap;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::channels::store::{Failure, Store, refusal_words, root};
use crate::channels::{Platform, amazon, bigcommerce, etsy};
use crate::infra::outbound::api::Client;
use crate::infra::outbound::api::{ApiError, json_of};

pub struct Shop<'a> {
    client: &'a Client,
    pub api: Api<'a>,
    /// Shopify's count of the calls used, from its last answer.
    used: std::sync::Mutex<Option<(f64, f64)>>,
}

pub enum Api<'a> {
    Shopify(Store<'a>),
    Woocommerce(Store<'a>),
    Bigcommerce(bigcommerce::Api<'a>),
    Amazon {
        api: amazon::Api<'a>,
        token: String,
        seller: String,
    },
    Etsy(etsy::Receipts<'a>),
}

impl<'a> Shop<'a> {
    pub async fn open(
        client: &'a Client,
        platform: Platform,
        credentials: &'a BTreeMap<String, String>,
        shop_domain: &str,
    ) -> Result<Self, Failure> {
        let store = || Store {
            client,
            root: root(credentials, shop_domain),
            credentials,
        };
        let api = match platform {
            Platform::Shopify => Api::Shopify(store()),
            Platform::Woocommerce => Api::Woocommerce(store()),
            Platform::Bigcommerce => {
                Api::Bigcommerce(bigcommerce::Api::new(client, credentials).map_err(Failure::from)?)
            }
            Platform::Amazon => {
                let api = amazon::Api::new(client, credentials);
                let token = api.access_token().await.map_err(Failure::from)?;
                // The seller id, as Amazon spells it (a connection's shop is kept lower case).
                let seller = credentials
                    .get("sellerId")
                    .cloned()
                    .unwrap_or_else(|| shop_domain.to_uppercase());
                Api::Amazon { api, token, seller }
            }
            Platform::Etsy => Api::Etsy(
                etsy::Receipts::open(client, credentials)
                    .await
                    .map_err(Failure::from)?,
            ),
        };
        Ok(Self {
            client,
            api,
            used: std::sync::Mutex::new(None),
        })
    }

    /// A request for `path` under the platform's API root (Shopify's `admin/api/{version}`,
    /// WooCommerce's `wc/v3`, BigCommerce's `v3`, Amazon's root, Etsy's `v3/application`).
    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, Failure> {
        Ok(match &self.api {
            Api::Shopify(s) => s.shopify(method, path)?,
            Api::Woocommerce(s) => s.woo(method, path)?,
            Api::Bigcommerce(api) => api.v3(method, path),
            Api::Amazon { api, token, .. } => api.authed(token, method, path),
            Api::Etsy(api) => api.request(method, path),
        })
    }

    /// Sends a request (retried on network trouble, 5xx and short rate limits: each is a
    /// read or an absolute write, safe to repeat) and reads its answer.
    pub async fn call(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CallError> {
        let mut request = self.request(method, path).map_err(CallError::from)?;
        if let Some(body) = body {
            request = request.json(body);
        }
        let res = self
            .client
            .exchange(what, &|| {
                request.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await
            .map_err(|e| CallError::from(Failure::from(e)))?;
        if let Some((used, limit)) = call_limit(res.header("X-Shopify-Shop-Api-Call-Limit")) {
            *self.used.lock().unwrap_or_else(|e| e.into_inner()) = Some((used, limit));
        }
        if res.status.is_success() {
            let answer = json_of(what, &res).map_err(|e| CallError::from(Failure::from(e)))?;
            if let Some(cost) = graphql_cost(&answer) {
                *self.used.lock().unwrap_or_else(|e| e.into_inner()) = Some(cost);
            }
            return Ok(answer);
        }
        let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
        let words = format!(
            "{what}: HTTP {}: {}",
            res.status.as_u16(),
            refusal_words(&body)
                .or_else(|| body["title"].as_str().map(str::to_owned))
                .unwrap_or_else(|| res.excerpt(300))
        );
        Err(match res.status.as_u16() {
            401 | 403 => CallError::Access(words),
            _ => CallError::Refused(words),
        })
    }

    /// Uploads a document to a URL the platform gave (Amazon's presigned feed document URL):
    /// not an API call, so no credentials go with it.
    pub async fn upload(
        &self,
        what: &str,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), CallError> {
        let put = self
            .client
            .request(Method::PUT, url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.document(what, || put.try_clone().unwrap_or_else(|| unreachable!()))
            .await
            .map(drop)
    }

    /// Downloads a document from a URL the platform gave (a feed's processing report).
    pub async fn download(&self, what: &str, url: &str) -> Result<Vec<u8>, CallError> {
        self.document(what, || self.client.request(Method::GET, url))
            .await
    }

    /// A document exchanged with a URL the platform gave: its body, or what refused it.
    async fn document(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Vec<u8>, CallError> {
        let res = self.client.exchange(what, &build).await?;
        if !res.status.is_success() {
            return Err(CallError::Refused(format!(
                "{what}: HTTP {}: {}",
                res.status.as_u16(),
                res.excerpt(300)
            )));
        }
        Ok(res.body.to_vec())
    }

    /// What Shopify counts as used of its bucket (`used`, `of`), as its last answer said: the
    /// REST call-limit header, or a GraphQL answer's query cost points.
    pub fn used(&self) -> Option<(f64, f64)> {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a call did not do what it asked.
#[derive(Debug, PartialEq, Eq)]
pub enum CallError {
    /// The platform is down or limiting: ask again later.
    Down(String),
    /// The connection's access is refused (401, 403): nothing will work until it is fixed.
    Access(String),
    /// This request is refused (the item is gone, tracked otherwise…), in the platform's words.
    Refused(String),
}

impl From<Failure> for CallError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Unavailable(m) => Self::Down(m),
            Failure::Refused(m) => Self::Access(m),
        }
    }
}

impl From<ApiError> for CallError {
    fn from(e: ApiError) -> Self {
        Failure::from(e).into()
    }
}

/// A Shopify GraphQL answer's bucket, in cost points: `extensions.cost.throttleStatus`
/// (`maximumAvailable` less `currentlyAvailable` used, of `maximumAvailable`).
fn graphql_cost(answer: &Value) -> Option<(f64, f64)> {
    let status = &answer["extensions"]["cost"]["throttleStatus"];
    let most = status["maximumAvailable"].as_f64().filter(|m| *m > 0.0)?;
    let free = status["currentlyAvailable"].as_f64()?.clamp(0.0, most);
    Some((most - free, most))
}

/// Shopify's `X-Shopify-Shop-Api-Call-Limit: 32/40`.
fn call_limit(header: Option<&str>) -> Option<(f64, f64)> {
    let (used, limit) = header?.split_once('/')?;
    Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::{call_limit, graphql_cost};

    #[test]
    fn shopify_says_how_much_of_its_bucket_is_used() {
        assert_eq!(call_limit(Some("32/40")), Some((32.0, 40.0)));
        assert_eq!(call_limit(Some(" 1 / 80 ")), Some((1.0, 80.0)));
        assert_eq!(call_limit(Some("lots")), None);
        assert_eq!(call_limit(None), None);
    }

    #[test]
    fn a_graphql_answer_says_how_much_of_shopifys_cost_bucket_is_used() {
        // The shape of Shopify's documented `extensions.cost` (API rate limits, GraphQL).
        let answer = serde_json::json!({ "data": {}, "extensions": { "cost": {
            "requestedQueryCost": 10, "actualQueryCost": 10,
            "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1500, "restoreRate": 100.0 }
        } } });
        assert_eq!(graphql_cost(&answer), Some((500.0, 2000.0)));
        assert_eq!(graphql_cost(&serde_json::json!({ "data": {} })), None);
    }
}
