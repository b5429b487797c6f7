//! Support threads and messages, tenant-scoped.

use chrono::{DateTime, Duration, Utc};
use entity::{support_messages, support_threads};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::domain::OrderId;
use crate::tenancy::{AnyTx, TenantTx};

pub use support_messages::Model as Message;
pub use support_threads::Model as Thread;

pub const INBOUND: &str = "inbound";
pub const OUTBOUND: &str = "outbound";

/// Who has the next move on a thread.
pub const NEEDS_STAFF: &str = "needs_staff";
pub const AUTO_REPLIED: &str = "auto_replied";
pub const REPLIED: &str = "replied";

pub async fn message_by_message_id(tx: &TenantTx, id: &str) -> Result<Option<Message>, DbErr> {
    support_messages::Entity::find()
        .filter(support_messages::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(support_messages::Column::MessageId.eq(id))
        .one(tx.conn())
        .await
}

pub async fn message(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Message>, DbErr> {
    support_messages::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn message_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Message>, DbErr> {
    support_messages::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn insert_message(tx: &TenantTx, row: Message) -> Result<Message, DbErr> {
    let mut active = support_messages::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    support_messages::Entity::insert(active)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn save_message(tx: &TenantTx, row: Message) -> Result<Message, DbErr> {
    let mut active = support_messages::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    support_messages::Entity::update(active)
        .exec(tx.conn())
        .await
}

pub async fn thread(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Thread>, DbErr> {
    support_threads::Entity::find_by_id((tx.tenant().uuid(), id))
        .one(tx.conn())
        .await
}

pub async fn thread_for_update(tx: &TenantTx, id: uuid::Uuid) -> Result<Option<Thread>, DbErr> {
    support_threads::Entity::find_by_id((tx.tenant().uuid(), id))
        .lock_exclusive()
        .one(tx.conn())
        .await
}

pub async fn insert_thread(tx: &TenantTx, row: Thread) -> Result<Thread, DbErr> {
    let mut active = support_threads::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    support_threads::Entity::insert(active)
        .exec_with_returning(tx.conn())
        .await
}

pub async fn save_thread(tx: &TenantTx, mut row: Thread) -> Result<Thread, DbErr> {
    row.updated_at = Utc::now();
    let mut active = support_threads::ActiveModel::from(row).reset_all();
    active.tenant_id = Set(tx.tenant().uuid());
    support_threads::Entity::update(active)
        .exec(tx.conn())
        .await
}

/// The sender's open thread about `order` (or about no order), active in the last 30 days.
pub async fn open_thread(
    tx: &TenantTx,
    email: &str,
    order: Option<uuid::Uuid>,
) -> Result<Option<Thread>, DbErr> {
    let mut q = support_threads::Entity::find()
        .filter(support_threads::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(support_threads::Column::Email.eq(email))
        .filter(support_threads::Column::Status.ne("closed"))
        .filter(support_threads::Column::LastMessageAt.gt(Utc::now() - Duration::days(30)));
    q = match order {
        Some(o) => q.filter(support_threads::Column::OrderId.eq(o)),
        None => q.filter(support_threads::Column::OrderId.is_null()),
    };
    q.order_by_desc(support_threads::Column::LastMessageAt)
        .lock_exclusive()
        .one(tx.conn())
        .await
}

#[derive(Clone, Debug, Default)]
pub struct ThreadFilter {
    pub status: Option<String>,
    pub handling: Option<String>,
    pub intent: Option<String>,
    pub order: Option<OrderId>,
}

/// A page of threads, most recently active first, after `cursor`.
pub async fn threads(
    tx: &TenantTx,
    f: &ThreadFilter,
    cursor: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: u64,
) -> Result<Vec<Thread>, DbErr> {
    use support_threads::Column as C;
    let mut q = support_threads::Entity::find().filter(C::TenantId.eq(tx.tenant().uuid()));
    if let Some(s) = &f.status {
        q = q.filter(C::Status.eq(s.as_str()));
    }
    if let Some(h) = &f.handling {
        q = q.filter(C::Handling.eq(h.as_str()));
    }
    if let Some(i) = &f.intent {
        q = q.filter(C::Intent.eq(i.as_str()));
    }
    if let Some(o) = f.order {
        q = q.filter(C::OrderId.eq(o.uuid()));
    }
    if let Some((at, id)) = cursor {
        q = q.filter(
            Condition::any().add(C::LastMessageAt.lt(at)).add(
                Condition::all()
                    .add(C::LastMessageAt.eq(at))
                    .add(C::Id.lt(id)),
            ),
        );
    }
    q.order_by_desc(C::LastMessageAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

/// Messages of several threads, oldest first.
pub async fn messages_of(tx: &TenantTx, threads: &[uuid::Uuid]) -> Result<Vec<Message>, DbErr> {
    support_messages::Entity::find()
        .filter(support_messages::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(support_messages::Column::ThreadId.is_in(threads.iter().copied()))
        .order_by_asc(support_messages::Column::CreatedAt)
        .order_by_asc(support_messages::Column::Id)
        .all(tx.conn())
        .await
}

/// Threads about several orders, most recent first.
pub async fn threads_of_orders(tx: &TenantTx, orders: &[uuid::Uuid]) -> Result<Vec<Thread>, DbErr> {
    support_threads::Entity::find()
        .filter(support_threads::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(support_threads::Column::OrderId.is_in(orders.iter().copied()))
        .order_by_desc(support_threads::Column::LastMessageAt)
        .all(tx.conn())
        .await
}
