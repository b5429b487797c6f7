//! Catalog and inventory: products, variants, warehouses, stock levels, the inventory-movement
//! ledger, suppliers and what they supply.
//!
//! Money is stored as integers at scale 4 (`*_units`: 12.5 is 125000), exact on both backends
//! and summable in SQL; SQLite has no exact decimal type.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_catalog_inventory"
    }
}

#[derive(Clone, Copy, DeriveIden)]
enum Tenants {
    Table,
    Currency,
}

#[derive(Clone, Copy, DeriveIden)]
enum Products {
    Table,
    TenantId,
    Id,
    Title,
    Description,
    Vendor,
    ProductType,
    Status,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Variants {
    Table,
    TenantId,
    Id,
    ProductId,
    Sku,
    Barcode,
    Title,
    Options,
    PriceUnits,
    CostUnits,
    Currency,
    WeightGrams,
    LengthMm,
    WidthMm,
    HeightMm,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum Warehouses {
    Table,
    TenantId,
    Id,
    Code,
    Name,
    Address,
    Latitude,
    Longitude,
    Active,
    DailyCapacity,
    CurrentWorkload,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum StockLevels {
    Table,
    TenantId,
    VariantId,
    WarehouseId,
    OnHand,
    Reserved,
    BinLocation,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum InventoryMovements {
    Table,
    TenantId,
    Id,
    VariantId,
    WarehouseId,
    Kind,
    OnHandDelta,
    ReservedDelta,
    OnHandAfter,
    ReservedAfter,
    Reason,
    Reference,
    ActorKind,
    ActorId,
    At,
}

#[derive(Clone, Copy, DeriveIden)]
enum Suppliers {
    Table,
    TenantId,
    Id,
    Name,
    Email,
    Phone,
    LeadTimeDays,
    CreatedAt,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum SupplierItems {
    Table,
    TenantId,
    SupplierId,
    VariantId,
    SupplierSku,
    AvailableQuantity,
    LeadTimeDays,
    MinimumOrderQuantity,
    CostUnits,
    Currency,
    UpdatedAt,
}

const TABLES: [&str; 7] = [
    "products",
    "variants",
    "warehouses",
    "stock_levels",
    "inventory_movements",
    "suppliers",
    "supplier_items",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The currency a tenant prices its catalog in.
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(
                        ColumnDef::new(Tenants::Currency)
                            .string_len(3)
                            .not_null()
                            .default("USD"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(uuid_col(Products::TenantId))
                    .col(uuid_col(Products::Id))
                    .col(text_col(Products::Title))
                    .col(opt_text_col(Products::Description))
                    .col(opt_text_col(Products::Vendor))
                    .col(opt_text_col(Products::ProductType))
                    .col(text_col(Products::Status))
                    .col(ColumnDef::new(Products::Tags).json_binary().not_null())
                    .col(time_col(Products::CreatedAt))
                    .col(time_col(Products::UpdatedAt))
                    .primary_key(Index::create().col(Products::TenantId).col(Products::Id))
                    .foreign_key(&mut tenant_fk(Products::Table))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Variants::Table)
                    .col(uuid_col(Variants::TenantId))
                    .col(uuid_col(Variants::Id))
                    .col(uuid_col(Variants::ProductId))
                    .col(text_col(Variants::Sku))
                    .col(opt_text_col(Variants::Barcode))
                    .col(text_col(Variants::Title))
                    .col(ColumnDef::new(Variants::Options).json_binary().not_null())
                    .col(big_col(Variants::PriceUnits))
                    .col(ColumnDef::new(Variants::CostUnits).big_integer().null())
                    .col(ColumnDef::new(Variants::Currency).string_len(3).not_null())
                    .col(opt_int_col(Variants::WeightGrams))
                    .col(opt_int_col(Variants::LengthMm))
                    .col(opt_int_col(Variants::WidthMm))
                    .col(opt_int_col(Variants::HeightMm))
                    .col(time_col(Variants::CreatedAt))
                    .col(time_col(Variants::UpdatedAt))
                    .primary_key(Index::create().col(Variants::TenantId).col(Variants::Id))
                    .foreign_key(&mut scoped_fk(
                        Variants::Table,
                        Variants::ProductId,
                        Products::Table,
                        Products::Id,
                    ))
                    .check(Expr::col(Variants::PriceUnits).gte(0))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "variants_sku_key",
                vec![Variants::TenantId, Variants::Sku],
                true,
            ),
            (
                "variants_barcode_idx",
                vec![Variants::TenantId, Variants::Barcode],
                false,
            ),
            (
                "variants_product_idx",
                vec![Variants::TenantId, Variants::ProductId],
                false,
            ),
        ] {
            let mut index = Index::create().name(name).table(Variants::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Warehouses::Table)
                    .col(uuid_col(Warehouses::TenantId))
                    .col(uuid_col(Warehouses::Id))
                    .col(text_col(Warehouses::Code))
                    .col(text_col(Warehouses::Name))
                    .col(ColumnDef::new(Warehouses::Address).json_binary().not_null())
                    .col(ColumnDef::new(Warehouses::Latitude).double().null())
                    .col(ColumnDef::new(Warehouses::Longitude).double().null())
                    .col(ColumnDef::new(Warehouses::Active).boolean().not_null())
                    .col(
                        ColumnDef::new(Warehouses::DailyCapacity)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Warehouses::CurrentWorkload)
                            .integer()
                            .not_null(),
                    )
                    .col(time_col(Warehouses::CreatedAt))
                    .col(time_col(Warehouses::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Warehouses::TenantId)
                            .col(Warehouses::Id),
                    )
                    .foreign_key(&mut tenant_fk(Warehouses::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("warehouses_code_key")
                    .table(Warehouses::Table)
                    .col(Warehouses::TenantId)
                    .col(Warehouses::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StockLevels::Table)
                    .col(uuid_col(StockLevels::TenantId))
                    .col(uuid_col(StockLevels::VariantId))
                    .col(uuid_col(StockLevels::WarehouseId))
                    .col(big_col(StockLevels::OnHand))
                    .col(big_col(StockLevels::Reserved))
                    .col(opt_text_col(StockLevels::BinLocation))
                    .col(time_col(StockLevels::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(StockLevels::TenantId)
                            .col(StockLevels::VariantId)
                            .col(StockLevels::WarehouseId),
                    )
                    .foreign_key(&mut scoped_fk(
                        StockLevels::Table,
                        StockLevels::VariantId,
                        Variants::Table,
                        Variants::Id,
                    ))
                    .foreign_key(&mut scoped_fk(
                        StockLevels::Table,
                        StockLevels::WarehouseId,
                        Warehouses::Table,
                        Warehouses::Id,
                    ))
                    // The database itself refuses a unit sold twice.
                    .check(Expr::col(StockLevels::Reserved).gte(0))
                    .check(Expr::col(StockLevels::Reserved).lte(Expr::col(StockLevels::OnHand)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("stock_levels_warehouse_idx")
                    .table(StockLevels::Table)
                    .col(StockLevels::TenantId)
                    .col(StockLevels::WarehouseId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InventoryMovements::Table)
                    .col(uuid_col(InventoryMovements::TenantId))
                    .col(uuid_col(InventoryMovements::Id))
                    .col(uuid_col(InventoryMovements::VariantId))
                    .col(uuid_col(InventoryMovements::WarehouseId))
                    .col(text_col(InventoryMovements::Kind))
                    .col(big_col(InventoryMovements::OnHandDelta))
                    .col(big_col(InventoryMovements::ReservedDelta))
                    .col(big_col(InventoryMovements::OnHandAfter))
                    .col(big_col(InventoryMovements::ReservedAfter))
                    .col(opt_text_col(InventoryMovements::Reason))
                    .col(opt_text_col(InventoryMovements::Reference))
                    .col(text_col(InventoryMovements::ActorKind))
                    .col(ColumnDef::new(InventoryMovements::ActorId).uuid().null())
                    .col(time_col(InventoryMovements::At))
                    .primary_key(
                        Index::create()
                            .col(InventoryMovements::TenantId)
                            .col(InventoryMovements::Id),
                    )
                    .foreign_key(&mut scoped_fk(
                        InventoryMovements::Table,
                        InventoryMovements::VariantId,
                        Variants::Table,
                        Variants::Id,
                    ))
                    .foreign_key(&mut scoped_fk(
                        InventoryMovements::Table,
                        InventoryMovements::WarehouseId,
                        Warehouses::Table,
                        Warehouses::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_movements_variant_idx")
                    .table(InventoryMovements::Table)
                    .col(InventoryMovements::TenantId)
                    .col(InventoryMovements::VariantId)
                    .col(InventoryMovements::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Suppliers::Table)
                    .col(uuid_col(Suppliers::TenantId))
                    .col(uuid_col(Suppliers::Id))
                    .col(text_col(Suppliers::Name))
                    .col(opt_text_col(Suppliers::Email))
                    .col(opt_text_col(Suppliers::Phone))
                    .col(ColumnDef::new(Suppliers::LeadTimeDays).integer().not_null())
                    .col(time_col(Suppliers::CreatedAt))
                    .col(time_col(Suppliers::UpdatedAt))
                    .primary_key(Index::create().col(Suppliers::TenantId).col(Suppliers::Id))
                    .foreign_key(&mut tenant_fk(Suppliers::Table))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupplierItems::Table)
                    .col(uuid_col(SupplierItems::TenantId))
                    .col(uuid_col(SupplierItems::SupplierId))
                    .col(uuid_col(SupplierItems::VariantId))
                    .col(opt_text_col(SupplierItems::SupplierSku))
                    .col(
                        ColumnDef::new(SupplierItems::AvailableQuantity)
                            .big_integer()
                            .null(),
                    )
                    .col(opt_int_col(SupplierItems::LeadTimeDays))
                    .col(
                        ColumnDef::new(SupplierItems::MinimumOrderQuantity)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupplierItems::CostUnits)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(SupplierItems::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(time_col(SupplierItems::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(SupplierItems::TenantId)
                            .col(SupplierItems::SupplierId)
                            .col(SupplierItems::VariantId),
                    )
                    .foreign_key(&mut scoped_fk(
                        SupplierItems::Table,
                        SupplierItems::SupplierId,
                        Suppliers::Table,
                        Suppliers::Id,
                    ))
                    .foreign_key(&mut scoped_fk(
                        SupplierItems::Table,
                        SupplierItems::VariantId,
                        Variants::Table,
                        Variants::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("supplier_items_variant_idx")
                    .table(SupplierItems::Table)
                    .col(SupplierItems::TenantId)
                    .col(SupplierItems::VariantId)
                    .to_owned(),
            )
            .await?;

        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::Currency)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
