//! A return label bought from a remote carrier API: like an outbound label, it is bought by a
//! job and written down before every call that may spend money, here on the return itself
//! (the provider's shipment, the chosen rate, a queued transaction, the bought label), with
//! the reason a requested label is still waiting.

use sea_orm_migration::prelude::*;

use crate::cols::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000016_return_label_purchase"
    }
}

fn added() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("returns", opt_json("label_purchase")),
        ("returns", opt_long_text("label_wait")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column at a time.
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
