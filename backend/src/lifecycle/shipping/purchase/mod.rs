//! Labels bought from a remote carrier API (EasyPost, Shippo), each by a job of its own
//! rather than inside the transaction that asked for it: the parcel is marked as waiting for
//! its label, the job quotes every remote account (and prices the rate cards), buys the rate
//! the tenant's pick recommends, and writes the label back.
//!
//! A purchase is written down before every call that may spend money: `requested`, then
//! `buying` with the provider's shipment and the chosen rate, then `bought` with the label,
//! then `done`. A job that finds `buying` after a crash asks the provider what exists for
//! that shipment before buying again, so a retry or a crash never buys twice.

mod buy;
mod quote;
mod refund;
mod write;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::label_purchases;
use rust_decimal::Decimal;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, QueryFilter, prelude::*};
use serde::{Deserialize, Serialize};

pub(crate) use self::buy::Buying;
use self::buy::{buy, chosen_of, failed_call, poll, recover_or_buy};
use self::quote::quote_and_choose;
pub use self::quote::remote_service_id;
pub(crate) use self::quote::{
    Seller, address_of, customs_line, quote_remote, remember_service, sides_of,
};
pub use self::refund::RefundPostage;
pub(crate) use self::write::download;
pub use self::write::ship_when_labelled;
use self::write::{buy_locally, hold, write_label};
use super::carrier::{CarrierSetup, secret_context_of};
use super::context::Context;
use super::remote::{Account, Label, LabelFormat, RemoteRate};
use super::repo::{self, Shipment};
use super::service::{Choice, LabelError};
use super::shop::{RateOption, Shopping};
use crate::domain::{OrderId, TenantId, VariantId};
use crate::jobs::{Claim, Job, JobError, Run};
use crate::lifecycle::settings::fulfillment::Pick;
use crate::lifecycle::transition::{self, By};
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::order::timeline::NewEvent;
use crate::state::AppState;
use crate::tenancy::{AnyTx, TenantTx};

pub const REQUESTED: &str = "requested";
pub const BUYING: &str = "buying";
pub const PENDING: &str = "pending";
pub const BOUGHT: &str = "bought";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";
/// Purchases still under way: a parcel has at most one.
pub const OPEN: [&str; 4] = [REQUESTED, BUYING, PENDING, BOUGHT];

/// How soon a queued purchase (Shippo's QUEUED) is asked about again.
const PENDING_POLL: Duration = Duration::from_secs(2);
/// Waits between tries while a carrier is unavailable, longest first capped.
const MAX_WAIT: Duration = Duration::from_secs(30 * 60);
/// Tries before a purchase stops waiting for an unavailable carrier and holds the order.
const MAX_TRIES: i32 = 12;

/// Buys (or goes on buying) one label purchase.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BuyLabel {
    pub purchase: uuid::Uuid,
    pub order: uuid::Uuid,
    /// Which try this is: each wait is a job of its own.
    #[serde(default)]
    pub round: i32,
}

impl Job for BuyLabel {
    const NAME: &'static str = "shipping.buy_label";
    const CALLS_OUT: bool = true;
    const TIME_LIMIT: Duration = Duration::from_secs(180);

    fn dedupe_key(&self, _: TenantId) -> Option<String> {
        Some(format!("label:{}:{}", self.purchase, self.round))
    }

    fn order(&self) -> Option<OrderId> {
        Some(OrderId(self.order))
    }
}

impl Run for BuyLabel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        run(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The rate a purchase buys, and the option it was chosen as (kept with the purchase).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chosen {
    rate_id: String,
    carrier: String,
    service: String,
    price: Decimal,
    currency: String,
    delivery_days: Option<u32>,
    option: RateOption,
    shopping: Shopping,
    pick: String,
    why: String,
}

impl Chosen {
    fn rate(&self) -> RemoteRate {
        RemoteRate {
            id: self.rate_id.clone(),
            carrier: self.carrier.clone(),
            service: self.service.clone(),
            price: self.price,
            currency: self.currency.clone(),
            delivery_days: self.delivery_days,
            delivery_date: None,
            carrier_account: None,
        }
    }

    fn choice(&self) -> Choice {
        match Pick::parse(&self.pick) {
            Some(p) => Choice::Recommended(p),
            None => Choice::Service(self.option.service_id),
        }
    }
}

/// Marks a parcel as waiting for its label and queues the job that buys it. Refused when a
/// purchase for the parcel is already under way.
pub async fn request(
    tx: &TenantTx,
    order: &Order,
    shipment: &Shipment,
    choice: Choice,
    by: &By,
) -> Result<NewEvent<'static>, LabelError> {
    if !repo::OPEN.contains(&shipment.status.as_str()) {
        return Err(LabelError::Refused(format!(
            "parcel {} of order {} already has a label (status {})",
            shipment.parcel_no, order.name, shipment.status
        )));
    }
    let mut switched = false;
    if let Some(open) = open_of(tx, shipment.id).await? {
        // Still waiting (for the carrier, or its turn): staff may switch the service. Once
        // the carrier is buying, the purchase is left to end.
        let waiting = open.state == REQUESTED && advance(tx, &open, CANCELLED, |_| {}).await?;
        if !waiting {
            return Err(LabelError::Refused(format!(
                "a label for parcel {} is already being bought ({})",
                shipment.parcel_no, open.state
            )));
        }
        switched = true;
    }
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    label_purchases::Entity::insert(label_purchases::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id),
        shipment_id: Set(shipment.id),
        order_id: Set(order.id),
        choice: Set(match choice {
            Choice::Recommended(p) => p.as_str().to_owned(),
            Choice::Service(s) => format!("service:{s}"),
        }),
        state: Set(REQUESTED.into()),
        carrier_id: Set(None),
        remote_shipment: Set(None),
        rate: Set(None),
        transaction_id: Set(None),
        label: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(tx.conn())
    .await?;
    set_wait(tx, shipment.id, Some("label requested from the carrier")).await?;
    BuyLabel {
        purchase: id,
        order: order.id,
        round: 0,
    }
    .enqueue(tx)
    .await?;
    Ok(NewEvent {
        order: OrderId(order.id),
        kind: "shipment.label_requested",
        actor: by.actor,
        actor_label: by.label.clone(),
        message: format!(
            "Label {} for parcel {}/{}: bought from the carrier's API by a job",
            if switched {
                "asked for again with another choice"
            } else {
                "requested"
            },
            shipment.parcel_no,
            shipment.parcel_count
        ),
        reason: None,
        data: serde_json::json!({ "shipmentId": shipment.id, "purchaseId": id }),
    })
}

/// The purchase under way for a parcel, if any.
pub async fn open_of(
    tx: &TenantTx,
    shipment: uuid::Uuid,
) -> Result<Option<label_purchases::Model>, DbErr> {
    label_purchases::Entity::find()
        .filter(label_purchases::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(label_purchases::Column::ShipmentId.eq(shipment))
        .filter(label_purchases::Column::State.is_in(OPEN))
        .one(tx.conn())
        .await
}

/// Stops the purchases of an order's parcels that are not bought yet (the order is being
/// cancelled): a job that finds its purchase cancelled does nothing more, and one already
/// bought refunds the postage when it finds the parcel gone.
pub async fn cancel_open(tx: &TenantTx, order: OrderId) -> Result<(), DbErr> {
    label_purchases::Entity::update_many()
        .col_expr(label_purchases::Column::State, Expr::value(CANCELLED))
        .col_expr(label_purchases::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(label_purchases::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(label_purchases::Column::OrderId.eq(order.uuid()))
        .filter(label_purchases::Column::State.eq(REQUESTED))
        .exec(tx.conn())
        .await?;
    Ok(())
}

async fn set_wait(tx: &TenantTx, shipment: uuid::Uuid, why: Option<&str>) -> Result<(), DbErr> {
    use entity::shipments::{Column, Entity};
    Entity::update_many()
        .col_expr(Column::LabelWait, Expr::value(why.map(str::to_owned)))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::TenantId.eq(tx.tenant().uuid()))
        .filter(Column::Id.eq(shipment))
        .exec(tx.conn())
        .await?;
    Ok(())
}

async fn purchase(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<label_purchases::Model>, DbErr> {
    label_purchases::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

/// Writes the purchase's next state and what goes with it, if it is still in the state it
/// was read in (false when staff or another run moved it meanwhile: this run stops).
async fn advance(
    tx: &TenantTx,
    p: &label_purchases::Model,
    state: &str,
    change: impl FnOnce(&mut label_purchases::ActiveModel),
) -> Result<bool, DbErr> {
    let mut row = label_purchases::ActiveModel {
        state: Set(state.to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    change(&mut row);
    let moved = label_purchases::Entity::update_many()
        .set(row)
        .filter(label_purchases::Column::TenantId.eq(p.tenant_id))
        .filter(label_purchases::Column::Id.eq(p.id))
        .filter(label_purchases::Column::State.eq(p.state.as_str()))
        .exec(tx.conn())
        .await?;
    Ok(moved.rows_affected == 1)
}

/// What stopped a run: the database, or nothing worth a retry of the job itself.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Transition(String),
}

impl From<transition::TransitionError> for RunError {
    fn from(e: transition::TransitionError) -> Self {
        match e {
            transition::TransitionError::Db(e) => RunError::Db(e),
            other => RunError::Transition(other.to_string()),
        }
    }
}

impl From<LabelError> for RunError {
    fn from(e: LabelError) -> Self {
        match e {
            LabelError::Db(e) => RunError::Db(e),
            LabelError::Refused(m) => RunError::Db(DbErr::Custom(m)),
        }
    }
}

/// Everything a run needs about the parcel, read in one transaction.
struct Scene {
    p: label_purchases::Model,
    order: Order,
    lines: Vec<OrderLine>,
    shipment: Shipment,
    ctx: Context,
    signer: String,
}

async fn scene(
    state: &AppState,
    tenant: TenantId,
    id: uuid::Uuid,
) -> Result<Option<Scene>, RunError> {
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let Some(p) = purchase(&tx, id).await? else {
        return Ok(None);
    };
    if !OPEN.contains(&p.state.as_str()) {
        return Ok(None);
    }
    let (Some(order), Some(shipment)) = (
        orders::get(&tx, OrderId(p.order_id)).await?,
        repo::shipment(&tx, p.shipment_id).await?,
    ) else {
        return Ok(None);
    };
    let lines = orders::lines_of(&tx, &[OrderId(order.id)]).await?;
    let variants: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let ctx = Context::load(&tx, &variants).await?;
    let signer = crate::tenancy::repo::tenants::get(&tx, tenant)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    tx.commit().await?;
    Ok(Some(Scene {
        p,
        order,
        lines,
        shipment,
        ctx,
        signer,
    }))
}

async fn run(state: &Arc<AppState>, tenant: TenantId, job: BuyLabel) -> Result<(), RunError> {
    let Some(s) = scene(state, tenant, job.purchase).await? else {
        return Ok(());
    };
    // The parcel was voided or its order cancelled meanwhile: nothing more is bought, and a
    // label that was (or may have been) bought is found and its postage refunded.
    let wanted = repo::OPEN.contains(&s.shipment.status.as_str());
    let step = match s.p.state.as_str() {
        REQUESTED if !wanted => Next::Cancelled,
        REQUESTED => quote_and_choose(state, &s).await?,
        BUYING => recover_or_buy(state, &s, wanted).await?,
        PENDING => poll(state, &s).await?,
        BOUGHT => Next::Finish(
            serde_json::from_value(s.p.label.clone().unwrap_or_default())
                .map_err(|e| DbErr::Custom(format!("the stored label is unreadable: {e}")))?,
        ),
        _ => return Ok(()),
    };
    settle(state, s, job, step).await
}

/// What the run does next.
enum Next {
    /// Buy this rate (the purchase is now `buying`).
    Buy(Box<Chosen>),
    /// A rate card's service won: Orderflow draws the label itself.
    Local(Choice),
    /// Ask again later.
    Wait {
        why: String,
        after: Option<Duration>,
    },
    /// The provider is still buying: ask about its transaction again.
    Pending(String),
    /// A label: keep it, then write it.
    Bought(StoredLabel),
    /// It is kept: write it.
    Finish(StoredLabel),
    /// No label can be bought: hold the order with the carrier's words.
    Fail { why: String, address: bool },
    /// The parcel no longer wants a label, and none was bought.
    Cancelled,
    /// Another purchase took over (staff switched the service): nothing more to do.
    Stale,
}

/// A bought label as the purchase keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredLabel {
    refund_id: String,
    tracking_code: String,
    label_url: String,
    tracker_id: Option<String>,
    public_url: Option<String>,
    cost: Decimal,
    currency: String,
}

impl From<Label> for StoredLabel {
    fn from(l: Label) -> Self {
        Self {
            refund_id: l.refund_id,
            tracking_code: l.tracking_code,
            label_url: l.label_url,
            tracker_id: l.tracker_id,
            public_url: l.public_url,
            cost: l.cost,
            currency: l.currency,
        }
    }
}

/// A remote carrier account, with its key opened.
pub(crate) fn account_of(
    state: &AppState,
    tenant: TenantId,
    c: &CarrierSetup,
) -> Result<Account, String> {
    let sealed = c
        .row
        .api_key
        .as_deref()
        .ok_or_else(|| format!("carrier {} has no API key", c.row.name))?;
    let api_key = state
        .sealer
        .open(sealed, &secret_context_of(tenant, c.row.id, "api_key"))
        .map_err(|_| format!("the API key of carrier {} cannot be opened", c.row.name))?;
    let base = c
        .row
        .api_base
        .clone()
        .filter(|b| !b.trim().is_empty())
        .or_else(|| c.provider.default_api().map(str::to_owned))
        .ok_or_else(|| format!("carrier {} has no API", c.row.name))?;
    Ok(Account {
        base,
        api_key,
        carrier_accounts: c
            .row
            .provider_accounts
            .clone()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    })
}

/// Calls a carrier account's API with its key (a harmless read): its name and what it said,
/// ok or not.
pub async fn check_account(
    state: &AppState,
    tenant: TenantId,
    carrier: uuid::Uuid,
) -> Result<(bool, String), DbErr> {
    use super::remote::{Provider, RemoteError, easypost::EasyPost, shippo::Shippo};
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let book = repo::rating_book(&tx).await?;
    tx.commit().await?;
    let Some(c) = book.carrier(carrier) else {
        return Ok((false, "no such carrier".into()));
    };
    let account = match account_of(state, tenant, c) {
        Ok(a) => a,
        Err(why) => return Ok((false, why)),
    };
    let answered = match c.provider {
        Provider::Easypost => {
            EasyPost {
                client: &state.http,
                account: &account,
            }
            .check()
            .await
        }
        Provider::Shippo => {
            Shippo {
                client: &state.http,
                account: &account,
            }
            .check()
            .await
        }
        Provider::Simulated => {
            return Ok((
                true,
                format!("{} is simulated: Orderflow draws its labels", c.row.name),
            ));
        }
    };
    let name = &c.row.name;
    Ok(match answered {
        Ok(()) => (true, format!("{name} answered: the API key works")),
        Err(RemoteError::Refused(m)) => (false, format!("{name} refused the key: {m}")),
        Err(RemoteError::Unavailable { reason, .. }) => {
            (false, format!("{name} could not be reached: {reason}"))
        }
    })
}

pub(crate) fn label_format(c: &CarrierSetup) -> LabelFormat {
    LabelFormat::parse(&c.row.label_format).unwrap_or(LabelFormat::Pdf)
}

/// Acts on what the run found, each outcome written in its own transaction, until the run
/// has nothing more to do now.
async fn settle(
    state: &Arc<AppState>,
    mut s: Scene,
    job: BuyLabel,
    mut next: Next,
) -> Result<(), RunError> {
    let tenant = TenantId(s.p.tenant_id);
    loop {
        next = match next {
            Next::Buy(chosen) => {
                // Written down as `buying`: read again, and buy in this run.
                let Some(fresh) = scene(state, tenant, s.p.id).await? else {
                    return Ok(());
                };
                s = fresh;
                let Some(c) = s.p.carrier_id.and_then(|id| s.ctx.book.carrier(id)) else {
                    return Ok(());
                };
                match account_of(state, tenant, c) {
                    Ok(account) => buy(state, &s, c, &account, *chosen).await?,
                    Err(why) => Next::Fail {
                        why,
                        address: false,
                    },
                }
            }
            Next::Bought(label) => {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                let stored = serde_json::to_value(&label).unwrap_or_default();
                advance(&tx, &s.p, BOUGHT, |row| row.label = Set(Some(stored))).await?;
                tx.commit().await?;
                Next::Finish(label)
            }
            Next::Finish(label) => match download(state, &label.label_url).await {
                Ok(file) => return write_label(state, &s, label, file).await,
                Err(e) => failed_call(e),
            },
            Next::Pending(transaction) => {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                advance(&tx, &s.p, PENDING, |row| {
                    row.transaction_id = Set(Some(transaction));
                })
                .await?;
                set_wait(
                    &tx,
                    s.shipment.id,
                    Some("the carrier is still buying the label"),
                )
                .await?;
                again(&tx, job, PENDING_POLL).await?;
                tx.commit().await?;
                return Ok(());
            }
            Next::Wait { why, after } => {
                let tries = s.p.attempts + 1;
                if tries >= MAX_TRIES {
                    next = Next::Fail {
                        why: format!("the carrier stayed unavailable over {tries} tries: {why}"),
                        address: false,
                    };
                    continue;
                }
                return wait(state, &s, job, tries, &why, after).await;
            }
            Next::Fail { why, address } => return hold(state, &s, &why, address).await,
            Next::Cancelled => {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                advance(&tx, &s.p, CANCELLED, |_| {}).await?;
                set_wait(&tx, s.shipment.id, None).await?;
                tx.commit().await?;
                return Ok(());
            }
            Next::Local(choice) => return buy_locally(state, &s, choice).await,
            Next::Stale => return Ok(()),
        };
    }
}

/// The carrier is unavailable: the parcel shows why, and the job runs again later (when
/// the carrier asked, or after a backoff).
async fn wait(
    state: &Arc<AppState>,
    s: &Scene,
    job: BuyLabel,
    tries: i32,
    why: &str,
    after: Option<Duration>,
) -> Result<(), RunError> {
    let wait = backoff(tries, after);
    let tx = TenantTx::begin(&state.db, TenantId(s.p.tenant_id)).await?;
    let said = why.to_owned();
    advance(&tx, &s.p, &s.p.state, |row| {
        row.attempts = Set(tries);
        row.last_error = Set(Some(said));
    })
    .await?;
    let retry_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    set_wait(
        &tx,
        s.shipment.id,
        Some(&format!(
            "waiting for the carrier (try {tries}, again at {}): {why}",
            retry_at.format("%H:%M:%S UTC")
        )),
    )
    .await?;
    again(&tx, job, wait).await?;
    tx.commit().await?;
    tracing::info!(
        purchase = %s.p.id,
        tries,
        wait_s = wait.as_secs(),
        "label purchase waits for the carrier"
    );
    Ok(())
}

/// How long try `tries` waits for an unavailable carrier: as long as it asked, else doubling
/// from 2 s, at most half an hour.
pub(crate) fn backoff(tries: i32, asked: Option<Duration>) -> Duration {
    asked
        .unwrap_or_else(|| Duration::from_secs(1 << tries.clamp(1, 11)))
        .min(MAX_WAIT)
}

/// Queues the next round of the job.
async fn again(tx: &TenantTx, job: BuyLabel, after: Duration) -> Result<(), DbErr> {
    BuyLabel {
        round: job.round + 1,
        ..job
    }
    .enqueue_at(
        tx,
        Utc::now() + chrono::Duration::from_std(after).unwrap_or_default(),
    )
    .await
}
