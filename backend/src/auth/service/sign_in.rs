//! Signing up, logging in, switching tenant, refreshing and logging out.

use chrono::Utc;

use super::{Session, password_error, publish_audit, verify};
use crate::auth::{attempts, password, tokens};
use crate::domain::{Currency, Email, TenantId};
use crate::error::{AppError, Fail, Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::{audit, memberships, refresh_tokens, tenants, users};
use crate::tenancy::{Actor, GlobalTx, Principal, Role, TenantTx, UserTx};

const MAX_TENANT_NAME: usize = 100;

pub struct SignUp {
    pub tenant_name: String,
    pub email: String,
    pub password: String,
    /// The tenant's currency (ISO 4217); USD when not given.
    pub currency: Option<String>,
}

/// Creates a tenant and its owner. The password of an account the address already has opens
/// it (the owner adds a tenant); any other password makes a new, unverified account, so the
/// answer never tells whether the address is registered, and a wrong password counts as a
/// failed sign-in for the address. A new account is sent its confirmation link.
pub async fn sign_up(state: &AppState, input: SignUp, client_ip: &str) -> Outcome<Session> {
    let tenant_name = input.tenant_name.trim();
    if tenant_name.is_empty() {
        return Err(UserError::on("tenantName", C::Required, "is required").into());
    }
    if tenant_name.chars().count() > MAX_TENANT_NAME {
        return Err(
            UserError::on("tenantName", C::Invalid, "must be at most 100 characters").into(),
        );
    }
    let email =
        Email::parse(&input.email).map_err(|m| UserError::on("email", C::InvalidEmail, m))?;
    password::check_new(&input.password).map_err(|e| password_error("password", e))?;
    let currency = match input.currency.as_deref() {
        Some(code) => {
            Currency::parse(code).map_err(|m| UserError::on("currency", C::Invalid, m))?
        }
        None => Currency::USD,
    };
    attempts::before(&state.limiter, "signup", &email, client_ip).await?;

    let tx = GlobalTx::begin(&state.db).await?;
    let accounts = users::all_by_email(&tx, &email).await?;
    tx.commit().await?;
    let owner = matching_account(&accounts, &input.password).await?;
    let password_hash = match &owner {
        Some(_) => {
            attempts::succeeded(&state.limiter, &email, client_ip).await?;
            None
        }
        None => {
            if !accounts.is_empty() {
                attempts::failed(&state.limiter, &email, client_ip).await?;
            }
            let unverified = accounts
                .iter()
                .filter(|u| u.email_verified_at.is_none())
                .count();
            if unverified >= users::MAX_UNVERIFIED_PER_EMAIL {
                // Said as a rate limit: it tells nothing a prober could not have caused.
                return Err(AppError::RateLimited {
                    retry_after_secs: 3600,
                }
                .into());
            }
            Some(password::hash(input.password).await?)
        }
    };

    let tenant = TenantId::new();
    let tx = TenantTx::begin(&state.db, tenant).await?;
    tenants::create(&tx, tenant, tenant_name, currency).await?;
    let user = match (owner, password_hash) {
        (Some(user), _) => user,
        (None, Some(hash)) => users::create(&tx, &email, hash, false).await?,
        (None, None) => {
            return Err(Fail::App(
                anyhow::anyhow!("sign-up lost its password hash").into(),
            ));
        }
    };
    let user_id = user.id.into();
    memberships::create(&tx, user_id, Role::Owner).await?;
    let entry = audit::record(
        &tx,
        Actor::User(user_id),
        "tenant.created",
        &format!("tenant:{tenant}"),
        serde_json::json!({ "name": tenant_name, "owner": email.as_str() }),
    )
    .await?;
    let session = Session::start(state, &tx, user_id, Role::Owner, None).await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    tracing::info!(tenant.id = %tenant, user.id = %user_id, "tenant signed up");
    if user.email_verified_at.is_none()
        && let Err(e) = verify::send_verification(state, user_id, &email, Some(tenant_name)).await
    {
        // The account works without it; resendVerificationEmail sends another.
        tracing::warn!(user.id = %user_id, error = format!("{e:#}"), "confirmation email not sent");
    }
    Ok(session)
}

/// The account among `accounts` (verified first) that `password` opens, if any. Every
/// account is tried, and a dummy hash when there is none, so the time says little.
async fn matching_account(
    accounts: &[entity::users::Model],
    password: &str,
) -> Result<Option<entity::users::Model>, AppError> {
    if accounts.is_empty() {
        password::verify(password.to_owned(), None).await?;
        return Ok(None);
    }
    let mut found = None;
    for account in accounts {
        if password::verify(password.to_owned(), Some(account.password_hash.clone())).await?
            && found.is_none()
        {
            found = Some(account.clone());
        }
    }
    Ok(found)
}

pub struct Login {
    pub email: String,
    pub password: String,
    pub tenant: Option<TenantId>,
}

/// The tenants a user may act in, oldest membership first.
pub type Memberships = Vec<memberships::Membership>;

/// Checks the password and opens a session in the chosen tenant (by default the first the
/// user joined); returns every tenant the user may switch to.
pub async fn login(
    state: &AppState,
    input: Login,
    client_ip: &str,
) -> Outcome<(Session, Memberships)> {
    let email =
        Email::parse(&input.email).map_err(|m| UserError::on("email", C::InvalidEmail, m))?;
    attempts::before(&state.limiter, "login", &email, client_ip).await?;

    let tx = GlobalTx::begin(&state.db).await?;
    let accounts = users::all_by_email(&tx, &email).await?;
    tx.commit().await?;
    let Some(user) = matching_account(&accounts, &input.password).await? else {
        attempts::failed(&state.limiter, &email, client_ip).await?;
        tracing::info!(client.ip = %client_ip, "login refused: wrong email or password");
        return Err(
            UserError::general(C::InvalidCredentials, "the email or password is wrong").into(),
        );
    };
    attempts::succeeded(&state.limiter, &email, client_ip).await?;
    let user_id = user.id.into();

    let tx = UserTx::begin(&state.db, user_id).await?;
    let all = memberships::of_user(&tx).await?;
    tx.commit().await?;
    let chosen = match input.tenant {
        Some(tenant) => all.iter().find(|m| m.tenant == tenant),
        None => all.first(),
    };
    let Some(chosen) = chosen.cloned() else {
        return Err(match input.tenant {
            Some(_) => UserError::on(
                "tenantId",
                C::NotAMember,
                "you are not a member of this tenant",
            ),
            None => UserError::general(C::NotAMember, "this account is not a member of any tenant"),
        }
        .into());
    };

    let tx = TenantTx::begin(&state.db, chosen.tenant).await?;
    let session = Session::start(state, &tx, user_id, chosen.role, None).await?;
    let entry = audit::record(
        &tx,
        Actor::User(user_id),
        "session.login",
        &format!("user:{user_id}"),
        serde_json::json!({ "ip": client_ip }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok((session, all))
}

/// Opens a session in another tenant the signed-in user belongs to.
pub async fn switch_tenant(
    state: &AppState,
    principal: &Principal,
    tenant: TenantId,
) -> Outcome<Session> {
    let user = principal.user_id()?;
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(membership) = memberships::get(&tx, user).await? else {
        return Err(UserError::on(
            "tenantId",
            C::NotAMember,
            "you are not a member of this tenant",
        )
        .into());
    };
    let session = Session::start(state, &tx, user, membership.role, None).await?;
    tx.commit().await?;
    Ok(session)
}

/// Exchanges a refresh token for a new pair. A token used twice means it was stolen (or
/// the client misbehaves): every token of its family is revoked, ending that login.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Outcome<Session> {
    let invalid = || {
        UserError::on(
            "refreshToken",
            C::TokenInvalid,
            "is not a valid refresh token: log in again",
        )
    };
    let tenant = tokens::tenant_of(tokens::REFRESH, refresh_token).ok_or_else(invalid)?;
    let now = Utc::now();
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(token) = refresh_tokens::find_by_hash(&tx, &tokens::sha256_hex(refresh_token)).await?
    else {
        return Err(invalid().into());
    };
    if token.revoked_at.is_some() {
        return Err(invalid().into());
    }
    if token.used_at.is_some() || !refresh_tokens::mark_used(&tx, token.id, now).await? {
        let revoked = refresh_tokens::revoke_family(&tx, token.family_id).await?;
        let entry = audit::record(
            &tx,
            Actor::System,
            "session.refresh_token_reused",
            &format!("user:{}", token.user_id),
            serde_json::json!({ "family": token.family_id, "revoked": revoked }),
        )
        .await?;
        tx.commit().await?;
        publish_audit(state, &entry).await;
        tracing::warn!(tenant.id = %tenant, user.id = %token.user_id, "refresh token reused; session family revoked");
        return Err(UserError::on(
            "refreshToken",
            C::TokenReused,
            "this refresh token was already used, so every session from that login has been ended: log in again",
        )
        .into());
    }
    if token.expires_at <= now {
        return Err(
            UserError::on("refreshToken", C::TokenExpired, "has expired: log in again").into(),
        );
    }
    let user = token.user_id.into();
    let Some(membership) = memberships::get(&tx, user).await? else {
        return Err(invalid().into());
    };
    let session = Session::start(state, &tx, user, membership.role, Some(token.family_id)).await?;
    tx.commit().await?;
    Ok(session)
}

/// Ends the session a refresh token belongs to; without one, every session of the signed-in
/// user in this tenant.
pub async fn logout(
    state: &AppState,
    principal: Option<&Principal>,
    refresh_token: Option<&str>,
) -> Outcome<()> {
    match (refresh_token, principal) {
        (Some(token), _) => {
            let tenant = tokens::tenant_of(tokens::REFRESH, token).ok_or_else(|| {
                UserError::on(
                    "refreshToken",
                    C::TokenInvalid,
                    "is not a valid refresh token",
                )
            })?;
            let tx = TenantTx::begin(&state.db, tenant).await?;
            if let Some(found) =
                refresh_tokens::find_by_hash(&tx, &tokens::sha256_hex(token)).await?
            {
                refresh_tokens::revoke_family(&tx, found.family_id).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        (None, Some(principal)) => {
            let user = principal.user_id()?;
            let tx = TenantTx::begin(&state.db, principal.tenant).await?;
            refresh_tokens::revoke_user(&tx, user).await?;
            tx.commit().await?;
            Ok(())
        }
        (None, None) => Err(UserError::on(
            "refreshToken",
            C::Required,
            "send the refresh token to end, or sign in",
        )
        .into()),
    }
}
