//! Running rules: every timeline event a rule's trigger names queues a run (in the event's
//! transaction, once per rule and event); the run reads the order as it is then, evaluates the
//! condition, applies the actions, and logs itself (on the order's timeline when it matched).
//! Events a rule records do not trigger rules, so rules cannot loop.

use std::sync::Arc;

use chrono::Utc;
use entity::{automation_rule_versions, automation_rules, automation_runs, customers};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::actions::{self, Action};
use super::expr::{self, Expr, Invalid};
use super::facts::{self, History};
use crate::domain::{OrderId, TenantId};
use crate::jobs::{self, Claim, Job, JobError, queue};
use crate::order::repo::{self as order_repo, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{Actor, AnyTx, TenantTx};
use crate::webhooks::pattern;

/// Runs one rule on one event (once: a second run finds the first's record).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunRule {
    pub rule: uuid::Uuid,
    pub event: uuid::Uuid,
}

impl Job for RunRule {
    const NAME: &'static str = "automation.run";

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("rule:{}:{}", self.rule, self.event))
    }
}

/// The event whose rules run in its own transaction rather than as jobs.
const AT_ONCE: &str = "order.received";

pub use automation_rule_versions::Model as Version;
pub use automation_rules::Model as Rule;
pub use automation_runs::Model as Run;

/// The condition, checked against what order events offer.
pub fn condition(src: &str) -> Result<Expr, Invalid> {
    expr::parse(src, &facts::schema())
}

pub async fn rules(tx: &TenantTx) -> Result<Vec<Rule>, DbErr> {
    automation_rules::Entity::find()
        .filter(automation_rules::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(automation_rules::Column::CreatedAt)
        .all(tx.conn())
        .await
}

pub async fn rule(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Rule>, DbErr> {
    automation_rules::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// The rule, locked: two saves of it at once make consecutive versions.
pub async fn rule_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Rule>, DbErr> {
    automation_rules::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

/// Saves a rule (new, or its next version) and keeps the version in its history.
pub async fn save(tx: &TenantTx, rule: Rule, new: bool) -> Result<Rule, DbErr> {
    let version = automation_rule_versions::Model {
        tenant_id: rule.tenant_id,
        rule_id: rule.id,
        version: rule.version,
        name: rule.name.clone(),
        trigger: rule.trigger.clone(),
        condition: rule.condition.clone(),
        actions: rule.actions.clone(),
        enabled: rule.enabled,
        created_by: rule.updated_by,
        created_at: rule.updated_at,
    };
    let saved = if new {
        automation_rules::ActiveModel::from(rule)
            .reset_all()
            .insert(tx.conn())
            .await?
    } else {
        automation_rules::ActiveModel::from(rule)
            .reset_all()
            .update(tx.conn())
            .await?
    };
    automation_rule_versions::ActiveModel::from(version)
        .reset_all()
        .insert(tx.conn())
        .await?;
    Ok(saved)
}

pub async fn delete(tx: &TenantTx, id: uuid::Uuid) -> Result<(), DbErr> {
    automation_runs::Entity::delete_many()
        .filter(automation_runs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_runs::Column::RuleId.eq(id))
        .exec(tx.conn())
        .await?;
    automation_rule_versions::Entity::delete_many()
        .filter(automation_rule_versions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_rule_versions::Column::RuleId.eq(id))
        .exec(tx.conn())
        .await?;
    automation_rules::Entity::delete_many()
        .filter(automation_rules::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_rules::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn versions(tx: &TenantTx, rule: uuid::Uuid) -> Result<Vec<Version>, DbErr> {
    automation_rule_versions::Entity::find()
        .filter(automation_rule_versions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_rule_versions::Column::RuleId.eq(rule))
        .order_by_asc(automation_rule_versions::Column::Version)
        .all(tx.conn())
        .await
}

/// Runs, newest first, after the cursor.
pub async fn runs(
    tx: &TenantTx,
    rule: Option<uuid::Uuid>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<Run>, DbErr> {
    use automation_runs::Column as C;
    let mut q = automation_runs::Entity::find().filter(C::TenantId.eq(tx.tenant().uuid()));
    if let Some(r) = rule {
        q = q.filter(C::RuleId.eq(r));
    }
    if let Some(a) = after {
        q = q.filter(C::Id.lt(a));
    }
    q.order_by_desc(C::Id).limit(limit).all(tx.conn()).await
}

/// Called with every timeline event as it is recorded: a run for each enabled rule whose
/// trigger names it.
pub async fn on_events(tx: &TenantTx, events: &[OrderEvent]) -> Result<(), DbErr> {
    // A new order's rules are run by capture itself (`at_once`), not queued here.
    let events: Vec<&OrderEvent> = events
        .iter()
        .filter(|e| e.data.get("automation").is_none() && e.kind != AT_ONCE)
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let enabled: Vec<Rule> = automation_rules::Entity::find()
        .filter(automation_rules::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_rules::Column::Enabled.eq(true))
        .all(tx.conn())
        .await?;
    if enabled.is_empty() {
        return Ok(());
    }
    let mut jobs = Vec::new();
    for e in events {
        for r in &enabled {
            if pattern::matches(std::slice::from_ref(&r.trigger), &e.kind) {
                let job = RunRule {
                    rule: r.id,
                    event: e.id,
                };
                jobs.push(job.row(tx.tenant(), Utc::now()));
            }
        }
    }
    queue::enqueue_many(tx, jobs).await
}

/// Runs the rules of a new order's `order.received` at once, in the transaction that captures
/// it: the engine moves the order only after that commits, so a hold, a tag or a pinned
/// warehouse or carrier service is in place before its first stage. Returns the events the
/// rules recorded.
pub async fn at_once(tx: &TenantTx, events: &[OrderEvent]) -> Result<Vec<OrderEvent>, DbErr> {
    let received: Vec<&OrderEvent> = events.iter().filter(|e| e.kind == AT_ONCE).collect();
    if received.is_empty() {
        return Ok(Vec::new());
    }
    let enabled: Vec<Rule> = automation_rules::Entity::find()
        .filter(automation_rules::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_rules::Column::Enabled.eq(true))
        .order_by_asc(automation_rules::Column::CreatedAt)
        .all(tx.conn())
        .await?;
    let mut out = Vec::new();
    for e in received {
        for r in &enabled {
            if pattern::matches(std::slice::from_ref(&r.trigger), &e.kind) {
                out.extend(run(tx, r.id, e.id).await?);
            }
        }
    }
    Ok(out)
}

async fn history(tx: &TenantTx, order: &Order) -> Result<Option<History>, DbErr> {
    let Some(id) = order.customer_id else {
        return Ok(None);
    };
    Ok(customers::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await?
        .map(|c| History {
            orders: c.order_count,
            total_spent_units: c.total_spent_units,
        }))
}

/// The job: one rule, one event.
impl jobs::Run for RunRule {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        let tenant = claim.tenant;
        let db = |e: DbErr| e.to_string();
        let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
        let events = run(&tx, self.rule, self.event).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        crate::order::timeline::publish_events(state, tenant, &events).await;
        state.wake_workers.notify_one();
        Ok(())
    }
}

async fn run(
    tx: &TenantTx,
    rule_id: uuid::Uuid,
    event_id: uuid::Uuid,
) -> Result<Vec<OrderEvent>, DbErr> {
    let Some(rule) = rule(tx, rule_id).await?.filter(|r| r.enabled) else {
        return Ok(Vec::new());
    };
    let Some(event) = entity::order_events::Entity::find_by_id((tx.tenant().uuid(), event_id))
        .one(tx.conn())
        .await?
    else {
        return Ok(Vec::new());
    };
    let Some(mut order) = order_repo::get_for_update(tx, OrderId(event.order_id)).await? else {
        return Ok(Vec::new());
    };
    // Under the order's lock: a second run of the same rule and event waits, then sees this.
    let done = automation_runs::Entity::find()
        .filter(automation_runs::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(automation_runs::Column::RuleId.eq(rule_id))
        .filter(automation_runs::Column::EventId.eq(event_id))
        .one(tx.conn())
        .await?;
    if done.is_some() {
        return Ok(Vec::new());
    }
    let lines = order_repo::lines_of(tx, &[OrderId(order.id)]).await?;
    let customer = history(tx, &order).await?;
    let seen = facts::Event {
        kind: &event.kind,
        data: &event.data,
    };
    let facts = facts::of(seen, &order, &lines, customer.as_ref());
    let (matched, error) = match condition(&rule.condition) {
        Ok(e) => (expr::eval(&e, &facts), None),
        Err(e) => (false, Some(format!("the condition no longer reads: {e}"))),
    };
    let mut results = Vec::new();
    let mut events = Vec::new();
    if matched {
        let list: Vec<Action> = serde_json::from_value(rule.actions.clone()).unwrap_or_default();
        for a in &list {
            // Boxed: each action is a large future, and capture runs rules deep in a request.
            let (outcome, event) =
                Box::pin(actions::apply(tx, &mut order, a, (rule.id, &rule.name))).await?;
            results.push(json!({ "kind": a.kind, "value": a.value, "outcome": outcome }));
            events.extend(event);
        }
        let summary: Vec<String> = results
            .iter()
            .map(|r| r["outcome"].as_str().unwrap_or_default().to_owned())
            .collect();
        let matched_event = timeline::record_event(
            tx,
            NewEvent {
                order: OrderId(order.id),
                kind: "automation.rule_matched",
                actor: Actor::System,
                actor_label: Some(format!("rule \"{}\"", rule.name)),
                message: format!(
                    "Rule \"{}\" (v{}) matched on {}: {}",
                    rule.name,
                    rule.version,
                    event.kind,
                    summary.join("; ")
                ),
                reason: Some(rule.condition.clone()),
                data: json!({
                    "automation": actions::mark(rule.id, &rule.name),
                    "version": rule.version,
                    "results": results,
                }),
            },
        )
        .await?;
        // Webhook actions post the match itself, with what every action did.
        for (a, r) in list.iter().zip(&results) {
            let posting = r["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with(actions::POSTING));
            if let (true, Some(s)) = (posting, actions::subscription_of(&a.value)) {
                crate::webhooks::service::deliver_to(tx, s, &matched_event).await?;
            }
        }
        events.push(matched_event);
    }
    automation_runs::Entity::insert(automation_runs::ActiveModel::from(Run {
        tenant_id: tx.tenant().uuid(),
        id: uuid::Uuid::now_v7(),
        rule_id,
        rule_version: rule.version,
        event_id,
        event_kind: event.kind.clone(),
        order_id: order.id,
        matched,
        results: json!(results),
        error,
        created_at: Utc::now(),
    }))
    .on_conflict(
        OnConflict::columns([
            automation_runs::Column::TenantId,
            automation_runs::Column::RuleId,
            automation_runs::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(events)
}

/// What a condition would have matched among the tenant's latest `last` orders, as they are
/// now, seen by an event of the trigger's kind.
pub struct DryRun {
    pub evaluated: usize,
    pub matched: Vec<Order>,
}

pub async fn dry_run(
    tx: &TenantTx,
    trigger: &str,
    condition: &Expr,
    last: u64,
) -> Result<DryRun, DbErr> {
    let recent: Vec<Order> = order_repo::newest(tx, last).await?;
    // A trigger naming one kind is that event; a pattern leaves event.kind unknown.
    let kind = if trigger.contains('*') { "" } else { trigger };
    let mut matched = Vec::new();
    for chunk in recent.chunks(500) {
        let ids: Vec<OrderId> = chunk.iter().map(|o| OrderId(o.id)).collect();
        let lines = order_repo::lines_of(tx, &ids).await?;
        let customer_ids: Vec<uuid::Uuid> = chunk.iter().filter_map(|o| o.customer_id).collect();
        let people = customers::Entity::find()
            .filter(customers::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(customers::Column::Id.is_in(customer_ids))
            .all(tx.conn())
            .await?;
        for o in chunk {
            let mine: Vec<_> = lines
                .iter()
                .filter(|l| l.order_id == o.id)
                .cloned()
                .collect();
            let customer = o
                .customer_id
                .and_then(|c| people.iter().find(|p| p.id == c))
                .map(|c| History {
                    orders: c.order_count,
                    total_spent_units: c.total_spent_units,
                });
            let seen = facts::Event {
                kind,
                data: &serde_json::Value::Null,
            };
            let f = facts::of(seen, o, &mine, customer.as_ref());
            if expr::eval(condition, &f) {
                matched.push(o.clone());
            }
        }
    }
    Ok(DryRun {
        evaluated: recent.len(),
        matched,
    })
}
