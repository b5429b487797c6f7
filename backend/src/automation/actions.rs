//! What a rule does to the order when its condition holds. Each action says what became of it
//! (done, or skipped and why), and what it records on the timeline names the rule.

use entity::orders;
use sea_orm::{ActiveValue::Set, DbErr};
use serde::{Deserialize, Serialize};

use crate::domain::OrderId;
use crate::lifecycle::notify::kind::Kind as NotifyKind;
use crate::lifecycle::notify::service::{self as notify, NewNotification};
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{self, By, Step, TransitionError};
use crate::order::repo::{self as order_repo, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::tenancy::{Actor, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(name = "AutomationActionKind")]
pub enum Kind {
    AddTag,
    RemoveTag,
    /// Stops the automated stages until someone releases the order; the value is the reason.
    Hold,
    /// Appends the value to the order's note.
    AddNote,
    /// Takes the order off hold, back to the stage it was held at; the value is why.
    Release,
    /// Emails the shopper one of the order emails that need nothing but the order; the value
    /// is its kind: order_confirmation, shipped, delivered or review_request (the tenant's
    /// template for it). Once per rule, order and kind.
    SendEmail,
    /// Posts the rule's match to one outbound webhook subscription (the value is its id),
    /// whatever events it subscribes to, signed and retried like every delivery.
    CallWebhook,
    /// Ships the order from one warehouse (the value is its code): routing considers no
    /// other. Before the order is routed.
    AssignWarehouse,
    /// Buys the order's labels with one carrier service (`service` or `carrier/service`
    /// codes) when it takes the parcel; the usual pick otherwise.
    ChooseService,
    /// Puts a task for staff on the list (`staffTasks`), the value its title; once per rule
    /// and order.
    CreateTask,
}

/// The emails a rule may send: those whose template needs only the order.
pub const RULE_EMAILS: [NotifyKind; 4] = [
    NotifyKind::OrderConfirmation,
    NotifyKind::Shipped,
    NotifyKind::Delivered,
    NotifyKind::ReviewRequest,
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: Kind,
    pub value: String,
}

/// The first problem with `actions`: (index, message).
pub fn check(actions: &[Action]) -> Result<(), (usize, String)> {
    if actions.is_empty() || actions.len() > 20 {
        return Err((0, "give 1 to 20 actions".into()));
    }
    for (i, a) in actions.iter().enumerate() {
        let v = a.value.trim();
        let limit = match a.kind {
            Kind::AddTag | Kind::RemoveTag => 40,
            Kind::Hold | Kind::Release => 1000,
            Kind::AddNote => 2000,
            Kind::SendEmail | Kind::CallWebhook => 200,
            Kind::AssignWarehouse | Kind::ChooseService => 80,
            Kind::CreateTask => 200,
        };
        if v.is_empty() || v.chars().count() > limit {
            return Err((
                i,
                format!(
                    "{} needs a value of 1 to {limit} characters",
                    match a.kind {
                        Kind::AddTag | Kind::RemoveTag => "a tag action",
                        Kind::Hold => "hold (its reason)",
                        Kind::Release => "release (why)",
                        Kind::AddNote => "a note",
                        Kind::SendEmail => "an email action (the email's kind)",
                        Kind::CallWebhook => "a webhook action (the subscription's id)",
                        Kind::AssignWarehouse => "assign warehouse (its code)",
                        Kind::ChooseService => "choose service (its code)",
                        Kind::CreateTask => "a task (its title)",
                    }
                ),
            ));
        }
        if a.kind == Kind::SendEmail && email_kind(v).is_none() {
            return Err((
                i,
                format!(
                    "{v:?} is not an email a rule can send; one of {}",
                    RULE_EMAILS.map(NotifyKind::as_str).join(", ")
                ),
            ));
        }
        if a.kind == Kind::CallWebhook && subscription_of(v).is_none() {
            return Err((i, format!("{v:?} is not a webhook subscription id")));
        }
    }
    Ok(())
}

fn email_kind(v: &str) -> Option<NotifyKind> {
    NotifyKind::parse(&v.trim().to_lowercase()).filter(|k| RULE_EMAILS.contains(k))
}

/// The subscription a webhook action names.
pub fn subscription_of(v: &str) -> Option<uuid::Uuid> {
    crate::graphql::relay::decode_id(v, "WebhookSubscription", "value").ok()
}

/// The outcome of a webhook action that will post (the subscription's id follows).
pub const POSTING: &str = "posting to webhook subscription";

/// Whether `rule` released `order` before.
async fn released_before(tx: &TenantTx, order: &Order, rule: uuid::Uuid) -> Result<bool, DbErr> {
    use entity::order_events::Column as E;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let data: Vec<serde_json::Value> = entity::order_events::Entity::find()
        .select_only()
        .column(E::Data)
        .filter(E::TenantId.eq(tx.tenant().uuid()))
        .filter(E::OrderId.eq(order.id))
        .filter(E::Kind.eq("order.released"))
        .into_tuple()
        .all(crate::tenancy::AnyTx::conn(tx))
        .await?;
    let id = rule.to_string();
    Ok(data
        .iter()
        .any(|d| d["automation"]["ruleId"].as_str() == Some(id.as_str())))
}

/// Puts what a rule did on the order's timeline, marked as the rule's.
async fn record(
    tx: &TenantTx,
    order: &Order,
    rule: (uuid::Uuid, &str),
    kind: &'static str,
    message: String,
    extra: serde_json::Value,
) -> Result<OrderEvent, DbErr> {
    let mut data = extra;
    data["automation"] = mark(rule.0, rule.1);
    timeline::record_event(
        tx,
        NewEvent {
            order: OrderId(order.id),
            kind,
            actor: Actor::System,
            actor_label: Some(format!("rule \"{}\"", rule.1)),
            message,
            reason: None,
            data,
        },
    )
    .await
}

/// Marks what a rule records, so rules do not trigger on each other's doings.
pub fn mark(rule: uuid::Uuid, name: &str) -> serde_json::Value {
    serde_json::json!({ "ruleId": rule, "ruleName": name })
}

/// Applies one action; returns what became of it and the timeline event it made.
pub async fn apply(
    tx: &TenantTx,
    order: &mut Order,
    action: &Action,
    rule: (uuid::Uuid, &str),
) -> Result<(String, Option<OrderEvent>), DbErr> {
    let mut value = action.value.trim().to_owned();
    let label = Some(format!("rule \"{}\"", rule.1));
    let data = |extra: serde_json::Value| {
        let mut d = extra;
        d["automation"] = mark(rule.0, rule.1);
        d
    };
    match action.kind {
        Kind::AddTag | Kind::RemoveTag => {
            let mut tags: Vec<String> =
                serde_json::from_value(order.tags.clone()).unwrap_or_default();
            let had = tags.iter().any(|t| t.eq_ignore_ascii_case(&value));
            let adding = action.kind == Kind::AddTag;
            if had == adding {
                return Ok((
                    format!(
                        "skipped: the order {} tagged {value}",
                        if adding { "is already" } else { "is not" }
                    ),
                    None,
                ));
            }
            if adding {
                tags.push(value.clone());
            } else {
                tags.retain(|t| !t.eq_ignore_ascii_case(&value));
            }
            order.tags = serde_json::json!(tags);
            order_repo::update(
                tx,
                orders::ActiveModel {
                    id: Set(order.id),
                    tags: Set(order.tags.clone()),
                    ..Default::default()
                },
            )
            .await?;
            let event = record(
                tx,
                order,
                rule,
                "order.tags_changed",
                format!("Tags: {}{value}", if adding { "+" } else { "−" }),
                serde_json::json!({
                    "added": if adding { vec![value.clone()] } else { vec![] },
                    "removed": if adding { vec![] } else { vec![value.clone()] },
                }),
            )
            .await?;
            Ok((
                format!("{} tag {value}", if adding { "added" } else { "removed" }),
                Some(event),
            ))
        }
        Kind::Hold => {
            let previous = order.hold_reason.clone();
            order.hold_reason = Some(value.clone());
            let by = By {
                actor: Actor::System,
                label,
            };
            let step = Step {
                to: OrderState::OnHold,
                kind: "order.held",
                message: format!("Put on hold by rule \"{}\": {value}", rule.1),
                reason: Some(value),
                data: data(serde_json::json!({})),
            };
            match transition::apply(tx, order, &by, step).await {
                Ok(event) => Ok(("held".into(), Some(event))),
                Err(TransitionError::Db(e)) => Err(e),
                Err(e) => {
                    order.hold_reason = previous;
                    Ok((format!("skipped: {e}"), None))
                }
            }
        }
        Kind::Release => {
            if order.state != OrderState::OnHold {
                return Ok((
                    format!(
                        "skipped: the order is not on hold (it is {})",
                        order.state.as_str()
                    ),
                    None,
                ));
            }
            let back = transition::stage_of(order);
            let issues: Vec<crate::order::issues::Issue> =
                serde_json::from_value(order.issues.clone()).unwrap_or_default();
            if back == OrderState::Received
                && let Some((_, why)) = crate::lifecycle::engine::gate::gate(&issues)
            {
                return Ok((
                    format!("skipped: resolve the open issues first: {why}"),
                    None,
                ));
            }
            // Once per rule and order: the engine may hold the order again, and a rule that
            // released it on every hold would loop.
            if released_before(tx, order, rule.0).await? {
                return Ok((
                    "skipped: this rule released the order once already".into(),
                    None,
                ));
            }
            let step = Step {
                to: back,
                kind: "order.released",
                message: format!(
                    "Released by rule \"{}\", back to {}: {value}",
                    rule.1,
                    back.as_str()
                ),
                reason: Some(value),
                data: data(serde_json::json!({ "heldFor": order.hold_reason })),
            };
            let by = By {
                actor: Actor::System,
                label,
            };
            match transition::apply(tx, order, &by, step).await {
                Ok(event) => {
                    // The engine takes the order on from the stage it was held at.
                    crate::jobs::Job::enqueue(
                        crate::lifecycle::transition::wake::AdvanceOrder {
                            order: OrderId(order.id),
                        },
                        tx,
                    )
                    .await?;
                    Ok(("released".into(), Some(event)))
                }
                Err(TransitionError::Db(e)) => Err(e),
                Err(e) => Ok((format!("skipped: {e}"), None)),
            }
        }
        Kind::SendEmail => {
            let Some(kind) = email_kind(&value) else {
                return Ok((
                    format!("skipped: {value} is not an email a rule sends"),
                    None,
                ));
            };
            if let Some(why) = notify::quiet(order) {
                return Ok((format!("skipped: the shopper is not emailed ({why})"), None));
            }
            let Some(email) = order.email.clone().filter(|e| e.contains('@')) else {
                return Ok(("skipped: the order has no email address".into(), None));
            };
            let settings = crate::lifecycle::notify::settings::load(tx).await?;
            if !settings.sends(kind) {
                return Ok((
                    format!("skipped: the shop does not send the {}", kind.label()),
                    None,
                ));
            }
            let key = format!("rule:{}:{}:{}", rule.0, kind.as_str(), order.id);
            if crate::lifecycle::notify::repo::by_key_for_update(tx, &key)
                .await?
                .is_some()
            {
                return Ok((
                    format!("skipped: this rule already sent {}", kind.as_str()),
                    None,
                ));
            }
            notify::queue_all(
                tx,
                &settings,
                vec![NewNotification {
                    id: None,
                    kind,
                    key,
                    order: Some(order.id),
                    event: None,
                    thread: None,
                    support_message: None,
                    recipient: email.clone(),
                    context: serde_json::Value::Null,
                    in_reply_to: None,
                    references: None,
                    run_at: chrono::Utc::now(),
                }],
            )
            .await?;
            Ok((format!("emailed {email} the {}", kind.label()), None))
        }
        Kind::CallWebhook => {
            let found = match subscription_of(&value) {
                Some(id) => crate::webhooks::repo::subscription(tx, id).await?,
                None => None,
            };
            match found {
                // The subscription by its id, not its URL: hook URLs are often secrets, and
                // the outcome goes on the timeline and to other subscribers.
                Some(s) if s.active => Ok((format!("{POSTING} {value}"), None)),
                Some(_) => Ok(("skipped: the webhook subscription is paused".into(), None)),
                None => Ok((
                    "skipped: the webhook subscription no longer exists".into(),
                    None,
                )),
            }
        }
        Kind::AssignWarehouse | Kind::ChooseService => {
            let warehouse = action.kind == Kind::AssignWarehouse;
            if order.routing.is_some() {
                return Ok(("skipped: the order is routed already".into(), None));
            }
            let known = if warehouse {
                // Codes are kept upper-case; the stored pin is the warehouse's own code.
                let found = Box::pin(crate::catalog::warehouse_repo::by_code(
                    tx,
                    &value.to_uppercase(),
                ))
                .await?
                .filter(|w| w.active);
                if let Some(w) = &found {
                    value = w.code.clone();
                }
                found.is_some()
            } else {
                // As label buying will look it up.
                crate::lifecycle::shipping::repo::rating_book(tx)
                    .await?
                    .service_by_code(&value)
                    .is_some()
            };
            if !known {
                return Ok((
                    format!(
                        "skipped: there is no active {} {value}",
                        if warehouse {
                            "warehouse"
                        } else {
                            "carrier service"
                        }
                    ),
                    None,
                ));
            }
            let (kind, what) = if warehouse {
                order.assigned_warehouse = Some(value.clone());
                ("order.warehouse_assigned", "ships from warehouse")
            } else {
                order.assigned_service = Some(value.clone());
                ("order.service_chosen", "labels with service")
            };
            order_repo::update(
                tx,
                orders::ActiveModel {
                    id: Set(order.id),
                    assigned_warehouse: Set(order.assigned_warehouse.clone()),
                    assigned_service: Set(order.assigned_service.clone()),
                    ..Default::default()
                },
            )
            .await?;
            let event = record(
                tx,
                order,
                rule,
                kind,
                format!("By rule \"{}\": {what} {value}", rule.1),
                serde_json::json!({ "value": value }),
            )
            .await?;
            Ok((format!("{what} {value}"), Some(event)))
        }
        Kind::CreateTask => {
            let Some(task) = super::tasks::create(tx, order.id, rule.0, &value).await? else {
                return Ok((
                    "skipped: this rule made a task for the order already".into(),
                    None,
                ));
            };
            let event = record(
                tx,
                order,
                rule,
                "order.task_created",
                format!("Task for staff, by rule \"{}\": {value}", rule.1),
                serde_json::json!({ "taskId": task.id }),
            )
            .await?;
            Ok((format!("task: {value}"), Some(event)))
        }
        Kind::AddNote => {
            let note = match order.note.as_deref().filter(|n| !n.is_empty()) {
                Some(n) => format!("{n}\n{value}"),
                None => value.clone(),
            };
            if note.chars().count() > 5000 {
                return Ok(("skipped: the note is full".into(), None));
            }
            order.note = Some(note);
            order_repo::update(
                tx,
                orders::ActiveModel {
                    id: Set(order.id),
                    note: Set(order.note.clone()),
                    ..Default::default()
                },
            )
            .await?;
            let event = record(
                tx,
                order,
                rule,
                "order.note_changed",
                format!("Note added: {value}"),
                serde_json::json!({}),
            )
            .await?;
            Ok(("note added".into(), Some(event)))
        }
    }
}
