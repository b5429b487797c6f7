//! Subscriptions check their caller again while they stream: a socket authenticates once, in
//! `connection_init`, but its token expires, an API key is revoked, a member is removed or
//! given a lower role. Every event is re-checked (the answer kept for a moment, so a busy
//! stream costs one lookup a few seconds), and a stream ends when its access token expires.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Context;
use futures_util::{Stream, StreamExt};

use crate::auth::service::authenticate_again;
use crate::error::AppError;
use crate::graphql::context::principal;
use crate::state::AppState;
use crate::tenancy::Permission;

/// How long a check's answer is reused.
const RECHECK_AFTER: Duration = Duration::from_secs(2);

/// The credential a socket authenticated with.
#[derive(Clone)]
pub struct SocketCredential {
    token: Arc<str>,
    /// When an access token expires (an API key has no expiry; it can only be revoked).
    expires: Option<Instant>,
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl SocketCredential {
    /// `expires_at` in Unix seconds.
    pub fn new(token: &str, expires_at: Option<i64>) -> Self {
        let expires = expires_at.map(|at| {
            let left = at.saturating_sub(chrono::Utc::now().timestamp()).max(0);
            Instant::now() + Duration::from_secs(left.unsigned_abs())
        });
        Self {
            token: token.into(),
            expires,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether the credential still grants `permission` in `tenant`.
    async fn allows(
        &self,
        state: &AppState,
        tenant: crate::domain::TenantId,
        permission: Permission,
    ) -> bool {
        if self.expires.is_some_and(|at| Instant::now() >= at) {
            return false;
        }
        let cached = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, answer)) = cached
            && at.elapsed() < RECHECK_AFTER
        {
            return answer;
        }
        let answer = match authenticate_again(state, &self.token).await {
            Ok(p) => p.tenant == tenant && p.require(permission).is_ok(),
            Err(_) => false,
        };
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), answer));
        answer
    }
}

/// `stream`, for as long as the socket's credential grants `permission`: checked before the
/// first event and with each, and ended when an access token expires.
pub async fn while_allowed<S>(
    ctx: &Context<'_>,
    permission: Permission,
    stream: S,
) -> async_graphql::Result<impl Stream<Item = S::Item> + use<S>>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
{
    let tenant = principal(ctx)?.tenant;
    let state = ctx.data_unchecked::<Arc<AppState>>().clone();
    // A subscription started over plain HTTP (not a socket) has nothing to re-check.
    let credential = ctx
        .data_opt::<SocketCredential>()
        .cloned()
        .ok_or(AppError::Unauthenticated)?;
    if !credential.allows(&state, tenant, permission).await {
        return Err(AppError::TokenInvalid(
            "this connection's credential no longer allows it: reconnect with a valid one",
        )
        .into());
    }
    let expires = credential.expires;
    let checked = stream
        .then(move |item| {
            let (state, credential) = (state.clone(), credential.clone());
            async move { (credential.allows(&state, tenant, permission).await, item) }
        })
        .take_while(|(allowed, _)| std::future::ready(*allowed))
        .map(|(_, item)| item);
    let expiry = async move {
        match expires {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => std::future::pending().await,
        }
    };
    Ok(checked.take_until(expiry))
}
