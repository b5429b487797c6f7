//! The account area: who I am, the tenant, its members, invitations, API keys and audit log.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::auth::service;
use crate::domain::{ApiKeyId, AuditEntryId, InvitationId, UserId};
use crate::error::{AppError, UserError};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::schema::types::{
    ApiKey, AuditEntry, Invitation, Me, Member, Tenant, TenantMembership, User,
};
use crate::tenancy::repo::{api_keys, audit, invitations, memberships, tenants, users};
use crate::tenancy::{Actor, Permission, Role, TenantTx, UserTx};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller and the tenant they act in.
    #[graphql(guard = "Perm(Permission::TenantRead)")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let p = principal(ctx)?;
        let (id, email, verified, memberships) = match p.actor {
            Actor::User(user) => {
                let tx = UserTx::begin(&state(ctx).db, user).await?;
                let record = users::get(&tx, user)
                    .await?
                    .ok_or(AppError::NotFound("user"))?;
                let all = memberships::of_user(&tx).await?;
                let ids: Vec<_> = all.iter().map(|m| m.tenant).collect();
                let names = tenants::get_many(&tx, &ids).await?;
                tx.commit().await?;
                let memberships = all
                    .iter()
                    .filter_map(|m| {
                        let t = names.iter().find(|t| t.id == m.tenant.uuid())?;
                        Some(TenantMembership {
                            tenant: Tenant::from_record(t.clone()),
                            role: m.role,
                        })
                    })
                    .collect();
                (
                    global_id("User", user.uuid()),
                    Some(record.email),
                    Some(record.email_verified_at.is_some()),
                    memberships,
                )
            }
            Actor::ApiKey(key) => (global_id("ApiKey", key.uuid()), None, None, Vec::new()),
            Actor::System | Actor::Channel(_) => return Err(AppError::Unauthenticated.into()),
        };
        Ok(Me {
            id,
            email,
            email_verified: verified,
            role: p.role,
            permissions: p.permissions().to_vec(),
            tenant_id: p.tenant,
            memberships,
        })
    }

    /// The tenant the caller acts in.
    #[graphql(guard = "Perm(Permission::TenantRead)")]
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        Ok(Tenant::load(ctx, principal(ctx)?.tenant).await?)
    }

    /// Members of the tenant, in joining order.
    #[graphql(
        guard = "Perm(Permission::MembersRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Member>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = memberships::list(&tx, after.map(UserId), limit + 1).await?;
        // One query for the page's users, not one per member.
        let ids: Vec<_> = rows.iter().map(|m| m.user).collect();
        let people = users::get_many(&tx, &ids).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .filter_map(|m| {
                let person = people.iter().find(|u| u.id == m.user.uuid())?;
                let id = global_id("User", m.user.uuid());
                Some((
                    m.user.uuid(),
                    Member {
                        id: id.clone(),
                        user: User {
                            id,
                            email: person.email.clone(),
                        },
                        role: m.role,
                        joined_at: m.created_at,
                    },
                ))
            })
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    /// Invitations, newest first.
    #[graphql(
        guard = "Perm(Permission::MembersRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Invitation>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = invitations::list(&tx, after.map(InvitationId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|r| Ok((r.id, Invitation::from_record(r)?)))
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(connection(nodes, limit, after.is_some()))
    }

    /// API keys, newest first.
    #[graphql(
        guard = "Perm(Permission::ApiKeysManage)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, ApiKey>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = api_keys::list(&tx, after.map(ApiKeyId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|k| (k.id.uuid(), ApiKey::from(k)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }

    /// The audit log, newest first.
    #[graphql(
        guard = "Perm(Permission::AuditRead)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, AuditEntry>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = audit::list(&tx, after.map(AuditEntryId), limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|e| (e.id, AuditEntry::from(e)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }
}

#[derive(InputObject)]
pub struct InviteUserInput {
    pub email: String,
    pub role: Role,
}

#[derive(SimpleObject)]
pub struct InvitationPayload {
    pub invitation: Option<Invitation>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct InvitationIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    pub scopes: Vec<Permission>,
}

#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: Option<ApiKey>,
    /// The key itself. Shown this once: store it now.
    pub secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct ApiKeyPayload {
    pub api_key: Option<ApiKey>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct UpdateMembershipRoleInput {
    pub user_id: ID,
    pub role: Role,
}

#[derive(InputObject)]
pub struct RemoveMemberInput {
    pub user_id: ID,
}

#[derive(SimpleObject)]
pub struct MemberPayload {
    /// The member as changed (or as they were, when removed).
    pub member: Option<Member>,
    pub user_errors: Vec<UserError>,
}

fn invitation_payload(
    result: (
        Option<(
            crate::tenancy::repo::invitations::Invitation,
            Option<UserError>,
        )>,
        Vec<UserError>,
    ),
) -> async_graphql::Result<InvitationPayload> {
    let (value, mut user_errors) = result;
    let invitation = match value {
        Some((record, warning)) => {
            user_errors.extend(warning);
            Some(Invitation::from_record(record)?)
        }
        None => None,
    };
    Ok(InvitationPayload {
        invitation,
        user_errors,
    })
}

async fn member_node(
    ctx: &Context<'_>,
    m: memberships::Membership,
) -> async_graphql::Result<Member> {
    let tx = UserTx::begin(&state(ctx).db, m.user).await?;
    let email = users::get(&tx, m.user)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    tx.commit().await?;
    let id = global_id("User", m.user.uuid());
    Ok(Member {
        id: id.clone(),
        user: User { id, email },
        role: m.role,
        joined_at: m.created_at,
    })
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Invites someone by email; they join with the role given when they accept.
    #[graphql(guard = "Perm(Permission::MembersManage)")]
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        input: InviteUserInput,
    ) -> async_graphql::Result<InvitationPayload> {
        let p = principal(ctx)?;
        invitation_payload(payload(
            service::invite_user(state(ctx), p, &input.email, input.role).await,
        )?)
    }

    /// Sends a new link for an open invitation; the previous link stops working.
    #[graphql(guard = "Perm(Permission::MembersManage)")]
    async fn resend_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> async_graphql::Result<InvitationPayload> {
        let p = principal(ctx)?;
        let id = InvitationId(decode_id(&input.id, "Invitation", "id")?);
        invitation_payload(payload(
            service::resend_invitation(state(ctx), p, id).await,
        )?)
    }

    #[graphql(guard = "Perm(Permission::MembersManage)")]
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        input: InvitationIdInput,
    ) -> async_graphql::Result<InvitationPayload> {
        let p = principal(ctx)?;
        let id = InvitationId(decode_id(&input.id, "Invitation", "id")?);
        let (value, user_errors) = payload(service::revoke_invitation(state(ctx), p, id).await)?;
        Ok(InvitationPayload {
            invitation: value.map(Invitation::from_record).transpose()?,
            user_errors,
        })
    }

    /// Creates an API key with the given scopes. The secret is in this payload only.
    #[graphql(guard = "Perm(Permission::ApiKeysManage)")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let p = principal(ctx)?;
        let (value, user_errors) =
            payload(service::create_api_key(state(ctx), p, &input.name, &input.scopes).await)?;
        let (api_key, secret) = match value {
            Some((key, secret)) => (Some(key.into()), Some(secret)),
            None => (None, None),
        };
        Ok(CreateApiKeyPayload {
            api_key,
            secret,
            user_errors,
        })
    }

    /// Revokes an API key at once; requests with it fail with API_KEY_REVOKED.
    #[graphql(guard = "Perm(Permission::ApiKeysManage)")]
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> async_graphql::Result<ApiKeyPayload> {
        let p = principal(ctx)?;
        let id = ApiKeyId(decode_id(&input.id, "ApiKey", "id")?);
        let (value, user_errors) = payload(service::revoke_api_key(state(ctx), p, id).await)?;
        Ok(ApiKeyPayload {
            api_key: value.map(ApiKey::from),
            user_errors,
        })
    }

    /// Changes a member's role. Only owners change owners; the last owner stays one.
    #[graphql(guard = "Perm(Permission::MembersManage)")]
    async fn update_membership_role(
        &self,
        ctx: &Context<'_>,
        input: UpdateMembershipRoleInput,
    ) -> async_graphql::Result<MemberPayload> {
        let p = principal(ctx)?;
        let user = UserId(decode_id(&input.user_id, "User", "userId")?);
        let (value, user_errors) =
            payload(service::update_membership_role(state(ctx), p, user, input.role).await)?;
        let member = match value {
            Some(m) => Some(member_node(ctx, m).await?),
            None => None,
        };
        Ok(MemberPayload {
            member,
            user_errors,
        })
    }

    /// Removes a member from the tenant, ending their sessions here.
    #[graphql(guard = "Perm(Permission::MembersManage)")]
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> async_graphql::Result<MemberPayload> {
        let p = principal(ctx)?;
        let user = UserId(decode_id(&input.user_id, "User", "userId")?);
        let (value, user_errors) = payload(service::remove_member(state(ctx), p, user).await)?;
        let member = match value {
            Some(m) => Some(member_node(ctx, m).await?),
            None => None,
        };
        Ok(MemberPayload {
            member,
            user_errors,
        })
    }
}
