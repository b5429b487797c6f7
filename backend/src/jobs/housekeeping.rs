//! Deletes refresh tokens that expired more than a day ago, tenant by tenant. Several workers
//! may run it at once: deleting what is already deleted is harmless.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::error::AppResult;
use crate::state::AppState;
use crate::tenancy::repo::{refresh_tokens, tenants};
use crate::tenancy::{GlobalTx, TenantTx};

const EVERY: Duration = Duration::from_secs(3600);

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        match sweep(&state).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(
                job.name = "housekeeping.purge_refresh_tokens",
                purged,
                "expired refresh tokens purged"
            ),
            Err(err) => {
                tracing::warn!(job.name = "housekeeping.purge_refresh_tokens", error = %err.public_message(), "sweep failed; will retry")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

pub async fn sweep(state: &AppState) -> AppResult<u64> {
    let cutoff = Utc::now() - chrono::Duration::days(1);
    let tx = GlobalTx::begin(&state.db).await?;
    let ids = tenants::all_ids(&tx).await?;
    tx.commit().await?;
    let mut purged = 0;
    for tenant in ids {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        purged += refresh_tokens::purge_expired(&tx, cutoff).await?;
        tx.commit().await?;
    }
    Ok(purged)
}
