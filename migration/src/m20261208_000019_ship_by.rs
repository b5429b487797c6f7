//! The latest a channel lets the merchant ship an order (Amazon's `LatestShipDate`): a
//! shipment confirmed after it counts against the seller, so Orderflow watches it. And the
//! Amazon listings feed a listing's last figure went in, until Amazon reports on it.

use sea_orm_migration::prelude::*;

use crate::cols::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000019_ship_by"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("orders"))
                    .add_column(opt_time("ship_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("channel_listings"))
                    .add_column(opt_text_col(c("stock_feed")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("channel_listings"))
                    .drop_column(c("stock_feed"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("orders"))
                    .drop_column(c("ship_by"))
                    .to_owned(),
            )
            .await
    }
}
