//! A kind of background work, as a type: its payload is the struct itself, and the
//! constants say how the queue treats it. A job is enqueued by value in the caller's
//! transaction (`AdvanceOrder { order }.enqueue(&tx)`), and run by the handler that the one
//! [`Registry`] names for it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::DbErr;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::queue::{self, DEFAULT_MAX_ATTEMPTS, NewJob};
use crate::domain::{OrderId, TenantId};
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// Why a job failed, for its record and the logs.
pub type JobError = String;

/// What one job came to.
pub type Outcome = Result<(), JobError>;

/// A kind of job. The payload is stored as the struct's JSON: renaming a field strands the
/// jobs queued before a release, so fields keep their stored names.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind stored in the job row.
    const NAME: &'static str;
    /// Attempts before the job is parked as dead (retried with backoff until then).
    const MAX_ATTEMPTS: i32 = DEFAULT_MAX_ATTEMPTS;
    /// Jobs of one tenant run together, at most this many (one handler call for all).
    const BATCH: u64 = 1;
    /// A batch found small (under 16) waits this long for more to join it, when a batch has
    /// a fixed cost worth sharing.
    const LINGER: Duration = Duration::ZERO;
    /// It waits on a tenant's remote endpoint: it runs only while the tenant has a place free
    /// (see [`crate::infra::gate`]).
    const CALLS_OUT: bool = false;
    /// How long one run may take before it is given up and retried.
    const TIME_LIMIT: Duration = Duration::from_secs(15 * 60);

    /// At most one queued job with this key exists: enqueueing another is a no-op.
    fn dedupe_key(&self, tenant: TenantId) -> Option<String>;

    /// The order it works on, for the logs.
    fn order(&self) -> Option<OrderId> {
        None
    }

    /// The row to write, due at `at`.
    fn row(self, tenant: TenantId, at: DateTime<Utc>) -> NewJob {
        let dedupe_key = self.dedupe_key(tenant);
        NewJob {
            kind: Self::NAME,
            tenant: Some(tenant),
            payload: serde_json::to_value(&self).unwrap_or_default(),
            dedupe_key,
            run_at: at,
            max_attempts: Self::MAX_ATTEMPTS,
        }
    }

    /// Enqueues it, due now, in the caller's transaction.
    fn enqueue(self, tx: &TenantTx) -> impl Future<Output = Result<(), DbErr>> + Send {
        self.enqueue_at(tx, Utc::now())
    }

    /// Enqueues it, due at `at`, in the caller's transaction.
    fn enqueue_at(
        self,
        tx: &TenantTx,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DbErr>> + Send {
        queue::enqueue(tx, self.row(tx.tenant(), at))
    }
}

/// What a handler knows of a claimed job besides its payload.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    pub id: uuid::Uuid,
    pub tenant: TenantId,
    /// 1 on the first run.
    pub attempt: i32,
    pub max_attempts: i32,
}

impl Claim {
    /// No retry follows a failure of this run.
    pub fn is_last(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// A job run on its own.
pub trait Run: Job {
    fn run(
        self,
        state: &Arc<AppState>,
        claim: Claim,
    ) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// A job run in batches of one tenant's ([`Job::BATCH`] at most): one outcome per job, in
/// their order.
pub trait RunBatch: Job {
    fn run_batch(
        state: &Arc<AppState>,
        tenant: TenantId,
        jobs: Vec<(Claim, Self)>,
    ) -> impl Future<Output = Vec<Outcome>> + Send;
}

type Handler = for<'a> fn(&'a Arc<AppState>, &'a [queue::Job]) -> BoxFuture<'a, Vec<Outcome>>;

/// How the worker treats one kind of job.
#[derive(Clone, Copy)]
pub struct Kind {
    pub name: &'static str,
    pub batch: u64,
    pub linger: Duration,
    pub calls_out: bool,
    pub time_limit: Duration,
    /// The order a stored payload names, for the job's span.
    pub order: fn(&serde_json::Value) -> Option<OrderId>,
    run: Handler,
}

/// Every kind of job this build runs, by name.
#[derive(Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Kind>,
    /// The kinds that call out, sorted: read on every claim, so kept rather than derived.
    calling_out: Vec<&'static str>,
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

impl Registry {
    /// Adds a kind run on its own.
    pub fn single<J: Run>(self) -> Self {
        self.add::<J>(run_single::<J>)
    }

    /// Adds a kind run in batches.
    pub fn batched<J: RunBatch>(self) -> Self {
        self.add::<J>(run_batched::<J>)
    }

    fn add<J: Job>(mut self, run: Handler) -> Self {
        let kind = Kind {
            name: J::NAME,
            batch: J::BATCH.max(1),
            linger: J::LINGER,
            calls_out: J::CALLS_OUT,
            time_limit: J::TIME_LIMIT,
            order: |payload| {
                serde_json::from_value::<J>(payload.clone())
                    .ok()
                    .and_then(|j| j.order())
            },
            run,
        };
        let earlier = self.kinds.insert(J::NAME, kind);
        assert!(earlier.is_none(), "job kind {} registered twice", J::NAME);
        if J::CALLS_OUT {
            self.calling_out.push(J::NAME);
            self.calling_out.sort_unstable();
        }
        self
    }

    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.get(name)
    }

    /// Kinds that call out, which the claim passes over for busy tenants.
    pub fn calling_out(&self) -> &[&'static str] {
        &self.calling_out
    }

    /// Makes this the process's registry (the application does, once, at start-up; later
    /// calls keep the first).
    pub fn install(make: impl FnOnce() -> Registry) -> &'static Registry {
        INSTALLED.get_or_init(make)
    }

    /// The process's registry. Workers refuse to claim before the application installed it
    /// (`AppState::build` does): a job claimed then would fail for want of its handler.
    pub fn installed() -> Result<&'static Registry, DbErr> {
        INSTALLED.get().ok_or_else(|| {
            DbErr::Custom("no job kinds registered: build the state with AppState::build".into())
        })
    }

    /// Runs claimed jobs of one kind; a kind no handler knows fails each.
    pub async fn run(&self, state: &Arc<AppState>, jobs: &[queue::Job]) -> Vec<Outcome> {
        let Some(kind) = jobs.first().and_then(|j| self.kind(&j.kind)) else {
            return jobs
                .iter()
                .map(|j| Err(format!("no handler for job kind {}", j.kind)))
                .collect();
        };
        (kind.run)(state, jobs).await
    }
}

fn claim_of(job: &queue::Job) -> Result<Claim, JobError> {
    Ok(Claim {
        id: job.id,
        tenant: job
            .tenant_id
            .map(TenantId)
            .ok_or_else(|| "the job names no tenant".to_owned())?,
        attempt: job.attempts,
        max_attempts: job.max_attempts,
    })
}

fn decode<J: Job>(job: &queue::Job) -> Result<(Claim, J), JobError> {
    let payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("the payload is not a {} job: {e}", J::NAME))?;
    Ok((claim_of(job)?, payload))
}

fn run_single<'a, J: Run>(
    state: &'a Arc<AppState>,
    jobs: &'a [queue::Job],
) -> BoxFuture<'a, Vec<Outcome>> {
    Box::pin(async move {
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(match decode::<J>(job) {
                Ok((claim, payload)) => payload.run(state, claim).await,
                Err(e) => Err(e),
            });
        }
        out
    })
}

/// Jobs that cannot be read fail alone; the others run as one batch per tenant.
fn run_batched<'a, J: RunBatch>(
    state: &'a Arc<AppState>,
    jobs: &'a [queue::Job],
) -> BoxFuture<'a, Vec<Outcome>> {
    Box::pin(async move {
        let mut out: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let mut by_tenant: HashMap<TenantId, Vec<(usize, Claim, J)>> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            match decode::<J>(job) {
                Ok((claim, payload)) => by_tenant
                    .entry(claim.tenant)
                    .or_default()
                    .push((i, claim, payload)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        for (tenant, batch) in by_tenant {
            let (at, batch): (Vec<usize>, Vec<(Claim, J)>) =
                batch.into_iter().map(|(i, c, j)| (i, (c, j))).unzip();
            let outcomes = J::run_batch(state, tenant, batch).await;
            for (i, outcome) in at.into_iter().zip(outcomes) {
                out[i] = Some(outcome);
            }
        }
        out.into_iter()
            .map(|o| o.unwrap_or_else(|| Err("the batch gave no outcome for the job".into())))
            .collect()
    })
}
