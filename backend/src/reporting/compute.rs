//! Rolls up a run of local days from the operational tables: one ranged, indexed query per
//! measure for the whole run, each row put on its local day in Rust (the same code for SQLite
//! and PostgreSQL, and no timezone arithmetic in SQL).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    channel_stock_log, delivery_exceptions, inventory_movements, ledger_lines, order_events,
    order_reviews, orders, refunds, returns, shipments, stock_levels, support_threads,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::distinct::{Distinct, hash_of};
use super::period::Period;
use super::rollup::DayRollup;
use crate::lifecycle::ledger::book::Account;
use crate::lifecycle::support::repo::AUTO_REPLIED;
use crate::lifecycle::tracking::monitor::ExceptionKind;
use crate::tenancy::{AnyTx, TenantTx};

/// Ids per `IN (…)` list, well under every backend's parameter limit.
const CHUNK: usize = 500;

type Days = BTreeMap<NaiveDate, DayRollup>;

/// The rollups of every day of `period`, computed now.
pub async fn days(tx: &TenantTx, period: &Period) -> Result<Days, DbErr> {
    let mut out: Days = period
        .days()
        .into_iter()
        .map(|d| (d, DayRollup::default()))
        .collect();
    let range = period.bounds();
    orders_placed(tx, period, range, &mut out).await?;
    refunds_made(tx, period, range, &mut out).await?;
    costs_booked(tx, period, range, &mut out).await?;
    shipped(tx, period, range, &mut out).await?;
    delivered(tx, period, range, &mut out).await?;
    reviews(tx, period, range, &mut out).await?;
    returns_requested(tx, period, range, &mut out).await?;
    inventory(tx, period, range, &mut out).await?;
    tickets(tx, period, range, &mut out).await?;
    fraud(tx, period, range, &mut out).await?;
    stock_drift(tx, period, range, &mut out).await?;
    Ok(out)
}

type Range = (DateTime<Utc>, DateTime<Utc>);

fn on<'a>(out: &'a mut Days, period: &Period, at: DateTime<Utc>) -> Option<&'a mut DayRollup> {
    out.get_mut(&period.day_of(at))
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// Who placed an order: the customer, else the email, else the order alone.
fn buyer(customer: Option<Uuid>, email: Option<&str>, order: Uuid) -> u64 {
    match (customer, email) {
        (Some(c), _) => hash_of(c.as_bytes()),
        (None, Some(e)) if !e.trim().is_empty() => hash_of(e.trim().to_lowercase().as_bytes()),
        _ => hash_of(order.as_bytes()),
    }
}

async fn orders_placed(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use orders::Column as O;
    type Row = (
        Uuid,
        DateTime<Utc>,
        String,
        i64,
        Option<Uuid>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = orders::Entity::find()
        .select_only()
        .columns([
            O::Id,
            O::PlacedAt,
            O::Currency,
            O::TotalUnits,
            O::CustomerId,
            O::Email,
            O::State,
        ])
        .filter(O::TenantId.eq(tx.tenant().uuid()))
        .filter(O::PlacedAt.gte(r.0))
        .filter(O::PlacedAt.lt(r.1))
        .filter(O::Test.eq(false))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut buyers: HashMap<NaiveDate, Vec<u64>> = HashMap::new();
    let mut buyers_in: HashMap<(NaiveDate, String), Vec<u64>> = HashMap::new();
    for (id, placed, currency, total, customer, email, state) in rows {
        let day = p.day_of(placed);
        let Some(d) = out.get_mut(&day) else { continue };
        d.orders += 1;
        if state == "cancelled" || state == "rejected" {
            d.cancelled += 1;
            continue;
        }
        let who = buyer(customer, email.as_deref(), id);
        buyers.entry(day).or_default().push(who);
        buyers_in
            .entry((day, currency.clone()))
            .or_default()
            .push(who);
        let m = d.money.entry(currency).or_default();
        m.orders += 1;
        m.revenue += total;
    }
    for (day, hashes) in buyers {
        if let Some(d) = out.get_mut(&day) {
            d.customers = Distinct::from_hashes(hashes);
        }
    }
    for ((day, currency), hashes) in buyers_in {
        if let Some(m) = out.get_mut(&day).and_then(|d| d.money.get_mut(&currency)) {
            m.customers = Distinct::from_hashes(hashes);
        }
    }
    Ok(())
}

async fn refunds_made(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use refunds::Column as F;
    let rows: Vec<(DateTime<Utc>, String, i64)> = refunds::Entity::find()
        .select_only()
        .columns([F::CreatedAt, F::Currency, F::AmountUnits])
        .filter(F::TenantId.eq(tx.tenant().uuid()))
        .filter(F::CreatedAt.gte(r.0))
        .filter(F::CreatedAt.lt(r.1))
        .filter(F::Status.eq(crate::lifecycle::refund::repo::SUCCEEDED))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, currency, amount) in rows {
        if let Some(d) = on(out, p, at) {
            d.money.entry(currency).or_default().refunded += amount;
        }
    }
    Ok(())
}

/// Labels and payment fees, from the ledger (reversals net them out).
async fn costs_booked(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use ledger_lines::Column as L;
    let rows: Vec<(DateTime<Utc>, String, i64, i64)> = ledger_lines::Entity::find()
        .select_only()
        .columns([L::EffectiveAt, L::Currency, L::DebitUnits, L::CreditUnits])
        .filter(L::TenantId.eq(tx.tenant().uuid()))
        .filter(L::Account.is_in([
            Account::ShippingCost.as_str(),
            Account::PaymentFees.as_str(),
        ]))
        .filter(L::EffectiveAt.gte(r.0))
        .filter(L::EffectiveAt.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, currency, debit, credit) in rows {
        if let Some(d) = on(out, p, at) {
            d.money.entry(currency).or_default().costs += debit - credit;
        }
    }
    Ok(())
}

/// Parcels shipped, the orders whose first parcel they were (processing time), and the
/// parcels later reported as a wrong or missing item.
async fn shipped(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use shipments::Column as S;
    let t = tx.tenant().uuid();
    let rows: Vec<(Uuid, Uuid, DateTime<Utc>)> = shipments::Entity::find()
        .select_only()
        .columns([S::Id, S::OrderId, S::ShippedAt])
        .filter(S::TenantId.eq(t))
        .filter(S::ShippedAt.gte(r.0))
        .filter(S::ShippedAt.lt(r.1))
        .filter(S::VoidedAt.is_null())
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut bad: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    let ids: Vec<Uuid> = rows.iter().map(|(id, _, _)| *id).collect();
    for chunk in ids.chunks(CHUNK) {
        use delivery_exceptions::Column as E;
        let flagged: Vec<Uuid> = delivery_exceptions::Entity::find()
            .select_only()
            .column(E::ShipmentId)
            .filter(E::TenantId.eq(t))
            .filter(E::Kind.is_in([
                ExceptionKind::WrongItem.as_str(),
                ExceptionKind::MissingItem.as_str(),
            ]))
            .filter(E::ShipmentId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        bad.extend(flagged);
    }
    for (id, _, at) in &rows {
        if let Some(d) = on(out, p, *at) {
            d.shipments += 1;
            d.mispacked += u64::from(bad.contains(id));
        }
    }
    let mut orders: Vec<Uuid> = rows.iter().map(|(_, o, _)| *o).collect();
    orders.sort_unstable();
    orders.dedup();
    for chunk in orders.chunks(CHUNK) {
        // The first parcel of each order, whenever it shipped, and when the order came in.
        // No condition on shipped_at here: SQLite would then range-scan the shipped_at index
        // (every parcel ever shipped) instead of looking the orders up.
        let all: Vec<(Uuid, Option<DateTime<Utc>>)> = shipments::Entity::find()
            .select_only()
            .columns([S::OrderId, S::ShippedAt])
            .filter(S::TenantId.eq(t))
            .filter(S::OrderId.is_in(chunk.iter().copied()))
            .filter(S::VoidedAt.is_null())
            .into_tuple()
            .all(tx.conn())
            .await?;
        let mut first: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        for (o, at) in all.into_iter().filter_map(|(o, at)| Some((o, at?))) {
            let e = first.entry(o).or_insert(at);
            *e = (*e).min(at);
        }
        let received: Vec<(Uuid, DateTime<Utc>)> = orders::Entity::find()
            .select_only()
            .columns([orders::Column::Id, orders::Column::CreatedAt])
            .filter(orders::Column::TenantId.eq(t))
            .filter(orders::Column::Id.is_in(chunk.iter().copied()))
            .filter(orders::Column::Test.eq(false))
            .into_tuple()
            .all(tx.conn())
            .await?;
        for (o, came) in received {
            let Some(at) = first.get(&o).copied() else {
                continue;
            };
            if at < r.0 || at >= r.1 {
                continue;
            }
            if let Some(d) = on(out, p, at) {
                d.orders_shipped += 1;
                d.processing.add(secs(came, at));
            }
        }
    }
    Ok(())
}

async fn delivered(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use shipments::Column as S;
    type Row = (DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = shipments::Entity::find()
        .select_only()
        .columns([S::DeliveredAt, S::ShippedAt, S::PromisedAt])
        .filter(S::TenantId.eq(tx.tenant().uuid()))
        .filter(S::DeliveredAt.gte(r.0))
        .filter(S::DeliveredAt.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, shipped, promised) in rows {
        let Some(d) = on(out, p, at) else { continue };
        d.deliveries += 1;
        if let Some(s) = shipped {
            d.shipping.add(secs(s, at));
            d.shipping_secs += secs(s, at);
        }
        if let Some(by) = promised {
            d.promised += 1;
            d.on_time += u64::from(at <= by);
        }
    }
    Ok(())
}

async fn reviews(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use order_reviews::Column as V;
    let rows: Vec<(DateTime<Utc>, i32)> = order_reviews::Entity::find()
        .select_only()
        .columns([V::CreatedAt, V::Rating])
        .filter(V::TenantId.eq(tx.tenant().uuid()))
        .filter(V::CreatedAt.gte(r.0))
        .filter(V::CreatedAt.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, rating) in rows {
        if let Some(d) = on(out, p, at) {
            d.reviews += 1;
            d.rating_sum += u64::try_from(rating).unwrap_or(0);
            d.satisfied += u64::from(rating >= 4);
        }
    }
    Ok(())
}

async fn returns_requested(
    tx: &TenantTx,
    p: &Period,
    r: Range,
    out: &mut Days,
) -> Result<(), DbErr> {
    use crate::lifecycle::returns::repo::{CANCELLED, REJECTED};
    use returns::Column as R;
    let rows: Vec<DateTime<Utc>> = returns::Entity::find()
        .select_only()
        .column(R::CreatedAt)
        .filter(R::TenantId.eq(tx.tenant().uuid()))
        .filter(R::CreatedAt.gte(r.0))
        .filter(R::CreatedAt.lt(r.1))
        .filter(R::Status.is_not_in([CANCELLED, REJECTED]))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for at in rows {
        if let Some(d) = on(out, p, at) {
            d.returns += 1;
        }
    }
    Ok(())
}

/// Units shipped per day, and units on hand at each day's end: today's stock less every
/// movement since.
async fn inventory(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use inventory_movements::Column as M;
    let t = tx.tenant().uuid();
    let on_hand: Vec<i64> = stock_levels::Entity::find()
        .select_only()
        .column(stock_levels::Column::OnHand)
        .filter(stock_levels::Column::TenantId.eq(t))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let now_on_hand: i64 = on_hand.iter().sum();
    // What moved after the run (to now) in one sum; the run's own movements one by one.
    let after: Option<i64> = inventory_movements::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(on_hand_delta), 0) AS BIGINT)"),
            "moved",
        )
        .filter(M::TenantId.eq(t))
        .filter(M::At.gte(r.1))
        .into_tuple()
        .one(tx.conn())
        .await?;
    let mut moves: Vec<(DateTime<Utc>, String, i64)> = inventory_movements::Entity::find()
        .select_only()
        .columns([M::At, M::Kind, M::OnHandDelta])
        .filter(M::TenantId.eq(t))
        .filter(M::At.gte(r.0))
        .filter(M::At.lt(r.1))
        .filter(M::OnHandDelta.ne(0))
        .into_tuple()
        .all(tx.conn())
        .await?;
    moves.sort_by_key(|(at, _, _)| *at);
    for (at, kind, delta) in &moves {
        if kind == "shipment"
            && let Some(d) = on(out, p, *at)
        {
            d.units_shipped += u64::try_from(-delta).unwrap_or(0);
        }
    }
    // Walk back from now: the stock at a day's end is now's less what moved after it.
    let mut later: i64 = after.unwrap_or(0);
    let mut i = moves.len();
    for day in p.days().into_iter().rev() {
        let end = Period::day_bounds(day, p.tz).1;
        while i > 0 && moves[i - 1].0 >= end {
            later += moves[i - 1].2;
            i -= 1;
        }
        if let Some(d) = out.get_mut(&day) {
            d.on_hand_end = now_on_hand - later;
        }
    }
    Ok(())
}

async fn tickets(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use support_threads::Column as T;
    let rows: Vec<(DateTime<Utc>, String)> = support_threads::Entity::find()
        .select_only()
        .columns([T::CreatedAt, T::Handling])
        .filter(T::TenantId.eq(tx.tenant().uuid()))
        .filter(T::CreatedAt.gte(r.0))
        .filter(T::CreatedAt.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, handling) in rows {
        if let Some(d) = on(out, p, at) {
            d.tickets += 1;
            d.auto_resolved += u64::from(handling == AUTO_REPLIED);
        }
    }
    Ok(())
}

/// Each order's first hold for fraud review (an order held again counts once, on its first
/// hold, even when that was before this run), the approvals and rejections that followed, and
/// the orders the score rejected outright — each on the day it happened.
async fn fraud(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use order_events::Column as E;
    let t = tx.tenant().uuid();
    let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = order_events::Entity::find()
        .select_only()
        .columns([E::OrderId, E::Kind, E::ActorKind, E::At])
        .filter(E::TenantId.eq(t))
        .filter(E::Kind.is_in([HELD, APPROVED, REJECTED]))
        .filter(E::At.gte(r.0))
        .filter(E::At.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let mut orders: Vec<Uuid> = rows.iter().map(|(o, ..)| *o).collect();
    orders.sort_unstable();
    orders.dedup();
    // When each of these orders was first held, whenever that was.
    let mut first: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for chunk in orders.chunks(CHUNK) {
        let holds: Vec<(Uuid, DateTime<Utc>)> = order_events::Entity::find()
            .select_only()
            .columns([E::OrderId, E::At])
            .filter(E::TenantId.eq(t))
            .filter(E::Kind.eq(HELD))
            .filter(E::OrderId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(tx.conn())
            .await?;
        for (o, at) in holds {
            let e = first.entry(o).or_insert(at);
            *e = (*e).min(at);
        }
    }
    for (order, kind, actor, at) in &rows {
        let Some(d) = on(out, p, *at) else { continue };
        match kind.as_str() {
            HELD if first.get(order) == Some(at) => d.fraud_holds += 1,
            APPROVED => d.fraud_approved += 1,
            REJECTED if actor == "system" => d.fraud_auto_rejected += 1,
            // A staff rejection is a fraud outcome when the order was in fraud review.
            REJECTED if first.get(order).is_some_and(|h| h <= at) => d.fraud_rejected += 1,
            _ => {}
        }
    }
    Ok(())
}

/// Listings the drift checks found showing another figure than pushed (and corrected), on
/// the day each check ran.
async fn stock_drift(tx: &TenantTx, p: &Period, r: Range, out: &mut Days) -> Result<(), DbErr> {
    use channel_stock_log::Column as L;
    let rows: Vec<(DateTime<Utc>, i32)> = channel_stock_log::Entity::find()
        .select_only()
        .columns([L::CreatedAt, L::Changed])
        .filter(L::TenantId.eq(tx.tenant().uuid()))
        .filter(L::Kind.eq("drift"))
        .filter(L::CreatedAt.gte(r.0))
        .filter(L::CreatedAt.lt(r.1))
        .into_tuple()
        .all(tx.conn())
        .await?;
    for (at, changed) in rows {
        if let Some(d) = on(out, p, at) {
            d.stock_drift += u64::try_from(changed).unwrap_or(0);
        }
    }
    Ok(())
}

const HELD: &str = "order.fraud_review";
const APPROVED: &str = "order.fraud_approved";
const REJECTED: &str = "order.rejected";

/// Orders held for fraud review in `period` that are still waiting, now.
pub async fn fraud_pending(tx: &TenantTx, period: &Period) -> Result<u64, DbErr> {
    use order_events::Column as E;
    let t = tx.tenant().uuid();
    let (from, to) = period.bounds();
    let mut held: Vec<Uuid> = order_events::Entity::find()
        .select_only()
        .column(E::OrderId)
        .filter(E::TenantId.eq(t))
        .filter(E::Kind.eq(HELD))
        .filter(E::At.gte(from))
        .filter(E::At.lt(to))
        .into_tuple()
        .all(tx.conn())
        .await?;
    held.sort_unstable();
    held.dedup();
    let mut waiting = 0;
    for chunk in held.chunks(CHUNK) {
        waiting += orders::Entity::find()
            .filter(orders::Column::TenantId.eq(t))
            .filter(orders::Column::Id.is_in(chunk.iter().copied()))
            .filter(orders::Column::State.eq("fraud_review"))
            .count(tx.conn())
            .await?;
    }
    Ok(waiting)
}
