//! The audit log: append-only record of account changes, with the actor.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{AuditEntryId, TenantId};
use crate::tenancy::{Actor, AnyTx, TenantTx};

/// One entry; serialisable because live subscribers receive it whole.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    pub tenant: TenantId,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

fn from_row(row: audit_log::Model) -> AuditEntry {
    AuditEntry {
        tenant: TenantId(row.tenant_id),
        id: row.id,
        at: row.at,
        actor_kind: row.actor_kind,
        actor_id: row.actor_id,
        action: row.action,
        target: row.target,
        detail: row.detail,
    }
}

pub async fn record(
    tx: &TenantTx,
    actor: Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<AuditEntry, DbErr> {
    let row = audit_log::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(AuditEntryId::new().uuid()),
        at: Set(Utc::now()),
        actor_kind: Set(actor.kind().to_owned()),
        actor_id: Set(actor.id()),
        action: Set(action.to_owned()),
        target: Set(target.to_owned()),
        detail: Set(detail),
    };
    Ok(from_row(
        audit_log::Entity::insert(row)
            .exec_with_returning(tx.conn())
            .await?,
    ))
}

/// Newest first.
pub async fn list(
    tx: &TenantTx,
    before: Option<AuditEntryId>,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    let mut query = audit_log::Entity::find()
        .filter(audit_log::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(audit_log::Column::Id)
        .limit(limit);
    if let Some(before) = before {
        query = query.filter(audit_log::Column::Id.lt(before.uuid()));
    }
    Ok(query
        .all(tx.conn())
        .await?
        .into_iter()
        .map(from_row)
        .collect())
}
