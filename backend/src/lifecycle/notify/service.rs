//! Turning timeline events into emails, and sending them.
//!
//! When an event that the shopper hears about is recorded, a notification row is written in
//! the same transaction, keyed by (kind, order, event), with a `notify.send` job. The job
//! renders the tenant's template and sends; the row's status makes a rerun a no-op, so a
//! retried or duplicated job never sends twice. The only window left is a crash after the
//! SMTP server accepted the message and before the row says so: the resend then carries the
//! same Message-ID, which receiving servers and mail clients use to drop the duplicate.

use std::sync::Arc;

use chrono::{Duration, Utc};
use lettre::message::Mailbox;
use sea_orm::DbErr;
use serde_json::Value;

use super::context::{self, Links, Sender};
use super::kind::Kind;
use super::repo::{self, FAILED, Notification, QUEUED, SENDING, SENT, SUPPRESSED};
use super::settings::{self, NotifySettings};
use super::templates::builtin;
use super::trigger;
use crate::domain::{OrderId, TenantId};
use crate::infra::mailer::Outgoing;
use crate::infra::templates::{self, Rendered, Source};
use crate::jobs::{Claim, Job, JobError, queue};
use crate::lifecycle::state::OrderState;
use crate::order::repo as orders;
use crate::order::timeline;
use crate::state::AppState;
use crate::tenancy::{Actor, TenantTx};

/// How the mailer signs its timeline entries.
pub const MAILER: &str = "mailer";

/// A notification to write, with the job that sends it.
pub struct NewNotification {
    /// Chosen by the caller when it needs the Message-ID beforehand (a support reply).
    pub id: Option<uuid::Uuid>,
    pub kind: Kind,
    pub key: String,
    pub order: Option<uuid::Uuid>,
    pub event: Option<uuid::Uuid>,
    pub thread: Option<uuid::Uuid>,
    pub support_message: Option<uuid::Uuid>,
    pub recipient: String,
    pub context: Value,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub run_at: chrono::DateTime<Utc>,
}

/// The Message-ID domain: the sender's (so replies thread on the shop's side).
pub fn message_id_for(id: uuid::Uuid, sender_address: Option<&str>) -> String {
    let domain = sender_address
        .and_then(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
        .unwrap_or_else(|| "orderflow.local".to_owned());
    format!("{}@{domain}", id.simple())
}

/// Writes notifications and their jobs in the caller's transaction.
pub async fn queue_all(
    tx: &TenantTx,
    settings: &NotifySettings,
    items: Vec<NewNotification>,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(items.len());
    let mut jobs = Vec::with_capacity(items.len());
    for n in items {
        let id = n.id.unwrap_or_else(uuid::Uuid::now_v7);
        rows.push(Notification {
            tenant_id: tx.tenant().uuid(),
            id,
            kind: n.kind.as_str().to_owned(),
            dedupe_key: n.key.clone(),
            order_id: n.order,
            event_id: n.event,
            thread_id: n.thread,
            support_message_id: n.support_message,
            recipient: n.recipient,
            context: n.context,
            status: QUEUED.to_owned(),
            subject: None,
            message_id: message_id_for(id, settings.sender_address.as_deref()),
            in_reply_to: n.in_reply_to,
            reference_ids: n.references,
            locale: None,
            attempts: 0,
            attempted_at: None,
            last_error: None,
            bounce_reason: None,
            created_at: now,
            sent_at: None,
            bounced_at: None,
        });
        jobs.push(super::jobs::SendNotification { key: n.key }.row(tx.tenant(), n.run_at));
    }
    repo::insert_new(tx, rows).await?;
    queue::enqueue_many(tx, jobs).await
}

/// Why an order's shopper hears nothing from us, if so: a test order; an order imported from
/// history (placed a day or more before we captured it: a channel's first sync); a
/// marketplace's buyer (Amazon's rules route buyer mail through its own messaging).
pub fn quiet(order: &orders::Order) -> Option<&'static str> {
    if order.test {
        Some("a test order")
    } else if order.created_at - order.placed_at > Duration::days(1) {
        Some("imported from the channel's history")
    } else if order.channel == "amazon" {
        Some("a marketplace order: the marketplace talks to its buyers")
    } else {
        None
    }
}

/// Called with every timeline event as it is recorded: the ones the shopper hears about
/// become notifications in the same transaction.
pub async fn on_events(tx: &TenantTx, events: &[timeline::OrderEvent]) -> Result<(), DbErr> {
    let caused: Vec<(&timeline::OrderEvent, trigger::Trigger)> = events
        .iter()
        .flat_map(|e| {
            trigger::for_event(&e.kind, &e.data)
                .into_iter()
                .map(move |t| (e, t))
        })
        .collect();
    if caused.is_empty() {
        return Ok(());
    }
    let settings = settings::load(tx).await?;
    let ids: Vec<OrderId> = caused.iter().map(|(e, _)| OrderId(e.order_id)).collect();
    let found = orders::get_many(tx, &ids).await?;
    let mut items = Vec::new();
    for (event, t) in caused {
        if !settings.sends(t.kind) {
            continue;
        }
        if t.kind == Kind::ReviewRequest && settings.review_request_days <= 0 {
            continue;
        }
        let Some(order) = found.iter().find(|o| o.id == event.order_id) else {
            continue;
        };
        if let Some(why) = quiet(order) {
            tracing::debug!(order.id = %order.id, why, "no email to the shopper");
            continue;
        }
        let Some(email) = order.email.clone().filter(|e| e.contains('@')) else {
            continue;
        };
        let run_at = if t.kind == Kind::ReviewRequest {
            event.at + Duration::days(settings.review_request_days.into())
        } else {
            event.at
        };
        items.push(NewNotification {
            id: None,
            kind: t.kind,
            key: trigger::key(t.kind, event.order_id, event.id, &t.context),
            order: Some(event.order_id),
            event: Some(event.id),
            thread: None,
            support_message: None,
            recipient: email,
            context: t.context,
            in_reply_to: None,
            references: None,
            run_at,
        });
    }
    queue_all(tx, &settings, items).await
}

/// The template a tenant uses for `kind`: its own, or the built-in one.
pub async fn source_of(tx: &TenantTx, kind: Kind) -> Result<Source, DbErr> {
    Ok(match repo::template(tx, kind.as_str()).await? {
        Some(row) => Source {
            subject: row.subject,
            text: row.text_body,
            html: row.html_body,
        },
        None => builtin(kind),
    })
}

/// What every email of a tenant shares: read once per batch, not once per email.
struct Shared {
    settings: NotifySettings,
    sender: Sender,
    /// The tenant's edited templates.
    templates: Vec<repo::TemplateRow>,
}

impl Shared {
    async fn load(state: &AppState, tx: &TenantTx) -> Result<Self, DbErr> {
        let settings = settings::load(tx).await?;
        let shop = repo::tenant_name(tx).await?;
        let sender = context::sender(&settings, &shop, &state.mailer);
        Ok(Self {
            settings,
            sender,
            templates: repo::templates(tx).await?,
        })
    }

    fn source(&self, kind: Kind) -> Source {
        match self.templates.iter().find(|t| t.kind == kind.as_str()) {
            Some(row) => Source {
                subject: row.subject.clone(),
                text: row.text_body.clone(),
                html: row.html_body.clone(),
            },
            None => builtin(kind),
        }
    }
}

/// Everything needed to send, read in one transaction.
struct Prepared {
    outgoing: Outgoing,
    notification: Notification,
}

enum Step {
    /// Sent, bounced or suppressed already: nothing to do.
    Done,
    /// Another worker is sending it right now: try again later.
    Busy,
    Send(Box<Prepared>),
}

/// Renders a notification with its current facts.
async fn render(
    state: &AppState,
    tx: &TenantTx,
    n: &Notification,
    shared: &Shared,
) -> Result<(Rendered, Option<String>), String> {
    let (settings, sender) = (&shared.settings, &shared.sender);
    let kind =
        Kind::parse(&n.kind).ok_or_else(|| format!("unknown notification kind {}", n.kind))?;
    let source = shared.source(kind);
    let (ctx, locale) = match n.order_id {
        Some(order) => {
            let order = orders::get(tx, OrderId(order))
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the order is gone")?;
            let (ctx, locale) =
                context::for_order(tx, n, &order, sender, settings, &Links::of(&state.config))
                    .await
                    .map_err(|e| e.to_string())?;
            (ctx, Some(locale.name()))
        }
        // Mail about no order (an invitation, a support reply) carries its whole context.
        None => {
            let mut ctx = n.context.clone();
            ctx["shop"] = sender.shop_value();
            (ctx, None)
        }
    };
    let mut ctx = ctx;
    if kind == Kind::SupportReply {
        for key in ["reply", "customer"] {
            if let Some(v) = n.context.get(key) {
                ctx[key] = v.clone();
            }
        }
    }
    let rendered = templates::render(&source, &ctx).map_err(|e| e.to_string())?;
    Ok((rendered, locale))
}

/// Makes a notification ready to send in the caller's transaction: the outer error is the
/// database's, the inner one this email's (a template that does not render, a bad address).
async fn prepare_in(
    state: &AppState,
    tx: &TenantTx,
    shared: &Shared,
    key: &str,
) -> Result<Result<Step, String>, DbErr> {
    let Some(mut n) = repo::by_key_for_update(tx, key).await? else {
        return Ok(Ok(Step::Done));
    };
    if ![QUEUED, FAILED, SENDING].contains(&n.status.as_str()) {
        return Ok(Ok(Step::Done));
    }
    // Another worker's attempt still in flight (a duplicate job): never two at once. Older
    // than a lease, that attempt died with its worker and this one takes over.
    if n.status == SENDING
        && n.attempted_at
            .is_some_and(|at| at > Utc::now() - queue::LEASE * 2)
    {
        return Ok(Ok(Step::Busy));
    }
    let settings = &shared.settings;
    let kind = Kind::parse(&n.kind);
    // What was true when the email was queued may not be now (a review request waits days).
    let order = match n.order_id {
        Some(o) => orders::get(tx, OrderId(o)).await?,
        None => None,
    };
    let stale = match (kind, &order) {
        (Some(k), _) if !settings.sends(k) => Some("the shop turned this email off"),
        (Some(Kind::ReviewRequest), _) if settings.review_request_days <= 0 => {
            Some("the shop turned review requests off")
        }
        (Some(Kind::ReviewRequest), Some(o))
            if o.cancelled_at.is_some() || o.state != OrderState::Delivered =>
        {
            Some("the order is no longer delivered (returned, cancelled or reopened)")
        }
        (_, Some(o)) => quiet(o),
        _ => None,
    };
    if let Some(why) = stale {
        n.status = SUPPRESSED.to_owned();
        n.last_error = Some(why.to_owned());
        repo::save(tx, n).await?;
        return Ok(Ok(Step::Done));
    }
    let scope = if kind.is_some_and(Kind::is_optional) {
        n.kind.as_str()
    } else {
        "transactional"
    };
    if repo::is_suppressed(tx, &n.recipient, scope).await? {
        n.status = SUPPRESSED.to_owned();
        let order = n.order_id;
        let what = kind.map(Kind::label).unwrap_or("email");
        repo::save(tx, n.clone()).await?;
        if let Some(order) = order {
            timeline(
                tx,
                order,
                "notification.suppressed",
                format!(
                    "Not emailed ({what}): {} asked not to receive it or bounced",
                    n.recipient
                ),
                &n,
            )
            .await?;
        }
        return Ok(Ok(Step::Done));
    }
    let sender = shared.sender.clone();
    let (rendered, locale) = match render(state, tx, &n, shared).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let to: Mailbox = match n.recipient.parse() {
        Ok(to) => to,
        Err(e) => return Ok(Err(format!("recipient {}: {e}", n.recipient))),
    };
    let to = match n
        .context
        .get("customer")
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
    {
        Some(name) if !name.is_empty() => Mailbox::new(Some(name.to_owned()), to.email),
        _ => to,
    };
    let unsubscribe = rendered.unsubscribe_url.clone();
    n.status = SENDING.to_owned();
    n.attempts += 1;
    n.attempted_at = Some(Utc::now());
    n.subject = Some(rendered.subject.clone());
    n.locale = locale;
    let n = repo::save(tx, n).await?;
    Ok(Ok(Step::Send(Box::new(Prepared {
        outgoing: Outgoing {
            from: sender.from,
            reply_to: sender.reply_to,
            to,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            message_id: n.message_id.clone(),
            in_reply_to: n.in_reply_to.clone(),
            references: n.reference_ids.clone(),
            unsubscribe,
            auto_submitted: match kind {
                // A person wrote it (the automatic answers are marked by their thread source).
                Some(Kind::SupportReply)
                    if !n
                        .context
                        .get("auto")
                        .and_then(Value::as_bool)
                        .unwrap_or(false) =>
                {
                    None
                }
                Some(Kind::SupportReply) => Some("auto-replied"),
                _ => Some("auto-generated"),
            },
        },
        notification: n,
    }))))
}

async fn prepare(state: &AppState, tenant: TenantId, key: &str) -> Result<Step, String> {
    let db = |e: DbErr| e.to_string();
    let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
    let shared = Shared::load(state, &tx).await.map_err(db)?;
    let step = prepare_in(state, &tx, &shared, key).await.map_err(db)?;
    tx.commit().await.map_err(db)?;
    step
}

async fn timeline(
    tx: &TenantTx,
    order: uuid::Uuid,
    kind: &'static str,
    message: String,
    n: &Notification,
) -> Result<timeline::OrderEvent, DbErr> {
    timeline::record_event(
        tx,
        timeline::NewEvent {
            order: OrderId(order),
            kind,
            actor: Actor::System,
            actor_label: Some(MAILER.into()),
            message,
            reason: n.last_error.clone(),
            data: serde_json::json!({
                "notification": n.kind,
                "to": n.recipient,
                "subject": n.subject,
                "messageId": n.message_id,
                "status": n.status,
                "attempts": n.attempts,
            }),
        },
    )
    .await
}

/// Sends a prepared email (or settles a step that needs no sending); returns the email's
/// subject when it went out, for the mark that says so.
async fn deliver(
    state: &Arc<AppState>,
    claim: Claim,
    key: &str,
    step: Result<Step, String>,
) -> Result<Option<String>, JobError> {
    let prepared = match step {
        Ok(Step::Done) => return Ok(None),
        // Not a failure of this email: the job runs again after a backoff and finds it sent.
        // Out of attempts, it leaves the email to the attempt in flight.
        Ok(Step::Busy) if claim.is_last() => return Ok(None),
        Ok(Step::Busy) => return Err("another attempt at this email is in flight".into()),
        Ok(Step::Send(p)) => p,
        Err(error) => {
            record_failure(state, claim, key, &error).await?;
            return Err(error);
        }
    };
    let Prepared {
        outgoing,
        notification,
    } = *prepared;
    let subject = outgoing.subject.clone();
    if let Err(err) = state.mailer.send_outgoing(outgoing).await {
        let error = format!("{err:#}");
        state.metrics.email(&notification.kind, "failed");
        record_failure(state, claim, key, &error).await?;
        return Err(error);
    }
    state.metrics.email(&notification.kind, "sent");
    Ok(Some(subject))
}

/// Marks sent emails (key, subject) as sent, each with its timeline entry, in one transaction.
async fn mark_sent(
    state: &Arc<AppState>,
    tenant: TenantId,
    sent: &[(String, String)],
) -> Result<(), DbErr> {
    if sent.is_empty() {
        return Ok(());
    }
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let mut events = Vec::new();
    for (key, subject) in sent {
        let Some(mut n) = repo::by_key_for_update(&tx, key).await? else {
            continue;
        };
        n.status = SENT.to_owned();
        n.sent_at = Some(Utc::now());
        n.last_error = None;
        let n = repo::save(&tx, n).await?;
        if let Some(order) = n.order_id {
            let what = Kind::parse(&n.kind).map(Kind::label).unwrap_or("email");
            events.push(
                timeline(
                    &tx,
                    order,
                    "notification.sent",
                    format!("Emailed {} the {what}: “{subject}”", n.recipient),
                    &n,
                )
                .await?,
            );
        }
    }
    tx.commit().await?;
    timeline::publish_events(state, tenant, &events).await;
    Ok(())
}

/// Sends one email (the notification keyed `key`).
pub async fn send_one(state: &Arc<AppState>, claim: Claim, key: &str) -> Result<(), JobError> {
    let step = prepare(state, claim.tenant, key).await;
    if let Some(subject) = deliver(state, claim, key, step).await? {
        mark_sent(state, claim.tenant, &[(key.to_owned(), subject)])
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Sends several emails of one tenant: prepared in one transaction, sent one by one, marked
/// sent in one transaction (rather than two transactions each). A database failure in the
/// shared transactions falls back to one job at a time.
pub async fn send_batch(
    state: &Arc<AppState>,
    tenant: TenantId,
    jobs: &[(Claim, String)],
) -> Vec<Result<(), JobError>> {
    if jobs.len() < 2 {
        let mut out = Vec::with_capacity(jobs.len());
        for (claim, key) in jobs {
            out.push(send_one(state, *claim, key).await);
        }
        return out;
    }
    let prepared = async {
        let tx = TenantTx::begin(&state.db, tenant).await?;
        let shared = Shared::load(state, &tx).await?;
        let mut steps = Vec::with_capacity(jobs.len());
        for (_, key) in jobs {
            steps.push(prepare_in(state, &tx, &shared, key).await?);
        }
        tx.commit().await?;
        Ok::<_, DbErr>(steps)
    };
    let steps = match prepared.await {
        Ok(steps) => steps,
        Err(err) => {
            tracing::info!(error = %err, emails = jobs.len(), "email batch failed; sending one by one");
            let mut out = Vec::with_capacity(jobs.len());
            for (claim, key) in jobs {
                out.push(send_one(state, *claim, key).await);
            }
            return out;
        }
    };
    let mut out = Vec::with_capacity(jobs.len());
    let mut sent = Vec::new();
    for ((claim, key), step) in jobs.iter().zip(steps) {
        match deliver(state, *claim, key, step).await {
            Ok(Some(subject)) => {
                sent.push((out.len(), key.clone(), subject));
                out.push(Ok(()));
            }
            Ok(None) => out.push(Ok(())),
            Err(e) => out.push(Err(e)),
        }
    }
    let marks: Vec<(String, String)> = sent
        .iter()
        .map(|(_, k, s)| (k.clone(), s.clone()))
        .collect();
    if let Err(err) = mark_sent(state, tenant, &marks).await {
        // Sent but not marked: the jobs run again, find the attempts in flight, and wait.
        for (i, _, _) in sent {
            out[i] = Err(format!("sent, but not marked sent: {err}"));
        }
    }
    out
}

/// Records a failed attempt; the last one goes on the order's timeline.
async fn record_failure(
    state: &Arc<AppState>,
    claim: Claim,
    key: &str,
    error: &str,
) -> Result<(), JobError> {
    let tenant = claim.tenant;
    let db = |e: DbErr| e.to_string();
    let tx = TenantTx::begin(&state.db, tenant).await.map_err(db)?;
    let mut events = Vec::new();
    // Only an attempt still in progress fails (a late error never unsends a sent email).
    if let Some(mut n) = repo::by_key_for_update(&tx, key)
        .await
        .map_err(db)?
        .filter(|n| [QUEUED, SENDING, FAILED].contains(&n.status.as_str()))
    {
        n.status = FAILED.to_owned();
        n.last_error = Some(error.chars().take(2000).collect());
        let n = repo::save(&tx, n).await.map_err(db)?;
        if claim.is_last()
            && let Some(order) = n.order_id
        {
            let what = Kind::parse(&n.kind).map(Kind::label).unwrap_or("email");
            events.push(
                timeline(
                    &tx,
                    order,
                    "notification.failed",
                    format!(
                        "Could not email {} the {what} after {} attempts",
                        n.recipient, claim.attempt
                    ),
                    &n,
                )
                .await
                .map_err(db)?,
            );
        }
    }
    tx.commit().await.map_err(db)?;
    timeline::publish_events(state, tenant, &events).await;
    Ok(())
}
