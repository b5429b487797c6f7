//! Runs jobs from the queue: claim, dispatch to the handler of its kind, then complete or
//! record the failure. Handlers are idempotent: a job may run again after a crash.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::queue::{self, Job};
use crate::app::AppState;
use crate::channels;

/// How often an idle worker looks for due jobs written by other processes.
const POLL: Duration = Duration::from_millis(250);

/// Why a job failed, for its record and the logs.
pub type JobError = String;

async fn dispatch(state: &Arc<AppState>, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        channels::deliveries::JOB => channels::deliveries::run_job(state, job).await,
        channels::poll::JOB => channels::poll::run_job(state, job).await,
        other => Err(format!("no handler for job kind {other}")),
    }
}

/// Runs one due job, if there is one. Returns whether it found one.
pub async fn run_one(state: &Arc<AppState>, worker: &str) -> Result<bool, sea_orm::DbErr> {
    let Some(job) = queue::claim(&state.db, worker).await? else {
        return Ok(false);
    };
    let started = std::time::Instant::now();
    match dispatch(state, &job).await {
        Ok(()) => {
            queue::complete(&state.db, job.id).await?;
            tracing::debug!(job.kind = %job.kind, job.id = %job.id, elapsed_ms = started.elapsed().as_millis() as u64, "job done");
        }
        Err(error) => {
            tracing::warn!(job.kind = %job.kind, job.id = %job.id, attempt = job.attempts, %error, "job failed");
            queue::fail(&state.db, &job, &error).await?;
        }
    }
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
