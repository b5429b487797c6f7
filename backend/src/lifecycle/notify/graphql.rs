//! GraphQL of customer notifications: the delivery log, the tenant's sender and automation
//! settings, its templates (edit, preview, reset) and the inbound-mail token.

use crate::graphql::loader::Loaders;
use crate::order::graphql::types::OrderFields;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::sync::Arc;

use super::context::{self as ctx_builder, Links};
use super::jobs::SendNotification;
use super::kind::Kind;
use super::repo::{self, Notification as Record};
use super::service;
use super::settings::{self, NotifySettings};
use super::templates::builtin;
use crate::domain::OrderId;
use crate::error::{Fail, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::infra::templates::{self, Source};
use crate::jobs::Job;
use crate::order::repo as orders;
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum NotificationStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Bounced,
    Suppressed,
}

impl NotificationStatus {
    fn parse(s: &str) -> Self {
        match s {
            repo::SENDING => Self::Sending,
            repo::SENT => Self::Sent,
            repo::FAILED => Self::Failed,
            repo::BOUNCED => Self::Bounced,
            repo::SUPPRESSED => Self::Suppressed,
            _ => Self::Queued,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => repo::QUEUED,
            Self::Sending => repo::SENDING,
            Self::Sent => repo::SENT,
            Self::Failed => repo::FAILED,
            Self::Bounced => repo::BOUNCED,
            Self::Suppressed => repo::SUPPRESSED,
        }
    }
}

/// One email, from the moment its event happened.
#[derive(Clone, Debug, SimpleObject)]
pub struct Notification {
    pub id: ID,
    pub kind: Kind,
    pub status: NotificationStatus,
    pub recipient: String,
    pub subject: Option<String>,
    /// The Message-ID header (without brackets).
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub order_id: Option<ID>,
    pub thread_id: Option<ID>,
    /// The shopper's locale it was written in.
    pub locale: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub bounce_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub bounced_at: Option<DateTime<Utc>>,
}

impl From<Record> for Notification {
    fn from(n: Record) -> Self {
        Self {
            id: global_id("Notification", n.id),
            kind: Kind::parse(&n.kind).unwrap_or(Kind::OrderConfirmation),
            status: NotificationStatus::parse(&n.status),
            recipient: n.recipient,
            subject: n.subject,
            message_id: n.message_id,
            in_reply_to: n.in_reply_to,
            order_id: n.order_id.map(|o| global_id("Order", o)),
            thread_id: n.thread_id.map(|t| global_id("SupportThread", t)),
            locale: n.locale,
            attempts: n.attempts,
            last_error: n.last_error,
            bounce_reason: n.bounce_reason,
            created_at: n.created_at,
            sent_at: n.sent_at,
            bounced_at: n.bounced_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct NotificationSettings {
    /// The From name; the tenant's name when unset.
    pub sender_name: Option<String>,
    /// The From address; the platform's sender when unset.
    pub sender_address: Option<String>,
    /// Whether someone at the sender address confirmed it (by the link mailed there when it
    /// was set). Until then mail comes from the platform's address, replying to this one.
    pub sender_address_confirmed: bool,
    pub reply_to: Option<String>,
    /// For shoppers whose locale the channel did not give, e.g. `en_US`.
    pub default_locale: String,
    /// Days after delivery the review request goes out; 0: never.
    pub review_request_days: i32,
    /// Answer high-confidence support messages from templates.
    pub auto_reply: bool,
    /// Percent: below it, an inbound message waits for staff.
    pub auto_reply_confidence: i32,
    /// Emails this tenant does not send.
    pub disabled_kinds: Vec<Kind>,
    /// Where the mail provider posts inbound mail (with the token), once a token exists.
    pub inbound_email_url: Option<String>,
}

fn settings_out(s: &NotifySettings, inbound_url: Option<String>) -> NotificationSettings {
    NotificationSettings {
        sender_name: s.sender_name.clone(),
        sender_address: s.sender_address.clone(),
        sender_address_confirmed: super::sender::confirmed(s),
        reply_to: s.reply_to.clone(),
        default_locale: s.default_locale.clone(),
        review_request_days: s.review_request_days,
        auto_reply: s.auto_reply,
        auto_reply_confidence: s.auto_reply_confidence,
        disabled_kinds: s.disabled.clone(),
        inbound_email_url: inbound_url,
    }
}

fn inbound_url(
    st: &crate::state::AppState,
    tenant: crate::domain::TenantId,
    s: &NotifySettings,
) -> Option<String> {
    let sealed = s.inbound_secret.as_ref()?;
    let token = st
        .sealer
        .open(sealed, &super::settings::inbound_seal_context(tenant))
        .ok()?;
    Some(format!(
        "{}/webhooks/email/{}?token={token}",
        st.config.public_url,
        tenant.uuid()
    ))
}

/// A template as the tenant sends it.
#[derive(Clone, Debug, SimpleObject)]
pub struct NotificationTemplate {
    pub kind: Kind,
    /// In words.
    pub label: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Edited by the tenant (false: the built-in one).
    pub customized: bool,
    /// Increases with each save.
    pub version: i32,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct NotificationPreview {
    pub subject: String,
    pub text: String,
    /// The whole HTML document as sent (layout included).
    pub html: String,
    /// The locale it was rendered in.
    pub locale: String,
}

#[derive(InputObject)]
pub struct UpdateNotificationSettingsInput {
    pub sender_name: Option<String>,
    pub sender_address: Option<String>,
    pub reply_to: Option<String>,
    pub default_locale: Option<String>,
    pub review_request_days: Option<i32>,
    pub auto_reply: Option<bool>,
    pub auto_reply_confidence: Option<i32>,
    pub disabled_kinds: Option<Vec<Kind>>,
}

#[derive(SimpleObject)]
pub struct NotificationSettingsPayload {
    pub settings: Option<NotificationSettings>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct InboundEmailTokenPayload {
    /// The URL to give the mail provider; shown here and in the settings.
    pub inbound_email_url: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct UpdateNotificationTemplateInput {
    pub kind: Kind,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(InputObject)]
pub struct ResetNotificationTemplateInput {
    pub kind: Kind,
}

#[derive(SimpleObject)]
pub struct NotificationTemplatePayload {
    pub template: Option<NotificationTemplate>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct PreviewNotificationInput {
    pub kind: Kind,
    /// Render with this order's facts; a sample order when absent.
    pub order_id: Option<ID>,
    /// Unsaved edits to preview; the saved template where absent.
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
}

#[derive(SimpleObject)]
pub struct NotificationPreviewPayload {
    pub preview: Option<NotificationPreview>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ResendNotificationInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct NotificationPayload {
    pub notification: Option<Notification>,
    pub user_errors: Vec<UserError>,
}

fn template_out(kind: Kind, row: Option<repo::TemplateRow>) -> NotificationTemplate {
    match row {
        Some(r) => NotificationTemplate {
            kind,
            label: kind.label().into(),
            subject: r.subject,
            text: r.text_body,
            html: r.html_body,
            customized: true,
            version: r.version,
            updated_at: Some(r.updated_at),
        },
        None => {
            let s = builtin(kind);
            NotificationTemplate {
                kind,
                label: kind.label().into(),
                subject: s.subject,
                text: s.text,
                html: s.html,
                customized: false,
                version: 0,
                updated_at: None,
            }
        }
    }
}

fn template_errors(errors: Vec<templates::TemplateError>) -> Fail {
    let first = &errors[0];
    Fail::User(UserError::on(first.part, C::Invalid, first.message.clone()))
}

/// A made-up order for previews when none is given.
fn sample_context(kind: Kind, shop: &str) -> serde_json::Value {
    serde_json::json!({
        "locale": "en_US",
        "shop": { "name": shop, "email": "shop@example.com", "reply_to": "help@example.com" },
        "customer": { "name": "Jane Doe", "first_name": "Jane", "email": "jane@example.com" },
        "order": {
            "name": "#1001", "placed_at": "11/27/2026", "subtotal": "$48.00", "discounts": "-$5.00",
            "has_discounts": true, "shipping": "$4.90", "tax": "$3.44", "total": "$51.34", "currency": "USD",
            "status": "Shipped",
            "lines": [
                { "title": "Ceramic mug — Blue", "sku": "MUG-BLUE", "quantity": 2, "unit_price": "$14.00", "total": "$28.00" },
                { "title": "Pour-over kettle", "sku": "KETTLE-1", "quantity": 1, "unit_price": "$20.00", "total": "$20.00" }
            ],
            "shipping_address": ["Jane Doe", "1 Main St", "Springfield, IL 62701", "US"]
        },
        "shipment": { "carrier": "UPS", "service": "Ground", "tracking_number": "1Z999AA10123456784",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784", "status": "In transit",
            "eta": "12/01/2026", "last_event": "Arrived at facility — Memphis, TN",
            "items": [{ "title": "Ceramic mug — Blue", "quantity": 2 }, { "title": "Pour-over kettle", "quantity": 1 }] },
        "exception": { "title": "A delivery attempt failed", "detail": "No one available to sign", "next_step": "The carrier will try again tomorrow." },
        "delay": { "promised": "11/30/2026", "eta": "12/02/2026", "reason": "Weather delay at the regional hub" },
        "backorder": { "items": [{ "title": "Pour-over kettle", "sku": "KETTLE-1", "quantity": 1, "eta": "12/10/2026" }] },
        "payment": { "problem": "the card was declined", "action": "Please reply to this email so we can arrange payment." },
        "return": { "number": "R-1001-1", "items": [{ "title": "Ceramic mug — Blue", "quantity": 1 }], "label_url": "https://example.com/return-label.pdf", "page_url": "https://example.com/returns/sample", "instructions": "Pack the item in its original box and drop it at any UPS location.", "deadline": "12/27/2026", "resolution": "refund", "reason": "The return window closed on 11/20/2026." },
        "refund": { "amount": "$14.00", "method": "original payment method", "reason": "Returned item", "expected": "5–10 business days" },
        "review": { "url": "https://example.com/review/sample", "unsubscribe_url": "https://example.com/unsubscribe/sample" },
        "invitation": { "url": "https://example.com/accept-invite?token=sample", "tenant": shop, "inviter": "owner@example.com", "role": "STAFF", "expires_at": "12/04/2026" },
        "password_reset": { "url": "https://example.com/reset-password?token=sample", "expires_at": "11/27/2026 13:00 UTC" },
        "reply": { "subject": "Re: Where is my order?", "text": "Hello Jane,\n\nYour parcel is on its way.", "paragraphs": [["Hello Jane,"], ["Your parcel is on its way."]] },
        "kind": kind.as_str(),
    })
}

#[derive(Default)]
pub struct NotifyQuery;

#[Object]
impl NotifyQuery {
    /// Emails sent or waiting, newest first (the delivery log).
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<NotificationStatus>,
    ) -> async_graphql::Result<Connection<String, Notification>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let before = match cursor {
            Some(id) => {
                let found = repo::get(&tx, id).await?;
                found.map(|n| (n.created_at, n.id))
            }
            None => None,
        };
        let rows = repo::recent(&tx, status.map(|s| s.as_str()), before, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|n| (n.id, Notification::from(n)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<NotificationSettings> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let s = settings::load(&tx).await?;
        tx.commit().await?;
        Ok(settings_out(&s, inbound_url(st, p.tenant, &s)))
    }

    /// Every email's template as the tenant sends it.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn notification_templates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<NotificationTemplate>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let mut rows = repo::templates(&tx).await?;
        tx.commit().await?;
        Ok(Kind::ALL
            .into_iter()
            .filter(|k| k.has_template())
            .map(|k| {
                let row = rows
                    .iter()
                    .position(|r| r.kind == k.as_str())
                    .map(|i| rows.swap_remove(i));
                template_out(k, row)
            })
            .collect())
    }
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[derive(Default)]
pub struct NotifyMutation;

#[Object]
impl NotifyMutation {
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationSettingsInput,
    ) -> async_graphql::Result<NotificationSettingsPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = async {
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let mut s = settings::load(&tx).await?;
            let sender_before = s.sender_address.clone();
            if let Some(name) = input.sender_name {
                s.sender_name = clean(Some(name));
            }
            for (field, value, slot) in [
                ("senderAddress", input.sender_address, &mut s.sender_address),
                ("replyTo", input.reply_to, &mut s.reply_to),
            ] {
                if let Some(v) = value {
                    let v = clean(Some(v));
                    if let Some(addr) = &v
                        && crate::domain::Email::parse(addr).is_err()
                    {
                        return Err(UserError::on(
                            field,
                            C::InvalidEmail,
                            "must be an email address, e.g. help@shop.com",
                        )
                        .into());
                    }
                    *slot = v;
                }
            }
            if let Some(l) = input.default_locale {
                let name = l.trim().replace('-', "_");
                if pure_rust_locales::Locale::try_from(name.as_str()).is_err() {
                    return Err(UserError::on(
                        "defaultLocale",
                        C::Invalid,
                        "must be a locale such as en_US, de_DE or fr_CA",
                    )
                    .into());
                }
                s.default_locale = name;
            }
            if let Some(d) = input.review_request_days {
                if !(0..=90).contains(&d) {
                    return Err(UserError::on(
                        "reviewRequestDays",
                        C::Invalid,
                        "must be between 0 (off) and 90 days",
                    )
                    .into());
                }
                s.review_request_days = d;
            }
            if let Some(a) = input.auto_reply {
                s.auto_reply = a;
            }
            if let Some(c) = input.auto_reply_confidence {
                if !(50..=100).contains(&c) {
                    return Err(UserError::on(
                        "autoReplyConfidence",
                        C::Invalid,
                        "must be between 50 and 100 (percent)",
                    )
                    .into());
                }
                s.auto_reply_confidence = c;
            }
            if let Some(kinds) = input.disabled_kinds {
                if kinds.iter().any(|k| {
                    matches!(
                        k,
                        Kind::Invitation | Kind::PasswordReset | Kind::SupportReply
                    )
                }) {
                    return Err(UserError::on(
                        "disabledKinds",
                        C::Invalid,
                        "invitations, password resets and support replies cannot be turned off",
                    )
                    .into());
                }
                s.disabled = kinds;
            }
            settings::save(&tx, &s).await?;
            let shop = crate::tenancy::repo::tenants::get(&tx, p.tenant)
                .await?
                .map(|t| t.name)
                .unwrap_or_default();
            tx.commit().await?;
            // A new sender address at a domain the platform sends for is used once someone
            // there confirms it.
            let mut warning = None;
            if let Some(address) = s.sender_address.clone()
                && s.sender_address != sender_before
                && st.mailer.may_send_as(&address)
                && !super::sender::confirmed(&s)
                && let Err(e) =
                    super::sender::request_confirmation(st, p.tenant, &shop, &address).await
            {
                warning = Some(UserError::on(
                    "senderAddress",
                    C::EmailNotSent,
                    format!("saved, but the confirmation email could not be sent ({e}); mail comes from the platform's address until the address is confirmed"),
                ));
            }
            Ok::<_, Fail>((settings_out(&s, inbound_url(st, p.tenant, &s)), warning))
        }
        .await;
        let (saved, mut user_errors) = payload(outcome)?;
        let settings = saved.map(|(settings, warning)| {
            user_errors.extend(warning);
            settings
        });
        Ok(NotificationSettingsPayload {
            settings,
            user_errors,
        })
    }

    /// A new token for the inbound-mail webhook (the old one stops working).
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn rotate_inbound_email_token(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<InboundEmailTokenPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        // 32 random bytes, like every secret Orderflow makes.
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let mut s = settings::load(&tx).await?;
        s.inbound_secret = Some(
            st.sealer
                .seal(&token, &super::settings::inbound_seal_context(p.tenant)),
        );
        settings::save(&tx, &s).await?;
        tx.commit().await?;
        Ok(InboundEmailTokenPayload {
            inbound_email_url: inbound_url(st, p.tenant, &s),
            user_errors: Vec::new(),
        })
    }

    /// Saves the tenant's version of a template, checked first: errors name the part and line.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_notification_template(
        &self,
        ctx: &Context<'_>,
        input: UpdateNotificationTemplateInput,
    ) -> async_graphql::Result<NotificationTemplatePayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = async {
            if !input.kind.has_template() {
                return Err(UserError::on(
                    "kind",
                    C::Invalid,
                    "this email has no template to edit: support replies are written per message, and invitations and password resets are the platform's own text",
                )
                .into());
            }
            let source = Source {
                subject: input.subject,
                text: input.text,
                html: input.html,
            };
            let errors = templates::validate(&source);
            if !errors.is_empty() {
                return Err(template_errors(errors));
            }
            // It must also render against a full order, so a typo in a name shows now.
            let sample = sample_context(input.kind, "Shop");
            if let Err(e) = templates::render(&source, &sample) {
                return Err(UserError::on(e.part, C::Invalid, e.message).into());
            }
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let version = repo::template(&tx, input.kind.as_str())
                .await?
                .map_or(1, |r| r.version + 1);
            let row = repo::TemplateRow {
                tenant_id: p.tenant.uuid(),
                kind: input.kind.as_str().into(),
                subject: source.subject,
                text_body: source.text,
                html_body: source.html,
                version,
                updated_by: p.actor.id(),
                updated_at: Utc::now(),
            };
            repo::save_template(&tx, row.clone()).await?;
            tx.commit().await?;
            Ok::<_, Fail>(template_out(input.kind, Some(row)))
        }
        .await;
        let (template, user_errors) = payload(outcome)?;
        Ok(NotificationTemplatePayload {
            template,
            user_errors,
        })
    }

    /// Goes back to the built-in template.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn reset_notification_template(
        &self,
        ctx: &Context<'_>,
        input: ResetNotificationTemplateInput,
    ) -> async_graphql::Result<NotificationTemplatePayload> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        repo::delete_template(&tx, input.kind.as_str()).await?;
        tx.commit().await?;
        Ok(NotificationTemplatePayload {
            template: Some(template_out(input.kind, None)),
            user_errors: Vec::new(),
        })
    }

    /// Renders a template (saved, or edits not yet saved) for an order or a sample order.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn preview_notification(
        &self,
        ctx: &Context<'_>,
        input: PreviewNotificationInput,
    ) -> async_graphql::Result<NotificationPreviewPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let order = input
            .order_id
            .as_ref()
            .map(|o| decode_id(o, "Order", "orderId"))
            .transpose()?;
        let outcome = async {
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let saved = service::source_of(&tx, input.kind).await?;
            let source = Source {
                subject: input.subject.unwrap_or(saved.subject),
                text: input.text.unwrap_or(saved.text),
                html: input.html.unwrap_or(saved.html),
            };
            let errors = templates::validate(&source);
            if !errors.is_empty() {
                return Err(template_errors(errors));
            }
            let settings = settings::load(&tx).await?;
            let shop = repo::tenant_name(&tx).await?;
            let sender = ctx_builder::sender(&settings, &shop, &st.mailer);
            let (context, locale) = match order {
                Some(id) => {
                    let Some(order) = orders::get(&tx, OrderId(id)).await? else {
                        return Err(UserError::on("orderId", C::NotFound, "no such order").into());
                    };
                    let probe = repo::probe(
                        p.tenant.uuid(),
                        input.kind.as_str(),
                        Some(order.id),
                        order.email.as_deref().unwrap_or_default(),
                    );
                    let links = Links::of(&st.config);
                    let (c, l) =
                        ctx_builder::for_order(&tx, &probe, &order, &sender, &settings, &links)
                            .await?;
                    (c, l.name())
                }
                None => (sample_context(input.kind, &shop), "en_US".to_owned()),
            };
            tx.commit().await?;
            let out = templates::render(&source, &context)
                .map_err(|e| Fail::User(UserError::on(e.part, C::Invalid, e.message)))?;
            Ok::<_, Fail>(NotificationPreview {
                subject: out.subject,
                text: out.text,
                html: out.html,
                locale,
            })
        }
        .await;
        let (preview, user_errors) = payload(outcome)?;
        Ok(NotificationPreviewPayload {
            preview,
            user_errors,
        })
    }

    /// Sends a failed or bounced email again (after the address or template was fixed).
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn resend_notification(
        &self,
        ctx: &Context<'_>,
        input: ResendNotificationInput,
    ) -> async_graphql::Result<NotificationPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let id = decode_id(&input.id, "Notification", "id")?;
        let outcome = async {
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(n) = repo::get(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such notification").into());
            };
            let Some(mut n) = repo::by_key_for_update(&tx, &n.dedupe_key).await? else {
                return Err(UserError::on("id", C::NotFound, "no such notification").into());
            };
            // A `sending` row whose attempt died with its worker (the job ran out) counts too.
            let died = n.status == repo::SENDING
                && n.attempted_at
                    .is_none_or(|at| at < Utc::now() - crate::jobs::queue::LEASE * 2);
            if !died && ![repo::FAILED, repo::BOUNCED].contains(&n.status.as_str()) {
                return Err(UserError::on(
                    "id",
                    C::IllegalTransition,
                    format!(
                        "only a failed or bounced email is sent again; this one is {}",
                        n.status
                    ),
                )
                .into());
            }
            // To the order's address as it is now (staff may have corrected it).
            if let Some(order) = n.order_id
                && let Some(email) = orders::get(&tx, OrderId(order))
                    .await?
                    .and_then(|o| o.email)
                    .filter(|e| e.contains('@'))
            {
                n.recipient = email;
            }
            n.status = repo::QUEUED.into();
            n.last_error = None;
            let n = repo::save(&tx, n).await?;
            SendNotification {
                key: n.dedupe_key.clone(),
            }
            .enqueue(&tx)
            .await?;
            tx.commit().await?;
            st.wake_workers.notify_one();
            Ok::<_, Fail>(n)
        }
        .await;
        let (n, user_errors) = payload(outcome)?;
        Ok(NotificationPayload {
            notification: n.map(Notification::from),
            user_errors,
        })
    }
}

/// Notification's field on an order: the emails about it. A part of `Order` (listed in
/// `schema::parts`).
pub struct NotificationsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for NotificationsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl NotificationsPart {
    /// The emails sent (or waiting) about this order, oldest first.
    async fn notifications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Notification>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((
                tenant,
                crate::lifecycle::notify::loaders::NotificationsOf(order),
            ))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
