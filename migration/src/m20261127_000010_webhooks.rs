//! Outbound webhooks: each tenant's subscriptions (an HTTPS URL, the events it wants, a sealed
//! signing secret), one delivery per (subscription, event), and every attempt at it.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000010_webhooks"
    }
}

const TABLES: [&str; 3] = [
    "webhook_subscriptions",
    "webhook_deliveries",
    "webhook_attempts",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(tenant_table(
                "webhook_subscriptions",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    long_text("url"),
                    // ["order.shipped", "return.*", "*"]
                    json_col("events"),
                    opt_long_text("description"),
                    // Sealed with the tenant's context; shown once when made or rotated.
                    long_text("secret"),
                    bool_col("active"),
                    opt_uuid("created_by"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;

        let mut deliveries = tenant_table(
            "webhook_deliveries",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("subscription_id")),
                // The timeline event delivered.
                uuid_col(c("event_id")),
                text_col(c("event_kind")),
                opt_uuid("order_id"),
                // The body as sent (the same bytes every attempt).
                long_text("body"),
                // pending, delivered, failed
                text_col(c("status")),
                int_col("attempts"),
                opt_int_col(c("last_status_code")),
                opt_long_text("last_error"),
                time_col(c("created_at")),
                opt_time("delivered_at"),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        deliveries.foreign_key(&mut scoped_fk(
            c("webhook_deliveries"),
            c("subscription_id"),
            c("webhook_subscriptions"),
            c("id"),
        ));
        manager.create_table(deliveries).await?;
        index(
            manager,
            "webhook_deliveries",
            "webhook_deliveries_once",
            &["tenant_id", "subscription_id", "event_id"],
            true,
        )
        .await?;
        index(
            manager,
            "webhook_deliveries",
            "webhook_deliveries_recent_idx",
            &["tenant_id", "created_at"],
            false,
        )
        .await?;

        let mut attempts = tenant_table(
            "webhook_attempts",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("delivery_id")),
                int_col("attempt"),
                time_col(c("started_at")),
                int_col("duration_ms"),
                opt_int_col(c("status_code")),
                opt_long_text("error"),
                // The start of the receiver's answer, for the log.
                opt_long_text("response"),
            ],
            &["tenant_id", "id"],
        );
        attempts.foreign_key(&mut scoped_fk(
            c("webhook_attempts"),
            c("delivery_id"),
            c("webhook_deliveries"),
            c("id"),
        ));
        manager.create_table(attempts).await?;
        index(
            manager,
            "webhook_attempts",
            "webhook_attempts_delivery_idx",
            &["tenant_id", "delivery_id", "attempt"],
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
