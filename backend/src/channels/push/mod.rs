//! Channels hear back: what Orderflow does to an order from a sales channel is written to
//! that channel. A parcel with its label is a fulfilment with its tracking (Shopify: per
//! fulfilment order line; WooCommerce: a note the shopper sees, and the order completed once
//! every parcel is told; BigCommerce a shipment; Amazon `confirmShipment`; Etsy a receipt
//! shipment); a parcel the carrier has is Shopify's `in_transit` event; a voided label
//! cancels its Shopify fulfilment; an order cancelled or rejected in Orderflow is cancelled
//! on its channel (Shopify, WooCommerce, BigCommerce), or a staff task says to where the
//! platform's API cannot (Amazon, Etsy). What a channel did itself (its own cancellation)
//! is not written back to it.
//!
//! Each write is a push ([`channel_pushes`]), written by [`on_events`] in the transaction
//! that recorded its cause and unique by what it says (kind, parcel, tracking number), with
//! the job that sends it. The push's row is also the sync log: when, what, the platform's
//! answer, how long it took. A channel that is down or limiting is asked again with backoff
//! (the push `waiting`, the reason shown); one that refuses (401, 404, 422) stops the push
//! with its own words on the order's timeline. Creates are idempotent by what the platform
//! already holds (see the platform modules), so a retry or a crash never writes twice.

mod amazon;
mod bigcommerce;
mod etsy;
mod parcel;
pub mod ship_by;
mod shopify;
mod woocommerce;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::channel_pushes;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, prelude::*,
};
use serde::{Deserialize, Serialize};

use self::parcel::{ParcelPush, carrier_name};
use super::Platform;
use super::connections::open_secrets;
use super::store::{self, Failure, Store};
use crate::domain::{ConnectionId, OrderId, TenantId};
use crate::jobs::queue::{self, NewJob};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::shipping::repo::{self as shipping, Piece, Shipment};
use crate::lifecycle::state::OrderState;
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{Actor, AnyTx, TenantTx};

pub const FULFILLMENT: &str = "fulfillment";
pub const IN_TRANSIT: &str = "in_transit";
/// WooCommerce: the order completed once every parcel is told.
pub const COMPLETED: &str = "completed";
/// Shopify: a voided label's fulfilment cancelled.
pub const VOID: &str = "fulfillment_cancel";
/// The order cancelled (or rejected) in Orderflow.
pub const CANCEL: &str = "cancel";

pub const QUEUED: &str = "queued";
pub const WAITING: &str = "waiting";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const SKIPPED: &str = "skipped";

/// Tries before a channel that stays unavailable fails the push.
const MAX_TRIES: i32 = 12;
/// Rounds an `in_transit` push waits for its fulfilment to reach the channel.
const MAX_WAITS: i32 = 60;

/// Sends one push.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct PushToChannel {
    pub push: uuid::Uuid,
    pub order: uuid::Uuid,
    #[serde(default)]
    pub round: i32,
}

impl Job for PushToChannel {
    const NAME: &'static str = "channel.push";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(120);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("push:{}:{}", self.push, self.round))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

impl Run for PushToChannel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        run(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// What a platform made of a push.
#[derive(Debug)]
pub enum Outcome {
    Sent {
        remote_id: Option<String>,
        answer: String,
    },
    /// Nothing to write (the channel holds it already, or has nothing it applies to).
    Skipped(String),
    /// The platform's API cannot do it: a staff task with this title says what to do.
    Staff(String),
}

/// The channel's id of an order or object, checked to be the number the platforms use (it
/// goes into a URL path).
fn numeric<'a>(id: &'a str, platform: &str) -> Result<&'a str, Failure> {
    if id.is_empty() || id.len() > 30 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::Refused(format!("{id:?} is not a {platform} id")));
    }
    Ok(id)
}

/// Which pushes a platform takes.
fn takes(platform: Platform, kind: &str) -> bool {
    match platform {
        Platform::Shopify => [FULFILLMENT, IN_TRANSIT, VOID, CANCEL].contains(&kind),
        Platform::Woocommerce => [FULFILLMENT, COMPLETED, CANCEL].contains(&kind),
        Platform::Bigcommerce | Platform::Amazon | Platform::Etsy => {
            [FULFILLMENT, CANCEL].contains(&kind)
        }
    }
}

/// Reacts to the timeline: a parcel's label (`shipment.label_created`) is a fulfilment, its
/// first carrier scan in transit (`shipment.tracking`) Shopify's `in_transit`, a voided label
/// (`shipment.label_voided`) its fulfilment cancelled, an order cancelled or rejected by
/// anyone but its channel a cancellation. Orders from no channel, or from a connection
/// without API access, cause nothing. A new order with a ship-by time is watched
/// ([`ship_by`]).
pub async fn on_events(tx: &TenantTx, events: &[OrderEvent]) -> Result<(), DbErr> {
    ship_by::on_events(tx, events).await?;
    let wanted: Vec<(&OrderEvent, &'static str, Option<uuid::Uuid>)> = events
        .iter()
        .filter_map(|e| {
            let kind = match e.kind.as_str() {
                "shipment.label_created" => FULFILLMENT,
                "shipment.tracking" if e.data["status"].as_str() == Some("in_transit") => {
                    IN_TRANSIT
                }
                "shipment.label_voided" => VOID,
                // The channel's own cancellation is not echoed back to it.
                "order.cancelled" | "order.rejected" if e.actor_kind != "channel" => CANCEL,
                _ => return None,
            };
            let shipment = e.data["shipmentId"].as_str().and_then(|s| s.parse().ok());
            if kind != CANCEL && shipment.is_none() {
                return None;
            }
            Some((e, kind, shipment))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let ids: Vec<OrderId> = wanted.iter().map(|(e, ..)| OrderId(e.order_id)).collect();
    let found = orders::get_many(tx, &ids).await?;
    if found.iter().all(|o| o.connection_id.is_none()) {
        return Ok(());
    }
    let mut pushes = Vec::new();
    // One read per connection, however many of a batch's events share it.
    let mut connections = std::collections::HashMap::new();
    for (event, kind, shipment) in wanted {
        let Some(order) = found.iter().find(|o| o.id == event.order_id) else {
            continue;
        };
        let Some(id) = order.connection_id else {
            continue;
        };
        let connection = match connections.entry(id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(writable(tx, order).await?)
            }
        };
        let Some(connection) = connection else {
            continue;
        };
        let platform = Platform::parse(&connection.platform);
        if !platform.is_some_and(|p| takes(p, kind)) {
            continue;
        }
        let number = event.data["trackingNumber"].as_str().unwrap_or_default();
        let on = shipment.map(|s| s.to_string()).unwrap_or_default();
        pushes.push(NewPush {
            connection: connection.id,
            order: order.id,
            shipment,
            kind,
            key: match kind {
                CANCEL => format!("{CANCEL}:{}", order.id),
                _ => format!("{kind}:{on}:{number}"),
            },
            summary: match kind {
                FULFILLMENT => format!("fulfilment of the parcel with tracking {number}"),
                IN_TRANSIT => {
                    "the parcel is with the carrier: its fulfilment is in transit".to_owned()
                }
                VOID => format!("label {number} voided: its fulfilment cancelled"),
                _ => format!(
                    "order {} {} in Orderflow{}",
                    order.name,
                    if event.kind == "order.rejected" {
                        "rejected"
                    } else {
                        "cancelled"
                    },
                    event
                        .reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            },
        });
    }
    queue_pushes(tx, pushes).await
}

/// The order's connection, if Orderflow may write to it: active, with API credentials.
async fn writable(
    tx: &TenantTx,
    order: &Order,
) -> Result<Option<entity::channel_connections::Model>, DbErr> {
    let Some(id) = order.connection_id else {
        return Ok(None);
    };
    Ok(super::repo::connection(tx, ConnectionId(id))
        .await?
        .filter(|c| c.active && c.credentials_sealed.is_some()))
}

struct NewPush {
    connection: uuid::Uuid,
    order: uuid::Uuid,
    shipment: Option<uuid::Uuid>,
    kind: &'static str,
    key: String,
    summary: String,
}

/// Writes pushes not written before (by key) and the jobs that send them.
async fn queue_pushes(tx: &TenantTx, pushes: Vec<NewPush>) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut jobs: Vec<NewJob> = Vec::new();
    for p in pushes {
        let id = uuid::Uuid::now_v7();
        let inserted = channel_pushes::Entity::insert(channel_pushes::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(id),
            connection_id: Set(p.connection),
            order_id: Set(p.order),
            shipment_id: Set(p.shipment),
            kind: Set(p.kind.to_owned()),
            key: Set(p.key),
            state: Set(QUEUED.into()),
            summary: Set(p.summary),
            remote_id: Set(None),
            answer: Set(None),
            attempts: Set(0),
            duration_ms: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            sent_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([
                channel_pushes::Column::TenantId,
                channel_pushes::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
        if inserted == 1 {
            jobs.push(
                PushToChannel {
                    push: id,
                    order: p.order,
                    round: 0,
                }
                .row(tx.tenant(), now),
            );
        }
    }
    queue::enqueue_many(tx, jobs).await
}

/// The pushes of an order, oldest first.
pub async fn of_order(tx: &TenantTx, order: OrderId) -> Result<Vec<channel_pushes::Model>, DbErr> {
    channel_pushes::Entity::find()
        .filter(channel_pushes::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_pushes::Column::OrderId.eq(order.uuid()))
        .order_by_asc(channel_pushes::Column::CreatedAt)
        .order_by_asc(channel_pushes::Column::Id)
        .all(tx.conn())
        .await
}

/// A connection's sync log, newest first.
pub async fn log_of(
    tx: &TenantTx,
    connection: ConnectionId,
    limit: u64,
) -> Result<Vec<channel_pushes::Model>, DbErr> {
    channel_pushes::Entity::find()
        .filter(channel_pushes::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_pushes::Column::ConnectionId.eq(connection.uuid()))
        .order_by_desc(channel_pushes::Column::CreatedAt)
        .order_by_desc(channel_pushes::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

/// Everything a run needs, read in one transaction.
struct Scene {
    push: channel_pushes::Model,
    order: Order,
    connection: entity::channel_connections::Model,
    platform: Platform,
    /// The order's parcels as the channel is told of them (labelled, not voided).
    parcels: Vec<(Shipment, ParcelPush)>,
    /// The order's other pushes.
    others: Vec<channel_pushes::Model>,
}

async fn scene(state: &AppState, tenant: TenantId, id: uuid::Uuid) -> Result<Option<Scene>, DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(push) = channel_pushes::Entity::find_by_id((tenant.uuid(), id))
        .one(tx.conn())
        .await?
    else {
        return Ok(None);
    };
    if ![QUEUED, WAITING].contains(&push.state.as_str()) {
        return Ok(None);
    }
    let (Some(order), Some(connection)) = (
        orders::get(&tx, OrderId(push.order_id)).await?,
        super::repo::connection(&tx, ConnectionId(push.connection_id)).await?,
    ) else {
        return Ok(None);
    };
    let Some(platform) = Platform::parse(&connection.platform) else {
        return Ok(None);
    };
    let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
    let shipments = shipping::of_orders(&tx, &[OrderId(order.id)]).await?;
    let parcels = told(&tx, &order, &lines, shipments).await?;
    let others = of_order(&tx, OrderId(order.id))
        .await?
        .into_iter()
        .filter(|p| p.id != push.id)
        .collect();
    tx.commit().await?;
    Ok(Some(Scene {
        push,
        order,
        connection,
        platform,
        parcels,
        others,
    }))
}

/// The order's labelled parcels, as a channel hears of them.
async fn told(
    tx: &TenantTx,
    order: &Order,
    lines: &[OrderLine],
    shipments: Vec<Shipment>,
) -> Result<Vec<(Shipment, ParcelPush)>, DbErr> {
    let live: Vec<Shipment> = shipments
        .into_iter()
        .filter(|s| s.status != shipping::VOIDED && s.tracking_number.is_some())
        .collect();
    let carriers = shipping::carriers_by_id(
        tx,
        &live.iter().filter_map(|s| s.carrier_id).collect::<Vec<_>>(),
    )
    .await?;
    let services = shipping::services_by_id(
        tx,
        &live.iter().filter_map(|s| s.service_id).collect::<Vec<_>>(),
    )
    .await?;
    Ok(live
        .into_iter()
        .map(|s| {
            let carrier = carriers
                .iter()
                .find(|c| Some(c.id) == s.carrier_id)
                .map_or("the carrier", |c| c.name.as_str());
            let remote = services
                .iter()
                .find(|v| Some(v.id) == s.service_id)
                .and_then(|v| v.remote_code.as_deref());
            let pieces: Vec<Piece> = serde_json::from_value(s.lines.clone()).unwrap_or_default();
            let push = ParcelPush {
                order: order.external_id.clone(),
                parcel_no: s.parcel_no,
                parcel_count: s.parcel_count,
                tracking_number: s.tracking_number.clone().unwrap_or_default(),
                tracking_url: s.tracking_url.clone(),
                carrier: carrier_name(remote, carrier),
                service: services
                    .iter()
                    .find(|v| Some(v.id) == s.service_id)
                    .map(|v| {
                        v.remote_code
                            .as_deref()
                            .and_then(|c| c.split('/').nth(1))
                            .unwrap_or(&v.name)
                            .to_owned()
                    })
                    .unwrap_or_default(),
                lines: pieces
                    .iter()
                    .filter_map(|piece| {
                        let line = lines.iter().find(|l| l.position == piece.position)?;
                        Some((line.external_id.clone()?, piece.quantity))
                    })
                    .collect(),
                shipped_at: s.labelled_at.unwrap_or(s.created_at),
            };
            (s, push)
        })
        .collect())
}

async fn run(state: &Arc<AppState>, tenant: TenantId, job: PushToChannel) -> Result<(), DbErr> {
    let Some(s) = scene(state, tenant, job.push).await? else {
        return Ok(());
    };
    if waits(&s) {
        return wait_for_fulfilment(state, &s, job).await;
    }
    let Ok(secrets) = open_secrets(&state.sealer, &s.connection) else {
        let why = format!(
            "the {} connection's credentials cannot be opened",
            s.platform.label()
        );
        return settle(state, &s, job, Err(Failure::Refused(why)), None).await;
    };
    // Within the connection's call budget, shared with every other worker.
    let calls = match s.push.kind.as_str() {
        FULFILLMENT | CANCEL => 3,
        VOID => 2,
        _ => 1,
    };
    if let Err(wait) = super::pace::take(state, s.connection.id, s.platform, calls).await {
        let why = format!(
            "Orderflow's pace for {}: this connection's calls are spent for the next {} s",
            s.platform.label(),
            wait.as_secs().max(1)
        );
        return settle(state, &s, job, Err(Failure::Unavailable(why)), None).await;
    }
    let started = Instant::now();
    let outcome = send(state, &s, &secrets.credentials).await;
    settle(state, &s, job, outcome, Some(started.elapsed())).await
}

/// Whether an earlier push of the order must reach the channel first: per order, writes
/// reach the channel in the order they were caused (a fulfilment before its tracking moves
/// or it is cancelled, everything before the order is cancelled).
fn waits(s: &Scene) -> bool {
    match s.push.kind.as_str() {
        IN_TRANSIT | VOID => still_going(s, &[FULFILLMENT]),
        CANCEL => still_going(s, &[FULFILLMENT, VOID]),
        _ => false,
    }
}

/// Sends the push to its platform.
async fn send(
    state: &AppState,
    s: &Scene,
    credentials: &BTreeMap<String, String>,
) -> Result<Outcome, Failure> {
    let kind = s.push.kind.as_str();
    let parcel = s
        .parcels
        .iter()
        .find(|(sh, _)| Some(sh.id) == s.push.shipment_id)
        .map(|(_, p)| p);
    if matches!(kind, FULFILLMENT | IN_TRANSIT) && parcel.is_none() {
        return Ok(Outcome::Skipped(
            "the parcel's label was voided before the channel was told".into(),
        ));
    }
    let store = Store {
        client: &state.http,
        root: store::root(credentials, &s.connection.shop_domain),
        credentials,
    };
    match s.platform {
        Platform::Shopify => shopify::send(&store, s, parcel).await,
        Platform::Woocommerce => woocommerce::send(&store, s, parcel).await,
        Platform::Bigcommerce => {
            let api = crate::channels::bigcommerce::Api::new(&state.http, credentials)?;
            match parcel {
                Some(p) if kind == FULFILLMENT => bigcommerce::fulfil(&api, p).await,
                _ if kind == CANCEL => bigcommerce::cancel(&api, &s.order.external_id).await,
                _ => Ok(not_taken(s)),
            }
        }
        Platform::Amazon => match parcel {
            Some(p) if kind == FULFILLMENT => {
                let api = crate::channels::amazon::Api::new(&state.http, credentials);
                amazon::fulfil(&api, p, &confirmed_before(s)).await
            }
            _ if kind == CANCEL => Ok(cancel_by_hand(s, "Seller Central")),
            _ => Ok(not_taken(s)),
        },
        Platform::Etsy => match parcel {
            Some(p) if kind == FULFILLMENT => {
                let api = crate::channels::etsy::Receipts::open(&state.http, credentials).await?;
                etsy::fulfil(&api, p).await
            }
            _ if kind == CANCEL => Ok(cancel_by_hand(s, "the Etsy shop manager")),
            _ => Ok(not_taken(s)),
        },
    }
}

fn not_taken(s: &Scene) -> Outcome {
    Outcome::Skipped(format!(
        "{} takes no {} push",
        s.platform.label(),
        s.push.kind
    ))
}

/// A platform whose API cannot cancel the order: a staff task says where to.
fn cancel_by_hand(s: &Scene, place: &str) -> Outcome {
    let by = s.platform.label();
    Outcome::Staff(format!(
        "Cancel {by} order {} in {place}: Orderflow {} it, and {by}'s API cannot cancel it",
        s.order.external_id,
        if s.order.state == OrderState::Rejected {
            "rejected"
        } else {
            "cancelled"
        },
    ))
}

/// Whether a push of these kinds for the order is still to be sent (a later push waits for
/// it: per order, writes reach the channel in the order they were caused).
fn still_going(s: &Scene, kinds: &[&str]) -> bool {
    s.others.iter().any(|o| {
        kinds.contains(&o.kind.as_str())
            && o.created_at <= s.push.created_at
            && [QUEUED, WAITING].contains(&o.state.as_str())
    })
}

/// The channel's ids of the fulfilments Orderflow made for the order (or one parcel).
fn our_fulfilments(s: &Scene, shipment: Option<uuid::Uuid>) -> Vec<String> {
    s.others
        .iter()
        .filter(|o| o.kind == FULFILLMENT && o.state == SENT)
        .filter(|o| shipment.is_none() || o.shipment_id == shipment)
        .filter_map(|o| o.remote_id.clone())
        .collect()
}

/// Units of each channel line in the order's parcels already told (fulfilments sent).
fn confirmed_before(s: &Scene) -> Vec<(String, i64)> {
    s.parcels
        .iter()
        .filter(|(sh, _)| {
            s.others
                .iter()
                .any(|o| o.kind == FULFILLMENT && o.shipment_id == Some(sh.id) && o.state == SENT)
        })
        .flat_map(|(_, p)| p.lines.iter().cloned())
        .collect()
}

/// A push that waits for earlier pushes of its order (see [`waits`]): asked again shortly.
async fn wait_for_fulfilment(
    state: &Arc<AppState>,
    s: &Scene,
    job: PushToChannel,
) -> Result<(), DbErr> {
    if job.round >= MAX_WAITS {
        let why = "the parcel's fulfilment has not reached the channel".to_owned();
        return settle(state, s, job, Err(Failure::Refused(why)), None).await;
    }
    let tx = TenantTx::begin(&state.db, TenantId(s.push.tenant_id)).await?;
    again(&tx, job, Duration::from_secs(5)).await?;
    tx.commit().await
}

/// Writes what the push came to, on the log and (for what staff should know) the timeline.
async fn settle(
    state: &Arc<AppState>,
    s: &Scene,
    job: PushToChannel,
    outcome: Result<Outcome, Failure>,
    took: Option<Duration>,
) -> Result<(), DbErr> {
    let tenant = TenantId(s.push.tenant_id);
    let by = s.platform.label();
    let tries = s.push.attempts + 1;
    let mut row = channel_pushes::ActiveModel {
        attempts: Set(tries),
        duration_ms: Set(took.map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX))),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let mut event = None;
    let mut retry = None;
    let mut staff = None;
    let mut broken = None;
    let mut sent = false;
    let tracking = s
        .parcels
        .iter()
        .find(|(sh, _)| Some(sh.id) == s.push.shipment_id)
        .map(|(_, p)| p.tracking_number.clone())
        .unwrap_or_default();
    match outcome {
        Ok(Outcome::Sent { remote_id, answer }) => {
            sent = true;
            row.state = Set(SENT.into());
            row.remote_id = Set(remote_id);
            row.answer = Set(Some(answer));
            row.sent_at = Set(Some(Utc::now()));
            // A confirmation after the channel's ship-by time counts against the seller.
            let late = s
                .order
                .ship_by
                .filter(|by| *by < Utc::now())
                .map(|by| {
                    format!(
                        ", after the ship-by time {}",
                        by.format("%Y-%m-%d %H:%M UTC")
                    )
                })
                .unwrap_or_default();
            event = Some((
                "channel.pushed",
                match s.push.kind.as_str() {
                    FULFILLMENT => {
                        format!("Fulfilment sent to {by} (tracking {tracking}{late})")
                    }
                    IN_TRANSIT => format!("{by} told the parcel is in transit ({tracking})"),
                    VOID => format!("{by}'s fulfilment of the voided label cancelled"),
                    CANCEL => format!("Order cancelled on {by}"),
                    _ => format!("{by} told every parcel has shipped: order completed"),
                },
                None,
            ));
        }
        Ok(Outcome::Skipped(why)) => {
            row.state = Set(SKIPPED.into());
            row.answer = Set(Some(why));
        }
        Ok(Outcome::Staff(title)) => {
            row.state = Set(SKIPPED.into());
            row.answer = Set(Some(format!("left to staff: {title}")));
            staff = Some(title);
        }
        Err(Failure::Unavailable(why)) if tries < MAX_TRIES => {
            row.state = Set(WAITING.into());
            row.answer = Set(Some(why));
            retry = Some(crate::lifecycle::refund::remote::backoff(tries, None));
        }
        Err(failure) => {
            let why = failure.words().to_owned();
            row.state = Set(FAILED.into());
            row.answer = Set(Some(why.clone()));
            broken = Some(format!(
                "{} push failed: {why}",
                s.push.kind.replace('_', " ")
            ));
            event = Some((
                "channel.push_failed",
                format!(
                    "{by} did not take the {} push: {why}",
                    s.push.kind.replace('_', " ")
                ),
                Some(why),
            ));
        }
    }
    let tx = TenantTx::begin(&state.db, tenant).await?;
    // One settle per order at a time: the last fulfilment settled sees every other one.
    orders::get_for_update(&tx, OrderId(s.order.id)).await?;
    let moved = channel_pushes::Entity::update_many()
        .set(row)
        .filter(channel_pushes::Column::TenantId.eq(s.push.tenant_id))
        .filter(channel_pushes::Column::Id.eq(s.push.id))
        .filter(channel_pushes::Column::State.eq(s.push.state.as_str()))
        .exec(tx.conn())
        .await?;
    if moved.rows_affected != 1 {
        // Another run settled it meanwhile.
        return Ok(());
    }
    if let Some(after) = retry {
        again(&tx, job, after).await?;
    }
    match &broken {
        // The connection's card shows it (as it shows a failed poll).
        Some(error) => super::health::failed(&tx, s.connection.id, error).await?,
        None if sent => super::health::worked(&tx, s.connection.id).await?,
        None => {}
    }
    if let Some(title) = staff {
        crate::automation::tasks::ask_staff(&tx, s.order.id, &title).await?;
        event = Some(("channel.staff_task", title, None));
    }
    if let Some((kind, message, reason)) = event {
        timeline::record_event(
            &tx,
            NewEvent {
                order: OrderId(s.order.id),
                kind,
                actor: Actor::System,
                actor_label: Some("channel sync".into()),
                message,
                reason,
                data: serde_json::json!({
                    "pushId": s.push.id,
                    "channel": s.platform.as_str(),
                    "kind": s.push.kind,
                }),
            },
        )
        .await?;
    }
    complete_when_told(&tx, s).await?;
    tx.commit().await
}

/// WooCommerce: once every labelled parcel's fulfilment is sent, the order is completed
/// (one push per order: whichever run finds the last one sent writes it).
async fn complete_when_told(tx: &TenantTx, s: &Scene) -> Result<(), DbErr> {
    if s.platform != Platform::Woocommerce || s.push.kind != FULFILLMENT || s.parcels.is_empty() {
        return Ok(());
    }
    let pushes = of_order(tx, OrderId(s.order.id)).await?;
    let told = s.parcels.iter().all(|(sh, _)| {
        pushes
            .iter()
            .any(|p| p.kind == FULFILLMENT && p.shipment_id == Some(sh.id) && p.state == SENT)
    });
    let open = shipping::of_orders(tx, &[OrderId(s.order.id)])
        .await?
        .iter()
        .any(|sh| sh.status != shipping::VOIDED && sh.tracking_number.is_none());
    if !told || open {
        return Ok(());
    }
    queue_pushes(
        tx,
        vec![NewPush {
            connection: s.connection.id,
            order: s.order.id,
            shipment: None,
            kind: COMPLETED,
            key: format!("{COMPLETED}:{}", s.order.id),
            summary: format!("order {} completed: every parcel shipped", s.order.name),
        }],
    )
    .await
}

async fn again(tx: &TenantTx, job: PushToChannel, after: Duration) -> Result<(), DbErr> {
    PushToChannel {
        round: job.round + 1,
        ..job
    }
    .enqueue_at(
        tx,
        Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
    )
    .await
}
