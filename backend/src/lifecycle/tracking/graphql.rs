//! GraphQL of delivery monitoring: the exceptions queue and resolving an exception.

use crate::graphql::loader::Loaders;
use crate::lifecycle::shipping::graphql::types::ShipmentFields;
use crate::lifecycle::tracking::loaders::{ExceptionsOf, ScansOf};
use crate::order::graphql::types::OrderFields;
use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::monitor::{Action, ExceptionKind};
use super::repo::{self, DeliveryException as Record};
use crate::domain::OrderId;
use crate::error::{UserError, UserErrorCode as C};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{connection, decode_cursor, decode_id, global_id, page_size};
use crate::order::timeline::{self, NewEvent};
use crate::tenancy::{Permission, TenantTx};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "ExceptionKind")]
pub enum DeliveryExceptionKind {
    Late,
    Lost,
    AddressProblem,
    FailedAttempt,
    ReturnedToSender,
    WrongItem,
    MissingItem,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "Action")]
pub enum DeliveryAction {
    ContactCarrier,
    Reship,
    Refund,
    ContactCustomer,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeliveryExceptionStatus {
    Open,
    Resolved,
}

/// A delivery problem on an order, with what to do about it.
#[derive(Clone, Debug, SimpleObject)]
pub struct DeliveryException {
    pub id: ID,
    pub order_id: ID,
    pub shipment_id: ID,
    pub kind: DeliveryExceptionKind,
    pub detail: String,
    pub recommended_action: DeliveryAction,
    pub status: DeliveryExceptionStatus,
    /// What was done (one of the actions, or `delivered` when the parcel arrived after all).
    pub resolution: Option<String>,
    pub note: Option<String>,
    pub resolved_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Record> for DeliveryException {
    fn from(e: Record) -> Self {
        Self {
            id: global_id("DeliveryException", e.id),
            order_id: global_id("Order", e.order_id),
            shipment_id: global_id("Shipment", e.shipment_id),
            kind: ExceptionKind::parse(&e.kind)
                .unwrap_or(ExceptionKind::Late)
                .into(),
            detail: e.detail,
            recommended_action: Action::parse(&e.recommended_action)
                .unwrap_or(Action::ContactCarrier)
                .into(),
            status: if e.status == repo::OPEN {
                DeliveryExceptionStatus::Open
            } else {
                DeliveryExceptionStatus::Resolved
            },
            resolution: e.resolution,
            note: e.note,
            resolved_by: e.resolved_by,
            created_at: e.created_at,
            resolved_at: e.resolved_at,
        }
    }
}

#[derive(InputObject)]
pub struct ResolveDeliveryExceptionInput {
    pub id: ID,
    /// What was done.
    pub action: DeliveryAction,
    pub note: Option<String>,
}

/// What went wrong in a parcel, as the shopper reports it.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum FulfillmentErrorKind {
    WrongItem,
    MissingItem,
}

#[derive(InputObject)]
pub struct ReportFulfillmentErrorInput {
    pub shipment_id: ID,
    pub kind: FulfillmentErrorKind,
    /// What the shopper said (1–2000 characters).
    pub detail: String,
}

#[derive(SimpleObject)]
pub struct DeliveryExceptionPayload {
    pub exception: Option<DeliveryException>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct TrackingQuery;

#[Object]
impl TrackingQuery {
    /// The exceptions queue, newest first: open ones unless `includeResolved`.
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn delivery_exceptions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kind: Option<DeliveryExceptionKind>,
        include_resolved: Option<bool>,
    ) -> async_graphql::Result<Connection<String, DeliveryException>> {
        let p = principal(ctx)?;
        let limit = page_size(first)?;
        let cursor = decode_cursor(after.as_deref())?;
        let tx = TenantTx::begin(&state(ctx).db, p.tenant).await?;
        let kind = kind.map(|k| ExceptionKind::from(k).as_str());
        let rows = repo::queue(
            &tx,
            !include_resolved.unwrap_or(false),
            kind,
            cursor,
            limit + 1,
        )
        .await?;
        tx.commit().await?;
        let nodes = rows
            .into_iter()
            .map(|e| (e.id, DeliveryException::from(e)))
            .collect();
        Ok(connection(nodes, limit, cursor.is_some()))
    }
}

#[derive(Default)]
pub struct TrackingMutation;

#[Object]
impl TrackingMutation {
    /// A wrong or missing item in a parcel: opens an exception (reship) on it, on the order's
    /// timeline, and counts against fulfillment accuracy.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn report_fulfillment_error(
        &self,
        ctx: &Context<'_>,
        input: ReportFulfillmentErrorInput,
    ) -> async_graphql::Result<DeliveryExceptionPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.shipment_id, "Shipment", "shipmentId")?;
        let label = actor_label(ctx, p).await?;
        let st = state(ctx);
        let outcome = async {
            let detail = input.detail.trim().to_owned();
            if detail.is_empty() || detail.chars().count() > 2000 {
                return Err(UserError::on(
                    "detail",
                    C::Invalid,
                    "must say what was wrong, in at most 2000 characters",
                )
                .into());
            }
            let kind = match input.kind {
                FulfillmentErrorKind::WrongItem => ExceptionKind::WrongItem,
                FulfillmentErrorKind::MissingItem => ExceptionKind::MissingItem,
            };
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(shipment) = crate::lifecycle::shipping::repo::shipment(&tx, id).await? else {
                return Err(UserError::on("shipmentId", C::NotFound, "no such shipment").into());
            };
            if shipment.shipped_at.is_none() {
                return Err(UserError::on(
                    "shipmentId",
                    C::Conflict,
                    "this parcel has not shipped yet",
                )
                .into());
            }
            let reported = super::service::report_fulfillment_error(
                &tx, &shipment, kind, detail, p.actor, label,
            )
            .await?;
            let Some((raised, event)) = reported else {
                return Err(UserError::on(
                    "kind",
                    C::Conflict,
                    "this parcel already has an exception of this kind",
                )
                .into());
            };
            tx.commit().await?;
            timeline::publish_events(st, p.tenant, &[event]).await;
            Ok::<_, crate::error::Fail>(raised)
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(DeliveryExceptionPayload {
            exception: value.map(DeliveryException::from),
            user_errors,
        })
    }

    /// Records what was done about a delivery exception; it leaves the queue.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn resolve_delivery_exception(
        &self,
        ctx: &Context<'_>,
        input: ResolveDeliveryExceptionInput,
    ) -> async_graphql::Result<DeliveryExceptionPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "DeliveryException", "id")?;
        let label = actor_label(ctx, p).await?;
        let st = state(ctx);
        let outcome = async {
            p.require(Permission::OrdersManage)?;
            let note = input
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
                return Err(
                    UserError::on("note", C::Invalid, "must be at most 2000 characters").into(),
                );
            }
            let tx = TenantTx::begin(&st.db, p.tenant).await?;
            let Some(e) = repo::exception(&tx, id).await? else {
                return Err(UserError::on("id", C::NotFound, "no such delivery exception").into());
            };
            if e.status != repo::OPEN {
                return Err(
                    UserError::on("id", C::Conflict, "this exception is already resolved").into(),
                );
            }
            let action = Action::from(input.action);
            let who = label.clone().unwrap_or_else(|| "staff".into());
            let resolved = repo::resolve(&tx, e, action.as_str(), note.clone(), &who).await?;
            let event = timeline::record_event(
                &tx,
                NewEvent {
                    order: OrderId(resolved.order_id),
                    kind: "shipment.exception_resolved",
                    actor: p.actor,
                    actor_label: label.clone(),
                    message: format!(
                        "Delivery exception ({}) resolved: {}{}",
                        resolved.kind.replace('_', " "),
                        action.as_str().replace('_', " "),
                        note.as_deref()
                            .map(|n| format!(" — {n}"))
                            .unwrap_or_default()
                    ),
                    reason: note,
                    data: serde_json::json!({ "exceptionId": resolved.id }),
                },
            )
            .await?;
            tx.commit().await?;
            timeline::publish_events(st, p.tenant, &[event]).await;
            Ok::<_, crate::error::Fail>(resolved)
        }
        .await;
        let (value, user_errors) = payload(outcome)?;
        Ok(DeliveryExceptionPayload {
            exception: value.map(DeliveryException::from),
            user_errors,
        })
    }
}

/// Tracking's field on an order: the problems found on its parcels. A part of `Order` (listed in
/// `schema::parts`).
pub struct DeliveryExceptionsPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for DeliveryExceptionsPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl DeliveryExceptionsPart {
    /// Delivery problems found on its parcels, with the action recommended.
    async fn delivery_exceptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DeliveryException>> {
        let (tenant, order) = self.0.key;
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((tenant, ExceptionsOf(order)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(DeliveryException::from)
            .collect())
    }
}

/// A scan of a parcel, in the normalised vocabulary.
#[derive(Clone, Debug, SimpleObject)]
pub struct TrackingEvent {
    pub status: String,
    pub detail: Option<String>,
    pub message: String,
    pub location: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// easypost, shippo, aftership or orderflow.
    pub source: String,
}

/// Tracking's field on a parcel: its scans. A part of `Shipment` (listed in `schema::parts`).
pub struct ShipmentScansPart(Arc<ShipmentFields>);

impl From<Arc<ShipmentFields>> for ShipmentScansPart {
    fn from(shipment: Arc<ShipmentFields>) -> Self {
        Self(shipment)
    }
}

#[Object]
impl ShipmentScansPart {
    /// Scans, oldest first.
    async fn tracking_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<TrackingEvent>> {
        let rows = ctx
            .data_unchecked::<Loaders>()
            .load_one((self.0.key.0, ScansOf(self.0.key.1)))
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|e| TrackingEvent {
                status: e.status,
                detail: e.detail,
                message: e.message,
                location: e.location,
                occurred_at: e.occurred_at,
                source: e.source,
            })
            .collect())
    }
}
