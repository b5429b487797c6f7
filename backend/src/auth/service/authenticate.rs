//! Turns a bearer credential into a [`Principal`]. The member's role is read on every request,
//! so a role change or removal takes effect at once, not when the access token expires.

use chrono::Utc;

use crate::auth::tokens;
use crate::domain::{TenantId, UserId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tenancy::repo::{api_keys, memberships};
use crate::tenancy::{Principal, TenantTx};

pub async fn authenticate(state: &AppState, bearer: &str) -> AppResult<Principal> {
    if bearer.starts_with(tokens::API_KEY) {
        return api_key(state, bearer, true).await;
    }
    user(state, bearer).await
}

/// The same check for a credential already in use (a subscription socket's, again while it
/// streams): nothing is written.
pub async fn authenticate_again(state: &AppState, bearer: &str) -> AppResult<Principal> {
    if bearer.starts_with(tokens::API_KEY) {
        return api_key(state, bearer, false).await;
    }
    user(state, bearer).await
}

async fn user(state: &AppState, bearer: &str) -> AppResult<Principal> {
    let claims = state.jwt.verify(bearer)?;
    let (tenant, user) = (TenantId(claims.tid), UserId(claims.sub));
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let membership = memberships::get(&tx, user).await?;
    tx.commit().await?;
    match membership {
        Some(m) => Ok(Principal::user(tenant, user, m.role)),
        None => Err(AppError::TokenInvalid(
            "you are no longer a member of this tenant",
        )),
    }
}

async fn api_key(state: &AppState, secret: &str, touch: bool) -> AppResult<Principal> {
    let tenant = tokens::tenant_of(tokens::API_KEY, secret)
        .ok_or(AppError::TokenInvalid("malformed API key"))?;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let key = api_keys::find_by_hash(&tx, &tokens::sha256_hex(secret))
        .await?
        .ok_or(AppError::TokenInvalid("unknown API key"))?;
    if key.revoked_at.is_some() {
        return Err(AppError::ApiKeyRevoked);
    }
    if touch {
        api_keys::touch(&tx, key.id, Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(Principal::api_key(tenant, key.id, key.scopes))
}
