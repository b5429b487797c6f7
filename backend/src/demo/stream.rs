//! The living demo: orders arrive (signed Shopify and WooCommerce webhooks, API orders), the
//! engine screens, allocates, routes and labels them as it does any order, and the demo plays
//! the world around the shop — the carrier scans parcels (signed tracking webhooks; now and
//! then a failed delivery attempt), shoppers rate their orders, ask where a parcel is, and send
//! some back; the returns are scanned back in and inspected. What is left for the merchant:
//! fraud holds, backorders, some returns to inspect, support threads to answer.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::Utc;
use entity::{order_reviews, orders, returns, shipments};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tokio::sync::watch;

use super::gql::Api;
use super::seed::{self, Shop};
use super::shoppers::{self, Channel, DemoOrder};
use crate::channels::{Platform, deliveries};
use crate::domain::ConnectionId;
use crate::graphql::relay::global_id;
use crate::infra::signature as channel_signature;
use crate::lifecycle::tracking::{service as tracking, signature};
use crate::state::AppState;
use crate::tenancy::{AnyTx, TenantTx};

/// How fast the world moves: each step waits this long after the one before.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Label bought → picked up; picked up → out for delivery; → delivered.
    pub transit: Duration,
    /// Delivered → the shopper rates it or sends it back; return shipped → received →
    /// inspected.
    pub after: Duration,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Orders placed one a second at the start, so the dashboard fills within a minute.
    pub burst: u64,
    /// Then one order every so often.
    pub every: Duration,
    /// Stop placing orders after this many (the world keeps moving).
    pub limit: Option<u64>,
    pub pace: Pace,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            burst: 40,
            every: Duration::from_secs(12),
            limit: None,
            pace: Pace {
                transit: Duration::from_secs(4),
                after: Duration::from_secs(6),
            },
            seed: 2026,
        }
    }
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    pub scans: u64,
    pub reviews: u64,
    pub returns: u64,
    pub inspections: u64,
    pub messages: u64,
}

pub struct Stream {
    state: Arc<AppState>,
    api: Api,
    shop: Shop,
    rng: StdRng,
    next: u64,
    options: Options,
}

/// A number from an id, the same every time: each parcel and order decides its fate once.
fn fate(id: uuid::Uuid, salt: u8) -> u64 {
    let b = id.as_bytes();
    u64::from(b[15] ^ salt) * 256 + u64::from(b[14])
}

/// A number from an order's external id (drawn from the stream's seed), the same in every
/// run with that seed: what happens to orders and parcels does not depend on random ids.
fn fate_of(key: &str, salt: u8) -> u64 {
    use sha2::Digest;
    let d = sha2::Sha256::digest([key.as_bytes(), &[salt]].concat());
    u64::from(d[0]) * 256 + u64::from(d[1])
}

/// The fates of `orders`: by their external ids (by their ids for any not found).
async fn fates(
    tx: &TenantTx,
    orders: &[uuid::Uuid],
) -> anyhow::Result<impl Fn(&uuid::Uuid, u8) -> u64 + use<>> {
    let keys: std::collections::HashMap<uuid::Uuid, String> = orders::Entity::find()
        .select_only()
        .columns([orders::Column::Id, orders::Column::ExternalId])
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Id.is_in(orders.to_vec()))
        .into_tuple::<(uuid::Uuid, String)>()
        .all(tx.conn())
        .await?
        .into_iter()
        .collect();
    Ok(move |order: &uuid::Uuid, salt: u8| {
        keys.get(order)
            .map_or_else(|| fate(*order, salt), |k| fate_of(k, salt))
    })
}

impl Stream {
    pub async fn new(state: Arc<AppState>, api: Api, options: Options) -> anyhow::Result<Self> {
        let shop = seed::ensure(&api).await?;
        let tx = TenantTx::begin_read(&state.db, api.principal().tenant).await?;
        let ids: Vec<(String, String)> = orders::Entity::find()
            .select_only()
            .columns([orders::Column::Channel, orders::Column::ExternalId])
            .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        // Numbering goes on after the highest demo order there is (a restart must not reuse
        // an external id).
        let next = ids
            .iter()
            .filter_map(|(channel, id)| shoppers::number_of(channel, id))
            .max()
            .map_or(0, |n| n + 1);
        Ok(Self {
            rng: StdRng::seed_from_u64(options.seed ^ next),
            next,
            state,
            api,
            shop,
            options,
        })
    }

    /// Runs until `stop`: orders at the configured rate, the world every second.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let started = self.next;
        let mut due = tokio::time::Instant::now();
        loop {
            let placed = self.next - started;
            if tokio::time::Instant::now() >= due && self.options.limit.is_none_or(|l| placed < l) {
                if let Err(e) = self.place().await {
                    tracing::warn!(error = %e, "demo order not placed");
                }
                due += if placed < self.options.burst {
                    Duration::from_secs(1)
                } else {
                    self.options.every
                };
            }
            if let Err(e) = self.world().await {
                tracing::warn!(error = %e, "demo world step failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Places the next order on its channel; every 25th, the supplier's delivery of the scarce
    /// items arrives first (backorders move on).
    pub async fn place(&mut self) -> anyhow::Result<DemoOrder> {
        if self.next % 25 == 24 {
            for (sku, units) in [("TEAPOT-CAST", 2), ("GRINDER-BURR", 4)] {
                self.api
                    .mutate("receiveStock", "mutation($s: String!, $w: ID!, $q: Int!, $r: String) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: $q, reference: $r}) { userErrors { field message } } }", json!({ "s": sku, "w": self.shop.east, "q": units, "r": format!("PO-{}", 1000 + self.next / 25) }))
                    .await?;
            }
        }
        let o = shoppers::order(&mut self.rng, self.next, Utc::now());
        self.next += 1;
        match o.channel {
            Channel::Shopify => {
                let body = serde_json::to_vec(&shoppers::shopify_payload(&o))?;
                let sig = channel_signature::sign_base64(seed::SHOPIFY_SECRET, &body);
                let id = uuid::Uuid::now_v7().to_string();
                let headers = headers(&[
                    ("content-type", "application/json"),
                    ("x-shopify-topic", "orders/create"),
                    ("x-shopify-hmac-sha256", &sig),
                    ("x-shopify-shop-domain", "orderflow-demo.myshopify.com"),
                    ("x-shopify-webhook-id", &id),
                    (
                        "x-shopify-api-version",
                        crate::channels::shopify::API_VERSION,
                    ),
                ])?;
                self.webhook(Platform::Shopify, self.shop.shopify, &headers, &body)
                    .await?;
            }
            Channel::Woocommerce => {
                let body = serde_json::to_vec(&shoppers::woocommerce_payload(&o))?;
                let sig = channel_signature::sign_base64(seed::WOO_SECRET, &body);
                let id = uuid::Uuid::now_v7().to_string();
                let headers = headers(&[
                    ("content-type", "application/json"),
                    ("x-wc-webhook-topic", "order.created"),
                    ("x-wc-webhook-signature", &sig),
                    ("x-wc-webhook-delivery-id", &id),
                    (
                        "x-wc-webhook-source",
                        "https://shop.orderflow-demo.example/",
                    ),
                ])?;
                self.webhook(
                    Platform::Woocommerce,
                    self.shop.woocommerce,
                    &headers,
                    &body,
                )
                .await?;
            }
            Channel::Api => {
                self.api
                    .mutate("createOrder", "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { field message } } }", json!({ "i": shoppers::api_input(&o) }))
                    .await?;
            }
        }
        self.state.wake_workers.notify_one();
        Ok(o)
    }

    /// A platform's order webhook, received as the HTTP endpoint receives it.
    async fn webhook(
        &self,
        platform: Platform,
        connection: uuid::Uuid,
        headers: &HeaderMap,
        body: &[u8],
    ) -> anyhow::Result<()> {
        let r = deliveries::receive(
            &self.state,
            platform,
            ConnectionId(connection),
            headers,
            body,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.public_message()))?;
        anyhow::ensure!(
            matches!(r, deliveries::Receipt::Accepted(_)),
            "{} webhook: {r:?}",
            platform.as_str()
        );
        Ok(())
    }

    /// One turn of the world: parcels scanned, shoppers acting, returns coming back.
    pub async fn world(&mut self) -> anyhow::Result<Step> {
        let mut step = Step::default();
        self.parcels(&mut step).await?;
        self.shoppers(&mut step).await?;
        self.returns(&mut step).await?;
        if step != Step::default() {
            self.state.wake_workers.notify_one();
        }
        Ok(step)
    }

    async fn tx(&self) -> anyhow::Result<TenantTx> {
        Ok(TenantTx::begin(&self.state.db, self.api.principal().tenant).await?)
    }

    /// The demo carrier's webhook for one scan of `number`, signed as the carrier signs.
    async fn scan(
        &self,
        number: &str,
        status: &str,
        detail: &str,
        message: &str,
        location: &str,
    ) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&json!({
            "eventId": uuid::Uuid::now_v7().to_string(), "trackingNumber": number, "status": status,
            "detail": detail, "message": message, "location": location,
            "occurredAt": Utc::now().to_rfc3339(),
        }))?;
        let sig = signature::sign_orderflow(seed::CARRIER_SECRET, &body, Utc::now().timestamp());
        let headers = headers(&[
            ("content-type", "application/json"),
            ("x-orderflow-signature", &sig),
        ])?;
        let r = tracking::receive(&self.state, self.shop.carrier, &headers, None, &body).await?;
        anyhow::ensure!(
            matches!(
                r,
                tracking::Receipt::Applied { .. } | tracking::Receipt::Duplicate
            ),
            "tracking webhook: {r:?}"
        );
        Ok(())
    }

    async fn parcels(&mut self, step: &mut Step) -> anyhow::Result<()> {
        let transit = chrono::Duration::from_std(self.options.pace.transit)?;
        let now = Utc::now();
        let tx = self.tx().await?;
        let moving = shipments::Entity::find()
            .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(shipments::Column::CarrierId.eq(self.shop.carrier))
            .filter(shipments::Column::TrackingNumber.is_not_null())
            .filter(shipments::Column::VoidedAt.is_null())
            .filter(shipments::Column::DeliveredAt.is_null())
            .order_by_asc(shipments::Column::LabelledAt)
            .limit(100)
            .all(tx.conn())
            .await?;
        let ids: Vec<uuid::Uuid> = moving.iter().map(|s| s.order_id).collect();
        let order_fate = fates(&tx, &ids).await?;
        tx.commit().await?;
        for s in moving {
            let Some(number) = s.tracking_number.clone() else {
                continue;
            };
            let last = s.last_scan_at.or(s.labelled_at).unwrap_or(s.created_at);
            if now - last < transit {
                continue;
            }
            let (status, detail, message) = match s.status.as_str() {
                "in_transit" if order_fate(&s.order_id, 1) % 100 < 8 => (
                    "failure",
                    "delivery_attempted",
                    "Delivery attempted: no one available to sign",
                ),
                "in_transit" | "failure" => {
                    ("out_for_delivery", "out_for_delivery", "Out for delivery")
                }
                "out_for_delivery" => (
                    "delivered",
                    "arrived_at_destination",
                    "Delivered, front door",
                ),
                "delivered" | "return_to_sender" => continue,
                _ => (
                    "in_transit",
                    "departed_facility",
                    "Picked up and departed the facility",
                ),
            };
            self.scan(&number, status, detail, message, "Regional hub")
                .await?;
            step.scans += 1;
            if status == "in_transit" && order_fate(&s.order_id, 2) % 100 < 12 {
                self.ask_where(&s, step).await?;
            }
        }
        Ok(())
    }

    /// A shopper writes in: where is my order?
    async fn ask_where(&self, s: &shipments::Model, step: &mut Step) -> anyhow::Result<()> {
        let tx = self.tx().await?;
        let order = crate::order::repo::get(&tx, crate::domain::OrderId(s.order_id)).await?;
        tx.commit().await?;
        let Some(order) = order else { return Ok(()) };
        let Some(email) = order.email.clone() else {
            return Ok(());
        };
        self.api
            .mutate("postSupportMessage", "mutation($i: PostSupportMessageInput!) { postSupportMessage(input: $i) { userErrors { field message } } }", json!({ "i": {
                "from": email, "fromName": order.customer_name,
                "subject": format!("Where is my order {}?", order.name),
                "text": format!("Hi, I ordered {} a few days ago. Where is my order? Can you tell me when it will arrive?", order.name),
            } }))
            .await?;
        step.messages += 1;
        Ok(())
    }

    /// Delivered orders: most shoppers rate them, some send something back.
    async fn shoppers(&mut self, step: &mut Step) -> anyhow::Result<()> {
        let after = chrono::Duration::from_std(self.options.pace.after)?;
        let tx = self.tx().await?;
        let t = tx.tenant().uuid();
        let mut delivered: Vec<uuid::Uuid> = shipments::Entity::find()
            .select_only()
            .column(shipments::Column::OrderId)
            .filter(shipments::Column::TenantId.eq(t))
            .filter(shipments::Column::DeliveredAt.lte(Utc::now() - after))
            .filter(shipments::Column::DeliveredAt.gte(Utc::now() - chrono::Duration::days(2)))
            .order_by_desc(shipments::Column::DeliveredAt)
            .limit(300)
            .into_tuple()
            .all(tx.conn())
            .await?;
        // An order of several parcels is one shopper's to rate.
        delivered.sort_unstable();
        delivered.dedup();
        let ids = delivered.clone();
        let rated: Vec<uuid::Uuid> = order_reviews::Entity::find()
            .select_only()
            .column(order_reviews::Column::OrderId)
            .filter(order_reviews::Column::TenantId.eq(t))
            .filter(order_reviews::Column::OrderId.is_in(ids.clone()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        let returned: Vec<uuid::Uuid> = returns::Entity::find()
            .select_only()
            .column(returns::Column::OrderId)
            .filter(returns::Column::TenantId.eq(t))
            .filter(returns::Column::OrderId.is_in(ids.clone()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        let order_fate = fates(&tx, &ids).await?;
        let mut to_return = Vec::new();
        for order in &delivered {
            let f = order_fate(order, 3) % 100;
            if f < 62 && !rated.contains(order) {
                let rating = match order_fate(order, 4) % 100 {
                    0..=44 => 5,
                    45..=76 => 4,
                    77..=90 => 3,
                    91..=95 => 2,
                    _ => 1,
                };
                let comment = [
                    "Terrible.",
                    "Not great.",
                    "Fine.",
                    "Good, arrived quickly.",
                    "Lovely, thank you!",
                ][rating as usize - 1];
                crate::lifecycle::notify::reviews::record(
                    &tx,
                    *order,
                    rating,
                    Some(comment.into()),
                )
                .await?;
                step.reviews += 1;
            } else if (62..76).contains(&f) && !returned.contains(order) {
                to_return.push(*order);
            }
        }
        tx.commit().await?;
        for order in to_return {
            let reason = ["changed_mind", "wrong_size", "damaged", "wrong_item"]
                [(order_fate(&order, 5) % 4) as usize];
            let r = self
                .api
                .mutate("createReturn", "mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { id } userErrors { field message } } }", json!({ "i": {
                    "orderId": global_id("Order", order).0,
                    "lines": [{ "lineIndex": 0, "quantity": 1 }],
                    "reason": reason,
                    "comment": match reason { "damaged" => "The box was crushed.", "wrong_item" => "This is not what I ordered.", _ => "Not for me after all." },
                } }))
                .await;
            match r {
                Ok(_) => step.returns += 1,
                // A line that cannot come back (already returned, final sale) is the policy's call.
                Err(e) => tracing::debug!(error = %e, "demo return refused"),
            }
        }
        Ok(())
    }

    /// Return parcels come back; received ones are inspected (some left for the merchant).
    async fn returns(&mut self, step: &mut Step) -> anyhow::Result<()> {
        let after = chrono::Duration::from_std(self.options.pace.after)?;
        let now = Utc::now();
        let tx = self.tx().await?;
        // Returns waiting on the shopper (no label yet) or left for the merchant to inspect
        // (the changed-mind ones) are not the demo's to move: leaving them out of the query
        // keeps the rest moving.
        let open = returns::Entity::find()
            .filter(returns::Column::TenantId.eq(tx.tenant().uuid()))
            .filter(returns::Column::Status.is_in(["approved", "in_transit", "received"]))
            .filter(returns::Column::TrackingNumber.is_not_null())
            .filter(returns::Column::UpdatedAt.lte(now - after))
            .filter(
                Condition::any()
                    .add(returns::Column::Status.ne("received"))
                    .add(returns::Column::Reason.ne(MERCHANTS)),
            )
            .order_by_asc(returns::Column::UpdatedAt)
            .limit(200)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        for r in open {
            if let Err(e) = self.move_return(&r, step).await {
                tracing::warn!(error = %e, r#return = %r.name, "demo return not moved");
            }
        }
        Ok(())
    }
}

impl Stream {
    async fn move_return(&self, r: &returns::Model, step: &mut Step) -> anyhow::Result<()> {
        match (r.status.as_str(), r.tracking_number.as_deref()) {
            ("approved", Some(number)) => {
                self.scan(
                    number,
                    "in_transit",
                    "departed_facility",
                    "Return picked up",
                    "Shopper's post office",
                )
                .await?;
                step.scans += 1;
            }
            ("in_transit", Some(number)) => {
                self.scan(
                    number,
                    "delivered",
                    "arrived_at_destination",
                    "Delivered to the warehouse",
                    "Louisville, KY",
                )
                .await?;
                step.scans += 1;
            }
            ("received", _) => {
                let (grade, fault) = match r.reason.as_str() {
                    "damaged" => ("C", true),
                    "wrong_item" => ("A", true),
                    _ => ("A", false),
                };
                self.api
                    .mutate("inspectReturn", "mutation($i: InspectReturnInput!) { inspectReturn(input: $i) { userErrors { field message } } }", json!({ "i": {
                        "returnId": global_id("Return", r.id).0,
                        "lines": [{ "lineIndex": 0, "grade": grade, "note": "Checked at the returns bench" }],
                        "merchantFault": fault,
                    } }))
                    .await?;
                step.inspections += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Returns for this reason wait for the merchant to inspect them.
const MERCHANTS: &str = "changed_mind";

fn headers(pairs: &[(&'static str, &str)]) -> anyhow::Result<HeaderMap> {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(HeaderName::from_static(k), HeaderValue::from_str(v)?);
    }
    Ok(h)
}

/// The stream's API: as the demo owner of `state`'s demo tenant.
pub async fn api_for_demo(state: &Arc<AppState>) -> anyhow::Result<Api> {
    let principal = super::owner_principal(state).await?;
    let schema = crate::schema::build_schema(state.clone());
    Ok(Api::new(schema, principal))
}
