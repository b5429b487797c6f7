//! Security hardening: an account's email is verified before it can join another tenant, and
//! only one account may hold a verified address (unverified ones may share it, so that a
//! sign-up never reveals whether an address is registered); a tenant's own sender address is
//! used only once its owner has confirmed it.

use sea_orm_migration::prelude::*;

use crate::cols::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_security"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("users"))
                    .add_column(opt_time("email_verified_at"))
                    .to_owned(),
            )
            .await?;
        // Accounts that joined by an invitation proved their address by its link.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET email_verified_at = created_at WHERE EXISTS \
                 (SELECT 1 FROM invitations i WHERE i.email = users.email AND i.accepted_at IS NOT NULL)",
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("users_email_key")
                    .table(c("users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "users", "users_email_idx", &["email"], false).await?;
        // Partial unique index: the same SQL on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX users_verified_email_key ON users (email) \
                 WHERE email_verified_at IS NOT NULL",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("notification_settings"))
                    .add_column(opt_text_col(c("sender_verified_address")))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(c("notification_settings"))
                    .drop_column(c("sender_verified_address"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS users_verified_email_key")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("users_email_idx")
                    .table(c("users"))
                    .to_owned(),
            )
            .await?;
        index(manager, "users", "users_email_key", &["email"], true).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("users"))
                    .drop_column(c("email_verified_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
