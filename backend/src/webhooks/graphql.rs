//! GraphQL of outbound webhooks: subscriptions (the secret shown once), the delivery log with
//! every attempt, and redelivery.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::webhook_subscriptions;
use sea_orm::ActiveValue::Set;

use super::pattern;
use super::repo::{self, Attempt as AttemptRow, DELIVERED, Delivery as DeliveryRow, FAILED};
use super::service;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::tenancy::{Permission, TenantTx};

/// An integrator's subscription.
#[derive(Clone, Debug, SimpleObject)]
pub struct WebhookSubscription {
    pub id: ID,
    pub url: String,
    /// Patterns: `*`, a family such as `order.*`, or a kind such as `order.shipped`.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<repo::Subscription> for WebhookSubscription {
    fn from(s: repo::Subscription) -> Self {
        Self {
            id: global_id("WebhookSubscription", s.id),
            events: serde_json::from_value(s.events).unwrap_or_default(),
            url: s.url,
            description: s.description,
            active: s.active,
            created_at: s.created_at,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum WebhookDeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct WebhookAttempt {
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub response: Option<String>,
}

impl From<AttemptRow> for WebhookAttempt {
    fn from(a: AttemptRow) -> Self {
        Self {
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response: a.response,
        }
    }
}

/// One event for one subscription.
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct WebhookDelivery {
    pub id: ID,
    pub subscription_id: ID,
    pub event_id: String,
    pub event_kind: String,
    pub order_id: Option<ID>,
    /// The body as sent (the same bytes every attempt).
    pub body: String,
    pub status: WebhookDeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub key: uuid::Uuid,
}

impl From<DeliveryRow> for WebhookDelivery {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: global_id("WebhookDelivery", d.id),
            subscription_id: global_id("WebhookSubscription", d.subscription_id),
            event_id: d.event_id.to_string(),
            event_kind: d.event_kind,
            order_id: d.order_id.map(|o| global_id("Order", o)),
            body: d.body,
            status: match d.status.as_str() {
                DELIVERED => WebhookDeliveryStatus::Delivered,
                FAILED => WebhookDeliveryStatus::Failed,
                _ => WebhookDeliveryStatus::Pending,
            },
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            key: d.id,
        }
    }
}

#[ComplexObject]
impl WebhookDelivery {
    /// Every attempt, oldest first.
    async fn attempt_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::attempts_of(&tx, &[self.key]).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct CreateWebhookSubscriptionInput {
    /// HTTPS.
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWebhookSubscriptionInput {
    pub id: ID,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(InputObject)]
pub struct WebhookSubscriptionIdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct WebhookSubscriptionPayload {
    pub subscription: Option<WebhookSubscription>,
    /// The signing secret, shown only when the subscription is made or its secret rotated.
    pub secret: Option<String>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    pub delivery_id: ID,
}

#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    pub delivery: Option<WebhookDelivery>,
    pub user_errors: Vec<UserError>,
}

/// The payload of a call that shows the secret (made, or rotated).
fn with_secret(
    outcome: Outcome<(repo::Subscription, String)>,
) -> async_graphql::Result<WebhookSubscriptionPayload> {
    let (value, user_errors) = payload(outcome)?;
    let (subscription, secret) =
        value.map_or((None, None), |(s, secret)| (Some(s.into()), Some(secret)));
    Ok(WebhookSubscriptionPayload {
        subscription,
        secret,
        user_errors,
    })
}

fn check_events(events: &[String]) -> Result<Vec<String>, UserError> {
    if events.is_empty() || events.len() > 50 {
        return Err(UserError::on(
            "events",
            C::Invalid,
            "give 1 to 50 event patterns, e.g. order.shipped, return.* or *",
        ));
    }
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        pattern::check(e).map_err(|m| UserError::at(&["events", &i.to_string()], C::Invalid, m))?;
        out.push(e.trim().to_owned());
    }
    Ok(out)
}

fn check_description(d: Option<String>) -> Result<Option<String>, UserError> {
    let d = d.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if d.as_ref().is_some_and(|d| d.chars().count() > 500) {
        return Err(UserError::on(
            "description",
            C::Invalid,
            "must be at most 500 characters",
        ));
    }
    Ok(d)
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookSubscription>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::subscriptions(&tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The delivery log, newest first.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        subscription_id: Option<ID>,
        status: Option<WebhookDeliveryStatus>,
    ) -> async_graphql::Result<Connection<String, WebhookDelivery>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let subscription = subscription_id
            .map(|s| decode_id(&s, "WebhookSubscription", "subscriptionId"))
            .transpose()?;
        let status = status.map(|s| match s {
            WebhookDeliveryStatus::Pending => repo::PENDING,
            WebhookDeliveryStatus::Delivered => DELIVERED,
            WebhookDeliveryStatus::Failed => FAILED,
        });
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::deliveries(&tx, subscription, status, cursor, limit + 1).await?;
        tx.commit().await?;
        let nodes = rows.into_iter().map(|d| (d.id, d.into())).collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes a URL to events; the answer carries the signing secret, once.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookSubscriptionInput,
    ) -> async_graphql::Result<WebhookSubscriptionPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome: Outcome<(repo::Subscription, String)> = async {
            p.require(Permission::SettingsManage)?;
            let url = service::check_url(&st.outbound, &input.url)
                .map_err(|m| UserError::on("url", C::Invalid, m))?;
            let events = check_events(&input.events)?;
            let description = check_description(input.description)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let now = Utc::now();
            let mut s = repo::Subscription {
                tenant_id: p.tenant.uuid(),
                id: uuid::Uuid::now_v7(),
                url: url.to_string(),
                events: serde_json::json!(events),
                description,
                secret: String::new(),
                active: true,
                created_by: p.actor.id(),
                created_at: now,
                updated_at: now,
            };
            let secret = service::new_secret();
            s.secret = service::seal(st, &s, &secret);
            let s = repo::insert_subscription(&tx, s).await?;
            tx.commit().await?;
            Ok((s, secret))
        }
        .await;
        with_secret(outcome)
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookSubscriptionInput,
    ) -> async_graphql::Result<WebhookSubscriptionPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "WebhookSubscription", "id")?;
        let st = state(ctx);
        let outcome: Outcome<repo::Subscription> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(s) = repo::subscription(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such subscription").into());
            };
            let mut update = webhook_subscriptions::ActiveModel {
                tenant_id: Set(s.tenant_id),
                id: Set(s.id),
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            if let Some(url) = input.url {
                let url = service::check_url(&st.outbound, &url)
                    .map_err(|m| UserError::on("url", C::Invalid, m))?;
                update.url = Set(url.to_string());
            }
            if let Some(events) = input.events {
                update.events = Set(serde_json::json!(check_events(&events)?));
            }
            if input.description.is_some() {
                update.description = Set(check_description(input.description)?);
            }
            if let Some(active) = input.active {
                update.active = Set(active);
            }
            let s = repo::update_subscription(&tx, update).await?;
            tx.commit().await?;
            Ok(s)
        }
        .await;
        let (s, user_errors) = payload(outcome)?;
        Ok(WebhookSubscriptionPayload {
            subscription: s.map(Into::into),
            secret: None,
            user_errors,
        })
    }

    /// A new signing secret, shown once; the old one stops working at once.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: WebhookSubscriptionIdInput,
    ) -> async_graphql::Result<WebhookSubscriptionPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "WebhookSubscription", "id")?;
        let st = state(ctx);
        let outcome: Outcome<(repo::Subscription, String)> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(s) = repo::subscription(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such subscription").into());
            };
            let secret = service::new_secret();
            let s = repo::update_subscription(
                &tx,
                webhook_subscriptions::ActiveModel {
                    tenant_id: Set(s.tenant_id),
                    id: Set(s.id),
                    secret: Set(service::seal(st, &s, &secret)),
                    updated_at: Set(Utc::now()),
                    ..Default::default()
                },
            )
            .await?;
            tx.commit().await?;
            Ok((s, secret))
        }
        .await;
        with_secret(outcome)
    }

    /// Removes a subscription with its delivery log.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn delete_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: WebhookSubscriptionIdInput,
    ) -> async_graphql::Result<WebhookSubscriptionPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "WebhookSubscription", "id")?;
        let st = state(ctx);
        let outcome: Outcome<repo::Subscription> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(s) = repo::subscription(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such subscription").into());
            };
            repo::delete_subscription(&tx, id).await?;
            tx.commit().await?;
            Ok(s)
        }
        .await;
        let (s, user_errors) = payload(outcome)?;
        Ok(WebhookSubscriptionPayload {
            subscription: s.map(Into::into),
            secret: None,
            user_errors,
        })
    }

    /// Sends a delivery again now (its attempts so far stay in the log).
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        input: RedeliverWebhookInput,
    ) -> async_graphql::Result<WebhookDeliveryPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.delivery_id, "WebhookDelivery", "deliveryId")?;
        let st = state(ctx);
        let outcome: Outcome<DeliveryRow> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(d) = repo::delivery_for_update(&tx, id).await? else {
                return Err(UserError::on("deliveryId", C::NotFound, "no such delivery").into());
            };
            // While attempts are still due it would go out twice.
            if d.status == repo::PENDING {
                return Err(UserError::on(
                    "deliveryId",
                    C::Conflict,
                    "this delivery is still being attempted; redeliver it once it has been delivered or has failed",
                )
                .into());
            }
            let d = service::redeliver(&tx, &d).await?;
            tx.commit().await?;
            st.wake_workers.notify_one();
            Ok(d)
        }
        .await;
        let (d, user_errors) = payload(outcome)?;
        Ok(WebhookDeliveryPayload {
            delivery: d.map(Into::into),
            user_errors,
        })
    }
}
