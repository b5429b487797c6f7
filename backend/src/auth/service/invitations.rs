//! Inviting people into a tenant by email, and accepting an invitation.

use chrono::{Duration, Utc};

use super::{Session, is_unique_violation, password_error, publish_audit};
use crate::app::AppState;
use crate::auth::{password, tokens};
use crate::domain::{Email, InvitationId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::infra::mailer::Outgoing;
use crate::lifecycle::notify::{self, kind::Kind};
use crate::tenancy::repo::invitations::{self, Invitation, NewInvitation};
use crate::tenancy::repo::{audit, memberships, tenants, users};
use crate::tenancy::{Actor, Permission, Principal, Role, TenantTx};

pub const INVITATION_TTL: Duration = Duration::days(7);

/// Only an owner may hand out the owner role.
fn check_grantable(principal: &Principal, role: Role) -> Result<(), UserError> {
    if role == Role::Owner && principal.role != Some(Role::Owner) {
        return Err(UserError::on(
            "role",
            C::Forbidden,
            "only an owner can make someone an owner",
        ));
    }
    Ok(())
}

/// Creates an invitation and emails its link. When the mail cannot be sent the invitation
/// stays (status `failed`, with the reason) and the payload says so; resend it later.
pub async fn invite_user(
    state: &AppState,
    principal: &Principal,
    email: &str,
    role: Role,
) -> Outcome<(Invitation, Option<UserError>)> {
    principal.require(Permission::MembersManage)?;
    let inviter = principal.user_id()?;
    check_grantable(principal, role)?;
    let email = Email::parse(email).map_err(|m| UserError::on("email", C::InvalidEmail, m))?;

    let token = tokens::issue(tokens::INVITATION, principal.tenant);
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if let Some(user) = users::find_by_email(&tx, &email).await?
        && memberships::get(&tx, user.id.into()).await?.is_some()
    {
        return Err(
            UserError::on("email", C::Taken, format!("{email} is already a member")).into(),
        );
    }
    let tenant_name = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let invitation = invitations::create(
        &tx,
        NewInvitation {
            email: &email,
            role,
            token_hash: tokens::sha256_hex(&token),
            invited_by: inviter,
            expires_at: Utc::now() + INVITATION_TTL,
        },
    )
    .await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "member.invited",
        &format!("invitation:{}", invitation.id),
        serde_json::json!({ "email": email.as_str(), "role": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    deliver(state, principal, invitation, &tenant_name, &token).await
}

/// Sends a fresh link for an open invitation; the old link stops working.
pub async fn resend_invitation(
    state: &AppState,
    principal: &Principal,
    id: InvitationId,
) -> Outcome<(Invitation, Option<UserError>)> {
    principal.require(Permission::MembersManage)?;
    let token = tokens::issue(tokens::INVITATION, principal.tenant);
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(invitation) = invitations::get(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such invitation").into());
    };
    if invitation.accepted_at.is_some() || invitation.revoked_at.is_some() {
        return Err(UserError::on(
            "id",
            C::InvitationUsed,
            "this invitation was already accepted or revoked",
        )
        .into());
    }
    invitations::renew(
        &tx,
        id,
        tokens::sha256_hex(&token),
        Utc::now() + INVITATION_TTL,
    )
    .await?;
    let invitation = invitations::get(&tx, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    let tenant_name = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    tx.commit().await?;
    deliver(state, principal, invitation, &tenant_name, &token).await
}

pub async fn revoke_invitation(
    state: &AppState,
    principal: &Principal,
    id: InvitationId,
) -> Outcome<Invitation> {
    principal.require(Permission::MembersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if !invitations::revoke(&tx, id).await? {
        return Err(UserError::on("id", C::NotFound, "no open invitation with this id").into());
    }
    let entry = audit::record(
        &tx,
        principal.actor,
        "member.invitation_revoked",
        &format!("invitation:{id}"),
        serde_json::json!({}),
    )
    .await?;
    let invitation = invitations::get(&tx, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(invitation)
}

async fn deliver(
    state: &AppState,
    principal: &Principal,
    invitation: Invitation,
    tenant_name: &str,
    token: &str,
) -> Outcome<(Invitation, Option<UserError>)> {
    let link = format!("{}/accept-invite?token={token}", state.config.public_url);
    let to: lettre::message::Mailbox = invitation
        .email
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored invitation email: {e}")))?;
    // The tenant's own invitation template and sender.
    let (source, sender, inviter) = {
        let tx = TenantTx::begin(&state.db, principal.tenant).await?;
        let inviter = match principal.actor {
            Actor::User(u) => users::get(&tx, u).await?.map(|u| u.email),
            _ => None,
        };
        let source = notify::service::source_of(&tx, Kind::Invitation).await?;
        let settings = notify::settings::load(&tx).await?;
        tx.commit().await?;
        let sender = notify::context::sender(&settings, tenant_name, &state.mailer);
        (source, sender, inviter.unwrap_or_default())
    };
    let context = serde_json::json!({
        "shop": { "name": tenant_name, "email": sender.from.email.to_string() },
        "invitation": {
            "url": link,
            "tenant": tenant_name,
            "inviter": inviter,
            "role": invitation.role.to_lowercase(),
            "expires_at": format!("{} UTC", invitation.expires_at.format("%Y-%m-%d %H:%M")),
        },
    });
    let rendered = notify::templates::render(&source, &context)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("invitation template: {e}")))?;
    let domain = sender.from.email.domain().to_owned();
    let mail = Outgoing {
        from: sender.from,
        reply_to: sender.reply_to,
        to,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        message_id: format!("{}@{domain}", uuid::Uuid::now_v7().simple()),
        in_reply_to: None,
        references: None,
        unsubscribe: None,
        auto_submitted: Some("auto-generated"),
    };
    let (status, error) = match state.mailer.send_outgoing(mail).await {
        Ok(()) => ("sent", None),
        Err(err) => {
            tracing::warn!(tenant.id = %principal.tenant, error = format!("{err:#}"), "invitation email not sent");
            ("failed", Some(format!("{err:#}")))
        }
    };
    let id = InvitationId(invitation.id);
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    invitations::set_email_status(&tx, id, status, error.clone()).await?;
    let invitation = invitations::get(&tx, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    tx.commit().await?;
    let warning = error.map(|e| {
        UserError::general(
            C::EmailNotSent,
            format!("the invitation was saved but its email could not be sent ({e}); resend it with resendInvitation"),
        )
    });
    Ok((invitation, warning))
}

pub struct AcceptInvite {
    pub token: String,
    pub password: Option<String>,
}

/// Joins the tenant the invitation is for. A new user chooses a password here; an existing
/// user needs none, since the emailed token proves they own the address.
pub async fn accept_invite(state: &AppState, input: AcceptInvite) -> Outcome<Session> {
    let invalid = || {
        UserError::on(
            "token",
            C::TokenInvalid,
            "is not a valid invitation link: ask for a new invitation",
        )
    };
    let tenant = tokens::tenant_of(tokens::INVITATION, &input.token).ok_or_else(invalid)?;
    let token_hash = tokens::sha256_hex(&input.token);

    // Read first, hash outside the transaction, then write.
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let invitation = invitations::find_by_token_hash(&tx, &token_hash)
        .await?
        .ok_or_else(invalid)?;
    let email = Email::parse(&invitation.email)
        .map_err(|m| AppError::Internal(anyhow::anyhow!("stored invitation email {m}")))?;
    let existing = users::find_by_email(&tx, &email).await?;
    tx.commit().await?;
    if invitation.revoked_at.is_some() {
        return Err(invalid().into());
    }
    if invitation.accepted_at.is_some() {
        return Err(UserError::on(
            "token",
            C::InvitationUsed,
            "this invitation has already been accepted: log in",
        )
        .into());
    }
    if invitation.expires_at <= Utc::now() {
        return Err(UserError::on(
            "token",
            C::InvitationExpired,
            "this invitation has expired: ask for a new one",
        )
        .into());
    }
    let password_hash = match (&existing, input.password) {
        (Some(_), _) => None,
        (None, None) => {
            return Err(UserError::on(
                "password",
                C::Required,
                "choose a password to create your account",
            )
            .into());
        }
        (None, Some(password)) => {
            password::check_new(&password).map_err(|e| password_error("password", e))?;
            Some(password::hash(password).await?)
        }
    };
    let role: Role = invitation
        .role
        .parse()
        .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?;

    let tx = TenantTx::begin(&state.db, tenant).await?;
    let id = InvitationId(invitation.id);
    if !invitations::mark_accepted(&tx, id).await? {
        return Err(UserError::on(
            "token",
            C::InvitationUsed,
            "this invitation has already been accepted: log in",
        )
        .into());
    }
    let user = match (existing, password_hash) {
        (Some(user), _) => user,
        (None, Some(hash)) => match users::create(&tx, &email, hash).await {
            Ok(user) => user,
            Err(err) if is_unique_violation(&err) => {
                return Err(UserError::on(
                    "token",
                    C::Taken,
                    "an account for this email was just created: accept again to join with it",
                )
                .into());
            }
            Err(err) => return Err(err.into()),
        },
        (None, None) => {
            return Err(
                AppError::Internal(anyhow::anyhow!("invitation lost its password hash")).into(),
            );
        }
    };
    let user_id = user.id.into();
    let role = match memberships::get(&tx, user_id).await? {
        Some(existing) => existing.role,
        None => memberships::create(&tx, user_id, role).await?.role,
    };
    let entry = audit::record(&tx, Actor::User(user_id), "member.joined", &format!("user:{user_id}"), serde_json::json!({ "email": email.as_str(), "role": role.as_str(), "invitation": invitation.id })).await?;
    let session = Session::start(state, &tx, user_id, role, None).await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(session)
}
