//! What staff see of a tenant's background jobs: depths per kind, the dead-letter list, and
//! replaying or discarding a dead job. Jobs without a tenant (global sweeps) are operators'.

use chrono::{DateTime, Utc};
use entity::jobs;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::queue::Job;
use crate::domain::TenantId;
use crate::tenancy::{AnyTx, TenantTx};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    pub kind: String,
    /// Due now, waiting for a worker.
    pub ready: i64,
    /// Waiting for their time (delayed or recurring).
    pub scheduled: i64,
    /// Failed at least once, waiting for the next attempt.
    pub retrying: i64,
    /// Held by a worker now.
    pub running: i64,
    /// Out of attempts: in the dead-letter list.
    pub dead: i64,
    /// When the longest-waiting ready job became due.
    pub oldest_ready_at: Option<DateTime<Utc>>,
}

/// Kind, ready, scheduled, retrying, running, dead, oldest ready.
type StatsRow = (
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<DateTime<Utc>>,
);

pub async fn stats(tx: &TenantTx) -> Result<Vec<KindStats>, DbErr> {
    use jobs::Column as C;
    let now = Utc::now();
    let count = |cond: sea_orm::sea_query::SimpleExpr| Func::sum(Expr::case(cond, 1).finally(0));
    let queued = || Expr::col(C::Status).eq("queued");
    let rows: Vec<StatsRow> = jobs::Entity::find()
        .select_only()
        .column(C::Kind)
        .expr(count(queued().and(Expr::col(C::RunAt).lte(now))))
        .expr(count(
            queued()
                .and(Expr::col(C::RunAt).gt(now))
                .and(Expr::col(C::Attempts).eq(0)),
        ))
        .expr(count(
            queued()
                .and(Expr::col(C::RunAt).gt(now))
                .and(Expr::col(C::Attempts).gt(0)),
        ))
        .expr(count(Expr::col(C::Status).eq("running")))
        .expr(count(Expr::col(C::Status).eq("dead")))
        .expr(Func::min(
            Expr::case(
                queued().and(Expr::col(C::RunAt).lte(now)),
                Expr::col(C::RunAt),
            )
            .finally(Expr::value(Option::<DateTime<Utc>>::None)),
        ))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .group_by(C::Kind)
        .order_by_asc(C::Kind)
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kind, ready, scheduled, retrying, running, dead, oldest)| KindStats {
                kind,
                ready: ready.unwrap_or(0),
                scheduled: scheduled.unwrap_or(0),
                retrying: retrying.unwrap_or(0),
                running: running.unwrap_or(0),
                dead: dead.unwrap_or(0),
                oldest_ready_at: oldest,
            },
        )
        .collect())
}

/// Dead jobs, most recently failed first.
pub async fn dead(
    tx: &TenantTx,
    kind: Option<&str>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Job>, DbErr> {
    let mut query = jobs::Entity::find()
        .filter(jobs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(jobs::Column::Status.eq("dead"))
        .order_by_desc(jobs::Column::Id)
        .limit(limit);
    if let Some(kind) = kind {
        query = query.filter(jobs::Column::Kind.eq(kind));
    }
    if let Some(after) = after {
        query = query.filter(jobs::Column::Id.lt(after));
    }
    query.all(tx.conn()).await
}

pub async fn get(tx: &TenantTx, tenant: TenantId, id: uuid::Uuid) -> Result<Option<Job>, DbErr> {
    jobs::Entity::find_by_id(id)
        .filter(jobs::Column::TenantId.eq(tenant.uuid()))
        .one(tx.conn())
        .await
}

/// Puts a dead job back in the queue with a fresh set of attempts; false if it is not dead.
pub async fn replay(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let now = Utc::now();
    let done = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value("queued"))
        .col_expr(jobs::Column::Attempts, Expr::value(0))
        .col_expr(jobs::Column::RunAt, Expr::value(now))
        .col_expr(
            jobs::Column::RelayedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(jobs::Column::Status.eq("dead"))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected == 1)
}

/// Deletes a dead job for good; false if it is not dead.
pub async fn discard(tx: &TenantTx, id: uuid::Uuid) -> Result<bool, DbErr> {
    let done = jobs::Entity::delete_many()
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(jobs::Column::Status.eq("dead"))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected == 1)
}
