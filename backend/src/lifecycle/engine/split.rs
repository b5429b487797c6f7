//! Splitting an order: some lines (or some units of a line) move to a new order that ships on
//! its own, typically the backordered part, so the rest can go now. Totals, the captured
//! amount and the stock promised move with the units; both orders stay on the same stage.

use chrono::Utc;
use entity::{allocations, order_lines, orders};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::money::{Money, amount_from_units, to_units};
use crate::domain::{AllocationId, OrderId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::lifecycle::allocation::repo::{self as allocation_repo, AllocationStatus};
use crate::lifecycle::machine;
use crate::lifecycle::state::OrderState;
use crate::lifecycle::transition::{self, By, Step};
use crate::order::canonical::PaymentFacts;
use crate::order::repo::{self, Order, OrderLine};
use crate::order::timeline::{self, NewEvent, OrderEvent};
use crate::state::AppState;
use crate::tenancy::{AnyTx, Permission, Principal, TenantTx};

/// Units of one line to move.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    pub line_index: i32,
    pub quantity: i64,
}

/// A share of `units` proportional to `part / whole`, rounded down (the rest stays).
fn share(units: i64, part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        (i128::from(units) * i128::from(part) / i128::from(whole)) as i64
    }
}

pub async fn split(
    state: &AppState,
    principal: &Principal,
    label: Option<String>,
    id: OrderId,
    parts: Vec<Part>,
    reason: Option<String>,
) -> Outcome<(Order, Order)> {
    principal.require(Permission::OrdersManage)?;
    if parts.is_empty() {
        return Err(UserError::on("lines", C::Required, "name at least one line to move").into());
    }
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(mut order) = repo::get_for_update(&tx, id).await? else {
        return Err(UserError::on("orderId", C::NotFound, "no such order").into());
    };
    let from = order.state;
    // A held order splits as what it was before the hold.
    let effective = transition::stage_of(&order);
    if !machine::address_editable(effective) {
        return Err(UserError::on(
            "orderId",
            C::IllegalTransition,
            format!("an order in state {} can no longer be split", from.as_str()),
        )
        .into());
    }
    let lines = repo::lines_of(&tx, &[id]).await?;
    let mut moving: Vec<(OrderLine, i64)> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let at = |leaf: &str| vec!["lines".to_owned(), i.to_string(), leaf.to_owned()];
        let Some(line) = lines.iter().find(|l| l.position == part.line_index) else {
            let path = at("lineIndex");
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            return Err(UserError::at(&path, C::NotFound, "the order has no such line").into());
        };
        if moving.iter().any(|(l, _)| l.position == line.position) {
            let path = at("lineIndex");
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            return Err(UserError::at(&path, C::Invalid, "each line may be named once").into());
        }
        if part.quantity < 1 || part.quantity > line.quantity {
            let path = at("quantity");
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            return Err(UserError::at(
                &path,
                C::Invalid,
                format!("must be between 1 and {}", line.quantity),
            )
            .into());
        }
        moving.push((line.clone(), part.quantity));
    }
    let kept: i64 =
        lines.iter().map(|l| l.quantity).sum::<i64>() - moving.iter().map(|(_, q)| q).sum::<i64>();
    if kept == 0 {
        return Err(UserError::on(
            "lines",
            C::Invalid,
            "the original order must keep at least one unit",
        )
        .into());
    }

    // The new order: the moved units with their share of discounts and tax; shipping stays.
    let splits = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(orders::Column::Source.eq(order.source.clone()))
        .filter(orders::Column::ExternalId.starts_with(format!("{}#split-", order.external_id)))
        .count(tx.conn())
        .await?;
    let n = splits + 1;
    let new_id = OrderId::new();
    let (mut subtotal, mut discounts, mut tax) = (0i64, 0i64, 0i64);
    for (line, q) in &moving {
        subtotal += line.unit_price_units * q;
        discounts += share(line.discount_units, *q, line.quantity);
        tax += share(line.tax_units, *q, line.quantity);
    }
    let total = subtotal - discounts + if order.taxes_included { 0 } else { tax };
    let mut payment: PaymentFacts =
        serde_json::from_value(order.payment.clone()).unwrap_or_default();
    let captured = to_units(payment.amount_captured).unwrap_or(0);
    let authorized = to_units(payment.amount_authorized).unwrap_or(0);
    let moved_captured = share(captured, total, order.total.units()).min(captured);
    let moved_authorized = share(authorized, total, order.total.units()).min(authorized);
    let mut new_payment = payment.clone();
    new_payment.amount_captured = amount_from_units(moved_captured, &order.currency);
    new_payment.amount_authorized = amount_from_units(moved_authorized, &order.currency);
    payment.amount_captured = amount_from_units(captured - moved_captured, &order.currency);
    payment.amount_authorized = amount_from_units(authorized - moved_authorized, &order.currency);
    let now = Utc::now();
    let mut new_row: orders::ActiveModel = order.clone().into();
    new_row.id = Set(new_id.uuid());
    new_row.external_id = Set(format!("{}#split-{n}", order.external_id));
    new_row.name = Set(format!("{}-S{n}", order.name));
    new_row.subtotal_units = Set(subtotal);
    new_row.discounts_units = Set(discounts);
    new_row.tax_units = Set(tax);
    new_row.shipping_units = Set(0);
    new_row.total_units = Set(total);
    new_row.shipping_lines = Set(serde_json::json!([]));
    new_row.discounts = Set(serde_json::json!([]));
    new_row.payment = Set(serde_json::to_value(&new_payment).unwrap_or_default());
    new_row.refund_due_units = Set(0);
    new_row.created_at = Set(now);
    new_row.updated_at = Set(now);
    let new_order = repo::insert(&tx, new_row).await?;
    let new_lines: Vec<order_lines::ActiveModel> = moving
        .iter()
        .enumerate()
        .map(|(i, (l, q))| order_lines::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            order_id: Set(new_id.uuid()),
            position: Set(i as i32),
            external_id: Set(l.external_id.clone()),
            sku: Set(l.sku.clone()),
            variant_id: Set(l.variant_id),
            title: Set(l.title.clone()),
            variant_title: Set(l.variant_title.clone()),
            quantity: Set(*q),
            unit_price_units: Set(l.unit_price_units),
            discount_units: Set(share(l.discount_units, *q, l.quantity)),
            tax_units: Set(share(l.tax_units, *q, l.quantity)),
            tax_lines: Set(l.tax_lines.clone()),
            requires_shipping: Set(l.requires_shipping),
            grams: Set(l.grams),
        })
        .collect();
    order_lines::Entity::insert_many(new_lines)
        .exec_without_returning(tx.conn())
        .await?;

    // What stays: fewer units on the moved lines, a line moved whole is gone.
    for (line, q) in &moving {
        let key = (
            order_lines::Column::TenantId.eq(tx.tenant().uuid()),
            order_lines::Column::OrderId.eq(id.uuid()),
            order_lines::Column::Position.eq(line.position),
        );
        if *q == line.quantity {
            order_lines::Entity::delete_many()
                .filter(key.0)
                .filter(key.1)
                .filter(key.2)
                .exec(tx.conn())
                .await?;
        } else {
            order_lines::Entity::update_many()
                .col_expr(
                    order_lines::Column::Quantity,
                    Expr::value(line.quantity - q),
                )
                .col_expr(
                    order_lines::Column::DiscountUnits,
                    Expr::value(
                        line.discount_units - share(line.discount_units, *q, line.quantity),
                    ),
                )
                .col_expr(
                    order_lines::Column::TaxUnits,
                    Expr::value(line.tax_units - share(line.tax_units, *q, line.quantity)),
                )
                .filter(key.0)
                .filter(key.1)
                .filter(key.2)
                .exec(tx.conn())
                .await?;
        }
    }
    let money = |units| Money::from_units(units, order.currency);
    repo::set_amounts(
        &tx,
        id,
        repo::Amounts {
            subtotal: order.subtotal - money(subtotal),
            discounts: order.discounts - money(discounts),
            tax: order.tax - money(tax),
            shipping: order.shipping,
            total: order.total - money(total),
        },
        serde_json::to_value(&payment).unwrap_or_default(),
    )
    .await?;

    // The stock promised moves with the units: backordered units first, so that splitting
    // off what is missing lets the rest ship.
    let existing = allocation_repo::of_orders(&tx, &[id]).await?;
    for (i, (line, q)) in moving.iter().enumerate() {
        let mut left = *q;
        let mut rows: Vec<&allocations::Model> = existing
            .iter()
            .filter(|a| a.line_position == line.position)
            .filter(|a| {
                matches!(
                    AllocationStatus::parse(&a.status),
                    AllocationStatus::Reserved | AllocationStatus::Backordered
                )
            })
            .collect();
        rows.sort_by_key(|a| AllocationStatus::parse(&a.status) != AllocationStatus::Backordered);
        for row in rows {
            if left == 0 {
                break;
            }
            let take = left.min(row.quantity);
            left -= take;
            if take == row.quantity {
                allocations::Entity::update_many()
                    .col_expr(allocations::Column::OrderId, Expr::value(new_id.uuid()))
                    .col_expr(allocations::Column::LinePosition, Expr::value(i as i32))
                    .col_expr(allocations::Column::UpdatedAt, Expr::value(now))
                    .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
                    .filter(allocations::Column::Id.eq(row.id))
                    .exec(tx.conn())
                    .await?;
            } else {
                allocations::Entity::update_many()
                    .col_expr(
                        allocations::Column::Quantity,
                        Expr::value(row.quantity - take),
                    )
                    .col_expr(allocations::Column::UpdatedAt, Expr::value(now))
                    .filter(allocations::Column::TenantId.eq(tx.tenant().uuid()))
                    .filter(allocations::Column::Id.eq(row.id))
                    .exec(tx.conn())
                    .await?;
                let mut moved: allocations::ActiveModel = row.clone().into();
                moved.id = Set(AllocationId::new().uuid());
                moved.order_id = Set(new_id.uuid());
                moved.line_position = Set(i as i32);
                moved.quantity = Set(take);
                moved.created_at = Set(now);
                moved.updated_at = Set(now);
                allocations::Entity::insert(moved)
                    .exec_without_returning(tx.conn())
                    .await?;
            }
        }
    }
    // Line positions of the original are unchanged; a line moved whole took its rows along.

    let who = By {
        actor: principal.actor,
        label,
    };
    let units: i64 = moving.iter().map(|(_, q)| q).sum();
    let mut events = vec![
        timeline::record_event(&tx, NewEvent {
            order: id,
            kind: "order.split",
            actor: who.actor,
            actor_label: who.label.clone(),
            message: format!("Split: {units} unit(s) moved to {}", new_order.name),
            reason: reason.clone(),
            data: serde_json::json!({ "newOrderId": new_id.uuid(), "moved": moving.iter().map(|(l, q)| serde_json::json!({ "sku": l.sku, "quantity": q })).collect::<Vec<_>>() }),
        })
        .await?,
        timeline::record_event(&tx, NewEvent {
            order: new_id,
            kind: "order.split_from",
            actor: who.actor,
            actor_label: who.label.clone(),
            message: format!("Split from {}: {units} unit(s), {} {}", order.name, amount_from_units(total, &order.currency), order.currency),
            reason,
            data: serde_json::json!({ "fromOrderId": id.uuid(), "state": from.as_str() }),
        })
        .await?,
    ];
    // Each order's state follows what it now holds.
    let mut new_order = new_order;
    order = repo::get_for_update(&tx, id).await?.unwrap_or(order);
    for o in [&mut order, &mut new_order] {
        if let Some(event) = settle(&tx, o, &who).await? {
            events.push(event);
        }
    }
    tx.commit().await?;
    timeline::publish_events(state, principal.tenant, &events).await;
    Ok((order, new_order))
}

/// An allocated or backordered order moves to whichever its allocations now say.
async fn settle(
    tx: &TenantTx,
    order: &mut Order,
    by: &By,
) -> Result<Option<OrderEvent>, sea_orm::DbErr> {
    let from = order.state;
    if !matches!(from, OrderState::Allocated | OrderState::Backordered) {
        return Ok(None);
    }
    let rows = allocation_repo::of_orders(tx, &[OrderId(order.id)]).await?;
    let waiting = rows
        .iter()
        .any(|a| AllocationStatus::parse(&a.status) == AllocationStatus::Backordered);
    let (to, kind, message) = match (from, waiting) {
        (OrderState::Backordered, false) => (
            OrderState::Allocated,
            "order.allocated",
            "Everything left on the order is in stock",
        ),
        (OrderState::Allocated, true) => (
            OrderState::Backordered,
            "order.backordered",
            "Backordered: the units moved here are waiting for stock",
        ),
        _ => return Ok(None),
    };
    let step = Step {
        to,
        kind,
        message: message.into(),
        reason: None,
        data: serde_json::json!({ "after": "split" }),
    };
    match transition::apply(tx, order, by, step).await {
        Ok(event) => Ok(Some(event)),
        Err(transition::TransitionError::Db(e)) => Err(e),
        Err(e) => Err(sea_orm::DbErr::Custom(e.to_string())),
    }
}
