//! Runs jobs from the queue: claim, dispatch to the handler of its kind, then complete or
//! record the failure. Handlers are idempotent: a job may run again after a crash.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;

use super::queue::{self, Job};
use crate::app::AppState;
use crate::channels;
use crate::lifecycle::engine;

/// How often an idle worker looks for due jobs written by other processes.
const POLL: Duration = Duration::from_millis(250);

/// Why a job failed, for its record and the logs.
pub type JobError = String;

async fn dispatch(state: &Arc<AppState>, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        channels::deliveries::JOB => channels::deliveries::run_job(state, job).await,
        channels::poll::JOB => channels::poll::run_job(state, job).await,
        engine::EXPIRE => engine::run_expiry(state, job).await,
        engine::RESTOCKED => engine::run_restocked(state, job).await,
        other => Err(format!("no handler for job kind {other}")),
    }
}

/// Runs claimed jobs: `order.advance` jobs together (one transaction for the batch), any
/// other kind alone. Returns one result per job.
async fn dispatch_all(state: &Arc<AppState>, jobs: &[Job]) -> Vec<Result<(), JobError>> {
    if jobs.first().is_some_and(|j| j.kind == engine::ADVANCE) {
        return engine::run_advance(state, jobs).await;
    }
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        out.push(dispatch(state, job).await);
    }
    out
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the handler panicked: {what}")
}

/// Runs one due job (with the jobs it batches with), if there is one. Returns whether it
/// found one.
pub async fn run_one(state: &Arc<AppState>, worker: &str) -> Result<bool, sea_orm::DbErr> {
    let Some(job) = queue::claim(&state.db, worker).await? else {
        return Ok(false);
    };
    if job.attempts > job.max_attempts {
        // Its last lease lapsed (the worker died, or the job crashes it): park it.
        queue::fail(&state.db, &job, worker, "the last attempt never finished").await?;
        return Ok(true);
    }
    let mut jobs = vec![job];
    if jobs[0].kind == engine::ADVANCE
        && let Some(tenant) = jobs[0].tenant_id
    {
        let more = queue::claim_more(
            &state.db,
            worker,
            engine::ADVANCE,
            tenant,
            engine::BATCH - 1,
        )
        .await?;
        jobs.extend(more);
    }
    let started = std::time::Instant::now();
    // The leases are renewed while the jobs run, so a slow job is not taken by another worker.
    let heartbeat = {
        let (db, worker) = (state.db.clone(), worker.to_owned());
        let ids: Vec<uuid::Uuid> = jobs.iter().map(|j| j.id).collect();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(queue::HEARTBEAT).await;
                if queue::renew(&db, &ids, &worker).await.is_err() {
                    return;
                }
            }
        })
    };
    // A panicking handler fails its jobs instead of killing this worker.
    let outcomes = std::panic::AssertUnwindSafe(dispatch_all(state, &jobs))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let message = panic_message(panic);
            jobs.iter().map(|_| Err(message.clone())).collect()
        });
    heartbeat.abort();
    let mut done = Vec::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                done.push(job.id);
                tracing::debug!(job.kind = %job.kind, job.id = %job.id, elapsed_ms = started.elapsed().as_millis() as u64, "job done");
            }
            Err(error) => {
                tracing::warn!(job.kind = %job.kind, job.id = %job.id, attempt = job.attempts, %error, "job failed");
                queue::fail(&state.db, job, worker, &error).await?;
            }
        }
    }
    queue::complete(&state.db, &done, worker).await?;
    Ok(true)
}

/// Runs due jobs until none is left; returns how many ran (tests and the import command).
pub async fn drain(state: &Arc<AppState>) -> Result<usize, sea_orm::DbErr> {
    let mut ran = 0;
    while run_one(state, "drain").await? {
        ran += 1;
    }
    Ok(ran)
}

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>, name: String) {
    loop {
        if *stop.borrow() {
            return;
        }
        match run_one(&state, &name).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "job queue unavailable; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = state.wake_workers.notified() => {}
            _ = stop.changed() => return,
        }
    }
}
