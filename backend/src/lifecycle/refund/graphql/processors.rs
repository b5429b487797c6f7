//! GraphQL of who gives money back: the tenant's payment processor (Stripe), its refund rule,
//! staff's choice for one order, and a connection test that shows Stripe's own words.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::super::processors::{self, Processor, ProcessorFields};
use super::super::route::{Decision, Route, Rule};
use super::super::stripe::{Stripe, StripeError};
use crate::domain::OrderId;
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::{actor_label, principal, state};
use crate::graphql::errors::{ConnectionTest, payload};
use crate::graphql::guard::Perm;
use crate::graphql::relay::{decode_id, global_id};
use crate::order::repo as orders;
use crate::tenancy::{Permission, TenantTx};

/// Who refunds the tenant's orders, or one order.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefundRule {
    /// The channel's gateway for a channel's order (Shopify, WooCommerce), Stripe for a
    /// Stripe payment, else recorded only.
    Auto,
    /// Recorded only: the money is moved outside Orderflow.
    Simulated,
    /// The tenant's payment processor (Stripe).
    Processor,
    /// The sales channel the order came from.
    Channel,
}

impl From<RefundRule> for Rule {
    fn from(r: RefundRule) -> Self {
        match r {
            RefundRule::Auto => Rule::Auto,
            RefundRule::Simulated => Rule::Simulated,
            RefundRule::Processor => Rule::Processor,
            RefundRule::Channel => Rule::Channel,
        }
    }
}

impl From<Rule> for RefundRule {
    fn from(r: Rule) -> Self {
        match r {
            Rule::Auto => RefundRule::Auto,
            Rule::Simulated => RefundRule::Simulated,
            Rule::Processor => RefundRule::Processor,
            Rule::Channel => RefundRule::Channel,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum PaymentProcessorKind {
    Stripe,
}

/// A payment processor account. Its keys are never shown again.
#[derive(SimpleObject)]
pub struct PaymentProcessor {
    pub id: ID,
    pub provider: PaymentProcessorKind,
    pub name: String,
    /// Its API; the processor's production API when null.
    pub api_base: Option<String>,
    /// Test-mode key (`sk_test_…`/`rk_test_…`): no real money moves.
    pub test_mode: bool,
    pub has_webhook_secret: bool,
    /// Where the processor sends its events (refund updates): set it in the processor's
    /// dashboard, with the webhook secret here.
    pub webhook_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn processor_of(st: &crate::state::AppState, p: Processor) -> PaymentProcessor {
    let test_mode = processors::account(st, &p)
        .map(|a| a.secret_key.contains("_test_"))
        .unwrap_or(false);
    PaymentProcessor {
        id: global_id("PaymentProcessor", p.id),
        provider: PaymentProcessorKind::Stripe,
        webhook_url: format!("/webhooks/payments/{}/{}", p.tenant_id, p.id),
        name: p.name,
        api_base: p.api_base,
        test_mode,
        has_webhook_secret: p.webhook_secret.is_some(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

#[derive(InputObject)]
pub struct SaveStripeInput {
    pub name: Option<String>,
    /// `sk_live_…`, `sk_test_…` or a restricted key with refund rights (`rk_…`); stored sealed.
    pub secret_key: Option<String>,
    /// The endpoint's signing secret (`whsec_…`); stored sealed.
    pub webhook_secret: Option<String>,
    /// Another API than Stripe's (a test server); empty for Stripe's.
    pub api_base: Option<String>,
}

#[derive(SimpleObject)]
pub struct PaymentProcessorPayload {
    pub processor: Option<PaymentProcessor>,
    pub user_errors: Vec<UserError>,
}

#[derive(SimpleObject)]
pub struct RefundSettings {
    pub rule: RefundRule,
}

#[derive(SimpleObject)]
pub struct RefundSettingsPayload {
    pub settings: Option<RefundSettings>,
    pub user_errors: Vec<UserError>,
}

/// Who moves an order's money back.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefundProvider {
    /// Recorded only: nothing is sent anywhere.
    Simulated,
    Stripe,
    Shopify,
    Woocommerce,
}

/// Who will refund an order, and why.
#[derive(SimpleObject)]
pub struct RefundRoute {
    /// Null when the chosen rule cannot be followed for this order (see `problem`).
    pub provider: Option<RefundProvider>,
    /// True when a refund is only recorded, not sent to anyone.
    pub simulated: bool,
    pub why: Option<String>,
    /// Why the rule cannot be followed: refunds are refused until it can.
    pub problem: Option<String>,
    /// Staff chose it for this order (else the tenant's rule).
    pub chosen: Option<RefundRule>,
}

impl RefundRoute {
    pub fn of(decision: Result<Decision, String>, chosen: Option<Rule>) -> Self {
        match decision {
            Ok(d) => Self {
                provider: Some(match d.route {
                    Route::Simulated => RefundProvider::Simulated,
                    Route::Stripe => RefundProvider::Stripe,
                    Route::Channel(super::super::route::ChannelRefunder::Shopify) => {
                        RefundProvider::Shopify
                    }
                    Route::Channel(super::super::route::ChannelRefunder::Woocommerce) => {
                        RefundProvider::Woocommerce
                    }
                }),
                simulated: d.route == Route::Simulated,
                why: Some(d.why),
                problem: None,
                chosen: chosen.map(Into::into),
            },
            Err(problem) => Self {
                provider: None,
                simulated: false,
                why: None,
                problem: Some(problem),
                chosen: chosen.map(Into::into),
            },
        }
    }
}

#[derive(SimpleObject)]
pub struct RefundRoutePayload {
    pub route: Option<RefundRoute>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct RefundSetupQuery;

#[Object]
impl RefundSetupQuery {
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn payment_processors(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PaymentProcessor>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rows = processors::list(&tx).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|r| processor_of(state(ctx), r))
            .collect())
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn refund_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<RefundSettings> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let rule = processors::rule(&tx).await?;
        tx.commit().await?;
        Ok(RefundSettings { rule: rule.into() })
    }
}

#[derive(Default)]
pub struct RefundSetupMutation;

#[Object]
impl RefundSetupMutation {
    /// Sets up the tenant's Stripe account, or changes it (keys left out stay as they are).
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn save_stripe_account(
        &self,
        ctx: &Context<'_>,
        input: SaveStripeInput,
    ) -> async_graphql::Result<PaymentProcessorPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome = processors::save_stripe(
            st,
            p,
            ProcessorFields {
                name: input.name,
                secret_key: input.secret_key,
                webhook_secret: input.webhook_secret,
                api_base: input.api_base,
            },
        )
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(PaymentProcessorPayload {
            processor: value.map(|r| processor_of(st, r)),
            user_errors,
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn delete_payment_processor(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PaymentProcessorPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "PaymentProcessor", "id")?;
        let outcome = processors::remove(state(ctx), p, id).await;
        let (_, user_errors) = payload(outcome)?;
        Ok(PaymentProcessorPayload {
            processor: None,
            user_errors,
        })
    }

    /// Calls the processor with its key (a harmless read) and answers in its words.
    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn test_payment_processor(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<ConnectionTest> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "PaymentProcessor", "id")?;
        let st = state(ctx);
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let row = processors::get(&tx, p.tenant, id).await?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(ConnectionTest {
                ok: false,
                message: "no such payment processor".into(),
            });
        };
        let account = match processors::account(st, &row) {
            Ok(a) => a,
            Err(message) => return Ok(ConnectionTest { ok: false, message }),
        };
        let api = Stripe {
            client: &st.http,
            account: &account,
        };
        Ok(match api.check().await {
            Ok(()) => ConnectionTest {
                ok: true,
                message: format!("{} answered: the key can read refunds", row.name),
            },
            Err(StripeError::Refused(m)) => ConnectionTest {
                ok: false,
                message: format!("{} refused the key: {m}", row.name),
            },
            Err(StripeError::Unavailable(m)) => ConnectionTest {
                ok: false,
                message: format!("{} could not be reached: {m}", row.name),
            },
        })
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_refund_settings(
        &self,
        ctx: &Context<'_>,
        rule: RefundRule,
    ) -> async_graphql::Result<RefundSettingsPayload> {
        let p = principal(ctx)?;
        let outcome = processors::set_rule(state(ctx), p, rule.into()).await;
        let (value, user_errors) = payload(outcome)?;
        Ok(RefundSettingsPayload {
            settings: value.map(|r| RefundSettings { rule: r.into() }),
            user_errors,
        })
    }

    /// Chooses who refunds one order (`rule` null: back to the tenant's rule). A rule that
    /// cannot be followed for the order is refused with why.
    #[graphql(guard = "Perm(Permission::RefundsIssue)")]
    async fn set_order_refund_route(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        rule: Option<RefundRule>,
    ) -> async_graphql::Result<RefundRoutePayload> {
        let p = principal(ctx)?;
        let order = OrderId(decode_id(&order_id, "Order", "orderId")?);
        let label = actor_label(ctx, p).await?;
        let st = state(ctx);
        let outcome: Outcome<RefundRoute> = async {
            p.require(Permission::RefundsIssue)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(o) = orders::get(&tx, order).await? else {
                return Err(UserError::on("orderId", C::NotFound, "no such order").into());
            };
            processors::choose_for(&tx, order, rule.map(Into::into), label).await?;
            let (decision, chosen) = processors::decide_for(&tx, &o).await?;
            if let Err(problem) = &decision
                && chosen
            {
                return Err(UserError::on("rule", C::Invalid, problem.clone()).into());
            }
            tx.commit().await?;
            Ok(RefundRoute::of(decision, rule.map(Into::into)))
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(RefundRoutePayload {
            route: value,
            user_errors,
        })
    }
}
