//! Load harness: how many channel webhooks per second Orderflow accepts (signature verified,
//! stored, job enqueued) and then maps into orders, on the configured database.
//!
//! ```sh
//! cargo run --release -p orderflow --example webhook_load -- 3000 32
//! DATABASE_URL=postgres://postgres@127.0.0.1/postgres REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo run --release -p orderflow --example webhook_load -- 3000 32
//! ```
//! Arguments: number of orders (default 2000), concurrent senders (default 32). With a
//! PostgreSQL URL a fresh database is created on that server for the run. Everything stays
//! on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use orderflow::app;
use orderflow::infra::signature::sign_base64;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const SECRET: &str = "load-test webhook secret 0123456789";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let orders: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let bench = support::setup(8).await;
    let state = bench.state.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let running = app::start(state.clone(), listener, true).unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    let signed = support::must(&client, &base, None, "mutation { signUp(input: {tenantName: \"Bench\", email: \"bench@example.com\", password: \"bench password 1234\"}) { accessToken } }", json!({})).await;
    let token = signed["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let connected = support::must(&client, &base, Some(&token), "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } } }",
        json!({ "i": { "platform": "SHOPIFY", "name": "Bench", "shopDomain": "bench.myshopify.com", "webhookSecret": SECRET, "credentials": { "accessToken": "x" } } })).await;
    let path = connected["data"]["createChannelConnection"]["channelConnection"]["webhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();

    // Shopify's own orders/create sample, one distinct order per delivery.
    let fixture: Value = serde_json::from_str(include_str!(
        "../tests/fixtures/shopify/webhook_orders_create.json"
    ))
    .unwrap();
    let bodies: Vec<Vec<u8>> = (0..orders)
        .map(|i| {
            let mut o = fixture.clone();
            o["id"] = json!(5_000_000_000_000u64 + i as u64);
            o["name"] = json!(format!("#B{i}"));
            o["cancelled_at"] = Value::Null;
            // Distinct shoppers, as in real traffic (identical orders would all be checked
            // against each other as likely duplicates).
            o["email"] = json!(format!("shopper{i}@example.com"));
            o["customer"]["id"] = json!(7_000_000_000_000u64 + i as u64);
            serde_json::to_vec(&o).unwrap()
        })
        .collect();
    let url = format!("{base}{path}");
    let started = Instant::now();
    let accepted: usize = futures_util::stream::iter(bodies.into_iter().enumerate())
        .map(|(i, body)| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let sig = sign_base64(SECRET, &body);
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("X-Shopify-Topic", "orders/create")
                    .header("X-Shopify-Hmac-Sha256", sig)
                    .header("X-Shopify-Webhook-Id", format!("bench-{i}"))
                    .body(body)
                    .send()
                    .await;
                usize::from(res.is_ok_and(|r| r.status().is_success()))
            }
        })
        .buffer_unordered(concurrency)
        .fold(0, |n, ok| async move { n + ok })
        .await;
    let accept_time = started.elapsed();

    // Wait for the workers to map every delivery into an order.
    let db = Database::connect(state.config.database_url.expose().as_str())
        .await
        .unwrap();
    let count = |table: &'static str| {
        let db = &db;
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT COUNT(*) AS n FROM {table}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap() as usize
        }
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while count("orders").await < accepted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total_time = started.elapsed();
    let mapped = count("orders").await;
    println!(
        "{}: {orders} Shopify orders/create webhooks, {concurrency} concurrent senders",
        bench.name
    );
    println!(
        "  accepted (verified, stored, job enqueued): {accepted} in {:.2}s = {:.0}/s",
        accept_time.as_secs_f64(),
        accepted as f64 / accept_time.as_secs_f64()
    );
    println!(
        "  mapped into orders (end to end):           {mapped} in {:.2}s = {:.0}/s",
        total_time.as_secs_f64(),
        mapped as f64 / total_time.as_secs_f64()
    );
    running.stop().await;
    drop((state, db));
    bench.teardown().await;
}
