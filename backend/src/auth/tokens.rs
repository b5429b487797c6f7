//! Opaque secrets: refresh tokens, API keys and invitation tokens.
//!
//! Each is `<kind>_<tenant id>_<random>`: the tenant part lets the server open a transaction
//! scoped to that tenant before looking the token up; the random part is 256 bits, so only
//! its SHA-256 is stored.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::domain::secret::random_token;

pub const REFRESH: &str = "ofr";
pub const API_KEY: &str = "ofk";
pub const INVITATION: &str = "ofi";

/// Shortest secret a merchant may type (one a platform or tracking service shows them, for
/// Orderflow to check its signatures with); secrets Orderflow makes have 32 random bytes.
pub const MIN_TYPED_SECRET: usize = 16;
/// Longest such secret kept.
pub const MAX_TYPED_SECRET: usize = 500;

/// A typed secret, trimmed, or why it is refused.
pub fn check_typed_secret(secret: &str) -> Result<String, String> {
    let secret = secret.trim();
    let n = secret.chars().count();
    if n < MIN_TYPED_SECRET {
        return Err(format!(
            "must be at least {MIN_TYPED_SECRET} characters: a shorter one can be guessed"
        ));
    }
    if n > MAX_TYPED_SECRET {
        return Err(format!("must be at most {MAX_TYPED_SECRET} characters"));
    }
    Ok(secret.to_owned())
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A new token of `kind` for `tenant`.
pub fn issue(kind: &str, tenant: TenantId) -> String {
    format!("{kind}_{}_{}", tenant.uuid().simple(), random_token(32))
}

/// The tenant a token of `kind` belongs to, or None when it is not such a token.
pub fn tenant_of(kind: &str, token: &str) -> Option<TenantId> {
    let rest = token.strip_prefix(kind)?.strip_prefix('_')?;
    let (tenant, secret) = rest.split_once('_')?;
    if secret.len() < 40 {
        return None;
    }
    Uuid::try_parse(tenant).ok().map(TenantId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_tenant_and_kind() {
        let tenant = TenantId::new();
        let token = issue(API_KEY, tenant);
        assert_eq!(tenant_of(API_KEY, &token), Some(tenant));
        assert_eq!(tenant_of(REFRESH, &token), None);
        assert_eq!(tenant_of(API_KEY, "ofk_nonsense"), None);
        assert_ne!(issue(API_KEY, tenant), token, "tokens are random");
    }
}
