//! Webhook signatures: HMAC-SHA256 over the raw body, compared in constant time, before a
//! single byte of the body is parsed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub fn hmac_sha256(key: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// `header` is the base64 HMAC of `body` under `secret` (Shopify, WooCommerce).
pub fn valid_base64_hmac(header: Option<&str>, secret: &str, body: &[u8]) -> bool {
    let Some(given) = header.and_then(|h| STANDARD.decode(h.trim()).ok()) else {
        return false;
    };
    let expected = hmac_sha256(secret.as_bytes(), body);
    given.ct_eq(&expected).into()
}

/// A shared secret sent as a header (BigCommerce's custom webhook headers).
pub fn same_secret(header: Option<&str>, secret: &str) -> bool {
    header.is_some_and(|h| h.trim().as_bytes().ct_eq(secret.as_bytes()).into())
}

/// `given` is the hex of `expected`, compared in constant time.
pub fn hex_matches(given: &str, expected: &[u8]) -> bool {
    hex::decode(given.trim())
        .map(|g| bool::from(g.ct_eq(expected)))
        .unwrap_or(false)
}

/// `t=<unix>,v1=<hex>` over `"<t>.<body>"` (Stripe's scheme, which Shippo and Orderflow's
/// own webhooks share), signed within `tolerance` seconds of `now` so that an old delivery
/// cannot be replayed.
pub fn timestamped(
    value: Option<&str>,
    secret: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> bool {
    let Some(value) = value else {
        return false;
    };
    let mut t = None;
    let mut sigs = Vec::new();
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let Some(t) = t else {
        return false;
    };
    if now
        .checked_sub(t)
        .is_none_or(|d| d.checked_abs().is_none_or(|d| d > tolerance))
    {
        return false;
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = hmac_sha256(secret.as_bytes(), &signed);
    sigs.iter().any(|s| hex_matches(s, &expected))
}

/// The `t=<unix>,v1=<hex>` value for `body` at `t` (senders, tests, the docs).
pub fn sign_timestamped(secret: &str, body: &[u8], t: i64) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "t={t},v1={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &signed))
    )
}

/// The base64 signature of `body`, as a platform would send it (tests, the benchmark).
pub fn sign_base64(secret: &str, body: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(secret.as_bytes(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_only_their_body_and_secret() {
        let body = br#"{"id":1}"#;
        let sig = sign_base64("s3cret", body);
        assert!(valid_base64_hmac(Some(&sig), "s3cret", body));
        assert!(!valid_base64_hmac(Some(&sig), "other", body));
        assert!(!valid_base64_hmac(Some(&sig), "s3cret", br#"{"id":2}"#));
        assert!(!valid_base64_hmac(None, "s3cret", body));
        assert!(!valid_base64_hmac(Some("not base64!"), "s3cret", body));
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(same_secret(Some(" abc "), "abc") && !same_secret(Some("abd"), "abc"));
    }
}
