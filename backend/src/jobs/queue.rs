//! The job table behind the transactional outbox: a job is written in the same transaction
//! as the change that causes it, so neither exists without the other. Workers claim due jobs
//! with a lease (a worker that dies loses its lease and the job runs again), retry failures
//! with exponential backoff and jitter, and park a job as `dead` after its last attempt.
//!
//! Several workers, in one process or many, share the table: a claim is one conditional
//! UPDATE (with `FOR UPDATE SKIP LOCKED` on PostgreSQL), so no job runs twice at once.

use chrono::{DateTime, Duration, Utc};
use entity::jobs;
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    Statement,
    sea_query::{Expr, OnConflict},
};
use serde_json::Value;

use crate::domain::{JobId, TenantId};
use crate::infra::db::Db;
use crate::tenancy::{AnyTx, TenantTx};

pub use jobs::Model as Job;

/// How long a claimed job is a worker's before another may take it.
pub const LEASE: Duration = Duration::seconds(60);
/// How often a running job's lease is renewed.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(20);
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: &'static str,
    pub tenant: Option<TenantId>,
    pub payload: Value,
    /// At most one job with this key exists at a time (a redelivery enqueues nothing new).
    pub dedupe_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn now(kind: &'static str, tenant: Option<TenantId>, payload: Value) -> Self {
        Self {
            kind,
            tenant,
            payload,
            dedupe_key: None,
            run_at: Utc::now(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = run_at;
        self
    }
}

/// Writes a job in the caller's transaction.
pub async fn enqueue(tx: &impl AnyTx, job: NewJob) -> Result<(), DbErr> {
    enqueue_many(tx, vec![job]).await
}

/// Writes several jobs in the caller's transaction, in one statement.
pub async fn enqueue_many(tx: &impl AnyTx, jobs: Vec<NewJob>) -> Result<(), DbErr> {
    if jobs.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows: Vec<jobs::ActiveModel> = jobs
        .into_iter()
        .map(|job| jobs::ActiveModel {
            id: Set(JobId::new().uuid()),
            tenant_id: Set(job.tenant.map(|t| t.uuid())),
            kind: Set(job.kind.to_owned()),
            payload: Set(job.payload),
            dedupe_key: Set(job.dedupe_key),
            status: Set("queued".into()),
            attempts: Set(0),
            max_attempts: Set(job.max_attempts),
            run_at: Set(job.run_at),
            locked_until: Set(None),
            locked_by: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            relayed_at: Set(None),
        })
        .collect();
    // In chunks: a batch with many events stays under the databases' parameter limits.
    for chunk in rows.chunks(500) {
        jobs::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(jobs::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(tx.conn())
            .await?;
    }
    Ok(())
}

/// Makes the queued job with this key (of the caller's tenant) due now: what a person asks
/// for at once is not left waiting for its next scheduled run.
pub async fn due_now(tx: &TenantTx, dedupe_key: &str) -> Result<(), DbErr> {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::RunAt, Expr::value(Utc::now()))
        .filter(jobs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(jobs::Column::DedupeKey.eq(dedupe_key))
        .filter(jobs::Column::Status.eq("queued"))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Takes the next due job (or one whose lease ran out: a running job was due when claimed, so
/// both are found through the (status, run_at) index) for `worker`, for one lease. Its
/// dedupe key is released: a recurring job can schedule its successor while it runs.
/// Jobs of `kinds` for the `busy` tenants are passed over (their tenant has as many running
/// as it may, see [`crate::infra::gate`]).
pub async fn claim(
    db: &Db,
    worker: &str,
    kinds: &[&str],
    busy: &[uuid::Uuid],
) -> Result<Option<Job>, DbErr> {
    let now = Utc::now();
    let lease_end = now + LEASE;
    let postgres = db.is_postgres();
    // Numbered, as each value is used more than once.
    let p = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let (backend, skip_locked) = if postgres {
        (DbBackend::Postgres, "FOR UPDATE SKIP LOCKED")
    } else {
        (DbBackend::Sqlite, "")
    };
    let mut values: Vec<sea_orm::Value> = vec![lease_end.into(), worker.into(), now.into()];
    let passed_over = if busy.is_empty() || kinds.is_empty() {
        String::new()
    } else {
        let kinds_at: Vec<String> = (0..kinds.len()).map(|i| p(values.len() + i + 1)).collect();
        values.extend(kinds.iter().map(|k| sea_orm::Value::from(*k)));
        let busy_at: Vec<String> = (0..busy.len()).map(|i| p(values.len() + i + 1)).collect();
        values.extend(busy.iter().map(|t| sea_orm::Value::from(*t)));
        format!(
            "AND NOT (kind IN ({}) AND tenant_id IN ({})) ",
            kinds_at.join(", "),
            busy_at.join(", ")
        )
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = {lease}, \
         locked_by = {by}, updated_at = {now}, dedupe_key = NULL \
         WHERE id = (SELECT id FROM jobs \
           WHERE status IN ('queued', 'running') AND run_at <= {now} \
             AND (status = 'queued' OR locked_until < {now}) {passed_over}\
           ORDER BY run_at LIMIT 1 {skip_locked}) \
         RETURNING *",
        lease = p(1),
        by = p(2),
        now = p(3),
    );
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    let row = db.raw().query_one_raw(stmt).await?;
    row.map(|r| Job::from_query_result(&r, "")).transpose()
}

/// Takes up to `limit` more due jobs of `kind` and `tenant`, to run with one already claimed
/// as a batch (e.g. many orders decided in one transaction).
pub async fn claim_more(
    db: &Db,
    worker: &str,
    kind: &str,
    tenant: uuid::Uuid,
    limit: u64,
) -> Result<Vec<Job>, DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let lease_end = now + LEASE;
    let (backend, skip_locked, p) = if db.is_postgres() {
        (
            DbBackend::Postgres,
            "FOR UPDATE SKIP LOCKED",
            ["$1", "$2", "$3", "$4", "$5"],
        )
    } else {
        (DbBackend::Sqlite, "", ["?1", "?2", "?3", "?4", "?5"])
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = {lease}, \
         locked_by = {by}, updated_at = {now}, dedupe_key = NULL \
         WHERE id IN (SELECT id FROM jobs \
           WHERE status = 'queued' AND run_at <= {now} AND kind = {kind} AND tenant_id = {tenant} \
           ORDER BY run_at LIMIT {limit} {skip_locked}) \
         RETURNING *",
        lease = p[0],
        by = p[1],
        now = p[2],
        kind = p[3],
        tenant = p[4],
    );
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            lease_end.into(),
            worker.into(),
            now.into(),
            kind.into(),
            tenant.into(),
        ],
    );
    let rows = db.raw().query_all_raw(stmt).await?;
    rows.iter().map(|r| Job::from_query_result(r, "")).collect()
}

/// Claims the jobs named by stream entries, those still due (queued, or running with a lapsed
/// lease), for `worker`. A job already taken or finished is simply not returned.
pub async fn claim_ids(db: &Db, worker: &str, ids: &[uuid::Uuid]) -> Result<Vec<Job>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let lease_end = now + LEASE;
    let postgres = db.is_postgres();
    let p = |n: usize| {
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let list: Vec<String> = (0..ids.len()).map(|i| p(i + 4)).collect();
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = {lease}, \
         locked_by = {by}, updated_at = {now}, dedupe_key = NULL \
         WHERE id IN ({list}) AND run_at <= {now} \
           AND (status = 'queued' OR (status = 'running' AND locked_until < {now})) \
         RETURNING *",
        lease = p(1),
        by = p(2),
        now = p(3),
        list = list.join(", "),
    );
    let mut values: Vec<sea_orm::Value> = vec![lease_end.into(), worker.into(), now.into()];
    values.extend(ids.iter().map(|id| sea_orm::Value::from(*id)));
    let backend = if postgres {
        DbBackend::Postgres
    } else {
        DbBackend::Sqlite
    };
    let rows = db
        .raw()
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter().map(|r| Job::from_query_result(r, "")).collect()
}

/// Marks due jobs as handed to the stream and returns them: jobs never relayed, jobs relayed
/// a lease ago that nobody took (the stream lost them), and running jobs whose lease lapsed.
pub async fn take_for_relay(db: &Db, limit: u64) -> Result<Vec<uuid::Uuid>, DbErr> {
    let now = Utc::now();
    let stale = now - LEASE;
    let (backend, skip_locked, p) = if db.is_postgres() {
        (DbBackend::Postgres, "FOR UPDATE SKIP LOCKED", ["$1", "$2"])
    } else {
        (DbBackend::Sqlite, "", ["?1", "?2"])
    };
    let sql = format!(
        "UPDATE jobs SET relayed_at = {now} \
         WHERE id IN (SELECT id FROM jobs \
           WHERE status IN ('queued', 'running') AND run_at <= {now} \
             AND (status = 'queued' OR locked_until < {now}) \
             AND (relayed_at IS NULL OR relayed_at < {stale}) \
           ORDER BY run_at LIMIT {limit} {skip_locked}) \
         RETURNING id",
        now = p[0],
        stale = p[1],
    );
    let rows = db
        .raw()
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [now.into(), stale.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id"))
        .collect()
}

/// Undoes [`take_for_relay`] for jobs the stream did not accept (Redis is down).
pub async fn unrelay(db: &Db, ids: &[uuid::Uuid]) -> Result<(), DbErr> {
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::RelayedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(jobs::Column::Id.is_in(ids.iter().copied()))
        .exec(db.raw())
        .await?;
    Ok(())
}

/// Extends the leases of jobs `worker` still holds.
pub async fn renew(db: &Db, ids: &[uuid::Uuid], worker: &str) -> Result<(), DbErr> {
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Some(Utc::now() + LEASE)),
        )
        .filter(jobs::Column::Id.is_in(ids.iter().copied()))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db.raw())
        .await?;
    Ok(())
}

/// Removes finished jobs that `worker` still holds.
pub async fn complete(db: &Db, ids: &[uuid::Uuid], worker: &str) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    jobs::Entity::delete_many()
        .filter(jobs::Column::Id.is_in(ids.iter().copied()))
        .filter(jobs::Column::LockedBy.eq(worker))
        .exec(db.raw())
        .await?;
    Ok(())
}

/// An update that hands a job `worker` holds back to the queue with `status`: its lease and
/// its relay mark cleared, so the relay sends it again when it is due. Only the holder of the
/// lease may.
fn release(job: &Job, worker: &str, status: &str) -> sea_orm::UpdateMany<jobs::Entity> {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(status))
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            jobs::Column::RelayedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(jobs::Column::Id.eq(job.id))
        .filter(jobs::Column::LockedBy.eq(worker))
}

/// Gives a claimed job back, untried, to run after `delay` (its tenant had no place free).
pub async fn defer(db: &Db, job: &Job, worker: &str, delay: Duration) -> Result<(), DbErr> {
    release(job, worker, "queued")
        .col_expr(jobs::Column::Attempts, Expr::value(job.attempts - 1))
        .col_expr(jobs::Column::RunAt, Expr::value(Utc::now() + delay))
        .exec(db.raw())
        .await?;
    Ok(())
}

/// Exponential backoff with full jitter: up to 2^attempt seconds, capped at an hour.
pub fn backoff(attempt: i32) -> Duration {
    let cap = 2f64.powi(attempt.clamp(0, 12)).min(3600.0);
    let secs = rand::rng().random_range(cap / 2.0..=cap);
    Duration::milliseconds((secs * 1000.0) as i64)
}

/// Records a failure: the job runs again after a backoff, or is parked as dead.
pub async fn fail(db: &Db, job: &Job, worker: &str, error: &str) -> Result<(), DbErr> {
    let dead = job.attempts >= job.max_attempts;
    let mut update = release(job, worker, if dead { "dead" } else { "queued" }).col_expr(
        jobs::Column::LastError,
        Expr::value(error.chars().take(4000).collect::<String>()),
    );
    if !dead {
        update = update.col_expr(
            jobs::Column::RunAt,
            Expr::value(Utc::now() + backoff(job.attempts)),
        );
    }
    update.exec(db.raw()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..20 {
            let d = backoff(attempt).num_milliseconds() as f64 / 1000.0;
            let cap = 2f64.powi(attempt.min(12)).min(3600.0);
            assert!(
                d >= cap / 2.0 - 0.001 && d <= cap + 0.001,
                "attempt {attempt}: {d}"
            );
        }
    }
}
