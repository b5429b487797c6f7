//! Orders and their lines (the timeline is `timeline.rs`).

use chrono::{DateTime, SubsecRound, Utc};
use entity::{order_lines, orders};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::domain::money::{Currency, Money, to_units};
use crate::domain::{CustomerId, OrderId};
use crate::infra::db::contains_pattern;
use crate::lifecycle::state::OrderState;
use crate::order::canonical::CanonicalOrder;
use crate::tenancy::{AnyTx, TenantTx};

pub use super::model::Order;
use super::model::read;
pub use order_lines::Model as OrderLine;

pub async fn get(tx: &TenantTx, id: OrderId) -> Result<Option<Order>, DbErr> {
    orders::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await?
        .map(Order::try_from)
        .transpose()
}

/// An order, locked for the rest of the transaction (see [`by_external_id`]).
pub async fn get_for_update(tx: &TenantTx, id: OrderId) -> Result<Option<Order>, DbErr> {
    orders::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .lock_exclusive()
        .one(tx.conn())
        .await?
        .map(Order::try_from)
        .transpose()
}

/// Several orders, locked in id order (so two batches locking overlapping sets never deadlock).
pub async fn get_many_for_update(tx: &TenantTx, ids: &[OrderId]) -> Result<Vec<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Id.is_in(ids.iter().map(|o| o.uuid())))
        .order_by_asc(orders::Column::Id)
        .lock_exclusive()
        .all(tx.conn())
        .await
        .and_then(read)
}

pub async fn get_many(tx: &TenantTx, ids: &[OrderId]) -> Result<Vec<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Id.is_in(ids.iter().map(|o| o.uuid())))
        .all(tx.conn())
        .await
        .and_then(read)
}

/// The order `source` (a connection's id, or `api`) knows as `external_id`, locked for the
/// rest of the transaction (PostgreSQL; SQLite has one writer anyway), so a concurrent staff
/// edit and a channel update of one order never overwrite each other.
pub async fn by_external_id(
    tx: &TenantTx,
    source: &str,
    external_id: &str,
) -> Result<Option<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Source.eq(source))
        .filter(orders::Column::ExternalId.eq(external_id))
        .lock_exclusive()
        .one(tx.conn())
        .await?
        .map(Order::try_from)
        .transpose()
}

pub async fn insert(tx: &TenantTx, row: orders::ActiveModel) -> Result<Order, DbErr> {
    let order = orders::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await?;
    // An order dated in a settled past (an import, a late channel sync) changes that day's
    // KPIs: its stored rollup is forgotten.
    crate::lifecycle::events::restated(tx, order.placed_at).await?;
    Order::try_from(order)
}

pub async fn update(tx: &TenantTx, mut row: orders::ActiveModel) -> Result<Order, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    Order::try_from(row.update(tx.conn()).await?)
}

/// Writes the columns the lifecycle's stages change (state, hold, verdicts, routing, what is
/// owed back); with `expected`, only if the stored state is still that one. False when it was
/// not (someone moved the order meanwhile).
pub async fn save_stage(
    tx: &TenantTx,
    order: &mut Order,
    expected: Option<OrderState>,
) -> Result<bool, DbErr> {
    use orders::Column as C;
    let now = Utc::now();
    let mut update = orders::Entity::update_many()
        .col_expr(C::State, Expr::value(order.state.as_str()))
        .col_expr(
            C::PaymentVerdict,
            Expr::value(order.payment_verdict.clone()),
        )
        .col_expr(
            C::PaymentDecision,
            Expr::value(order.payment_decision.clone()),
        )
        .col_expr(C::FraudScore, Expr::value(order.fraud_score))
        .col_expr(C::FraudLevel, Expr::value(order.fraud_level.clone()))
        .col_expr(C::FraudDecision, Expr::value(order.fraud_decision.clone()))
        .col_expr(
            C::HeldFrom,
            Expr::value(order.held_from.map(OrderState::as_str)),
        )
        .col_expr(C::HoldReason, Expr::value(order.hold_reason.clone()))
        .col_expr(C::RefundDueUnits, Expr::value(order.refund_due.units()))
        .col_expr(C::CancelledAt, Expr::value(order.cancelled_at))
        .col_expr(C::CancelReason, Expr::value(order.cancel_reason.clone()))
        .col_expr(
            C::ShippingAddress,
            Expr::value(order.shipping_address.clone()),
        )
        .col_expr(C::Issues, Expr::value(order.issues.clone()))
        .col_expr(C::PromisedAt, Expr::value(order.promised_at))
        .col_expr(C::Routing, Expr::value(order.routing.clone()))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(order.id));
    if let Some(state) = expected {
        update = update.filter(C::State.eq(state.as_str()));
    }
    let done = update.exec(tx.conn()).await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    order.updated_at = now;
    Ok(true)
}

/// An order's figures, all in its currency.
pub struct Amounts {
    pub subtotal: Money,
    pub discounts: Money,
    pub tax: Money,
    pub shipping: Money,
    pub total: Money,
}

/// New figures and payment facts of an order (what a split leaves it).
pub async fn set_amounts(
    tx: &TenantTx,
    id: OrderId,
    a: Amounts,
    payment: serde_json::Value,
) -> Result<(), DbErr> {
    use orders::Column as C;
    orders::Entity::update_many()
        .col_expr(C::SubtotalUnits, Expr::value(a.subtotal.units()))
        .col_expr(C::DiscountsUnits, Expr::value(a.discounts.units()))
        .col_expr(C::TaxUnits, Expr::value(a.tax.units()))
        .col_expr(C::ShippingUnits, Expr::value(a.shipping.units()))
        .col_expr(C::TotalUnits, Expr::value(a.total.units()))
        .col_expr(C::Payment, Expr::value(payment))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(id.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// After a refund: what is still owed back, and the financial status it leaves.
pub async fn set_refund_due(
    tx: &TenantTx,
    id: OrderId,
    due: Money,
    financial_status: &str,
) -> Result<(), DbErr> {
    use orders::Column as C;
    orders::Entity::update_many()
        .col_expr(C::RefundDueUnits, Expr::value(due.units()))
        .col_expr(C::FinancialStatus, Expr::value(financial_status))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(id.uuid()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Replaces an order's lines with `lines` (positions 0..n).
pub async fn replace_lines(
    tx: &TenantTx,
    order: OrderId,
    lines: Vec<order_lines::ActiveModel>,
) -> Result<(), DbErr> {
    order_lines::Entity::delete_many()
        .filter(order_lines::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_lines::Column::OrderId.eq(order.uuid()))
        .exec(tx.conn())
        .await?;
    if !lines.is_empty() {
        order_lines::Entity::insert_many(lines)
            .exec_without_returning(tx.conn())
            .await?;
    }
    Ok(())
}

/// Lines of several orders, in order and position.
pub async fn lines_of(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<OrderLine>, DbErr> {
    order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(order_lines::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(order_lines::Column::OrderId)
        .order_by_asc(order_lines::Column::Position)
        .all(tx.conn())
        .await
}

/// Orders of the same customer email placed in a window, for duplicate detection.
pub async fn recent_by_email(
    tx: &TenantTx,
    email: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Email.eq(email))
        .filter(orders::Column::PlacedAt.between(since, until))
        .limit(50)
        .all(tx.conn())
        .await
        .and_then(read)
}

/// A field of a channel's order that cannot be stored, and why.
#[derive(Debug)]
pub struct Unstorable {
    pub field: &'static str,
    pub message: &'static str,
}

fn money_fields(row: &mut orders::ActiveModel, o: &CanonicalOrder) -> Result<(), Unstorable> {
    let units = |field, amount| to_units(amount).map_err(|message| Unstorable { field, message });
    let t = &o.totals;
    row.subtotal_units = Set(units("totals.subtotal", t.subtotal)?);
    row.discounts_units = Set(units("totals.discounts", t.discounts)?);
    row.tax_units = Set(units("totals.tax", t.tax)?);
    row.shipping_units = Set(units("totals.shipping", t.shipping)?);
    row.total_units = Set(units("totals.total", t.total)?);
    Ok(())
}

/// What a channel owns of an order, copied from its canonical shape onto the stored row on
/// create and on every newer update; its amounts become stored units here.
pub fn set_channel_fields(
    row: &mut orders::ActiveModel,
    o: &CanonicalOrder,
    currency: Currency,
    customer: Option<CustomerId>,
    email: Option<&str>,
) -> Result<(), Unstorable> {
    money_fields(row, o)?;
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or_default();
    row.name = Set(if o.name.trim().is_empty() {
        format!("#{}", o.external_id)
    } else {
        o.name.trim().to_owned()
    });
    row.customer_id = Set(customer.map(|c| c.uuid()));
    row.email = Set(email.map(str::to_owned));
    row.customer_name = Set(o.customer.full_name().or_else(|| {
        o.shipping_address
            .as_ref()
            .or(o.billing_address.as_ref())
            .and_then(|a| a.name.clone())
    }));
    row.currency = Set(currency.code().to_owned());
    row.billing_address = Set(o
        .billing_address
        .as_ref()
        .map(|a| json(serde_json::to_value(a))));
    row.shipping_address = Set(o
        .shipping_address
        .as_ref()
        .map(|a| json(serde_json::to_value(a))));
    row.taxes_included = Set(o.taxes_included);
    row.shipping_lines = Set(json(serde_json::to_value(&o.shipping_lines)));
    row.discounts = Set(json(serde_json::to_value(&o.discounts)));
    row.payment = Set(json(serde_json::to_value(&o.payment)));
    row.payment_reference = Set(o.payment.reference.clone());
    row.client = Set(json(serde_json::to_value(&o.client)));
    row.note = Set(o.note.clone().filter(|n| !n.trim().is_empty()));
    row.financial_status = Set(o.financial_status.as_str().to_owned());
    row.fulfillment_status = Set(o.fulfillment_status.as_str().to_owned());
    row.test = Set(o.test);
    // Microseconds, as PostgreSQL keeps them, so that cursors compare alike on SQLite.
    row.placed_at = Set(o.placed_at.trunc_subsecs(6));
    row.source_updated_at = Set(o.source_updated_at);
    row.cancelled_at = Set(o.cancelled_at);
    row.cancel_reason = Set(o.cancel_reason.clone());
    row.ship_by = Set(o.ship_by);
    Ok(())
}

/// An email address's orders, newest first (at most 50).
pub async fn of_email(tx: &TenantTx, email: &str) -> Result<Vec<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Email.eq(email))
        .order_by_desc(orders::Column::PlacedAt)
        .limit(50)
        .all(tx.conn())
        .await
        .and_then(read)
}

/// The `last` orders placed, newest first.
pub async fn newest(tx: &TenantTx, last: u64) -> Result<Vec<Order>, DbErr> {
    orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(orders::Column::PlacedAt)
        .limit(last)
        .all(tx.conn())
        .await
        .and_then(read)
}

/// Orders whose payment has one of these processor references, or (when `names` are given)
/// whose name or external id is one of them, for a payout report's lines.
pub async fn by_payment_reference(
    tx: &TenantTx,
    refs: &[String],
    names: &[String],
) -> Result<Vec<Order>, DbErr> {
    let mut out = Vec::new();
    for chunk in refs.chunks(500) {
        out.extend(
            orders::Entity::find()
                .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
                .filter(orders::Column::PaymentReference.is_in(chunk.iter().cloned()))
                .all(tx.conn())
                .await?,
        );
    }
    for chunk in names.chunks(500) {
        out.extend(
            orders::Entity::find()
                .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
                .filter(
                    Condition::any()
                        .add(orders::Column::Name.is_in(chunk.iter().cloned()))
                        .add(orders::Column::ExternalId.is_in(chunk.iter().cloned())),
                )
                .all(tx.conn())
                .await?,
        );
    }
    read(out)
}

#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    pub states: Vec<String>,
    pub channel: Option<String>,
    pub placed_from: Option<DateTime<Utc>>,
    pub placed_to: Option<DateTime<Utc>>,
    pub customer: Option<CustomerId>,
    pub sku: Option<String>,
    pub tag: Option<String>,
    /// Order name, external id, email or customer name.
    pub search: Option<String>,
    /// Only orders with unresolved capture issues.
    pub with_issues: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OrderSort {
    #[default]
    PlacedDesc,
    PlacedAsc,
    TotalDesc,
    TotalAsc,
}

/// Where the previous page ended: the sort key of its last order and that order's id.
#[derive(Clone, Debug, PartialEq)]
pub enum SortKey {
    Placed(DateTime<Utc>),
    Total(i64),
}

impl OrderSort {
    pub fn key_of(self, o: &Order) -> SortKey {
        match self {
            Self::PlacedDesc | Self::PlacedAsc => SortKey::Placed(o.placed_at),
            Self::TotalDesc | Self::TotalAsc => SortKey::Total(o.total.units()),
        }
    }
}

fn apply_filter(
    mut query: sea_orm::Select<orders::Entity>,
    tenant: Uuid,
    f: &OrderFilter,
) -> sea_orm::Select<orders::Entity> {
    use orders::Column as C;
    if !f.states.is_empty() {
        query = query.filter(C::State.is_in(f.states.clone()));
    }
    if let Some(channel) = &f.channel {
        query = query.filter(C::Channel.eq(channel.as_str()));
    }
    if let Some(from) = f.placed_from {
        query = query.filter(C::PlacedAt.gte(from));
    }
    if let Some(to) = f.placed_to {
        query = query.filter(C::PlacedAt.lt(to));
    }
    if let Some(customer) = f.customer {
        query = query.filter(C::CustomerId.eq(customer.uuid()));
    }
    if let Some(sku) = &f.sku {
        let with_sku = order_lines::Entity::find()
            .select_only()
            .column(order_lines::Column::OrderId)
            .filter(order_lines::Column::TenantId.eq(tenant))
            .filter(order_lines::Column::Sku.eq(sku.trim()))
            .into_query();
        query = query.filter(C::Id.in_subquery(with_sku));
    }
    if let Some(tag) = &f.tag {
        // Tags are a JSON array of strings; a quoted match finds one exact tag.
        // The tag as a quoted JSON string, so it matches a whole tag, not part of one.
        let pattern = contains_pattern(&serde_json::json!(tag.trim()).to_string());
        query = query.filter(
            Expr::expr(Func::lower(
                Expr::col((orders::Entity, C::Tags)).cast_as(Alias::new("text")),
            ))
            .like(pattern),
        );
    }
    if f.with_issues {
        query = query.filter(
            Expr::col((orders::Entity, C::Issues))
                .cast_as(Alias::new("text"))
                .like("%\"resolved\":false%")
                .or(Expr::col((orders::Entity, C::Issues))
                    .cast_as(Alias::new("text"))
                    .like("%\"resolved\": false%")),
        );
    }
    if let Some(search) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = contains_pattern(search);
        let lower = |col: C| Expr::expr(Func::lower(Expr::col((orders::Entity, col))));
        query = query.filter(
            Condition::any()
                .add(lower(C::Name).like(pattern.clone()))
                .add(lower(C::ExternalId).like(pattern.clone()))
                .add(lower(C::Email).like(pattern.clone()))
                .add(lower(C::CustomerName).like(pattern)),
        );
    }
    query
}

/// A page of orders after `cursor` in `sort` order.
pub async fn list(
    tx: &TenantTx,
    filter: &OrderFilter,
    sort: OrderSort,
    cursor: Option<(SortKey, Uuid)>,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    use orders::Column as C;
    let tenant = tx.tenant().uuid();
    let mut query = apply_filter(
        orders::Entity::find().filter(C::TenantId.eq(tenant)),
        tenant,
        filter,
    );
    let descending = matches!(sort, OrderSort::PlacedDesc | OrderSort::TotalDesc);
    let key_col = match sort {
        OrderSort::PlacedDesc | OrderSort::PlacedAsc => C::PlacedAt,
        OrderSort::TotalDesc | OrderSort::TotalAsc => C::TotalUnits,
    };
    if let Some((key, id)) = cursor {
        let value: sea_orm::Value = match key {
            SortKey::Placed(at) => at.into(),
            SortKey::Total(units) => units.into(),
        };
        let (beyond, id_beyond) = if descending {
            (key_col.lt(value.clone()), C::Id.lt(id))
        } else {
            (key_col.gt(value.clone()), C::Id.gt(id))
        };
        query = query.filter(
            Condition::any()
                .add(beyond)
                .add(Condition::all().add(key_col.eq(value)).add(id_beyond)),
        );
    }
    query = if descending {
        query.order_by_desc(key_col).order_by_desc(C::Id)
    } else {
        query.order_by_asc(key_col).order_by_asc(C::Id)
    };
    read(query.limit(limit).all(tx.conn()).await?)
}

/// Every order matching `filter`, oldest first, in batches (for CSV export).
pub async fn export_batch(
    tx: &TenantTx,
    filter: &OrderFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Order>, DbErr> {
    let tenant = tx.tenant().uuid();
    let mut query = apply_filter(
        orders::Entity::find().filter(orders::Column::TenantId.eq(tenant)),
        tenant,
        filter,
    )
    .order_by_asc(orders::Column::Id)
    .limit(limit);
    if let Some(after) = after {
        query = query.filter(orders::Column::Id.gt(after));
    }
    read(query.all(tx.conn()).await?)
}
