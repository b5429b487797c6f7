//! Reporting: each tenant's timezone (its days are the KPIs' days), one rollup row per tenant
//! and local day, and the indexes the rollup queries read a day's activity by; and the
//! warehouse and carrier service an automation rule may pin an order to, staff tasks, and the
//! stock level below which an allocation tells the rules.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000012_reporting"
    }
}

/// (table, index, columns): what a day of activity is found by.
const INDEXES: [(&str, &str, &[&str]); 7] = [
    (
        "shipments",
        "shipments_shipped_idx",
        &["tenant_id", "shipped_at"],
    ),
    (
        "shipments",
        "shipments_delivered_idx",
        &["tenant_id", "delivered_at"],
    ),
    (
        "order_reviews",
        "order_reviews_recent_idx",
        &["tenant_id", "created_at"],
    ),
    (
        "refunds",
        "refunds_recent_idx",
        &["tenant_id", "created_at"],
    ),
    (
        "inventory_movements",
        "inventory_movements_at_idx",
        &["tenant_id", "at"],
    ),
    (
        "order_events",
        "order_events_kind_idx",
        &["tenant_id", "kind", "at"],
    ),
    (
        "support_threads",
        "support_threads_opened_idx",
        &["tenant_id", "created_at"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("tenants"))
                    .add_column(
                        ColumnDef::new(c("timezone"))
                            .string()
                            .not_null()
                            .default("UTC"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(tenant_table(
                "kpi_days",
                vec![
                    uuid_col(c("tenant_id")),
                    // The local day, YYYY-MM-DD, in `timezone`.
                    text_col(c("day")),
                    text_col(c("timezone")),
                    long_text("data"),
                    time_col(c("computed_at")),
                ],
                &["tenant_id", "day"],
            ))
            .await?;
        rls::enable_tenant_rls(manager, "kpi_days").await?;
        // Work for staff that an automation rule (or a person) put on the list.
        manager
            .create_table(tenant_table(
                "staff_tasks",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    opt_uuid("order_id"),
                    text_col(c("title")),
                    // open, done
                    text_col(c("status")),
                    opt_uuid("rule_id"),
                    opt_long_text("note"),
                    opt_text_col(c("done_by")),
                    time_col(c("created_at")),
                    opt_time("done_at"),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "staff_tasks",
            "staff_tasks_status_idx",
            &["tenant_id", "status", "created_at"],
            false,
        )
        .await?;
        rls::enable_tenant_rls(manager, "staff_tasks").await?;
        // An automation rule's pins: the warehouse an order ships from, the carrier service
        // its labels are bought with (codes; routing and label buying honour them).
        for col in ["assigned_warehouse", "assigned_service"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(c("orders"))
                        .add_column(opt_text_col(c(col)))
                        .to_owned(),
                )
                .await?;
        }
        for (table, name, cols) in INDEXES {
            index(manager, table, name, cols, false).await?;
        }
        // Units free across warehouses below which an order's allocation records
        // `order.stock_low`; 0 is off.
        manager
            .alter_table(
                Table::alter()
                    .table(c("lifecycle_settings"))
                    .add_column(
                        ColumnDef::new(c("low_stock_threshold"))
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("lifecycle_settings"))
                    .drop_column(c("low_stock_threshold"))
                    .to_owned(),
            )
            .await?;
        for (table, name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(c(table)).to_owned())
                .await?;
        }
        for col in ["assigned_warehouse", "assigned_service"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(c("orders"))
                        .drop_column(c(col))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(c("staff_tasks")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(c("kpi_days")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("tenants"))
                    .drop_column(c("timezone"))
                    .to_owned(),
            )
            .await
    }
}
