//! The lifecycle engine: the decisions stored on each order (payment verdict, fraud score, a
//! hold and what it interrupted), stock allocations and backorders, the signals and labels
//! fraud screening learns from, and each tenant's lifecycle settings.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_lifecycle_engine"
    }
}

/// Columns added to `orders`, one ALTER each (SQLite adds one column per statement).
fn order_columns() -> Vec<ColumnDef> {
    vec![
        opt_text_col(c("payment_verdict")),
        // The latest decisions with their reasons; every decision is also on the timeline.
        opt_json("payment_decision"),
        opt_int_col(c("fraud_score")),
        opt_text_col(c("fraud_level")),
        opt_json("fraud_decision"),
        // While on hold: the state the hold interrupted, to return to on release.
        opt_text_col(c("held_from")),
        opt_text_col(c("hold_reason")),
        // Owed back to the shopper after a cancellation, until a refund settles it.
        ColumnDef::new(c("refund_due_units"))
            .big_integer()
            .not_null()
            .default(0)
            .take(),
    ]
}

const TABLES: [&str; 4] = [
    "allocations",
    "risk_signals",
    "fraud_labels",
    "lifecycle_settings",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut col in order_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(c("orders"))
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }

        // One row per line and warehouse a line draws from; a line (or the part of it) no
        // warehouse can fill is a backorder row without a warehouse.
        let mut allocations = tenant_table(
            "allocations",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("order_id")),
                int_col("line_position"),
                ColumnDef::new(c("variant_id")).uuid().null().take(),
                opt_text_col(c("sku")),
                ColumnDef::new(c("warehouse_id")).uuid().null().take(),
                big_col(c("quantity")),
                // reserved, backordered, released, shipped
                text_col(c("status")),
                ColumnDef::new(c("supplier_id")).uuid().null().take(),
                opt_time("eta"),
                // Reservations of unpaid orders lapse at this time.
                opt_time("expires_at"),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        allocations.foreign_key(&mut scoped_fk(
            c("allocations"),
            c("order_id"),
            c("orders"),
            c("id"),
        ));
        manager.create_table(allocations).await?;
        index(
            manager,
            "allocations",
            "allocations_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        index(
            manager,
            "allocations",
            "allocations_status_idx",
            &["tenant_id", "status", "variant_id"],
            false,
        )
        .await?;

        // What fraud screening saw of each order (email, IP, device, card), for velocity and
        // linkage: one row per order and kind.
        manager
            .create_table(tenant_table(
                "risk_signals",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("order_id")),
                    text_col(c("kind")),
                    text_col(c("value")),
                    opt_text_col(c("email")),
                    time_col(c("at")),
                ],
                &["tenant_id", "order_id", "kind"],
            ))
            .await?;
        index(
            manager,
            "risk_signals",
            "risk_signals_value_idx",
            &["tenant_id", "kind", "value", "at"],
            false,
        )
        .await?;

        // Outcomes to learn from: staff decisions on reviewed orders and chargebacks, with the
        // features the score was computed from.
        manager
            .create_table(tenant_table(
                "fraud_labels",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("order_id")),
                    // fraud or legitimate
                    text_col(c("label")),
                    // staff_approved, staff_rejected, chargeback
                    text_col(c("source")),
                    opt_int_col(c("score")),
                    json_col("features"),
                    opt_text_col(c("actor_label")),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "fraud_labels",
            "fraud_labels_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "lifecycle_settings",
                vec![
                    uuid_col(c("tenant_id")),
                    int_col("fraud_review_score"),
                    int_col("fraud_reject_score"),
                    json_col("high_risk_countries"),
                    json_col("forwarder_addresses"),
                    ColumnDef::new(c("reserve_unpaid"))
                        .boolean()
                        .not_null()
                        .take(),
                    int_col("unpaid_reservation_hours"),
                    time_col(c("updated_at")),
                ],
                &["tenant_id"],
            ))
            .await?;

        // Outbox rows handed to the Redis stream, so the relay hands each over once.
        manager
            .alter_table(
                Table::alter()
                    .table(c("jobs"))
                    .add_column(opt_time("relayed_at"))
                    .to_owned(),
            )
            .await?;

        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("jobs"))
                    .drop_column(c("relayed_at"))
                    .to_owned(),
            )
            .await?;
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        for col in order_columns().iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(c("orders"))
                        .drop_column(col.get_column_name())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
