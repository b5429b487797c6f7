//! `orderflow import products|stock FILE --tenant SLUG`: CSV in, through the same services the
//! API uses (so the same checks), one row at a time, with a progress bar and a report of every
//! row that could not be imported — which never stops the rows after it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::catalog::product_repo;
use crate::catalog::products::{self, ProductFields, ProductStatus, VariantFields};
use crate::catalog::warehouse_repo;
use crate::domain::{ProductId, Sku, TenantId, VariantId, WarehouseId};
use crate::error::{Fail, UserError};
use crate::lifecycle::inventory::decide::MovementKind;
use crate::lifecycle::inventory::service as stock;
use crate::state::AppState;
use crate::tenancy::repo::tenants;
use crate::tenancy::{GlobalTx, Permission, Principal, TenantTx};

/// One row that could not be imported: its line in the file, the column at fault, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<RowError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StockMode {
    /// The quantity is a count: on hand is adjusted to match it.
    Set,
    /// The quantity arrived: it is received on top of what is there.
    Add,
}

/// Finds the tenant by slug, or by id.
pub async fn find_tenant(state: &AppState, tenant: &str) -> anyhow::Result<TenantId> {
    let tx = GlobalTx::begin(&state.db).await?;
    let found = match tenants::by_slug(&tx, tenant.trim()).await? {
        Some(t) => Some(TenantId(t.id)),
        None => match uuid::Uuid::try_parse(tenant.trim()) {
            Ok(id) => tenants::get(&tx, TenantId(id))
                .await?
                .map(|t| TenantId(t.id)),
            Err(_) => None,
        },
    };
    tx.commit().await?;
    found.ok_or_else(|| anyhow::anyhow!("--tenant: no tenant has the slug or id {tenant}"))
}

fn principal(tenant: TenantId) -> Principal {
    Principal::system(
        tenant,
        vec![Permission::CatalogManage, Permission::InventoryManage],
    )
}

/// The CSV's rows as header → value maps, with their line numbers (the header is line 1).
fn read_rows(
    path: &Path,
    required: &[&str],
) -> anyhow::Result<Vec<(usize, HashMap<String, String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for column in required {
        if !headers.iter().any(|h| h == column) {
            anyhow::bail!(
                "{}: the header has no `{column}` column (needed: {})",
                path.display(),
                required.join(", ")
            );
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| anyhow::anyhow!("{}: line {}: {e}", path.display(), i + 2))?;
        let row = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| (h.clone(), v.to_owned()))
            .collect();
        rows.push((i + 2, row));
    }
    Ok(rows)
}

fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// The CSV column a user error of the API names (`["input", "variants", "0", "price"]` → price).
fn column_of(err: &UserError) -> String {
    let leaf = err.field.last().map(String::as_str).unwrap_or("");
    match leaf {
        "weightGrams" => "weight_grams".into(),
        "lengthMm" => "length_mm".into(),
        "widthMm" => "width_mm".into(),
        "heightMm" => "height_mm".into(),
        "productType" => "product_type".into(),
        "binLocation" => "bin_location".into(),
        "warehouseId" => "warehouse".into(),
        "delta" => "quantity".into(),
        "input" | "" => "row".into(),
        other => other.to_owned(),
    }
}

fn row_error(line: usize, fail: Fail) -> RowError {
    match fail {
        Fail::User(err) => RowError {
            line,
            column: column_of(&err),
            message: err.message,
        },
        Fail::App(err) => RowError {
            line,
            column: "row".into(),
            message: err.public_message(),
        },
    }
}

fn int(row: &HashMap<String, String>, line: usize, column: &str) -> Result<Option<i32>, RowError> {
    row.get(column)
        .map(|v| {
            v.parse::<i32>().map_err(|_| RowError {
                line,
                column: column.into(),
                message: format!("{v} is not a whole number"),
            })
        })
        .transpose()
}

fn variant_fields(row: &HashMap<String, String>, line: usize) -> Result<VariantFields, RowError> {
    let mut options = Vec::new();
    for n in 1..=3 {
        match (
            row.get(&format!("option{n}_name")),
            row.get(&format!("option{n}_value")),
        ) {
            (Some(name), Some(value)) => options.push((name.clone(), value.clone())),
            (None, None) => {}
            _ => {
                return Err(RowError {
                    line,
                    column: format!("option{n}_value"),
                    message: format!("option{n}_name and option{n}_value go together"),
                });
            }
        }
    }
    Ok(VariantFields {
        sku: row.get("sku").cloned(),
        price: row.get("price").cloned(),
        cost: row.get("cost").cloned(),
        barcode: row.get("barcode").cloned(),
        title: row.get("variant_title").cloned(),
        options: (!options.is_empty()).then_some(options),
        weight_grams: int(row, line, "weight_grams")?,
        length_mm: int(row, line, "length_mm")?,
        width_mm: int(row, line, "width_mm")?,
        height_mm: int(row, line, "height_mm")?,
        channel_buffer: None,
    })
}

/// Products CSV: `product,sku,price` and optionally `cost, barcode, variant_title,
/// option1_name, option1_value … option3_value, weight_grams, length_mm, width_mm, height_mm,
/// vendor, product_type, tags, status`. Rows with the same `product` are its variants; a SKU
/// already in the catalog is updated, a new one added (to the product of that title when it
/// exists).
pub async fn products(state: &AppState, tenant: TenantId, path: &Path) -> anyhow::Result<Report> {
    let rows = read_rows(path, &["product", "sku", "price"])?;
    let who = principal(tenant);
    let bar = progress(rows.len(), "products");
    let mut report = Report {
        rows: rows.len(),
        ..Report::default()
    };
    // Products created by this import, by title, so later rows join them.
    let mut created_here: HashMap<String, ProductId> = HashMap::new();
    for (line, row) in rows {
        bar.inc(1);
        let fields = match variant_fields(&row, line) {
            Ok(f) => f,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let title = row.get("product").cloned().unwrap_or_default();
        let existing = match row.get("sku").and_then(|s| Sku::parse(s).ok()) {
            Some(sku) => {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                let found = product_repo::variant_by_sku(&tx, &sku).await?;
                tx.commit().await?;
                found
            }
            None => None,
        };
        let outcome = if let Some(variant) = existing {
            products::update_variant(state, &who, VariantId(variant.id), fields)
                .await
                .map(|_| false)
        } else {
            let product = match created_here.get(&title) {
                Some(id) => Some(*id),
                None => {
                    let tx = TenantTx::begin(&state.db, tenant).await?;
                    let found = product_repo::by_title(&tx, &title).await?;
                    tx.commit().await?;
                    found.map(|p| ProductId(p.id))
                }
            };
            match product {
                Some(id) => products::create_variant(state, &who, id, fields)
                    .await
                    .map(|_| true),
                None => {
                    let product = ProductFields {
                        title: Some(title.clone()),
                        vendor: row.get("vendor").cloned(),
                        product_type: row.get("product_type").cloned(),
                        tags: row.get("tags").map(|t| {
                            t.split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty())
                                .collect()
                        }),
                        status: row
                            .get("status")
                            .map(|s| ProductStatus::parse(&s.to_ascii_lowercase())),
                        description: row.get("description").cloned(),
                    };
                    products::create_product(state, &who, product, vec![fields])
                        .await
                        .map(|(p, _)| {
                            created_here.insert(title.clone(), ProductId(p.id));
                            true
                        })
                }
            }
        };
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(fail) => report.errors.push(row_error(line, fail)),
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// Stock CSV: `sku,warehouse,quantity` and optionally `bin_location, reason`; `warehouse` is
/// the warehouse's code. With `set` the quantity is a count (on hand is adjusted to it), with
/// `add` a receipt.
pub async fn stock(
    state: &AppState,
    tenant: TenantId,
    path: &Path,
    mode: StockMode,
) -> anyhow::Result<Report> {
    let rows = read_rows(path, &["sku", "warehouse", "quantity"])?;
    let who = principal(tenant);
    let bar = progress(rows.len(), "stock");
    let mut report = Report {
        rows: rows.len(),
        ..Report::default()
    };
    let mut warehouses: HashMap<String, Option<WarehouseId>> = HashMap::new();
    for (line, row) in rows {
        bar.inc(1);
        let code = row
            .get("warehouse")
            .cloned()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let warehouse = match warehouses.get(&code) {
            Some(w) => *w,
            None => {
                let tx = TenantTx::begin(&state.db, tenant).await?;
                let w = warehouse_repo::by_code(&tx, &code)
                    .await?
                    .map(|w| WarehouseId(w.id));
                tx.commit().await?;
                warehouses.insert(code.clone(), w);
                w
            }
        };
        let Some(warehouse) = warehouse else {
            report.errors.push(RowError {
                line,
                column: "warehouse".into(),
                message: format!("no warehouse has the code {code}"),
            });
            continue;
        };
        let quantity = match row.get("quantity").map(|q| q.parse::<i64>()) {
            Some(Ok(q)) if q >= 0 => q,
            _ => {
                report.errors.push(RowError {
                    line,
                    column: "quantity".into(),
                    message: "must be a whole number of 0 or more".into(),
                });
                continue;
            }
        };
        let sku = row.get("sku").cloned().unwrap_or_default();
        let reason = row
            .get("reason")
            .cloned()
            .or_else(|| Some("stock import".into()));
        // Whether the row changed stock, or why it could not.
        let outcome = match mode {
            StockMode::Add => {
                let request = stock::StockChange {
                    sku: sku.clone(),
                    warehouse,
                    quantity,
                    reason: reason.clone(),
                    reference: Some(format!("import {}", path.display())),
                };
                stock::change_stock(state, &who, MovementKind::Receipt, request)
                    .await
                    .map(|_| true)
            }
            StockMode::Set => {
                stock::count_stock(state, &who, &sku, warehouse, quantity, reason.as_deref()).await
            }
        };
        let (mut failed, changed) = match outcome {
            Ok(changed) => (false, changed),
            Err(fail) => {
                report.errors.push(row_error(line, fail));
                (true, false)
            }
        };
        if !failed
            && let Some(bin) = row.get("bin_location")
            && let Err(fail) =
                stock::set_bin_location(state, &who, &sku, warehouse, Some(bin.clone())).await
        {
            report.errors.push(row_error(line, fail));
            failed = true;
        }
        if !failed {
            if changed {
                report.updated += 1;
            } else {
                report.unchanged += 1;
            }
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// Writes the rows that failed next to the input, as `FILE.errors.csv`; returns its path.
pub fn write_error_report(input: &Path, errors: &[RowError]) -> anyhow::Result<PathBuf> {
    let mut name = input
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".errors.csv");
    let path = input.with_file_name(name);
    let mut writer = csv::Writer::from_path(&path)?;
    writer.write_record(["line", "column", "message"])?;
    for e in errors {
        // Messages quote the merchant's cells: defused like every CSV Orderflow writes.
        writer.write_record([
            e.line.to_string(),
            crate::infra::csv::defuse(e.column.clone()),
            crate::infra::csv::defuse(e.message.clone()),
        ])?;
    }
    writer.flush()?;
    Ok(path)
}
