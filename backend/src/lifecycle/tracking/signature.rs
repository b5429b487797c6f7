//! Tracking webhook signatures, each source's own scheme, checked before the body is parsed.
//!
//! - EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex>` over the body, keyed with the secret
//!   normalised to Unicode NFKD.
//! - Shippo: `Shippo-Auth-Signature: t=<unix>,v1=<hex>` over `"<t>.<body>"` (opt-in HMAC), or
//!   the secret as a `token` query parameter of the webhook URL (Shippo's other option).
//! - AfterShip: `aftership-hmac-sha256: <base64>` over the body.
//! - Orderflow: `X-Orderflow-Signature: t=<unix>,v1=<hex>` over `"<t>.<body>"`.
//!
//! Timestamped schemes refuse a signature older or newer than five minutes (replays).

use actix_web::http::header::HeaderMap;
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

use crate::infra::signature::{
    hex_matches, hmac_sha256, sign_timestamped, timestamped, valid_base64_hmac,
};
use crate::lifecycle::shipping::status::Source;

/// How far a signed timestamp may be from now.
pub const TOLERANCE_SECS: i64 = 300;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn verify(
    source: Source,
    headers: &HeaderMap,
    query_token: Option<&str>,
    body: &[u8],
    secret: &str,
    now: i64,
) -> bool {
    match source {
        Source::Easypost => {
            let Some(given) = header(headers, "x-hmac-signature")
                .and_then(|h| h.trim().strip_prefix("hmac-sha256-hex="))
            else {
                return false;
            };
            let key: String = secret.nfkd().collect();
            hex_matches(given, &hmac_sha256(key.as_bytes(), body))
        }
        Source::Shippo => match header(headers, "shippo-auth-signature") {
            Some(value) => timestamped(Some(value), secret, body, now, TOLERANCE_SECS),
            None => query_token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(secret.as_bytes()))),
        },
        Source::Aftership => {
            valid_base64_hmac(header(headers, "aftership-hmac-sha256"), secret, body)
        }
        Source::Orderflow => timestamped(
            header(headers, "x-orderflow-signature"),
            secret,
            body,
            now,
            TOLERANCE_SECS,
        ),
    }
}

/// The `X-Orderflow-Signature` value for `body` at `t` (for senders, tests and the docs).
pub fn sign_orderflow(secret: &str, body: &[u8], t: i64) -> String {
    sign_timestamped(secret, body, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(HeaderName::from_static(name), v);
        }
        h
    }

    #[test]
    fn easypost_published_vector_needs_nfkd_and_the_exact_bytes() {
        let path = format!(
            "{}/tests/fixtures/easypost/event_tracker_updated_in_transit.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let file = std::fs::read(path).unwrap_or_default();
        let body = file.strip_suffix(b"\n").unwrap_or(&file);
        assert_eq!(body.len(), 3550);
        let h = headers(
            "x-hmac-signature",
            "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db",
        );
        assert!(verify(Source::Easypost, &h, None, body, "sécret", 0));
        // With the trailing newline the bytes differ; an un-normalised key differs too.
        assert!(!verify(Source::Easypost, &h, None, &file, "sécret", 0));
        let key = "sécret";
        let raw = hex::encode(hmac_sha256(key.as_bytes(), body));
        assert_ne!(
            raw,
            "38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db"
        );
    }

    #[test]
    fn timestamped_signatures_expire() {
        let body = br#"{"trackingNumber":"x"}"#;
        let sig = sign_orderflow("k", body, 1_000_000);
        let h = headers("x-orderflow-signature", &sig);
        assert!(verify(Source::Orderflow, &h, None, body, "k", 1_000_100));
        assert!(!verify(Source::Orderflow, &h, None, body, "k", 1_000_400));
        assert!(!verify(
            Source::Orderflow,
            &h,
            None,
            body,
            "other",
            1_000_100
        ));
        let shippo = headers("shippo-auth-signature", &sig);
        assert!(verify(Source::Shippo, &shippo, None, body, "k", 1_000_000));
        // Without the header, Shippo's URL token.
        assert!(verify(
            Source::Shippo,
            &HeaderMap::new(),
            Some("k"),
            body,
            "k",
            0
        ));
        assert!(!verify(
            Source::Shippo,
            &HeaderMap::new(),
            Some("x"),
            body,
            "k",
            0
        ));
        assert!(!verify(
            Source::Shippo,
            &HeaderMap::new(),
            None,
            body,
            "k",
            0
        ));
    }

    #[test]
    fn aftership_signs_base64() {
        let body = br#"{"event":"tracking_update"}"#;
        let sig = crate::infra::signature::sign_base64("k", body);
        let h = headers("aftership-hmac-sha256", &sig);
        assert!(verify(Source::Aftership, &h, None, body, "k", 0));
        assert!(!verify(Source::Aftership, &h, None, b"{}", "k", 0));
    }
}
