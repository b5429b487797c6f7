//! How often a password may be tried for an address, shared by sign-in and sign-up (which
//! checks an existing account's password too). Limits that a guesser meets and the owner does
//! not:
//! - per client address, all attempts: credential stuffing across many accounts;
//! - per address and client, failures: one client guessing one account;
//! - per address from anywhere, failures: past a few, each further try waits twice as long
//!   as the one before (up to five minutes) — a slowdown, never a lockout — and a client the
//!   owner has signed in from before is exempt, so a guesser cannot keep the owner out.

use std::time::Duration;

use crate::domain::Email;
use crate::error::{AppError, AppResult};
use crate::infra::ratelimit::{LOGIN_PER_IP, Limit, RateLimiter};

/// Failures one client may have on one address per window.
pub const PER_CLIENT: Limit = Limit {
    max: 10,
    window: Duration::from_secs(15 * 60),
};
/// Failures from anywhere before tries on an address are spaced out.
pub const FREE_FAILURES: u32 = 5;
/// The longest pause between tries on an address.
pub const MAX_PAUSE: Duration = Duration::from_secs(5 * 60);
/// Failures on an address are remembered this long after the last.
const FAILURES_KEPT: Duration = Duration::from_secs(60 * 60);
/// A client the owner signed in from is remembered this long.
const KNOWN_CLIENT: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The pause required after `failures` failures on an address. Pure.
pub fn pause_after(failures: u32) -> Duration {
    match failures.checked_sub(FREE_FAILURES) {
        None => Duration::ZERO,
        Some(over) => Duration::from_secs(1u64 << over.min(16)).min(MAX_PAUSE),
    }
}

fn keys(email: &Email, ip: &str) -> (String, String, String) {
    (
        format!("auth:client:{email}|{ip}"),
        format!("auth:address:{email}"),
        format!("auth:known:{email}|{ip}"),
    )
}

/// Before a password is checked for `email` from `ip` (`what`: login, signup): RATE_LIMITED
/// when one of the limits says to wait.
pub async fn before(limiter: &RateLimiter, what: &str, email: &Email, ip: &str) -> AppResult<()> {
    limiter
        .hit(&format!("{what}:ip:{ip}"), LOGIN_PER_IP)
        .await?;
    let (client, address, known) = keys(email, ip);
    if let Some(seen) = limiter.recorded(&client).await?
        && seen.count >= PER_CLIENT.max
    {
        let left = PER_CLIENT.window.saturating_sub(seen.since_last);
        return Err(AppError::RateLimited {
            retry_after_secs: left.as_secs().max(1),
        });
    }
    if limiter.recorded(&known).await?.is_some() {
        return Ok(());
    }
    if let Some(seen) = limiter.recorded(&address).await? {
        let pause = pause_after(seen.count);
        if seen.since_last < pause {
            return Err(AppError::RateLimited {
                retry_after_secs: (pause - seen.since_last).as_secs().max(1),
            });
        }
    }
    Ok(())
}

/// A wrong password for `email` from `ip`.
pub async fn failed(limiter: &RateLimiter, email: &Email, ip: &str) -> AppResult<()> {
    let (client, address, _) = keys(email, ip);
    limiter.record(&client, PER_CLIENT.window).await?;
    limiter.record(&address, FAILURES_KEPT).await
}

/// The right password for `email` from `ip`: this client is the owner's from now on.
pub async fn succeeded(limiter: &RateLimiter, email: &Email, ip: &str) -> AppResult<()> {
    let (client, _, known) = keys(email, ip);
    limiter.clear(&client).await?;
    limiter.record(&known, KNOWN_CLIENT).await
}

/// Failed signature or token checks on one inbound endpoint (a channel connection's webhook,
/// a carrier's tracking webhook, a tenant's inbound mail): per client, and from all clients
/// together, so a secret in a URL or header cannot be guessed at speed.
const ENDPOINT_PER_CLIENT: Limit = Limit {
    max: 20,
    window: Duration::from_secs(10 * 60),
};
const ENDPOINT_TOTAL: Limit = Limit {
    max: 600,
    window: Duration::from_secs(10 * 60),
};

fn endpoint_keys(endpoint: &str, ip: &str) -> [(String, Limit); 2] {
    [
        (format!("endpoint:{endpoint}|{ip}"), ENDPOINT_PER_CLIENT),
        (format!("endpoint:{endpoint}"), ENDPOINT_TOTAL),
    ]
}

/// Before a signature or token is checked on `endpoint`: RATE_LIMITED after too many
/// failures.
pub async fn endpoint_open(limiter: &RateLimiter, endpoint: &str, ip: &str) -> AppResult<()> {
    let keys = endpoint_keys(endpoint, ip);
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let seen = limiter.recorded_all(&names).await?;
    for ((_, limit), seen) in keys.iter().zip(seen) {
        if let Some(seen) = seen
            && seen.count >= limit.max
        {
            let left = limit.window.saturating_sub(seen.since_last);
            return Err(AppError::RateLimited {
                retry_after_secs: left.as_secs().max(1),
            });
        }
    }
    Ok(())
}

/// A failed signature or token check on `endpoint` from `ip`.
pub async fn endpoint_failed(limiter: &RateLimiter, endpoint: &str, ip: &str) -> AppResult<()> {
    for (key, limit) in endpoint_keys(endpoint, ip) {
        limiter.record(&key, limit.window).await?;
    }
    Ok(())
}

/// The 429 an inbound endpoint answers while its failures are limited.
pub fn endpoint_refusal(err: AppError) -> actix_web::HttpResponse {
    let retry = match err {
        AppError::RateLimited { retry_after_secs } => retry_after_secs,
        _ => 60,
    };
    actix_web::HttpResponse::TooManyRequests()
        .insert_header(("retry-after", retry.to_string()))
        .json(serde_json::json!({
            "code": "RATE_LIMITED",
            "message": format!("too many failed checks: try again in {retry} seconds"),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[tokio::test]
    async fn an_endpoint_closes_to_a_guessing_client_and_stays_open_to_others() {
        let limiter = RateLimiter::memory();
        for _ in 0..ENDPOINT_PER_CLIENT.max {
            endpoint_open(&limiter, "carrier:1", "203.0.113.5")
                .await
                .unwrap();
            endpoint_failed(&limiter, "carrier:1", "203.0.113.5")
                .await
                .unwrap();
        }
        assert!(
            endpoint_open(&limiter, "carrier:1", "203.0.113.5")
                .await
                .is_err()
        );
        endpoint_open(&limiter, "carrier:1", "198.51.100.1")
            .await
            .unwrap();
        endpoint_open(&limiter, "carrier:2", "203.0.113.5")
            .await
            .unwrap();
    }

    #[test]
    fn pauses_start_after_the_free_failures_double_and_stop_growing() {
        assert_eq!(pause_after(0), Duration::ZERO);
        assert_eq!(pause_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(pause_after(FREE_FAILURES), Duration::from_secs(1));
        assert_eq!(pause_after(FREE_FAILURES + 3), Duration::from_secs(8));
        assert_eq!(pause_after(FREE_FAILURES + 40), MAX_PAUSE);
        assert_eq!(pause_after(u32::MAX), MAX_PAUSE);
    }

    #[tokio::test]
    async fn a_guesser_slows_the_address_down_but_never_locks_the_owner_out() {
        let limiter = RateLimiter::memory();
        let admin = email("admin@shop.example");
        // The owner signed in from home once.
        before(&limiter, "login", &admin, "198.51.100.7")
            .await
            .unwrap();
        succeeded(&limiter, &admin, "198.51.100.7").await.unwrap();
        // A guesser fails from many addresses.
        for n in 0..FREE_FAILURES {
            let ip = format!("203.0.113.{n}");
            before(&limiter, "login", &admin, &ip).await.unwrap();
            failed(&limiter, &admin, &ip).await.unwrap();
        }
        // Now every new client waits…
        assert!(matches!(
            before(&limiter, "login", &admin, "203.0.113.99").await,
            Err(AppError::RateLimited { .. })
        ));
        // …but the owner's own client goes straight in.
        before(&limiter, "login", &admin, "198.51.100.7")
            .await
            .unwrap();
        // Another address is untouched.
        before(
            &limiter,
            "login",
            &email("other@shop.example"),
            "203.0.113.99",
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn one_client_is_stopped_on_one_address_after_its_failures() {
        let limiter = RateLimiter::memory();
        let admin = email("admin@shop.example");
        for _ in 0..PER_CLIENT.max {
            // Recorded directly: this is about the per-client count, not the pauses.
            failed(&limiter, &admin, "203.0.113.1").await.unwrap();
        }
        succeeded(&limiter, &admin, "192.0.2.1").await.unwrap();
        assert!(matches!(
            before(&limiter, "login", &admin, "203.0.113.1").await,
            Err(AppError::RateLimited { .. })
        ));
        before(&limiter, "login", &admin, "192.0.2.1")
            .await
            .unwrap();
    }
}
