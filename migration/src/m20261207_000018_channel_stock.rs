//! One stock figure on every channel. A listing is what a channel sells a SKU as (product,
//! variant, inventory item, listing), imported from the channel's catalog and matched by
//! SKU; it remembers the figure last pushed and whether a stock change has made it stale
//! (`dirty_at`, set in the transaction that moved the stock, cleared by the push that
//! carried the newer figure). A connection says which warehouses stock it, what share of
//! their free stock it may show and where its stock lives on the platform (a Shopify
//! location); a tenant keeps a safety buffer back from every channel, a variant may keep
//! its own. Stock pushes, imports and drift checks are logged per connection. A connection
//! counts its failures in a row: three make it unhealthy, and staff are told.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000018_channel_stock"
    }
}

fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![
        (
            "channel_connections",
            ColumnDef::new(c("stock_sync"))
                .boolean()
                .not_null()
                .default(true)
                .take(),
        ),
        (
            "channel_connections",
            ColumnDef::new(c("stock_share"))
                .integer()
                .not_null()
                .default(100)
                .take(),
        ),
        ("channel_connections", opt_json("stock_warehouses")),
        ("channel_connections", opt_text_col(c("stock_location"))),
        // One stock run per connection at a time: pushes reach the channel in order.
        ("channel_connections", opt_time("stock_lease_until")),
        // Writes and reads that failed in a row: three make the channel unhealthy.
        (
            "channel_connections",
            ColumnDef::new(c("failures"))
                .integer()
                .not_null()
                .default(0)
                .take(),
        ),
        (
            "fulfillment_settings",
            ColumnDef::new(c("channel_stock_buffer"))
                .integer()
                .not_null()
                .default(0)
                .take(),
        ),
        ("variants", opt_int_col(c("channel_buffer"))),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut col) in added() {
            manager
                .alter_table(
                    Table::alter()
                        .table(c(table))
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(tenant_table(
                "channel_listings",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("connection_id")),
                    // The platform's identity of it ("product/variant"): one row each.
                    text_col(c("remote_key")),
                    text_col(c("remote_product")),
                    opt_text_col(c("remote_variant")),
                    // Shopify's inventory item.
                    opt_text_col(c("remote_item")),
                    text_col(c("sku")),
                    long_text("title"),
                    // Unmatched (no variant of ours has its SKU) until staff map it.
                    opt_uuid("variant_id"),
                    // Mapped by hand: an import does not undo it.
                    bool_col("mapped_by_hand"),
                    opt_big("remote_quantity"),
                    opt_big("pushed_quantity"),
                    opt_time("pushed_at"),
                    opt_time("dirty_at"),
                    int_col("drift_count"),
                    opt_long_text("last_error"),
                    time_col(c("seen_at")),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "channel_listings",
            "channel_listings_remote_idx",
            &["tenant_id", "connection_id", "remote_key"],
            true,
        )
        .await?;
        index(
            manager,
            "channel_listings",
            "channel_listings_variant_idx",
            &["tenant_id", "variant_id"],
            false,
        )
        .await?;
        index(
            manager,
            "channel_listings",
            "channel_listings_dirty_idx",
            &["tenant_id", "connection_id", "dirty_at"],
            false,
        )
        .await?;
        rls::enable_tenant_rls(manager, "channel_listings").await?;
        manager
            .create_table(tenant_table(
                "channel_stock_log",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("connection_id")),
                    // stock, import or drift
                    text_col(c("kind")),
                    // sent, waiting, failed
                    text_col(c("state")),
                    int_col("items"),
                    int_col("changed"),
                    long_text("summary"),
                    opt_long_text("answer"),
                    opt_big("duration_ms"),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "channel_stock_log",
            "channel_stock_log_connection_idx",
            &["tenant_id", "connection_id", "created_at"],
            false,
        )
        .await?;
        rls::enable_tenant_rls(manager, "channel_stock_log").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["channel_stock_log", "channel_listings"] {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        for (table, col) in added().into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(c(table))
                        .drop_column(c(&col.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
