//! A signed-in session: an access token and the refresh token that renews it.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::auth::tokens;
use crate::domain::{TenantId, UserId, new_id};
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::repo::refresh_tokens;
use crate::tenancy::{Role, TenantTx};

/// How long an unused refresh token stays valid.
pub const REFRESH_TTL: Duration = Duration::days(30);

#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub user: UserId,
    pub tenant: TenantId,
    pub role: Role,
}

impl Session {
    /// Issues tokens for `user` in the transaction's tenant; `family` continues a rotation
    /// chain, `None` starts a new one (a new login).
    pub async fn start(
        state: &AppState,
        tx: &TenantTx,
        user: UserId,
        role: Role,
        family: Option<Uuid>,
    ) -> AppResult<Self> {
        let now = Utc::now();
        let refresh_token = tokens::issue(tokens::REFRESH, tx.tenant());
        refresh_tokens::create(
            tx,
            user,
            family.unwrap_or_else(new_id),
            tokens::sha256_hex(&refresh_token),
            now + REFRESH_TTL,
        )
        .await?;
        let (access_token, access_expires_at) = state.jwt.issue(user, tx.tenant(), now)?;
        Ok(Self {
            access_token,
            access_expires_at,
            refresh_token,
            user,
            tenant: tx.tenant(),
            role,
        })
    }
}
