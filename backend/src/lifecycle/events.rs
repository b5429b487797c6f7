//! What follows when an order's timeline grows: the one place its fan-out is decided.
//!
//! `record_event(s)` writes the timeline rows and hands them here, in the same transaction.
//! Each subscriber ([`Subscribers`], registered once at start-up by `app::event_subscribers`)
//! reacts by writing rows and jobs in that transaction: the shopper's email (notify), the
//! outbound webhook deliveries, the automation rules to run. So a reaction is never lost
//! (it commits with its cause or not at all) and never recurses (its work runs later, as a
//! job, in a transaction of its own).
//!
//! One reaction runs synchronously instead: a new order's `order.received` rules
//! ([`Subscribers::at_capture`]), in the capturing transaction, so that a hold, a tag or a
//! pinned warehouse is in place before the engine's first stage sees the order.
//!
//! When a channel changes an order it had sent (cancels it, changes its lines), capture hands
//! the change to [`Subscribers::channel_changed`] (the engine: labels voided, stock given
//! back or allocated again), in the capturing transaction.
//!
//! A carrier scan that no outbound parcel claims is offered to [`Subscribers::other_scan`]
//! (the returns, whose labels carriers track too), in tracking's transaction.
//!
//! Stages also say when a figure of a past day changed ([`restated`]: an order imported with
//! an old date, a cancellation, a late delivery scan, a rating changed): reporting forgets
//! that day's stored rollup, in the same transaction.
//!
//! After commit, callers publish the events to live subscriptions
//! (`order::timeline::publish_events`).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use entity::order_events::Model as OrderEvent;
use futures_util::future::BoxFuture;
use sea_orm::DbErr;

use crate::domain::OrderId;
use crate::tenancy::{Actor, TenantTx};

/// A reaction to events just recorded, written in the recording transaction.
pub type React = for<'a> fn(&'a TenantTx, &'a [OrderEvent]) -> BoxFuture<'a, Result<(), DbErr>>;

/// The synchronous reaction to a capture: returns the events it recorded in turn.
pub type AtCapture =
    for<'a> fn(&'a TenantTx, &'a [OrderEvent]) -> BoxFuture<'a, Result<Vec<OrderEvent>, DbErr>>;

/// The lifecycle's answer to a channel changing an order it had sent: returns the event it
/// recorded, if any.
pub type ChannelChanged =
    for<'a> fn(&'a TenantTx, ChannelChange) -> BoxFuture<'a, Result<Option<OrderEvent>, DbErr>>;

/// What a channel changed on an order it had already sent, for the lifecycle to follow (the
/// order row and its lines are already updated).
pub struct ChannelChange {
    pub order: OrderId,
    pub actor: Actor,
    pub actor_label: Option<String>,
    /// Cancelled on the channel before anything shipped: the order is cancelled already.
    pub cancelled: bool,
    /// Its line items changed.
    pub lines_changed: bool,
}

/// Who takes a carrier's scan of a tracking number no outbound parcel has.
pub type OtherScan =
    for<'a> fn(&'a TenantTx, CarrierScan<'a>) -> BoxFuture<'a, Result<ScanTaken, DbErr>>;

/// A carrier's scan of a tracking number that is not an outbound parcel's (a return label's,
/// say), in tracking's normalised vocabulary.
pub struct CarrierScan<'a> {
    pub carrier: uuid::Uuid,
    pub tracking_number: &'a str,
    /// As `shipping::status::TrackStatus` writes it.
    pub status: &'a str,
    pub detail: &'a str,
}

/// What became of a [`CarrierScan`].
pub enum ScanTaken {
    /// Nobody's tracking number.
    NotOurs,
    /// Known, and nothing moved: the events written, if any.
    Unchanged(Vec<OrderEvent>),
    /// Something moved on: the events written.
    Moved(Vec<OrderEvent>),
    /// Known, but not a step it can take now: why.
    Refused(String),
}

/// A reaction to a past day's figures changing.
pub type Restated = for<'a> fn(&'a TenantTx, DateTime<Utc>) -> BoxFuture<'a, Result<(), DbErr>>;

/// Who hears of recorded events.
pub struct Subscribers {
    reactions: Vec<(&'static str, React)>,
    at_capture: Option<AtCapture>,
    restated: Option<Restated>,
    other_scan: Option<OtherScan>,
    channel_changed: Option<ChannelChanged>,
}

static INSTALLED: OnceLock<Subscribers> = OnceLock::new();

impl Subscribers {
    pub fn new() -> Self {
        Self {
            reactions: Vec::new(),
            at_capture: None,
            restated: None,
            other_scan: None,
            channel_changed: None,
        }
    }

    /// Adds a reaction; reactions run in the order added.
    pub fn react(mut self, name: &'static str, react: React) -> Self {
        assert!(
            self.reactions.iter().all(|(n, _)| *n != name),
            "event subscriber {name} registered twice"
        );
        self.reactions.push((name, react));
        self
    }

    /// Sets the reaction run inside a capture.
    pub fn at_capture(mut self, hook: AtCapture) -> Self {
        self.at_capture = Some(hook);
        self
    }

    /// Sets the reaction to a past day's figures changing.
    pub fn restated(mut self, hook: Restated) -> Self {
        self.restated = Some(hook);
        self
    }

    /// Sets the lifecycle's answer to a channel changing an order it had sent.
    pub fn channel_changed(mut self, hook: ChannelChanged) -> Self {
        self.channel_changed = Some(hook);
        self
    }

    /// Sets who takes carrier scans no outbound parcel claims.
    pub fn other_scan(mut self, hook: OtherScan) -> Self {
        self.other_scan = Some(hook);
        self
    }

    /// The names of the reactions, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.reactions.iter().map(|(n, _)| *n).collect()
    }

    /// Makes these the process's subscribers (the application does, once, at start-up).
    pub fn install(make: impl FnOnce() -> Subscribers) -> &'static Subscribers {
        INSTALLED.get_or_init(make)
    }

    fn installed() -> Result<&'static Subscribers, DbErr> {
        // Recording events with nobody registered would lose their emails and webhooks: refuse.
        INSTALLED.get().ok_or_else(|| {
            DbErr::Custom("no event subscribers installed: build the application first".into())
        })
    }
}

impl Default for Subscribers {
    fn default() -> Self {
        Self::new()
    }
}

/// Hands events just recorded to every reaction, in the caller's transaction.
pub async fn dispatch(tx: &TenantTx, events: &[OrderEvent]) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    for (_, react) in &Subscribers::installed()?.reactions {
        react(tx, events).await?;
    }
    Ok(())
}

/// Runs the capture hook on a capture's events; returns the events it recorded.
pub async fn at_capture(tx: &TenantTx, events: &[OrderEvent]) -> Result<Vec<OrderEvent>, DbErr> {
    match Subscribers::installed()?.at_capture {
        Some(hook) => hook(tx, events).await,
        None => Ok(Vec::new()),
    }
}

/// Says that figures dated `at` changed after the fact, in the caller's transaction.
pub async fn restated(tx: &TenantTx, at: DateTime<Utc>) -> Result<(), DbErr> {
    match Subscribers::installed()?.restated {
        Some(hook) => hook(tx, at).await,
        None => Ok(()),
    }
}

/// Hands a carrier scan no outbound parcel claims to whoever takes such scans (returns), in
/// the caller's transaction.
pub async fn other_scan(tx: &TenantTx, scan: CarrierScan<'_>) -> Result<ScanTaken, DbErr> {
    match Subscribers::installed()?.other_scan {
        Some(hook) => hook(tx, scan).await,
        None => Ok(ScanTaken::NotOurs),
    }
}

/// Hands a channel's change of an order it had sent to the lifecycle, in the caller's
/// transaction; returns the event recorded, if any.
pub async fn channel_changed(
    tx: &TenantTx,
    change: ChannelChange,
) -> Result<Option<OrderEvent>, DbErr> {
    match Subscribers::installed()?.channel_changed {
        Some(hook) => hook(tx, change).await,
        None => Ok(None),
    }
}
