//! The mailer's job: sending one notification, in batches of a tenant's.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::service;
use crate::domain::TenantId;
use crate::jobs::{Claim, Job, Outcome, RunBatch};
use crate::state::AppState;

/// Sends the notification keyed `key` (written beforehand, in the same transaction).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendNotification {
    pub key: String,
}

impl Job for SendNotification {
    const NAME: &'static str = "notify.send";
    /// Emails of one tenant prepared and marked together.
    const BATCH: u64 = 32;

    fn dedupe_key(&self, tenant: TenantId) -> Option<String> {
        Some(format!("notify:{}:{}", tenant.uuid(), self.key))
    }
}

impl RunBatch for SendNotification {
    async fn run_batch(
        state: &Arc<AppState>,
        tenant: TenantId,
        jobs: Vec<(Claim, Self)>,
    ) -> Vec<Outcome> {
        let jobs: Vec<(Claim, String)> = jobs.into_iter().map(|(c, j)| (c, j.key)).collect();
        service::send_batch(state, tenant, &jobs).await
    }
}
