//! Background work, run inside `serve` and by `orderflow worker` processes. Each worker stops
//! when the shutdown signal flips, finishing the sweep it is in.
//!
//! A kind of job is a type ([`Job`], in `kind.rs`) with its handler ([`Run`] or [`RunBatch`]),
//! listed once in `app::job_kinds`; `queue.rs` is the table (the transactional outbox),
//! `worker.rs` claims and runs, `stream.rs` relays through Redis; `infra::gate` keeps one
//! tenant's remote calls from taking every worker.

pub mod admin;
pub mod graphql;
mod housekeeping;
pub mod kind;
pub mod queue;
pub mod stream;
pub mod worker;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use self::kind::{Claim, Job, JobError, Outcome, Registry, Run, RunBatch};
use crate::state::AppState;

pub fn spawn_all(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let name = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    match (&state.redis, &state.redis_client) {
        // With Redis: one relay per process, and workers each on a connection of their own
        // (a blocking stream read holds its connection).
        (Some(shared), Some(client)) => {
            let shared = stream::JobStream::new(shared.clone(), &state.config.redis_prefix);
            tasks.push(tokio::spawn(worker::relay(
                state.clone(),
                shared,
                stop.clone(),
            )));
            for n in 1..=state.config.workers {
                let (state, stop, client) = (state.clone(), stop.clone(), client.clone());
                let name = format!("{name}-{n}");
                tasks.push(tokio::spawn(async move {
                    let conn = loop {
                        if *stop.borrow() {
                            return;
                        }
                        match crate::infra::redis::manager(&client).await {
                            Ok(conn) => break conn,
                            Err(err) => {
                                tracing::warn!(error = %err, "job stream connection failed; working from the database");
                                if worker::run_one(&state, &name).await.unwrap_or(false) {
                                    continue;
                                }
                                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                            }
                        }
                    };
                    let stream = stream::JobStream::new(conn, &state.config.redis_prefix);
                    worker::run_streamed(state, stream, stop, name).await
                }));
            }
        }
        _ => {
            for n in 1..=state.config.workers {
                tasks.push(tokio::spawn(worker::run(
                    state.clone(),
                    stop.clone(),
                    format!("{name}-{n}"),
                )));
            }
        }
    }
    tasks.push(tokio::spawn(housekeeping::run(state, stop)));
    tasks
}
