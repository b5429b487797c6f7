//! The jobs one stage sets going for another: their messages live here, beneath the stages
//! that enqueue them (capture, inventory, shipping, staff actions); how they run is their
//! owners' (the engine's in `engine/jobs.rs`, the delivery watch's in `tracking/watch.rs`).

use chrono::{Duration, Utc};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

use crate::domain::{OrderId, TenantId};
use crate::jobs::Job;
use crate::tenancy::TenantTx;

/// At most this many orders are decided in one transaction.
pub const BATCH: u64 = 64;

/// Moves one order through the automated stages (one pending per order); batched.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct AdvanceOrder {
    #[serde(rename = "orderId")]
    pub order: OrderId,
}

impl Job for AdvanceOrder {
    const NAME: &'static str = "order.advance";
    const BATCH: u64 = BATCH;
    /// Orders arriving one by one would each pay a batch's fixed cost.
    const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("advance:{}", self.order.uuid()))
    }

    fn order(&self) -> Option<OrderId> {
        Some(self.order)
    }
}

/// Gives back an unpaid order's reservation when it lapses.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ExpireReservation {
    #[serde(rename = "orderId")]
    pub order: OrderId,
}

impl Job for ExpireReservation {
    const NAME: &'static str = "order.reservation_expiry";

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("expire:{}", self.order.uuid()))
    }

    fn order(&self) -> Option<OrderId> {
        Some(self.order)
    }
}

/// Stock became available: the tenant's backordered orders try again (one pending retry
/// per tenant, so a receipt of a hundred lines causes one pass).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct RetryBackorders {}

impl Job for RetryBackorders {
    const NAME: &'static str = "inventory.restocked";

    fn dedupe_key(&self, tenant: TenantId) -> Option<String> {
        Some(format!("restocked:{}", tenant.uuid()))
    }
}

/// After stock grew: retry the tenant's backorders shortly.
pub async fn schedule_restock(tx: &TenantTx) -> Result<(), DbErr> {
    RetryBackorders {}
        .enqueue_at(tx, Utc::now() + Duration::seconds(1))
        .await
}

/// The watch over a tenant's parcels: one pending per tenant, scheduling its next run.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct WatchDeliveries {}

impl Job for WatchDeliveries {
    const NAME: &'static str = "delivery.watch";

    fn dedupe_key(&self, tenant: TenantId) -> Option<String> {
        Some(format!("watch:{}", tenant.uuid()))
    }
}

/// How often the watch looks.
pub const WATCH_EVERY: Duration = Duration::hours(1);

/// Makes sure the tenant's watch runs (one pending per tenant), in the caller's transaction.
pub async fn schedule_watch(tx: &TenantTx, after: Duration) -> Result<(), DbErr> {
    WatchDeliveries {}.enqueue_at(tx, Utc::now() + after).await
}
