//! Connections, the global route from a connection id to its tenant, and deliveries.

use chrono::Utc;
use entity::{channel_connections, channel_deliveries, channel_routes};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::domain::{ConnectionId, DeliveryId, TenantId};
use crate::tenancy::{AnyTx, GlobalTx, TenantTx};

pub use channel_connections::Model as Connection;
pub use channel_deliveries::Model as Delivery;

pub async fn insert_connection(
    tx: &TenantTx,
    row: channel_connections::ActiveModel,
) -> Result<Connection, DbErr> {
    let connection = channel_connections::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await?;
    channel_routes::Entity::insert(channel_routes::ActiveModel {
        connection_id: Set(connection.id),
        tenant_id: Set(tx.tenant().uuid()),
        platform: Set(connection.platform.clone()),
    })
    .exec_without_returning(tx.conn())
    .await?;
    Ok(connection)
}

pub async fn update_connection(
    tx: &TenantTx,
    mut row: channel_connections::ActiveModel,
) -> Result<Connection, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.updated_at = Set(Utc::now());
    row.update(tx.conn()).await
}

pub async fn connection(tx: &TenantTx, id: ConnectionId) -> Result<Option<Connection>, DbErr> {
    channel_connections::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn connections(tx: &TenantTx) -> Result<Vec<Connection>, DbErr> {
    channel_connections::Entity::find()
        .filter(channel_connections::Column::TenantId.eq(tx.tenant().uuid()))
        .order_by_asc(channel_connections::Column::Id)
        .all(tx.conn())
        .await
}

pub async fn by_shop(
    tx: &TenantTx,
    platform: &str,
    shop: &str,
) -> Result<Option<Connection>, DbErr> {
    channel_connections::Entity::find()
        .filter(channel_connections::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(channel_connections::Column::Platform.eq(platform))
        .filter(channel_connections::Column::ShopDomain.eq(shop))
        .one(tx.conn())
        .await
}

/// Which tenant a connection belongs to, for routing a webhook before any scope is open.
pub async fn route(tx: &GlobalTx, id: ConnectionId) -> Result<Option<(TenantId, String)>, DbErr> {
    Ok(channel_routes::Entity::find_by_id(id.uuid())
        .one(tx.conn())
        .await?
        .map(|r| (TenantId(r.tenant_id), r.platform)))
}

/// Stores a delivery unless one with the same platform delivery id is there already; false
/// for such a redelivery.
pub async fn insert_delivery(
    tx: &TenantTx,
    row: channel_deliveries::ActiveModel,
) -> Result<bool, DbErr> {
    use channel_deliveries::Column as C;
    let rows = channel_deliveries::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::TenantId, C::ConnectionId, C::DeliveryId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(tx.conn())
        .await?;
    Ok(rows > 0)
}

pub async fn delivery(tx: &TenantTx, id: DeliveryId) -> Result<Option<Delivery>, DbErr> {
    channel_deliveries::Entity::find_by_id((tx.tenant().uuid(), id.uuid()))
        .one(tx.conn())
        .await
}

pub async fn update_delivery(
    tx: &TenantTx,
    mut row: channel_deliveries::ActiveModel,
) -> Result<Delivery, DbErr> {
    row.tenant_id = Set(tx.tenant().uuid());
    row.update(tx.conn()).await
}

/// A connection's deliveries still waiting to be mapped (received while it was paused).
pub async fn pending_of(tx: &TenantTx, connection: ConnectionId) -> Result<Vec<DeliveryId>, DbErr> {
    use channel_deliveries::Column as C;
    Ok(channel_deliveries::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .filter(C::ConnectionId.eq(connection.uuid()))
        .filter(C::Status.eq("pending"))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|d| DeliveryId(d.id))
        .collect())
}

/// Deliveries, newest first, optionally of one status.
pub async fn deliveries(
    tx: &TenantTx,
    status: Option<&str>,
    before: Option<DeliveryId>,
    limit: u64,
) -> Result<Vec<Delivery>, DbErr> {
    use channel_deliveries::Column as C;
    let mut query = channel_deliveries::Entity::find()
        .filter(C::TenantId.eq(tx.tenant().uuid()))
        .order_by_desc(C::Id)
        .limit(limit);
    if let Some(status) = status {
        query = query.filter(C::Status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(C::Id.lt(before.uuid()));
    }
    query.all(tx.conn()).await
}
