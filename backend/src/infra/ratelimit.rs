//! Rate limits and failure counts (sign-in attempts per client and per address, invitations
//! per tenant…), and token buckets that pace calls out (writes to one sales channel). Counted
//! in Redis when it is configured, so that every process shares the count; in-process
//! otherwise, in maps of bounded size.

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

/// Sign-in attempts per client address: credential stuffing across accounts.
pub const LOGIN_PER_IP: Limit = Limit {
    max: 100,
    window: Duration::from_secs(15 * 60),
};

/// Account mail asked for by someone (a reset link, an address confirmation): per address.
pub const MAIL_PER_ADDRESS: Limit = Limit {
    max: 5,
    window: Duration::from_secs(15 * 60),
};

/// Keys kept in memory at most; past this, expired windows are swept and then the oldest go.
const MEMORY_CAP: usize = 50_000;

#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
    last: Instant,
    ttl: Duration,
}

#[derive(Default)]
pub struct Memory {
    windows: HashMap<String, Window>,
    buckets: HashMap<String, Level>,
}

/// A token bucket: `rate` tokens a second flow in, at most `burst` are held.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    pub rate: f64,
    pub burst: f64,
}

/// What a bucket holds, as of when.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Level {
    tokens: f64,
    at_ms: i64,
}

/// Takes `n` tokens from a bucket at `level` (full when new) at `now_ms`: the level after, and
/// how many milliseconds until `n` tokens are there when they are not (nothing is taken then).
/// Pure; the Redis script below is the same arithmetic.
fn take_from(level: Option<Level>, b: Bucket, now_ms: i64, n: f64) -> (Level, i64) {
    let Level { tokens, at_ms } = level.unwrap_or(Level {
        tokens: b.burst,
        at_ms: now_ms,
    });
    let elapsed = (now_ms - at_ms).max(0) as f64 / 1000.0;
    let tokens = (tokens + elapsed * b.rate).min(b.burst);
    if tokens >= n {
        return (
            Level {
                tokens: tokens - n,
                at_ms: now_ms,
            },
            0,
        );
    }
    let wait = ((n - tokens) / b.rate * 1000.0).ceil() as i64;
    (
        Level {
            tokens,
            at_ms: now_ms,
        },
        wait.max(1),
    )
}

/// A bucket at `level` holding no more than `most` tokens (what the platform says is left
/// of its own count, which other callers of the same account also spend).
fn cap_at(level: Option<Level>, b: Bucket, now_ms: i64, most: f64) -> Level {
    let (refilled, _) = take_from(level, b, now_ms, 0.0);
    Level {
        tokens: refilled.tokens.min(most.max(0.0)),
        at_ms: now_ms,
    }
}

/// [`cap_at`] in Redis: KEYS[1] the bucket; ARGV rate, burst, now (ms), most.
const CAP_SCRIPT: &str = r"
local rate, burst, now, most = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(held[1]) or burst, tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate, math.max(0, most))
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return 0
";

/// [`take_from`] in Redis, atomically: KEYS[1] the bucket; ARGV rate, burst, now (ms), n.
const TAKE_SCRIPT: &str = r"
local rate, burst, now, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(held[1]) or burst, tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local wait = 0
if tokens >= n then tokens = tokens - n else wait = math.max(1, math.ceil((n - tokens) / rate * 1000)) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return wait
";

impl Memory {
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Window> {
        let expired = self
            .windows
            .get(key)
            .is_some_and(|w| now.duration_since(w.start) >= w.ttl);
        if expired {
            self.windows.remove(key);
        }
        self.windows.get_mut(key)
    }

    /// Room for one more key: expired windows go first, then the oldest tenth.
    fn make_room(&mut self, now: Instant) {
        if self.windows.len() < MEMORY_CAP {
            return;
        }
        self.windows
            .retain(|_, w| now.duration_since(w.start) < w.ttl);
        if self.windows.len() >= MEMORY_CAP {
            let mut starts: Vec<Instant> = self.windows.values().map(|w| w.start).collect();
            starts.sort_unstable();
            let cut = starts[MEMORY_CAP / 10];
            self.windows.retain(|_, w| w.start > cut);
        }
    }

    fn add(&mut self, key: &str, window: Duration, now: Instant) -> Window {
        if let Some(w) = self.live(key, now) {
            w.count += 1;
            w.last = now;
            return *w;
        }
        self.make_room(now);
        let w = Window {
            start: now,
            count: 1,
            last: now,
            ttl: window,
        };
        self.windows.insert(key.to_owned(), w);
        w
    }
}

pub enum RateLimiter {
    Memory(Mutex<Memory>),
    Redis {
        conn: ConnectionManager,
        prefix: String,
    },
}

/// What has been counted under a key: how many, and how long ago the last one was.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Count {
    pub count: u32,
    pub since_last: Duration,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl RateLimiter {
    pub fn memory() -> Self {
        RateLimiter::Memory(Mutex::new(Memory::default()))
    }

    fn memory_lock(map: &Mutex<Memory>) -> AppResult<std::sync::MutexGuard<'_, Memory>> {
        map.lock()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("rate-limit lock poisoned")))
    }

    /// Counts one hit on `key`; RATE_LIMITED once the window's limit is passed.
    pub async fn hit(&self, key: &str, limit: Limit) -> AppResult<()> {
        let (count, retry_after) = match self {
            RateLimiter::Memory(map) => {
                let now = Instant::now();
                let w = Self::memory_lock(map)?.add(key, limit.window, now);
                let left = limit.window.saturating_sub(now.duration_since(w.start));
                (w.count, left.as_secs().max(1))
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

    /// Records one event under `key` (a failure), kept for `window` after the last one.
    pub async fn record(&self, key: &str, window: Duration) -> AppResult<()> {
        match self {
            RateLimiter::Memory(map) => {
                let now = Instant::now();
                let mut map = Self::memory_lock(map)?;
                let w = map.add(key, window, now);
                // Kept for `window` after the last event: the start moves up.
                if let Some(w2) = map.windows.get_mut(key) {
                    w2.ttl = now.duration_since(w.start) + window;
                }
            }
            RateLimiter::Redis { conn, prefix } => {
                let key = format!("{prefix}ratelimit:{key}");
                let mut conn = conn.clone();
                let () = redis::pipe()
                    .atomic()
                    .hincr(&key, "count", 1)
                    .ignore()
                    .hset(&key, "last", now_ms())
                    .ignore()
                    .expire(&key, window.as_secs() as i64)
                    .ignore()
                    .query_async(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// What [`RateLimiter::record`] has counted under `key`, if anything.
    pub async fn recorded(&self, key: &str) -> AppResult<Option<Count>> {
        Ok(self.recorded_all(&[key]).await?.pop().flatten())
    }

    /// [`RateLimiter::recorded`] of several keys, in one round trip to Redis (an inbound
    /// webhook checks two on every request).
    pub async fn recorded_all(&self, keys: &[&str]) -> AppResult<Vec<Option<Count>>> {
        match self {
            RateLimiter::Memory(map) => {
                let now = Instant::now();
                let mut map = Self::memory_lock(map)?;
                Ok(keys
                    .iter()
                    .map(|key| {
                        map.live(key, now).map(|w| Count {
                            count: w.count,
                            since_last: now.duration_since(w.last),
                        })
                    })
                    .collect())
            }
            RateLimiter::Redis { conn, prefix } => {
                let mut pipe = redis::pipe();
                for key in keys {
                    pipe.cmd("HMGET")
                        .arg(format!("{prefix}ratelimit:{key}"))
                        .arg("count")
                        .arg("last");
                }
                let mut conn = conn.clone();
                let answers: Vec<(Option<u32>, Option<i64>)> = pipe.query_async(&mut conn).await?;
                let now = now_ms();
                Ok(answers
                    .into_iter()
                    .map(|(count, last)| {
                        count.map(|count| Count {
                            count,
                            since_last: Duration::from_millis(
                                (now - last.unwrap_or(now)).max(0) as u64
                            ),
                        })
                    })
                    .collect())
            }
        }
    }

    /// Takes `n` tokens from the bucket `key`: `Duration::ZERO` when they were taken, else how
    /// long until they are there (nothing taken; ask again then).
    pub async fn take(&self, key: &str, bucket: Bucket, n: f64) -> AppResult<Duration> {
        let wait_ms = match self {
            RateLimiter::Memory(map) => {
                let mut map = Self::memory_lock(map)?;
                if map.buckets.len() >= MEMORY_CAP && !map.buckets.contains_key(key) {
                    // Buckets idle for a minute are full again: forgetting them changes nothing.
                    let stale = now_ms() - 60_000;
                    map.buckets.retain(|_, l| l.at_ms > stale);
                }
                let (level, wait) = take_from(map.buckets.get(key).copied(), bucket, now_ms(), n);
                map.buckets.insert(key.to_owned(), level);
                wait
            }
            RateLimiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::Script::new(TAKE_SCRIPT)
                    .key(format!("{prefix}bucket:{key}"))
                    .arg(bucket.rate)
                    .arg(bucket.burst)
                    .arg(now_ms())
                    .arg(n)
                    .invoke_async::<i64>(&mut conn)
                    .await?
            }
        };
        Ok(Duration::from_millis(wait_ms.max(0) as u64))
    }

    /// Lowers the bucket `key` to at most `most` tokens (a platform's own count of what is
    /// left), so the next takes wait for what the platform will allow.
    pub async fn cap(&self, key: &str, bucket: Bucket, most: f64) -> AppResult<()> {
        match self {
            RateLimiter::Memory(map) => {
                let mut map = Self::memory_lock(map)?;
                let level = cap_at(map.buckets.get(key).copied(), bucket, now_ms(), most);
                map.buckets.insert(key.to_owned(), level);
            }
            RateLimiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                redis::Script::new(CAP_SCRIPT)
                    .key(format!("{prefix}bucket:{key}"))
                    .arg(bucket.rate)
                    .arg(bucket.burst)
                    .arg(now_ms())
                    .arg(most)
                    .invoke_async::<i64>(&mut conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets what was counted under `key`.
    pub async fn clear(&self, key: &str) -> AppResult<()> {
        match self {
            RateLimiter::Memory(map) => {
                Self::memory_lock(map)?.windows.remove(key);
            }
            RateLimiter::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let () = redis::cmd("DEL")
                    .arg(format!("{prefix}ratelimit:{key}"))
                    .query_async(&mut conn)
                    .await?;
            }
        }
        Ok(())
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

    #[tokio::test]
    async fn a_capped_bucket_holds_what_the_platform_says_is_left() {
        let limiter = RateLimiter::memory();
        let b = Bucket {
            rate: 2.0,
            burst: 40.0,
        };
        limiter.cap("shop", b, 1.0).await.unwrap();
        assert_eq!(limiter.take("shop", b, 1.0).await.unwrap(), Duration::ZERO);
        // Empty now: the next call waits for the leak (half a second at 2 a second).
        let wait = limiter.take("shop", b, 1.0).await.unwrap();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500));
        // A cap never fills a bucket.
        let level = cap_at(None, b, 0, 100.0);
        assert_eq!(level.tokens, 40.0);
    }

    #[test]
    fn a_bucket_gives_its_burst_then_its_rate() {
        let b = Bucket {
            rate: 2.0,
            burst: 4.0,
        };
        let mut level = None;
        for _ in 0..4 {
            let (l, wait) = take_from(level, b, 0, 1.0);
            assert_eq!(wait, 0);
            level = Some(l);
        }
        // Empty: the next token is half a second away, and nothing is taken meanwhile.
        let (l, wait) = take_from(level, b, 0, 1.0);
        assert_eq!(wait, 500);
        let (l, wait) = take_from(Some(l), b, 500, 1.0);
        assert_eq!(wait, 0);
        // A long pause fills it to its burst, no further.
        let (l, _) = take_from(Some(l), b, 60_000, 0.0);
        assert_eq!(l.tokens, 4.0);
        // More than it holds at once: the wait says when.
        assert_eq!(take_from(Some(l), b, 60_000, 5.0).1, 500);
    }

    #[tokio::test]
    async fn the_memory_bucket_paces_one_key_and_not_another() {
        let limiter = RateLimiter::memory();
        let b = Bucket {
            rate: 1.0,
            burst: 2.0,
        };
        assert_eq!(limiter.take("c1", b, 2.0).await.unwrap(), Duration::ZERO);
        let wait = limiter.take("c1", b, 1.0).await.unwrap();
        assert!(wait > Duration::from_millis(900), "{wait:?}");
        assert_eq!(limiter.take("c2", b, 1.0).await.unwrap(), Duration::ZERO);
    }

    #[tokio::test]
    async fn recorded_events_are_counted_until_cleared() {
        let limiter = RateLimiter::memory();
        assert_eq!(limiter.recorded("f").await.unwrap(), None);
        limiter.record("f", Duration::from_secs(60)).await.unwrap();
        limiter.record("f", Duration::from_secs(60)).await.unwrap();
        let seen = limiter.recorded("f").await.unwrap().unwrap();
        assert_eq!(seen.count, 2);
        assert!(seen.since_last < Duration::from_secs(1));
        limiter.clear("f").await.unwrap();
        assert_eq!(limiter.recorded("f").await.unwrap(), None);
    }

    #[tokio::test]
    async fn sprayed_keys_never_grow_the_memory_past_its_cap() {
        let limiter = RateLimiter::memory();
        let limit = Limit {
            max: 10,
            window: Duration::from_secs(900),
        };
        for n in 0..(MEMORY_CAP + 5_000) {
            limiter
                .hit(&format!("login:email:{n}@spray.example"), limit)
                .await
                .unwrap();
        }
        let RateLimiter::Memory(map) = &limiter else {
            unreachable!()
        };
        assert!(map.lock().unwrap().windows.len() <= MEMORY_CAP);
    }
}
