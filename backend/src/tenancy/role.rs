//! Roles and permissions: one table says what each role may do.

use std::fmt;
use std::str::FromStr;

/// A member's role in a tenant, strongest first.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Role {
    Owner,
    Admin,
    Staff,
    Viewer,
}

/// Something a principal may do. API-key scopes are permissions too.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    /// See the tenant and one's own identity.
    TenantRead,
    /// List the tenant's members and invitations.
    MembersRead,
    /// Invite members, change roles, remove members.
    MembersManage,
    /// Create, list and revoke API keys.
    ApiKeysManage,
    /// Read the audit log and follow it live.
    AuditRead,
    /// See products, variants, warehouses and suppliers.
    CatalogRead,
    /// Create and change products, variants, warehouses and suppliers.
    CatalogManage,
    /// See stock levels and the inventory ledger.
    InventoryRead,
    /// Receive and adjust stock.
    InventoryManage,
    /// See orders, their timelines and customers.
    OrdersRead,
    /// Create orders, edit tags and notes, resolve capture issues.
    OrdersManage,
    /// Connect sales channels and see what they delivered.
    ChannelsManage,
    /// Change the tenant's lifecycle settings (fraud thresholds, reservations).
    SettingsManage,
    /// See the tenant's background jobs, replay or discard dead ones.
    JobsManage,
    /// Pay money back: refunds and the money side of returns.
    RefundsIssue,
    /// Read the ledger, balances and reconciliation runs.
    FinanceRead,
    /// Import payout reports, resolve discrepancies, reverse ledger entries.
    FinanceManage,
    /// See the KPIs and export them.
    ReportsRead,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::TenantRead,
        Permission::MembersRead,
        Permission::MembersManage,
        Permission::ApiKeysManage,
        Permission::AuditRead,
        Permission::CatalogRead,
        Permission::CatalogManage,
        Permission::InventoryRead,
        Permission::InventoryManage,
        Permission::OrdersRead,
        Permission::OrdersManage,
        Permission::ChannelsManage,
        Permission::SettingsManage,
        Permission::JobsManage,
        Permission::RefundsIssue,
        Permission::FinanceRead,
        Permission::FinanceManage,
        Permission::ReportsRead,
    ];

    /// Whether an API key may carry this permission as a scope. Managing people and keys
    /// stays with signed-in humans, so a leaked key cannot mint more keys or members.
    pub fn grantable_to_api_keys(self) -> bool {
        !matches!(self, Permission::MembersManage | Permission::ApiKeysManage)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::TenantRead => "TENANT_READ",
            Permission::MembersRead => "MEMBERS_READ",
            Permission::MembersManage => "MEMBERS_MANAGE",
            Permission::ApiKeysManage => "API_KEYS_MANAGE",
            Permission::AuditRead => "AUDIT_READ",
            Permission::CatalogRead => "CATALOG_READ",
            Permission::CatalogManage => "CATALOG_MANAGE",
            Permission::InventoryRead => "INVENTORY_READ",
            Permission::InventoryManage => "INVENTORY_MANAGE",
            Permission::OrdersRead => "ORDERS_READ",
            Permission::OrdersManage => "ORDERS_MANAGE",
            Permission::ChannelsManage => "CHANNELS_MANAGE",
            Permission::SettingsManage => "SETTINGS_MANAGE",
            Permission::JobsManage => "JOBS_MANAGE",
            Permission::RefundsIssue => "REFUNDS_ISSUE",
            Permission::FinanceRead => "FINANCE_READ",
            Permission::FinanceManage => "FINANCE_MANAGE",
            Permission::ReportsRead => "REPORTS_READ",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Staff, Role::Viewer];

    /// The permission table.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => &Permission::ALL,
            Role::Staff => &[
                TenantRead,
                MembersRead,
                CatalogRead,
                InventoryRead,
                InventoryManage,
                OrdersRead,
                OrdersManage,
                RefundsIssue,
                ReportsRead,
            ],
            Role::Viewer => &[
                TenantRead,
                CatalogRead,
                InventoryRead,
                OrdersRead,
                ReportsRead,
            ],
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_admins_hold_every_permission_and_viewers_only_read() {
        for p in Permission::ALL {
            assert!(Role::Owner.can(p) && Role::Admin.can(p));
        }
        assert!(Role::Viewer.permissions().iter().all(|p| matches!(
            p,
            Permission::TenantRead
                | Permission::CatalogRead
                | Permission::InventoryRead
                | Permission::OrdersRead
                | Permission::ReportsRead
        )));
        assert!(!Role::Staff.can(Permission::ChannelsManage));
        assert!(!Role::Staff.can(Permission::MembersManage));
    }

    #[test]
    fn roles_and_permissions_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
    }
}
