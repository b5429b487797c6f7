//! GraphQL of the engine: the decisions on an order (payment findings, fraud score with its
//! reasons, allocations), the staff actions, and the tenant's lifecycle settings.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{actions, split};
use crate::domain::money::parse_amount;
use crate::domain::{Address, OrderId};
use crate::error::UserError;
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::decode_id;
use crate::graphql::scalars::Amount;
use crate::lifecycle::settings::{self, LifecycleSettings as Settings};
use crate::order::graphql::types::Order;
use crate::order::graphql::types::OrderPayload;
use crate::tenancy::{Permission, TenantTx};

/// A staff action on an order.
#[derive(InputObject)]
pub struct OrderActionInput {
    pub order_id: ID,
    /// Why: goes on the timeline. Required to reject, hold or cancel.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateOrderShippingAddressInput {
    pub order_id: ID,
    pub address: Address,
    pub reason: Option<String>,
}

/// Units of one line to move to the new order.
#[derive(InputObject)]
pub struct SplitLineInput {
    /// Index of the order line (0-based, as `lines` lists them).
    pub line_index: i32,
    pub quantity: i64,
}

#[derive(InputObject)]
pub struct SplitOrderInput {
    pub order_id: ID,
    pub lines: Vec<SplitLineInput>,
    pub reason: Option<String>,
}

#[derive(SimpleObject)]
pub struct SplitOrderPayload {
    /// The original order, with what it kept.
    pub order: Option<Order>,
    /// The new order with the moved units.
    pub new_order: Option<Order>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct RecordChargebackInput {
    pub order_id: ID,
    pub amount: Amount,
    /// The processor's reason, e.g. "fraudulent" or "product not received".
    pub reason: Option<String>,
}

/// When fraud screening holds or rejects, and how stock is held for unpaid orders.
#[derive(SimpleObject)]
pub struct LifecycleSettings {
    pub fraud_review_score: i32,
    pub fraud_reject_score: i32,
    pub high_risk_countries: Vec<String>,
    pub forwarder_addresses: Vec<String>,
    pub reserve_unpaid: bool,
    pub unpaid_reservation_hours: i32,
    /// Fewer units free than this (all warehouses together) after an allocation records
    /// `order.stock_low` on the order, for rules; 0 is off.
    pub low_stock_threshold: i32,
}

impl From<Settings> for LifecycleSettings {
    fn from(s: Settings) -> Self {
        Self {
            fraud_review_score: s.fraud_review_score,
            fraud_reject_score: s.fraud_reject_score,
            high_risk_countries: s.high_risk_countries,
            forwarder_addresses: s.forwarder_addresses,
            reserve_unpaid: s.reserve_unpaid,
            unpaid_reservation_hours: s.unpaid_reservation_hours,
            low_stock_threshold: s.low_stock_threshold,
        }
    }
}

/// Fields left out keep their current value.
#[derive(InputObject)]
pub struct UpdateLifecycleSettingsInput {
    /// Scores from here up are held for review (1–101; 101 never holds).
    pub fraud_review_score: Option<i32>,
    /// Scores from here up are rejected (1–101; 101 never rejects).
    pub fraud_reject_score: Option<i32>,
    /// ISO country codes whose orders score higher.
    pub high_risk_countries: Option<Vec<String>>,
    /// Address fragments of parcel forwarders (a street line or a postal code).
    pub forwarder_addresses: Option<Vec<String>>,
    pub reserve_unpaid: Option<bool>,
    pub unpaid_reservation_hours: Option<i32>,
    /// Units free below which an allocation records `order.stock_low` (0: off).
    pub low_stock_threshold: Option<i32>,
}

#[derive(SimpleObject)]
pub struct LifecycleSettingsPayload {
    pub settings: Option<LifecycleSettings>,
    pub user_errors: Vec<UserError>,
}

fn order_id(id: &ID) -> Result<OrderId, crate::error::AppError> {
    Ok(OrderId(decode_id(id, "Order", "orderId")?))
}

#[derive(Default)]
pub struct EngineQuery;

#[Object]
impl EngineQuery {
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn lifecycle_settings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<LifecycleSettings> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let s = settings::load(&tx).await?;
        tx.commit().await?;
        Ok(s.into())
    }
}

#[derive(Default)]
pub struct EngineMutation;

#[derive(Clone, Copy)]
enum Action {
    Approve,
    Reject,
    Hold,
    Release,
    Cancel,
}

async fn order_action(
    ctx: &Context<'_>,
    input: OrderActionInput,
    action: Action,
) -> async_graphql::Result<OrderPayload> {
    let p = principal(ctx)?;
    let id = order_id(&input.order_id)?;
    let label = actor_label(ctx, p).await?;
    let (st, reason) = (state(ctx), input.reason);
    let outcome = match action {
        Action::Approve => actions::approve(st, p, label, id, reason).await,
        Action::Reject => actions::reject(st, p, label, id, reason).await,
        Action::Hold => actions::hold(st, p, label, id, reason).await,
        Action::Release => actions::release(st, p, label, id, reason).await,
        Action::Cancel => actions::cancel(st, p, label, id, reason).await,
    };
    let (value, user_errors) = payload(outcome)?;
    Ok(OrderPayload {
        order: value.map(Order::from),
        user_errors,
    })
}

#[Object]
impl EngineMutation {
    /// Approves an order held in payment or fraud review; it goes on through the stages.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn approve_order(
        &self,
        ctx: &Context<'_>,
        input: OrderActionInput,
    ) -> async_graphql::Result<OrderPayload> {
        order_action(ctx, input, Action::Approve).await
    }

    /// Rejects an order for good (a reason is required): stock goes back, the captured
    /// amount is recorded as due back, a rejection after screening is kept as a fraud label.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn reject_order(
        &self,
        ctx: &Context<'_>,
        input: OrderActionInput,
    ) -> async_graphql::Result<OrderPayload> {
        order_action(ctx, input, Action::Reject).await
    }

    /// Holds an order (a reason is required) until it is released.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn hold_order(
        &self,
        ctx: &Context<'_>,
        input: OrderActionInput,
    ) -> async_graphql::Result<OrderPayload> {
        order_action(ctx, input, Action::Hold).await
    }

    /// Releases a held order to the state its hold interrupted.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn release_order(
        &self,
        ctx: &Context<'_>,
        input: OrderActionInput,
    ) -> async_graphql::Result<OrderPayload> {
        order_action(ctx, input, Action::Release).await
    }

    /// Cancels an order that has not shipped (a reason is required): stock goes back and the
    /// refund due is recorded.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: OrderActionInput,
    ) -> async_graphql::Result<OrderPayload> {
        order_action(ctx, input, Action::Cancel).await
    }

    /// Corrects the shipping address until the order is packed; it must be complete.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn update_order_shipping_address(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrderShippingAddressInput,
    ) -> async_graphql::Result<OrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let outcome =
            actions::update_shipping_address(state(ctx), p, label, id, input.address, input.reason)
                .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(OrderPayload {
            order: value.map(Order::from),
            user_errors,
        })
    }

    /// Moves some lines (or units of a line) to a new order, with their share of the totals,
    /// of the captured amount and of the stock promised (backordered units first).
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn split_order(
        &self,
        ctx: &Context<'_>,
        input: SplitOrderInput,
    ) -> async_graphql::Result<SplitOrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let parts = input
            .lines
            .iter()
            .map(|l| split::Part {
                line_index: l.line_index,
                quantity: l.quantity,
            })
            .collect();
        let outcome = split::split(state(ctx), p, label, id, parts, input.reason).await;
        let (value, user_errors) = payload(outcome)?;
        let (order, new_order) = match value {
            Some((a, b)) => (Some(Order::from(a)), Some(Order::from(b))),
            None => (None, None),
        };
        Ok(SplitOrderPayload {
            order,
            new_order,
            user_errors,
        })
    }

    /// Records a chargeback reported by the payment processor: on the timeline, on the
    /// customer's record and as a fraud label that later screenings learn from.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn record_chargeback(
        &self,
        ctx: &Context<'_>,
        input: RecordChargebackInput,
    ) -> async_graphql::Result<OrderPayload> {
        let p = principal(ctx)?;
        let id = order_id(&input.order_id)?;
        let label = actor_label(ctx, p).await?;
        let outcome = match parse_amount(&input.amount.0) {
            Ok(amount) => {
                actions::record_chargeback(state(ctx), p, label, id, amount, input.reason).await
            }
            Err(m) => Err(UserError::on("amount", crate::error::UserErrorCode::Invalid, m).into()),
        };
        let (value, user_errors) = payload(outcome)?;
        Ok(OrderPayload {
            order: value.map(Order::from),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_lifecycle_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateLifecycleSettingsInput,
    ) -> async_graphql::Result<LifecycleSettingsPayload> {
        let p = principal(ctx)?;
        let outcome = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
            let current = settings::load(&tx).await?;
            let next = Settings {
                fraud_review_score: input
                    .fraud_review_score
                    .unwrap_or(current.fraud_review_score),
                fraud_reject_score: input
                    .fraud_reject_score
                    .unwrap_or(current.fraud_reject_score),
                high_risk_countries: input
                    .high_risk_countries
                    .unwrap_or(current.high_risk_countries),
                forwarder_addresses: input
                    .forwarder_addresses
                    .unwrap_or(current.forwarder_addresses),
                reserve_unpaid: input.reserve_unpaid.unwrap_or(current.reserve_unpaid),
                unpaid_reservation_hours: input
                    .unpaid_reservation_hours
                    .unwrap_or(current.unpaid_reservation_hours),
                low_stock_threshold: input
                    .low_stock_threshold
                    .unwrap_or(current.low_stock_threshold),
            }
            .validate()?;
            settings::save(&tx, &next).await?;
            tx.commit().await?;
            Ok::<_, crate::error::Fail>(next)
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(LifecycleSettingsPayload {
            settings: value.map(LifecycleSettings::from),
            user_errors,
        })
    }
}
