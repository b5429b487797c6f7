//! The KPI report of a period against the previous one, read from the day rollups; days whose
//! rollup is missing, from another timezone, or recent and older than `FRESH` are computed
//! again and stored. The rollup job (`reporting.rollup`, per tenant) keeps them ahead of the
//! readers, so a dashboard reads stored rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::DbErr;

use super::compute;
use super::period::{BadPeriod, MAX_DAYS, Period};
use super::rollup::{DayRollup, Kpis};
use super::store;
use crate::domain::TenantId;
use crate::infra::db::Db;
use crate::jobs::{Claim, Job, JobError, Run};
use crate::state::AppState;
use crate::tenancy::TenantTx;

/// How often the rollup job runs while the tenant is active.
pub const EVERY: Duration = Duration::minutes(5);
/// How long a recent day's rollup is used before it is computed again.
pub const FRESH: Duration = Duration::minutes(10);
/// After this long a day is settled: its rollup, computed after, is final. Later changes to a
/// settled day (an order imported with an old date) forget its rollup explicitly.
pub const SETTLE: Duration = Duration::days(35);
/// Days computed per query run (bounds the rows a run holds).
const RUN_DAYS: u64 = 31;

pub struct Report {
    pub period: Period,
    pub previous: Period,
    pub currency: String,
    pub current: Kpis,
    pub before: Kpis,
    pub daily: Vec<(NaiveDate, Kpis)>,
}

/// How fresh a recent day must be to be used.
#[derive(Clone, Copy)]
enum Freshness {
    /// Readers: `FRESH`.
    Read,
    /// The job: half of it, so readers find fresh rows.
    Job,
    /// After a correction: everything in the range again.
    Force,
}

fn needs(
    day: NaiveDate,
    tz: Tz,
    row: Option<&store::Stored>,
    now: DateTime<Utc>,
    f: Freshness,
) -> bool {
    let Some(row) = row else { return true };
    if row.timezone != tz.name() {
        return true;
    }
    let settled = row.computed_at >= Period::day_bounds(day, tz).1 + SETTLE;
    let fresh = match f {
        Freshness::Read => FRESH,
        Freshness::Job => FRESH / 2,
        Freshness::Force => return true,
    };
    !settled && row.computed_at < now - fresh
}

/// Brings the stored days of `span` up to date: the missing, stale or other-timezone ones
/// are computed (in a read transaction, so writers are not held up) and stored (days that have
/// not begun are not). Returns the days computed, and the days counted when `want` is set.
async fn refresh(
    db: &Db,
    tenant: TenantId,
    span: Period,
    f: Freshness,
    want: bool,
) -> Result<(usize, BTreeMap<NaiveDate, DayRollup>), DbErr> {
    let now = Utc::now();
    let tx = TenantTx::begin_read(db, tenant).await?;
    let stored = store::stored(&tx, span.from, span.to).await?;
    tx.commit().await?;
    let todo: Vec<NaiveDate> = span
        .days()
        .into_iter()
        .filter(|d| needs(*d, span.tz, stored.get(d), now, f))
        .collect();
    let mut computed_days = BTreeMap::new();
    for run in runs(&todo) {
        let period = Period {
            from: run.0,
            to: run.1,
            tz: span.tz,
        };
        let tx = TenantTx::begin_read(db, tenant).await?;
        // Boxed: the ten measures make a large future for an actix worker's stack.
        let computed = Box::pin(compute::days(&tx, &period)).await?;
        tx.commit().await?;
        let begun: BTreeMap<NaiveDate, DayRollup> = computed
            .iter()
            .filter(|(d, _)| Period::day_bounds(**d, span.tz).0 <= now)
            .map(|(d, r)| (*d, r.clone()))
            .collect();
        let tx = TenantTx::begin(db, tenant).await?;
        store::save(&tx, span.tz, &begun, now).await?;
        tx.commit().await?;
        if want {
            computed_days.extend(computed);
        }
    }
    if !want {
        return Ok((todo.len(), computed_days));
    }
    let tx = TenantTx::begin_read(db, tenant).await?;
    let mut all = store::load(&tx, span.from, span.to).await?;
    tx.commit().await?;
    // What was just computed wins over what was read (days that have not begun are not stored).
    all.extend(computed_days);
    for day in span.days() {
        all.entry(day).or_default();
    }
    Ok((todo.len(), all))
}

/// Consecutive days grouped into runs of at most `RUN_DAYS`.
fn runs(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for d in days {
        match out.last_mut() {
            Some((from, to))
                if *d == *to + chrono::Days::new(1)
                    && u64::try_from((*d - *from).num_days()).unwrap_or(0) < RUN_DAYS =>
            {
                *to = *d;
            }
            _ => out.push((*d, *d)),
        }
    }
    out
}

pub async fn report(
    state: &AppState,
    tenant: TenantId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Result<Report, BadPeriod>, DbErr> {
    let tx = TenantTx::begin_read(&state.db, tenant).await?;
    let (tz, currency) = store::tenant(&tx).await?;
    let running = scheduled(&tx).await?;
    tx.commit().await?;
    if !running {
        // Readers keep the rollup job going for their tenant.
        let tx = TenantTx::begin(&state.db, tenant).await?;
        schedule(&tx, EVERY).await?;
        tx.commit().await?;
    }
    let period = match Period::new(from, to, tz) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let previous = period.previous();
    let span = Period {
        from: previous.from,
        to: period.to,
        tz,
    };
    let (_, days) = refresh(&state.db, tenant, span, Freshness::Read, true).await?;
    let pick =
        |p: &Period| -> Vec<&DayRollup> { days.range(p.from..=p.to).map(|(_, r)| r).collect() };
    let mut current = Kpis::of(pick(&period), &currency);
    let mut before = Kpis::of(pick(&previous), &currency);
    // Still waiting is a fact of now, not of a day: read live.
    let tx = TenantTx::begin_read(&state.db, tenant).await?;
    current.fraud_pending = compute::fraud_pending(&tx, &period).await?;
    before.fraud_pending = compute::fraud_pending(&tx, &previous).await?;
    tx.commit().await?;
    let daily = days
        .range(period.from..=period.to)
        .map(|(d, r)| (*d, Kpis::of([r], &currency)))
        .collect();
    Ok(Ok(Report {
        period,
        previous,
        currency,
        current,
        before,
        daily,
    }))
}

/// Computes the days `from..=to` again now (after a correction of past data); the days
/// recomputed.
pub async fn recompute(
    state: &AppState,
    tenant: TenantId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Result<usize, BadPeriod>, DbErr> {
    let tx = TenantTx::begin_read(&state.db, tenant).await?;
    let (tz, _) = store::tenant(&tx).await?;
    tx.commit().await?;
    let period = match Period::new(from, to, tz) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let (computed, _) = refresh(&state.db, tenant, period, Freshness::Force, false).await?;
    Ok(Ok(computed))
}

fn job_key(tenant: TenantId) -> String {
    format!("kpi-rollup:{}", tenant.uuid())
}

/// Whether the tenant's rollup job is pending.
async fn scheduled(tx: &TenantTx) -> Result<bool, DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let n = entity::jobs::Entity::find()
        .filter(entity::jobs::Column::DedupeKey.eq(job_key(tx.tenant())))
        .count(crate::tenancy::AnyTx::conn(tx))
        .await?;
    Ok(n > 0)
}

/// Makes sure the tenant's rollup job runs (one pending per tenant), in the caller's
/// transaction.
pub async fn schedule(tx: &TenantTx, after: Duration) -> Result<(), DbErr> {
    RollUpKpis {}.enqueue_at(tx, Utc::now() + after).await
}

/// Keeps a tenant's daily rollups fresh: one pending per tenant, scheduling its next run.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RollUpKpis {}

impl Job for RollUpKpis {
    const NAME: &'static str = "reporting.rollup";

    fn dedupe_key(&self, tenant: TenantId) -> Option<String> {
        Some(job_key(tenant))
    }
}

impl Run for RollUpKpis {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        roll_up(state, claim.tenant)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// What a run of the rollup job did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollUp {
    /// Days from the tenant's first order (at most two report lengths back) to today.
    pub days: usize,
    /// Of those, the days that were missing or stale and were computed.
    pub computed: usize,
}

/// Brings the tenant's stored days up to date, and schedules the next run while orders keep
/// coming.
pub async fn roll_up(state: &AppState, tenant: TenantId) -> Result<RollUp, DbErr> {
    let now = Utc::now();
    let tx = TenantTx::begin_read(&state.db, tenant).await?;
    let (tz, _) = store::tenant(&tx).await?;
    let first = store::order_edge(&tx, false).await?;
    let last = store::order_edge(&tx, true).await?;
    tx.commit().await?;
    let today = now.with_timezone(&tz).date_naive();
    let oldest = today - chrono::Days::new(2 * MAX_DAYS);
    let from = first
        .map(|f| f.with_timezone(&tz).date_naive())
        .unwrap_or(today)
        .clamp(oldest, today);
    let span = Period {
        from,
        to: today,
        tz,
    };
    let (computed, _) = refresh(&state.db, tenant, span, Freshness::Job, false).await?;
    // Quiet tenants stop being rolled up until someone reads their KPIs again.
    if last.is_some_and(|l| l > now - SETTLE) {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        schedule(&tx, EVERY).await?;
        tx.commit().await?;
    }
    Ok(RollUp {
        days: span.days().len(),
        computed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn days_group_into_consecutive_runs_of_at_most_a_month() {
        let mut days = vec![d("2026-01-01"), d("2026-01-02"), d("2026-01-04")];
        days.extend(d("2026-02-01").iter_days().take(40));
        let r = runs(&days);
        assert_eq!(r[0], (d("2026-01-01"), d("2026-01-02")));
        assert_eq!(r[1], (d("2026-01-04"), d("2026-01-04")));
        assert_eq!(r[2], (d("2026-02-01"), d("2026-03-03")));
        assert_eq!(r[3], (d("2026-03-04"), d("2026-03-12")));
    }

    #[test]
    fn recent_days_expire_and_settled_days_do_not() {
        let now: DateTime<Utc> = "2026-11-27T12:00:00Z".parse().unwrap_or_default();
        let tz = chrono_tz::UTC;
        let row = |computed: &str| store::Stored {
            timezone: "UTC".into(),
            computed_at: computed.parse().unwrap_or_default(),
        };
        let yesterday = d("2026-11-26");
        assert!(needs(yesterday, tz, None, now, Freshness::Read));
        assert!(!needs(
            yesterday,
            tz,
            Some(&row("2026-11-27T11:55:00Z")),
            now,
            Freshness::Read
        ));
        assert!(needs(
            yesterday,
            tz,
            Some(&row("2026-11-27T11:40:00Z")),
            now,
            Freshness::Read
        ));
        assert!(needs(
            yesterday,
            tz,
            Some(&row("2026-11-27T11:55:00Z")),
            now,
            Freshness::Force
        ));
        // Computed after it settled: final.
        let old = d("2026-09-01");
        assert!(!needs(
            old,
            tz,
            Some(&row("2026-10-10T00:00:00Z")),
            now,
            Freshness::Read
        ));
        // Computed while it was recent and never since: once more.
        assert!(needs(
            old,
            tz,
            Some(&row("2026-09-03T00:00:00Z")),
            now,
            Freshness::Read
        ));
        // Another timezone's day is another day.
        let mut other = row("2026-11-27T11:59:00Z");
        other.timezone = "Europe/Paris".into();
        assert!(needs(yesterday, tz, Some(&other), now, Freshness::Read));
    }
}
