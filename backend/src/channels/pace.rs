//! How fast Orderflow writes to one store: each platform's published API limit as a token
//! bucket per connection, shared by every worker and process (in Redis when it is
//! configured), so that pushes from many workers never add up to more than the platform
//! allows. A platform's own 429 still paces within a call (`Retry-After`).

use std::time::{Duration, Instant};

use super::Platform;
use crate::infra::ratelimit::Bucket;
use crate::state::AppState;

/// The longest a worker waits for a connection's budget; past it the push waits as a job.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// A platform's limit on one store's API calls.
pub fn bucket(platform: Platform) -> Bucket {
    let (rate, burst) = match platform {
        // REST Admin API: a leaky bucket of 40 calls, 2 leaking out a second (standard plans).
        Platform::Shopify => (2.0, 40.0),
        // No limit of the platform's own: the merchant's host. Gently.
        Platform::Woocommerce => (5.0, 10.0),
        // 150 calls per 30 seconds (standard plans), without bursting the window.
        Platform::Bigcommerce => (5.0, 30.0),
        // `confirmShipment`'s usage plan: 2 a second, bursts of 10.
        Platform::Amazon => (2.0, 10.0),
        // Open API v3: 10 calls a second per app.
        Platform::Etsy => (10.0, 10.0),
    };
    Bucket { rate, burst }
}

/// Amazon's `createFeed` quota, far below the rest of the SP-API: one submission restored
/// every two minutes, bursts of 15.
pub const AMAZON_CREATE_FEED: Bucket = Bucket {
    rate: 1.0 / 120.0,
    burst: 15.0,
};

/// Waits until the connection has `calls` calls free, and takes them; `Err` with the wait
/// still ahead when that is more than [`MAX_WAIT`] away (the caller asks again later). When
/// the count cannot be read (Redis down) the write goes ahead: the platform's 429 still holds.
pub async fn take(
    state: &AppState,
    connection: uuid::Uuid,
    platform: Platform,
    calls: u32,
) -> Result<(), Duration> {
    take_from(state, &key(connection), bucket(platform), calls).await
}

/// Like [`take`], for one call of an operation with a quota of its own (`name`).
pub async fn take_operation(
    state: &AppState,
    connection: uuid::Uuid,
    name: &str,
    bucket: Bucket,
) -> Result<(), Duration> {
    take_from(state, &format!("{}:{name}", key(connection)), bucket, 1).await
}

async fn take_from(
    state: &AppState,
    key: &str,
    bucket: Bucket,
    calls: u32,
) -> Result<(), Duration> {
    // More than a burst's worth can never be free at once: such a run takes the whole burst
    // (and the platform's own 429s pace the rest).
    let calls = f64::from(calls).min(bucket.burst);
    let started = Instant::now();
    loop {
        let wait = match state.limiter.take(key, bucket, calls).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(error = ?e, key, "channel pace unavailable; writing unpaced");
                return Ok(());
            }
        };
        if wait.is_zero() {
            return Ok(());
        }
        if started.elapsed() + wait > MAX_WAIT {
            return Err(wait);
        }
        tokio::time::sleep(wait).await;
    }
}

fn key(connection: uuid::Uuid) -> String {
    format!("channel:{connection}")
}

/// What the platform said of its own count (Shopify's call-limit header: `used` of `limit`
/// calls): the shared bucket holds no more than is left there, since other apps and
/// Orderflow's other callers spend the same account's calls.
pub async fn observe(
    state: &AppState,
    connection: uuid::Uuid,
    platform: Platform,
    used: f64,
    limit: f64,
) {
    let b = bucket(platform);
    // Our bucket is smaller than some plans' (Shopify Plus: 400): scale the platform's count.
    let left = (limit - used).max(0.0) / limit.max(1.0) * b.burst;
    if let Err(e) = state.limiter.cap(&key(connection), b, left).await {
        tracing::warn!(error = ?e, %connection, "channel pace unavailable; the platform's count is not kept");
    }
}
