//! Column and key builders shared by the migrations.

use sea_orm_migration::prelude::*;

#[derive(Clone, Copy, DeriveIden)]
enum Tenants {
    Table,
    Id,
}

pub fn uuid_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().take()
}

pub fn time_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

pub fn text_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string().not_null().take()
}

pub fn opt_text_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).string().null().take()
}

pub fn big_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

pub fn opt_int_col(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).integer().null().take()
}

/// A tenant-scoped foreign key: both sides carry `tenant_id`.
pub fn scoped_fk(
    from: impl IntoIden,
    from_col: impl IntoIden,
    to: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, (Alias::new("tenant_id"), from_col))
        .to(to, (Alias::new("tenant_id"), to_col))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

pub fn tenant_fk(table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// Creates an index over `cols` of `table`.
pub async fn index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create()
        .name(name)
        .table(Alias::new(table))
        .to_owned();
    for col in cols {
        index.col(Alias::new(*col));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}

/// An identifier from a name.
pub fn c(name: &str) -> Alias {
    Alias::new(name)
}

pub fn json_col(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).json_binary().not_null().take()
}

pub fn bool_col(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).boolean().not_null().take()
}

pub fn long_text(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).text().not_null().take()
}

pub fn opt_long_text(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).text().null().take()
}

pub fn opt_time(name: &str) -> ColumnDef {
    ColumnDef::new(c(name))
        .timestamp_with_time_zone()
        .null()
        .take()
}

pub fn tenant_table(name: &str, cols: Vec<ColumnDef>, key: &[&str]) -> TableCreateStatement {
    let mut table = Table::create().table(c(name)).to_owned();
    for mut col in cols {
        table.col(&mut col);
    }
    let mut pk = Index::create();
    for k in key {
        pk.col(c(k));
    }
    table.primary_key(&mut pk);
    table.foreign_key(&mut tenant_fk(c(name)));
    table
}

pub fn opt_json(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).json_binary().null().take()
}

pub fn int_col(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).integer().not_null().take()
}

pub fn opt_uuid(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).uuid().null().take()
}

pub fn opt_big(name: &str) -> ColumnDef {
    ColumnDef::new(c(name)).big_integer().null().take()
}
