//! What fraud screening reads and keeps: the order's identity signals (email, IP, device,
//! card) and how often each was seen, links to orders labelled fraud, the customer's and the
//! store's history, and the labels staff decisions and chargebacks leave for training.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{fraud_labels, orders, risk_signals};
use sea_orm::sea_query::{Expr, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::features;
use super::model::FraudFacts;
use crate::customers::repo::Customer;
use crate::domain::{Address, OrderId};
use crate::lifecycle::settings::LifecycleSettings;
use crate::order::canonical::{ClientDetails, PaymentFacts, ShippingLine};
use crate::order::repo::{Order, OrderLine};
use crate::tenancy::{AnyTx, TenantTx};

/// The identity signals of an order, as (kind, value).
pub fn signals_of(order: &Order) -> Vec<(&'static str, String)> {
    let client: ClientDetails = serde_json::from_value(order.client.clone()).unwrap_or_default();
    let payment: PaymentFacts = serde_json::from_value(order.payment.clone()).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(email) = &order.email {
        out.push(("email", email.trim().to_ascii_lowercase()));
    }
    if let Some(ip) = client.ip.filter(|ip| !ip.trim().is_empty()) {
        out.push(("ip", ip.trim().to_owned()));
    }
    if let Some(device) = client
        .device_id
        .or(client.browser_id)
        .filter(|d| !d.trim().is_empty())
    {
        out.push(("device", device.trim().to_owned()));
    }
    if let Some(last4) = payment.card_last4.filter(|l| !l.is_empty()) {
        let brand = payment.card_brand.unwrap_or_default().to_ascii_lowercase();
        out.push(("card", format!("{brand}:{last4}")));
    }
    out
}

/// Keeps the order's signals (once per order and kind).
pub async fn record(tx: &TenantTx, order: &Order, signals: &[(&str, String)]) -> Result<(), DbErr> {
    if signals.is_empty() {
        return Ok(());
    }
    let rows = signals
        .iter()
        .map(|(kind, value)| risk_signals::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            order_id: Set(order.id),
            kind: Set((*kind).to_owned()),
            value: Set(value.clone()),
            email: Set(order.email.as_ref().map(|e| e.to_ascii_lowercase())),
            at: Set(order.placed_at),
        });
    risk_signals::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                risk_signals::Column::TenantId,
                risk_signals::Column::OrderId,
                risk_signals::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

fn matching(signals: &[(&str, String)]) -> Condition {
    signals.iter().fold(Condition::any(), |c, (kind, value)| {
        c.add(
            Condition::all()
                .add(risk_signals::Column::Kind.eq(*kind))
                .add(risk_signals::Column::Value.eq(value.clone())),
        )
    })
}

/// Per kind: other orders in the hour and the day before this one, and the other emails
/// seen with the same value over 30 days.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    hour: i64,
    day: i64,
    emails: i64,
}

async fn seen(
    tx: &TenantTx,
    order: &Order,
    signals: &[(&str, String)],
) -> Result<HashMap<String, Seen>, DbErr> {
    use risk_signals::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let at = order.placed_at;
    let within = |d: Duration| Expr::case(Expr::col(C::At).gt(at - d), 1).finally(0);
    let rows: Vec<(String, Option<i64>, Option<i64>, i64)> = risk_signals::Entity::find()
        .select_only()
        .column(C::Kind)
        .expr(Func::sum(within(Duration::hours(1))))
        .expr(Func::sum(within(Duration::hours(24))))
        .expr(Func::count_distinct(Expr::col(C::Email)))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::OrderId.ne(order.id))
        .filter(C::At.gt(at - Duration::days(30)))
        .filter(C::At.lte(at))
        .filter(matching(signals))
        .group_by(C::Kind)
        .into_tuple()
        .all(tx.conn())
        .await?;
    let own = order.email.as_deref().map(str::to_ascii_lowercase);
    let mut out = HashMap::new();
    for (kind, hour, day, emails) in rows {
        // Other emails: the count includes this order's own email when it appears.
        let other_emails = if kind == "email" {
            0
        } else {
            emails - i64::from(own.is_some())
        };
        out.insert(
            kind,
            Seen {
                hour: hour.unwrap_or(0),
                day: day.unwrap_or(0),
                emails: Ord::max(other_emails, 0),
            },
        );
    }
    Ok(out)
}

/// Orders labelled fraud that share a signal with this one.
async fn linked_fraud(
    tx: &TenantTx,
    order: &Order,
    signals: &[(&str, String)],
) -> Result<u64, DbErr> {
    if signals.is_empty() {
        return Ok(0);
    }
    let sharing = Query::select()
        .column(risk_signals::Column::OrderId)
        .from(risk_signals::Entity)
        .and_where(risk_signals::Column::TenantId.eq(tx.tenant().uuid()))
        .and_where(risk_signals::Column::OrderId.ne(order.id))
        .cond_where(matching(signals))
        .to_owned();
    let ids: Vec<uuid::Uuid> = fraud_labels::Entity::find()
        .select_only()
        .column(fraud_labels::Column::OrderId)
        .distinct()
        .filter(fraud_labels::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(fraud_labels::Column::Label.eq("fraud"))
        .filter(fraud_labels::Column::OrderId.in_subquery(sharing))
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(ids.len() as u64)
}

/// The store's usual order in `currency`: the mean of its last 500.
pub async fn store_average(tx: &TenantTx, currency: &str) -> Result<Option<i64>, DbErr> {
    let totals: Vec<i64> = orders::Entity::find()
        .select_only()
        .column(orders::Column::TotalUnits)
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Currency.eq(currency))
        .order_by_desc(orders::Column::PlacedAt)
        .limit(500)
        .into_tuple()
        .all(tx.conn())
        .await?;
    // Too few orders say nothing about what is usual.
    if totals.len() < 20 {
        return Ok(None);
    }
    Ok(Some(totals.iter().sum::<i64>() / totals.len() as i64))
}

/// Everything the score needs, read for one order.
pub async fn facts(
    tx: &TenantTx,
    order: &Order,
    lines: &[OrderLine],
    customer: Option<&Customer>,
    settings: &LifecycleSettings,
    store_average_units: Option<i64>,
) -> Result<FraudFacts, DbErr> {
    let signals = signals_of(order);
    record(tx, order, &signals).await?;
    let seen = seen(tx, order, &signals).await?;
    let get = |k: &str| seen.get(k).copied().unwrap_or_default();
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let payment: PaymentFacts = serde_json::from_value(order.payment.clone()).unwrap_or_default();
    let client: ClientDetails = serde_json::from_value(order.client.clone()).unwrap_or_default();
    let billing: Option<Address> = order
        .billing_address
        .clone()
        .and_then(|a| serde_json::from_value(a).ok());
    let shipping: Option<Address> = order
        .shipping_address
        .clone()
        .and_then(|a| serde_json::from_value(a).ok());
    let shipping_lines: Vec<ShippingLine> =
        serde_json::from_value(order.shipping_lines.clone()).unwrap_or_default();
    let previous = customer.map_or(0, |c| (c.order_count - 1).max(0));
    let customer_average = customer
        .filter(|_| previous > 0)
        .map(|c| (c.total_spent_units - order.total.units()).max(0) / previous);
    let high_risk = [billing.as_ref(), shipping.as_ref()]
        .into_iter()
        .flatten()
        .map(|a| a.country.clone())
        .find(|c| settings.high_risk_countries.contains(c));
    let avs = payment
        .avs_result
        .as_deref()
        .is_some_and(|c| matches!(c.trim().to_ascii_uppercase().as_str(), "N" | "C"));
    Ok(FraudFacts {
        email_orders_1h: count(get("email").hour),
        email_orders_24h: count(get("email").day),
        ip_orders_1h: count(get("ip").hour),
        ip_orders_24h: count(get("ip").day),
        device_orders_24h: count(get("device").day),
        card_orders_24h: count(get("card").day),
        device_emails: count(get("device").emails),
        card_emails: count(get("card").emails),
        linked_fraud_orders: count(linked_fraud(tx, order, &signals).await? as i64),
        chargebacks: customer.map_or(0, |c| c.chargeback_count),
        previous_orders: previous,
        account_age_days: customer.map(|c| (order.placed_at - c.created_at).num_days().max(0)),
        total_units: order.total.units(),
        customer_average_units: customer_average,
        store_average_units,
        express_shipping: shipping_lines.iter().any(|s| {
            features::is_express(&s.title) || s.code.as_deref().is_some_and(features::is_express)
        }),
        billing_country: billing.as_ref().map(|a| a.country.clone()),
        shipping_country: shipping.as_ref().map(|a| a.country.clone()),
        ip_country: client.ip_country,
        address_distance: features::distance(billing.as_ref(), shipping.as_ref()),
        high_risk_country: high_risk,
        freight_forwarder: shipping
            .as_ref()
            .is_some_and(|a| features::is_forwarder(a, &settings.forwarder_addresses)),
        disposable_email: order.email.as_deref().is_some_and(features::is_disposable),
        name_email_mismatch: order
            .email
            .as_deref()
            .is_some_and(|e| features::name_email_mismatch(order.customer_name.as_deref(), e)),
        failed_payment_attempts: payment.failed_attempts,
        max_units_of_one_sku: lines.iter().map(|l| l.quantity).max().unwrap_or(0),
        avs_mismatch: avs,
        cvv_failed: payment
            .cvv_result
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("N")),
        gateway_risk: payment.gateway_risk.map(|r| r.trim().to_ascii_lowercase()),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelSource {
    StaffApproved,
    StaffRejected,
    Chargeback,
}

impl LabelSource {
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Self::StaffApproved => ("legitimate", "staff_approved"),
            Self::StaffRejected => ("fraud", "staff_rejected"),
            Self::Chargeback => ("fraud", "chargeback"),
        }
    }
}

/// Keeps an outcome with the features the order was scored on.
pub async fn label(
    tx: &TenantTx,
    order: &Order,
    source: LabelSource,
    actor_label: Option<String>,
) -> Result<(), DbErr> {
    let (label, source) = source.parts();
    let features = order
        .fraud_decision
        .as_ref()
        .and_then(|d| d.get("facts").cloned())
        .unwrap_or_else(|| serde_json::json!({}));
    fraud_labels::Entity::insert(fraud_labels::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(uuid::Uuid::now_v7()),
        order_id: Set(OrderId(order.id).uuid()),
        label: Set(label.to_owned()),
        source: Set(source.to_owned()),
        score: Set(order.fraud_score),
        features: Set(features),
        actor_label: Set(actor_label),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}
