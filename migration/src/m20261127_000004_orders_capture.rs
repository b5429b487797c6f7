//! Customers, orders with their lines and event timeline, channel connections, the deliveries
//! channels send us (raw payloads kept), and the job table behind the transactional outbox.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_orders_capture"
    }
}

const TABLES: [&str; 6] = [
    "customers",
    "channel_connections",
    "orders",
    "order_lines",
    "order_events",
    "channel_deliveries",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A short name for a tenant in commands and URLs (`--tenant demo-shop`).
        manager
            .alter_table(
                Table::alter()
                    .table(c("tenants"))
                    .add_column(ColumnDef::new(c("slug")).string().null())
                    .to_owned(),
            )
            .await?;
        index(manager, "tenants", "tenants_slug_key", &["slug"], true).await?;

        let customers = tenant_table(
            "customers",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                text_col(c("email")),
                opt_text_col(c("first_name")),
                opt_text_col(c("last_name")),
                opt_text_col(c("phone")),
                bool_col("accepts_marketing"),
                json_col("addresses"),
                json_col("external_ids"),
                big_col(c("order_count")),
                big_col(c("total_spent_units")),
                ColumnDef::new(c("currency"))
                    .string_len(3)
                    .not_null()
                    .take(),
                opt_time("first_order_at"),
                opt_time("last_order_at"),
                big_col(c("refund_count")),
                big_col(c("refunded_units")),
                big_col(c("chargeback_count")),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        manager.create_table(customers).await?;
        index(
            manager,
            "customers",
            "customers_email_key",
            &["tenant_id", "email"],
            true,
        )
        .await?;

        let connections = tenant_table(
            "channel_connections",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                text_col(c("platform")),
                text_col(c("name")),
                text_col(c("shop_domain")),
                // Sealed with the configured key; never returned by the API.
                opt_long_text("webhook_secret_sealed"),
                opt_long_text("credentials_sealed"),
                bool_col("active"),
                opt_text_col(c("sync_cursor")),
                opt_time("last_synced_at"),
                opt_long_text("last_error"),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        manager.create_table(connections).await?;
        index(
            manager,
            "channel_connections",
            "channel_connections_shop_key",
            &["tenant_id", "platform", "shop_domain"],
            true,
        )
        .await?;

        let orders = tenant_table(
            "orders",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                text_col(c("channel")),
                ColumnDef::new(c("connection_id")).uuid().null().take(),
                text_col(c("external_id")),
                // Whose external id it is: the connection's id, or `api`. Two shops on one
                // platform may both have an order 1234.
                text_col(c("source")),
                text_col(c("name")),
                ColumnDef::new(c("customer_id")).uuid().null().take(),
                opt_text_col(c("email")),
                opt_text_col(c("customer_name")),
                ColumnDef::new(c("currency"))
                    .string_len(3)
                    .not_null()
                    .take(),
                ColumnDef::new(c("billing_address"))
                    .json_binary()
                    .null()
                    .take(),
                ColumnDef::new(c("shipping_address"))
                    .json_binary()
                    .null()
                    .take(),
                big_col(c("subtotal_units")),
                big_col(c("discounts_units")),
                big_col(c("tax_units")),
                big_col(c("shipping_units")),
                big_col(c("total_units")),
                bool_col("taxes_included"),
                json_col("shipping_lines"),
                json_col("discounts"),
                json_col("payment"),
                json_col("client"),
                json_col("tags"),
                opt_long_text("note"),
                text_col(c("financial_status")),
                text_col(c("fulfillment_status")),
                text_col(c("state")),
                json_col("issues"),
                bool_col("test"),
                time_col(c("placed_at")),
                opt_time("source_updated_at"),
                opt_time("cancelled_at"),
                opt_text_col(c("cancel_reason")),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        manager.create_table(orders).await?;
        for (name, cols, unique) in [
            (
                "orders_external_key",
                &["tenant_id", "source", "external_id"][..],
                true,
            ),
            ("orders_state_idx", &["tenant_id", "state", "id"][..], false),
            ("orders_placed_idx", &["tenant_id", "placed_at"][..], false),
            (
                "orders_customer_idx",
                &["tenant_id", "customer_id"][..],
                false,
            ),
            ("orders_email_idx", &["tenant_id", "email"][..], false),
            ("orders_name_idx", &["tenant_id", "name"][..], false),
        ] {
            index(manager, "orders", name, cols, unique).await?;
        }

        let mut lines = tenant_table(
            "order_lines",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("order_id")),
                ColumnDef::new(c("position")).integer().not_null().take(),
                opt_text_col(c("external_id")),
                opt_text_col(c("sku")),
                ColumnDef::new(c("variant_id")).uuid().null().take(),
                text_col(c("title")),
                opt_text_col(c("variant_title")),
                big_col(c("quantity")),
                big_col(c("unit_price_units")),
                big_col(c("discount_units")),
                big_col(c("tax_units")),
                json_col("tax_lines"),
                bool_col("requires_shipping"),
                ColumnDef::new(c("grams")).integer().null().take(),
            ],
            &["tenant_id", "order_id", "position"],
        );
        lines.foreign_key(&mut scoped_fk(
            c("order_lines"),
            c("order_id"),
            c("orders"),
            c("id"),
        ));
        manager.create_table(lines).await?;
        index(
            manager,
            "order_lines",
            "order_lines_sku_idx",
            &["tenant_id", "sku"],
            false,
        )
        .await?;

        let mut events = tenant_table(
            "order_events",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("order_id")),
                text_col(c("kind")),
                text_col(c("actor_kind")),
                ColumnDef::new(c("actor_id")).uuid().null().take(),
                opt_text_col(c("actor_label")),
                long_text("message"),
                opt_long_text("reason"),
                json_col("data"),
                time_col(c("at")),
            ],
            &["tenant_id", "id"],
        );
        events.foreign_key(&mut scoped_fk(
            c("order_events"),
            c("order_id"),
            c("orders"),
            c("id"),
        ));
        manager.create_table(events).await?;
        index(
            manager,
            "order_events",
            "order_events_order_idx",
            &["tenant_id", "order_id", "id"],
            false,
        )
        .await?;

        let deliveries = tenant_table(
            "channel_deliveries",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                ColumnDef::new(c("connection_id")).uuid().null().take(),
                text_col(c("platform")),
                text_col(c("topic")),
                // The platform's own delivery id, when it sends one: redeliveries share it.
                opt_text_col(c("delivery_id")),
                opt_text_col(c("external_id")),
                long_text("payload"),
                text_col(c("status")),
                opt_long_text("error"),
                ColumnDef::new(c("attempts")).integer().not_null().take(),
                ColumnDef::new(c("order_id")).uuid().null().take(),
                time_col(c("received_at")),
                opt_time("processed_at"),
            ],
            &["tenant_id", "id"],
        );
        manager.create_table(deliveries).await?;
        index(
            manager,
            "channel_deliveries",
            "channel_deliveries_delivery_key",
            &["tenant_id", "connection_id", "delivery_id"],
            true,
        )
        .await?;
        index(
            manager,
            "channel_deliveries",
            "channel_deliveries_status_idx",
            &["tenant_id", "status", "id"],
            false,
        )
        .await?;

        // Which tenant a webhook URL belongs to: the URL names only the connection, and the
        // tenant must be known before its scope can be opened.
        manager
            .create_table(
                Table::create()
                    .table(c("channel_routes"))
                    .col(uuid_col(c("connection_id")).primary_key())
                    .col(uuid_col(c("tenant_id")))
                    .col(text_col(c("platform")))
                    .foreign_key(&mut tenant_fk(c("channel_routes")))
                    .to_owned(),
            )
            .await?;
        rls::grant_app_access(manager, "channel_routes").await?;

        // Jobs are not tenant data: each names its tenant and its handler opens that tenant's
        // scope. Global, so that one worker query finds due work of every tenant.
        manager
            .create_table(
                Table::create()
                    .table(c("jobs"))
                    .col(uuid_col(c("id")).primary_key())
                    .col(ColumnDef::new(c("tenant_id")).uuid().null())
                    .col(text_col(c("kind")))
                    .col(json_col("payload"))
                    .col(opt_text_col(c("dedupe_key")))
                    .col(text_col(c("status")))
                    .col(ColumnDef::new(c("attempts")).integer().not_null())
                    .col(ColumnDef::new(c("max_attempts")).integer().not_null())
                    .col(time_col(c("run_at")))
                    .col(opt_time("locked_until"))
                    .col(opt_text_col(c("locked_by")))
                    .col(opt_long_text("last_error"))
                    .col(time_col(c("created_at")))
                    .col(time_col(c("updated_at")))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "jobs",
            "jobs_due_idx",
            &["status", "run_at"],
            false,
        )
        .await?;
        index(manager, "jobs", "jobs_dedupe_key", &["dedupe_key"], true).await?;

        rls::ensure_app_role(manager).await?;
        for table in TABLES {
            rls::grant_app_access(manager, table).await?;
            rls::enable_tenant_rls(manager, table).await?;
        }
        rls::grant_app_access(manager, "jobs").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["jobs", "channel_routes"] {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("tenants_slug_key")
                    .table(c("tenants"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("tenants"))
                    .drop_column(c("slug"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
