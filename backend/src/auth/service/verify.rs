//! Confirming that an account's owner holds its email address: a signed link (no table) sent
//! at sign-up, opened by the account's owner while signed in — so a person who receives the
//! mail for an account someone else opened in their name confirms nothing by clicking it.
//! Until then the account works in its own tenant but cannot collect invitations to others.

use chrono::{Duration, Utc};

use super::mail;
use crate::domain::{Email, UserId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::infra::link_token;
use crate::infra::ratelimit::MAIL_PER_ADDRESS;
use crate::state::AppState;
use crate::tenancy::repo::users;
use crate::tenancy::{GlobalTx, Principal};

const PURPOSE: &str = "verify-email";
pub const VERIFICATION_TTL: Duration = Duration::days(3);

/// A confirmation link for `user` holding `email`, good until `expires`.
fn token(state: &AppState, user: UserId, email: &Email, expires: chrono::DateTime<Utc>) -> String {
    link_token::sign(
        state.config.secret_key.expose(),
        PURPOSE,
        &[
            &user.uuid().to_string(),
            email.as_str(),
            &expires.timestamp().to_string(),
        ],
    )
}

/// Mails the confirmation link for `user`'s address. `tenant` names the shop they opened.
pub async fn send_verification(
    state: &AppState,
    user: UserId,
    email: &Email,
    tenant: Option<&str>,
) -> anyhow::Result<()> {
    let expires = Utc::now() + VERIFICATION_TTL;
    let url = format!(
        "{}/verify-email?token={}",
        state.config.public_url,
        token(state, user, email, expires)
    );
    let context = serde_json::json!({
        "verification": {
            "url": url,
            "tenant": tenant,
            "expires_at": format!("{} UTC", expires.format("%Y-%m-%d %H:%M")),
        },
    });
    mail::send(
        state,
        email.as_str(),
        &super::mail::email_verification(),
        context,
    )
    .await
}

/// `verifyEmail`: the signed-in user confirms their address with the link's token.
pub async fn verify_email(state: &AppState, principal: &Principal, token: &str) -> Outcome<()> {
    let user = principal.user_id()?;
    let invalid = || {
        UserError::on(
            "token",
            C::TokenInvalid,
            "this confirmation link is not valid for the account you are signed in as",
        )
    };
    let fields = link_token::verify(state.config.secret_key.expose(), PURPOSE, token.trim())
        .ok_or_else(invalid)?;
    let [id, email, expires] = fields.as_slice() else {
        return Err(invalid().into());
    };
    if *id != user.uuid().to_string() {
        return Err(invalid().into());
    }
    if expires
        .parse::<i64>()
        .map_or(true, |at| at < Utc::now().timestamp())
    {
        return Err(UserError::on(
            "token",
            C::TokenExpired,
            "this confirmation link has expired: ask for a new one",
        )
        .into());
    }
    let tx = GlobalTx::begin(&state.db).await?;
    let account = users::get(&tx, user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if account.email != *email {
        return Err(invalid().into());
    }
    if account.email_verified_at.is_none()
        && let Err(err) = users::mark_verified(&tx, user).await
    {
        if super::is_unique_violation(&err) {
            return Err(UserError::on(
                "token",
                C::Taken,
                "another account has confirmed this address already: sign in to that one",
            )
            .into());
        }
        return Err(err.into());
    }
    tx.commit().await?;
    tracing::info!(user.id = %user, "email address confirmed");
    Ok(())
}

/// `resendVerificationEmail`: a new link for the signed-in user, if their address is not
/// confirmed yet. Limited per address.
pub async fn resend_verification(state: &AppState, principal: &Principal) -> Outcome<()> {
    let user = principal.user_id()?;
    let tx = GlobalTx::begin(&state.db).await?;
    let account = users::get(&tx, user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    tx.commit().await?;
    if account.email_verified_at.is_some() {
        return Err(UserError::general(C::Invalid, "your address is confirmed already").into());
    }
    let email = Email::parse(&account.email)
        .map_err(|m| AppError::Internal(anyhow::anyhow!("stored email {m}")))?;
    state
        .limiter
        .hit(&format!("verify:email:{email}"), MAIL_PER_ADDRESS)
        .await?;
    send_verification(state, user, &email, None)
        .await
        .map_err(|e| {
            tracing::warn!(user.id = %user, error = format!("{e:#}"), "confirmation email not sent");
            UserError::general(C::EmailNotSent, "the confirmation email could not be sent: try again later")
        })?;
    Ok(())
}
