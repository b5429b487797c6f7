//! Access tokens: short-lived HS256 JWTs naming the user and the tenant they act in.
//! Issuer, audience and expiry are always checked.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{TenantId, UserId};
use crate::error::{AppError, AppResult};

pub const ISSUER: &str = "orderflow";
pub const AUDIENCE: &str = "orderflow-api";
pub const ACCESS_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: Uuid,
    /// The tenant the token acts in.
    pub tid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A token for `user` in `tenant`, valid from `now` for [`ACCESS_TTL`].
    pub fn issue(
        &self,
        user: UserId,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> AppResult<(String, DateTime<Utc>)> {
        let expires = now + ACCESS_TTL;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user.uuid(),
            tid: tenant.uuid(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: Uuid::now_v7(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("jwt encode: {e}")))?;
        Ok((token, expires))
    }

    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AppError::TokenExpired,
                ErrorKind::InvalidSignature => AppError::TokenInvalid("signature does not match"),
                ErrorKind::InvalidIssuer => AppError::TokenInvalid("wrong issuer"),
                ErrorKind::InvalidAudience => AppError::TokenInvalid("wrong audience"),
                ErrorKind::InvalidAlgorithm => AppError::TokenInvalid("wrong algorithm"),
                _ => AppError::TokenInvalid("malformed token"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret that is at least 32 bytes long";

    #[test]
    fn a_fresh_token_verifies_and_names_user_and_tenant() {
        let keys = JwtKeys::new(SECRET);
        let (user, tenant) = (UserId::new(), TenantId::new());
        let (token, _) = keys.issue(user, tenant, Utc::now()).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.tid), (user.uuid(), tenant.uuid()));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused_with_their_reason() {
        let keys = JwtKeys::new(SECRET);
        let (old, _) = keys
            .issue(
                UserId::new(),
                TenantId::new(),
                Utc::now() - Duration::hours(1),
            )
            .unwrap();
        assert!(matches!(keys.verify(&old), Err(AppError::TokenExpired)));

        let (token, _) = keys
            .issue(UserId::new(), TenantId::new(), Utc::now())
            .unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        assert!(matches!(
            keys.verify(&parts.join(".")),
            Err(AppError::TokenInvalid(_))
        ));

        let other = JwtKeys::new(b"another secret that is also 32 bytes or more");
        assert!(matches!(
            other.verify(&token),
            Err(AppError::TokenInvalid(_))
        ));
    }
}
