//! Orders created directly (integrators, phone orders) and the staff edits of capture: tags,
//! notes, resolving issues. Totals are computed here when the caller leaves them out.

use std::collections::HashMap;

use async_graphql::InputObject;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;

use super::service::{self, CaptureError, Captured, Source};
use crate::catalog::product_repo;
use crate::domain::address::{normalise, parse_country};
use crate::domain::money::parse_price;
use crate::domain::{Address, Currency, OrderId, ProductId, Sku};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::scalars::Amount;
use crate::order::canonical::{
    CanonicalOrder, ClientDetails, CustomerFacts, Discount, FinancialStatus, Line, PaymentFacts,
    ShippingLine, TaxLine, Totals,
};
use crate::order::issues::{Issue, IssueCode};
use crate::order::repo::{self, Order};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::repo::tenants;
use crate::tenancy::{Permission, Principal, TenantTx};

#[derive(InputObject, Clone, Debug)]
pub struct TaxLineInput {
    pub title: String,
    /// A fraction: 0.2 for 20 %.
    pub rate: Option<Amount>,
    pub amount: Amount,
}

#[derive(InputObject, Clone, Debug)]
pub struct OrderLineInput {
    pub sku: Option<String>,
    pub quantity: i64,
    /// Defaults to the catalog price of the SKU.
    pub unit_price: Option<Amount>,
    /// Defaults to the catalog title of the SKU.
    pub title: Option<String>,
    /// Discount on this line, in total.
    pub discount: Option<Amount>,
    pub tax_lines: Option<Vec<TaxLineInput>>,
    #[graphql(default = true)]
    pub requires_shipping: bool,
}

#[derive(InputObject, Clone, Debug)]
pub struct ShippingLineInput {
    pub title: String,
    pub code: Option<String>,
    pub price: Amount,
    pub tax_lines: Option<Vec<TaxLineInput>>,
}

#[derive(InputObject, Clone, Debug)]
pub struct DiscountInput {
    pub code: Option<String>,
    pub amount: Amount,
}

#[derive(InputObject, Clone, Debug)]
pub struct PaymentInput {
    pub gateway: Option<String>,
    pub status: Option<FinancialStatus>,
    pub amount_captured: Option<Amount>,
    /// Authorized but not yet captured.
    pub amount_authorized: Option<Amount>,
    /// ISO 4217 currency the payment was taken in.
    pub currency: Option<String>,
    pub avs_result: Option<String>,
    pub cvv_result: Option<String>,
    /// The gateway's own risk verdict, e.g. "low", "elevated", "high".
    pub gateway_risk: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    /// Declined attempts before this payment succeeded.
    pub failed_attempts: Option<u32>,
    /// The processor's id of the payment (e.g. Stripe's `ch_…` or `pi_…`): refunds and
    /// payout reconciliation find the order by it.
    pub reference: Option<String>,
}

/// What the shopper's browser or device told the storefront.
#[derive(InputObject, Clone, Debug)]
pub struct ClientInput {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub language: Option<String>,
    pub device_id: Option<String>,
    pub browser_id: Option<String>,
    /// ISO country of the IP address, when the storefront knows it.
    pub ip_country: Option<String>,
}

#[derive(InputObject, Clone, Debug)]
pub struct CreateOrderInput {
    /// Your id for the order: sending the same one again returns the same order.
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// ISO 4217; the tenant's currency when not given.
    pub currency: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub billing_address: Option<Address>,
    pub shipping_address: Option<Address>,
    pub lines: Vec<OrderLineInput>,
    pub shipping_lines: Option<Vec<ShippingLineInput>>,
    pub discounts: Option<Vec<DiscountInput>>,
    #[graphql(default)]
    pub taxes_included: bool,
    pub payment: Option<PaymentInput>,
    pub client: Option<ClientInput>,
    pub tags: Option<Vec<String>>,
    pub note: Option<String>,
    /// When given, checked against the computed total (a mismatch becomes an issue).
    pub total: Option<Amount>,
}

/// Most lines one order may have.
pub const MAX_LINES: usize = 1_000;
/// Most units one line may order.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// The sum of `amounts`, or None when it overflows.
fn checked_sum(amounts: impl IntoIterator<Item = Decimal>) -> Option<Decimal> {
    amounts
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, a| sum.checked_add(a))
}

fn amount(path: &[&str], raw: &Amount) -> Result<Decimal, UserError> {
    parse_price(&raw.0).map_err(|m| UserError::at(path, C::Invalid, m))
}

fn tax_lines(path: &[&str], input: Option<Vec<TaxLineInput>>) -> Result<Vec<TaxLine>, UserError> {
    input
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let i = i.to_string();
            let at = |leaf: &'static str| [path, &["taxLines", i.as_str(), leaf]].concat();
            Ok(TaxLine {
                title: t.title.trim().to_owned(),
                rate: t
                    .rate
                    .as_ref()
                    .map(|r| amount(&at("rate"), r))
                    .transpose()?,
                amount: amount(&at("amount"), &t.amount)?,
            })
        })
        .collect()
}

/// Builds the canonical order, filling titles and prices from the catalog.
async fn canonical(
    tx: &TenantTx,
    input: CreateOrderInput,
    tenant_currency: &str,
) -> Outcome<CanonicalOrder> {
    if input.lines.is_empty() {
        return Err(UserError::on("lines", C::Required, "an order needs at least one line").into());
    }
    if input.lines.len() > MAX_LINES {
        return Err(UserError::on(
            "lines",
            C::Invalid,
            format!("an order has at most {MAX_LINES} lines"),
        )
        .into());
    }
    let currency = input
        .currency
        .clone()
        .unwrap_or_else(|| tenant_currency.to_owned());
    crate::domain::money::Currency::parse(&currency)
        .map_err(|m| UserError::on("currency", C::Invalid, m))?;
    let skus: Vec<Sku> = input
        .lines
        .iter()
        .filter_map(|l| l.sku.as_deref().and_then(|s| Sku::parse(s).ok()))
        .collect();
    let catalog = product_repo::variants_by_sku(tx, &skus).await?;
    let ids: Vec<ProductId> = catalog.iter().map(|v| ProductId(v.product_id)).collect();
    let products: HashMap<_, _> = product_repo::products_by_id(tx, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.title))
        .collect();
    let mut lines = Vec::new();
    for (i, l) in input.lines.into_iter().enumerate() {
        let i = i.to_string();
        let path = |leaf: &'static str| vec!["lines", i.as_str(), leaf];
        if !(1..=MAX_QUANTITY).contains(&l.quantity) {
            return Err(UserError::at(
                &path("quantity"),
                C::Invalid,
                format!("must be between 1 and {MAX_QUANTITY}"),
            )
            .into());
        }
        let sku = l.sku.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let known = sku.and_then(|s| catalog.iter().find(|v| v.sku == s));
        // Catalog prices are in the tenant's currency: usable only for an order in it.
        let priced = known.filter(|v| v.currency.eq_ignore_ascii_case(&currency));
        let unit_price = match (&l.unit_price, known) {
            (Some(p), _) => amount(&path("unitPrice"), p)?,
            (None, Some(v)) if priced.is_some() => {
                Decimal::new(v.price_units, crate::domain::money::STORAGE_SCALE)
            }
            (None, Some(v)) => {
                let why = format!(
                    "is required: the catalog price of {} is in {}",
                    v.sku, v.currency
                );
                return Err(UserError::at(&path("unitPrice"), C::Required, why).into());
            }
            (None, None) => {
                return Err(UserError::at(
                    &path("unitPrice"),
                    C::Required,
                    "is required for a SKU not in the catalog",
                )
                .into());
            }
        };
        let title = match (
            l.title.as_deref().map(str::trim).filter(|t| !t.is_empty()),
            known,
        ) {
            (Some(t), _) => t.to_owned(),
            (None, Some(v)) => products
                .get(&v.product_id)
                .cloned()
                .unwrap_or_else(|| v.title.clone()),
            (None, None) => sku.unwrap_or("Custom item").to_owned(),
        };
        // "Default" is the title of a product's only variant: not worth showing.
        let variant_title = known.map(|v| v.title.clone()).filter(|t| t != "Default");
        lines.push(Line {
            external_id: None,
            sku: sku.map(str::to_owned),
            title,
            variant_title,
            quantity: l.quantity,
            unit_price,
            discount: l
                .discount
                .as_ref()
                .map(|d| amount(&path("discount"), d))
                .transpose()?
                .unwrap_or_default(),
            tax_lines: tax_lines(&["lines", i.as_str()], l.tax_lines)?,
            requires_shipping: l.requires_shipping,
            grams: None,
        });
    }
    let mut shipping_lines = Vec::new();
    for (i, s) in input
        .shipping_lines
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let i = i.to_string();
        shipping_lines.push(ShippingLine {
            title: s.title.trim().to_owned(),
            code: s.code,
            price: amount(&["shippingLines", &i, "price"], &s.price)?,
            discount: Decimal::ZERO,
            tax_lines: tax_lines(&["shippingLines", &i], s.tax_lines)?,
        });
    }
    let mut discounts = Vec::new();
    for (i, d) in input.discounts.unwrap_or_default().into_iter().enumerate() {
        discounts.push(Discount {
            code: d.code,
            kind: "manual".into(),
            amount: amount(&["discounts", &i.to_string(), "amount"], &d.amount)?,
        });
    }
    // Each amount fits storage, but their products and sums may not: every step is checked,
    // and a total that cannot be stored is the caller's mistake, not a crash.
    let too_large = || {
        UserError::on(
            "lines",
            C::Invalid,
            "the order's amounts add up to more than can be stored: check quantities and prices",
        )
    };
    let line_totals: Option<Vec<Decimal>> = lines
        .iter()
        .map(|l| l.unit_price.checked_mul(Decimal::from(l.quantity)))
        .collect();
    let subtotal = checked_sum(line_totals.ok_or_else(too_large)?).ok_or_else(too_large)?;
    let discount_total = checked_sum(
        lines
            .iter()
            .map(|l| l.discount)
            .chain(discounts.iter().map(|d| d.amount)),
    )
    .ok_or_else(too_large)?;
    let tax = checked_sum(
        lines
            .iter()
            .flat_map(|l| &l.tax_lines)
            .chain(shipping_lines.iter().flat_map(|s| &s.tax_lines))
            .map(|t| t.amount),
    )
    .ok_or_else(too_large)?;
    let shipping = checked_sum(shipping_lines.iter().map(|s| s.price)).ok_or_else(too_large)?;
    let computed = subtotal
        .checked_sub(discount_total)
        .and_then(|v| {
            v.checked_add(if input.taxes_included {
                Decimal::ZERO
            } else {
                tax
            })
        })
        .and_then(|v| v.checked_add(shipping))
        .filter(|v| crate::domain::money::to_units(*v).is_ok())
        .ok_or_else(too_large)?;
    let total = match &input.total {
        Some(t) => amount(&["total"], t)?,
        None => computed,
    };
    let address = |field: &'static str, a: Option<Address>| -> Result<Option<Address>, UserError> {
        a.map(|a| normalise(a).map_err(|(part, m)| UserError::at(&[field, part], C::Invalid, m)))
            .transpose()
    };
    let payment = input.payment.map(|p| -> Result<PaymentFacts, UserError> {
        Ok(PaymentFacts {
            gateway: p.gateway,
            status: p.status.map(|s| s.as_str().to_owned()),
            amount_captured: p
                .amount_captured
                .as_ref()
                .map(|a| amount(&["payment", "amountCaptured"], a))
                .transpose()?
                .unwrap_or_default(),
            amount_authorized: p
                .amount_authorized
                .as_ref()
                .map(|a| amount(&["payment", "amountAuthorized"], a))
                .transpose()?
                .unwrap_or_default(),
            currency: p
                .currency
                .map(|c| {
                    Currency::parse(&c)
                        .map(|c| c.code().to_owned())
                        .map_err(|m| UserError::at(&["payment", "currency"], C::Invalid, m))
                })
                .transpose()?,
            avs_result: p.avs_result,
            cvv_result: p.cvv_result,
            gateway_risk: p.gateway_risk,
            card_brand: p.card_brand,
            card_last4: p.card_last4,
            failed_attempts: p.failed_attempts.unwrap_or(0),
            method: None,
            reference: p
                .reference
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
        })
    });
    let payment = payment.transpose()?.unwrap_or_default();
    let financial_status = FinancialStatus::parse(payment.status.as_deref().unwrap_or("pending"));
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            crate::domain::Email::parse(e)
                .map_err(|m| UserError::on("email", C::InvalidEmail, m))?
                .to_string(),
        ),
        None => None,
    };
    let external_id = input
        .external_id
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| format!("api-{}", uuid::Uuid::now_v7().simple()));
    Ok(CanonicalOrder {
        name: input.name.unwrap_or_default(),
        external_id,
        placed_at: input.placed_at.unwrap_or_else(Utc::now),
        source_updated_at: None,
        currency,
        customer: CustomerFacts {
            email,
            first_name: input.first_name,
            last_name: input.last_name,
            phone: input.phone,
            external_id: None,
            accepts_marketing: false,
        },
        billing_address: address("billingAddress", input.billing_address)?,
        shipping_address: address("shippingAddress", input.shipping_address)?,
        lines,
        shipping_lines,
        discounts,
        totals: Totals {
            subtotal,
            discounts: discount_total,
            tax,
            shipping,
            total,
        },
        taxes_included: input.taxes_included,
        payment,
        client: input
            .client
            .map(|c| -> Result<ClientDetails, UserError> {
                Ok(ClientDetails {
                    ip: c
                        .ip
                        .map(|ip| ip.trim().to_owned())
                        .filter(|ip| !ip.is_empty()),
                    user_agent: c.user_agent,
                    language: c.language,
                    device_id: c.device_id,
                    browser_id: c.browser_id,
                    ip_country: c
                        .ip_country
                        .map(|raw| {
                            parse_country(&raw)
                                .map_err(|m| UserError::at(&["client", "ipCountry"], C::Invalid, m))
                        })
                        .transpose()?,
                })
            })
            .transpose()?
            .unwrap_or_default(),
        tags: input.tags.unwrap_or_default(),
        note: input.note,
        financial_status,
        fulfillment_status: Default::default(),
        cancelled_at: None,
        cancel_reason: None,
        ship_by: None,
        test: false,
    })
}

/// `createOrder`: the same capture path as every channel, with the caller as actor.
pub async fn create_order(
    state: &AppState,
    principal: &Principal,
    actor_label: Option<String>,
    input: CreateOrderInput,
) -> Outcome<Captured> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let currency = tenants::get(&tx, principal.tenant)
        .await?
        .map(|t| t.currency)
        .unwrap_or_else(|| "USD".into());
    let order = canonical(&tx, input, &currency).await?;
    let source = Source {
        channel: "api".into(),
        connection: None,
        actor: principal.actor,
        actor_label,
    };
    let captured = match service::capture(&tx, &source, order).await {
        Ok(c) => c,
        Err(CaptureError::Invalid { field, message }) => {
            let path: Vec<&str> = field.split('.').collect();
            return Err(UserError::at(&path, C::Invalid, message).into());
        }
        Err(CaptureError::Db(err)) => return Err(err.into()),
    };
    tx.commit().await?;
    timeline::publish_events(state, principal.tenant, &captured.events).await;
    // The order's first stage is queued: wake a worker (or the stream relay) now.
    state.wake_workers.notify_one();
    Ok(captured)
}

async fn edit(
    state: &AppState,
    principal: &Principal,
    actor_label: Option<String>,
    id: OrderId,
    change: impl FnOnce(&mut Order) -> Option<(&'static str, String, serde_json::Value)>,
) -> Outcome<(Order, Vec<OrderEvent>)> {
    principal.require(Permission::OrdersManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(mut order) = repo::get_for_update(&tx, id).await? else {
        return Err(UserError::on("orderId", C::NotFound, "no such order").into());
    };
    let Some((kind, message, data)) = change(&mut order) else {
        tx.commit().await?;
        return Ok((order, Vec::new()));
    };
    // Only these columns are written, so a channel update of the others is never undone.
    let row = entity::orders::ActiveModel {
        id: Set(order.id),
        tags: Set(order.tags.clone()),
        note: Set(order.note.clone()),
        issues: Set(order.issues.clone()),
        ..Default::default()
    };
    let order = repo::update(&tx, row).await?;
    let event = timeline::record_event(
        &tx,
        NewEvent {
            order: id,
            kind,
            actor: principal.actor,
            actor_label,
            message,
            reason: None,
            data,
        },
    )
    .await?;
    tx.commit().await?;
    let events = vec![event];
    timeline::publish_events(state, principal.tenant, &events).await;
    Ok((order, events))
}

/// Adds and removes tags.
pub async fn edit_tags(
    state: &AppState,
    principal: &Principal,
    actor_label: Option<String>,
    id: OrderId,
    add: Vec<String>,
    remove: Vec<String>,
) -> Outcome<Order> {
    for (field, list) in [("add", &add), ("remove", &remove)] {
        if list
            .iter()
            .any(|t| t.trim().is_empty() || t.trim().chars().count() > 40)
        {
            return Err(
                UserError::on(field, C::Invalid, "each tag must be 1 to 40 characters").into(),
            );
        }
    }
    let (order, _) = edit(state, principal, actor_label, id, |order| {
        let mut tags: Vec<String> = serde_json::from_value(order.tags.clone()).unwrap_or_default();
        let before = tags.clone();
        tags.retain(|t| !remove.iter().any(|r| r.trim().eq_ignore_ascii_case(t)));
        for t in &add {
            if !tags.iter().any(|x| x.eq_ignore_ascii_case(t.trim())) {
                tags.push(t.trim().to_owned());
            }
        }
        if tags == before {
            return None;
        }
        order.tags = serde_json::json!(tags);
        let added: Vec<&String> = tags.iter().filter(|t| !before.contains(t)).collect();
        let removed: Vec<&String> = before.iter().filter(|t| !tags.contains(t)).collect();
        Some((
            "order.tags_changed",
            format!("Tags: +{added:?} −{removed:?}"),
            serde_json::json!({ "added": added, "removed": removed }),
        ))
    })
    .await?;
    Ok(order)
}

pub async fn set_note(
    state: &AppState,
    principal: &Principal,
    actor_label: Option<String>,
    id: OrderId,
    note: Option<String>,
) -> Outcome<Order> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 5000) {
        return Err(UserError::on("note", C::Invalid, "must be at most 5000 characters").into());
    }
    let (order, _) = edit(state, principal, actor_label, id, |order| {
        if order.note == note {
            return None;
        }
        order.note = note.clone();
        Some((
            "order.note_changed",
            "Note changed".to_owned(),
            serde_json::json!({ "note": note }),
        ))
    })
    .await?;
    Ok(order)
}

/// Marks a capture issue resolved, with the reason on the timeline.
pub async fn resolve_issue(
    state: &AppState,
    principal: &Principal,
    actor_label: Option<String>,
    id: OrderId,
    code: IssueCode,
    field: Option<String>,
    reason: String,
) -> Outcome<Order> {
    if reason.trim().is_empty() {
        return Err(UserError::on("reason", C::Required, "say how it was resolved").into());
    }
    let mut found = false;
    let (order, _) = edit(state, principal, actor_label, id, |order| {
        let mut issues: Vec<Issue> =
            serde_json::from_value(order.issues.clone()).unwrap_or_default();
        for issue in issues
            .iter_mut()
            .filter(|i| i.code == code && i.field == field && !i.resolved)
        {
            issue.resolved = true;
            found = true;
        }
        if !found {
            return None;
        }
        order.issues = serde_json::to_value(&issues).unwrap_or_default();
        Some((
            "order.issue_resolved",
            format!(
                "Resolved {code:?}{}: {}",
                field
                    .as_deref()
                    .map(|f| format!(" at {f}"))
                    .unwrap_or_default(),
                reason.trim()
            ),
            serde_json::json!({ "code": code, "field": field }),
        ))
    })
    .await?;
    if !found {
        return Err(UserError::on("code", C::NotFound, "the order has no such open issue").into());
    }
    Ok(order)
}
