//! Staff and integrator actions on shipping: buy or void a label, set up carriers and their
//! services, change the fulfillment settings. Each is permission-checked and, where it touches
//! an order, on its timeline.

use chrono::Utc;
use entity::{carrier_services, carriers};
use sea_orm::ActiveValue::Set;

use super::carrier::{seal_secret, secret_context_of};
use super::context::Context;
use super::ratecard::{self, RateCard, ZoneRule};
use super::remote::{LabelFormat, Provider};
use super::repo::{self, CarrierRow, Service, Shipment};
use super::service::{self as labels, Choice, LabelError};
use super::status::Source;
use super::tracking_number::TrackingFormat;
use crate::domain::money::parse_amount;
use crate::domain::{OrderId, VariantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::jobs::Job;
use crate::lifecycle::settings::fulfillment::{self as settings, FulfillmentSettings};
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::staff::{by, finish, optional, refused};
use crate::lifecycle::transition::wake::AdvanceOrder;
use crate::lifecycle::transition::{self, Step, shipped_step};
use crate::order::repo::{self as orders, Order};
use crate::order::timeline::{self, NewEvent};
use crate::state::AppState;
use crate::tenancy::{AnyTx, Permission, Principal, TenantTx};

fn refused_label(e: LabelError) -> crate::error::Fail {
    match e {
        LabelError::Refused(m) => UserError::on("shipmentId", C::Invalid, m).into(),
        LabelError::Db(e) => e.into(),
    }
}

/// The shipment and its order, locked (for any staff action on a parcel).
pub(crate) async fn open_shipment(
    state: &AppState,
    principal: &Principal,
    shipment: uuid::Uuid,
) -> Outcome<(TenantTx, Order, Shipment)> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(found) = repo::shipment(&tx, shipment).await? else {
        return Err(UserError::on("shipmentId", C::NotFound, "no such shipment").into());
    };
    let Some(order) = orders::get_for_update(&tx, OrderId(found.order_id)).await? else {
        return Err(UserError::on("shipmentId", C::NotFound, "no such shipment").into());
    };
    // Read again under the order's lock.
    let Some(shipment) = repo::shipment(&tx, shipment).await? else {
        return Err(UserError::on("shipmentId", C::NotFound, "no such shipment").into());
    };
    Ok((tx, order, shipment))
}

async fn context_for(tx: &TenantTx, order: &Order) -> Outcome<(Context, Vec<orders::OrderLine>)> {
    let lines = orders::lines_of(tx, &[OrderId(order.id)]).await?;
    let variants: Vec<VariantId> = lines
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    Ok((Context::load(tx, &variants).await?, lines))
}

/// A routed order released from a hold (a label its carrier would not sell, the address fixed
/// since): with automatic labels, each parcel still without a label or a purchase under way is
/// asked for again from the carriers' APIs. Rate-card labels are bought in the engine's batch
/// and never hold an order, so only remote carriers are asked here.
pub async fn request_missing_labels(
    tx: &TenantTx,
    order: &Order,
    who: &transition::By,
) -> Result<Vec<NewEvent<'static>>, LabelError> {
    let variants: Vec<VariantId> = orders::lines_of(tx, &[OrderId(order.id)])
        .await?
        .iter()
        .filter_map(|l| l.variant_id.map(VariantId))
        .collect();
    let ctx = Context::load(tx, &variants).await?;
    if !ctx.settings.auto_buy_labels || ctx.settings.warehouse_workflow || !ctx.book.has_remote() {
        return Ok(Vec::new());
    }
    let mut events = Vec::new();
    for parcel in repo::of_orders(tx, &[OrderId(order.id)]).await? {
        if parcel.status != repo::PLANNED
            || super::purchase::open_of(tx, parcel.id).await?.is_some()
        {
            continue;
        }
        let choice = Choice::Recommended(ctx.settings.label_pick);
        events.push(super::purchase::request(tx, order, &parcel, choice, who).await?);
    }
    Ok(events)
}

/// Buys a label for one parcel: the recommended service of the kind asked for (the tenant's
/// default otherwise), or a given service. When every parcel has a label the order ships.
pub async fn buy_label(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    shipment: uuid::Uuid,
    choice: Option<Choice>,
) -> Outcome<(Order, Shipment)> {
    let (tx, mut order, shipment) = open_shipment(state, principal, shipment).await?;
    let (ctx, lines) = context_for(&tx, &order).await?;
    let now = order.state;
    let ready = match now {
        OrderState::Routed => !ctx.settings.warehouse_workflow || shipment.status == repo::PACKED,
        OrderState::Packed | OrderState::Picking => shipment.status == repo::PACKED,
        _ => false,
    };
    if !ready {
        return Err(UserError::on(
            "shipmentId",
            C::IllegalTransition,
            format!(
                "a label is bought for a routed order{} (the order is {}, the parcel {})",
                if ctx.settings.warehouse_workflow {
                    " once the parcel is packed"
                } else {
                    ""
                },
                now.as_str(),
                shipment.status
            ),
        )
        .into());
    }
    let who = by(principal, label);
    let choice = choice.unwrap_or(Choice::Recommended(ctx.settings.label_pick));
    if ctx.book.has_remote() {
        // Bought from the carrier's API by the label job; the parcel shows it waiting.
        let event = super::purchase::request(&tx, &order, &shipment, choice, &who)
            .await
            .map_err(refused_label)?;
        let events = vec![timeline::record_event(&tx, event).await?];
        let shipment = repo::shipment(&tx, shipment.id).await?.unwrap_or(shipment);
        let order = finish(state, principal, tx, order, events).await?;
        state.wake_workers.notify_one();
        return Ok((order, shipment));
    }
    let bought = labels::buy(
        &tx,
        &ctx,
        &order,
        &lines,
        &shipment,
        choice,
        principal.actor,
    )
    .await
    .map_err(refused_label)?;
    let mut events = vec![
        timeline::record_event(
            &tx,
            NewEvent {
                order: OrderId(order.id),
                kind: "shipment.label_created",
                actor: who.actor,
                actor_label: who.label.clone(),
                message: bought.message.clone(),
                reason: None,
                data: serde_json::json!({
                    "shipmentId": shipment.id,
                    "trackingNumber": bought.shipment.tracking_number,
                }),
            },
        )
        .await?,
    ];
    let all = repo::of_orders(&tx, &[OrderId(order.id)]).await?;
    let open = all
        .iter()
        .filter(|s| repo::OPEN.contains(&s.status.as_str()))
        .count();
    if open == 0 {
        let parcels = all.iter().filter(|s| s.status != repo::VOIDED).count();
        events.push(
            transition::apply(&tx, &mut order, &who, shipped_step(parcels))
                .await
                .map_err(refused)?,
        );
    }
    let order = finish(state, principal, tx, order, events).await?;
    Ok((order, bought.shipment))
}

/// Voids a label the carrier has not scanned; the order goes back to wait for a new one.
pub async fn void_label(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    shipment: uuid::Uuid,
    reason: Option<String>,
) -> Outcome<(Order, Shipment)> {
    let reason = optional(reason)?;
    let (tx, mut order, shipment) = open_shipment(state, principal, shipment).await?;
    let now = order.state;
    if !matches!(
        now,
        OrderState::Routed | OrderState::Picking | OrderState::Packed | OrderState::Shipped
    ) {
        // Once any parcel moves, the order cannot go back to wait for a new label.
        return Err(UserError::on(
            "shipmentId",
            C::IllegalTransition,
            format!(
                "labels can be voided until the order's parcels move (the order is {})",
                now.as_str()
            ),
        )
        .into());
    }
    let (ctx, lines) = context_for(&tx, &order).await?;
    let tracking = shipment.tracking_number.clone().unwrap_or_default();
    let voided = labels::void(&tx, &ctx, &order, &lines, &shipment, principal.actor)
        .await
        .map_err(refused_label)?;
    let who = by(principal, label);
    let mut events = vec![
        timeline::record_event(
            &tx,
            NewEvent {
                order: OrderId(order.id),
                kind: "shipment.label_voided",
                actor: who.actor,
                actor_label: who.label.clone(),
                message: format!("Label {tracking} voided for parcel {}", shipment.parcel_no),
                reason: reason.clone(),
                data: serde_json::json!({ "shipmentId": shipment.id, "trackingNumber": tracking }),
            },
        )
        .await?,
    ];
    if order.state == OrderState::Shipped {
        let back = if voided.status == repo::PACKED {
            OrderState::Packed
        } else {
            OrderState::Routed
        };
        events.push(
            transition::apply(
                &tx,
                &mut order,
                &who,
                Step {
                    to: back,
                    kind: "order.label_voided",
                    message: format!("Back to {} until a new label is bought", back.as_str()),
                    reason,
                    data: serde_json::json!({}),
                },
            )
            .await
            .map_err(refused)?,
        );
    }
    let order = finish(state, principal, tx, order, events).await?;
    Ok((order, voided))
}

/// The first of `fields` (name, missing) that is missing, as the error naming it.
fn required(fields: &[(&str, bool)]) -> Result<(), UserError> {
    match fields.iter().find(|(_, missing)| *missing) {
        Some((field, _)) => Err(UserError::on(field, C::Required, "is required")),
        None => Ok(()),
    }
}

/// A carrier's or service's code: 1 to 30 letters, digits, `-` or `_`, lower-cased.
fn code_field(raw: &str) -> Result<String, UserError> {
    let code = raw.trim().to_ascii_lowercase();
    if code.is_empty()
        || code.len() > 30
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(UserError::on(
            "code",
            C::Invalid,
            "must be 1 to 30 letters, digits, - or _",
        ));
    }
    Ok(code)
}

fn name_field(raw: &str) -> Result<String, UserError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(UserError::on(
            "name",
            C::Invalid,
            "must be 1 to 60 characters",
        ));
    }
    Ok(name.to_owned())
}

/// What a carrier is set up with.
#[derive(Clone, Debug, Default)]
pub struct CarrierFields {
    pub code: Option<String>,
    pub name: Option<String>,
    pub tracking_format: Option<TrackingFormat>,
    pub account: Option<String>,
    pub tracking_source: Option<Source>,
    pub webhook_secret: Option<String>,
    pub zone_chart: Option<Vec<ZoneRule>>,
    pub active: Option<bool>,
    /// Who sells the postage: Orderflow's rate cards, or a remote API.
    pub provider: Option<Provider>,
    /// The remote API's key (sealed before it is stored).
    pub api_key: Option<String>,
    /// The remote API's address, when not its production one (a sandbox).
    pub api_base: Option<String>,
    /// The provider's carrier accounts to rate with; all when empty.
    pub provider_accounts: Option<Vec<String>>,
    pub label_format: Option<LabelFormat>,
}

fn fill_carrier(
    state: &AppState,
    row: &mut carriers::ActiveModel,
    tenant: crate::domain::TenantId,
    id: uuid::Uuid,
    f: CarrierFields,
) -> Result<(), UserError> {
    if let Some(code) = f.code {
        row.code = Set(code_field(&code)?);
    }
    if let Some(name) = f.name {
        row.name = Set(name_field(&name)?);
    }
    if let Some(t) = f.tracking_format {
        row.tracking_format = Set(t.as_str().to_owned());
    }
    if let Some(a) = f.account {
        let a = a.trim();
        if a.chars().count() > 30 || !a.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(UserError::on(
                "account",
                C::Invalid,
                "must be at most 30 letters and digits",
            ));
        }
        row.account = Set(a.to_ascii_uppercase());
    }
    if let Some(s) = f.tracking_source {
        row.tracking_source = Set(s.as_str().to_owned());
    }
    if let Some(secret) = f.webhook_secret {
        let secret = crate::auth::tokens::check_typed_secret(&secret)
            .map_err(|why| UserError::on("webhookSecret", C::Invalid, why))?;
        row.webhook_secret = Set(Some(seal_secret(state, tenant, id, &secret)));
    }
    if let Some(chart) = f.zone_chart {
        for (i, r) in chart.iter().enumerate() {
            let ok = |p: &str| {
                let p = p.trim();
                p == "*" || {
                    let country = p.split('-').next().unwrap_or("");
                    country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic())
                }
            };
            if !ok(&r.from) || !ok(&r.to) {
                return Err(UserError::at(
                    &["zoneChart", &i.to_string()],
                    C::Invalid,
                    "from and to are *, a country (US) or a country and region (US-CA)",
                ));
            }
        }
        row.zone_chart = Set(serde_json::to_value(chart).unwrap_or_default());
    }
    if let Some(a) = f.active {
        row.active = Set(a);
    }
    if let Some(p) = f.provider {
        row.provider = Set(p.as_str().to_owned());
        if p != Provider::Simulated {
            // The provider's own tracking webhooks move its parcels.
            row.tracking_source = Set(match p {
                Provider::Shippo => Source::Shippo,
                _ => Source::Easypost,
            }
            .as_str()
            .to_owned());
        }
    }
    if let Some(key) = f.api_key {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UserError::on(
                "apiKey",
                C::Invalid,
                "must be the API key as the provider shows it (no spaces, at most 200 characters)",
            ));
        }
        row.api_key = Set(Some(
            state
                .sealer
                .seal(key, &secret_context_of(tenant, id, "api_key")),
        ));
    }
    if let Some(base) = f.api_base {
        row.api_base = Set(state.outbound.api_base("apiBase", &base)?);
    }
    if let Some(accounts) = f.provider_accounts {
        if accounts.len() > 50 {
            return Err(UserError::on(
                "providerAccounts",
                C::Invalid,
                "at most 50 carrier accounts",
            ));
        }
        for (i, a) in accounts.iter().enumerate() {
            if a.is_empty()
                || a.len() > 64
                || !a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(UserError::at(
                    &["providerAccounts", &i.to_string()],
                    C::Invalid,
                    "must be a carrier account id as the provider shows it (e.g. ca_…)",
                ));
            }
        }
        row.provider_accounts = Set((!accounts.is_empty()).then(|| serde_json::json!(accounts)));
    }
    if let Some(format) = f.label_format {
        row.label_format = Set(format.as_str().to_owned());
    }
    // A remote carrier cannot buy anything without its key.
    let remote = match &row.provider {
        sea_orm::ActiveValue::Set(p) | sea_orm::ActiveValue::Unchanged(p) => {
            Provider::parse(p).is_some_and(|p| p != Provider::Simulated)
        }
        sea_orm::ActiveValue::NotSet => false,
    };
    let keyed = matches!(
        &row.api_key,
        sea_orm::ActiveValue::Set(Some(_)) | sea_orm::ActiveValue::Unchanged(Some(_))
    );
    if remote && !keyed {
        return Err(UserError::on(
            "apiKey",
            C::Required,
            "a carrier with a remote API needs its API key",
        ));
    }
    Ok(())
}

pub async fn create_carrier(
    state: &AppState,
    principal: &Principal,
    f: CarrierFields,
) -> Outcome<CarrierRow> {
    principal.require(Permission::SettingsManage)?;
    required(&[
        ("code", f.code.is_none()),
        ("name", f.name.is_none()),
        ("trackingFormat", f.tracking_format.is_none()),
    ])?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let code = f
        .code
        .clone()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if repo::carrier_by_code(&tx, &code).await?.is_some() {
        return Err(UserError::on("code", C::Taken, "another carrier has this code").into());
    }
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    let mut row = carriers::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(id),
        code: Set(String::new()),
        name: Set(String::new()),
        tracking_format: Set(String::new()),
        account: Set(String::new()),
        tracking_source: Set(Source::Orderflow.as_str().to_owned()),
        webhook_secret: Set(None),
        zone_chart: Set(serde_json::json!([])),
        // Serials start at a random offset: two accounts rarely print the same numbers.
        next_serial: Set(i64::from(rand::random::<u32>() % 1_000_000)),
        active: Set(true),
        provider: Set(Provider::Simulated.as_str().to_owned()),
        api_key: Set(None),
        api_base: Set(None),
        provider_accounts: Set(None),
        label_format: Set(LabelFormat::Pdf.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    fill_carrier(state, &mut row, principal.tenant, id, f)?;
    let carrier = repo::insert_carrier(&tx, row).await?;
    tx.commit().await?;
    Ok(carrier)
}

pub async fn update_carrier(
    state: &AppState,
    principal: &Principal,
    id: uuid::Uuid,
    f: CarrierFields,
) -> Outcome<CarrierRow> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::carrier(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such carrier").into());
    };
    if let Some(code) = &f.code
        && repo::carrier_by_code(&tx, &code.trim().to_ascii_lowercase())
            .await?
            .is_some_and(|c| c.id != id)
    {
        return Err(UserError::on("code", C::Taken, "another carrier has this code").into());
    }
    let mut row: carriers::ActiveModel = existing.into();
    fill_carrier(state, &mut row, principal.tenant, id, f)?;
    let carrier = repo::update_carrier(&tx, row).await?;
    resume_waiting(&tx).await?;
    tx.commit().await?;
    state.wake_workers.notify_one();
    Ok(carrier)
}

/// A service as given: its rate card with prices as decimal strings.
#[derive(Clone, Debug, Default)]
pub struct ServiceFields {
    pub code: Option<String>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub rate_card: Option<RateCard>,
    pub cutoff: Option<Option<String>>,
    pub active: Option<bool>,
}

fn fill_service(
    row: &mut carrier_services::ActiveModel,
    f: ServiceFields,
) -> Result<(), UserError> {
    if let Some(code) = f.code {
        row.code = Set(code_field(&code)?);
    }
    if let Some(name) = f.name {
        row.name = Set(name_field(&name)?);
    }
    if let Some(c) = f.currency {
        let c = crate::domain::money::Currency::parse(c.trim())
            .map_err(|m| UserError::on("currency", C::Invalid, m))?;
        row.currency = Set(c.code().to_owned());
    }
    if let Some(card) = f.rate_card {
        ratecard::validate(&card).map_err(|(field, m)| {
            let mut path = vec!["rateCard"];
            path.extend(field.split('.'));
            UserError::at(&path, C::Invalid, m)
        })?;
        row.rate_card = Set(serde_json::to_value(card).unwrap_or_default());
    }
    if let Some(cutoff) = f.cutoff {
        match cutoff.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(c) if ratecard::parse_cutoff(c).is_none() => {
                return Err(UserError::on(
                    "cutoff",
                    C::Invalid,
                    "must be a time of day, HH:MM",
                ));
            }
            c => row.cutoff = Set(c.map(str::to_owned)),
        }
    }
    if let Some(a) = f.active {
        row.active = Set(a);
    }
    Ok(())
}

/// Orders that waited, allocated, for a carrier go on through routing.
async fn resume_waiting(tx: &TenantTx) -> Outcome<()> {
    use entity::orders;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let ids: Vec<uuid::Uuid> = orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::State.eq(OrderState::Allocated.as_str()))
        .limit(5000)
        .into_tuple()
        .all(tx.conn())
        .await?;
    for id in ids {
        AdvanceOrder { order: OrderId(id) }.enqueue(tx).await?;
    }
    Ok(())
}

pub async fn create_service(
    state: &AppState,
    principal: &Principal,
    carrier: uuid::Uuid,
    f: ServiceFields,
) -> Outcome<Service> {
    principal.require(Permission::SettingsManage)?;
    required(&[
        ("code", f.code.is_none()),
        ("name", f.name.is_none()),
        ("currency", f.currency.is_none()),
        ("rateCard", f.rate_card.is_none()),
    ])?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if repo::carrier(&tx, carrier).await?.is_none() {
        return Err(UserError::on("carrierId", C::NotFound, "no such carrier").into());
    }
    let code = f
        .code
        .clone()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if repo::services_of(&tx, &[carrier])
        .await?
        .iter()
        .any(|s| s.code == code)
    {
        return Err(
            UserError::on("code", C::Taken, "the carrier has a service with this code").into(),
        );
    }
    let now = Utc::now();
    let mut row = carrier_services::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(uuid::Uuid::now_v7()),
        carrier_id: Set(carrier),
        code: Set(String::new()),
        name: Set(String::new()),
        currency: Set(String::new()),
        rate_card: Set(serde_json::json!({})),
        cutoff: Set(None),
        delivered_count: Set(0),
        on_time_count: Set(0),
        active: Set(true),
        remote_code: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    fill_service(&mut row, f)?;
    let service = repo::insert_service(&tx, row).await?;
    resume_waiting(&tx).await?;
    tx.commit().await?;
    state.wake_workers.notify_one();
    Ok(service)
}

pub async fn update_service(
    state: &AppState,
    principal: &Principal,
    id: uuid::Uuid,
    f: ServiceFields,
) -> Outcome<Service> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::service(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such carrier service").into());
    };
    let mut row: carrier_services::ActiveModel = existing.into();
    fill_service(&mut row, f)?;
    let service = repo::update_service(&tx, row).await?;
    tx.commit().await?;
    Ok(service)
}

/// Parses a rate card whose prices came in as strings, naming the bad one.
pub fn price_of(raw: &str, path: &[&str]) -> Result<rust_decimal::Decimal, UserError> {
    parse_amount(raw).map_err(|m| UserError::at(path, C::Invalid, m))
}

pub async fn update_settings(
    state: &AppState,
    principal: &Principal,
    change: impl FnOnce(FulfillmentSettings) -> FulfillmentSettings,
) -> Outcome<FulfillmentSettings> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let before = settings::load(&tx).await?;
    let buffer = before.channel_stock_buffer;
    let next = change(before).validate()?;
    settings::save(&tx, &next).await?;
    if next.channel_stock_buffer != buffer {
        // Every channel's figure moves with the buffer.
        crate::catalog::listing_marks::mark_all(&tx, None).await?;
    }
    tx.commit().await?;
    Ok(next)
}
