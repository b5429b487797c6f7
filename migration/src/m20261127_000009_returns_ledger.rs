//! Returns, refunds and the money: each tenant's return policy, return requests and their
//! lines, refunds (one row per refund intent, which is what makes them idempotent), the
//! double-entry ledger (append-only), and payout reconciliation runs with their lines.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000009_returns_ledger"
    }
}

const TABLES: [&str; 8] = [
    "return_settings",
    "returns",
    "return_lines",
    "refunds",
    "ledger_entries",
    "ledger_lines",
    "reconciliation_runs",
    "reconciliation_items",
];

/// Entries are corrected by reversing entries, never edited: the database refuses both.
const APPEND_ONLY: [&str; 2] = ["ledger_entries", "ledger_lines"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(tenant_table(
                "return_settings",
                vec![
                    uuid_col(c("tenant_id")),
                    // Days after delivery a return may be asked for.
                    int_col("window_days"),
                    // SKUs (or prefixes ending in *) that cannot be returned: final sale.
                    json_col("final_sale_skus"),
                    // [{code, label, merchantFault}]: the reasons a shopper may give.
                    json_col("reasons"),
                    // Percent of an item's value refunded per condition grade when the
                    // shopper is at fault: {"A":100,"B":100,"C":50,"D":0}.
                    json_col("grade_refund_percent"),
                    bool_col("auto_approve"),
                    // Auto-approval only under this value and fraud score.
                    big_col(c("auto_approve_max_units")),
                    int_col("auto_approve_max_fraud_score"),
                    // Returns by the same customer in 90 days before staff look.
                    int_col("auto_approve_max_recent"),
                    // Percent withheld from refunds the shopper is at fault for.
                    int_col("restocking_fee_percent"),
                    // Shipping charged on the order goes back on a merchant-fault return.
                    bool_col("refund_shipping"),
                    // The return label's cost comes off a shopper-fault refund.
                    bool_col("deduct_label_cost"),
                    // What putting a unit back on the shelf, or refurbishing it, costs.
                    big_col(c("handling_cost_units")),
                    big_col(c("refurbish_cost_units")),
                    // Refund as soon as the inspection decides, without staff.
                    bool_col("auto_refund"),
                    opt_uuid("warehouse_id"),
                    time_col(c("updated_at")),
                ],
                &["tenant_id"],
            ))
            .await?;

        manager
            .create_table(tenant_table(
                "returns",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("order_id")),
                    // The order's name and a sequence: #1001-R1.
                    text_col(c("name")),
                    // requested, approved, rejected, in_transit, received, inspected,
                    // resolved, cancelled
                    text_col(c("status")),
                    // shopper, staff, api
                    text_col(c("source")),
                    text_col(c("reason")),
                    opt_long_text("comment"),
                    text_col(c("currency")),
                    // The approval decision with its reasons.
                    opt_json("decision"),
                    opt_long_text("rejection"),
                    // refund, store_credit, exchange: what the shopper asked for.
                    text_col(c("resolution")),
                    opt_uuid("warehouse_id"),
                    opt_uuid("carrier_id"),
                    opt_uuid("service_id"),
                    opt_text_col(c("tracking_number")),
                    opt_big("label_cost_units"),
                    opt_text_col(c("label_currency")),
                    opt_text_col(c("label_status")),
                    ColumnDef::new(c("label_pdf")).binary().null().take(),
                    opt_long_text("label_zpl"),
                    opt_uuid("refund_id"),
                    opt_uuid("exchange_order_id"),
                    // What was decided to pay back, with how it was computed.
                    opt_json("settlement"),
                    // Whose fault, as the inspection found (the reason's until then).
                    ColumnDef::new(c("merchant_fault")).boolean().null().take(),
                    opt_time("approved_at"),
                    opt_time("received_at"),
                    opt_time("inspected_at"),
                    opt_time("resolved_at"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "returns",
            "returns_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        index(
            manager,
            "returns",
            "returns_recent_idx",
            &["tenant_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "returns",
            "returns_tracking_idx",
            &["tenant_id", "tracking_number"],
            false,
        )
        .await?;

        let mut lines = tenant_table(
            "return_lines",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("return_id")),
                // The order line's position.
                int_col("position"),
                text_col(c("sku")),
                opt_uuid("variant_id"),
                int_col("quantity"),
                opt_text_col(c("reason")),
                // What one unit was paid, after its discount, without tax.
                big_col(c("unit_value_units")),
                big_col(c("unit_tax_units")),
                // A (as new) … D (damaged), set at inspection.
                // Units that arrived (set at inspection): only they are refunded or restocked.
                opt_int_col(c("received_quantity")),
                opt_text_col(c("grade")),
                opt_long_text("inspection_note"),
                // restock, refurbish, dispose
                opt_text_col(c("disposition")),
                opt_long_text("disposition_reason"),
                // For an exchange: the variant sent instead.
                opt_text_col(c("exchange_sku")),
            ],
            &["tenant_id", "return_id", "position"],
        );
        lines.foreign_key(&mut scoped_fk(
            c("return_lines"),
            c("return_id"),
            c("returns"),
            c("id"),
        ));
        manager.create_table(lines).await?;

        // One row per refund intent: the key is unique, so a retry finds the refund made.
        manager
            .create_table(tenant_table(
                "refunds",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("order_id")),
                    opt_uuid("return_id"),
                    text_col(c("idempotency_key")),
                    // original (the payment method), store_credit
                    text_col(c("method")),
                    text_col(c("provider")),
                    opt_text_col(c("provider_ref")),
                    // pending, succeeded, failed
                    text_col(c("status")),
                    text_col(c("currency")),
                    big_col(c("goods_units")),
                    big_col(c("shipping_units")),
                    big_col(c("tax_units")),
                    big_col(c("amount_units")),
                    // Withheld: restocking fee, label cost.
                    big_col(c("withheld_units")),
                    opt_long_text("reason"),
                    opt_long_text("error"),
                    text_col(c("actor_kind")),
                    opt_uuid("actor_id"),
                    time_col(c("created_at")),
                    opt_time("completed_at"),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "refunds",
            "refunds_idempotency_key",
            &["tenant_id", "idempotency_key"],
            true,
        )
        .await?;
        index(
            manager,
            "refunds",
            "refunds_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "ledger_entries",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    // sale, fee, refund, credit_refund, label, chargeback, payout, adjustment;
                    // a reversal keeps the kind of the entry it reverses
                    text_col(c("kind")),
                    text_col(c("currency")),
                    long_text("memo"),
                    // order, shipment, return, refund, payout, reconciliation
                    text_col(c("source_kind")),
                    uuid_col(c("source_id")),
                    opt_uuid("order_id"),
                    // The entry this one reverses.
                    opt_uuid("reverses_id"),
                    // What makes posting idempotent, e.g. sale:<order id>.
                    text_col(c("dedupe_key")),
                    // When it happened (the sale, the refund); created_at is when recorded.
                    time_col(c("effective_at")),
                    text_col(c("actor_kind")),
                    opt_uuid("actor_id"),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "ledger_entries",
            "ledger_entries_dedupe_key",
            &["tenant_id", "dedupe_key"],
            true,
        )
        .await?;
        index(
            manager,
            "ledger_entries",
            "ledger_entries_period_idx",
            &["tenant_id", "effective_at"],
            false,
        )
        .await?;
        index(
            manager,
            "ledger_entries",
            "ledger_entries_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;

        let mut ledger_lines = tenant_table(
            "ledger_lines",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("entry_id")),
                int_col("line_no"),
                text_col(c("account")),
                big_col(c("debit_units")),
                big_col(c("credit_units")),
                text_col(c("currency")),
                // The entry's, again: balances over a period read lines alone.
                time_col(c("effective_at")),
            ],
            &["tenant_id", "entry_id", "line_no"],
        );
        ledger_lines.foreign_key(&mut scoped_fk(
            c("ledger_lines"),
            c("entry_id"),
            c("ledger_entries"),
            c("id"),
        ));
        manager.create_table(ledger_lines).await?;
        index(
            manager,
            "ledger_lines",
            "ledger_lines_account_idx",
            &["tenant_id", "account", "effective_at"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "reconciliation_runs",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    text_col(c("provider")),
                    // stripe_csv, stripe_json
                    text_col(c("format")),
                    opt_text_col(c("file_name")),
                    opt_text_col(c("payout_id")),
                    // {lines, matched, discrepancies, skipped, gross, fee, net} per currency
                    json_col("summary"),
                    text_col(c("actor_kind")),
                    opt_uuid("actor_id"),
                    time_col(c("created_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "reconciliation_runs",
            "reconciliation_runs_recent_idx",
            &["tenant_id", "created_at"],
            false,
        )
        .await?;

        let mut items = tenant_table(
            "reconciliation_items",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("run_id")),
                int_col("line_no"),
                // The processor's id of the line (txn_…): imported once per tenant.
                text_col(c("transaction_id")),
                // charge, refund, fee, dispute, payout, adjustment, …
                text_col(c("category")),
                opt_text_col(c("source_id")),
                opt_long_text("description"),
                text_col(c("currency")),
                big_col(c("gross_units")),
                big_col(c("fee_units")),
                big_col(c("net_units")),
                opt_time("occurred_at"),
                opt_text_col(c("payout_id")),
                // matched, discrepancy, duplicate
                text_col(c("status")),
                opt_uuid("order_id"),
                opt_uuid("refund_id"),
                // What our books say the line should be, when it differs.
                opt_big("expected_units"),
                // unmatched, amount_mismatch, currency_mismatch, unexpected_category
                opt_text_col(c("discrepancy")),
                opt_long_text("message"),
                // accepted, written_off, linked
                opt_text_col(c("resolution")),
                opt_long_text("resolution_note"),
                opt_uuid("resolved_by"),
                opt_time("resolved_at"),
                // The raw line as imported.
                json_col("raw"),
                time_col(c("created_at")),
            ],
            &["tenant_id", "id"],
        );
        items.foreign_key(&mut scoped_fk(
            c("reconciliation_items"),
            c("run_id"),
            c("reconciliation_runs"),
            c("id"),
        ));
        manager.create_table(items).await?;
        index(
            manager,
            "reconciliation_items",
            "reconciliation_items_run_idx",
            &["tenant_id", "run_id", "line_no"],
            false,
        )
        .await?;
        index(
            manager,
            "reconciliation_items",
            "reconciliation_items_txn_idx",
            &["tenant_id", "transaction_id"],
            false,
        )
        .await?;
        index(
            manager,
            "reconciliation_items",
            "reconciliation_items_open_idx",
            &["tenant_id", "status", "resolution"],
            false,
        )
        .await?;

        // The processor's id of an order's payment: reconciliation finds orders by it.
        manager
            .alter_table(
                Table::alter()
                    .table(c("orders"))
                    .add_column(opt_text_col(c("payment_reference")))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "orders",
            "orders_payment_reference_idx",
            &["tenant_id", "payment_reference"],
            false,
        )
        .await?;

        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        append_only(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("orders_payment_reference_idx")
                    .table(c("orders"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(c("orders"))
                    .drop_column(c("payment_reference"))
                    .to_owned(),
            )
            .await?;
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// PostgreSQL: the application role may only read and insert; SQLite: triggers refuse.
async fn append_only(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for table in APPEND_ONLY {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                format!("REVOKE UPDATE, DELETE ON {table} FROM {}", rls::APP_ROLE)
            }
            _ => format!(
                "CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: post a reversing entry'); END;
                 CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: post a reversing entry'); END;"
            ),
        };
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}
