//! Carriers with a remote API (EasyPost, Shippo): a carrier account names its provider and
//! keeps its API key sealed; a remote carrier's services are found when it rates a parcel; a
//! label bought from a remote API is a purchase of its own, written before the call so that a
//! retry never buys twice; catalog variants carry their customs facts.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000014_carrier_apis"
    }
}

/// Columns added to existing tables (SQLite alters one column at a time).
fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![
        // simulated (Orderflow's rate cards and labels), easypost or shippo.
        (
            "carriers",
            ColumnDef::new(c("provider"))
                .string()
                .not_null()
                .default("simulated")
                .take(),
        ),
        // Sealed.
        ("carriers", opt_text_col(c("api_key"))),
        // The provider's API (its production API when empty).
        ("carriers", opt_text_col(c("api_base"))),
        // The provider's carrier accounts to rate with; all of them when empty.
        ("carriers", opt_json("provider_accounts")),
        (
            "carriers",
            ColumnDef::new(c("label_format"))
                .string()
                .not_null()
                .default("pdf")
                .take(),
        ),
        // A remote carrier's service, as the provider names it (`USPS/Priority`).
        ("carrier_services", opt_text_col(c("remote_code"))),
        // What refunds a remote label (EasyPost's shipment, Shippo's transaction).
        ("shipments", opt_text_col(c("label_ref"))),
        ("shipments", opt_text_col(c("tracker_id"))),
        ("shipments", opt_long_text("tracking_url")),
        // Why a requested label is still waiting, for the order page.
        ("shipments", opt_long_text("label_wait")),
        (
            "shipping_labels",
            ColumnDef::new(c("media_type"))
                .string()
                .not_null()
                .default("application/pdf")
                .take(),
        ),
        ("variants", opt_text_col(c("hs_code"))),
        ("variants", opt_text_col(c("origin_country"))),
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
        // One purchase of a label from a remote API: its id is the idempotency key.
        manager
            .create_table(tenant_table(
                "label_purchases",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("shipment_id")),
                    uuid_col(c("order_id")),
                    // recommended, or service:<uuid> (staff's choice)
                    text_col(c("choice")),
                    // requested, buying, pending, bought, done, failed, cancelled
                    text_col(c("state")),
                    opt_uuid("carrier_id"),
                    opt_text_col(c("remote_shipment")),
                    // The rate being bought, with the option it was chosen as.
                    opt_json("rate"),
                    opt_text_col(c("transaction_id")),
                    // The bought label, kept before anything else is done with it.
                    opt_json("label"),
                    int_col("attempts"),
                    opt_long_text("last_error"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "label_purchases",
            "label_purchases_shipment_idx",
            &["tenant_id", "shipment_id"],
            false,
        )
        .await?;
        rls::enable_tenant_rls(manager, "label_purchases").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(c("label_purchases")).to_owned())
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
