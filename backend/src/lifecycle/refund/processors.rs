//! A tenant's payment processor (Stripe: its secret key and webhook secret sealed, bound to
//! the row), the tenant's rule for who refunds its orders, and staff's choice for one order.

use chrono::Utc;
use entity::{channel_connections, payment_processors, refund_routes, refund_settings};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use super::route::{self, Decision, Facts, Rule};
use super::stripe::{self, Account};
use crate::domain::{OrderId, TenantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::order::repo::Order;
use crate::state::AppState;
use crate::tenancy::{AnyTx, Permission, Principal, TenantTx};

pub use payment_processors::Model as Processor;

pub const STRIPE: &str = "stripe";

fn context(tenant: TenantId, id: uuid::Uuid, what: &str) -> String {
    format!("{tenant}/{id}/{what}")
}

pub async fn list(tx: &TenantTx) -> Result<Vec<Processor>, DbErr> {
    payment_processors::Entity::find()
        .filter(payment_processors::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(payment_processors::Column::CreatedAt)
        .all(tx.conn())
        .await
}

pub async fn get(
    tx: &impl AnyTx,
    tenant: TenantId,
    id: uuid::Uuid,
) -> Result<Option<Processor>, DbErr> {
    payment_processors::Entity::find_by_id((tenant.uuid(), id))
        .one(tx.conn())
        .await
}

/// The tenant's Stripe account, if set up.
pub async fn stripe_of(tx: &TenantTx) -> Result<Option<Processor>, DbErr> {
    payment_processors::Entity::find()
        .filter(payment_processors::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(payment_processors::Column::Provider.eq(STRIPE))
        .one(tx.conn())
        .await
}

/// The account to call, its key opened (in memory only).
pub fn account(state: &AppState, p: &Processor) -> Result<Account, String> {
    let secret_key = state
        .sealer
        .open(
            &p.secret_key,
            &context(TenantId(p.tenant_id), p.id, "secret_key"),
        )
        .map_err(|_| format!("the secret key of {} cannot be opened", p.name))?;
    Ok(Account {
        base: p
            .api_base
            .clone()
            .unwrap_or_else(|| stripe::DEFAULT_API.to_owned()),
        secret_key,
    })
}

/// The webhook signing secret (`whsec_…`), opened.
pub fn webhook_secret(state: &AppState, p: &Processor) -> Option<String> {
    let sealed = p.webhook_secret.as_deref()?;
    state
        .sealer
        .open(
            sealed,
            &context(TenantId(p.tenant_id), p.id, "webhook_secret"),
        )
        .ok()
}

/// A processor as given.
#[derive(Clone, Debug, Default)]
pub struct ProcessorFields {
    pub name: Option<String>,
    pub secret_key: Option<String>,
    pub webhook_secret: Option<String>,
    pub api_base: Option<String>,
}

fn secret_field(field: &str, value: &str, prefixes: &[&str]) -> Result<String, UserError> {
    let v = value.trim();
    if v.len() < 16
        || v.len() > 255
        || !v.bytes().all(|b| b.is_ascii_graphic())
        || !prefixes.iter().any(|p| v.starts_with(p))
    {
        return Err(UserError::on(
            field,
            C::Invalid,
            format!(
                "must be the key as Stripe shows it, starting with {}",
                prefixes.join(" or ")
            ),
        ));
    }
    Ok(v.to_owned())
}

fn fill(
    state: &AppState,
    row: &mut payment_processors::ActiveModel,
    tenant: TenantId,
    id: uuid::Uuid,
    f: ProcessorFields,
) -> Result<(), UserError> {
    if let Some(name) = f.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(UserError::on(
                "name",
                C::Invalid,
                "must be 1 to 100 characters",
            ));
        }
        row.name = Set(name.to_owned());
    }
    if let Some(key) = f.secret_key {
        // Secret and restricted keys, test or live; a publishable key cannot refund.
        let key = secret_field("secretKey", &key, &["sk_", "rk_"])?;
        row.secret_key = Set(state.sealer.seal(&key, &context(tenant, id, "secret_key")));
    }
    if let Some(secret) = f.webhook_secret {
        let secret = secret_field("webhookSecret", &secret, &["whsec_"])?;
        row.webhook_secret = Set(Some(
            state
                .sealer
                .seal(&secret, &context(tenant, id, "webhook_secret")),
        ));
    }
    if let Some(base) = f.api_base {
        row.api_base = Set(state.outbound.api_base("apiBase", &base)?);
    }
    row.updated_at = Set(Utc::now());
    Ok(())
}

/// Sets up the tenant's Stripe account (one per tenant), or changes it.
pub async fn save_stripe(
    state: &AppState,
    principal: &Principal,
    f: ProcessorFields,
) -> Outcome<Processor> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let saved = match stripe_of(&tx).await? {
        Some(existing) => {
            let id = existing.id;
            let mut row: payment_processors::ActiveModel = existing.into();
            fill(state, &mut row, principal.tenant, id, f)?;
            payment_processors::Entity::update(row)
                .exec(tx.conn())
                .await?
        }
        None => {
            if f.secret_key.is_none() {
                return Err(UserError::on(
                    "secretKey",
                    C::Required,
                    "Stripe needs its secret key (sk_… or a restricted rk_… key with refunds)",
                )
                .into());
            }
            let id = uuid::Uuid::now_v7();
            let now = Utc::now();
            let mut row = payment_processors::ActiveModel {
                tenant_id: Set(principal.tenant.uuid()),
                id: Set(id),
                provider: Set(STRIPE.into()),
                name: Set("Stripe".into()),
                api_base: Set(None),
                secret_key: Set(String::new()),
                webhook_secret: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            };
            fill(state, &mut row, principal.tenant, id, f)?;
            payment_processors::Entity::insert(row)
                .exec_with_returning(tx.conn())
                .await?
        }
    };
    tx.commit().await?;
    Ok(saved)
}

pub async fn remove(state: &AppState, principal: &Principal, id: uuid::Uuid) -> Outcome<bool> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let gone = payment_processors::Entity::delete_by_id((principal.tenant.uuid(), id))
        .exec(tx.conn())
        .await?
        .rows_affected
        > 0;
    tx.commit().await?;
    if !gone {
        return Err(UserError::on("id", C::NotFound, "no such payment processor").into());
    }
    Ok(true)
}

/// The tenant's rule ([`Rule::Auto`] until it sets one).
pub async fn rule(tx: &TenantTx) -> Result<Rule, DbErr> {
    Ok(refund_settings::Entity::find_by_id(tx.tenant().uuid())
        .one(tx.conn())
        .await?
        .and_then(|s| Rule::parse(&s.route))
        .unwrap_or(Rule::Auto))
}

pub async fn set_rule(state: &AppState, principal: &Principal, rule: Rule) -> Outcome<Rule> {
    principal.require(Permission::SettingsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    refund_settings::Entity::insert(refund_settings::ActiveModel {
        tenant_id: Set(principal.tenant.uuid()),
        route: Set(rule.as_str().into()),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(refund_settings::Column::TenantId)
            .update_columns([
                refund_settings::Column::Route,
                refund_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rule)
}

/// Staff's choice for `order`, if any.
pub async fn chosen_for(
    tx: &TenantTx,
    order: OrderId,
) -> Result<Option<refund_routes::Model>, DbErr> {
    refund_routes::Entity::find_by_id((tx.tenant().uuid(), order.uuid()))
        .one(tx.conn())
        .await
}

/// Sets staff's choice for an order (`None`: back to the tenant's rule).
pub async fn choose_for(
    tx: &TenantTx,
    order: OrderId,
    rule: Option<Rule>,
    by: Option<String>,
) -> Result<(), DbErr> {
    let Some(rule) = rule else {
        refund_routes::Entity::delete_by_id((tx.tenant().uuid(), order.uuid()))
            .exec(tx.conn())
            .await?;
        return Ok(());
    };
    refund_routes::Entity::insert(refund_routes::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        order_id: Set(order.uuid()),
        route: Set(rule.as_str().into()),
        set_by: Set(by),
        set_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            refund_routes::Column::TenantId,
            refund_routes::Column::OrderId,
        ])
        .update_columns([
            refund_routes::Column::Route,
            refund_routes::Column::SetBy,
            refund_routes::Column::SetAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

/// Who refunds `order`, and whether staff chose it: the order's choice over the tenant's rule.
pub async fn decide_for(
    tx: &TenantTx,
    order: &Order,
) -> Result<(Result<Decision, String>, bool), DbErr> {
    let chosen = chosen_for(tx, OrderId(order.id))
        .await?
        .and_then(|r| Rule::parse(&r.route));
    let rule = match chosen {
        Some(r) => r,
        None => rule(tx).await?,
    };
    let connected = match order.connection_id {
        Some(id) => channel_connections::Entity::find_by_id((tx.tenant().uuid(), id))
            .one(tx.conn())
            .await?
            .is_some(),
        None => false,
    };
    let stripe = stripe_of(tx).await?.is_some();
    let decision = route::decide(
        rule,
        Facts {
            channel: &order.channel,
            connected,
            reference: order.payment_reference.as_deref(),
            stripe,
        },
    );
    Ok((decision, chosen.is_some()))
}
