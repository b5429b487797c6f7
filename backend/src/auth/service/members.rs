//! Changing a member's role and removing members, keeping at least one owner.

use super::publish_audit;
use crate::domain::UserId;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::state::AppState;
use crate::tenancy::repo::audit;
use crate::tenancy::repo::memberships::{self, Membership};
use crate::tenancy::{Permission, Principal, Role, TenantTx};

/// Who may change whom: owners are changed only by owners, and the last owner stays one.
async fn check_change(
    tx: &TenantTx,
    principal: &Principal,
    target: &Membership,
    new_role: Option<Role>,
) -> Outcome<()> {
    let touches_owner = target.role == Role::Owner || new_role == Some(Role::Owner);
    if touches_owner && principal.role != Some(Role::Owner) {
        return Err(UserError::on(
            "role",
            C::Forbidden,
            "only an owner can change an owner or make someone an owner",
        )
        .into());
    }
    if target.role == Role::Owner
        && new_role != Some(Role::Owner)
        && memberships::count_owners(tx).await? <= 1
    {
        return Err(UserError::on(
            "userId",
            C::LastOwner,
            "a tenant needs at least one owner: make someone else owner first",
        )
        .into());
    }
    Ok(())
}

pub async fn update_membership_role(
    state: &AppState,
    principal: &Principal,
    user: UserId,
    role: Role,
) -> Outcome<Membership> {
    principal.require(Permission::MembersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(target) = memberships::get(&tx, user).await? else {
        return Err(UserError::on("userId", C::NotFound, "no member with this id").into());
    };
    check_change(&tx, principal, &target, Some(role)).await?;
    memberships::set_role(&tx, user, role).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "member.role_changed",
        &format!("user:{user}"),
        serde_json::json!({ "from": target.role.as_str(), "to": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(Membership { role, ..target })
}

/// Removes a member; their sessions in this tenant end with the membership.
pub async fn remove_member(
    state: &AppState,
    principal: &Principal,
    user: UserId,
) -> Outcome<Membership> {
    principal.require(Permission::MembersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(target) = memberships::get(&tx, user).await? else {
        return Err(UserError::on("userId", C::NotFound, "no member with this id").into());
    };
    check_change(&tx, principal, &target, None).await?;
    memberships::delete(&tx, user).await?;
    let entry = audit::record(
        &tx,
        principal.actor,
        "member.removed",
        &format!("user:{user}"),
        serde_json::json!({ "role": target.role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(target)
}
