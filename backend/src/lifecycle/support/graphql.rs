//! GraphQL of the support inbox: threads with their messages, intents and proposals; staff
//! replies; messages posted over the API; one-click proposed actions; classifying any text.

use crate::order::graphql::types::OrderFields;
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::automate::{ActionKind, Proposal};
use super::inbound::InboundMail;
use super::intent::{Classification, Intent};
use super::repo::{self, Message as MessageRecord, Thread as ThreadRecord, ThreadFilter};
use super::service::{self, Received};
use crate::domain::address::Address;
use crate::domain::{Email, OrderId, TenantId};
use crate::error::{Fail, UserError, UserErrorCode as C};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::lifecycle::support::loaders::MessagesOf;
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum SupportThreadStatus {
    Open,
    /// Answered; waiting on the shopper.
    Waiting,
    Closed,
}

impl SupportThreadStatus {
    fn parse(s: &str) -> Self {
        match s {
            "waiting" => Self::Waiting,
            "closed" => Self::Closed,
            _ => Self::Open,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Waiting => "waiting",
            Self::Closed => "closed",
        }
    }
}

/// Who has the next move.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum SupportHandling {
    NeedsStaff,
    AutoReplied,
    Replied,
}

impl SupportHandling {
    fn parse(s: &str) -> Self {
        match s {
            repo::AUTO_REPLIED => Self::AutoReplied,
            repo::REPLIED => Self::Replied,
            _ => Self::NeedsStaff,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::NeedsStaff => repo::NEEDS_STAFF,
            Self::AutoReplied => repo::AUTO_REPLIED,
            Self::Replied => repo::REPLIED,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum MessageDirection {
    Inbound,
    Outbound,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProposedActionStatus {
    Proposed,
    /// A confirmation is being carried out.
    Confirming,
    Confirmed,
    Dismissed,
    Failed,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct IntentScore {
    pub intent: Intent,
    /// Percent.
    pub score: i32,
}

/// An order change the classifier proposes, for staff to confirm with one click.
#[derive(Clone, Debug, SimpleObject)]
pub struct ProposedAction {
    pub kind: ActionKind,
    pub order_id: ID,
    pub reason: String,
    pub status: ProposedActionStatus,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct SupportMessage {
    pub id: ID,
    pub thread_id: ID,
    pub direction: MessageDirection,
    /// email, api, staff or auto.
    pub source: String,
    pub from_address: String,
    pub from_name: Option<String>,
    pub to_address: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// The Message-ID header (without brackets).
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub intent: Option<Intent>,
    /// Percent.
    pub confidence: Option<i32>,
    /// Every intent's score, highest first.
    pub scores: Vec<IntentScore>,
    /// The words that weighed most.
    pub signals: Vec<String>,
    /// Why it was answered automatically or left to staff.
    pub reasons: Vec<String>,
    /// A reply drafted from the intent's template, for staff to edit and send.
    pub suggested_reply: Option<String>,
    pub proposed_action: Option<ProposedAction>,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl From<MessageRecord> for SupportMessage {
    fn from(m: MessageRecord) -> Self {
        let c = m.classification.clone().unwrap_or_default();
        let scores = c
            .get("scores")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        let intent = Intent::parse(x.get("intent")?.as_str()?)?;
                        Some(IntentScore {
                            intent,
                            score: x.get("score")?.as_i64()? as i32,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let proposal: Option<Proposal> = m
            .proposed_action
            .clone()
            .and_then(|p| serde_json::from_value(p).ok());
        Self {
            id: global_id("SupportMessage", m.id),
            thread_id: global_id("SupportThread", m.thread_id),
            direction: if m.direction == repo::INBOUND {
                MessageDirection::Inbound
            } else {
                MessageDirection::Outbound
            },
            source: m.source,
            from_address: m.from_address,
            from_name: m.from_name,
            to_address: m.to_address,
            subject: m.subject,
            text: m.text_body,
            html: m.html_body,
            message_id: m.message_id,
            in_reply_to: m.in_reply_to,
            intent: m.intent.as_deref().and_then(Intent::parse),
            confidence: m.confidence,
            scores,
            signals: strings(&c, "signals"),
            reasons: strings(&c, "reasons"),
            suggested_reply: m.suggested_reply,
            proposed_action: proposal.map(|p| ProposedAction {
                kind: p.kind,
                order_id: global_id("Order", p.order_id),
                reason: p.reason,
                status: match m.action_status.as_deref() {
                    Some("confirmed") => ProposedActionStatus::Confirmed,
                    Some("dismissed") => ProposedActionStatus::Dismissed,
                    Some("failed") => ProposedActionStatus::Failed,
                    Some("confirming") => ProposedActionStatus::Confirming,
                    _ => ProposedActionStatus::Proposed,
                },
            }),
            author: m.author_label,
            created_at: m.created_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct SupportThread {
    pub id: ID,
    pub order_id: Option<ID>,
    pub customer_id: Option<ID>,
    pub email: String,
    pub customer_name: Option<String>,
    pub subject: String,
    pub status: SupportThreadStatus,
    pub handling: SupportHandling,
    /// The intent of the latest message from the shopper.
    pub intent: Option<Intent>,
    pub confidence: Option<i32>,
    pub message_count: i32,
    pub last_message_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: (TenantId, uuid::Uuid),
}

impl From<ThreadRecord> for SupportThread {
    fn from(t: ThreadRecord) -> Self {
        Self {
            id: global_id("SupportThread", t.id),
            order_id: t.order_id.map(|o| global_id("Order", o)),
            customer_id: t.customer_id.map(|c| global_id("Customer", c)),
            email: t.email,
            customer_name: t.customer_name,
            subject: t.subject,
            status: SupportThreadStatus::parse(&t.status),
            handling: SupportHandling::parse(&t.handling),
            intent: t.intent.as_deref().and_then(Intent::parse),
            confidence: t.confidence,
            message_count: t.message_count,
            last_message_at: t.last_message_at,
            created_at: t.created_at,
            key: (TenantId(t.tenant_id), t.id),
        }
    }
}

#[ComplexObject]
impl SupportThread {
    /// The conversation, oldest first.
    async fn messages(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportMessage>> {
        let (tenant, id) = self.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, MessagesOf(id)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(SupportMessage::from)
            .collect())
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct SupportClassification {
    pub intent: Intent,
    pub confidence: i32,
    pub scores: Vec<IntentScore>,
    pub signals: Vec<String>,
}

impl From<Classification> for SupportClassification {
    fn from(c: Classification) -> Self {
        Self {
            intent: c.intent,
            confidence: c.confidence,
            scores: c
                .scores
                .into_iter()
                .map(|(intent, score)| IntentScore { intent, score })
                .collect(),
            signals: c.signals,
        }
    }
}

#[derive(InputObject, Default)]
pub struct SupportThreadFilter {
    pub status: Option<SupportThreadStatus>,
    pub handling: Option<SupportHandling>,
    pub intent: Option<Intent>,
    pub order_id: Option<ID>,
}

#[derive(InputObject)]
pub struct PostSupportMessageInput {
    /// The shopper's address.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub text: String,
    /// Your own id for the message (makes a retry idempotent).
    pub message_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct SupportThreadPayload {
    pub thread: Option<SupportThread>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ReplyToSupportThreadInput {
    pub thread_id: ID,
    pub text: String,
    /// Close the thread with this reply.
    pub close: Option<bool>,
}

#[derive(InputObject)]
pub struct ConfirmSupportActionInput {
    /// The message carrying the proposal.
    pub message_id: ID,
    /// For an address change: the new address.
    pub address: Option<Address>,
}

#[derive(InputObject)]
pub struct DismissSupportActionInput {
    pub message_id: ID,
}

#[derive(SimpleObject)]
pub struct SupportMessagePayload {
    pub message: Option<SupportMessage>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct DraftSupportReplyInput {
    pub thread_id: ID,
}

#[derive(SimpleObject)]
pub struct SupportDraftPayload {
    /// A reply to edit and send with `replyToSupportThread`; never sent by itself.
    pub draft: Option<String>,
    pub source: Option<service::DraftSource>,
    /// Why the drafting model's draft is missing, when it is configured but failed.
    pub note: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct CloseSupportThreadInput {
    pub thread_id: ID,
}

#[derive(Default)]
pub struct SupportQuery;

#[Object]
impl SupportQuery {
    /// The inbox, most recently active first.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn support_threads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<SupportThreadFilter>,
    ) -> async_graphql::Result<Connection<String, SupportThread>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let f = filter.unwrap_or_default();
        let order = f
            .order_id
            .as_ref()
            .map(|o| decode_id(o, "Order", "orderId"))
            .transpose()?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let after = match cursor {
            Some(id) => repo::thread(&tx, id)
                .await?
                .map(|t| (t.last_message_at, t.id)),
            None => None,
        };
        let rows = repo::threads(
            &tx,
            &ThreadFilter {
                status: f.status.map(|s| s.as_str().to_owned()),
                handling: f.handling.map(|h| h.as_str().to_owned()),
                intent: f.intent.map(|i| i.as_str().to_owned()),
                order: order.map(OrderId),
            },
            after,
            limit + 1,
        )
        .await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|t| (t.id, SupportThread::from(t)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn support_thread(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<SupportThread>> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "SupportThread", "id")?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::thread(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(SupportThread::from))
    }

    /// What the classifier makes of a text, with every intent's score.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn classify_support_message(&self, text: String) -> SupportClassification {
        let text: String = text.chars().take(20_000).collect();
        service::classify(&text).into()
    }
}

#[derive(Default)]
pub struct SupportMutation;

fn thread_payload(
    outcome: Result<ThreadRecord, Fail>,
) -> async_graphql::Result<SupportThreadPayload> {
    let (thread, user_errors) = payload(outcome)?;
    Ok(SupportThreadPayload {
        thread: thread.map(SupportThread::from),
        user_errors,
    })
}

#[Object]
impl SupportMutation {
    /// A shopper's message received by another channel (chat, a contact form): filed and
    /// handled like an email.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn post_support_message(
        &self,
        ctx: &Context<'_>,
        input: PostSupportMessageInput,
    ) -> async_graphql::Result<SupportThreadPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = async {
            p.require(Permission::OrdersManage)?;
            let from =
                Email::parse(&input.from).map_err(|m| UserError::on("from", C::InvalidEmail, m))?;
            let text = input.text.trim().to_owned();
            if text.is_empty() {
                return Err(UserError::on("text", C::Required, "the message has no text").into());
            }
            if text.chars().count() > 20_000 {
                return Err(
                    UserError::on("text", C::Invalid, "must be at most 20000 characters").into(),
                );
            }
            let mail = InboundMail {
                from: from.as_str().to_owned(),
                from_name: input
                    .from_name
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                to: String::new(),
                subject: input.subject.trim().to_owned(),
                text,
                html: None,
                message_id: input.message_id.map(|m| {
                    format!(
                        "{}@api.{}",
                        m.trim().trim_matches(['<', '>']),
                        p.tenant.uuid()
                    )
                }),
                in_reply_to: None,
                references: Vec::new(),
                automated: false,
                authenticated: None,
                authentication_results: Vec::new(),
                bounce: None,
            };
            let thread = match service::receive(st, p.tenant, mail, "api").await? {
                Received::Filed { thread, .. } | Received::Duplicate { thread, .. } => thread,
                Received::Bounce { .. } => {
                    return Err(UserError::general(C::Invalid, "not a shopper's message").into());
                }
            };
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let row = repo::thread(&tx, thread).await?;
            tx.commit().await?;
            row.ok_or_else(|| UserError::general(C::NotFound, "the thread is gone").into())
        }
        .await;
        thread_payload(outcome)
    }

    /// Sends a staff reply by email, threaded under the shopper's last message.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn reply_to_support_thread(
        &self,
        ctx: &Context<'_>,
        input: ReplyToSupportThreadInput,
    ) -> async_graphql::Result<SupportThreadPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.thread_id, "SupportThread", "threadId")?;
        let label = actor_label(ctx, p).await?;
        let outcome = service::reply(
            state(ctx),
            p,
            label,
            id,
            input.text,
            input.close.unwrap_or(false),
        )
        .await
        .map(|(t, _)| t);
        thread_payload(outcome)
    }

    /// Carries out the action proposed on a message (cancel the order, change its address).
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn confirm_support_action(
        &self,
        ctx: &Context<'_>,
        input: ConfirmSupportActionInput,
    ) -> async_graphql::Result<SupportMessagePayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.message_id, "SupportMessage", "messageId")?;
        let label = actor_label(ctx, p).await?;
        let outcome = service::confirm_action(state(ctx), p, label, id, input.address).await;
        let (m, user_errors) = payload(outcome)?;
        Ok(SupportMessagePayload {
            message: m.map(SupportMessage::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn dismiss_support_action(
        &self,
        ctx: &Context<'_>,
        input: DismissSupportActionInput,
    ) -> async_graphql::Result<SupportMessagePayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.message_id, "SupportMessage", "messageId")?;
        let outcome = service::dismiss_action(state(ctx), p, id).await;
        let (m, user_errors) = payload(outcome)?;
        Ok(SupportMessagePayload {
            message: m.map(SupportMessage::from),
            user_errors,
        })
    }

    /// A reply for staff to edit: the drafting model's (when ORDERFLOW_LLM_URL is set), else
    /// the intent's template.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn draft_support_reply(
        &self,
        ctx: &Context<'_>,
        input: DraftSupportReplyInput,
    ) -> async_graphql::Result<SupportDraftPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.thread_id, "SupportThread", "threadId")?;
        let (value, user_errors) = payload(service::draft_reply(state(ctx), p, id).await)?;
        let (draft, source, note) = match value {
            Some((d, s, n)) => (Some(d), Some(s), n),
            None => (None, None, None),
        };
        Ok(SupportDraftPayload {
            draft,
            source,
            note,
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn close_support_thread(
        &self,
        ctx: &Context<'_>,
        input: CloseSupportThreadInput,
    ) -> async_graphql::Result<SupportThreadPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let id = decode_id(&input.thread_id, "SupportThread", "threadId")?;
        let outcome = async {
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(mut t) = repo::thread_for_update(&tx, id).await? else {
                return Err(UserError::on("threadId", C::NotFound, "no such thread").into());
            };
            t.status = "closed".into();
            let t = repo::save_thread(&tx, t).await?;
            tx.commit().await?;
            Ok::<_, Fail>(t)
        }
        .await;
        thread_payload(outcome)
    }
}

/// Support's field on an order: the shopper's conversations. A part of `Order` (listed in
/// `schema::parts`).
pub struct SupportThreadsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for SupportThreadsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl SupportThreadsPart {
    /// The shopper's conversations about this order, most recent first.
    async fn support_threads(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SupportThread>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, crate::lifecycle::support::loaders::ThreadsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
