//! Sealing secrets at rest: channel credentials and webhook secrets are stored encrypted with
//! XChaCha20-Poly1305 under a key from configuration, bound to the row they belong to, so a
//! copied database (or a ciphertext moved to another row) reveals nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key (wrong ORDERFLOW_SECRET_KEY, or moved)")]
    WrongKey,
}

impl Sealer {
    /// From configured key material of any length (at least 32 bytes are required upstream),
    /// condensed to a 256-bit key.
    pub fn new(key_material: &[u8]) -> Self {
        let key = Sha256::new()
            .chain_update(b"orderflow seal v1\0")
            .chain_update(key_material)
            .finalize();
        Self {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    /// Encrypts `plain`, bound to `context` (e.g. "tenant/connection/credentials").
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and nonce size cannot fail.
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}:{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix("v1:").ok_or(SealError::Malformed)?;
        let raw = STANDARD.decode(body).map_err(|_| SealError::Malformed)?;
        if raw.len() < 24 {
            return Err(SealError::Malformed);
        }
        let (nonce, msg) = raw.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError::Malformed)?;
        let payload = Payload {
            msg,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(&XNonce::from(nonce), payload)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let sealer = Sealer::new(b"a key that is at least thirty-two bytes long");
        let sealed = sealer.seal("shpss_secret", "t/c/webhook");
        assert!(!sealed.contains("shpss_secret"));
        assert_ne!(
            sealed,
            sealer.seal("shpss_secret", "t/c/webhook"),
            "fresh nonce each time"
        );
        assert_eq!(sealer.open(&sealed, "t/c/webhook").unwrap(), "shpss_secret");
        assert!(matches!(
            sealer.open(&sealed, "t/other/webhook"),
            Err(SealError::WrongKey)
        ));
        let other = Sealer::new(b"another key that is at least thirty-two bytes");
        assert!(matches!(
            other.open(&sealed, "t/c/webhook"),
            Err(SealError::WrongKey)
        ));
        assert!(matches!(
            sealer.open("garbage", "x"),
            Err(SealError::Malformed)
        ));
    }
}
