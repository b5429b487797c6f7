//! Staff tasks: work an automation rule puts on the list ("call the shopper about the gift
//! message"), listed for staff and marked done with a note.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::staff_tasks;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::graphql::context::actor_label;
use crate::graphql::context::{principal, state};
use crate::graphql::errors::payload;
use crate::graphql::guard::Perm;
use crate::graphql::relay::{decode_id, global_id};
use crate::tenancy::{AnyTx, Permission, TenantTx};

pub use staff_tasks::Model as Task;

pub const OPEN: &str = "open";
pub const DONE: &str = "done";

/// Puts a task on the list for an order, once per rule and order; `None` when this rule made
/// one for the order already.
pub async fn create(
    tx: &TenantTx,
    order: uuid::Uuid,
    rule: uuid::Uuid,
    title: &str,
) -> Result<Option<Task>, DbErr> {
    let made = staff_tasks::Entity::find()
        .filter(staff_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(staff_tasks::Column::OrderId.eq(order))
        .filter(staff_tasks::Column::RuleId.eq(rule))
        .one(tx.conn())
        .await?;
    if made.is_some() {
        return Ok(None);
    }
    insert(tx, Some(order), Some(rule), title).await.map(Some)
}

/// Puts a task Orderflow itself needs done on the list for an order (something no API can
/// do), once per order and title.
pub async fn ask_staff(tx: &TenantTx, order: uuid::Uuid, title: &str) -> Result<Task, DbErr> {
    let made = staff_tasks::Entity::find()
        .filter(staff_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(staff_tasks::Column::OrderId.eq(order))
        .filter(staff_tasks::Column::RuleId.is_null())
        .filter(staff_tasks::Column::Title.eq(title))
        .one(tx.conn())
        .await?;
    match made {
        Some(task) => Ok(task),
        None => insert(tx, Some(order), None, title).await,
    }
}

/// Puts a task about no one order on the list (a channel that keeps failing), once while an
/// open task has the same title.
pub async fn ask_staff_about(tx: &TenantTx, title: &str) -> Result<Task, DbErr> {
    let open = staff_tasks::Entity::find()
        .filter(staff_tasks::Column::TenantId.eq(tx.tenant().uuid()))
        .filter(staff_tasks::Column::OrderId.is_null())
        .filter(staff_tasks::Column::Status.eq("open"))
        .filter(staff_tasks::Column::Title.eq(title))
        .one(tx.conn())
        .await?;
    match open {
        Some(task) => Ok(task),
        None => insert(tx, None, None, title).await,
    }
}

async fn insert(
    tx: &TenantTx,
    order: Option<uuid::Uuid>,
    rule: Option<uuid::Uuid>,
    title: &str,
) -> Result<Task, DbErr> {
    let task = Task {
        tenant_id: tx.tenant().uuid(),
        id: uuid::Uuid::now_v7(),
        order_id: order,
        title: title.to_owned(),
        status: OPEN.into(),
        rule_id: rule,
        note: None,
        done_by: None,
        created_at: Utc::now(),
        done_at: None,
    };
    staff_tasks::ActiveModel::from(task.clone())
        .reset_all()
        .insert(tx.conn())
        .await?;
    Ok(task)
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum StaffTaskStatus {
    Open,
    Done,
}

impl StaffTaskStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => OPEN,
            Self::Done => DONE,
        }
    }
}

#[derive(Clone, Debug, SimpleObject)]
pub struct StaffTask {
    pub id: ID,
    pub order_id: Option<ID>,
    pub title: String,
    pub status: StaffTaskStatus,
    /// The rule that made it.
    pub rule_id: Option<ID>,
    pub note: Option<String>,
    pub done_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

impl From<Task> for StaffTask {
    fn from(t: Task) -> Self {
        Self {
            id: global_id("StaffTask", t.id),
            order_id: t.order_id.map(|o| global_id("Order", o)),
            title: t.title,
            status: if t.status == DONE {
                StaffTaskStatus::Done
            } else {
                StaffTaskStatus::Open
            },
            rule_id: t.rule_id.map(|r| global_id("AutomationRule", r)),
            note: t.note,
            done_by: t.done_by,
            created_at: t.created_at,
            done_at: t.done_at,
        }
    }
}

#[derive(Default)]
pub struct TasksQuery;

#[Object]
impl TasksQuery {
    /// Staff tasks, newest first: open ones by default; at most `first` (1–500, 100).
    #[graphql(guard = "Perm(Permission::OrdersRead)")]
    async fn staff_tasks(
        &self,
        ctx: &Context<'_>,
        status: Option<StaffTaskStatus>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<StaffTask>> {
        let p = principal(ctx)?;
        let limit = first.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(crate::error::AppError::bad_input("first", "must be 1 to 500").into());
        }
        let status = status.unwrap_or(StaffTaskStatus::Open);
        let tx = TenantTx::begin_read(&state(ctx).db, p.tenant).await?;
        let rows = staff_tasks::Entity::find()
            .filter(staff_tasks::Column::TenantId.eq(p.tenant.uuid()))
            .filter(staff_tasks::Column::Status.eq(status.as_str()))
            .order_by_desc(staff_tasks::Column::CreatedAt)
            .limit(u64::try_from(limit).unwrap_or(100))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

#[derive(InputObject)]
pub struct CompleteStaffTaskInput {
    pub id: ID,
    /// What was done (up to 2000 characters).
    pub note: Option<String>,
}

#[derive(SimpleObject)]
pub struct StaffTaskPayload {
    pub task: Option<StaffTask>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct TasksMutation;

#[Object]
impl TasksMutation {
    /// Marks a task done, with what was done.
    #[graphql(guard = "Perm(Permission::OrdersManage)")]
    async fn complete_staff_task(
        &self,
        ctx: &Context<'_>,
        input: CompleteStaffTaskInput,
    ) -> async_graphql::Result<StaffTaskPayload> {
        let p = principal(ctx)?;
        let id = decode_id(&input.id, "StaffTask", "id")?;
        let who = actor_label(ctx, p).await?.unwrap_or_else(|| "staff".into());
        let st = state(ctx);
        let outcome: Outcome<Task> = async {
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
            let Some(task) = staff_tasks::Entity::find_by_id((p.tenant.uuid(), id))
                .lock_exclusive()
                .one(tx.conn())
                .await?
            else {
                return Err(UserError::on("id", C::NotFound, "no such task").into());
            };
            if task.status == DONE {
                return Err(UserError::on("id", C::Conflict, "this task is done already").into());
            }
            let mut row: staff_tasks::ActiveModel = task.into();
            row.status = Set(DONE.into());
            row.note = Set(note);
            row.done_by = Set(Some(who));
            row.done_at = Set(Some(Utc::now()));
            let done = row.update(tx.conn()).await?;
            tx.commit().await?;
            Ok(done)
        }
        .await;
        let (task, user_errors) = payload(outcome)?;
        Ok(StaffTaskPayload {
            task: task.map(Into::into),
            user_errors,
        })
    }
}
