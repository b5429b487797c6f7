//! Forgotten passwords: a reset link by email, good once for an hour. The request answers the
//! same whether or not the address has an account (and takes as long), so it reveals nothing;
//! only the token's hash is stored. Setting the new password ends every session of the user.

use chrono::{Duration, Utc};
use entity::password_resets;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::password_error;
use crate::auth::{password, tokens};
use crate::domain::{Email, UserId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::infra::ratelimit::{LOGIN_PER_IP, MAIL_PER_ADDRESS};
use crate::state::AppState;
use crate::tenancy::repo::{memberships, refresh_tokens, users};
use crate::tenancy::{AnyTx, GlobalTx, TenantTx, UserTx};

pub const RESET_TTL: Duration = Duration::hours(1);

/// Mails a reset link when `email` has an account. Always succeeds (apart from rate limits and
/// a malformed address), so the answer says nothing about who has an account.
pub async fn request_password_reset(
    state: &std::sync::Arc<AppState>,
    email: &str,
    client_ip: &str,
) -> Outcome<()> {
    let email = Email::parse(email).map_err(|m| UserError::on("email", C::InvalidEmail, m))?;
    state
        .limiter
        .hit(&format!("reset:email:{email}"), MAIL_PER_ADDRESS)
        .await?;
    state
        .limiter
        .hit(&format!("reset:ip:{client_ip}"), LOGIN_PER_IP)
        .await?;
    // Everything after the checks runs after answering, so an address with an account takes
    // no longer (and no more database work) to answer than one without.
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = issue(&state, &email).await {
            tracing::warn!(error = format!("{e:#}"), "password reset not issued");
        }
    });
    Ok(())
}

/// Stores a reset for the account of `email` (if any) and mails its link; the outcome is
/// recorded on the reset.
async fn issue(state: &AppState, email: &Email) -> anyhow::Result<()> {
    let tx = GlobalTx::begin(&state.db).await?;
    // The verified account; without one, the newest that is not (resetting proves the
    // address, but the account only becomes verified by its own link).
    let Some(user) = users::all_by_email(&tx, email).await?.into_iter().next() else {
        tx.commit().await?;
        return Ok(());
    };
    let token = crate::domain::secret::random_token(32);
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    password_resets::Entity::insert(password_resets::ActiveModel {
        id: Set(id),
        user_id: Set(user.id),
        token_hash: Set(tokens::sha256_hex(&token)),
        expires_at: Set(now + RESET_TTL),
        used_at: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(tx.conn())
    .await?;
    tx.commit().await?;
    let (sent, error) = match send(state, email, &token, now + RESET_TTL).await {
        Ok(()) => (Some(Utc::now()), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let tx = GlobalTx::begin(&state.db).await?;
    password_resets::Entity::update(password_resets::ActiveModel {
        id: Set(id),
        sent_at: Set(sent),
        last_error: Set(error.clone()),
        ..Default::default()
    })
    .exec(tx.conn())
    .await?;
    tx.commit().await?;
    match error {
        Some(e) => Err(anyhow::anyhow!(e)),
        None => Ok(()),
    }
}

async fn send(
    state: &AppState,
    email: &Email,
    token: &str,
    expires: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let url = format!("{}/reset-password?token={token}", state.config.public_url);
    let context = serde_json::json!({
        "password_reset": { "url": url, "expires_at": format!("{} UTC", expires.format("%Y-%m-%d %H:%M")) },
    });
    let source = super::mail::password_reset();
    super::mail::send(state, email.as_str(), &source, context).await
}

/// Sets a new password with a reset token; every session of the user, in every tenant, ends.
pub async fn reset_password(state: &AppState, token: &str, new: String) -> Outcome<()> {
    password::check_new(&new).map_err(|e| password_error("newPassword", e))?;
    let invalid = || {
        UserError::on(
            "token",
            C::TokenInvalid,
            "this reset link is not valid; ask for a new one",
        )
    };
    let hash = tokens::sha256_hex(token.trim());
    let tx = GlobalTx::begin(&state.db).await?;
    let found = password_resets::Entity::find()
        .filter(password_resets::Column::TokenHash.eq(hash))
        .one(tx.conn())
        .await?;
    tx.commit().await?;
    let Some(reset) = found else {
        return Err(invalid().into());
    };
    if reset.used_at.is_some() {
        return Err(UserError::on(
            "token",
            C::TokenReused,
            "this reset link was used already; ask for a new one",
        )
        .into());
    }
    if reset.expires_at < Utc::now() {
        return Err(UserError::on(
            "token",
            C::TokenExpired,
            "this reset link expired; ask for a new one",
        )
        .into());
    }
    // The slow hash only for a valid link, and outside the transaction (SQLite has one
    // writer). Used once: a concurrent second use finds it taken.
    let hashed = password::hash(new).await?;
    let tx = GlobalTx::begin(&state.db).await?;
    let taken = password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Some(Utc::now()).into())
        .filter(password_resets::Column::Id.eq(reset.id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(tx.conn())
        .await?;
    if taken.rows_affected != 1 {
        return Err(UserError::on(
            "token",
            C::TokenReused,
            "this reset link was used already; ask for a new one",
        )
        .into());
    }
    let user = UserId(reset.user_id);
    users::set_password(&tx, user, hashed).await?;
    // Every other link the user was sent stops working too.
    password_resets::Entity::update_many()
        .col_expr(password_resets::Column::UsedAt, Some(Utc::now()).into())
        .filter(password_resets::Column::UserId.eq(reset.user_id))
        .filter(password_resets::Column::UsedAt.is_null())
        .exec(tx.conn())
        .await?;
    tx.commit().await?;
    let tx = UserTx::begin(&state.db, user).await?;
    let tenants = memberships::of_user(&tx).await?;
    tx.commit().await?;
    for m in tenants {
        let tx = TenantTx::begin(&state.db, m.tenant).await?;
        refresh_tokens::revoke_user(&tx, user).await?;
        tx.commit().await?;
    }
    Ok(())
}
