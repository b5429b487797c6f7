//! Signed links for shoppers who have no login: order tracking, review and unsubscribe pages.
//! The token carries its fields in the clear (base64url) with an HMAC-SHA256 over the purpose
//! and the fields, under a key derived from the configured secret; it cannot be forged or
//! repurposed, and needs no table.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], purpose: &str, payload: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(b"orderflow link v1\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(payload);
    Some(mac)
}

/// A token for `purpose` carrying `fields` (which must not contain a newline).
pub fn sign(key: &[u8], purpose: &str, fields: &[&str]) -> String {
    let payload = fields.join("\n");
    let tag = mac(key, purpose, payload.as_bytes())
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default();
    // 128 bits of the tag are plenty for a link and keep it short.
    format!(
        "{}.{}",
        B64.encode(payload.as_bytes()),
        B64.encode(&tag[..tag.len().min(16)])
    )
}

/// The fields of a token signed for `purpose`, or None when it was not.
pub fn verify(key: &[u8], purpose: &str, token: &str) -> Option<Vec<String>> {
    let (payload, tag) = token.split_once('.')?;
    let payload = B64.decode(payload).ok()?;
    let tag = B64.decode(tag).ok()?;
    if tag.len() != 16 {
        return None;
    }
    mac(key, purpose, &payload)?
        .verify_truncated_left(&tag)
        .ok()?;
    let text = String::from_utf8(payload).ok()?;
    Some(text.split('\n').map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_purpose_and_key() {
        let token = sign(b"key", "review", &["t1", "o1"]);
        assert_eq!(
            verify(b"key", "review", &token),
            Some(vec!["t1".into(), "o1".into()])
        );
        assert_eq!(verify(b"key", "unsubscribe", &token), None);
        assert_eq!(verify(b"other", "review", &token), None);
        let (payload, tag) = token.split_once('.').unwrap_or_default();
        let forged = format!("{}.{tag}", B64.encode(b"t1\no2"));
        assert_ne!(payload, B64.encode(b"t1\no2"));
        assert_eq!(verify(b"key", "review", &forged), None);
        assert_eq!(verify(b"key", "review", "garbage"), None);
    }
}
