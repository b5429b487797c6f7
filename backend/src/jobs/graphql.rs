//! The tenant's background jobs over GraphQL (admins): depths per kind, dead letters with
//! their errors, replay and discard.

use async_graphql::connection::Connection as Page;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::admin::{self, KindStats};
use super::queue::Job as JobRecord;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::tenancy::repo::audit;
use crate::tenancy::{Permission, TenantTx};

/// Jobs of one kind, by where they are.
#[derive(SimpleObject)]
pub struct JobKindStats {
    /// e.g. `order.advance`, `channel.delivery`, `channel.poll`.
    pub kind: String,
    /// Due now, waiting for a worker.
    pub ready: i64,
    /// Waiting for their time (delayed or recurring).
    pub scheduled: i64,
    /// Failed, waiting for the next attempt (exponential backoff).
    pub retrying: i64,
    /// Held by a worker now.
    pub in_flight: i64,
    /// Out of attempts: in the dead-letter list.
    pub dead: i64,
    /// When the longest-waiting ready job became due: the queue's lag.
    pub oldest_ready_at: Option<DateTime<Utc>>,
}

impl From<KindStats> for JobKindStats {
    fn from(s: KindStats) -> Self {
        Self {
            kind: s.kind,
            ready: s.ready,
            scheduled: s.scheduled,
            retrying: s.retrying,
            in_flight: s.running,
            dead: s.dead,
            oldest_ready_at: s.oldest_ready_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct Job {
    pub id: ID,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// The last failure, as the handler reported it.
    pub last_error: Option<String>,
    pub payload: async_graphql::Json<serde_json::Value>,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<JobRecord> for Job {
    fn from(j: JobRecord) -> Self {
        Self {
            id: global_id("Job", j.id),
            kind: j.kind,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            payload: async_graphql::Json(j.payload),
            run_at: j.run_at,
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct DeadJobInput {
    pub job_id: ID,
}

#[derive(SimpleObject)]
pub struct JobPayload {
    pub job: Option<Job>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct JobsQuery;

#[Object]
impl JobsQuery {
    /// The tenant's jobs per kind: ready, scheduled, retrying, in flight, dead.
    #[graphql(guard = "Perm(Permission::JobsManage)")]
    async fn job_queue(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<JobKindStats>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let stats = admin::stats(&tx).await?;
        tx.commit().await?;
        Ok(stats.into_iter().map(JobKindStats::from).collect())
    }

    /// Jobs that ran out of attempts, most recent first, with their last error.
    #[graphql(
        guard = "Perm(Permission::JobsManage)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn dead_jobs(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Page<String, Job>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = admin::dead(&tx, kind.as_deref(), after, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|j| (j.id, Job::from(j))).collect();
        Ok(connection(nodes, limit, after.is_some()))
    }
}

#[derive(Clone, Copy)]
enum DeadAction {
    Replay,
    Discard,
}

async fn act(ctx: &Context<'_>, input: DeadJobInput, action: DeadAction) -> Outcome<JobRecord> {
    let p = principal(ctx)?;
    p.require(Permission::JobsManage)?;
    let id = decode_id(&input.job_id, "Job", "jobId")?;
    let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
    let Some(job) = admin::get(&tx, p.tenant, id).await? else {
        return Err(UserError::on("jobId", C::NotFound, "no such job").into());
    };
    let done = match action {
        DeadAction::Replay => admin::replay(&tx, id).await?,
        DeadAction::Discard => admin::discard(&tx, id).await?,
    };
    if !done {
        return Err(UserError::on(
            "jobId",
            C::IllegalTransition,
            format!(
                "only dead jobs can be replayed or discarded; this one is {}",
                job.status
            ),
        )
        .into());
    }
    let verb = match action {
        DeadAction::Replay => "job.replayed",
        DeadAction::Discard => "job.discarded",
    };
    audit::record(
        &tx,
        p.actor,
        verb,
        &format!("job:{id}"),
        serde_json::json!({ "kind": job.kind, "lastError": job.last_error }),
    )
    .await?;
    let after = admin::get(&tx, p.tenant, id).await?;
    tx.commit().await?;
    state(ctx).wake_workers.notify_waiters();
    Ok(after.unwrap_or(job))
}

#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Puts a dead job back in the queue with a fresh set of attempts.
    #[graphql(guard = "Perm(Permission::JobsManage)")]
    async fn replay_job(
        &self,
        ctx: &Context<'_>,
        input: DeadJobInput,
    ) -> async_graphql::Result<JobPayload> {
        let (value, user_errors) = payload(act(ctx, input, DeadAction::Replay).await)?;
        Ok(JobPayload {
            job: value.map(Job::from),
            user_errors,
        })
    }

    /// Deletes a dead job for good (returned as it was).
    #[graphql(guard = "Perm(Permission::JobsManage)")]
    async fn discard_job(
        &self,
        ctx: &Context<'_>,
        input: DeadJobInput,
    ) -> async_graphql::Result<JobPayload> {
        let (value, user_errors) = payload(act(ctx, input, DeadAction::Discard).await)?;
        Ok(JobPayload {
            job: value.map(Job::from),
            user_errors,
        })
    }
}
