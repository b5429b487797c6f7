//! API types of the account area. They are built from repository records, never from
//! database entities, so the schema can change without a migration and vice versa.

use async_graphql::{ComplexObject, Context, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::TenantId;
use crate::error::AppError;
use crate::graphql::context::state;
use crate::graphql::relay::global_id;
use crate::tenancy::repo::api_keys::ApiKey as ApiKeyRecord;
use crate::tenancy::repo::audit::AuditEntry as AuditRecord;
use crate::tenancy::repo::invitations::Invitation as InvitationRecord;
use crate::tenancy::repo::tenants;
use crate::tenancy::{GlobalTx, Permission, Role};

/// A merchant account.
#[derive(Clone, Debug, SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    /// ISO 4217 code of the currency prices and reports are kept in.
    pub currency: String,
    /// Short unique name, for `orderflow import … --tenant SLUG`.
    pub slug: Option<String>,
    /// IANA timezone whose days the KPIs count in.
    pub timezone: String,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    pub fn from_record(t: tenants_model::Model) -> Self {
        Self {
            id: global_id("Tenant", t.id),
            name: t.name,
            currency: t.currency,
            slug: t.slug,
            timezone: t.timezone,
            created_at: t.created_at,
        }
    }

    pub async fn load(ctx: &Context<'_>, id: TenantId) -> Result<Self, AppError> {
        let tx = GlobalTx::begin(&state(ctx).db).await?;
        let tenant = tenants::get(&tx, id)
            .await?
            .ok_or(AppError::NotFound("tenant"))?;
        tx.commit().await?;
        Ok(Self::from_record(tenant))
    }
}

use entity::tenants as tenants_model;

/// A tenant the signed-in user belongs to, with their role there.
#[derive(Clone, Debug, SimpleObject)]
pub struct TenantMembership {
    pub tenant: Tenant,
    pub role: Role,
}

/// A person.
#[derive(Clone, Debug, SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: String,
}

/// A member of the current tenant.
#[derive(Clone, Debug, SimpleObject)]
pub struct Member {
    /// The member's user id.
    pub id: ID,
    pub user: User,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum EmailStatus {
    Pending,
    Sent,
    Failed,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct Invitation {
    pub id: ID,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub email_status: EmailStatus,
    /// Why the email could not be sent, when it could not.
    pub email_error: Option<String>,
    pub invited_by: ID,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Invitation {
    pub fn from_record(r: InvitationRecord) -> Result<Self, AppError> {
        let status = if r.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if r.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if r.expires_at <= Utc::now() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        let email_status = match r.email_status.as_str() {
            "sent" => EmailStatus::Sent,
            "failed" => EmailStatus::Failed,
            _ => EmailStatus::Pending,
        };
        Ok(Self {
            id: global_id("Invitation", r.id),
            email: r.email,
            role: r
                .role
                .parse()
                .map_err(|e: String| AppError::Internal(anyhow::anyhow!(e)))?,
            status,
            email_status,
            email_error: r.email_error,
            invited_by: global_id("User", r.invited_by),
            expires_at: r.expires_at,
            accepted_at: r.accepted_at,
            created_at: r.created_at,
        })
    }
}

/// An integrator's key. The secret itself is shown once, by `createApiKey`.
#[derive(Clone, Debug, SimpleObject)]
pub struct ApiKey {
    pub id: ID,
    pub name: String,
    /// The start of the key, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Permission>,
    pub created_by: ID,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRecord> for ApiKey {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: global_id("ApiKey", k.id.uuid()),
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_by: global_id("User", k.created_by.uuid()),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct AuditEntry {
    pub id: ID,
    pub at: DateTime<Utc>,
    /// `system`, `user` or `api_key`.
    pub actor_kind: String,
    pub actor_id: Option<ID>,
    /// What happened, e.g. `member.invited`.
    pub action: String,
    /// What it happened to, e.g. `user:<uuid>`.
    pub target: String,
    pub detail: Json<serde_json::Value>,
}

impl From<AuditRecord> for AuditEntry {
    fn from(e: AuditRecord) -> Self {
        let actor_type = if e.actor_kind == "api_key" {
            "ApiKey"
        } else {
            "User"
        };
        Self {
            id: global_id("AuditEntry", e.id),
            at: e.at,
            actor_id: e.actor_id.map(|id| global_id(actor_type, id)),
            actor_kind: e.actor_kind,
            action: e.action,
            target: e.target,
            detail: Json(e.detail),
        }
    }
}

/// The caller: a signed-in user, or an API key acting for its tenant.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Me {
    /// The user's id, or the API key's.
    pub id: ID,
    /// The user's email; null for an API key.
    pub email: Option<String>,
    /// Whether the user confirmed their address (by its link); until then they cannot join
    /// another tenant by invitation. Null for an API key.
    pub email_verified: Option<bool>,
    /// The user's role in the current tenant; null for an API key.
    pub role: Option<Role>,
    pub permissions: Vec<Permission>,
    #[graphql(skip)]
    pub tenant_id: TenantId,
    /// Every tenant the user belongs to (empty for an API key).
    pub memberships: Vec<TenantMembership>,
}

#[ComplexObject]
impl Me {
    /// The tenant this session acts in.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        Ok(Tenant::load(ctx, self.tenant_id).await?)
    }
}
