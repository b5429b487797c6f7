//! KPI reads on a large shop: the demo shop with N orders (default 1,000,000) spread over the
//! last 365 days, each shipped and delivered in one parcel (one in fifty cancelled), and a
//! rating for one in five — written in bulk straight into the tables (the pipeline harness
//! measures the path that makes them), then timed:
//!
//! 1. a cold 30-day report (the period and the previous 30 days computed from the orders),
//! 2. the same report again (read from the stored day rollups),
//! 3. the rollup job over the whole year,
//! 4. a 365-day report against the year before, warm.
//!
//! ```sh
//! cargo run --release -p orderflow --example kpi_load -- 1000000
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p orderflow --example kpi_load -- 1000000
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Only the setup is used here, not the GraphQL client.
#[path = "support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::Instant;

use chrono::{Duration, Utc};
use entity::{order_reviews, orders, shipments};
use orderflow::reporting::service;
use orderflow::tenancy::{AnyTx, TenantTx};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;

const PER_STATEMENT: usize = 400;
const PER_TRANSACTION: usize = 10_000;

fn order(
    tenant: uuid::Uuid,
    i: u64,
    n: u64,
) -> (
    orders::ActiveModel,
    Option<shipments::ActiveModel>,
    uuid::Uuid,
) {
    let now = Utc::now();
    let span = Duration::days(365).num_seconds();
    let placed = now - Duration::days(365) + Duration::seconds(span * i as i64 / n as i64);
    let id = uuid::Uuid::now_v7();
    let cancelled = i.is_multiple_of(50);
    let total = (20 + (i % 180) as i64) * 10_000;
    let o = orders::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(id),
        channel: Set(["shopify", "woocommerce", "api"][(i % 3) as usize].into()),
        connection_id: Set(None),
        external_id: Set(format!("BULK-{i}")),
        source: Set("bulk".into()),
        name: Set(format!("#B{i}")),
        customer_id: Set(None),
        email: Set(Some(format!("c{}@bench.example", i % 200_000))),
        customer_name: Set(None),
        currency: Set("USD".into()),
        billing_address: Set(None),
        shipping_address: Set(None),
        subtotal_units: Set(total),
        discounts_units: Set(0),
        tax_units: Set(0),
        shipping_units: Set(0),
        total_units: Set(total),
        taxes_included: Set(false),
        shipping_lines: Set(json!([])),
        discounts: Set(json!([])),
        payment: Set(json!({})),
        client: Set(json!({})),
        tags: Set(json!([])),
        note: Set(None),
        financial_status: Set("paid".into()),
        fulfillment_status: Set(if cancelled {
            "unfulfilled"
        } else {
            "fulfilled"
        }
        .into()),
        state: Set(if cancelled { "cancelled" } else { "delivered" }.into()),
        issues: Set(json!([])),
        test: Set(false),
        placed_at: Set(placed),
        source_updated_at: Set(None),
        cancelled_at: Set(cancelled.then_some(placed)),
        cancel_reason: Set(None),
        created_at: Set(placed),
        updated_at: Set(placed),
        payment_verdict: Set(None),
        payment_decision: Set(None),
        fraud_score: Set(Some((i % 30) as i32)),
        fraud_level: Set(Some("low".into())),
        fraud_decision: Set(None),
        held_from: Set(None),
        hold_reason: Set(None),
        refund_due_units: Set(0),
        promised_at: Set(None),
        ship_by: Set(None),
        routing: Set(None),
        payment_reference: Set(None),
        assigned_warehouse: Set(None),
        assigned_service: Set(None),
    };
    if cancelled {
        return (o, None, id);
    }
    let shipped = placed + Duration::hours(1 + (i % 48) as i64);
    let delivered = shipped + Duration::hours(24 * (1 + (i % 5) as i64));
    let s = shipments::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(uuid::Uuid::now_v7()),
        order_id: Set(id),
        warehouse_id: Set(uuid::Uuid::nil()),
        carrier_id: Set(None),
        service_id: Set(None),
        parcel_no: Set(1),
        parcel_count: Set(1),
        status: Set(if delivered < now {
            "delivered"
        } else {
            "in_transit"
        }
        .into()),
        lines: Set(json!([])),
        weight_grams: Set(1000),
        volume_cm3: Set(6_000),
        zone: Set(Some(3)),
        currency: Set("USD".into()),
        cost_units: Set(Some(70_000)),
        tracking_number: Set(None),
        rates: Set(None),
        rate_pick: Set(None),
        promised_at: Set(Some(shipped + Duration::days(4))),
        estimated_at: Set(None),
        predicted_at: Set(None),
        prediction: Set(None),
        labelled_at: Set(Some(shipped)),
        shipped_at: Set(Some(shipped)),
        delivered_at: Set((delivered < now).then_some(delivered)),
        last_scan_at: Set(Some(shipped)),
        last_detail: Set(None),
        picked_at: Set(None),
        packed_at: Set(None),
        voided_at: Set(None),
        label_ref: Set(None),
        tracker_id: Set(None),
        tracking_url: Set(None),
        label_wait: Set(None),
        created_at: Set(placed),
        updated_at: Set(placed),
    };
    (o, Some(s), id)
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let bench = support::setup(2).await;
    let state = bench.state.clone();
    orderflow::demo::ensure_demo_tenant(&state).await.unwrap();
    let api = orderflow::demo::stream::api_for_demo(&state).await.unwrap();
    let shop = orderflow::demo::seed::ensure(&api).await.unwrap();
    let tenant = api.principal().tenant;
    let warehouse = orderflow::graphql::relay::decode_id(&shop.east, "Warehouse", "id").unwrap();
    println!("{}: writing {n} orders over 365 days…", bench.name);
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let tx = TenantTx::begin(&state.db, tenant).await.unwrap();
        let end = (i + PER_TRANSACTION as u64).min(n);
        let mut os = Vec::new();
        let mut ss = Vec::new();
        let mut rs = Vec::new();
        for k in i..end {
            let (o, s, id) = order(tenant.uuid(), k, n);
            if let Some(mut s) = s {
                s.warehouse_id = Set(warehouse);
                if k.is_multiple_of(5)
                    && let Set(Some(d)) = s.delivered_at.clone()
                {
                    rs.push(order_reviews::ActiveModel {
                        tenant_id: Set(tenant.uuid()),
                        order_id: Set(id),
                        rating: Set(1 + (k % 5) as i32),
                        comment: Set(None),
                        created_at: Set(d + Duration::hours(20)),
                        updated_at: Set(d + Duration::hours(20)),
                    });
                }
                ss.push(s);
            }
            os.push(o);
        }
        for chunk in os.chunks(PER_STATEMENT) {
            orders::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(tx.conn())
                .await
                .unwrap();
        }
        for chunk in ss.chunks(PER_STATEMENT) {
            shipments::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(tx.conn())
                .await
                .unwrap();
        }
        for chunk in rs.chunks(PER_STATEMENT) {
            order_reviews::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(tx.conn())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        i = end;
    }
    println!("  written in {:.1} s", started.elapsed().as_secs_f64());
    if state.config.is_postgres() {
        let db = sea_orm::Database::connect(state.config.database_url.expose().as_str())
            .await
            .unwrap();
        db.execute_unprepared("ANALYZE").await.unwrap();
        db.close().await.unwrap();
    }
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let month = today - chrono::Days::new(29);
    let time = |label: &str, t: Instant, r: &service::Report| {
        println!(
            "  {label}: {:.3} s ({} orders, {} delivered, median processing {:.1} h)",
            t.elapsed().as_secs_f64(),
            r.current.orders,
            r.current.deliveries,
            r.current.processing_median.unwrap_or_default() / 3600.0
        );
    };
    let t = Instant::now();
    let r = service::report(&state, tenant, month, today)
        .await
        .unwrap()
        .unwrap();
    time("30-day report, cold (60 days computed)", t, &r);
    let t = Instant::now();
    let r = service::report(&state, tenant, month, today)
        .await
        .unwrap()
        .unwrap();
    time("30-day report, warm", t, &r);
    let t = Instant::now();
    let run = service::roll_up(&state, tenant).await.unwrap();
    println!(
        "  rollup job over the year: {:.1} s ({} of {} days computed)",
        t.elapsed().as_secs_f64(),
        run.computed,
        run.days
    );
    let t = Instant::now();
    let r = service::report(&state, tenant, today - chrono::Days::new(364), today)
        .await
        .unwrap()
        .unwrap();
    time("365-day report against the year before, warm", t, &r);
    drop(api);
    bench.teardown().await;
}
