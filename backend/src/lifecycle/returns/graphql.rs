//! GraphQL of returns: the list and detail, each step as a mutation, and the return policy.

use crate::order::graphql::types::OrderFields;
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::policy::{Approval, Policy, Reason};
use super::repo::{self, Return as Record, ReturnLine as LineRecord};
use super::service::{self, Ask, AskLine, By, Grade, Links, Resolution, ReturnError, Source};
use super::settings;
use super::settle::Settlement as SettlementRecord;
use crate::domain::OrderId;
use crate::domain::money::amount_from_units;
use crate::error::{Fail, Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::loader::Loaders;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::graphql::scalars::Amount;
use crate::lifecycle::refund::graphql::{Refund, units_of};
use crate::lifecycle::refund::loaders::RefundsOf;
use crate::lifecycle::transition::staff::optional;
use crate::order::graphql::types::{Order, OrderEvent};
use crate::order::loaders::EventsOf;
use crate::order::repo as orders;
use crate::order::timeline;
use crate::tenancy::{Permission, Principal, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    InTransit,
    Received,
    Inspected,
    Resolved,
    Cancelled,
}

impl ReturnStatus {
    fn parse(raw: &str) -> Self {
        match raw {
            repo::APPROVED => Self::Approved,
            repo::REJECTED => Self::Rejected,
            repo::IN_TRANSIT => Self::InTransit,
            repo::RECEIVED => Self::Received,
            repo::INSPECTED => Self::Inspected,
            repo::RESOLVED => Self::Resolved,
            repo::CANCELLED => Self::Cancelled,
            _ => Self::Requested,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Requested => repo::REQUESTED,
            Self::Approved => repo::APPROVED,
            Self::Rejected => repo::REJECTED,
            Self::InTransit => repo::IN_TRANSIT,
            Self::Received => repo::RECEIVED,
            Self::Inspected => repo::INSPECTED,
            Self::Resolved => repo::RESOLVED,
            Self::Cancelled => repo::CANCELLED,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReturnResolution {
    Refund,
    StoreCredit,
    Exchange,
}

impl From<ReturnResolution> for Resolution {
    fn from(r: ReturnResolution) -> Self {
        match r {
            ReturnResolution::Refund => Resolution::Refund,
            ReturnResolution::StoreCredit => Resolution::StoreCredit,
            ReturnResolution::Exchange => Resolution::Exchange,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConditionGrade {
    /// As new, unopened.
    A,
    /// Opened, like new.
    B,
    /// Used or worn.
    C,
    /// Damaged or not working.
    D,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ItemDisposition {
    Restock,
    Refurbish,
    Dispose,
}

/// Why a return was (or was not) approved without staff.
#[derive(Clone, Debug, SimpleObject)]
pub struct ReturnDecision {
    pub automatic: bool,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct ReturnLine {
    /// The order line's index, as in `order.lines`.
    pub line_index: i32,
    pub sku: String,
    pub quantity: i32,
    pub reason: Option<String>,
    /// One unit's value without tax, after its discount.
    pub unit_value: Amount,
    pub unit_tax: Amount,
    pub grade: Option<String>,
    pub inspection_note: Option<String>,
    pub disposition: Option<ItemDisposition>,
    /// Why: the grade and the value against handling cost.
    pub disposition_reason: Option<String>,
    pub exchange_sku: Option<String>,
}

/// What the shopper got back and how it was worked out.
#[derive(Clone, Debug, SimpleObject)]
pub struct ReturnSettlement {
    pub amount: Amount,
    pub goods: Amount,
    pub tax: Amount,
    pub shipping: Amount,
    pub withheld: Amount,
    pub notes: Vec<String>,
}

/// A return (RMA).
#[derive(Clone, Debug, SimpleObject)]
#[graphql(complex)]
pub struct Return {
    pub id: ID,
    /// The order's name and a sequence, e.g. "#1001-R1".
    pub name: String,
    pub order_id: ID,
    pub status: ReturnStatus,
    /// shopper, staff or api.
    pub source: String,
    pub reason: String,
    pub comment: Option<String>,
    pub resolution: ReturnResolution,
    pub decision: Option<ReturnDecision>,
    pub rejection: Option<String>,
    pub lines: Vec<ReturnLine>,
    pub tracking_number: Option<String>,
    pub label_cost: Option<Amount>,
    /// pre_transit, in_transit, delivered… once labelled; while a carrier's API sells it:
    /// requested, buying, pending, bought; failed when none could be had.
    pub label_status: Option<String>,
    /// Why a requested label is still waiting (or why none could be bought), in words.
    pub label_wait: Option<String>,
    /// The return label (a signed link, as the shopper has it).
    pub label_url: Option<String>,
    /// The shopper's page for this return.
    pub page_url: String,
    /// The replacement order of an exchange.
    pub exchange_order_id: Option<ID>,
    pub settlement: Option<ReturnSettlement>,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub inspected_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub key: (
        crate::domain::TenantId,
        OrderId,
        uuid::Uuid,
        Option<uuid::Uuid>,
    ),
}

impl Return {
    pub fn of(r: Record, lines: &[LineRecord], links: &Links<'_>) -> Self {
        let cur = r.currency.clone();
        let money = |u: i64| Amount::from(amount_from_units(u, &cur));
        let page_url = links.page(&r);
        let decision: Option<Approval> = r
            .decision
            .clone()
            .and_then(|d| serde_json::from_value(d).ok());
        let settlement: Option<SettlementRecord> = r
            .settlement
            .clone()
            .and_then(|s| serde_json::from_value(s).ok());
        Self {
            id: global_id("Return", r.id),
            name: r.name.clone(),
            order_id: global_id("Order", r.order_id),
            status: ReturnStatus::parse(&r.status),
            source: r.source.clone(),
            reason: r.reason.clone(),
            comment: r.comment.clone(),
            resolution: match Resolution::parse(&r.resolution) {
                Some(Resolution::StoreCredit) => ReturnResolution::StoreCredit,
                Some(Resolution::Exchange) => ReturnResolution::Exchange,
                _ => ReturnResolution::Refund,
            },
            decision: decision.map(|d| ReturnDecision {
                automatic: d.automatic,
                reasons: d.reasons,
            }),
            rejection: r.rejection.clone(),
            lines: lines
                .iter()
                .filter(|l| l.return_id == r.id)
                .map(|l| ReturnLine {
                    line_index: l.position,
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    reason: l.reason.clone(),
                    unit_value: money(l.unit_value_units),
                    unit_tax: money(l.unit_tax_units),
                    grade: l.grade.clone(),
                    inspection_note: l.inspection_note.clone(),
                    disposition: l.disposition.as_deref().and_then(|d| match d {
                        "restock" => Some(ItemDisposition::Restock),
                        "refurbish" => Some(ItemDisposition::Refurbish),
                        "dispose" => Some(ItemDisposition::Dispose),
                        _ => None,
                    }),
                    disposition_reason: l.disposition_reason.clone(),
                    exchange_sku: l.exchange_sku.clone(),
                })
                .collect(),
            tracking_number: r.tracking_number.clone(),
            label_cost: r.label_cost_units.map(money),
            label_status: r.label_status.clone(),
            label_wait: r.label_wait.clone(),
            label_url: r
                .label_pdf
                .as_ref()
                .map(|_| format!("{page_url}/label.pdf")),
            page_url,
            exchange_order_id: r.exchange_order_id.map(|o| global_id("Order", o)),
            settlement: settlement.map(|s| ReturnSettlement {
                amount: money(s.amount()),
                goods: money(s.goods),
                tax: money(s.tax),
                shipping: money(s.shipping),
                withheld: money(s.withheld),
                notes: s.notes,
            }),
            currency: r.currency.clone(),
            created_at: r.created_at,
            approved_at: r.approved_at,
            received_at: r.received_at,
            inspected_at: r.inspected_at,
            resolved_at: r.resolved_at,
            key: (
                crate::domain::TenantId(r.tenant_id),
                OrderId(r.order_id),
                r.id,
                r.refund_id,
            ),
        }
    }
}

#[ComplexObject]
impl Return {
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let row = orders::get(&tx, self.key.1).await?;
        tx.commit().await?;
        Ok(row.map(Order::from))
    }

    /// The refund that settled it.
    async fn refund(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Refund>> {
        let (tenant, order, _, refund) = self.key;
        let Some(refund) = refund else {
            return Ok(None);
        };
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, RefundsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.id == refund)
            .map(Refund::from))
    }

    /// Its steps, from the order's timeline, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderEvent>> {
        let (tenant, order, id, _) = self.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, EventsOf(order)))
            .await?;
        let id = id.to_string();
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.data.get("returnId").and_then(|v| v.as_str()) == Some(id.as_str()))
            .map(OrderEvent::from)
            .collect())
    }
}

/// A reason a shopper may choose.
#[derive(Clone, Debug, SimpleObject, InputObject)]
#[graphql(input_name = "ReturnReasonInput")]
pub struct ReturnReason {
    pub code: String,
    pub label: String,
    /// The merchant pays: no restocking fee, shipping refunded, full value.
    pub merchant_fault: bool,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct GradeRefund {
    pub grade: String,
    pub percent: i32,
}

/// The tenant's return policy.
#[derive(Clone, Debug, SimpleObject)]
pub struct ReturnSettings {
    pub window_days: i32,
    pub final_sale_skus: Vec<String>,
    pub reasons: Vec<ReturnReason>,
    /// Percent of value refunded per grade when the shopper is at fault.
    pub grade_refund_percent: Vec<GradeRefund>,
    pub auto_approve: bool,
    pub auto_approve_max_value: Amount,
    pub auto_approve_max_fraud_score: i32,
    pub auto_approve_max_recent: i32,
    pub restocking_fee_percent: i32,
    pub refund_shipping: bool,
    pub deduct_label_cost: bool,
    pub handling_cost: Amount,
    pub refurbish_cost: Amount,
    pub auto_refund: bool,
    pub warehouse_id: Option<ID>,
}

impl From<Policy> for ReturnSettings {
    fn from(p: Policy) -> Self {
        // Policy amounts are in the tenant's currency; two decimals serve every display.
        let money = |u: i64| Amount::from(amount_from_units(u, "USD"));
        Self {
            window_days: p.window_days,
            final_sale_skus: p.final_sale_skus,
            reasons: p
                .reasons
                .into_iter()
                .map(|r| ReturnReason {
                    code: r.code,
                    label: r.label,
                    merchant_fault: r.merchant_fault,
                })
                .collect(),
            grade_refund_percent: p
                .grade_refund_percent
                .into_iter()
                .map(|(grade, percent)| GradeRefund { grade, percent })
                .collect(),
            auto_approve: p.auto_approve,
            auto_approve_max_value: money(p.auto_approve_max_units),
            auto_approve_max_fraud_score: p.auto_approve_max_fraud_score,
            auto_approve_max_recent: p.auto_approve_max_recent,
            restocking_fee_percent: p.restocking_fee_percent,
            refund_shipping: p.refund_shipping,
            deduct_label_cost: p.deduct_label_cost,
            handling_cost: money(p.handling_cost_units),
            refurbish_cost: money(p.refurbish_cost_units),
            auto_refund: p.auto_refund,
            warehouse_id: p.warehouse_id.map(|w| global_id("Warehouse", w)),
        }
    }
}

#[derive(InputObject)]
pub struct GradeRefundInput {
    pub grade: ConditionGrade,
    pub percent: i32,
}

/// Only the fields given change.
#[derive(InputObject, Default)]
pub struct UpdateReturnSettingsInput {
    pub window_days: Option<i32>,
    pub final_sale_skus: Option<Vec<String>>,
    pub reasons: Option<Vec<ReturnReason>>,
    pub grade_refund_percent: Option<Vec<GradeRefundInput>>,
    pub auto_approve: Option<bool>,
    pub auto_approve_max_value: Option<Amount>,
    pub auto_approve_max_fraud_score: Option<i32>,
    pub auto_approve_max_recent: Option<i32>,
    pub restocking_fee_percent: Option<i32>,
    pub refund_shipping: Option<bool>,
    pub deduct_label_cost: Option<bool>,
    pub handling_cost: Option<Amount>,
    pub refurbish_cost: Option<Amount>,
    pub auto_refund: Option<bool>,
    pub warehouse_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct ReturnSettingsPayload {
    pub settings: Option<ReturnSettings>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ReturnLineInput {
    /// The order line's index, as in `order.lines`.
    pub line_index: i32,
    pub quantity: i32,
    /// For an exchange: the SKU to send instead (the same SKU when left out).
    pub exchange_sku: Option<String>,
}

#[derive(InputObject)]
pub struct CreateReturnInput {
    pub order_id: ID,
    pub lines: Vec<ReturnLineInput>,
    /// One of the policy's reason codes.
    pub reason: String,
    pub comment: Option<String>,
    pub resolution: Option<ReturnResolution>,
}

#[derive(InputObject)]
pub struct ReturnActionInput {
    pub return_id: ID,
    /// Required to reject; a note otherwise.
    pub reason: Option<String>,
}

#[derive(InputObject)]
pub struct InspectLineInput {
    pub line_index: i32,
    pub grade: ConditionGrade,
    pub note: Option<String>,
    /// Units that arrived, when fewer than asked for: only they are restocked and refunded.
    pub received: Option<i32>,
}

#[derive(InputObject)]
pub struct InspectReturnInput {
    pub return_id: ID,
    pub lines: Vec<InspectLineInput>,
    /// Whose fault it was, as the inspection found: the merchant's (damaged in transit, wrong
    /// item) pays in full with shipping; the shopper's follows the grades and fees. The
    /// shopper's chosen reason decides when left out.
    pub merchant_fault: Option<bool>,
}

#[derive(SimpleObject)]
pub struct ReturnPayload {
    #[graphql(name = "return")]
    pub ret: Option<Return>,
    pub user_errors: Vec<UserError>,
}

fn failure(e: ReturnError) -> Fail {
    match e {
        ReturnError::Refused(r) => {
            let mut field = vec!["input".to_owned()];
            field.extend(r.field);
            UserError {
                field,
                message: r.message,
                code: C::Invalid,
            }
            .into()
        }
        ReturnError::NotFound(field) => UserError::on(
            field,
            C::NotFound,
            format!("no such {}", field.trim_end_matches("Id")),
        )
        .into(),
        ReturnError::Db(e) => e.into(),
    }
}

async fn view(tx: &TenantTx, links: &Links<'_>, r: Record) -> Result<Return, sea_orm::DbErr> {
    let lines = repo::lines_of(tx, &[r.id]).await?;
    Ok(Return::of(r, &lines, links))
}

#[derive(Default)]
pub struct ReturnsQuery;

#[Object]
impl ReturnsQuery {
    /// Returns, newest first, optionally in one status.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn returns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<ReturnStatus>,
    ) -> async_graphql::Result<Connection<String, Return>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let st = state(ctx);
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let rows = repo::list(&tx, status.map(ReturnStatus::as_str), cursor, limit + 1).await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = repo::lines_of(&tx, &ids).await?;
        tx.commit().await?;
        let links = Links::of(&st.config);
        let nodes = rows
            .into_iter()
            .map(|r| (r.id, Return::of(r, &lines, &links)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn r#return(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Return>> {
        let p = principal(ctx)?;
        let id = decode_id(&id, "Return", "id")?;
        let st = state(ctx);
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let found = match repo::get(&tx, id).await? {
            Some(r) => Some(view(&tx, &Links::of(&st.config), r).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(found)
    }

    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn return_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<ReturnSettings> {
        let p = principal(ctx)?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let s = settings::load(&tx).await?;
        tx.commit().await?;
        Ok(s.into())
    }
}

/// A step on an existing return.
enum Action {
    Approve(Option<String>),
    Reject(String),
    Receive(Option<String>),
    Inspect(service::Findings),
    Resolve,
    Cancel(Option<String>),
}

async fn run(
    tx: &TenantTx,
    links: &Links<'_>,
    ret: Record,
    by: By,
    action: Action,
) -> Result<(Record, Vec<crate::order::timeline::OrderEvent>), ReturnError> {
    match action {
        Action::Approve(note) => {
            let order = orders::get(tx, OrderId(ret.order_id))
                .await?
                .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the return's order".into()))?;
            let p = settings::load(tx).await?;
            service::approve_in(tx, links, &order, ret, &p, &by, note).await
        }
        Action::Reject(reason) => service::reject_in(tx, ret, &by, reason).await,
        Action::Receive(note) => service::receive_in(tx, ret, &by, note).await,
        Action::Inspect(findings) => service::inspect_in(tx, ret, findings, &by).await,
        Action::Resolve => service::resolve_in(tx, ret, &by).await,
        Action::Cancel(note) => service::cancel_in(tx, ret, &by, note).await,
    }
}

/// Runs one return step for the return named in the input, under the order's lock.
async fn step(
    ctx: &Context<'_>,
    permission: Permission,
    return_id: &ID,
    action: Action,
) -> async_graphql::Result<ReturnPayload> {
    let p = principal(ctx)?;
    let id = decode_id(return_id, "Return", "returnId")?;
    let label = actor_label(ctx, p).await?;
    let st = state(ctx);
    let outcome: Outcome<Return> = async {
        p.require(permission)?;
        let tx = TenantTx::begin(&st.db, p.tenant).await?;
        let Some(found) = repo::get(&tx, id).await? else {
            return Err(UserError::on("returnId", C::NotFound, "no such return").into());
        };
        // The order's lock, then the return's: every step takes them in this order.
        orders::get_for_update(&tx, OrderId(found.order_id)).await?;
        let ret = repo::get_for_update(&tx, id)
            .await?
            .ok_or_else(|| UserError::on("returnId", C::NotFound, "no such return"))?;
        let links = Links::of(&st.config);
        let by = By {
            actor: p.actor,
            label,
        };
        let (ret, events) = run(&tx, &links, ret, by, action).await.map_err(failure)?;
        let out = view(&tx, &links, ret).await?;
        tx.commit().await?;
        timeline::publish_events(st, p.tenant, &events).await;
        st.wake_workers.notify_one();
        Ok(out)
    }
    .await;
    let (ret, user_errors) = payload(outcome)?;
    Ok(ReturnPayload { ret, user_errors })
}

fn note(reason: Option<String>) -> Result<Option<String>, UserError> {
    optional(reason)
}

fn early(e: UserError) -> ReturnPayload {
    ReturnPayload {
        ret: None,
        user_errors: vec![e],
    }
}

#[derive(Default)]
pub struct ReturnsMutation;

#[Object]
impl ReturnsMutation {
    /// Opens a return for a delivered order; approved (and its label bought) at once when the
    /// policy allows, else waiting for staff.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn create_return(
        &self,
        ctx: &Context<'_>,
        input: CreateReturnInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let p = principal(ctx)?;
        let order = OrderId(decode_id(&input.order_id, "Order", "orderId")?);
        let label = actor_label(ctx, p).await?;
        let st = state(ctx);
        let outcome: Outcome<Return> = async {
            p.require(Permission::OrdersManage)?;
            let ask = ask_of(p, input)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let links = Links::of(&st.config);
            let by = By {
                actor: p.actor,
                label,
            };
            let (ret, events) = service::request(&tx, &links, order, ask, &by)
                .await
                .map_err(failure)?;
            let out = view(&tx, &links, ret).await?;
            tx.commit().await?;
            timeline::publish_events(st, p.tenant, &events).await;
            Ok(out)
        }
        .await;
        let (ret, user_errors) = payload(outcome)?;
        Ok(ReturnPayload { ret, user_errors })
    }

    /// Approves a return waiting for staff; its label is bought and the shopper told.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn approve_return(
        &self,
        ctx: &Context<'_>,
        input: ReturnActionInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let reason = match note(input.reason) {
            Ok(r) => r,
            Err(e) => return Ok(early(e)),
        };
        step(
            ctx,
            Permission::OrdersManage,
            &input.return_id,
            Action::Approve(reason),
        )
        .await
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn reject_return(
        &self,
        ctx: &Context<'_>,
        input: ReturnActionInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let reason = match crate::lifecycle::transition::staff::required(input.reason, "rejected") {
            Ok(r) => r,
            Err(e) => return Ok(early(e)),
        };
        step(
            ctx,
            Permission::OrdersManage,
            &input.return_id,
            Action::Reject(reason),
        )
        .await
    }

    /// Records the parcel's arrival when the carrier did not (no label, or no scan).
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn receive_return(
        &self,
        ctx: &Context<'_>,
        input: ReturnActionInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let reason = match note(input.reason) {
            Ok(r) => r,
            Err(e) => return Ok(early(e)),
        };
        step(
            ctx,
            Permission::OrdersManage,
            &input.return_id,
            Action::Receive(reason),
        )
        .await
    }

    /// Grades each item; restock, refurbish or dispose follows from the policy, and the refund
    /// when the policy refunds by itself.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn inspect_return(
        &self,
        ctx: &Context<'_>,
        input: InspectReturnInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let mut grades = Vec::new();
        for (i, l) in input.lines.into_iter().enumerate() {
            let note = match l
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
            {
                Some(n) if n.chars().count() > 1000 => {
                    return Ok(early(UserError::at(
                        &["lines", &i.to_string(), "note"],
                        C::Invalid,
                        "must be at most 1000 characters",
                    )));
                }
                other => other,
            };
            grades.push(Grade {
                position: l.line_index,
                grade: format!("{:?}", l.grade),
                note,
                received: l.received.map(i64::from),
            });
        }
        let may_refund = principal(ctx)?.require(Permission::RefundsIssue).is_ok();
        step(
            ctx,
            Permission::OrdersManage,
            &input.return_id,
            Action::Inspect(service::Findings {
                grades,
                merchant_fault: input.merchant_fault,
                may_refund,
            }),
        )
        .await
    }

    /// Refunds (or credits) what the inspection and the policy say; once per return.
    #[graphql(guard = "Perm(Permission::RefundsIssue)")]
    async fn resolve_return(
        &self,
        ctx: &Context<'_>,
        input: ReturnActionInput,
    ) -> async_graphql::Result<ReturnPayload> {
        step(
            ctx,
            Permission::RefundsIssue,
            &input.return_id,
            Action::Resolve,
        )
        .await
    }

    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn cancel_return(
        &self,
        ctx: &Context<'_>,
        input: ReturnActionInput,
    ) -> async_graphql::Result<ReturnPayload> {
        let reason = match note(input.reason) {
            Ok(r) => r,
            Err(e) => return Ok(early(e)),
        };
        step(
            ctx,
            Permission::OrdersManage,
            &input.return_id,
            Action::Cancel(reason),
        )
        .await
    }

    #[graphql(guard = "Perm(Permission::SettingsManage)")]
    async fn update_return_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateReturnSettingsInput,
    ) -> async_graphql::Result<ReturnSettingsPayload> {
        let p = principal(ctx)?;
        let st = state(ctx);
        let outcome: Outcome<Policy> = async {
            p.require(Permission::SettingsManage)?;
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let mut s = settings::load(&tx).await?;
            apply(&mut s, input)?;
            if let Some(w) = s.warehouse_id
                && crate::catalog::warehouse_repo::get(&tx, crate::domain::WarehouseId(w))
                    .await?
                    .is_none()
            {
                return Err(UserError::on("warehouseId", C::NotFound, "no such warehouse").into());
            }
            s.validate()
                .map_err(|e| UserError::on(e.field, C::Invalid, e.message))?;
            settings::save(&tx, &s).await?;
            tx.commit().await?;
            Ok(s)
        }
        .await;
        let (s, user_errors) = payload(outcome)?;
        Ok(ReturnSettingsPayload {
            settings: s.map(Into::into),
            user_errors,
        })
    }
}

fn ask_of(p: &Principal, input: CreateReturnInput) -> Result<Ask, UserError> {
    let comment = input
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(UserError::on(
            "comment",
            C::Invalid,
            "must be at most 2000 characters",
        ));
    }
    let mut lines = Vec::new();
    for (i, l) in input.lines.into_iter().enumerate() {
        let index = usize::try_from(l.line_index).map_err(|_| {
            UserError::at(
                &["lines", &i.to_string(), "lineIndex"],
                C::Invalid,
                "must not be negative",
            )
        })?;
        lines.push(AskLine {
            line_index: index,
            quantity: i64::from(l.quantity),
            exchange_sku: l
                .exchange_sku
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        });
    }
    Ok(Ask {
        lines,
        reason: input.reason.trim().to_owned(),
        comment,
        resolution: input.resolution.unwrap_or(ReturnResolution::Refund).into(),
        source: match p.actor {
            crate::tenancy::Actor::ApiKey(_) => Source::Api,
            _ => Source::Staff,
        },
    })
}

fn apply(s: &mut Policy, i: UpdateReturnSettingsInput) -> Result<(), UserError> {
    let units =
        |field: &str, a: &Option<Amount>| a.as_ref().map(|a| units_of(field, a)).transpose();
    if let Some(v) = i.window_days {
        s.window_days = v;
    }
    if let Some(v) = i.final_sale_skus {
        s.final_sale_skus = v.into_iter().map(|x| x.trim().to_owned()).collect();
    }
    if let Some(v) = i.reasons {
        s.reasons = v
            .into_iter()
            .map(|r| Reason {
                code: r.code.trim().to_owned(),
                label: r.label.trim().to_owned(),
                merchant_fault: r.merchant_fault,
            })
            .collect();
    }
    if let Some(v) = i.grade_refund_percent {
        for g in v {
            s.grade_refund_percent
                .insert(format!("{:?}", g.grade), g.percent);
        }
    }
    if let Some(v) = i.auto_approve {
        s.auto_approve = v;
    }
    if let Some(v) = units("autoApproveMaxValue", &i.auto_approve_max_value)? {
        s.auto_approve_max_units = v;
    }
    if let Some(v) = i.auto_approve_max_fraud_score {
        s.auto_approve_max_fraud_score = v;
    }
    if let Some(v) = i.auto_approve_max_recent {
        s.auto_approve_max_recent = v;
    }
    if let Some(v) = i.restocking_fee_percent {
        s.restocking_fee_percent = v;
    }
    if let Some(v) = i.refund_shipping {
        s.refund_shipping = v;
    }
    if let Some(v) = i.deduct_label_cost {
        s.deduct_label_cost = v;
    }
    if let Some(v) = units("handlingCost", &i.handling_cost)? {
        s.handling_cost_units = v;
    }
    if let Some(v) = units("refurbishCost", &i.refurbish_cost)? {
        s.refurbish_cost_units = v;
    }
    if let Some(v) = i.auto_refund {
        s.auto_refund = v;
    }
    if let Some(w) = i.warehouse_id {
        s.warehouse_id = Some(
            decode_id(&w, "Warehouse", "warehouseId")
                .map_err(|_| UserError::on("warehouseId", C::Invalid, "is not a Warehouse id"))?,
        );
    }
    Ok(())
}

/// The returns' field on an order. A part of `Order` (listed in `schema::parts`).
pub struct ReturnsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for ReturnsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl ReturnsPart {
    /// Its returns, oldest first.
    async fn returns(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Return>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, crate::lifecycle::returns::loaders::ReturnsOf(order)))
            .await?;
        let config = &crate::graphql::context::state(ctx).config;
        let links = crate::lifecycle::notify::context::Links::of(config);
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|(r, lines)| Return::of(r, &lines, &links))
            .collect())
    }
}
