//! Tenants, users, memberships, invitations, API keys, refresh tokens and the audit log.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000001_tenancy"
    }
}

#[derive(Clone, Copy, DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Memberships {
    Table,
    TenantId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Invitations {
    Table,
    TenantId,
    Id,
    Email,
    Role,
    TokenHash,
    InvitedBy,
    ExpiresAt,
    AcceptedAt,
    RevokedAt,
    EmailStatus,
    EmailError,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum ApiKeys {
    Table,
    TenantId,
    Id,
    Name,
    Prefix,
    SecretHash,
    Scopes,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum RefreshTokens {
    Table,
    TenantId,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum AuditLog {
    Table,
    TenantId,
    Id,
    At,
    ActorKind,
    ActorId,
    Action,
    Target,
    Detail,
}

fn uuid_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().take()
}

fn time_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

fn optional_time_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

fn text_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string().not_null().take()
}

/// Foreign key from a tenant-owned table to its tenant; deleting a tenant removes its rows.
fn tenant_fk(table: impl IntoIden + Clone) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(uuid_col(Tenants::Id).primary_key())
                    .col(text_col(Tenants::Name))
                    .col(time_col(Tenants::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid_col(Users::Id).primary_key())
                    .col(text_col(Users::Email))
                    .col(text_col(Users::PasswordHash))
                    .col(time_col(Users::CreatedAt))
                    .col(time_col(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_email_key")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid_col(Memberships::TenantId))
                    .col(uuid_col(Memberships::UserId))
                    .col(text_col(Memberships::Role))
                    .col(time_col(Memberships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::TenantId)
                            .col(Memberships::UserId),
                    )
                    .foreign_key(&mut tenant_fk(Memberships::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("memberships_user_idx")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid_col(Invitations::TenantId))
                    .col(uuid_col(Invitations::Id))
                    .col(text_col(Invitations::Email))
                    .col(text_col(Invitations::Role))
                    .col(text_col(Invitations::TokenHash))
                    .col(uuid_col(Invitations::InvitedBy))
                    .col(time_col(Invitations::ExpiresAt))
                    .col(optional_time_col(Invitations::AcceptedAt))
                    .col(optional_time_col(Invitations::RevokedAt))
                    .col(text_col(Invitations::EmailStatus))
                    .col(ColumnDef::new(Invitations::EmailError).string().null())
                    .col(time_col(Invitations::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Invitations::TenantId)
                            .col(Invitations::Id),
                    )
                    .foreign_key(&mut tenant_fk(Invitations::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitations_token_key")
                    .table(Invitations::Table)
                    .col(Invitations::TenantId)
                    .col(Invitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(uuid_col(ApiKeys::TenantId))
                    .col(uuid_col(ApiKeys::Id))
                    .col(text_col(ApiKeys::Name))
                    .col(text_col(ApiKeys::Prefix))
                    .col(text_col(ApiKeys::SecretHash))
                    .col(ColumnDef::new(ApiKeys::Scopes).json_binary().not_null())
                    .col(uuid_col(ApiKeys::CreatedBy))
                    .col(time_col(ApiKeys::CreatedAt))
                    .col(optional_time_col(ApiKeys::LastUsedAt))
                    .col(optional_time_col(ApiKeys::RevokedAt))
                    .primary_key(Index::create().col(ApiKeys::TenantId).col(ApiKeys::Id))
                    .foreign_key(&mut tenant_fk(ApiKeys::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_keys_secret_key")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TenantId)
                    .col(ApiKeys::SecretHash)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(uuid_col(RefreshTokens::TenantId))
                    .col(uuid_col(RefreshTokens::Id))
                    .col(uuid_col(RefreshTokens::UserId))
                    .col(uuid_col(RefreshTokens::FamilyId))
                    .col(text_col(RefreshTokens::TokenHash))
                    .col(time_col(RefreshTokens::ExpiresAt))
                    .col(optional_time_col(RefreshTokens::UsedAt))
                    .col(optional_time_col(RefreshTokens::RevokedAt))
                    .col(time_col(RefreshTokens::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(RefreshTokens::TenantId)
                            .col(RefreshTokens::Id),
                    )
                    .foreign_key(&mut tenant_fk(RefreshTokens::Table))
                    // A removed member's sessions go with the membership.
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                RefreshTokens::Table,
                                (RefreshTokens::TenantId, RefreshTokens::UserId),
                            )
                            .to(
                                Memberships::Table,
                                (Memberships::TenantId, Memberships::UserId),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_hash_key")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TenantId)
                    .col(RefreshTokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_family_idx")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::TenantId)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(uuid_col(AuditLog::TenantId))
                    .col(uuid_col(AuditLog::Id))
                    .col(time_col(AuditLog::At))
                    .col(text_col(AuditLog::ActorKind))
                    .col(ColumnDef::new(AuditLog::ActorId).uuid().null())
                    .col(text_col(AuditLog::Action))
                    .col(text_col(AuditLog::Target))
                    .col(ColumnDef::new(AuditLog::Detail).json_binary().not_null())
                    .primary_key(Index::create().col(AuditLog::TenantId).col(AuditLog::Id))
                    .foreign_key(&mut tenant_fk(AuditLog::Table))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Invitations::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
