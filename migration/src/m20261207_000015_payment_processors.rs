//! Refunds through a real processor: a tenant's payment processor (Stripe) with its secret
//! key and webhook secret sealed, the tenant's rule for who refunds an order, and staff's
//! choice for one order.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000015_payment_processors"
    }
}

const TABLES: [&str; 3] = ["payment_processors", "refund_settings", "refund_routes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(tenant_table(
                "payment_processors",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    // stripe
                    text_col(c("provider")),
                    text_col(c("name")),
                    // The processor's API (its production API when empty).
                    opt_text_col(c("api_base")),
                    // Sealed.
                    long_text("secret_key"),
                    opt_long_text("webhook_secret"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "payment_processors",
            "payment_processors_provider_idx",
            &["tenant_id", "provider"],
            true,
        )
        .await?;
        // Who refunds the tenant's orders: auto, simulated, processor or channel.
        manager
            .create_table(tenant_table(
                "refund_settings",
                vec![
                    uuid_col(c("tenant_id")),
                    text_col(c("route")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id"],
            ))
            .await?;
        // Staff's choice for one order, over the tenant's rule.
        manager
            .create_table(tenant_table(
                "refund_routes",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("order_id")),
                    text_col(c("route")),
                    opt_text_col(c("set_by")),
                    time_col(c("set_at")),
                ],
                &["tenant_id", "order_id"],
            ))
            .await?;
        for t in TABLES {
            rls::enable_tenant_rls(manager, t).await?;
        }
        // A failed refund asked for again is a new request to the provider (a repeated
        // idempotency key would only bring back the failure).
        manager
            .alter_table(
                Table::alter()
                    .table(c("refunds"))
                    .add_column(int_col("attempt").default(0).take())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("refunds"))
                    .drop_column(c("attempt"))
                    .to_owned(),
            )
            .await?;
        for t in TABLES {
            manager
                .drop_table(Table::drop().table(c(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
