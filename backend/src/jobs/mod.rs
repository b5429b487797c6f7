//! Background work, run inside `serve` and by `orderflow worker` processes. Each worker stops
//! when the shutdown signal flips, finishing the sweep it is in.

mod housekeeping;

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

pub fn spawn_all(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    vec![tokio::spawn(housekeeping::run(state, stop))]
}
