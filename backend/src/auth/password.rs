//! Passwords: length rules and argon2id hashing with OWASP's recommended parameters
//! (m = 19 MiB, t = 2, p = 1). Hashing runs on the blocking pool: it takes tens of milliseconds.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, AppResult};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Checks a new password; the error names the rule broken.
pub fn check_new(password: &str) -> Result<(), (&'static str, String)> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err((
            "PASSWORD_TOO_SHORT",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if chars > MAX_LEN {
        return Err((
            "PASSWORD_TOO_LONG",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn hasher() -> AppResult<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let hash = hasher()?
            .hash_password(password.as_bytes())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 hash: {e}")))?;
        Ok(hash.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// True when `password` matches `stored`. With no stored hash (unknown user), a dummy hash is
/// still verified, so the answer takes as long for unknown emails as for wrong passwords.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = match stored {
            Some(hash) => hash,
            None => dummy_hash()?.to_owned(),
        };
        let ok = hasher()?
            .verify_password(password.as_bytes(), stored.as_str())
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// A hash of a random string nobody knows, with the same parameters as real hashes.
fn dummy_hash() -> AppResult<&'static str> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let secret = crate::domain::secret::random_token(32);
    let hash = hasher()?
        .hash_password(secret.as_bytes())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 hash: {e}")))?
        .to_string();
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn new_passwords_must_be_12_to_128_characters() {
        assert_eq!(check_new("short").unwrap_err().0, "PASSWORD_TOO_SHORT");
        assert!(check_new("twelve chars").is_ok());
        assert_eq!(
            check_new(&"x".repeat(129)).unwrap_err().0,
            "PASSWORD_TOO_LONG"
        );
    }
}
