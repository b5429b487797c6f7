//! Changing one's password: every other session of the user, in every tenant, ends.

use super::{Session, password_error, publish_audit};
use crate::auth::password;
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::infra::ratelimit::Limit;
use crate::state::AppState;
use crate::tenancy::repo::{audit, memberships, refresh_tokens, users};
use crate::tenancy::{Principal, TenantTx, UserTx};

/// Password changes (and wrong current passwords) per user.
const CHANGES_PER_USER: Limit = Limit {
    max: 10,
    window: std::time::Duration::from_secs(15 * 60),
};

pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: String,
    new: String,
) -> Outcome<Session> {
    let user = principal.user_id()?;
    password::check_new(&new).map_err(|e| password_error("newPassword", e))?;
    // Each try costs two password hashes: a stolen session cannot guess at speed.
    state
        .limiter
        .hit(&format!("password:user:{user}"), CHANGES_PER_USER)
        .await?;
    let tx = UserTx::begin(&state.db, user).await?;
    let record = users::get(&tx, user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let tenants = memberships::of_user(&tx).await?;
    tx.commit().await?;
    if !password::verify(current, Some(record.password_hash)).await? {
        return Err(UserError::on(
            "currentPassword",
            C::InvalidCredentials,
            "is not your current password",
        )
        .into());
    }
    let hash = password::hash(new).await?;

    // Sessions elsewhere end first; the new session is opened in the same transaction that
    // stores the new hash, so a failure leaves the old password and no new session.
    for other in tenants.iter().filter(|m| m.tenant != principal.tenant) {
        let tx = TenantTx::begin(&state.db, other.tenant).await?;
        refresh_tokens::revoke_user(&tx, user).await?;
        tx.commit().await?;
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    users::set_password(&tx, user, hash).await?;
    refresh_tokens::revoke_user(&tx, user).await?;
    let role = principal.role.ok_or(AppError::Forbidden(
        "only a signed-in user can do this".into(),
    ))?;
    let session = Session::start(state, &tx, user, role, None).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "user.password_changed",
        &format!("user:{user}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(session)
}
