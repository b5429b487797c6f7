//! Receiving support messages, answering them (automatically where safe, by staff otherwise)
//! and carrying out the order changes staff confirm.

use chrono::Utc;
use sea_orm::DbErr;
use serde_json::{Value, json};

use super::automate::{self, ActionKind, OrderFacts, Proposal};
use super::inbound::{self, InboundMail};
use super::intent::{self, Classification, Intent};
use super::repo::{self, AUTO_REPLIED, INBOUND, Message, NEEDS_STAFF, OUTBOUND, REPLIED, Thread};
use crate::app::AppState;
use crate::domain::address::Address;
use crate::domain::{OrderId, TenantId};
use crate::error::{Fail, Outcome, UserError, UserErrorCode as C};
use crate::lifecycle::capture::{self, repo as orders};
use crate::lifecycle::engine::actions;
use crate::lifecycle::notify::context::{self as notify_ctx, Links};
use crate::lifecycle::notify::kind::Kind;
use crate::lifecycle::notify::repo as notifications;
use crate::lifecycle::notify::service::{self as notify, NewNotification};
use crate::lifecycle::notify::settings::{self as notify_settings, NotifySettings};
use crate::lifecycle::notify::templates;
use crate::lifecycle::shipping::repo as shipping;
use crate::lifecycle::state::OrderState;
use crate::tenancy::{Actor, Permission, Principal, TenantTx};

/// What became of an inbound message.
#[derive(Clone, Debug, PartialEq)]
pub enum Received {
    /// Filed in a thread (possibly answered).
    Filed {
        thread: uuid::Uuid,
        message: uuid::Uuid,
    },
    /// The same message was received before.
    Duplicate {
        thread: uuid::Uuid,
        message: uuid::Uuid,
    },
    /// A bounce of mail we sent, recorded on it.
    Bounce { notification: Option<uuid::Uuid> },
}

/// The order a message is about: the one our mail it answers was about, an order name it
/// mentions among the sender's orders, or the sender's latest order of the last 60 days.
async fn match_order(
    tx: &TenantTx,
    mail: &InboundMail,
) -> Result<(Option<orders::Order>, Option<Thread>), DbErr> {
    let mut parents: Vec<String> = mail.references.clone();
    parents.extend(mail.in_reply_to.clone());
    parents.reverse();
    for id in &parents {
        if let Some(m) = repo::message_by_message_id(tx, id).await? {
            let thread = repo::thread_for_update(tx, m.thread_id).await?;
            let order = match thread.as_ref().and_then(|t| t.order_id) {
                Some(o) => orders::get(tx, OrderId(o)).await?,
                None => None,
            };
            return Ok((order, thread));
        }
        if let Some(n) = notifications::by_message_id(tx, id).await?
            && let Some(order) = n.order_id
        {
            return Ok((orders::get(tx, OrderId(order)).await?, None));
        }
    }
    let mine = repo::orders_of_email(tx, &mail.from).await?;
    let words = format!("{} {}", mail.subject, mail.text);
    let mentioned = words
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '#'))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .map(|w| w.trim_start_matches('#').to_ascii_lowercase())
        .find_map(|w| {
            mine.iter()
                .find(|o| {
                    let name = o.name.trim_start_matches('#').to_ascii_lowercase();
                    name == w || o.external_id.to_ascii_lowercase() == w
                })
                .cloned()
        });
    if let Some(order) = mentioned {
        return Ok((Some(order), None));
    }
    let recent = mine
        .into_iter()
        .find(|o| o.placed_at > Utc::now() - chrono::Duration::days(60));
    Ok((recent, None))
}

async fn order_facts(tx: &TenantTx, order: &orders::Order) -> Result<OrderFacts, DbErr> {
    let tracked = shipping::of_orders(tx, &[OrderId(order.id)])
        .await?
        .iter()
        .any(|s| s.status != shipping::VOIDED && s.tracking_number.is_some());
    Ok(OrderFacts {
        state: OrderState::parse(&order.state).unwrap_or(OrderState::Received),
        tracked,
    })
}

fn links(state: &AppState) -> Links<'_> {
    Links {
        public_url: &state.config.public_url,
        key: state.config.secret_key.expose(),
    }
}

/// The context of a reply template: the shop, the shopper, the order and its parcels.
async fn reply_context(
    state: &AppState,
    tx: &TenantTx,
    settings: &NotifySettings,
    thread: &Thread,
    order: Option<&orders::Order>,
    decision: Option<&automate::Decision>,
) -> Result<Value, DbErr> {
    let shop = notifications::tenant_name(tx).await?;
    let sender = notify_ctx::sender(settings, &shop, state.mailer.platform_sender());
    let first = thread
        .customer_name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or_default();
    let mut ctx = json!({
        "shop": {
            "name": shop,
            "email": sender.from.email.to_string(),
            "reply_to": sender.reply_to.as_ref().map(|r| r.email.to_string()).unwrap_or_default(),
        },
        "customer": { "name": thread.customer_name, "first_name": first, "email": thread.email },
        "reply": {
            "possible": decision.and_then(|d| d.possible),
            "proposed": decision.is_some_and(|d| d.proposal.is_some()),
        },
    });
    if let Some(order) = order {
        let locale = notify_ctx::locale_of(order, settings);
        let lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
        ctx["order"] = notify_ctx::order_value(order, &lines, locale);
        // A notification-shaped row, so the shipment part reads like a shipped email's.
        let probe = notifications::probe(
            order.tenant_id,
            Kind::Shipped.as_str(),
            Some(order.id),
            &thread.email,
        );
        let (full, _) =
            notify_ctx::for_order(tx, &probe, order, &sender, settings, &links(state)).await?;
        ctx["shipment"] = full["shipment"].clone();
        ctx["shipments"] = full["shipments"].clone();
    }
    Ok(ctx)
}

/// Quoted-reply subject.
fn re(subject: &str) -> String {
    let s = subject.trim();
    if s.to_ascii_lowercase().starts_with("re:") {
        s.to_owned()
    } else if s.is_empty() {
        "Re: your message".to_owned()
    } else {
        format!("Re: {s}")
    }
}

/// Writes an outbound message of `thread` answering `parent`, and the notification that sends
/// it, threaded under the parent.
#[allow(clippy::too_many_arguments)]
async fn queue_reply(
    tx: &TenantTx,
    settings: &NotifySettings,
    thread: &Thread,
    parent: Option<&Message>,
    text: String,
    source: &str,
    author: (Option<uuid::Uuid>, Option<String>),
    from_address: String,
) -> Result<Message, DbErr> {
    let id = uuid::Uuid::now_v7();
    let message_id = notify::message_id_for(id, settings.sender_address.as_deref());
    let mut references: Vec<String> = parent
        .and_then(|p| p.reference_ids.clone())
        .map(|r| inbound::ids_in(&r))
        .unwrap_or_default();
    if let Some(p) = parent {
        references.push(p.message_id.clone());
    }
    let references = (!references.is_empty()).then(|| {
        references
            .iter()
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let subject = re(&thread.subject);
    let now = Utc::now();
    let message = repo::insert_message(
        tx,
        Message {
            tenant_id: tx.tenant().uuid(),
            id,
            thread_id: thread.id,
            direction: OUTBOUND.into(),
            source: source.into(),
            from_address,
            from_name: None,
            to_address: thread.email.clone(),
            subject: subject.clone(),
            text_body: text.clone(),
            html_body: None,
            message_id: message_id.clone(),
            in_reply_to: parent.map(|p| p.message_id.clone()),
            reference_ids: references.clone(),
            intent: None,
            confidence: None,
            classification: None,
            suggested_reply: None,
            proposed_action: None,
            action_status: None,
            author_id: author.0,
            author_label: author.1,
            created_at: now,
        },
    )
    .await?;
    let paragraphs: Vec<Vec<&str>> = text
        .split("\n\n")
        .map(|p| p.lines().collect())
        .filter(|p: &Vec<&str>| !p.is_empty())
        .collect();
    notify::queue_all(
        tx,
        settings,
        vec![NewNotification {
            id: Some(id),
            kind: Kind::SupportReply,
            key: format!("support_reply:{id}"),
            order: thread.order_id,
            event: None,
            thread: Some(thread.id),
            support_message: Some(id),
            recipient: thread.email.clone(),
            context: json!({
                "reply": { "subject": subject, "text": text, "paragraphs": paragraphs },
                "customer": { "name": thread.customer_name, "email": thread.email },
            }),
            in_reply_to: parent.map(|p| p.message_id.clone()),
            references,
            run_at: now,
        }],
    )
    .await?;
    Ok(message)
}

async fn note_on_order(
    tx: &TenantTx,
    order: Option<uuid::Uuid>,
    kind: &'static str,
    actor: Actor,
    label: Option<String>,
    message: String,
    data: Value,
) -> Result<Vec<orders::OrderEvent>, DbErr> {
    let Some(order) = order else {
        return Ok(Vec::new());
    };
    Ok(vec![
        orders::record_event(
            tx,
            orders::NewEvent {
                order: OrderId(order),
                kind,
                actor,
                actor_label: label,
                message,
                reason: None,
                data,
            },
        )
        .await?,
    ])
}

/// Files an inbound message: a bounce is recorded on the mail it reports; anything else is
/// classified, put in its thread, and answered or queued for staff.
pub async fn receive(
    state: &AppState,
    tenant: TenantId,
    mail: InboundMail,
    source: &str,
) -> Result<Received, DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    if let Some(bounce) = &mail.bounce {
        let found = match &bounce.original_message_id {
            Some(id) => notifications::by_message_id(&tx, id).await?,
            None => None,
        };
        let mut events = Vec::new();
        if let Some(mut n) = found.clone() {
            n.status = notifications::BOUNCED.into();
            n.bounced_at = Some(Utc::now());
            n.bounce_reason = Some(
                [bounce.status.clone(), bounce.diagnostic.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            let n = notifications::save(&tx, n).await?;
            if bounce.permanent {
                notifications::suppress(&tx, &n.recipient, "all", "bounced").await?;
            }
            events = note_on_order(
                &tx,
                n.order_id,
                "notification.bounced",
                Actor::System,
                Some(notify::MAILER.into()),
                format!(
                    "The email “{}” to {} bounced{}",
                    n.subject.clone().unwrap_or_default(),
                    n.recipient,
                    if bounce.permanent {
                        ": the address does not work and gets no more mail"
                    } else {
                        " for now"
                    }
                ),
                json!({ "status": bounce.status, "diagnostic": bounce.diagnostic, "permanent": bounce.permanent }),
            )
            .await?;
        }
        tx.commit().await?;
        capture::publish_events(state, tenant, &events).await;
        return Ok(Received::Bounce {
            notification: found.map(|n| n.id),
        });
    }
    let message_id = mail
        .message_id
        .clone()
        .unwrap_or_else(|| format!("{}@inbound.orderflow.local", uuid::Uuid::now_v7().simple()));
    if let Some(existing) = repo::message_by_message_id(&tx, &message_id).await? {
        tx.commit().await?;
        return Ok(Received::Duplicate {
            thread: existing.thread_id,
            message: existing.id,
        });
    }
    let settings = notify_settings::load(&tx).await?;
    let (order, thread) = match_order(&tx, &mail).await?;
    // Order facts go only to the address that placed the order: a message from anyone else
    // (a forward, a spoofed sender) is filed with the order but answered by staff.
    let owner_writes = order.as_ref().is_some_and(|o| {
        o.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&mail.from))
    });
    let fresh = inbound::new_text(&mail.text);
    let fresh = if fresh.is_empty() {
        mail.text.trim().to_owned()
    } else {
        fresh
    };
    // A reply's subject is ours ("Re: Your order … has shipped"): only a new message's
    // subject says what the shopper wants.
    let is_reply =
        mail.in_reply_to.is_some() || mail.subject.to_ascii_lowercase().starts_with("re:");
    let basis = if is_reply {
        fresh.clone()
    } else {
        format!("{}. {fresh}", mail.subject)
    };
    let classification = intent::classify(&basis);
    let facts = match &order {
        Some(o) => Some(order_facts(&tx, o).await?),
        None => None,
    };
    let decision = automate::decide(&automate::Facts {
        classification: &classification,
        order: order
            .as_ref()
            .zip(facts.as_ref())
            .filter(|_| owner_writes)
            .map(|(o, f)| (o.id, f)),
        automated: mail.automated,
        auto_reply_enabled: settings.auto_reply,
        threshold: settings.auto_reply_confidence,
    });
    let mut decision = decision;
    if let Some(o) = order.as_ref().filter(|_| !owner_writes) {
        decision
            .reasons
            .retain(|r| !r.starts_with("no order could be matched"));
        decision.reasons.push(format!(
            "about order {} but not from the address that placed it: for staff",
            o.name
        ));
    }
    let now = Utc::now();
    let thread = match thread {
        Some(t) => t,
        None => match repo::open_thread(&tx, &mail.from, order.as_ref().map(|o| o.id)).await? {
            Some(t) => t,
            None => {
                let customer = match &order {
                    Some(o) => o.customer_id,
                    None => None,
                };
                repo::insert_thread(
                    &tx,
                    Thread {
                        tenant_id: tenant.uuid(),
                        id: uuid::Uuid::now_v7(),
                        customer_id: customer,
                        order_id: order.as_ref().map(|o| o.id),
                        email: mail.from.clone(),
                        customer_name: mail
                            .from_name
                            .clone()
                            .or_else(|| order.as_ref().and_then(|o| o.customer_name.clone())),
                        subject: if mail.subject.is_empty() {
                            "(no subject)".into()
                        } else {
                            mail.subject.clone()
                        },
                        status: "open".into(),
                        intent: None,
                        confidence: None,
                        handling: NEEDS_STAFF.into(),
                        message_count: 0,
                        last_message_at: now,
                        created_at: now,
                        updated_at: now,
                    },
                )
                .await?
            }
        },
    };
    let ctx = reply_context(
        state,
        &tx,
        &settings,
        &thread,
        order.as_ref(),
        Some(&decision),
    )
    .await?;
    let suggestion = templates::render_text(
        templates::reply_source(classification.intent.as_str()),
        &ctx,
    )
    .unwrap_or_default();
    let proposal = decision.proposal.clone();
    let inbound_row = repo::insert_message(
        &tx,
        Message {
            tenant_id: tenant.uuid(),
            id: uuid::Uuid::now_v7(),
            thread_id: thread.id,
            direction: INBOUND.into(),
            source: source.into(),
            from_address: mail.from.clone(),
            from_name: mail.from_name.clone(),
            to_address: mail.to.clone(),
            subject: mail.subject.clone(),
            text_body: mail.text.clone(),
            html_body: mail.html.clone(),
            message_id: message_id.clone(),
            in_reply_to: mail.in_reply_to.clone(),
            reference_ids: (!mail.references.is_empty()).then(|| {
                mail.references
                    .iter()
                    .map(|r| format!("<{r}>"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            intent: Some(classification.intent.as_str().into()),
            confidence: Some(classification.confidence),
            classification: Some(json!({
                "scores": classification.scores.iter().map(|(i, s)| json!({ "intent": i, "score": s })).collect::<Vec<_>>(),
                "signals": classification.signals,
                "reasons": decision.reasons,
                "orderId": order.as_ref().map(|o| o.id),
            })),
            suggested_reply: (!decision.auto_reply).then(|| suggestion.clone()),
            proposed_action: proposal.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default()),
            action_status: proposal.as_ref().map(|_| "proposed".to_owned()),
            author_id: None,
            author_label: None,
            created_at: now,
        },
    )
    .await?;
    let mut thread = thread;
    thread.intent = Some(classification.intent.as_str().into());
    thread.confidence = Some(classification.confidence);
    // The shopper's message, and the automatic answer written below.
    thread.message_count += if decision.auto_reply { 2 } else { 1 };
    thread.last_message_at = now;
    thread.status = "open".into();
    thread.handling = if decision.auto_reply && proposal.is_none() {
        AUTO_REPLIED.into()
    } else {
        NEEDS_STAFF.into()
    };
    if thread.order_id.is_none() {
        thread.order_id = order.as_ref().map(|o| o.id);
    }
    let thread = repo::save_thread(&tx, thread).await?;
    let mut events = note_on_order(
        &tx,
        thread.order_id,
        "support.message_received",
        Actor::System,
        Some(format!("{} (email)", mail.from)),
        format!(
            "Message from {}: {} ({} % sure){}",
            mail.from,
            classification.intent.as_str().replace('_', " "),
            classification.confidence,
            match (&proposal, decision.auto_reply) {
                (Some(p), _) => format!(" — {} proposed to staff", p.kind.as_str().replace('_', " ")),
                (None, true) => " — answered automatically".into(),
                (None, false) => " — waiting for staff".into(),
            }
        ),
        json!({ "threadId": thread.id, "messageId": inbound_row.id, "intent": classification.intent, "confidence": classification.confidence, "reasons": decision.reasons }),
    )
    .await?;
    if decision.auto_reply {
        queue_reply(
            &tx,
            &settings,
            &thread,
            Some(&inbound_row),
            suggestion,
            "auto",
            (None, Some("auto-reply".into())),
            settings.sender_address.clone().unwrap_or_default(),
        )
        .await?;
    }
    tx.commit().await?;
    let _ = &mut events;
    capture::publish_events(state, tenant, &events).await;
    state.wake_workers.notify_one();
    Ok(Received::Filed {
        thread: thread.id,
        message: inbound_row.id,
    })
}

/// A staff reply on a thread, sent as email threaded under the shopper's last message.
pub async fn reply(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    thread_id: uuid::Uuid,
    text: String,
    close: bool,
) -> Outcome<(Thread, Message)> {
    principal.require(Permission::OrdersManage)?;
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(UserError::on("text", C::Required, "write the reply").into());
    }
    if text.chars().count() > 20_000 {
        return Err(UserError::on("text", C::Invalid, "must be at most 20000 characters").into());
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(mut thread) = repo::thread_for_update(&tx, thread_id).await? else {
        return Err(UserError::on("threadId", C::NotFound, "no such thread").into());
    };
    let settings = notify_settings::load(&tx).await?;
    let messages = repo::messages_of(&tx, &[thread.id]).await?;
    let parent = messages.iter().rev().find(|m| m.direction == INBOUND);
    let message = queue_reply(
        &tx,
        &settings,
        &thread,
        parent,
        text,
        "staff",
        (principal.actor.id(), label.clone()),
        settings.sender_address.clone().unwrap_or_default(),
    )
    .await?;
    thread.message_count += 1;
    thread.last_message_at = message.created_at;
    thread.handling = REPLIED.into();
    thread.status = if close {
        "closed".into()
    } else {
        "waiting".into()
    };
    let thread = repo::save_thread(&tx, thread).await?;
    let events = note_on_order(
        &tx,
        thread.order_id,
        "support.replied",
        principal.actor,
        label,
        format!("Replied to {}: “{}”", thread.email, message.subject),
        json!({ "threadId": thread.id, "messageId": message.id }),
    )
    .await?;
    tx.commit().await?;
    capture::publish_events(state, principal.tenant, &events).await;
    state.wake_workers.notify_one();
    Ok((thread, message))
}

/// Carries out a proposed action (staff's one click) and marks it confirmed.
pub async fn confirm_action(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    message_id: uuid::Uuid,
    address: Option<Address>,
) -> Outcome<Message> {
    principal.require(Permission::OrdersManage)?;
    let proposal: Proposal = {
        let tx = TenantTx::begin(&state.db, principal.tenant).await?;
        let Some(m) = repo::message(&tx, message_id).await? else {
            return Err(UserError::on("messageId", C::NotFound, "no such message").into());
        };
        tx.commit().await?;
        if m.action_status.as_deref() != Some("proposed") {
            return Err(UserError::on(
                "messageId",
                C::IllegalTransition,
                match m.action_status.as_deref() {
                    None => "this message has no proposed action".to_owned(),
                    Some(s) => format!("the proposed action is already {s}"),
                },
            )
            .into());
        }
        serde_json::from_value(m.proposed_action.unwrap_or_default())
            .map_err(|e| Fail::App(crate::error::AppError::Internal(e.into())))?
    };
    let order = OrderId(proposal.order_id);
    let reason = Some(format!("{} (support message)", proposal.reason));
    let done = match proposal.kind {
        ActionKind::CancelOrder => {
            actions::cancel(state, principal, label.clone(), order, reason).await
        }
        ActionKind::ChangeAddress => {
            let Some(address) = address else {
                return Err(UserError::on(
                    "address",
                    C::Required,
                    "enter the new shipping address the shopper asked for",
                )
                .into());
            };
            actions::update_shipping_address(
                state,
                principal,
                label.clone(),
                order,
                address,
                reason,
            )
            .await
        }
    };
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(mut m) = repo::message_for_update(&tx, message_id).await? else {
        return Err(UserError::on("messageId", C::NotFound, "no such message").into());
    };
    match done {
        Ok(_) => {
            m.action_status = Some("confirmed".into());
            let m = repo::save_message(&tx, m).await?;
            if let Some(mut thread) = repo::thread_for_update(&tx, m.thread_id).await?
                && thread.handling == NEEDS_STAFF
            {
                thread.handling = REPLIED.into();
                repo::save_thread(&tx, thread).await?;
            }
            tx.commit().await?;
            Ok(m)
        }
        Err(Fail::User(e)) => {
            // The order moved on meanwhile (shipped, say): the proposal cannot be done.
            m.action_status = Some("failed".into());
            repo::save_message(&tx, m).await?;
            tx.commit().await?;
            Err(Fail::User(e))
        }
        Err(other) => Err(other),
    }
}

/// Sets a proposed action aside.
pub async fn dismiss_action(
    state: &AppState,
    principal: &Principal,
    message_id: uuid::Uuid,
) -> Outcome<Message> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(mut m) = repo::message_for_update(&tx, message_id).await? else {
        return Err(UserError::on("messageId", C::NotFound, "no such message").into());
    };
    if m.action_status.as_deref() != Some("proposed") {
        return Err(UserError::on(
            "messageId",
            C::IllegalTransition,
            "there is no open proposal on this message",
        )
        .into());
    }
    m.action_status = Some("dismissed".into());
    let m = repo::save_message(&tx, m).await?;
    tx.commit().await?;
    Ok(m)
}

/// The classification of any text, for the API's `classifySupportMessage`.
pub fn classify(text: &str) -> Classification {
    intent::classify(text)
}

/// The reply a template suggests for `intent` on a thread (staff "suggest" button).
pub async fn suggest(
    state: &AppState,
    tx: &TenantTx,
    thread: &Thread,
    intent: Intent,
) -> Result<String, DbErr> {
    let settings = notify_settings::load(tx).await?;
    let order = match thread.order_id {
        Some(o) => orders::get(tx, OrderId(o)).await?,
        None => None,
    };
    let ctx = reply_context(state, tx, &settings, thread, order.as_ref(), None).await?;
    Ok(templates::render_text(templates::reply_source(intent.as_str()), &ctx).unwrap_or_default())
}
