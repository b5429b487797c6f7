//! Tracking events and delivery exceptions, scoped to the tenant.

use chrono::{DateTime, Utc};
use entity::{delivery_exceptions, shipments, tracking_events};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};

use super::monitor::{Finding, Transit};
use super::normalize::Scan;
use crate::domain::OrderId;
use crate::lifecycle::shipping::status::Source;
use crate::tenancy::{AnyTx, TenantTx};

pub use delivery_exceptions::Model as DeliveryException;
pub use tracking_events::Model as TrackingEvent;

pub const OPEN: &str = "open";
pub const RESOLVED: &str = "resolved";

/// The same scan always has the same key, whichever delivery carried it.
fn dedupe_key(scan: &Scan) -> String {
    let mut h = Sha256::new();
    h.update(scan.status.as_str());
    h.update([0]);
    h.update(scan.at.timestamp().to_string());
    h.update([0]);
    h.update(scan.message.trim());
    h.update([0]);
    h.update(scan.location.as_deref().unwrap_or(""));
    hex::encode(&h.finalize()[..16])
}

/// Stores the scans not seen before; returns the new ones.
pub async fn insert_new(
    tx: &TenantTx,
    shipment: uuid::Uuid,
    source: Source,
    scans: &[Scan],
) -> Result<Vec<Scan>, DbErr> {
    let known: Vec<String> = tracking_events::Entity::find()
        .select_only()
        .column(tracking_events::Column::DedupeKey)
        .filter(tracking_events::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(tracking_events::Column::ShipmentId.eq(shipment))
        .into_tuple()
        .all(tx.conn())
        .await?;
    let now = Utc::now();
    let mut fresh = Vec::new();
    let mut rows = Vec::new();
    let mut keys = known;
    for s in scans {
        let key = dedupe_key(s);
        if keys.contains(&key) {
            continue;
        }
        keys.push(key.clone());
        fresh.push(s.clone());
        rows.push(tracking_events::ActiveModel {
            tenant_id: Set(tx.tenant().uuid()),
            id: Set(uuid::Uuid::now_v7()),
            shipment_id: Set(shipment),
            source: Set(source.as_str().to_owned()),
            dedupe_key: Set(key),
            status: Set(s.status.as_str().to_owned()),
            detail: Set(s.detail.clone()),
            message: Set(s.message.clone()),
            location: Set(s.location.clone()),
            occurred_at: Set(s.at),
            received_at: Set(now),
        });
    }
    if !rows.is_empty() {
        // A concurrent delivery of the same scan loses quietly.
        tracking_events::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    tracking_events::Column::TenantId,
                    tracking_events::Column::ShipmentId,
                    tracking_events::Column::DedupeKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(tx.conn())
            .await?;
    }
    Ok(fresh)
}

/// A shipment's scans, oldest first.
pub async fn events_of(
    tx: &TenantTx,
    shipments: &[uuid::Uuid],
) -> Result<Vec<TrackingEvent>, DbErr> {
    tracking_events::Entity::find()
        .filter(tracking_events::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(tracking_events::Column::ShipmentId.is_in(shipments.iter().copied()))
        .order_by_asc(tracking_events::Column::OccurredAt)
        .order_by_asc(tracking_events::Column::Id)
        .all(tx.conn())
        .await
}

/// Records a finding unless the parcel already has an exception of its kind; returns the new
/// exception.
pub async fn raise(
    tx: &TenantTx,
    order: OrderId,
    shipment: uuid::Uuid,
    finding: &Finding,
) -> Result<Option<DeliveryException>, DbErr> {
    let exists = delivery_exceptions::Entity::find()
        .filter(delivery_exceptions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(delivery_exceptions::Column::ShipmentId.eq(shipment))
        .filter(delivery_exceptions::Column::Kind.eq(finding.kind.as_str()))
        .one(tx.conn())
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let row = delivery_exceptions::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        id: Set(uuid::Uuid::now_v7()),
        order_id: Set(order.uuid()),
        shipment_id: Set(shipment),
        kind: Set(finding.kind.as_str().to_owned()),
        detail: Set(finding.detail.clone()),
        recommended_action: Set(finding.action.as_str().to_owned()),
        status: Set(OPEN.to_owned()),
        resolution: Set(None),
        note: Set(None),
        resolved_by: Set(None),
        created_at: Set(Utc::now()),
        resolved_at: Set(None),
    };
    let inserted = delivery_exceptions::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                delivery_exceptions::Column::TenantId,
                delivery_exceptions::Column::ShipmentId,
                delivery_exceptions::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_with_returning(tx.conn())
        .await;
    match inserted {
        Ok(e) => Ok(Some(e)),
        Err(DbErr::RecordNotInserted) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn exception(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<DeliveryException>, DbErr> {
    delivery_exceptions::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn exceptions_of(
    tx: &TenantTx,
    orders: &[OrderId],
) -> Result<Vec<DeliveryException>, DbErr> {
    delivery_exceptions::Entity::find()
        .filter(delivery_exceptions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(delivery_exceptions::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(delivery_exceptions::Column::Id)
        .all(tx.conn())
        .await
}

/// The queue: open exceptions (or all), newest first, after a cursor.
pub async fn queue(
    tx: &TenantTx,
    only_open: bool,
    kind: Option<&str>,
    before: Option<uuid::Uuid>,
    limit: u64,
) -> Result<Vec<DeliveryException>, DbErr> {
    let mut q = delivery_exceptions::Entity::find()
        .filter(delivery_exceptions::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(delivery_exceptions::Column::Id)
        .limit(limit);
    if only_open {
        q = q.filter(delivery_exceptions::Column::Status.eq(OPEN));
    }
    if let Some(k) = kind {
        q = q.filter(delivery_exceptions::Column::Kind.eq(k));
    }
    if let Some(b) = before {
        q = q.filter(delivery_exceptions::Column::Id.lt(b));
    }
    q.all(tx.conn()).await
}

pub async fn resolve(
    tx: &TenantTx,
    e: DeliveryException,
    resolution: &str,
    note: Option<String>,
    by: &str,
) -> Result<DeliveryException, DbErr> {
    let mut row: delivery_exceptions::ActiveModel = e.into();
    row.status = Set(RESOLVED.to_owned());
    row.resolution = Set(Some(resolution.to_owned()));
    row.note = Set(note);
    row.resolved_by = Set(Some(by.to_owned()));
    row.resolved_at = Set(Some(Utc::now()));
    row.update(tx.conn()).await
}

/// Resolves a parcel's open exceptions of the given kinds (a late parcel that arrived).
pub async fn resolve_kinds(
    tx: &TenantTx,
    shipment: uuid::Uuid,
    kinds: &[&str],
    resolution: &str,
) -> Result<u64, DbErr> {
    use delivery_exceptions::Column as C;
    use sea_orm::sea_query::Expr;
    let done = delivery_exceptions::Entity::update_many()
        .col_expr(C::Status, Expr::value(RESOLVED))
        .col_expr(C::Resolution, Expr::value(resolution))
        .col_expr(C::ResolvedBy, Expr::value("tracking"))
        .col_expr(C::ResolvedAt, Expr::value(Utc::now()))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::ShipmentId.eq(shipment))
        .filter(C::Status.eq(OPEN))
        .filter(C::Kind.is_in(kinds.iter().copied()))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected)
}

/// Service, zone, shipped, labelled and delivered times of a parcel.
type TransitRow = (
    Option<uuid::Uuid>,
    Option<i32>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Delivered parcels since `since`: the history ETA predictions learn from.
pub async fn transit_history(tx: &TenantTx, since: DateTime<Utc>) -> Result<Vec<Transit>, DbErr> {
    let rows: Vec<TransitRow> = shipments::Entity::find()
        .select_only()
        .column(shipments::Column::ServiceId)
        .column(shipments::Column::Zone)
        .column(shipments::Column::ShippedAt)
        .column(shipments::Column::LabelledAt)
        .column(shipments::Column::DeliveredAt)
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::DeliveredAt.gte(since))
        .limit(20_000)
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(service, zone, shipped, labelled, delivered)| {
            let start = shipped.or(labelled)?;
            let days = (delivered? - start).num_minutes() as f64 / (24.0 * 60.0);
            Some(Transit {
                service: service?,
                zone: zone?,
                days: days.max(0.0),
            })
        })
        .collect())
}
