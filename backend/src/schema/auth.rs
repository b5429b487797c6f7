//! Sign-up, login, sessions and passwords.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::service::{self, Session, invitations as invitations_input, sign_in};
use crate::domain::TenantId;
use crate::error::{AppError, UserError};
use crate::graphql::context::{client_ip, principal, state};
use crate::graphql::errors::payload;
use crate::graphql::relay::decode_id;
use crate::schema::types::{Tenant, TenantMembership};
use crate::tenancy::repo::tenants;
use crate::tenancy::{GlobalTx, Role};

#[derive(InputObject)]
pub struct SignUpInput {
    pub tenant_name: String,
    pub email: String,
    pub password: String,
    /// The tenant's currency (ISO 4217 code); USD when not given.
    pub currency: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// The tenant to act in; by default the first the user joined.
    pub tenant_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SwitchTenantInput {
    pub tenant_id: ID,
}

#[derive(InputObject)]
pub struct RefreshTokenInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct LogoutInput {
    /// The session to end; without it, every session of the signed-in user in this tenant.
    pub refresh_token: Option<String>,
}

#[derive(InputObject)]
pub struct AcceptInviteInput {
    /// The token from the invitation link.
    pub token: String,
    /// Required when no account exists yet for the invited email.
    pub password: Option<String>,
}

#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    pub email: String,
}

#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token of the emailed link (`/reset-password?token=…`).
    pub token: String,
    pub new_password: String,
}

#[derive(SimpleObject)]
pub struct PasswordResetPayload {
    /// True once done: for a request, that a link went out if the address has an account.
    pub success: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

/// A new session: send `accessToken` as `Authorization: Bearer …`; renew it with
/// `refreshToken` before `accessTokenExpiresAt`.
#[derive(SimpleObject, Default)]
pub struct AuthPayload {
    pub access_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Single use: each refresh returns a new one, and reusing an old one ends the session.
    pub refresh_token: Option<String>,
    pub tenant: Option<Tenant>,
    pub role: Option<Role>,
    /// Every tenant the user may switch to (filled by `login`).
    pub available_tenants: Vec<TenantMembership>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct LogoutPayload {
    pub success: bool,
    pub user_errors: Vec<UserError>,
}

async fn auth_payload(
    ctx: &Context<'_>,
    result: (Option<Session>, Vec<UserError>),
) -> async_graphql::Result<AuthPayload> {
    let (session, user_errors) = result;
    let Some(session) = session else {
        return Ok(AuthPayload {
            user_errors,
            ..Default::default()
        });
    };
    Ok(AuthPayload {
        tenant: Some(Tenant::load(ctx, session.tenant).await?),
        role: Some(session.role),
        access_token: Some(session.access_token),
        access_token_expires_at: Some(session.access_expires_at),
        refresh_token: Some(session.refresh_token),
        available_tenants: Vec::new(),
        user_errors,
    })
}

fn tenant_id(id: &ID) -> Result<TenantId, AppError> {
    // Accept the global id, and a bare UUID for convenience at a terminal.
    match uuid::Uuid::try_parse(id.as_str()) {
        Ok(raw) => Ok(TenantId(raw)),
        Err(_) => Ok(TenantId(decode_id(id, "Tenant", "tenantId")?)),
    }
}

#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The `token` of the emailed link.
    pub token: String,
}

#[derive(SimpleObject, Default)]
pub struct VerificationPayload {
    pub success: bool,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates a tenant and its owner, and signs the owner in.
    #[graphql(complexity = 4000)]
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> async_graphql::Result<AuthPayload> {
        let input = sign_in::SignUp {
            tenant_name: input.tenant_name,
            email: input.email,
            password: input.password,
            currency: input.currency,
        };
        let result = payload(service::sign_up(state(ctx), input, &client_ip(ctx)).await)?;
        auth_payload(ctx, result).await
    }

    /// Signs in with email and password. Attempts are limited per email and per client.
    #[graphql(complexity = 4000)]
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let tenant = input.tenant_id.as_ref().map(tenant_id).transpose()?;
        let input = sign_in::Login {
            email: input.email,
            password: input.password,
            tenant,
        };
        let (value, user_errors) =
            payload(service::login(state(ctx), input, &client_ip(ctx)).await)?;
        let Some((session, all)) = value else {
            return Ok(AuthPayload {
                user_errors,
                ..Default::default()
            });
        };
        let tx = GlobalTx::begin(&state(ctx).db).await?;
        let ids: Vec<_> = all.iter().map(|m| m.tenant).collect();
        let names = tenants::get_many(&tx, &ids).await?;
        tx.commit().await?;
        let available = all
            .iter()
            .filter_map(|m| {
                let t = names.iter().find(|t| t.id == m.tenant.uuid())?;
                Some(TenantMembership {
                    tenant: Tenant::from_record(t.clone()),
                    role: m.role,
                })
            })
            .collect();
        let mut out = auth_payload(ctx, (Some(session), user_errors)).await?;
        out.available_tenants = available;
        Ok(out)
    }

    /// Opens a session in another tenant the signed-in user belongs to.
    async fn switch_tenant(
        &self,
        ctx: &Context<'_>,
        input: SwitchTenantInput,
    ) -> async_graphql::Result<AuthPayload> {
        let p = principal(ctx)?;
        let tenant = tenant_id(&input.tenant_id)?;
        let result = payload(service::switch_tenant(state(ctx), p, tenant).await)?;
        auth_payload(ctx, result).await
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> async_graphql::Result<AuthPayload> {
        let result = payload(service::refresh(state(ctx), &input.refresh_token).await)?;
        auth_payload(ctx, result).await
    }

    /// Ends a session.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        let p = ctx.data_opt::<crate::tenancy::Principal>();
        let (done, user_errors) =
            payload(service::logout(state(ctx), p, input.refresh_token.as_deref()).await)?;
        Ok(LogoutPayload {
            success: done.is_some(),
            user_errors,
        })
    }

    /// Joins the tenant of an invitation and signs in.
    #[graphql(complexity = 4000)]
    async fn accept_invite(
        &self,
        ctx: &Context<'_>,
        input: AcceptInviteInput,
    ) -> async_graphql::Result<AuthPayload> {
        let input = invitations_input::AcceptInvite {
            token: input.token,
            password: input.password,
        };
        let caller = ctx.data_opt::<crate::tenancy::Principal>();
        let result =
            payload(service::accept_invite(state(ctx), input, caller, &client_ip(ctx)).await)?;
        auth_payload(ctx, result).await
    }

    /// Emails a password-reset link, good once for an hour, if the address has an account.
    /// The answer is the same either way. Limited per address and per client.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        input: RequestPasswordResetInput,
    ) -> async_graphql::Result<PasswordResetPayload> {
        let state = ctx.data_unchecked::<std::sync::Arc<crate::state::AppState>>();
        let (done, user_errors) =
            payload(service::request_password_reset(state, &input.email, &client_ip(ctx)).await)?;
        Ok(PasswordResetPayload {
            success: done.is_some(),
            user_errors,
        })
    }

    /// Sets a new password with the emailed token; every session of the user ends.
    #[graphql(complexity = 4000)]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<PasswordResetPayload> {
        let (done, user_errors) =
            payload(service::reset_password(state(ctx), &input.token, input.new_password).await)?;
        Ok(PasswordResetPayload {
            success: done.is_some(),
            user_errors,
        })
    }

    /// Confirms the signed-in user's email address with the token of its emailed link.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: VerifyEmailInput,
    ) -> async_graphql::Result<VerificationPayload> {
        let p = principal(ctx)?;
        let (done, user_errors) =
            payload(service::verify_email(state(ctx), p, &input.token).await)?;
        Ok(VerificationPayload {
            success: done.is_some(),
            user_errors,
        })
    }

    /// Mails the signed-in user a new link to confirm their address. Limited per address.
    async fn resend_verification_email(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<VerificationPayload> {
        let p = principal(ctx)?;
        let (done, user_errors) = payload(service::resend_verification(state(ctx), p).await)?;
        Ok(VerificationPayload {
            success: done.is_some(),
            user_errors,
        })
    }

    /// Changes the signed-in user's password; every other session of theirs ends.
    #[graphql(complexity = 4000)]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<AuthPayload> {
        let p = principal(ctx)?;
        let result = payload(
            service::change_password(state(ctx), p, input.current_password, input.new_password)
                .await,
        )?;
        auth_payload(ctx, result).await
    }
}
