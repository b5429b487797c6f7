//! Runs jobs from the queue: claim, dispatch to the handler of its kind, then complete or
//! record the failure. Handlers are idempotent: a job may run again after a crash.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tracing::Instrument;

use super::kind::{Kind, Registry};
use super::queue::{self, Job};
use super::stream::{Entry, JobStream};
use crate::state::AppState;

pub use super::kind::JobError;

/// How long a job waits when its tenant had no place free.
const DEFERRED: chrono::Duration = chrono::Duration::seconds(2);

/// How often an idle worker looks for due jobs written by other processes.
const POLL: Duration = Duration::from_millis(250);

/// A batch smaller than this waits its kind's linger for more to join it (and a stream read
/// this small waits [`LINGER`]).
const LINGER_BELOW: usize = 16;
const LINGER: Duration = Duration::from_millis(20);

/// Stream entries a worker takes at a time (the largest batch).
const READ: usize = 64;

/// A job whose kind no handler knows runs alone and fails.
fn batch_of(kind: Option<&Kind>) -> u64 {
    kind.map_or(1, |k| k.batch)
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the handler panicked: {what}")
}

/// Runs one due job (with the jobs of its tenant and kind it batches with), if there is one.
/// Returns whether it found one.
pub async fn run_one(state: &Arc<AppState>, worker: &str) -> Result<bool, sea_orm::DbErr> {
    let registry = Registry::installed()?;
    let busy = state.tenant_gate.busy();
    let Some(job) = queue::claim(&state.db, worker, registry.calling_out(), &busy).await? else {
        return Ok(false);
    };
    let kind = registry.kind(&job.kind);
    let batch = batch_of(kind);
    let linger = kind.map_or(Duration::ZERO, |k| k.linger);
    let mut jobs = vec![job];
    if batch > 1
        && jobs[0].attempts <= jobs[0].max_attempts
        && let Some(tenant) = jobs[0].tenant_id
    {
        let kind = jobs[0].kind.clone();
        jobs.extend(queue::claim_more(&state.db, worker, &kind, tenant, batch - 1).await?);
        if jobs.len() < LINGER_BELOW && !linger.is_zero() {
            tokio::time::sleep(linger).await;
            let room = batch.saturating_sub(jobs.len() as u64);
            jobs.extend(queue::claim_more(&state.db, worker, &kind, tenant, room).await?);
        }
    }
    execute(state, worker, jobs).await?;
    Ok(true)
}

/// The span one run of `jobs` (of one kind and tenant) is logged in.
fn span_of(kind: Option<&Kind>, jobs: &[Job]) -> tracing::Span {
    let first = &jobs[0];
    let span = tracing::info_span!(
        "job",
        job.name = %first.kind,
        job.id = %first.id,
        tenant.id = tracing::field::Empty,
        attempt = first.attempts,
        order.id = tracing::field::Empty,
        jobs = jobs.len(),
    );
    if let Some(tenant) = first.tenant_id {
        span.record("tenant.id", tracing::field::display(tenant));
    }
    let orders: Vec<String> = kind
        .map(|k| {
            jobs.iter()
                .filter_map(|j| (k.order)(&j.payload))
                .map(|o| o.uuid().to_string())
                .collect()
        })
        .unwrap_or_default();
    if !orders.is_empty() {
        span.record("order.id", orders.join(","));
    }
    span
}

/// Runs jobs `worker` has claimed and records each outcome. A job claimed after its last
/// attempt's lease lapsed (its worker died, or the job crashes workers) is parked instead.
async fn execute(
    state: &Arc<AppState>,
    worker: &str,
    jobs: Vec<Job>,
) -> Result<(), sea_orm::DbErr> {
    let (spent, jobs): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| j.attempts > j.max_attempts);
    for job in &spent {
        queue::fail(&state.db, job, worker, "the last attempt never finished").await?;
    }
    let Some(first) = jobs.first() else {
        return Ok(());
    };
    let registry = Registry::installed()?;
    let kind = registry.kind(&first.kind);
    // A job that calls out waits while its tenant has as many running as it may.
    let _permit = match (jobs.first(), jobs.len()) {
        (Some(job), 1) if kind.is_some_and(|k| k.calls_out) && job.tenant_id.is_some() => {
            match state.tenant_gate.enter(job.tenant_id.unwrap_or_default()) {
                Some(permit) => Some(permit),
                None => {
                    queue::defer(&state.db, job, worker, DEFERRED).await?;
                    return Ok(());
                }
            }
        }
        _ => None,
    };
    let limit = kind.map_or(Duration::from_secs(60), |k| k.time_limit);
    let span = span_of(kind, &jobs);
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
    // A panicking handler fails its jobs instead of killing this worker; one that takes
    // longer than its limit is given up (and retried later).
    let run = std::panic::AssertUnwindSafe(registry.run(state, &jobs))
        .catch_unwind()
        .instrument(span.clone());
    let outcomes = match tokio::time::timeout(limit, run).await {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err(panic)) => {
            let message = panic_message(panic);
            jobs.iter().map(|_| Err(message.clone())).collect()
        }
        Err(_) => {
            let message = format!("the job took longer than {} seconds", limit.as_secs());
            jobs.iter().map(|_| Err(message.clone())).collect()
        }
    };
    heartbeat.abort();
    let record = async {
        let mut done = Vec::new();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            match outcome {
                Ok(()) => done.push(job.id),
                Err(error) => {
                    // Logged here only, once, with the job's context (a batch names each job).
                    let order = kind.and_then(|k| (k.order)(&job.payload));
                    tracing::warn!(
                        job.id = %job.id,
                        attempt = job.attempts,
                        order.id = order.map(|o| o.uuid().to_string()),
                        %error,
                        "job failed"
                    );
                    queue::fail(&state.db, job, worker, &error).await?;
                }
            }
        }
        tracing::debug!(
            done = done.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "jobs run"
        );
        queue::complete(&state.db, &done, worker).await
    };
    record.instrument(span).await
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

/// How often a streamed worker takes over entries of consumers that died.
const RECLAIM_EVERY: Duration = Duration::from_secs(15);

/// A worker fed by the Redis stream. While Redis is unreachable it works from the database
/// outbox directly, so an outage delays nothing it can reach.
pub async fn run_streamed(
    state: Arc<AppState>,
    stream: JobStream,
    mut stop: watch::Receiver<bool>,
    name: String,
) {
    if let Err(err) = stream.ensure_group().await {
        tracing::warn!(error = %err, "job stream unavailable; working from the database");
    }
    let mut last_reclaim: Option<std::time::Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let reclaim = last_reclaim.is_none_or(|t| t.elapsed() >= RECLAIM_EVERY);
        let read = async {
            if reclaim {
                let lapsed = queue::LEASE.num_milliseconds() as usize;
                let claimed = stream.reclaim(&name, lapsed, READ).await?;
                if !claimed.is_empty() {
                    return Ok(claimed);
                }
            }
            let mut got = stream.read(&name, READ, Some(1000)).await?;
            if !got.is_empty() && got.len() < LINGER_BELOW {
                tokio::time::sleep(LINGER).await;
                let room = READ - got.len();
                got.extend(stream.read(&name, room, None).await?);
            }
            Ok(got)
        };
        let entries: redis::RedisResult<Vec<Entry>> = tokio::select! {
            r = read => r,
            _ = stop.changed() => return,
        };
        if reclaim {
            last_reclaim = Some(std::time::Instant::now());
        }
        match entries {
            Ok(entries) if entries.is_empty() => {}
            Ok(entries) => {
                if let Err(err) = run_entries(&state, &stream, &name, entries).await {
                    tracing::warn!(error = %err, "job queue unavailable; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
            Err(err) => {
                if err.code() == Some("NOGROUP") {
                    // Redis restarted without its data: the relay re-sends what was lost.
                    if let Err(err) = stream.ensure_group().await {
                        tracing::warn!(error = %err, "job stream group not recreated; retrying");
                        tokio::time::sleep(POLL).await;
                    }
                    continue;
                }
                tracing::warn!(error = %err, "job stream unavailable; working from the database");
                match run_one(&state, &name).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => tracing::warn!(error = %err, "job queue unavailable; retrying"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Claims and runs the jobs the entries name (advance jobs batched per tenant), then
/// acknowledges the entries: a job that was not claimable is someone else's or done.
async fn run_entries(
    state: &Arc<AppState>,
    stream: &JobStream,
    worker: &str,
    entries: Vec<Entry>,
) -> Result<(), sea_orm::DbErr> {
    let mut ids: Vec<uuid::Uuid> = entries.iter().map(|e| e.job).collect();
    ids.sort();
    ids.dedup();
    let registry = Registry::installed()?;
    let claimed = queue::claim_ids(&state.db, worker, &ids).await?;
    // Kinds that batch (order advances, emails) run in batches per tenant and kind.
    let (batched, other): (Vec<Job>, Vec<Job>) = claimed
        .into_iter()
        .partition(|j| batch_of(registry.kind(&j.kind)) > 1 && j.tenant_id.is_some());
    let mut by_tenant: std::collections::BTreeMap<(uuid::Uuid, String), Vec<Job>> =
        Default::default();
    for job in batched {
        by_tenant
            .entry((job.tenant_id.unwrap_or_default(), job.kind.clone()))
            .or_default()
            .push(job);
    }
    for batch in by_tenant.into_values() {
        execute(state, worker, batch).await?;
    }
    for job in other {
        execute(state, worker, vec![job]).await?;
    }
    if let Err(err) = stream.ack(&entries).await {
        // Unacknowledged entries are reclaimed later and find their jobs done: harmless.
        tracing::warn!(error = %err, "job stream entries not acknowledged");
    }
    Ok(())
}

/// Hands due jobs from the database outbox to the Redis stream, as soon as this process
/// enqueues one and every 200 ms for the others' jobs.
pub async fn relay(state: Arc<AppState>, stream: JobStream, mut stop: watch::Receiver<bool>) {
    const EVERY: Duration = Duration::from_millis(200);
    const COALESCE: Duration = Duration::from_millis(20);
    const CHUNK: u64 = 500;
    loop {
        if *stop.borrow() {
            return;
        }
        let mut more = false;
        match queue::take_for_relay(&state.db, CHUNK).await {
            Ok(ids) if ids.is_empty() => {}
            Ok(ids) => {
                more = ids.len() as u64 == CHUNK;
                if let Err(err) = stream.publish(&ids).await {
                    tracing::warn!(error = %err, jobs = ids.len(), "job stream unavailable; jobs stay in the outbox");
                    more = false;
                    if let Err(err) = queue::unrelay(&state.db, &ids).await {
                        tracing::warn!(error = %err, "relay marks not undone; jobs go out a lease later");
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "job outbox unavailable; retrying"),
        }
        if more {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            // Woken by a new job: wait a moment so that one scan of the outbox takes the
            // jobs of many requests (each scan walks the table's churn of finished jobs).
            _ = state.wake_workers.notified() => tokio::time::sleep(COALESCE).await,
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;

    use super::*;
    use crate::domain::{OrderId, TenantId};
    use crate::jobs::{Claim, Job as _, JobError, Run};

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Probe {
        order: OrderId,
    }

    impl crate::jobs::Job for Probe {
        const NAME: &'static str = "test.probe";

        fn dedupe_key(&self, _: TenantId) -> Option<String> {
            None
        }

        fn order(&self) -> Option<OrderId> {
            Some(self.order)
        }
    }

    impl Run for Probe {
        async fn run(self, _: &Arc<AppState>, _: Claim) -> Result<(), JobError> {
            Ok(())
        }
    }

    /// Every field given to a span, by name.
    #[derive(Clone, Default)]
    struct Fields(Arc<Mutex<BTreeMap<String, String>>>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let mut seen = self.0.lock().unwrap();
            seen.insert(field.name().to_owned(), format!("{value:?}"));
        }
    }

    impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Fields {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: Context<'_, S>,
        ) {
            attrs.record(&mut self.clone());
        }

        fn on_record(
            &self,
            _: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _: Context<'_, S>,
        ) {
            values.record(&mut self.clone());
        }
    }

    #[test]
    fn a_job_runs_in_a_span_naming_its_kind_tenant_attempt_and_order() {
        let registry = Registry::default().single::<Probe>();
        let (tenant, order) = (uuid::Uuid::now_v7(), OrderId::new());
        let now = chrono::Utc::now();
        let row = Probe { order }.row(TenantId(tenant), now);
        let job = Job {
            id: uuid::Uuid::now_v7(),
            tenant_id: Some(tenant),
            kind: row.kind.to_owned(),
            payload: row.payload,
            dedupe_key: None,
            status: "running".into(),
            attempts: 3,
            max_attempts: row.max_attempts,
            run_at: now,
            locked_until: None,
            locked_by: None,
            last_error: None,
            created_at: now,
            updated_at: now,
            relayed_at: None,
        };
        let fields = Fields::default();
        let subscriber = tracing_subscriber::registry().with(fields.clone());
        tracing::subscriber::with_default(subscriber, || {
            let _span = span_of(registry.kind(Probe::NAME), std::slice::from_ref(&job));
        });
        let seen = fields.0.lock().unwrap().clone();
        assert_eq!(seen["job.name"], "test.probe");
        assert_eq!(seen["job.id"], job.id.to_string());
        assert_eq!(seen["tenant.id"], tenant.to_string());
        assert_eq!(seen["attempt"], "3");
        assert_eq!(seen["order.id"], format!("{:?}", order.uuid().to_string()));
    }
}
