//! Receiving support messages, answering them (automatically where safe, by staff otherwise)
//! and carrying out the order changes staff confirm.

use chrono::Utc;
use sea_orm::DbErr;
use serde_json::{Value, json};

use super::automate::{self, ActionKind, OrderFacts, Proposal};
use super::inbound::{self, InboundMail};
use super::intent::{self, Classification, Intent};
use super::repo::{self, AUTO_REPLIED, INBOUND, Message, NEEDS_STAFF, OUTBOUND, REPLIED, Thread};
use crate::domain::address::Address;
use crate::domain::{OrderId, TenantId};
use crate::error::{Fail, Outcome, UserError, UserErrorCode as C};
use crate::infra::templates;
use crate::lifecycle::engine::actions;
use crate::lifecycle::notify::context::{self as notify_ctx, Links};
use crate::lifecycle::notify::kind::Kind;
use crate::lifecycle::notify::repo as notifications;
use crate::lifecycle::notify::service::{self as notify, NewNotification};
use crate::lifecycle::notify::settings::{self as notify_settings, NotifySettings};
use crate::lifecycle::notify::templates::reply_source;
use crate::lifecycle::shipping::repo as shipping;
use crate::order::repo as orders;
use crate::order::timeline;
use crate::state::AppState;
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

/// The thread and order a message belongs to, and how sure we are of the order.
struct Matched {
    order: Option<orders::Order>,
    thread: Option<Thread>,
    /// Why that order, or why none, for the message's reasons.
    how: String,
}

/// Order references in a text: `#1001`, `order 1001`, `order no. SH-5521`.
fn order_tokens(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '!' | '?'))
        .map(|w| {
            w.trim_matches(|c: char| c == '.' || c == ':')
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let has_digit = |s: &str| s.chars().any(|c| c.is_ascii_digit());
        if let Some(rest) = w.split('#').nth(1).filter(|r| has_digit(r)) {
            out.push(rest.to_owned());
        } else if has_digit(w)
            && i > 0
            && ["order", "no", "number", "nr", "#"].contains(&words[i - 1].as_str())
        {
            out.push(w.clone());
        }
    }
    out
}

/// The order a message is about: one it names among the sender's orders; else the one our
/// mail it answers was about; else, when it names none, the sender's only order of the last
/// 60 days. A name that matches none of theirs, or several recent orders, leaves it to staff.
async fn match_order(tx: &TenantTx, mail: &InboundMail, text: &str) -> Result<Matched, DbErr> {
    let mut parents: Vec<String> = mail.references.clone();
    parents.extend(mail.in_reply_to.clone());
    parents.reverse();
    let mut thread = None;
    let mut parent_order = None;
    for id in &parents {
        if let Some(m) = repo::message_by_message_id(tx, id).await? {
            thread = repo::thread_for_update(tx, m.thread_id).await?;
            parent_order = thread.as_ref().and_then(|t| t.order_id);
            break;
        }
        if let Some(n) = notifications::by_message_id(tx, id).await?
            && n.order_id.is_some()
        {
            parent_order = n.order_id;
            break;
        }
    }
    let mine = orders::of_email(tx, &mail.from).await?;
    let named = |token: &str| {
        mine.iter()
            .find(|o| {
                o.name.trim_start_matches('#').eq_ignore_ascii_case(token)
                    || o.external_id.eq_ignore_ascii_case(token)
            })
            .cloned()
    };
    let tokens = order_tokens(&format!("{} {text}", mail.subject));
    if let Some(order) = tokens.iter().find_map(|t| named(t)) {
        let how = format!("names order {}", order.name);
        return Ok(Matched {
            order: Some(order),
            thread,
            how,
        });
    }
    if let Some(id) = parent_order {
        let order = orders::get(tx, OrderId(id)).await?;
        if !tokens.is_empty() {
            // It names an order that is not this one (nor any of the sender's).
            return Ok(Matched {
                order: None,
                thread,
                how: format!(
                    "names {} but answers mail about another order",
                    tokens.join(", ")
                ),
            });
        }
        let how = order
            .as_ref()
            .map(|o| format!("answers our mail about order {}", o.name))
            .unwrap_or_default();
        return Ok(Matched { order, thread, how });
    }
    if !tokens.is_empty() {
        return Ok(Matched {
            order: None,
            thread,
            how: format!("names {}, not an order of this sender", tokens.join(", ")),
        });
    }
    let recent: Vec<&orders::Order> = mine
        .iter()
        .filter(|o| o.placed_at > Utc::now() - chrono::Duration::days(60))
        .collect();
    Ok(match recent.as_slice() {
        [only] => Matched {
            order: Some((*only).clone()),
            thread,
            how: format!("the sender's only recent order, {}", only.name),
        },
        [] => Matched {
            order: None,
            thread,
            how: "the sender has no recent order".into(),
        },
        several => Matched {
            order: None,
            thread,
            how: format!(
                "the sender has {} recent orders and names none",
                several.len()
            ),
        },
    })
}

async fn order_facts(tx: &TenantTx, order: &orders::Order) -> Result<OrderFacts, DbErr> {
    let tracked = shipping::of_orders(tx, &[OrderId(order.id)])
        .await?
        .iter()
        .any(|s| s.status != shipping::VOIDED && s.tracking_number.is_some());
    Ok(OrderFacts {
        state: order.state,
        tracked,
    })
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
    let sender = notify_ctx::sender(settings, &shop, &state.mailer);
    let first = thread
        .customer_name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or_default();
    let mut ctx = json!({
        "shop": sender.shop_value(),
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
        let (one, all) =
            notify_ctx::shipments_value(tx, order, &lines, None, locale, &Links::of(&state.config))
                .await?;
        ctx["shipment"] = one;
        ctx["shipments"] = all;
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
                "auto": source == "auto",
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
) -> Result<Vec<timeline::OrderEvent>, DbErr> {
    let Some(order) = order else {
        return Ok(Vec::new());
    };
    Ok(vec![
        timeline::record_event(
            tx,
            timeline::NewEvent {
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

/// Longest text kept and classified (a message is a few paragraphs; the rest is quoting).
const MAX_TEXT: usize = 20_000;

/// Records a bounce report on the email it reports (once).
async fn record_bounce(
    state: &AppState,
    tx: TenantTx,
    tenant: TenantId,
    bounce: &inbound::Bounce,
) -> Result<Received, DbErr> {
    let found = match &bounce.original_message_id {
        Some(id) => notifications::by_message_id(&tx, id).await?,
        None => None,
    };
    let mut events = Vec::new();
    if let Some(mut n) = found.clone().filter(|n| n.status != notifications::BOUNCED) {
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
    timeline::publish_events(state, tenant, &events).await;
    Ok(Received::Bounce {
        notification: found.map(|n| n.id),
    })
}

/// Who has the next move on a thread, from all its messages: staff while a proposal waits or
/// the shopper's last message is unanswered.
fn handling_of(messages: &[Message]) -> &'static str {
    let pending = messages
        .iter()
        .any(|m| m.action_status.as_deref() == Some("proposed"));
    let last_in = messages.iter().rposition(|m| m.direction == INBOUND);
    let answer = last_in.and_then(|i| messages[i + 1..].iter().rfind(|m| m.direction == OUTBOUND));
    match (pending, last_in, answer) {
        (true, _, _) | (false, Some(_), None) => NEEDS_STAFF,
        (false, _, Some(a)) if a.source == "auto" => AUTO_REPLIED,
        _ => REPLIED,
    }
}

async fn rehandle(tx: &TenantTx, mut thread: Thread) -> Result<Thread, DbErr> {
    let messages = repo::messages_of(tx, &[thread.id]).await?;
    thread.handling = handling_of(&messages).to_owned();
    thread.message_count = messages.len() as i32;
    if let Some(last) = messages.last() {
        thread.last_message_at = last.created_at;
    }
    repo::save_thread(tx, thread).await
}

/// Whether `address` is one the tenant sends from (its own mail coming back must never be
/// answered).
fn is_ours(state: &AppState, settings: &NotifySettings, address: &str) -> bool {
    let a = address.to_ascii_lowercase();
    [
        settings.sender_address.as_deref(),
        settings.reply_to.as_deref(),
        Some(state.mailer.platform_sender().email.as_ref()),
    ]
    .into_iter()
    .flatten()
    .any(|o| o.eq_ignore_ascii_case(&a))
}

/// A stable id for a message that came without one, so a provider's retry is a duplicate.
fn derived_message_id(mail: &InboundMail) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(mail.from.as_bytes())
        .chain_update([0])
        .chain_update(mail.subject.as_bytes())
        .chain_update([0])
        .chain_update(mail.text.as_bytes())
        .finalize();
    format!("{}@inbound.orderflow.local", hex::encode(&digest[..16]))
}

/// Files an inbound message: a bounce is recorded on the mail it reports; anything else is
/// classified, put in its thread, and answered or queued for staff.
pub async fn receive(
    state: &AppState,
    tenant: TenantId,
    mut mail: InboundMail,
    source: &str,
) -> Result<Received, DbErr> {
    if mail.text.chars().count() > MAX_TEXT {
        mail.text = mail.text.chars().take(MAX_TEXT).collect();
    }
    if mail.html.as_ref().is_some_and(|h| h.len() > 4 * MAX_TEXT) {
        mail.html = None;
    }
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

    let tx = TenantTx::begin(&state.db, tenant).await?;
    if let Some(bounce) = &mail.bounce {
        return record_bounce(state, tx, tenant, bounce).await;
    }
    let message_id = mail
        .message_id
        .clone()
        .unwrap_or_else(|| derived_message_id(&mail));
    if let Some(existing) = repo::message_by_message_id(&tx, &message_id).await? {
        tx.commit().await?;
        return Ok(Received::Duplicate {
            thread: existing.thread_id,
            message: existing.id,
        });
    }
    let settings = notify_settings::load(&tx).await?;
    let Matched { order, thread, how } = match_order(&tx, &mail, &fresh).await?;
    // Order facts go only to the address that placed the order: a message from anyone else
    // (a forward, a spoofed sender) is filed with the order but answered by staff.
    let owner_writes = order.as_ref().is_some_and(|o| {
        o.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&mail.from))
    });
    let ours = is_ours(state, &settings, &mail.from);
    let facts = match &order {
        Some(o) => Some(order_facts(&tx, o).await?),
        None => None,
    };
    let thread_so_far = match &thread {
        Some(t) => repo::messages_of(&tx, &[t.id]).await?,
        None => Vec::new(),
    };
    // One automatic answer a day per thread: a shopper (or a robot) who keeps writing gets a
    // person.
    let answered_lately = thread_so_far
        .iter()
        .any(|m| m.source == "auto" && m.created_at > Utc::now() - chrono::Duration::hours(24));
    let mut decision = automate::decide(&automate::Facts {
        classification: &classification,
        order: order
            .as_ref()
            .zip(facts.as_ref())
            .filter(|_| owner_writes)
            .map(|(o, f)| (o.id, f)),
        automated: mail.automated || ours,
        auto_reply_enabled: settings.auto_reply
            && !answered_lately
            && mail.authenticated != Some(false),
        threshold: settings.auto_reply_confidence,
    });
    if !how.is_empty() {
        decision.reasons.insert(1, format!("order: {how}"));
    }
    if order.is_some() && !owner_writes {
        decision
            .reasons
            .retain(|r| !r.starts_with("no order could be matched"));
        decision
            .reasons
            .push("not from the address that placed the order: for staff".into());
    }
    if ours {
        decision
            .reasons
            .push("sent from one of the shop's own addresses: never answered automatically".into());
    }
    if answered_lately {
        decision
            .reasons
            .push("this thread was answered automatically in the last 24 hours: for staff".into());
    }
    if mail.authenticated == Some(false) {
        // A forged sender must not get an order changed or its facts.
        decision.proposal = None;
        decision.reasons.push("the sender's domain did not authenticate it (SPF/DKIM/DMARC): for staff, with no proposed action".into());
    }
    let now = Utc::now();
    let thread = match thread {
        Some(t) => t,
        None => match repo::open_thread(&tx, &mail.from, order.as_ref().map(|o| o.id)).await? {
            Some(t) => t,
            None => {
                repo::insert_thread(
                    &tx,
                    Thread {
                        tenant_id: tenant.uuid(),
                        id: uuid::Uuid::now_v7(),
                        customer_id: order.as_ref().and_then(|o| o.customer_id),
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
    let suggestion = templates::render_text(reply_source(classification.intent.as_str()), &ctx)
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
                "authenticated": mail.authenticated,
            })),
            suggested_reply: (!decision.auto_reply).then(|| suggestion.clone()),
            proposed_action: proposal.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default()),
            action_status: proposal.as_ref().map(|_| "proposed".to_owned()),
            author_id: None,
            author_label: None,
            created_at: now,
        },
    )
    .await;
    let inbound_row = match inbound_row {
        Ok(row) => row,
        Err(err)
            if matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            // The same message delivered twice at once: the other delivery filed it.
            drop(tx);
            let tx = TenantTx::begin(&state.db, tenant).await?;
            let existing = repo::message_by_message_id(&tx, &message_id).await?;
            tx.commit().await?;
            return match existing {
                Some(m) => Ok(Received::Duplicate {
                    thread: m.thread_id,
                    message: m.id,
                }),
                None => Err(err),
            };
        }
        Err(err) => return Err(err),
    };
    let mut thread = thread;
    thread.intent = Some(classification.intent.as_str().into());
    thread.confidence = Some(classification.confidence);
    thread.status = "open".into();
    if thread.order_id.is_none() {
        thread.order_id = order.as_ref().map(|o| o.id);
        thread.customer_id = order.as_ref().and_then(|o| o.customer_id);
    }
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
    let thread = rehandle(&tx, thread).await?;
    let events = note_on_order(
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
    tx.commit().await?;
    timeline::publish_events(state, tenant, &events).await;
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
    thread.status = if close {
        "closed".into()
    } else {
        "waiting".into()
    };
    let thread = rehandle(&tx, thread).await?;
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
    timeline::publish_events(state, principal.tenant, &events).await;
    state.wake_workers.notify_one();
    Ok((thread, message))
}

/// Moves a message's proposal from `from` to `to` (under its lock); None when it was not in
/// `from` (someone else confirmed or dismissed it meanwhile).
async fn move_proposal(
    tx: &TenantTx,
    message_id: uuid::Uuid,
    from: &str,
    to: &str,
) -> Result<Option<Message>, DbErr> {
    let Some(mut m) = repo::message_for_update(tx, message_id).await? else {
        return Ok(None);
    };
    if m.action_status.as_deref() != Some(from) {
        return Ok(None);
    }
    m.action_status = Some(to.to_owned());
    let m = repo::save_message(tx, m).await?;
    if let Some(thread) = repo::thread_for_update(tx, m.thread_id).await? {
        rehandle(tx, thread).await?;
    }
    Ok(Some(m))
}

fn not_open(m: &Message) -> Fail {
    UserError::on(
        "messageId",
        C::IllegalTransition,
        match m.action_status.as_deref() {
            None => "this message has no proposed action".to_owned(),
            Some("confirming") => "the proposed action is being carried out".to_owned(),
            Some(s) => format!("the proposed action is already {s}"),
        },
    )
    .into()
}

/// Carries out a proposed action (staff's one click) and marks it confirmed. The proposal is
/// claimed first, so two clicks (or a confirm racing a dismiss) carry it out once.
pub async fn confirm_action(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    message_id: uuid::Uuid,
    address: Option<Address>,
) -> Outcome<Message> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(current) = repo::message(&tx, message_id).await? else {
        return Err(UserError::on("messageId", C::NotFound, "no such message").into());
    };
    let Some(proposal) = current
        .proposed_action
        .clone()
        .and_then(|p| serde_json::from_value::<Proposal>(p).ok())
    else {
        return Err(not_open(&current));
    };
    let address = match (proposal.kind, address) {
        (ActionKind::ChangeAddress, None) => {
            return Err(UserError::on(
                "address",
                C::Required,
                "enter the new shipping address the shopper asked for",
            )
            .into());
        }
        (_, address) => address,
    };
    if move_proposal(&tx, message_id, "proposed", "confirming")
        .await?
        .is_none()
    {
        return Err(not_open(&current));
    }
    tx.commit().await?;
    let order = OrderId(proposal.order_id);
    let reason = Some(format!("{} (support message)", proposal.reason));
    let done = match address {
        Some(address) if proposal.kind == ActionKind::ChangeAddress => {
            actions::update_shipping_address(state, principal, label, order, address, reason)
                .await
                .map(|_| ())
        }
        _ => actions::cancel(state, principal, label, order, reason)
            .await
            .map(|_| ()),
    };
    // The order moved on meanwhile (shipped, say): the proposal cannot be done. A mistake in
    // the input (the address) leaves it open to try again.
    let to = match &done {
        Ok(()) => "confirmed",
        Err(Fail::User(e))
            if matches!(e.code, C::IllegalTransition | C::NotFound | C::Conflict) =>
        {
            "failed"
        }
        Err(_) => "proposed",
    };
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let moved = move_proposal(&tx, message_id, "confirming", to).await?;
    tx.commit().await?;
    done?;
    moved.ok_or_else(|| UserError::on("messageId", C::NotFound, "no such message").into())
}

/// Sets a proposed action aside.
pub async fn dismiss_action(
    state: &AppState,
    principal: &Principal,
    message_id: uuid::Uuid,
) -> Outcome<Message> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(current) = repo::message(&tx, message_id).await? else {
        return Err(UserError::on("messageId", C::NotFound, "no such message").into());
    };
    let Some(m) = move_proposal(&tx, message_id, "proposed", "dismissed").await? else {
        return Err(not_open(&current));
    };
    tx.commit().await?;
    Ok(m)
}

/// The classification of any text, for the API's `classifySupportMessage`.
pub fn classify(text: &str) -> Classification {
    intent::classify(text)
}

/// Where a draft came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum DraftSource {
    /// The intent's reply template.
    Template,
    /// The configured drafting model (ORDERFLOW_LLM_URL).
    Model,
}

/// A reply for staff to edit and send: the model's draft when one is configured and answers,
/// else the template's; with why the model's is missing.
pub async fn draft_reply(
    state: &AppState,
    principal: &Principal,
    thread_id: uuid::Uuid,
) -> Outcome<(String, DraftSource, Option<String>)> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(thread) = repo::thread(&tx, thread_id).await? else {
        return Err(UserError::on("threadId", C::NotFound, "no such thread").into());
    };
    let intent = thread
        .intent
        .as_deref()
        .and_then(Intent::parse)
        .unwrap_or(Intent::Other);
    let settings = notify_settings::load(&tx).await?;
    let order = match thread.order_id {
        Some(o) => orders::get(&tx, OrderId(o)).await?,
        None => None,
    };
    let ctx = reply_context(state, &tx, &settings, &thread, order.as_ref(), None).await?;
    let suggestion =
        templates::render_text(reply_source(intent.as_str()), &ctx).unwrap_or_default();
    let messages = repo::messages_of(&tx, &[thread.id]).await?;
    tx.commit().await?;
    if state.config.llm_url.is_none() {
        return Ok((suggestion, DraftSource::Template, None));
    }
    let transcript: String = messages
        .iter()
        .rev()
        .take(10)
        .rev()
        .map(|m| {
            let who = if m.direction == INBOUND {
                "Shopper"
            } else {
                "Shop"
            };
            let text: String = inbound::new_text(&m.text_body).chars().take(2000).collect();
            format!("{who}: {text}\n")
        })
        .collect();
    let facts = serde_json::to_string_pretty(&json!({
        "order": ctx.get("order"),
        "shipment": ctx.get("shipment"),
        "intent": intent.as_str(),
    }))
    .unwrap_or_default();
    let shop = ctx["shop"]["name"].as_str().unwrap_or_default().to_owned();
    match super::draft::draft(
        &state.config,
        &state.operator_calls,
        &shop,
        &transcript,
        &facts,
        &suggestion,
    )
    .await
    {
        Ok(text) => Ok((text, DraftSource::Model, None)),
        Err(why) => {
            tracing::warn!(error = %why, "no model draft; the template's is offered");
            Ok((suggestion, DraftSource::Template, Some(why)))
        }
    }
}
