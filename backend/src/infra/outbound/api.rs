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
        let res = self.exchange(what, build).await?;
        if !res.status.is_success() {
            return Err(ApiError::Permanent(format!(
                "{what}: HTTP {}: {}",
                res.status,
                res.excerpt(300)
            )));
        }
        Ok((json_of(what, &res)?, res))
    }

    /// Sends the request built by `build`, retrying network errors, 5xx and rate limits;
    /// returns the first answer that is a success or a refusal (4xx other than 429), so the
    /// caller can read the platform's own error shape.
    pub async fn exchange(
        &self,
        what: &str,
        build: &impl Fn() -> RequestBuilder,
    ) -> Result<Answer, ApiError> {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match self
                .outbound
                .send(build(), REQUEST_TIMEOUT, MAX_ANSWER)
                .await
            {
                Ok(res) if !retryable(res.status) => return Ok(res),
                Ok(res) => {
                    let detail = format!("{what}: HTTP {}: {}", res.status, res.excerpt(300));
                    if res.status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = rate_limit_wait(&res).unwrap_or_else(|| self.backoff(attempt));
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
                    last = detail;
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

    /// Sends `request` once, never again: for a call that must not be repeated blindly (a
    /// purchase whose first attempt may have gone through). Any answer but a retryable one
    /// comes back; network trouble, 5xx and 429 are transient, with the wait asked for.
    pub async fn once(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Answer, (ApiError, Option<Duration>)> {
        match self
            .outbound
            .send(request, REQUEST_TIMEOUT, MAX_ANSWER)
            .await
        {
            Ok(res) if !retryable(res.status) => Ok(res),
            Ok(res) => Err((
                ApiError::Transient(format!("{what}: HTTP {}: {}", res.status, res.excerpt(300))),
                rate_limit_wait(&res),
            )),
            Err(err) if err.is_transient() => {
                Err((ApiError::Transient(format!("{what}: {err}")), None))
            }
            Err(err) => Err((ApiError::Permanent(format!("{what}: {err}")), None)),
        }
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

    /// Like [`Client::json`], also returning the next page's URL that the body names under
    /// `field` (Shippo's and Django REST's pagination), when it stays on the request's origin.
    pub async fn json_with_next_in_body(
        &self,
        what: &str,
        build: &impl Fn() -> RequestBuilder,
        field: &str,
    ) -> Result<(Value, Option<String>), ApiError> {
        let (body, _) = self.json_inspecting(what, build).await?;
        let here = build().build().ok().map(|r| r.url().clone());
        let next = body[field]
            .as_str()
            .map(str::to_owned)
            .filter(|next| same_origin(here.as_ref(), next));
        Ok((body, next))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.as_millis() as u64 * 2u64.pow(attempt.min(8));
        Duration::from_millis(rand::rng().random_range(cap / 2..=cap.max(1)))
    }
}

/// How long a platform asked us to wait, from a [`ApiError::Transient`] that gave up on a
/// rate limit longer than a call may wait (so the next try is not sooner than asked).
pub fn rate_limited_for(message: &str) -> Option<Duration> {
    let (_, rest) = message.rsplit_once("(rate limited for ")?;
    let secs = rest.strip_suffix("s)")?;
    secs.parse().ok().map(Duration::from_secs)
}

/// Worth another attempt: the platform is overloaded, limiting us, or briefly down.
fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The JSON body of a successful answer (an empty one is `null`).
pub fn json_of(what: &str, res: &Answer) -> Result<Value, ApiError> {
    if res.status == StatusCode::NO_CONTENT || res.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&res.body)
        .map_err(|e| ApiError::Permanent(format!("{what}: answer is not JSON: {e}")))
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
