//! Fulfillment and delivery: carriers and their services (rate cards), routing decisions,
//! shipments with their labels and tracking events, warehouse waves and pick tasks, delivery
//! exceptions, and each tenant's fulfillment settings.

use sea_orm_migration::prelude::*;

use crate::cols::*;
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000007_fulfillment"
    }
}

const TABLES: [&str; 9] = [
    "carriers",
    "carrier_services",
    "shipments",
    "shipping_labels",
    "tracking_events",
    "delivery_exceptions",
    "waves",
    "pick_tasks",
    "fulfillment_settings",
];

fn order_columns() -> Vec<ColumnDef> {
    vec![
        // The day the shopper was promised, set when the order is routed.
        opt_time("promised_at"),
        // The routing decision with the alternatives it was chosen over.
        opt_json("routing"),
    ]
}

fn warehouse_columns() -> Vec<ColumnDef> {
    // Carrier cut-off times are local to the warehouse.
    vec![
        ColumnDef::new(c("timezone"))
            .string()
            .not_null()
            .default("UTC")
            .take(),
    ]
}

async fn add_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    cols: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut col in cols {
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

async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    cols: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for col in cols.iter().rev() {
        manager
            .alter_table(
                Table::alter()
                    .table(c(table))
                    .drop_column(col.get_column_name())
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "orders", order_columns()).await?;
        add_columns(manager, "warehouses", warehouse_columns()).await?;

        manager
            .create_table(tenant_table(
                "carriers",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    text_col(c("code")),
                    text_col(c("name")),
                    // How its tracking numbers are written: ups, usps, fedex, dhl, s10, orderflow.
                    text_col(c("tracking_format")),
                    // Shipper account or mailer id printed into tracking numbers.
                    text_col(c("account")),
                    // The format its tracking webhooks arrive in: easypost, shippo, aftership,
                    // orderflow.
                    text_col(c("tracking_source")),
                    // Sealed secret the tracking webhooks are signed with.
                    opt_long_text("webhook_secret"),
                    json_col("zone_chart"),
                    // The next tracking-number serial; numbers are unique per carrier account.
                    big_col(c("next_serial")),
                    bool_col("active"),
                    time_col(c("created_at")),
                    time_col(c("updated_at")),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "carriers",
            "carriers_code_key",
            &["tenant_id", "code"],
            true,
        )
        .await?;
        // The tracking webhook names only the carrier: this finds its tenant before any
        // tenant scope exists (like channel_routes).
        manager
            .create_table(
                Table::create()
                    .table(c("carrier_routes"))
                    .col(uuid_col(c("carrier_id")).primary_key())
                    .col(uuid_col(c("tenant_id")))
                    .foreign_key(&mut tenant_fk(c("carrier_routes")))
                    .to_owned(),
            )
            .await?;
        rls::grant_app_access(manager, "carrier_routes").await?;

        let mut services = tenant_table(
            "carrier_services",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("carrier_id")),
                text_col(c("code")),
                text_col(c("name")),
                text_col(c("currency")),
                // Zones × weight brackets, transit days, dimensional divisor.
                json_col("rate_card"),
                // Daily hand-over cut-off, HH:MM local to the warehouse.
                opt_text_col(c("cutoff")),
                // Delivery outcomes, for its on-time likelihood.
                ColumnDef::new(c("delivered_count"))
                    .integer()
                    .not_null()
                    .default(0)
                    .take(),
                ColumnDef::new(c("on_time_count"))
                    .integer()
                    .not_null()
                    .default(0)
                    .take(),
                bool_col("active"),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        services.foreign_key(&mut scoped_fk(
            c("carrier_services"),
            c("carrier_id"),
            c("carriers"),
            c("id"),
        ));
        manager.create_table(services).await?;
        index(
            manager,
            "carrier_services",
            "carrier_services_code_key",
            &["tenant_id", "carrier_id", "code"],
            true,
        )
        .await?;

        // One parcel of an order: planned by routing, labelled, then tracked.
        let mut shipments = tenant_table(
            "shipments",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("order_id")),
                uuid_col(c("warehouse_id")),
                opt_uuid("carrier_id"),
                opt_uuid("service_id"),
                int_col("parcel_no"),
                int_col("parcel_count"),
                // planned, picking, packed, then the tracking vocabulary, or voided.
                text_col(c("status")),
                json_col("lines"),
                int_col("weight_grams"),
                big_col(c("volume_cm3")),
                opt_int_col(c("zone")),
                text_col(c("currency")),
                opt_big("cost_units"),
                opt_text_col(c("tracking_number")),
                // The rate shopping behind the label: options and recommendations.
                opt_json("rates"),
                opt_text_col(c("rate_pick")),
                opt_time("promised_at"),
                // The carrier's estimate, and ours from the tenant's own transit history.
                opt_time("estimated_at"),
                opt_time("predicted_at"),
                opt_json("prediction"),
                opt_time("labelled_at"),
                opt_time("shipped_at"),
                opt_time("delivered_at"),
                opt_time("last_scan_at"),
                opt_text_col(c("last_detail")),
                opt_time("picked_at"),
                opt_time("packed_at"),
                opt_time("voided_at"),
                time_col(c("created_at")),
                time_col(c("updated_at")),
            ],
            &["tenant_id", "id"],
        );
        shipments.foreign_key(&mut scoped_fk(
            c("shipments"),
            c("order_id"),
            c("orders"),
            c("id"),
        ));
        manager.create_table(shipments).await?;
        index(
            manager,
            "shipments",
            "shipments_order_idx",
            &["tenant_id", "order_id"],
            false,
        )
        .await?;
        index(
            manager,
            "shipments",
            "shipments_tracking_key",
            &["tenant_id", "tracking_number"],
            true,
        )
        .await?;
        index(
            manager,
            "shipments",
            "shipments_status_idx",
            &["tenant_id", "status", "warehouse_id"],
            false,
        )
        .await?;

        // Label files apart from the shipment row, so lists never read them.
        let mut labels = tenant_table(
            "shipping_labels",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("shipment_id")),
                ColumnDef::new(c("pdf")).binary().not_null().take(),
                long_text("zpl"),
                time_col(c("created_at")),
            ],
            &["tenant_id", "shipment_id"],
        );
        labels.foreign_key(&mut scoped_fk(
            c("shipping_labels"),
            c("shipment_id"),
            c("shipments"),
            c("id"),
        ));
        manager.create_table(labels).await?;

        let mut events = tenant_table(
            "tracking_events",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("shipment_id")),
                text_col(c("source")),
                // The same scan sent twice (sources resend the whole history) is kept once.
                text_col(c("dedupe_key")),
                text_col(c("status")),
                opt_text_col(c("detail")),
                long_text("message"),
                opt_text_col(c("location")),
                time_col(c("occurred_at")),
                time_col(c("received_at")),
            ],
            &["tenant_id", "id"],
        );
        events.foreign_key(&mut scoped_fk(
            c("tracking_events"),
            c("shipment_id"),
            c("shipments"),
            c("id"),
        ));
        manager.create_table(events).await?;
        index(
            manager,
            "tracking_events",
            "tracking_events_dedupe_key",
            &["tenant_id", "shipment_id", "dedupe_key"],
            true,
        )
        .await?;

        let mut exceptions = tenant_table(
            "delivery_exceptions",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("order_id")),
                uuid_col(c("shipment_id")),
                // late, lost, address_problem, failed_attempt, returned_to_sender
                text_col(c("kind")),
                long_text("detail"),
                // contact_carrier, reship, refund, contact_customer
                text_col(c("recommended_action")),
                // open, resolved
                text_col(c("status")),
                opt_text_col(c("resolution")),
                opt_long_text("note"),
                opt_text_col(c("resolved_by")),
                time_col(c("created_at")),
                opt_time("resolved_at"),
            ],
            &["tenant_id", "id"],
        );
        exceptions.foreign_key(&mut scoped_fk(
            c("delivery_exceptions"),
            c("shipment_id"),
            c("shipments"),
            c("id"),
        ));
        manager.create_table(exceptions).await?;
        // One exception of a kind per parcel.
        index(
            manager,
            "delivery_exceptions",
            "delivery_exceptions_kind_key",
            &["tenant_id", "shipment_id", "kind"],
            true,
        )
        .await?;
        index(
            manager,
            "delivery_exceptions",
            "delivery_exceptions_status_idx",
            &["tenant_id", "status", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "waves",
                vec![
                    uuid_col(c("tenant_id")),
                    uuid_col(c("id")),
                    uuid_col(c("warehouse_id")),
                    // open, done
                    text_col(c("status")),
                    int_col("shipment_count"),
                    time_col(c("created_at")),
                    opt_time("completed_at"),
                ],
                &["tenant_id", "id"],
            ))
            .await?;
        index(
            manager,
            "waves",
            "waves_warehouse_idx",
            &["tenant_id", "warehouse_id", "status"],
            false,
        )
        .await?;
        let mut tasks = tenant_table(
            "pick_tasks",
            vec![
                uuid_col(c("tenant_id")),
                uuid_col(c("id")),
                uuid_col(c("wave_id")),
                uuid_col(c("shipment_id")),
                uuid_col(c("order_id")),
                // Walk order through the warehouse.
                int_col("sequence"),
                opt_text_col(c("bin_location")),
                opt_uuid("variant_id"),
                text_col(c("sku")),
                big_col(c("quantity")),
                big_col(c("picked")),
                time_col(c("created_at")),
            ],
            &["tenant_id", "id"],
        );
        tasks.foreign_key(&mut scoped_fk(
            c("pick_tasks"),
            c("wave_id"),
            c("waves"),
            c("id"),
        ));
        manager.create_table(tasks).await?;
        index(
            manager,
            "pick_tasks",
            "pick_tasks_wave_idx",
            &["tenant_id", "wave_id", "sequence"],
            false,
        )
        .await?;
        index(
            manager,
            "pick_tasks",
            "pick_tasks_shipment_idx",
            &["tenant_id", "shipment_id"],
            false,
        )
        .await?;

        manager
            .create_table(tenant_table(
                "fulfillment_settings",
                vec![
                    uuid_col(c("tenant_id")),
                    json_col("routing_weights"),
                    json_col("routing_rules"),
                    bool_col("auto_buy_labels"),
                    bool_col("warehouse_workflow"),
                    // cheapest, fastest, best_experience
                    text_col(c("label_pick")),
                    int_col("standard_promise_days"),
                    int_col("express_promise_days"),
                    // No scan for this many days: probably lost.
                    int_col("lost_after_days"),
                    int_col("wave_size"),
                    time_col(c("updated_at")),
                ],
                &["tenant_id"],
            ))
            .await?;

        for table in TABLES {
            rls::enable_tenant_rls(manager, table).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before the tables they point to.
        for table in [
            "fulfillment_settings",
            "pick_tasks",
            "waves",
            "delivery_exceptions",
            "tracking_events",
            "shipping_labels",
            "shipments",
            "carrier_services",
            "carrier_routes",
            "carriers",
        ] {
            manager
                .drop_table(Table::drop().table(c(table)).to_owned())
                .await?;
        }
        drop_columns(manager, "warehouses", warehouse_columns()).await?;
        drop_columns(manager, "orders", order_columns()).await?;
        Ok(())
    }
}
