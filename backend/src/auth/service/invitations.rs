//! Inviting people into a tenant by email, and accepting an invitation.

use chrono::{Duration, Utc};

use super::{Session, is_unique_violation, mail, password_error, publish_audit};
use crate::auth::{attempts, password, tokens};
use crate::domain::{Email, InvitationId, UserId};
use crate::error::{AppError, Outcome, UserError, UserErrorCode as C};
use crate::infra::ratelimit::{Limit, MAIL_PER_ADDRESS};
use crate::state::AppState;
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
    limit_invitations(state, principal).await?;

    let token = tokens::issue(tokens::INVITATION, principal.tenant);
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if let Some(user) = users::verified_by_email(&tx, &email).await?
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
    limit_invitations(state, principal).await?;
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

/// Invitations a tenant may send (or resend) per hour and per day: they go out under the
/// platform's name.
const INVITATIONS_PER_HOUR: Limit = Limit {
    max: 20,
    window: std::time::Duration::from_secs(60 * 60),
};
const INVITATIONS_PER_DAY: Limit = Limit {
    max: 100,
    window: std::time::Duration::from_secs(24 * 60 * 60),
};

async fn limit_invitations(state: &AppState, principal: &Principal) -> Outcome<()> {
    let tenant = principal.tenant;
    state
        .limiter
        .hit(&format!("invite:hour:{tenant}"), INVITATIONS_PER_HOUR)
        .await?;
    state
        .limiter
        .hit(&format!("invite:day:{tenant}"), INVITATIONS_PER_DAY)
        .await?;
    Ok(())
}

/// Mails the invitation: the platform's fixed text from the platform's address (no tenant
/// template, no tenant sender), with the shop's name and the inviter's address as values.
async fn deliver(
    state: &AppState,
    principal: &Principal,
    invitation: Invitation,
    tenant_name: &str,
    token: &str,
) -> Outcome<(Invitation, Option<UserError>)> {
    let link = format!("{}/accept-invite?token={token}", state.config.public_url);
    let inviter = match principal.actor {
        Actor::User(u) => {
            let tx = TenantTx::begin(&state.db, principal.tenant).await?;
            let inviter = users::get(&tx, u).await?.map(|u| u.email);
            tx.commit().await?;
            inviter
        }
        _ => None,
    };
    let context = serde_json::json!({
        "invitation": {
            "url": link,
            "tenant": tenant_name,
            "inviter": inviter.unwrap_or_default(),
            "role": invitation.role.to_lowercase(),
            "expires_at": format!("{} UTC", invitation.expires_at.format("%Y-%m-%d %H:%M")),
        },
    });
    let source = super::mail::invitation();
    // Per recipient too, across tenants: opening many shops does not buy more mail to one
    // person.
    let sent = match state
        .limiter
        .hit(&format!("invite:to:{}", invitation.email), MAIL_PER_ADDRESS)
        .await
    {
        Ok(()) => mail::send(state, &invitation.email, &source, context).await,
        Err(_) => Err(anyhow::anyhow!(
            "too many invitations to this address lately: resend it later"
        )),
    };
    let (status, error) = match sent {
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

/// Who accepts an invitation for an address, decided from the address's accounts. Pure.
#[derive(Debug, PartialEq, Eq)]
pub enum Acceptor {
    /// This account joins (its owner proved it: signed in as it, or its password).
    Existing(UserId),
    /// A new account, verified by the invitation's link, with the given password.
    New,
    /// The address has a verified account: its owner must sign in (or give its password).
    SignInFirst,
    /// No account can take it yet: a password is needed for a new one.
    ChoosePassword,
}

/// `verified` is the address's verified account, `caller` the signed-in user, `opened` the
/// account the given password opens. An unverified account never collects an invitation on
/// the link alone: whoever opened it in another's name may know its password, but not the
/// mail; only its owner, signed in or with its password *and* the link, takes it over.
pub fn acceptor(
    verified: Option<UserId>,
    unverified: &[UserId],
    caller: Option<UserId>,
    opened: Option<UserId>,
    password_given: bool,
) -> Acceptor {
    if let Some(owner) = verified {
        return if caller == Some(owner) || opened == Some(owner) {
            Acceptor::Existing(owner)
        } else {
            Acceptor::SignInFirst
        };
    }
    if let Some(mine) = caller
        .filter(|c| unverified.contains(c))
        .or(opened.filter(|o| unverified.contains(o)))
    {
        return Acceptor::Existing(mine);
    }
    if password_given {
        Acceptor::New
    } else {
        Acceptor::ChoosePassword
    }
}

/// Joins the tenant the invitation is for. The emailed token proves the address; an account
/// that already holds the address verified joins only when its owner shows it is theirs
/// (signed in as it, or its password); otherwise a new account is made, verified, with the
/// chosen password.
pub async fn accept_invite(
    state: &AppState,
    input: AcceptInvite,
    caller: Option<&Principal>,
    client_ip: &str,
) -> Outcome<Session> {
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
    let accounts = users::all_by_email(&tx, &email).await?;
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
    let caller = caller.and_then(|p| p.user_id().ok());
    let verified = accounts
        .iter()
        .find(|u| u.email_verified_at.is_some())
        .map(|u| UserId(u.id));
    let unverified: Vec<UserId> = accounts
        .iter()
        .filter(|u| u.email_verified_at.is_none())
        .map(|u| UserId(u.id))
        .collect();
    let opened = match (&input.password, caller) {
        (Some(password), None) if !accounts.is_empty() => {
            attempts::before(&state.limiter, "accept", &email, client_ip).await?;
            let mut opened = None;
            for account in &accounts {
                if password::verify(password.clone(), Some(account.password_hash.clone())).await? {
                    opened = Some(UserId(account.id));
                    break;
                }
            }
            if opened.is_some() {
                attempts::succeeded(&state.limiter, &email, client_ip).await?;
            } else if verified.is_some() {
                attempts::failed(&state.limiter, &email, client_ip).await?;
            }
            opened
        }
        _ => None,
    };
    let decision = acceptor(
        verified,
        &unverified,
        caller,
        opened,
        input.password.is_some(),
    );
    let password_hash = match decision {
        Acceptor::SignInFirst => {
            return Err(UserError::on(
                "password",
                C::InvalidCredentials,
                format!("{email} has an Orderflow account: sign in as it, or give its password, to accept"),
            )
            .into());
        }
        Acceptor::ChoosePassword => {
            return Err(UserError::on(
                "password",
                C::Required,
                "choose a password to create your account",
            )
            .into());
        }
        Acceptor::Existing(_) => None,
        Acceptor::New => {
            let password = input.password.unwrap_or_default();
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
    let user_id = match (decision, password_hash) {
        (Acceptor::Existing(user), _) => {
            // The link proved the address: an unverified account of its owner is verified now.
            if let Err(err) = users::mark_verified(&tx, user).await {
                if is_unique_violation(&err) {
                    return Err(UserError::on(
                        "token",
                        C::Taken,
                        "another account confirmed this address meanwhile: sign in to it and accept again",
                    )
                    .into());
                }
                return Err(err.into());
            }
            user
        }
        (_, Some(hash)) => match users::create(&tx, &email, hash, true).await {
            Ok(user) => UserId(user.id),
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
        _ => {
            return Err(
                AppError::Internal(anyhow::anyhow!("invitation lost its password hash")).into(),
            );
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_verified_account_joins_only_by_its_owner() {
        let (owner, other) = (id(1), id(2));
        assert_eq!(
            acceptor(Some(owner), &[], Some(owner), None, false),
            Acceptor::Existing(owner)
        );
        assert_eq!(
            acceptor(Some(owner), &[], None, Some(owner), true),
            Acceptor::Existing(owner)
        );
        // The link alone, another signed-in account, or a wrong password: not enough.
        assert_eq!(
            acceptor(Some(owner), &[], None, None, false),
            Acceptor::SignInFirst
        );
        assert_eq!(
            acceptor(Some(owner), &[], None, None, true),
            Acceptor::SignInFirst
        );
        assert_eq!(
            acceptor(Some(owner), &[other], Some(other), None, false),
            Acceptor::SignInFirst
        );
    }

    #[test]
    fn an_account_opened_in_anothers_name_never_collects_the_invitation() {
        let squatter = id(9);
        // The invitee (who has the link, not the squatter's password) gets an account of
        // their own; the squatter's account is left out.
        assert_eq!(acceptor(None, &[squatter], None, None, true), Acceptor::New);
        assert_eq!(
            acceptor(None, &[squatter], None, None, false),
            Acceptor::ChoosePassword
        );
        // Their own unverified account, shown to be theirs, is verified and joins.
        assert_eq!(
            acceptor(None, &[squatter], Some(squatter), None, false),
            Acceptor::Existing(squatter)
        );
        assert_eq!(
            acceptor(None, &[squatter], None, Some(squatter), true),
            Acceptor::Existing(squatter)
        );
        assert_eq!(acceptor(None, &[], None, None, true), Acceptor::New);
    }
}
