//! Stock marks on channel listings: a stock change (a movement, a buffer, a warehouse taken
//! out of service) makes the figures of the listings it moves stale, in its own transaction,
//! and queues the push of each connection concerned (one queued per connection: a burst of
//! changes is one push of the latest figures). Kept beneath the stages that change stock, so
//! they can mark without reaching up to the channels; the push itself is
//! `channels::stock::StockToChannel`, run by the job kind named here.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entity::channel_listings;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::{ConnectionId, VariantId};
use crate::jobs::queue::{self, NewJob};
use crate::tenancy::{AnyTx, TenantTx};

/// The job kind that pushes a connection's stale figures.
pub const PUSH_JOB: &str = "channel.stock";

/// At most one queued push per connection.
pub fn push_key(connection: ConnectionId) -> String {
    format!("stock:{connection}")
}

/// The push job's payload: the connection, and tries in a row the channel was unavailable.
pub fn push_payload(connection: ConnectionId, round: i32) -> serde_json::Value {
    serde_json::json!({ "connection": connection, "round": round })
}

/// How long a stock change waits for others to join its push.
pub const COALESCE: chrono::Duration = chrono::Duration::seconds(1);

/// A stock change of `variant`: its listings' figures are stale, and their connections'
/// pushes are scheduled. Costs one indexed UPDATE when the variant is listed nowhere.
pub async fn mark(tx: &TenantTx, variant: VariantId) -> Result<(), DbErr> {
    let marked = channel_listings::Entity::update_many()
        .col_expr(channel_listings::Column::DirtyAt, Expr::value(Utc::now()))
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::VariantId.eq(variant.uuid()))
        .exec_with_returning(tx.conn())
        .await?;
    schedule(tx, marked.iter().map(|l| l.connection_id)).await
}

/// Every mapped listing of the tenant (or of one connection) is stale: its settings changed.
pub async fn mark_all(tx: &TenantTx, connection: Option<ConnectionId>) -> Result<(), DbErr> {
    let mut update = channel_listings::Entity::update_many()
        .col_expr(channel_listings::Column::DirtyAt, Expr::value(Utc::now()))
        .filter(channel_listings::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_listings::Column::VariantId.is_not_null());
    if let Some(c) = connection {
        update = update.filter(channel_listings::Column::ConnectionId.eq(c.uuid()));
    }
    update.exec(tx.conn()).await?;
    let connections: Vec<uuid::Uuid> = match connection {
        Some(c) => vec![c.uuid()],
        None => entity::channel_connections::Entity::find()
            .filter(entity::channel_connections::Column::TenantId.eq(tx.tenant().uuid()))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    };
    schedule(tx, connections).await
}

/// Each connection's push, due after the coalescing window (a no-op while one is queued).
pub async fn schedule(
    tx: &TenantTx,
    connections: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<(), DbErr> {
    schedule_at(tx, connections, Utc::now() + COALESCE).await
}

/// Each connection's push, due at `at`.
pub async fn schedule_at(
    tx: &TenantTx,
    connections: impl IntoIterator<Item = uuid::Uuid>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let jobs: Vec<_> = connections
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|c| NewJob {
            dedupe_key: Some(push_key(ConnectionId(c))),
            ..NewJob::now(
                PUSH_JOB,
                Some(tx.tenant()),
                push_payload(ConnectionId(c), 0),
            )
            .at(at)
        })
        .collect();
    queue::enqueue_many(tx, jobs).await
}
