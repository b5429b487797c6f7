//! A return label bought from a remote carrier API (EasyPost's `is_return` shipment, Shippo's
//! `extra.is_return`), by a job of its own rather than inside the approval: the remote
//! accounts are quoted beside the rate cards, the cheapest service wins, and the label is
//! written onto the return. The shopper's approval email waits for it.
//!
//! As for a parcel's label (`shipping::purchase`), the purchase is written down on the return
//! before every call that may spend money — `requested`, then `buying` with the provider's
//! shipment and the rate, `pending` while the provider queues it, `bought` with the label —
//! and a run that finds `buying` asks the provider what exists before buying again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::returns;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, QueryFilter, prelude::*};
use serde::{Deserialize, Serialize};

use super::{Trip, draw};
use crate::domain::money::to_units;
use crate::domain::{OrderId, TenantId, WarehouseId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::notify::context::Links;
use crate::lifecycle::returns::repo::{self, Return};
use crate::lifecycle::returns::service::{self, By, LABELLED, approval_mail, book_label, items_of};
use crate::lifecycle::settings::fulfillment::Pick;
use crate::lifecycle::shipping::purchase::{
    Buying, RefundPostage, Seller, account_of, address_of, backoff, customs_line, download,
    quote_remote, remember_service,
};
use crate::lifecycle::shipping::remote::{
    self, Label, LabelFormat, ParcelSpec, Purchase, RemoteError, RemoteRate,
};
use crate::lifecycle::shipping::shop::{self, RateOption};
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::state::AppState;
use crate::tenancy::{Actor, AnyTx, TenantTx};

pub const REQUESTED: &str = "requested";
pub const BUYING: &str = "buying";
pub const PENDING: &str = "pending";
pub const BOUGHT: &str = "bought";
pub const FAILED: &str = "failed";
/// A return's label is on its way from a carrier: it cannot be cancelled meanwhile.
pub const UNDER_WAY: [&str; 3] = [BUYING, PENDING, BOUGHT];

/// Tries before a purchase stops waiting for an unavailable carrier.
const MAX_TRIES: i32 = 12;
/// How soon a queued purchase (Shippo's QUEUED) is asked about again.
const PENDING_POLL: Duration = Duration::from_secs(2);

/// The purchase as the return keeps it (`returns.label_purchase`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    /// The purchase's idempotency key (Shippo finds a transaction by it).
    pub key: uuid::Uuid,
    pub carrier_id: Option<uuid::Uuid>,
    pub remote_shipment: Option<String>,
    pub rate: Option<RemoteRate>,
    pub service_id: Option<uuid::Uuid>,
    pub transaction_id: Option<String>,
    pub label: Option<Label>,
    #[serde(default)]
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl Stored {
    pub fn of(r: &Return) -> Self {
        r.label_purchase
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }

    fn value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Marks an approved return's label as requested (its purchase key chosen now).
pub fn request(update: &mut returns::ActiveModel) {
    let stored = Stored {
        key: uuid::Uuid::now_v7(),
        ..Stored::default()
    };
    update.label_status = Set(Some(REQUESTED.into()));
    update.label_wait = Set(Some("label requested from the carrier".into()));
    update.label_purchase = Set(Some(stored.value()));
}

/// Queues the job that buys a requested return label.
pub async fn enqueue(tx: &TenantTx, ret: &Return) -> Result<(), DbErr> {
    BuyReturnLabel {
        ret: ret.id,
        order: ret.order_id,
        round: 0,
    }
    .enqueue(tx)
    .await
}

/// Buys (or goes on buying) a return's label.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BuyReturnLabel {
    pub ret: uuid::Uuid,
    pub order: uuid::Uuid,
    #[serde(default)]
    pub round: i32,
}

impl Job for BuyReturnLabel {
    const NAME: &'static str = "returns.buy_label";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(180);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("return-label:{}:{}", self.ret, self.round))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

impl Run for BuyReturnLabel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        run(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Everything a run needs, read in one transaction.
struct Scene {
    ret: Return,
    stored: Stored,
    order: Order,
    lines: Vec<OrderLine>,
    returned: Vec<repo::ReturnLine>,
    warehouse: entity::warehouses::Model,
    trip: Trip,
    signer: String,
}

impl Scene {
    fn items(&self) -> Vec<(&OrderLine, i64)> {
        items_of(&self.returned, &self.lines)
    }
}

async fn scene(state: &AppState, tenant: TenantId, id: uuid::Uuid) -> Result<Option<Scene>, DbErr> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(ret) = repo::get(&tx, id).await? else {
        return Ok(None);
    };
    let waiting = [REQUESTED, BUYING, PENDING, BOUGHT];
    if !waiting.contains(&ret.label_status.as_deref().unwrap_or_default()) {
        return Ok(None);
    }
    let (Some(order), Some(warehouse)) = (
        orders::get(&tx, OrderId(ret.order_id)).await?,
        match ret.warehouse_id {
            Some(w) => crate::catalog::warehouse_repo::get(&tx, WarehouseId(w)).await?,
            None => None,
        },
    ) else {
        return Ok(None);
    };
    let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
    let returned = repo::lines_of(&tx, &[ret.id]).await?;
    let trip = match Trip::of(&tx, &order, &items_of(&returned, &lines), &warehouse).await? {
        Ok(trip) => trip,
        Err(why) => {
            // The approval found both addresses; one was changed since.
            tx.commit().await?;
            let links = Links::of(&state.config);
            let tx = TenantTx::begin(&state.db, tenant).await?;
            let items = items_of(&returned, &lines);
            failed(&tx, &links, &ret, &order, &warehouse, &items, &why).await?;
            tx.commit().await?;
            return Ok(None);
        }
    };
    let signer = crate::tenancy::repo::tenants::get(&tx, tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    tx.commit().await?;
    Ok(Some(Scene {
        stored: Stored::of(&ret),
        ret,
        order,
        lines,
        returned,
        warehouse,
        trip,
        signer,
    }))
}

async fn run(state: &Arc<AppState>, tenant: TenantId, job: BuyReturnLabel) -> Result<(), DbErr> {
    let Some(s) = scene(state, tenant, job.ret).await? else {
        return Ok(());
    };
    let next = match s.ret.label_status.as_deref() {
        Some(REQUESTED) => quote(state, &s).await?,
        Some(BUYING) => recover_or_buy(state, &s).await,
        Some(PENDING) => match buying(state, &s) {
            Ok(calls) => {
                let transaction = s.stored.transaction_id.clone().unwrap_or_default();
                outcome(calls.poll(&transaction).await)
            }
            Err(why) => Next::Fail(why),
        },
        Some(BOUGHT) => match s.stored.label.clone() {
            Some(label) => Next::Finish(label),
            None => Next::Fail("the stored label is unreadable".into()),
        },
        _ => return Ok(()),
    };
    settle(state, s, job, next).await
}

/// What the run does next.
enum Next {
    /// The rate is written down as `buying`: buy it now.
    Buy,
    /// A rate card's service is cheapest: Orderflow draws the label.
    Local,
    Wait {
        why: String,
        after: Option<Duration>,
    },
    Pending(String),
    Bought(Label),
    Finish(Label),
    Fail(String),
    /// Someone else moved the return meanwhile.
    Stale,
}

fn outcome(answer: Result<Purchase, RemoteError>) -> Next {
    match answer {
        Ok(Purchase::Bought(label)) => Next::Bought(label),
        Ok(Purchase::Pending { transaction_id }) => Next::Pending(transaction_id),
        Err(RemoteError::Unavailable {
            reason,
            retry_after,
        }) => Next::Wait {
            why: reason,
            after: retry_after,
        },
        Err(RemoteError::Refused(why)) => Next::Fail(why),
    }
}

/// The return parcel as a remote carrier needs it: the outbound trip's addresses with
/// `is_return` (the carrier prints them swapped: from the shopper to the warehouse), a box,
/// customs abroad, and always a PDF (the shopper prints it at home).
fn spec_for(s: &Scene) -> Result<ParcelSpec, String> {
    let warehouse = address_of(Some(&s.warehouse.address), Some(&s.warehouse.name))
        .ok_or("the receiving warehouse has no address")?;
    let shopper = address_of(
        s.order.shipping_address.as_ref(),
        s.order.customer_name.as_deref(),
    )
    .ok_or("the order has no shipping address")?;
    let customs = s
        .items()
        .into_iter()
        .map(|(line, quantity)| {
            let variant = line.variant_id.and_then(|v| s.trip.ctx.variants.get(&v));
            customs_line(
                Some(line),
                line.sku.as_deref().unwrap_or_default(),
                variant,
                quantity,
                &s.order,
                &shopper.country,
            )
        })
        .collect();
    Ok(ParcelSpec {
        reference: s.ret.name.clone(),
        from: warehouse,
        to: shopper,
        weight_grams: s.trip.parcel.weight_grams.max(1),
        dimensions_mm: remote::box_for(&s.trip.sizes, s.trip.parcel.volume_cm3),
        customs,
        customs_signer: s.signer.clone(),
        label_format: LabelFormat::Pdf,
        is_return: true,
    })
}

/// Quotes the remote accounts beside the rate cards and writes the cheapest down.
async fn quote(state: &Arc<AppState>, s: &Scene) -> Result<Next, DbErr> {
    let tenant = TenantId(s.ret.tenant_id);
    let ctx = &s.trip.ctx;
    let priced = ctx
        .book
        .rates(&s.trip.origin, &s.trip.to, s.trip.parcel, Utc::now());
    let ship_on = Utc::now()
        .with_timezone(&s.trip.origin.timezone)
        .date_naive();
    let spec = spec_for(s);
    let quotes = quote_remote(
        state,
        tenant,
        &ctx.book,
        |_| spec.clone(),
        (s.trip.parcel.weight_grams, ship_on),
        priced,
    )
    .await;
    if let Some(why) = &quotes.address_problem {
        return Ok(Next::Fail(why.clone()));
    }
    if let Some((why, after)) = quotes.unavailable()
        && (quotes.options.is_empty() || s.stored.attempts < 3)
    {
        return Ok(Next::Wait { why, after });
    }
    let shopping = shop::shop(quotes.options.clone(), None, quotes.excluded.clone());
    let Some(pick) = shopping
        .recommendations
        .iter()
        .find(|r| r.pick == Pick::Cheapest)
    else {
        return Ok(Next::Fail(if shopping.excluded.is_empty() {
            "no carrier is set up to collect returns".to_owned()
        } else {
            format!(
                "no carrier service takes this parcel ({})",
                shopping.excluded.join("; ")
            )
        }));
    };
    let option: &RateOption = &shopping.options[pick.option];
    let (carrier, shipment, rate) = match quotes.seller(option) {
        Seller::RateCard => return Ok(Next::Local),
        Seller::Missing => {
            return Ok(Next::Fail(
                "the chosen rate is not in the carrier's answer".into(),
            ));
        }
        Seller::Remote {
            carrier,
            shipment,
            rate,
        } => (carrier, shipment, rate),
    };
    // Written before the call that spends money.
    let stored = Stored {
        carrier_id: Some(carrier),
        remote_shipment: Some(shipment.to_owned()),
        rate: Some(rate.clone()),
        service_id: Some(option.service_id),
        ..s.stored.clone()
    };
    let tx = TenantTx::begin(&state.db, tenant).await?;
    remember_service(&tx, carrier, option, rate).await?;
    let ours = advance(&tx, &s.ret, BUYING, &stored, None).await?;
    tx.commit().await?;
    Ok(if ours { Next::Buy } else { Next::Stale })
}

/// The purchase's calls to its provider, or why they cannot be made.
fn buying<'a>(state: &'a Arc<AppState>, s: &'a Scene) -> Result<Buying<'a>, String> {
    let c = s
        .stored
        .carrier_id
        .and_then(|id| s.trip.ctx.book.carrier(id))
        .ok_or("the carrier account is no longer active")?;
    let account = account_of(state, TenantId(s.ret.tenant_id), c)?;
    let rate = s
        .stored
        .rate
        .clone()
        .ok_or("the chosen rate was not kept")?;
    Ok(Buying {
        state,
        carrier: c,
        account,
        shipment: s.stored.remote_shipment.as_deref().unwrap_or_default(),
        rate,
        key: s.stored.key.to_string(),
        format: LabelFormat::Pdf,
    })
}

/// Found `buying`: an earlier run may have bought before it could write the answer down,
/// so the provider is asked first.
async fn recover_or_buy(state: &Arc<AppState>, s: &Scene) -> Next {
    let calls = match buying(state, s) {
        Ok(calls) => calls,
        Err(why) => return Next::Fail(why),
    };
    match calls.find().await {
        Ok(Some(found)) => outcome(Ok(found)),
        Ok(None) => outcome(calls.buy().await),
        Err(e) => outcome(Err(e)),
    }
}

/// Acts on what the run found, each outcome written in its own transaction, until the run
/// has nothing more to do now.
async fn settle(
    state: &Arc<AppState>,
    mut s: Scene,
    job: BuyReturnLabel,
    mut next: Next,
) -> Result<(), DbErr> {
    let tenant = TenantId(s.ret.tenant_id);
    loop {
        next = match next {
            Next::Buy => {
                // Written down as `buying`: read again, and buy in this run.
                let Some(fresh) = scene(state, tenant, s.ret.id).await? else {
                    return Ok(());
                };
                s = fresh;
                match buying(state, &s) {
                    Ok(calls) => outcome(calls.buy().await),
                    Err(why) => Next::Fail(why),
                }
            }
            Next::Bought(label) => {
                let stored = Stored {
                    label: Some(label.clone()),
                    ..s.stored.clone()
                };
                let tx = TenantTx::begin(&state.db, tenant).await?;
                let ours = advance(&tx, &s.ret, BOUGHT, &stored, None).await?;
                tx.commit().await?;
                if !ours {
                    return Ok(());
                }
                let Some(fresh) = scene(state, tenant, s.ret.id).await? else {
                    return Ok(());
                };
                s = fresh;
                Next::Finish(label)
            }
            Next::Finish(label) => match download(state, &label.label_url).await {
                Ok((_, file, _)) if !file.is_empty() => return write(state, &s, label, file).await,
                Ok((media_type, ..)) => Next::Fail(format!(
                    "the carrier's label file is {media_type}, not a printable page"
                )),
                Err(e) => outcome(Err(e)),
            },
            Next::Pending(transaction) => {
                let stored = Stored {
                    transaction_id: Some(transaction),
                    ..s.stored.clone()
                };
                let tx = TenantTx::begin(&state.db, tenant).await?;
                if advance(
                    &tx,
                    &s.ret,
                    PENDING,
                    &stored,
                    Some("the carrier is still buying the label"),
                )
                .await?
                {
                    again(&tx, job, PENDING_POLL).await?;
                }
                tx.commit().await?;
                return Ok(());
            }
            Next::Wait { why, after } => {
                let tries = s.stored.attempts + 1;
                if tries >= MAX_TRIES {
                    next = Next::Fail(format!(
                        "the carrier stayed unavailable over {tries} tries: {why}"
                    ));
                    continue;
                }
                return wait(state, &s, job, tries, &why, after).await;
            }
            Next::Fail(why) => return fail(state, &s, &why).await,
            Next::Local => return local(state, &s).await,
            Next::Stale => return Ok(()),
        };
    }
}

/// Writes the return's next label state and purchase, if it is still in the state it was
/// read in (false when another run or staff moved it meanwhile: this run stops).
async fn advance(
    tx: &TenantTx,
    ret: &Return,
    state: &str,
    stored: &Stored,
    wait: Option<&str>,
) -> Result<bool, DbErr> {
    let row = returns::ActiveModel {
        label_status: Set(Some(state.to_owned())),
        label_purchase: Set(Some(stored.value())),
        label_wait: Set(wait.map(str::to_owned)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let moved = returns::Entity::update_many()
        .set(row)
        .filter(returns::Column::TenantId.eq(ret.tenant_id))
        .filter(returns::Column::Id.eq(ret.id))
        .filter(returns::Column::Status.eq(repo::APPROVED))
        .filter(returns::Column::LabelStatus.eq(ret.label_status.clone().unwrap_or_default()))
        .exec(tx.conn())
        .await?;
    Ok(moved.rows_affected == 1)
}

/// The carrier is unavailable: the return shows why, and the job runs again later.
async fn wait(
    state: &Arc<AppState>,
    s: &Scene,
    job: BuyReturnLabel,
    tries: i32,
    why: &str,
    after: Option<Duration>,
) -> Result<(), DbErr> {
    let wait = backoff(tries, after);
    let stored = Stored {
        attempts: tries,
        last_error: Some(why.to_owned()),
        ..s.stored.clone()
    };
    let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    let said = format!(
        "waiting for the carrier (try {tries}, again at {}): {why}",
        retry_at.format("%H:%M:%S UTC")
    );
    let tx = TenantTx::begin(&state.db, TenantId(s.ret.tenant_id)).await?;
    let status = s.ret.label_status.clone().unwrap_or_default();
    if advance(&tx, &s.ret, &status, &stored, Some(&said)).await? {
        again(&tx, job, wait).await?;
    }
    tx.commit().await
}

async fn again(tx: &TenantTx, job: BuyReturnLabel, after: Duration) -> Result<(), DbErr> {
    BuyReturnLabel {
        round: job.round + 1,
        ..job
    }
    .enqueue_at(
        tx,
        Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
    )
    .await
}

fn by() -> By {
    By {
        actor: Actor::System,
        label: Some("return label job".into()),
    }
}

/// The label bought and fetched: written onto the return, booked, and the shopper told.
async fn write(state: &Arc<AppState>, s: &Scene, label: Label, file: Vec<u8>) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, TenantId(s.ret.tenant_id)).await?;
    let Some(ret) = repo::get_for_update(&tx, s.ret.id).await? else {
        return Ok(());
    };
    if ret.status != repo::APPROVED || ret.label_status.as_deref() != Some(BOUGHT) {
        return Ok(());
    }
    let cost_units = to_units(label.cost).unwrap_or(0);
    let ret = repo::update(
        &tx,
        returns::ActiveModel {
            tenant_id: Set(ret.tenant_id),
            id: Set(ret.id),
            carrier_id: Set(s.stored.carrier_id),
            service_id: Set(s.stored.service_id),
            tracking_number: Set(Some(label.tracking_code.clone())),
            label_cost_units: Set(Some(cost_units)),
            label_currency: Set(Some(label.currency.clone())),
            label_status: Set(Some(LABELLED.into())),
            label_pdf: Set(Some(file)),
            label_wait: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    let by = by();
    if !s.order.test {
        book_label(
            &tx,
            &s.order,
            &ret,
            cost_units,
            &label.currency,
            &label.tracking_code,
            &by,
        )
        .await?;
    }
    let links = Links::of(&state.config);
    let items = s.items();
    service::record(
        &tx,
        &ret,
        &by,
        "return.label_ready",
        format!(
            "Return label for {} bought: {} {}, tracking {}, {} {}",
            ret.name, label.carrier, label.service, label.tracking_code, label.cost, label.currency
        ),
        None,
        approval_mail(&links, &ret, &items, Some(&s.warehouse), true),
    )
    .await?;
    tx.commit().await
}

/// A rate card's service was cheapest: Orderflow draws the label, as it would with no API.
async fn local(state: &Arc<AppState>, s: &Scene) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, TenantId(s.ret.tenant_id)).await?;
    let Some(ret) = repo::get_for_update(&tx, s.ret.id).await? else {
        return Ok(());
    };
    if ret.status != repo::APPROVED || ret.label_status.as_deref() != Some(REQUESTED) {
        return Ok(());
    }
    let items = s.items();
    let links = Links::of(&state.config);
    let b = match draw(&tx, &s.order, &s.trip, &s.warehouse).await? {
        Ok(b) => b,
        Err(why) => {
            failed(&tx, &links, &ret, &s.order, &s.warehouse, &items, &why).await?;
            return tx.commit().await;
        }
    };
    let ret = repo::update(
        &tx,
        returns::ActiveModel {
            tenant_id: Set(ret.tenant_id),
            id: Set(ret.id),
            carrier_id: Set(Some(b.carrier_id)),
            service_id: Set(Some(b.service_id)),
            tracking_number: Set(Some(b.tracking_number.clone())),
            label_cost_units: Set(Some(b.cost_units)),
            label_currency: Set(Some(b.currency.clone())),
            label_status: Set(Some(LABELLED.into())),
            label_pdf: Set(Some(b.pdf)),
            label_zpl: Set(Some(b.zpl)),
            label_wait: Set(None),
            updated_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    let by = by();
    if !s.order.test {
        book_label(
            &tx,
            &s.order,
            &ret,
            b.cost_units,
            &b.currency,
            &b.tracking_number,
            &by,
        )
        .await?;
    }
    service::record(
        &tx,
        &ret,
        &by,
        "return.label_ready",
        format!(
            "Return label for {} drawn from the rate cards (cheaper than the carrier APIs): {}",
            ret.name, b.summary
        ),
        None,
        approval_mail(&links, &ret, &items, Some(&s.warehouse), true),
    )
    .await?;
    tx.commit().await
}

/// No label can be had: the return says why, and the shopper is told where to send it.
async fn fail(state: &Arc<AppState>, s: &Scene, why: &str) -> Result<(), DbErr> {
    let tx = TenantTx::begin(&state.db, TenantId(s.ret.tenant_id)).await?;
    let Some(ret) = repo::get_for_update(&tx, s.ret.id).await? else {
        return Ok(());
    };
    if ret.label_status != s.ret.label_status {
        return Ok(());
    }
    let links = Links::of(&state.config);
    failed(&tx, &links, &ret, &s.order, &s.warehouse, &s.items(), why).await?;
    tx.commit().await
}

async fn failed(
    tx: &TenantTx,
    links: &Links<'_>,
    ret: &Return,
    order: &Order,
    warehouse: &entity::warehouses::Model,
    items: &[(&OrderLine, i64)],
    why: &str,
) -> Result<(), DbErr> {
    let mut stored = Stored::of(ret);
    stored.last_error = Some(why.to_owned());
    // Bought but unusable (its file could not be had): the postage goes back.
    refund_postage(tx, ret).await?;
    let ret = repo::update(
        tx,
        returns::ActiveModel {
            tenant_id: Set(ret.tenant_id),
            id: Set(ret.id),
            label_status: Set(Some(FAILED.into())),
            label_purchase: Set(Some(stored.value())),
            label_wait: Set(Some(why.to_owned())),
            updated_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    tracing::info!(ret = %ret.id, order = %order.id, why, "return label not bought");
    service::record(
        tx,
        &ret,
        &by(),
        "return.label_failed",
        format!(
            "No return label for {} ({why}): the shopper sends it back themselves",
            ret.name
        ),
        Some(why.to_owned()),
        approval_mail(links, &ret, items, Some(warehouse), false),
    )
    .await?;
    Ok(())
}

/// A return cancelled after its label was bought from a carrier: the postage is asked back.
pub async fn refund_postage(tx: &TenantTx, ret: &Return) -> Result<(), DbErr> {
    let stored = Stored::of(ret);
    let (Some(carrier), Some(label)) = (stored.carrier_id, stored.label) else {
        return Ok(());
    };
    RefundPostage {
        carrier,
        shipment: ret.id,
        refund_id: label.refund_id,
        round: 0,
        order: Some(ret.order_id),
    }
    .enqueue(tx)
    .await
}
