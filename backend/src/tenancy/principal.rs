//! The authenticated caller of a request: who, in which tenant, allowed to do what.

use crate::domain::{ApiKeyId, ConnectionId, TenantId, UserId};
use crate::error::{AppError, AppResult};
use crate::tenancy::{Permission, Role};

/// Who did something, as recorded on audit entries and timelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    System,
    User(UserId),
    ApiKey(ApiKeyId),
    /// A sales channel, through one of the tenant's connections.
    Channel(ConnectionId),
}

impl Actor {
    pub fn kind(self) -> &'static str {
        match self {
            Actor::System => "system",
            Actor::User(_) => "user",
            Actor::ApiKey(_) => "api_key",
            Actor::Channel(_) => "channel",
        }
    }

    pub fn id(self) -> Option<uuid::Uuid> {
        match self {
            Actor::System => None,
            Actor::User(id) => Some(id.uuid()),
            Actor::ApiKey(id) => Some(id.uuid()),
            Actor::Channel(id) => Some(id.uuid()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant: TenantId,
    pub actor: Actor,
    /// The member's role; `None` for API keys, which hold scopes instead.
    pub role: Option<Role>,
    permissions: Vec<Permission>,
}

impl Principal {
    pub fn user(tenant: TenantId, user: UserId, role: Role) -> Self {
        Self {
            tenant,
            actor: Actor::User(user),
            role: Some(role),
            permissions: role.permissions().to_vec(),
        }
    }

    /// An operator command (import, demo) acting in a tenant with the permissions given.
    pub fn system(tenant: TenantId, permissions: Vec<Permission>) -> Self {
        Self {
            tenant,
            actor: Actor::System,
            role: None,
            permissions,
        }
    }

    pub fn api_key(tenant: TenantId, key: ApiKeyId, scopes: Vec<Permission>) -> Self {
        Self {
            tenant,
            actor: Actor::ApiKey(key),
            role: None,
            permissions: scopes,
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    pub fn require(&self, permission: Permission) -> AppResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} permission, which your {} does not have",
                permission.as_str(),
                match self.role {
                    Some(role) => format!("{role} role"),
                    None => "API key".to_owned(),
                }
            )))
        }
    }

    /// The signed-in user, or FORBIDDEN for API keys (for acts reserved to people).
    pub fn user_id(&self) -> AppResult<UserId> {
        match self.actor {
            Actor::User(id) => Ok(id),
            _ => Err(AppError::Forbidden(
                "only a signed-in user can do this, not an API key".to_owned(),
            )),
        }
    }
}
