//! What a resolver can get from the request context.

use std::sync::Arc;

use async_graphql::Context;

use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::repo::{api_keys, users};
use crate::tenancy::{Actor, Principal, TenantTx, UserTx};

/// Facts about the HTTP request that the schema needs (rate limits key on the client).
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub client_ip: String,
}

pub fn state<'a>(ctx: &'a Context<'_>) -> &'a AppState {
    ctx.data_unchecked::<Arc<AppState>>()
}

/// The authenticated caller, or UNAUTHENTICATED.
pub fn principal<'a>(ctx: &'a Context<'_>) -> Result<&'a Principal, AppError> {
    ctx.data_opt::<Principal>().ok_or(AppError::Unauthenticated)
}

pub fn client_ip(ctx: &Context<'_>) -> String {
    ctx.data_opt::<RequestMeta>()
        .map(|m| m.client_ip.clone())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Who the caller is, in words, for the timeline.
pub async fn actor_label(ctx: &Context<'_>, p: &Principal) -> Result<Option<String>, AppError> {
    let db = &state(ctx).db;
    Ok(match p.actor {
        Actor::User(user) => {
            let tx = UserTx::begin(db, user).await?;
            let email = users::get(&tx, user).await?.map(|u| u.email);
            tx.commit().await?;
            email
        }
        Actor::ApiKey(key) => {
            let tx = TenantTx::begin(db, p.tenant).await?;
            let name = api_keys::get(&tx, key)
                .await?
                .map(|k| format!("API key {}", k.name));
            tx.commit().await?;
            name
        }
        Actor::System | Actor::Channel(_) => None,
    })
}
