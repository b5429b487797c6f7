//! Automation rules: each tenant's rules (trigger, condition, actions), every version of
//! them, and every run (matched or not, with what the actions did).

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000011_automation"
    }
}

const TABLES: [&str; 3] = [
    "automation_rules",
    "automation_rule_versions",
    "automation_runs",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(tenant_table(
                "automation_rules",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    text_col(c("name")),
                    // A timeline event pattern: order.received, order.*, return.requested…
                    text_col(c("trigger")),
                    long_text("condition"),
                    // [{kind, value}]
                    json_col("actions"),
                    bool_col("enabled"),
                    int_col("version"),
                    opt_uuid("updated_by"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        manager
            .create_table(tenant_table(
                "automation_rule_versions",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("rule_id")),
                    int_col("version"),
                    text_col(c("name")),
                    text_col(c("trigger")),
                    long_text("condition"),
                    json_col("actions"),
                    bool_col("enabled"),
                    opt_uuid("created_by"),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "rule_id", "version"],
            ))
            .await?;
        manager
            .create_table(tenant_table(
                "automation_runs",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("rule_id")),
                    int_col("rule_version"),
                    uuid_col(c("event_id")),
                    text_col(c("event_kind")),
                    uuid_col(c("order_id")),
                    bool_col("matched"),
                    // What each action did: [{kind, value, outcome}]
                    json_col("results"),
                    opt_long_text("error"),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "automation_runs",
            "automation_runs_once",
            &["tenant_id", "rule_id", "event_id"],
            true,
        )
        .await?;
        index(
            manager,
            "automation_runs",
            "automation_runs_rule_idx",
            &["tenant_id", "rule_id", "created_at"],
            false,
        )
        .await?;
        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
