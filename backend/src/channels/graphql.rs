//! Channel connections and their deliveries over GraphQL. Secrets go in, never out.

use std::collections::BTreeMap;

use async_graphql::connection::Connection as Page;
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::Platform;
use super::connections::{self, ConnectionFields};
use super::deliveries::{self, DeliveryStatus};
use super::repo::{self, Connection as ConnectionRecord, Delivery as DeliveryRecord};
use crate::domain::{ConnectionId, DeliveryId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::tenancy::{Permission, TenantTx};

#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelConnection {
    pub id: ID,
    pub platform: Platform,
    pub name: String,
    pub shop_domain: String,
    /// The path the platform posts webhooks to: `/webhooks/{platform}/{connectionId}`.
    pub webhook_url: String,
    /// The same, as a full URL under this server's public address.
    pub webhook_endpoint: String,
    pub active: bool,
    pub has_webhook_secret: bool,
    /// Names of the stored credentials (their values are never returned).
    pub credential_names: Vec<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Whether the channel may email the shopper about a fulfilment Orderflow pushes (off
    /// by default: Orderflow emails the shopper itself).
    pub notify_customer: bool,
    /// Whether Orderflow keeps the channel's stock (for its mapped listings).
    pub stock_sync: bool,
    /// Percent of the free stock the channel may show.
    pub stock_share: i32,
    /// The warehouses whose stock the channel sells; empty: every active one.
    pub stock_warehouse_ids: Vec<ID>,
    /// Where the channel keeps its stock (a Shopify or BigCommerce location id).
    pub stock_location: Option<String>,
    /// Pushes, catalog reads and polls that failed in a row.
    pub failures_in_a_row: i32,
    /// False after three failures in a row (staff get a task to look at it).
    pub healthy: bool,
    pub created_at: DateTime<Utc>,
}

impl ChannelConnection {
    fn new(c: ConnectionRecord, ctx: &Context<'_>) -> Self {
        let app = state(ctx);
        let names = connections::open_secrets(&app.sealer, &c)
            .map(|s| s.credentials.into_keys().collect())
            .unwrap_or_default();
        let path = format!("/webhooks/{}/{}", c.platform, c.id);
        Self {
            id: global_id("ChannelConnection", c.id),
            platform: Platform::parse(&c.platform).unwrap_or(Platform::Shopify),
            name: c.name,
            shop_domain: c.shop_domain,
            webhook_endpoint: format!("{}{path}", app.config.public_url),
            webhook_url: path,
            active: c.active,
            has_webhook_secret: c.webhook_secret_sealed.is_some(),
            credential_names: names,
            last_synced_at: c.last_synced_at,
            last_error: c.last_error,
            notify_customer: c.notify_customer,
            stock_sync: c.stock_sync,
            stock_share: c.stock_share,
            stock_warehouse_ids: c
                .stock_warehouses
                .and_then(|w| serde_json::from_value::<Vec<uuid::Uuid>>(w).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|w| global_id("Warehouse", w))
                .collect(),
            stock_location: c.stock_location,
            failures_in_a_row: c.failures,
            healthy: super::health::healthy(c.failures),
            created_at: c.created_at,
        }
    }
}

/// One write to a channel, as the sync log shows it.
#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelPush {
    pub id: ID,
    pub order_id: ID,
    pub shipment_id: Option<ID>,
    /// fulfillment, in_transit or completed.
    pub kind: String,
    /// queued, waiting (the channel is down or limiting: asked again), sent, failed (the
    /// channel refused: its words are the answer) or skipped (nothing to write).
    pub state: String,
    pub summary: String,
    /// What the channel made of it (a fulfilment's or a note's id).
    pub remote_id: Option<String>,
    /// The platform's answer, in its words.
    pub answer: Option<String>,
    pub attempts: i32,
    pub duration_ms: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<entity::channel_pushes::Model> for ChannelPush {
    fn from(p: entity::channel_pushes::Model) -> Self {
        Self {
            id: global_id("ChannelPush", p.id),
            order_id: global_id("Order", p.order_id),
            shipment_id: p.shipment_id.map(|s| global_id("Shipment", s)),
            kind: p.kind,
            state: p.state,
            summary: p.summary,
            remote_id: p.remote_id,
            answer: p.answer,
            attempts: p.attempts,
            duration_ms: p.duration_ms,
            created_at: p.created_at,
            sent_at: p.sent_at,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ChannelDelivery {
    pub id: ID,
    pub connection_id: Option<ID>,
    pub platform: String,
    pub topic: String,
    /// The platform's own delivery id.
    pub delivery_id: Option<String>,
    /// The platform's id of the order it is about.
    pub external_id: Option<String>,
    pub status: DeliveryStatus,
    /// Why it needs attention, or why it was ignored.
    pub error: Option<String>,
    pub attempts: i32,
    pub order_id: Option<ID>,
    /// The body exactly as received.
    pub payload: String,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRecord> for ChannelDelivery {
    fn from(d: DeliveryRecord) -> Self {
        Self {
            id: global_id("ChannelDelivery", d.id),
            connection_id: d.connection_id.map(|c| global_id("ChannelConnection", c)),
            order_id: deliveries::order_of(&d).map(|o| global_id("Order", o.uuid())),
            platform: d.platform,
            topic: d.topic,
            delivery_id: d.delivery_id,
            external_id: d.external_id,
            status: DeliveryStatus::parse(&d.status),
            error: d.error,
            attempts: d.attempts,
            payload: d.payload,
            received_at: d.received_at,
            processed_at: d.processed_at,
        }
    }
}

/// Credentials arrive as a JSON object of strings; anything else is named in the error.
fn credentials(
    raw: Option<Json<serde_json::Value>>,
) -> Result<Option<BTreeMap<String, String>>, UserError> {
    let Some(Json(value)) = raw else {
        return Ok(None);
    };
    // A bare string is the access token; a string holding a JSON object is that object.
    let value = match value {
        serde_json::Value::String(s) => match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(object @ serde_json::Value::Object(_)) => object,
            _ => serde_json::json!({ "accessToken": s }),
        },
        serde_json::Value::Null => return Ok(None),
        other => other,
    };
    let serde_json::Value::Object(map) = value else {
        return Err(UserError::on(
            "credentials",
            C::Invalid,
            "must be an object of names to strings",
        ));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            _ => Err(UserError::at(
                &["credentials", &k],
                C::Invalid,
                "must be a string",
            )),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

#[derive(InputObject)]
pub struct CreateChannelConnectionInput {
    pub platform: Platform,
    pub name: String,
    /// The shop's domain or id, e.g. `my-shop.myshopify.com`, `shop.example.com`, a
    /// BigCommerce store hash, an Amazon seller id, an Etsy shop id.
    pub shop_domain: String,
    /// The secret the platform signs webhooks with (Shopify: the app's client secret;
    /// WooCommerce: the webhook's secret; BigCommerce: the value of the `X-Orderflow-Secret`
    /// header set on the hook).
    pub webhook_secret: Option<String>,
    /// API credentials, e.g. `{"accessToken": "…"}`; stored encrypted, never returned.
    pub credentials: Option<Json<serde_json::Value>>,
    pub active: Option<bool>,
    /// Whether Orderflow keeps the channel's stock (default true: the catalog is read and
    /// every listed SKU's figure pushed); false takes orders only.
    pub stock_sync: Option<bool>,
}

#[derive(InputObject)]
pub struct UpdateChannelConnectionInput {
    pub id: ID,
    pub name: Option<String>,
    pub active: Option<bool>,
    /// Replaces the stored secret.
    pub webhook_secret: Option<String>,
    /// Replaces all stored credentials.
    pub credentials: Option<Json<serde_json::Value>>,
    /// Whether the channel may email the shopper about a fulfilment Orderflow pushes.
    pub notify_customer: Option<bool>,
    /// Whether Orderflow keeps the channel's stock.
    pub stock_sync: Option<bool>,
    /// Percent (1–100) of the free stock the channel may show.
    pub stock_share: Option<i32>,
    /// The warehouses that stock the channel; empty: every active one.
    pub stock_warehouse_ids: Option<Vec<ID>>,
    /// The platform's location to keep stock at (Shopify, BigCommerce); empty: the one the
    /// catalog read finds.
    pub stock_location: Option<String>,
}

#[derive(SimpleObject)]
pub struct ChannelConnectionPayload {
    pub channel_connection: Option<ChannelConnection>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct SyncChannelConnectionInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct ReprocessChannelDeliveryInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct ChannelDeliveryPayload {
    pub channel_delivery: Option<ChannelDelivery>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct ChannelQuery;

#[Object]
impl ChannelQuery {
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn channel_connections(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ChannelConnection>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::connections(&tx).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|c| ChannelConnection::new(c, ctx))
            .collect())
    }

    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn channel_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<ChannelConnection>> {
        let p = principal(ctx)?;
        let id = ConnectionId(decode_id(&id, "ChannelConnection", "id")?);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = repo::connection(&tx, id).await?;
        tx.commit().await?;
        Ok(row.map(|c| ChannelConnection::new(c, ctx)))
    }

    /// What Orderflow wrote to a connection's channel (fulfilments, tracking), newest first:
    /// the sync log, with each platform's answer.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn channel_sync_log(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Vec<ChannelPush>> {
        let p = principal(ctx)?;
        let id = ConnectionId(decode_id(
            &connection_id,
            "ChannelConnection",
            "connectionId",
        )?);
        let limit = u64::try_from(first.clamp(1, 500)).unwrap_or(50);
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = super::push::log_of(&tx, id, limit).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(ChannelPush::from).collect())
    }

    /// What channels sent, newest first; `NEEDS_ATTENTION` lists what could not be mapped.
    #[graphql(
        guard = "Perm(Permission::ChannelsManage)",
        complexity = "first.unwrap_or(20).max(0) as usize * child_complexity"
    )]
    async fn channel_deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Page<String, ChannelDelivery>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let after = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = repo::deliveries(
            &tx,
            status.map(DeliveryStatus::as_str),
            after.map(DeliveryId),
            limit + 1,
        )
        .await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|d| (d.id, ChannelDelivery::from(d)))
            .collect();
        Ok(connection(nodes, limit, after.is_some()))
    }
}

fn fields(
    platform: Option<Platform>,
    name: Option<String>,
    shop_domain: Option<String>,
    webhook_secret: Option<String>,
    raw_credentials: Option<Json<serde_json::Value>>,
    active: Option<bool>,
) -> Outcome<ConnectionFields> {
    Ok(ConnectionFields {
        platform,
        name,
        shop_domain,
        webhook_secret,
        credentials: credentials(raw_credentials)?,
        active,
        notify_customer: None,
        stock: Default::default(),
    })
}

#[derive(Default)]
pub struct ChannelMutation;

#[Object]
impl ChannelMutation {
    /// Connects a shop. Point the platform's webhooks at the returned `webhookUrl`.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn create_channel_connection(
        &self,
        ctx: &Context<'_>,
        input: CreateChannelConnectionInput,
    ) -> async_graphql::Result<ChannelConnectionPayload> {
        let p = principal(ctx)?;
        let outcome = match fields(
            Some(input.platform),
            Some(input.name),
            Some(input.shop_domain),
            input.webhook_secret,
            input.credentials,
            input.active,
        ) {
            Ok(mut f) => {
                f.stock.sync = input.stock_sync;
                connections::create_connection(state(ctx), p, f).await
            }
            Err(e) => Err(e),
        };
        let (value, user_errors) = payload(outcome)?;
        Ok(ChannelConnectionPayload {
            channel_connection: value.map(|c| ChannelConnection::new(c, ctx)),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn update_channel_connection(
        &self,
        ctx: &Context<'_>,
        input: UpdateChannelConnectionInput,
    ) -> async_graphql::Result<ChannelConnectionPayload> {
        let p = principal(ctx)?;
        let id = ConnectionId(decode_id(&input.id, "ChannelConnection", "id")?);
        let outcome = match fields(
            None,
            input.name,
            None,
            input.webhook_secret,
            input.credentials,
            input.active,
        ) {
            Ok(f) => {
                let warehouses = input
                    .stock_warehouse_ids
                    .map(|ids| {
                        ids.iter()
                            .enumerate()
                            .map(|(i, w)| {
                                decode_id(w, "Warehouse", "stockWarehouseIds").map_err(|_| {
                                    UserError::at(
                                        &["stockWarehouseIds", &i.to_string()],
                                        C::Invalid,
                                        "is not a warehouse id",
                                    )
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose();
                match warehouses {
                    Err(e) => Err(e.into()),
                    Ok(warehouses) => {
                        let f = ConnectionFields {
                            notify_customer: input.notify_customer,
                            stock: connections::StockFields {
                                sync: input.stock_sync,
                                share: input.stock_share,
                                warehouses,
                                location: input.stock_location,
                            },
                            ..f
                        };
                        connections::update_connection(state(ctx), p, id, f).await
                    }
                }
            }
            Err(e) => Err(e),
        };
        let (value, user_errors) = payload(outcome)?;
        Ok(ChannelConnectionPayload {
            channel_connection: value.map(|c| ChannelConnection::new(c, ctx)),
            user_errors,
        })
    }

    /// Polls a connection now (Amazon, Etsy) instead of at its next tick. Failures are
    /// shown as the connection's `lastError`.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn sync_channel_connection(
        &self,
        ctx: &Context<'_>,
        input: SyncChannelConnectionInput,
    ) -> async_graphql::Result<ChannelConnectionPayload> {
        let p = principal(ctx)?;
        let id = ConnectionId(decode_id(&input.id, "ChannelConnection", "id")?);
        let (value, user_errors) = payload(super::poll::sync_now(state(ctx), p, id).await)?;
        Ok(ChannelConnectionPayload {
            channel_connection: value.map(|c| ChannelConnection::new(c, ctx)),
            user_errors,
        })
    }

    /// Processes a delivery again, e.g. one that needed attention once its cause is fixed.
    #[graphql(guard = "Perm(Permission::ChannelsManage)")]
    async fn reprocess_channel_delivery(
        &self,
        ctx: &Context<'_>,
        input: ReprocessChannelDeliveryInput,
    ) -> async_graphql::Result<ChannelDeliveryPayload> {
        let p = principal(ctx)?;
        let id = DeliveryId(decode_id(&input.id, "ChannelDelivery", "id")?);
        let (value, user_errors) = payload(deliveries::reprocess(state(ctx), p, id).await)?;
        Ok(ChannelDeliveryPayload {
            channel_delivery: value.map(ChannelDelivery::from),
            user_errors,
        })
    }
}
