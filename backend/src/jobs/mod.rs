//! Background work, run inside `serve` and by `orderflow worker` processes. Each worker stops
//! when the shutdown signal flips, finishing the sweep it is in.

pub mod admin;
pub mod graphql;
mod housekeeping;
pub mod queue;
pub mod worker;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

pub fn spawn_all(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let name = format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
    let mut tasks: Vec<JoinHandle<()>> = (1..=state.config.workers)
        .map(|n| {
            tokio::spawn(worker::run(
                state.clone(),
                stop.clone(),
                format!("{name}-{n}"),
            ))
        })
        .collect();
    tasks.push(tokio::spawn(housekeeping::run(state, stop)));
    tasks
}
