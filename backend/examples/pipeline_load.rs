//! Load harness for the lifecycle engine: orders per second from capture (GraphQL
//! `createOrder`) through payment verification, fraud screening and stock allocation, on the
//! configured database (and Redis, when REDIS_URL is set).
//!
//! ```sh
//! cargo run --release -p orderflow --example pipeline_load -- 5000 32 8
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo run --release -p orderflow --example pipeline_load -- 5000 32 8
//! ```
//! Arguments: orders (default 3000), concurrent API clients (default 32), job workers
//! (default 8), and `fulfil` to set up a carrier so that orders are also routed and labelled
//! (a label PDF and ZPL each) before they count as done. Three figures: capture alone (workers off), the engine alone (the captured
//! backlog drained by the workers), and both at once (a second batch of orders, captured while
//! the workers run, until the last is allocated). Everything stays on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use orderflow::app;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

const SKUS: usize = 50;

async fn count(db: &DatabaseConnection, sql: &str) -> usize {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() as usize
}

/// Orders that went through every automated stage: allocated (or, with carriers, routed and
/// labelled: shipped), or waiting for stock.
async fn done(db: &DatabaseConnection, fulfil: bool) -> usize {
    let sql = if fulfil {
        "SELECT COUNT(*) AS n FROM orders WHERE state IN ('shipped', 'backordered')"
    } else {
        "SELECT COUNT(*) AS n FROM orders WHERE state IN ('allocated', 'backordered')"
    };
    count(db, sql).await
}

fn order(n: usize) -> Value {
    let sku = format!("BENCH-{}", n % SKUS);
    let quantity = 1 + n % 3;
    let total = format!("{}.00", 25 * quantity);
    json!({
        "externalId": format!("BENCH-{n}"), "email": format!("shopper{n}@example.com"),
        "firstName": "Bench", "lastName": format!("Shopper{n}"),
        "shippingAddress": { "line1": "2 High Street", "city": "York", "postalCode": "YO1 7HH", "country": "GB" },
        "billingAddress": { "line1": "2 High Street", "city": "York", "postalCode": "YO1 7HH", "country": "GB" },
        "lines": [{ "sku": sku, "quantity": quantity }],
        "client": { "ip": format!("198.51.100.{}", n % 250), "deviceId": format!("device-{n}") },
        "payment": { "status": "PAID", "amountCaptured": total, "avsResult": "Y", "cvvResult": "M", "cardBrand": "visa", "cardLast4": format!("{:04}", n % 10_000) }
    })
}

async fn capture(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> usize {
    futures_util::stream::iter(range)
        .map(|n| {
            let (client, base, token) = (client.clone(), base.to_owned(), token.to_owned());
            async move {
                let body = support::gql(&client, &base, Some(&token), "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { message } } }", json!({ "i": order(n) })).await;
                usize::from(body["data"]["createOrder"]["order"]["id"].is_string())
            }
        })
        .buffer_unordered(concurrency)
        .fold(0, |n, ok| async move { n + ok })
        .await
}

async fn wait_for(db: &DatabaseConnection, target: usize, fulfil: bool) {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while done(db, fulfil).await < target {
        assert!(Instant::now() < deadline, "the engine stalled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn rate(n: usize, d: Duration) -> String {
    format!(
        "{n} in {:.2}s = {:.0}/s",
        d.as_secs_f64(),
        n as f64 / d.as_secs_f64()
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let orders: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let workers: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(8);
    let fulfil = args.get(4).is_some_and(|a| a == "fulfil");
    let bench = support::setup(workers).await;
    let state = bench.state.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    // Workers off at first: capture is measured alone.
    let running = app::start(state.clone(), listener, false).unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let db = Database::connect(state.config.database_url.expose().as_str())
        .await
        .unwrap();

    let signed = support::must(&client, &base, None, "mutation { signUp(input: {tenantName: \"Bench\", email: \"bench@example.com\", password: \"bench password 1234\"}) { accessToken } }", json!({})).await;
    let token = signed["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut warehouses = Vec::new();
    for code in ["NORTH", "SOUTH"] {
        let body = support::must(&client, &base, Some(&token), "mutation($c: String!) { createWarehouse(input: {code: $c, name: $c, address: {line1: \"1 Dock Road\", city: \"Leeds\", postalCode: \"LS1 4AP\", country: \"GB\"}}) { warehouse { id } } }", json!({ "c": code })).await;
        warehouses.push(
            body["data"]["createWarehouse"]["warehouse"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Enough stock for nine in ten orders: the rest exercise backorders.
    let per_sku = (orders * 2 * 2 * 9 / 10 / SKUS / warehouses.len()).max(1);
    for s in 0..SKUS {
        let sku = format!("BENCH-{s}");
        support::must(&client, &base, Some(&token), "mutation($s: String!) { createProduct(input: {title: $s, variants: [{sku: $s, price: \"25.00\"}]}) { userErrors { message } } }", json!({ "s": sku })).await;
        for w in &warehouses {
            support::must(&client, &base, Some(&token), "mutation($s: String!, $w: ID!, $q: Int!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: $q}) { userErrors { message } } }", json!({ "s": sku, "w": w, "q": per_sku })).await;
        }
    }
    if fulfil {
        let c = support::must(&client, &base, Some(&token), "mutation { createCarrier(input: {code: \"royal\", name: \"Royal Parcel\", trackingFormat: S10, trackingSource: ORDERFLOW, webhookSecret: \"bench-tracking-webhook-secret\"}) { carrier { id } userErrors { message } } }", json!({})).await;
        let zones: Vec<Value> = (1..=9).map(|z| json!({ "zone": z, "transitDays": 1 + z / 3, "brackets": [{ "upToGrams": 2000, "price": format!("{}.95", 2 + z) }], "extraPerKg": "0.80" })).collect();
        support::must(&client, &base, Some(&token), "mutation($c: ID!, $r: RateCardInput!) { createCarrierService(input: {carrierId: $c, code: \"tracked48\", name: \"Tracked 48\", currency: \"GBP\", rateCard: $r, cutoff: \"23:59\"}) { userErrors { message } } }", json!({ "c": c["data"]["createCarrier"]["carrier"]["id"], "r": { "zones": zones } })).await;
    }
    // The restock jobs of the receipts above are not part of the measurement.
    db.execute_unprepared("DELETE FROM jobs WHERE kind = 'inventory.restocked'")
        .await
        .unwrap();

    let started = Instant::now();
    let captured = capture(&client, &base, &token, 0..orders, concurrency).await;
    let capture_time = started.elapsed();

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let tasks = orderflow::jobs::spawn_all(state.clone(), stop_rx);
    let started = Instant::now();
    wait_for(&db, captured, fulfil).await;
    let engine_time = started.elapsed();

    let started = Instant::now();
    let captured_too = capture(&client, &base, &token, orders..2 * orders, concurrency).await;
    let capture_too_time = started.elapsed();
    let done_at_capture = done(&db, fulfil).await - captured;
    wait_for(&db, captured + captured_too, fulfil).await;
    let both_time = started.elapsed();

    let backordered = count(
        &db,
        "SELECT COUNT(*) AS n FROM orders WHERE state = 'backordered'",
    )
    .await;
    let oversold = count(
        &db,
        "SELECT COUNT(*) AS n FROM stock_levels WHERE reserved > on_hand",
    )
    .await;
    let labels = count(&db, "SELECT COUNT(*) AS n FROM shipping_labels").await;
    println!(
        "{}: {workers} workers, {concurrency} API clients, {} CPUs{}",
        bench.name,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if fulfil {
            format!(", routing and labels on ({labels} labels made)")
        } else {
            String::new()
        }
    );
    println!(
        "  capture alone (createOrder, workers off):      {}",
        rate(captured, capture_time)
    );
    println!(
        "  engine alone (payment, fraud, allocation{}): {}",
        if fulfil { ", routing, label" } else { "" },
        rate(captured, engine_time)
    );
    println!(
        "  capture and engine together, end to end:       {}",
        rate(captured_too, both_time)
    );
    println!(
        "    (capture took {:.2}s; {done_at_capture} of its orders were through the engine by then)",
        capture_too_time.as_secs_f64()
    );
    println!(
        "  backordered: {backordered} of {}; stock levels oversold: {oversold}",
        captured + captured_too
    );
    let _ = stop.send(true);
    for t in tasks {
        let _ = t.await;
    }
    running.stop().await;
    drop((state, db));
    bench.teardown().await;
}
