//! Creating and revoking API keys. The secret is returned once and never again.

use super::publish_audit;
use crate::auth::tokens;
use crate::domain::ApiKeyId;
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::api_keys::{self, ApiKey, NewApiKey};
use crate::tenancy::repo::audit;
use crate::tenancy::{Permission, Principal, TenantTx};

const MAX_NAME: usize = 100;

/// A key may carry only scopes API keys may hold and that its creator holds.
pub async fn create_api_key(
    state: &AppState,
    principal: &Principal,
    name: &str,
    scopes: &[Permission],
) -> Outcome<(ApiKey, String)> {
    principal.require(Permission::ApiKeysManage)?;
    let creator = principal.user_id()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(UserError::on("name", C::Invalid, "must be 1 to 100 characters").into());
    }
    if scopes.is_empty() {
        return Err(UserError::on("scopes", C::Required, "name at least one scope").into());
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| !s.grantable_to_api_keys() || !principal.can(**s))
    {
        return Err(UserError::on(
            "scopes",
            C::ScopeNotAllowed,
            format!("{} cannot be given to an API key by you", bad.as_str()),
        )
        .into());
    }
    let mut scopes = scopes.to_vec();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();

    let secret = tokens::issue(tokens::API_KEY, principal.tenant);
    let random_part = secret.rsplit('_').next().unwrap_or_default();
    let prefix = format!(
        "{}_…{}",
        tokens::API_KEY,
        random_part.chars().take(6).collect::<String>()
    );
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let key = api_keys::create(
        &tx,
        NewApiKey {
            id: ApiKeyId::new(),
            name,
            prefix,
            secret_hash: tokens::sha256_hex(&secret),
            scopes: &scopes,
            created_by: creator,
        },
    )
    .await?;
    let entry = audit::record(&tx, principal.actor, "api_key.created", &format!("api_key:{}", key.id), serde_json::json!({ "name": name, "scopes": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>() })).await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok((key, secret))
}

pub async fn revoke_api_key(
    state: &AppState,
    principal: &Principal,
    id: ApiKeyId,
) -> Outcome<ApiKey> {
    principal.require(Permission::ApiKeysManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if !api_keys::revoke(&tx, id).await? {
        return Err(UserError::on("id", C::NotFound, "no active API key with this id").into());
    }
    let entry = audit::record(
        &tx,
        principal.actor,
        "api_key.revoked",
        &format!("api_key:{id}"),
        serde_json::json!({}),
    )
    .await?;
    let key = api_keys::get(&tx, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(key)
}
