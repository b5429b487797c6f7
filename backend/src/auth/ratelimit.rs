//! Fixed-window rate limits (login attempts per email and per client address). Counted in
//! Redis when it is configured, so that every process shares the count; in-process otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::error::{AppError, AppResult};

/// A limit: at most `max` hits per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// Login attempts per email address: a password-guessing attack on one account.
pub const LOGIN_PER_EMAIL: Limit = Limit {
    max: 10,
    window: Duration::from_secs(15 * 60),
};
/// Login attempts per client address: credential stuffing across accounts.
pub const LOGIN_PER_IP: Limit = Limit {
    max: 100,
    window: Duration::from_secs(15 * 60),
};

pub enum RateLimiter {
    Memory(Mutex<HashMap<String, (Instant, u32)>>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

/// Entries kept in memory before expired windows are swept out.
const MEMORY_SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn memory() -> Self {
        RateLimiter::Memory(Mutex::new(HashMap::new()))
    }

    /// Counts one hit on `key`; RATE_LIMITED once the window's limit is passed.
    pub async fn hit(&self, key: &str, limit: Limit) -> AppResult<()> {
        let (count, retry_after) = match self {
            RateLimiter::Memory(map) => {
                let now = Instant::now();
                let mut map = map
                    .lock()
                    .map_err(|_| AppError::Internal(anyhow::anyhow!("rate-limit lock poisoned")))?;
                if map.len() >= MEMORY_SWEEP_AT {
                    map.retain(|_, (start, _)| now.duration_since(*start) < limit.window);
                }
                let entry = map.entry(key.to_owned()).or_insert((now, 0));
                if now.duration_since(entry.0) >= limit.window {
                    *entry = (now, 0);
                }
                entry.1 += 1;
                let left = limit.window.saturating_sub(now.duration_since(entry.0));
                (entry.1, left.as_secs().max(1))
            }
            RateLimiter::Redis { conn, prefix } => {
                let key = format!("{prefix}ratelimit:{key}");
                let mut conn = conn.clone();
                // INCR and set the expiry only when the window opens (NX), atomically.
                let (count, ttl): (u32, i64) = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(limit.window.as_secs())
                    .arg("NX")
                    .ignore()
                    .ttl(&key)
                    .query_async(&mut conn)
                    .await?;
                (count, ttl.max(1) as u64)
            }
        };
        if count > limit.max {
            Err(AppError::RateLimited {
                retry_after_secs: retry_after,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_hit_after_the_limit_is_refused_with_a_wait() {
        let limiter = RateLimiter::memory();
        let limit = Limit {
            max: 3,
            window: Duration::from_secs(60),
        };
        for _ in 0..3 {
            limiter.hit("k", limit).await.unwrap();
        }
        match limiter.hit("k", limit).await {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
        limiter.hit("other", limit).await.unwrap();
    }
}
