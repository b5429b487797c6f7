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
