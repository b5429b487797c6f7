//! Channels hear back: every write to a sales channel (a parcel's fulfilment with its
//! tracking, its hand-over to the carrier) is a push, written in the transaction that caused
//! it and unique by what it says, so it is sent once; its row is also the sync log (when,
//! what, the platform's answer, how long it took). A connection says whether the channel may
//! email its shopper about a fulfilment (off: Orderflow emails the shopper itself).

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000017_channel_pushes"
    }
}

fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![(
        "channel_connections",
        ColumnDef::new(c("notify_customer"))
            .boolean()
            .not_null()
            .default(false)
            .take(),
    )]
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
                "channel_pushes",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("connection_id")),
                    uuid_col(c("order_id")),
                    opt_uuid("shipment_id"),
                    // fulfillment, in_transit
                    text_col(c("kind")),
                    // What makes it one push (kind, parcel, tracking number): sent once.
                    text_col(c("key")),
                    // queued, waiting, sent, failed, skipped
                    text_col(c("state")),
                    long_text("summary"),
                    // What the channel made (a Shopify fulfilment's id…).
                    opt_text_col(c("remote_id")),
                    // The platform's answer, in its words.
                    opt_long_text("answer"),
                    int_col("attempts"),
                    opt_big("duration_ms"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                    opt_time("sent_at"),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "channel_pushes",
            "channel_pushes_key_idx",
            &["tenant_id", "key"],
            true,
        )
        .await?;
        index(
            manager,
            "channel_pushes",
            "channel_pushes_connection_idx",
            &["tenant_id", "connection_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "channel_pushes",
            "channel_pushes_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        rls::enable_tenant_rls(manager, "channel_pushes").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(c("channel_pushes")).to_owned())
            .await?;
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
