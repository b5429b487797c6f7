//! The HTTP client every connector's API calls go through (the hardened outbound client:
//! public addresses only, answers capped, no redirects): timeouts, retries with
//! exponential backoff and jitter on network errors and 5xx, and rate limits honoured from
//! the platform's own headers (`Retry-After`, BigCommerce's `X-Rate-Limit-Time-Reset-Ms`,
//! Amazon's and Etsy's 429s) before the next attempt.

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

use super::{Answer, Outbound};

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

/// A platform's answer may be this large (a page of 250 Shopify orders is about 3 MB).
pub const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// Longest a single request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Client {
    outbound: Outbound,
    /// Base delay of the backoff.
    base_delay: Duration,
}

impl Client {
    pub fn new(outbound: Outbound, base_delay: Duration) -> Self {
        Self {
            outbound,
            base_delay,
        }
    }

    /// The client the app uses: the hardened one, with half a second of base backoff.
    pub fn with(outbound: Outbound) -> Self {
        Self::new(outbound, Duration::from_millis(500))
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.outbound.request(method, url)
    }

    /// Sends the request built by `build` (called again for each attempt) and returns the
    /// JSON body of the first successful answer.
    pub async fn json(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Value, ApiError> {
        Ok(self.json_inspecting(what, &build).await?.0)
    }

    async fn json_inspecting(
        &self,
        what: &str,
        build: &impl Fn() -> RequestBuilder,
    ) -> Result<(Value, Answer), ApiError> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match self
                .outbound
                .send(build(), REQUEST_TIMEOUT, MAX_ANSWER)
                .await
            {
                Ok(res) if res.status.is_success() => {
                    if res.status == StatusCode::NO_CONTENT || res.body.is_empty() {
                        return Ok((Value::Null, res));
                    }
                    let value = serde_json::from_slice(&res.body).map_err(|e| {
                        ApiError::Permanent(format!("{what}: answer is not JSON: {e}"))
                    })?;
                    return Ok((value, res));
                }
                Ok(res) => {
                    let status = res.status;
                    let wait = rate_limit_wait(&res);
                    let detail = format!("{what}: HTTP {status}: {}", res.excerpt(300));
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
                Err(err) if err.is_transient() => last = format!("{what}: {err}"),
                Err(err) => return Err(ApiError::Permanent(format!("{what}: {err}"))),
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
    /// (Shopify's cursor pagination) when it stays on the host of the request: a page
    /// cannot send the next request anywhere else.
    pub async fn json_with_next(
        &self,
        what: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(Value, Option<String>), ApiError> {
        let (body, res) = self.json_inspecting(what, &build).await?;
        let here = build().build().ok().map(|r| r.url().clone());
        let next = next_link(&res).filter(|next| same_origin(here.as_ref(), next));
        Ok((body, next))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.as_millis() as u64 * 2u64.pow(attempt.min(8));
        Duration::from_millis(rand::rng().random_range(cap / 2..=cap.max(1)))
    }
}

/// Whether `next` has the scheme, host and port of `here`.
fn same_origin(here: Option<&reqwest::Url>, next: &str) -> bool {
    let Some(here) = here else { return false };
    reqwest::Url::parse(next).is_ok_and(|next| next.origin() == here.origin())
}

/// The URL of `Link: <…>; rel="next"`, if any.
fn next_link(res: &Answer) -> Option<String> {
    let link = res.header("link")?;
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
fn rate_limit_wait(res: &Answer) -> Option<Duration> {
    let header = |name: &str| res.header(name);
    if let Some(ms) =
        header("x-rate-limit-time-reset-ms").and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| Duration::from_millis((secs.max(0.0) * 1000.0) as u64))
}
