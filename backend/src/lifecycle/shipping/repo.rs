//! Carriers, their services, shipments and label files, scoped to the tenant. A shipment is
//! changed only while its order is locked, so the order's lock is the shipment's.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    carrier_routes, carrier_services, carriers, delivery_exceptions, shipments, shipping_labels,
    tracking_events,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::carrier::RatingBook;
use crate::domain::{OrderId, TenantId};
use crate::tenancy::{AnyTx, GlobalTx, TenantTx};

/// A predicted arrival and what it rests on (the `prediction` of a shipment, made by
/// tracking's monitor).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub at: DateTime<Utc>,
    /// Deliveries the prediction rests on; 0 means the carrier's estimate was used.
    pub samples: usize,
    pub basis: String,
}

/// Units of one order line in a parcel (the `pieces` of a shipment, as routing planned them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Piece {
    pub position: i32,
    pub sku: String,
    pub quantity: i64,
}

pub use carrier_services::Model as Service;
pub use carriers::Model as CarrierRow;
pub use shipments::Model as Shipment;

/// Shipment statuses before the carrier has the parcel.
pub const PLANNED: &str = "planned";
pub const PICKING: &str = "picking";
pub const PACKED: &str = "packed";
pub const VOIDED: &str = "voided";
/// Shipments still to leave their warehouse: its workload.
pub const OPEN: [&str; 3] = [PLANNED, PICKING, PACKED];

pub async fn rating_book(tx: &TenantTx) -> Result<RatingBook, DbErr> {
    let carriers = carriers::Entity::find()
        .filter(carriers::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(carriers::Column::Id)
        .all(tx.conn())
        .await?;
    let services = carrier_services::Entity::find()
        .filter(carrier_services::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(carrier_services::Column::Id)
        .all(tx.conn())
        .await?;
    Ok(RatingBook::from_rows(carriers, services))
}

pub async fn insert_carrier(
    tx: &TenantTx,
    row: carriers::ActiveModel,
) -> Result<CarrierRow, DbErr> {
    let carrier = carriers::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await?;
    carrier_routes::Entity::insert(carrier_routes::ActiveModel {
        carrier_id: Set(carrier.id),
        tenant_id: Set(carrier.tenant_id),
    })
    .exec_without_returning(tx.conn())
    .await?;
    Ok(carrier)
}

pub async fn update_carrier(
    tx: &TenantTx,
    mut row: carriers::ActiveModel,
) -> Result<CarrierRow, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

/// Takes the carrier's next tracking-number serial (the row stays locked until commit, so
/// two labels never share one).
pub async fn next_serial(tx: &TenantTx, carrier: uuid::Uuid) -> Result<i64, DbErr> {
    use carriers::Column as C;
    carriers::Entity::update_many()
        .col_expr(C::NextSerial, Expr::col(C::NextSerial).add(1))
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(carrier))
        .exec(tx.conn())
        .await?;
    let serial: Option<i64> = carriers::Entity::find()
        .select_only()
        .column(C::NextSerial)
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(carrier))
        .into_tuple()
        .one(tx.conn())
        .await?;
    serial.ok_or_else(|| DbErr::RecordNotFound(format!("carrier {carrier}")))
}

pub async fn carrier(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<CarrierRow>, DbErr> {
    carriers::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn carriers_by_id(tx: &TenantTx, ids: &[uuid::Uuid]) -> Result<Vec<CarrierRow>, DbErr> {
    carriers::Entity::find()
        .filter(carriers::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(carriers::Column::Id.is_in(ids.iter().copied()))
        .all(tx.conn())
        .await
}

pub async fn services_by_id(tx: &TenantTx, ids: &[uuid::Uuid]) -> Result<Vec<Service>, DbErr> {
    carrier_services::Entity::find()
        .filter(carrier_services::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(carrier_services::Column::Id.is_in(ids.iter().copied()))
        .all(tx.conn())
        .await
}

pub async fn carrier_by_code(tx: &TenantTx, code: &str) -> Result<Option<CarrierRow>, DbErr> {
    carriers::Entity::find()
        .filter(carriers::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(carriers::Column::Code.eq(code))
        .one(tx.conn())
        .await
}

pub async fn carriers(tx: &TenantTx) -> Result<Vec<CarrierRow>, DbErr> {
    carriers::Entity::find()
        .filter(carriers::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(carriers::Column::Id)
        .all(tx.conn())
        .await
}

/// The tenant a carrier belongs to, before any tenant scope (its tracking webhook).
pub async fn tenant_of_carrier(
    tx: &GlobalTx,
    carrier: uuid::Uuid,
) -> Result<Option<TenantId>, DbErr> {
    Ok(carrier_routes::Entity::find_by_id(carrier)
        .one(tx.conn())
        .await?
        .map(|r| TenantId(r.tenant_id)))
}

pub async fn insert_service(
    tx: &TenantTx,
    row: carrier_services::ActiveModel,
) -> Result<Service, DbErr> {
    carrier_services::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn update_service(
    tx: &TenantTx,
    mut row: carrier_services::ActiveModel,
) -> Result<Service, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn service(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Service>, DbErr> {
    carrier_services::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn services_of(tx: &TenantTx, carriers: &[uuid::Uuid]) -> Result<Vec<Service>, DbErr> {
    carrier_services::Entity::find()
        .filter(carrier_services::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(carrier_services::Column::CarrierId.is_in(carriers.iter().copied()))
        .order_by_asc(carrier_services::Column::Id)
        .all(tx.conn())
        .await
}

/// Counts a delivery against the service's on-time record.
pub async fn record_delivery(
    tx: &TenantTx,
    service: uuid::Uuid,
    on_time: bool,
) -> Result<(), DbErr> {
    use carrier_services::Column as C;
    carrier_services::Entity::update_many()
        .col_expr(C::DeliveredCount, Expr::col(C::DeliveredCount).add(1))
        .col_expr(
            C::OnTimeCount,
            Expr::col(C::OnTimeCount).add(i32::from(on_time)),
        )
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::Id.eq(service))
        .exec(tx.conn())
        .await?;
    Ok(())
}

pub async fn insert_shipments(
    tx: &TenantTx,
    rows: Vec<shipments::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    shipments::Entity::insert_many(rows)
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

pub async fn update_shipment(
    tx: &TenantTx,
    mut row: shipments::ActiveModel,
) -> Result<Shipment, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

/// The shipments of several orders, by order and parcel number.
pub async fn of_orders(tx: &TenantTx, orders: &[OrderId]) -> Result<Vec<Shipment>, DbErr> {
    shipments::Entity::find()
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::OrderId.is_in(orders.iter().map(|o| o.uuid())))
        .order_by_asc(shipments::Column::OrderId)
        .order_by_asc(shipments::Column::ParcelNo)
        .order_by_asc(shipments::Column::CreatedAt)
        .all(tx.conn())
        .await
}

pub async fn shipment(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Shipment>, DbErr> {
    shipments::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn by_tracking_number(tx: &TenantTx, number: &str) -> Result<Option<Shipment>, DbErr> {
    shipments::Entity::find()
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::TrackingNumber.eq(number))
        .one(tx.conn())
        .await
}

/// Voids the order's parcels that have not left (its stock was given back): they stop counting
/// as warehouse workload and are never picked.
pub async fn void_open(tx: &TenantTx, order: OrderId) -> Result<u64, DbErr> {
    let done = shipments::Entity::update_many()
        .col_expr(shipments::Column::Status, Expr::value(VOIDED))
        .col_expr(shipments::Column::VoidedAt, Expr::value(Utc::now()))
        .col_expr(shipments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::OrderId.eq(order.uuid()))
        .filter(shipments::Column::Status.is_in(OPEN))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected)
}

/// Shipments waiting to leave, per warehouse.
pub async fn workload(tx: &TenantTx) -> Result<HashMap<uuid::Uuid, i32>, DbErr> {
    let rows: Vec<(uuid::Uuid, i64)> = shipments::Entity::find()
        .select_only()
        .column(shipments::Column::WarehouseId)
        .column_as(shipments::Column::Id.count(), "n")
        .filter(shipments::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipments::Column::Status.is_in(OPEN))
        .group_by(shipments::Column::WarehouseId)
        .into_tuple()
        .all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(w, n)| (w, i32::try_from(n).unwrap_or(i32::MAX)))
        .collect())
}

pub async fn insert_label(
    tx: &TenantTx,
    shipment: uuid::Uuid,
    pdf: Vec<u8>,
    zpl: String,
) -> Result<(), DbErr> {
    insert_label_file(tx, shipment, pdf, zpl, "application/pdf").await
}

/// A label file as the carrier sent it: `file` of `media_type` (a PDF, or an image), or ZPL.
pub async fn insert_label_file(
    tx: &TenantTx,
    shipment: uuid::Uuid,
    file: Vec<u8>,
    zpl: String,
    media_type: &str,
) -> Result<(), DbErr> {
    shipping_labels::Entity::insert(shipping_labels::ActiveModel {
        tenant_id: Set(tx.tenant().uuid()),
        shipment_id: Set(shipment),
        pdf: Set(file),
        zpl: Set(zpl),
        media_type: Set(media_type.to_owned()),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

pub async fn label(
    tx: &TenantTx,
    shipment: uuid::Uuid,
) -> Result<Option<shipping_labels::Model>, DbErr> {
    shipping_labels::Entity::find_by_id((tx.tenant().uuid(), shipment))
        .one(tx.conn())
        .await
}

pub async fn delete_label(tx: &TenantTx, shipment: uuid::Uuid) -> Result<(), DbErr> {
    shipping_labels::Entity::delete_many()
        .filter(shipping_labels::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(shipping_labels::Column::ShipmentId.eq(shipment))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Drops a parcel's scans and exceptions (its label was voided; the next label starts clean).
pub async fn forget_scans(tx: &TenantTx, shipment: uuid::Uuid) -> Result<(), DbErr> {
    tracking_events::Entity::delete_many()
        .filter(tracking_events::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(tracking_events::Column::ShipmentId.eq(shipment))
        .exec(tx.conn())
        .await?;
    delivery_exceptions::Entity::delete_many()
        .filter(delivery_exceptions::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(delivery_exceptions::Column::ShipmentId.eq(shipment))
        .exec(tx.conn())
        .await?;
    Ok(())
}
