//! GraphQL of refunds: `refundOrder`, and the `Refund` type orders and returns show; who
//! refunds (processors, the rule, an order's route) in `processors.rs`.

pub mod processors;

use crate::graphql::loader::Loaders;
use crate::order::graphql::types::OrderFields;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::decide::Refusal;
use super::repo::{FAILED, PENDING, Refund as Record};
use super::service::{self, Ask, Method, RefundError, Request};
use crate::domain::OrderId;
use crate::domain::money::{amount_from_units, parse_price, to_units};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{decode_id, global_id};
use crate::graphql::scalars::Amount;
use crate::order::graphql::types::Order;
use crate::order::repo as orders;
use crate::order::timeline;
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefundMethod {
    /// Back to the card or account the shopper paid with.
    Original,
    StoreCredit,
}

impl From<RefundMethod> for Method {
    fn from(m: RefundMethod) -> Self {
        match m {
            RefundMethod::Original => Method::Original,
            RefundMethod::StoreCredit => Method::StoreCredit,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

/// Money paid back on an order.
#[derive(Clone, Debug, SimpleObject)]
pub struct Refund {
    pub id: ID,
    pub order_id: ID,
    pub return_id: Option<ID>,
    /// Goods + shipping + tax.
    pub amount: Amount,
    pub goods: Amount,
    pub shipping: Amount,
    pub tax: Amount,
    /// Kept back: restocking fee, return label.
    pub withheld: Amount,
    pub currency: String,
    pub method: RefundMethod,
    pub status: RefundStatus,
    pub provider: String,
    /// Recorded only by Orderflow's built-in provider: no money was sent anywhere.
    pub simulated: bool,
    /// The provider's id of the refund.
    pub provider_reference: Option<String>,
    pub idempotency_key: String,
    pub reason: Option<String>,
    /// Why the provider refused, when it did.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<Record> for Refund {
    fn from(r: Record) -> Self {
        let money = |u: i64| Amount::from(amount_from_units(u, &r.currency));
        Self {
            id: global_id("Refund", r.id),
            order_id: global_id("Order", r.order_id),
            return_id: r.return_id.map(|id| global_id("Return", id)),
            amount: money(r.amount_units),
            goods: money(r.goods_units),
            shipping: money(r.shipping_units),
            tax: money(r.tax_units),
            withheld: money(r.withheld_units),
            method: if r.method == Method::StoreCredit.as_str() {
                RefundMethod::StoreCredit
            } else {
                RefundMethod::Original
            },
            status: match r.status.as_str() {
                PENDING => RefundStatus::Pending,
                FAILED => RefundStatus::Failed,
                _ => RefundStatus::Succeeded,
            },
            currency: r.currency,
            simulated: r.provider == super::route::Route::Simulated.provider(),
            provider: r.provider,
            provider_reference: r.provider_ref,
            idempotency_key: r.idempotency_key,
            reason: r.reason,
            error: r.error,
            created_at: r.created_at,
            completed_at: r.completed_at,
        }
    }
}

#[derive(InputObject)]
pub struct RefundOrderInput {
    pub order_id: ID,
    /// Everything still refundable when left out.
    pub amount: Option<Amount>,
    /// How much of `amount` is shipping (none when left out; with `amount` left out too, all
    /// the shipping not yet refunded).
    pub shipping: Option<Amount>,
    pub method: Option<RefundMethod>,
    pub reason: Option<String>,
    /// One per refund intent (e.g. a UUID the client makes once): sending the same request
    /// again with it refunds nothing more and answers with the refund made.
    pub idempotency_key: String,
}

#[derive(SimpleObject)]
pub struct RefundPayload {
    pub refund: Option<Refund>,
    pub order: Option<Order>,
    /// True when the key had been used: this is the refund made then.
    pub replayed: bool,
    pub user_errors: Vec<UserError>,
}

/// Units of an amount input, or the error naming its field.
pub fn units_of(field: &str, raw: &Amount) -> Result<i64, UserError> {
    parse_price(&raw.0)
        .and_then(to_units)
        .map_err(|m| UserError::on(field, C::Invalid, m))
}

pub fn idempotency_key(raw: &str) -> Result<String, UserError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 200 {
        return Err(UserError::on(
            "idempotencyKey",
            C::Invalid,
            "must be 1 to 200 characters, one per refund intent",
        ));
    }
    // Returns refund under their own keys.
    if key.starts_with("return:") {
        return Err(UserError::on(
            "idempotencyKey",
            C::Invalid,
            "keys starting with \"return:\" are kept for returns",
        ));
    }
    Ok(key.to_owned())
}

/// A refund service error as the API shows it.
pub fn refund_failure(e: RefundError, currency: &str) -> crate::error::Fail {
    match e {
        RefundError::NoOrder => UserError::on("orderId", C::NotFound, "no such order").into(),
        RefundError::Refused(r) => {
            let message = match &r {
                Refusal::TooMuch {
                    max,
                    captured,
                    refunded,
                } => format!(
                    "at most {} can be refunded (captured {} less {} refunded)",
                    amount_from_units(*max, currency),
                    amount_from_units(*captured, currency),
                    amount_from_units(*refunded, currency)
                ),
                Refusal::TooMuchShipping { max } => format!(
                    "at most {} of shipping is left to refund",
                    amount_from_units(*max, currency)
                ),
                other => other.to_string(),
            };
            UserError::on(r.field(), C::Invalid, message).into()
        }
        RefundError::Route(why) => UserError::on("orderId", C::Invalid, why).into(),
        RefundError::KeyReused(_) => {
            UserError::on("idempotencyKey", C::Conflict, e.to_string()).into()
        }
        RefundError::Db(e) => e.into(),
    }
}

#[derive(Default)]
pub struct RefundMutation;

#[Object]
impl RefundMutation {
    /// Pays money back on an order: never more than was captured less what was refunded,
    /// and once per `idempotencyKey` however often it is sent.
    #[graphql(guard = "Perm(Permission::RefundsIssue)")]
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        input: RefundOrderInput,
    ) -> async_graphql::Result<RefundPayload> {
        let p = principal(ctx)?;
        let order = OrderId(decode_id(&input.order_id, "Order", "orderId")?);
        let label = actor_label(ctx, p).await?;
        let st = state(ctx);
        let outcome: Outcome<_> = async {
            p.require(Permission::RefundsIssue)?;
            let key = idempotency_key(&input.idempotency_key)?;
            let amount = input
                .amount
                .as_ref()
                .map(|a| units_of("amount", a))
                .transpose()?;
            let shipping = input
                .shipping
                .as_ref()
                .map(|a| units_of("shipping", a))
                .transpose()?;
            let reason = crate::lifecycle::transition::staff::optional(input.reason)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let currency = orders::get(&tx, order)
                .await?
                .map(|o| o.currency.to_string())
                .unwrap_or_default();
            let done = service::refund(
                &tx,
                Request {
                    order,
                    return_id: None,
                    key,
                    ask: Ask::Amount { amount, shipping },
                    method: input.method.unwrap_or(RefundMethod::Original).into(),
                    withheld: 0,
                    reason,
                    actor: p.actor,
                    actor_label: label,
                },
            )
            .await
            .map_err(|e| refund_failure(e, &currency))?;
            let after = orders::get(&tx, order).await?;
            tx.commit().await?;
            timeline::publish_events(st, p.tenant, &done.events).await;
            Ok((done.refund, after, !done.made))
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(match value {
            Some((refund, order, replayed)) => RefundPayload {
                refund: Some(refund.into()),
                order: order.map(Order::from),
                replayed,
                user_errors,
            },
            None => RefundPayload {
                refund: None,
                order: None,
                replayed: false,
                user_errors,
            },
        })
    }
}

/// Refund's field on an order: the money paid back. A part of `Order` (listed in `schema::parts`).
pub struct RefundsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for RefundsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl RefundsPart {
    /// Money paid back on this order, oldest first.
    async fn refunds(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Refund>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, crate::lifecycle::refund::loaders::RefundsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Who would refund this order now, and why (the order's choice over the tenant's rule).
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn refund_route(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<processors::RefundRoute> {
        let (tenant, order) = self.0.key;
        let tx = TenantTx::begin(&state(ctx).db, tenant).await?;
        let Some(o) = orders::get(&tx, order).await? else {
            return Err("no such order".into());
        };
        let chosen = super::processors::chosen_for(&tx, order)
            .await?
            .and_then(|r| super::route::Rule::parse(&r.route));
        let (decision, _) = super::processors::decide_for(&tx, &o).await?;
        tx.commit().await?;
        Ok(processors::RefundRoute::of(decision, chosen))
    }
}
