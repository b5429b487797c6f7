//! Named points where a test can make this process stop, to prove that a crash there loses
//! nothing: `ORDERFLOW_FAULT_PAUSE=<point>` makes a worker that reaches the point log it and
//! wait there for good, so the test can kill the process exactly there (SIGKILL). Unset, as
//! in production, a point costs one look at a value read once.

use std::sync::OnceLock;

static PAUSE_AT: OnceLock<Option<String>> = OnceLock::new();

/// Waits forever at `point` when the environment names it; returns at once otherwise.
pub async fn pause_at(point: &str) {
    let wanted = PAUSE_AT.get_or_init(|| {
        std::env::var("ORDERFLOW_FAULT_PAUSE")
            .ok()
            .filter(|p| !p.is_empty())
    });
    if wanted.as_deref() == Some(point) {
        tracing::warn!(point, "paused at a fault point (ORDERFLOW_FAULT_PAUSE)");
        std::future::pending::<()>().await;
    }
}
