//! The HTTP client every connector's API calls go through: timeouts, retries with
//! exponential backoff and jitter on network errors and 5xx, and rate limits honoured from
//! the platform's own headers (`Retry-After`, BigCommerce's `X-Rate-Limit-Time-Reset-Ms`,
//! Amazon's and Etsy's 429s) before the next attempt.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// Attempts per request, the first included.
const ATTEMPTS: u32 = 5;
/// Longest wait a platform may ask for before we give up this run (the job retries later).
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Worth retrying later: network trouble, 5xx, rate limits that outlasted our patience.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help: bad credentials, no such order, a malformed answer.
    #[error("{0}")]
    Permanent(String),
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Base delay of the backoff.
    base_delay: Duration,
}

impl Default for Client {
    fn default() -> Self {
        Self::new(Duration::from_millis(500))
    }
}

impl Client {
    pub fn new(base_delay: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Orderflow/", env!("CARGO_PKG_VERSION")))
            // A platform never redirects its API; following one could lead anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, base_delay }
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends the request built by `build` (called again for each attempt) and returns the
    /// JSON body of the first successful answer.
    pub async fn json(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Value, ApiError> {
        self.json_inspecting(what, &build, |_| {}).await
    }

    async fn json_inspecting(
        &self,
        what: &str,
        build: &impl Fn() -> RequestBuilder,
        inspect: impl Fn(&Response),
    ) -> Result<Value, ApiError> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match build().send().await {
                Ok(res) if res.status().is_success() => {
                    inspect(&res);
                    let status = res.status();
                    if status == StatusCode::NO_CONTENT {
                        return Ok(Value::Null);
                    }
                    return res.json().await.map_err(|e| {
                        ApiError::Permanent(format!("{what}: answer is not JSON: {e}"))
                    });
                }
                Ok(res) => {
                    let status = res.status();
                    let wait = rate_limit_wait(&res);
                    let body = res.text().await.unwrap_or_default();
                    let detail = format!(
                        "{what}: HTTP {status}: {}",
                        body.chars().take(300).collect::<String>()
                    );
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = wait.unwrap_or_else(|| self.backoff(attempt));
                        if wait > MAX_WAIT {
                            return Err(ApiError::Transient(format!(
                                "{detail} (rate limited for {}s)",
                                wait.as_secs()
                            )));
                        }
                        tracing::info!(
                            what,
                            wait_ms = wait.as_millis() as u64,
                            "rate limited; waiting"
                        );
                        tokio::time::sleep(wait).await;
                        last = detail;
                        continue;
                    }
                    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
                        last = detail;
                    } else {
                        return Err(ApiError::Permanent(detail));
                    }
                }
                Err(err) => last = format!("{what}: {err}"),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(self.backoff(attempt)).await;
            }
        }
        Err(ApiError::Transient(format!(
            "{last} (after {ATTEMPTS} attempts)"
        )))
    }

    /// Like [`Client::json`], also returning the `rel="next"` URL of the `Link` header
    /// (Shopify's cursor pagination).
    pub async fn json_with_next(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(Value, Option<String>), ApiError> {
        let next = std::sync::Mutex::new(None);
        let body = self
            .json_inspecting(what, &build, |res| {
                if let Ok(mut slot) = next.lock() {
                    *slot = next_link(res);
                }
            })
            .await?;
        Ok((body, next.into_inner().unwrap_or(None)))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.as_millis() as u64 * 2u64.pow(attempt.min(8));
        Duration::from_millis(rand::rng().random_range(cap / 2..=cap.max(1)))
    }
}

/// The URL of `Link: <…>; rel="next"`, if any.
fn next_link(res: &Response) -> Option<String> {
    let link = res.headers().get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// How long the platform asks us to wait, from whichever header it uses.
fn rate_limit_wait(res: &Response) -> Option<Duration> {
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) =
        header("x-rate-limit-time-reset-ms").and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| Duration::from_millis((secs.max(0.0) * 1000.0) as u64))
}
