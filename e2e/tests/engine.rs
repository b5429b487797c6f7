//! The lifecycle engine across processes: `orderflow worker` processes share one queue with
//! `serve`; a worker killed with SIGKILL mid-run loses no order and applies no stage twice;
//! concurrent workers never promise a unit twice; a Redis outage delays nothing it can reach
//! and loses nothing.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use e2e::orderflow::{Environment, Orderflow};
use e2e::redis::RedisServer;
use serde_json::{Value, json};

const CREATE_ORDER: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { field message } } }";

struct Shop {
    token: String,
    warehouse: String,
}

async fn gql(app: &Orderflow, token: &str, query: &str, variables: Value) -> Value {
    let body = app.graphql(Some(token), query, variables).await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn shop(app: &Orderflow, name: &str, units: i64) -> Shop {
    let body = app
        .graphql(None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken userErrors { message } } }", json!({ "i": { "tenantName": name, "email": format!("owner@{name}.example"), "password": "correct horse battery staple" } }))
        .await
        .unwrap();
    let token = body["data"]["signUp"]["accessToken"]
        .as_str()
        .expect("signed up")
        .to_owned();
    let data = gql(app, &token, "mutation { createWarehouse(input: {code: \"MAIN\", name: \"Main\", address: {line1: \"1 Dock Road\", city: \"Leeds\", postalCode: \"LS1 4AP\", country: \"GB\"}}) { warehouse { id } userErrors { message } } }", json!({})).await;
    let warehouse = data["createWarehouse"]["warehouse"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(app, &token, "mutation { createProduct(input: {title: \"Lamp\", variants: [{sku: \"LAMP-1\", price: \"10.00\"}]}) { userErrors { message } } }", json!({})).await;
    if units > 0 {
        let data = gql(app, &token, "mutation($w: ID!, $q: Int!) { receiveStock(input: {sku: \"LAMP-1\", warehouseId: $w, quantity: $q}) { userErrors { message } } }", json!({ "w": warehouse, "q": units })).await;
        assert_eq!(data["receiveStock"]["userErrors"], json!([]));
    }
    Shop { token, warehouse }
}

/// Places `count` paid one-lamp orders numbered from `from`, 16 at a time.
async fn place(app: &Orderflow, shop: &Shop, from: usize, count: usize) {
    let (client, url, token) = (
        app.client().clone(),
        app.url("/graphql"),
        shop.token.clone(),
    );
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(from));
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let (client, url, token, next) = (client.clone(), url.clone(), token.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if n >= from + count {
                        return;
                    }
                    let input = json!({
                        "externalId": format!("E2E-{n}"), "email": format!("shopper{n}@example.com"),
                        "firstName": "Sam", "lastName": format!("Shopper{n}"),
                        "shippingAddress": { "line1": "2 High Street", "city": "York", "postalCode": "YO1 7HH", "country": "GB" },
                        "lines": [{ "sku": "LAMP-1", "quantity": 1 }],
                        "payment": { "status": "PAID", "amountCaptured": "10.00" }
                    });
                    let body: Value = client.post(&url).bearer_auth(&token).json(&json!({ "query": CREATE_ORDER, "variables": { "i": input } })).send().await.unwrap().json().await.unwrap();
                    assert_eq!(body["data"]["createOrder"]["userErrors"], json!([]), "{body}");
                }
            })
        })
        .collect();
    for s in senders {
        s.await.unwrap();
    }
}

/// Jobs of the tenant still to run (ready, in flight, retrying), by kind.
async fn pending(app: &Orderflow, shop: &Shop) -> i64 {
    let data = gql(
        app,
        &shop.token,
        "{ jobQueue { kind ready inFlight retrying } }",
        json!({}),
    )
    .await;
    data["jobQueue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == "order.advance")
        .map(|k| {
            k["ready"].as_i64().unwrap()
                + k["inFlight"].as_i64().unwrap()
                + k["retrying"].as_i64().unwrap()
        })
        .sum()
}

async fn wait_until_done(app: &Orderflow, shop: &Shop, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = pending(app, shop).await;
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{left} order jobs still pending after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Every order's state and how often each stage ran for it.
async fn audit(app: &Orderflow, shop: &Shop) -> Vec<(String, HashMap<String, usize>)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = gql(app, &shop.token, "query($a: String) { orders(first: 50, after: $a) { edges { cursor node { state events { kind } } } pageInfo { hasNextPage } } }", json!({ "a": after })).await;
        let edges = data["orders"]["edges"].as_array().unwrap();
        for e in edges {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for ev in e["node"]["events"].as_array().unwrap() {
                *counts
                    .entry(ev["kind"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
            out.push((e["node"]["state"].as_str().unwrap().to_owned(), counts));
        }
        if !data["orders"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return out;
        }
        after = edges
            .last()
            .map(|e| e["cursor"].as_str().unwrap().to_owned());
    }
}

/// Each order went through each stage exactly once; returns (allocated, backordered).
fn each_stage_once(orders: &[(String, HashMap<String, usize>)]) -> (usize, usize) {
    let (mut allocated, mut backordered) = (0, 0);
    for (state, counts) in orders {
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        assert_eq!(n("order.received"), 1, "{state} {counts:?}");
        assert_eq!(n("order.payment_verified"), 1, "{state} {counts:?}");
        assert_eq!(n("order.screened"), 1, "{state} {counts:?}");
        assert_eq!(
            n("order.allocated") + n("order.backordered"),
            1,
            "{state} {counts:?}"
        );
        match state.as_str() {
            "ALLOCATED" => allocated += 1,
            "BACKORDERED" => backordered += 1,
            other => panic!("an order ended in {other}: {counts:?}"),
        }
    }
    (allocated, backordered)
}

async fn stock(app: &Orderflow, shop: &Shop) -> (i64, i64) {
    let data = gql(
        app,
        &shop.token,
        "{ stockLevels(sku: \"LAMP-1\") { onHand reserved } }",
        json!({}),
    )
    .await;
    let level = &data["stockLevels"][0];
    (
        level["onHand"].as_i64().unwrap(),
        level["reserved"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_worker_killed_mid_run_loses_no_order_applies_no_stage_twice_and_nothing_is_oversold() {
    let mut env = Environment::new().await.unwrap();
    // SQLite has one writer: fewer orders keep the run short; PostgreSQL gets thousands.
    let orders = if env.describe().starts_with("postgres") {
        2000
    } else {
        400
    };
    let units = (orders * 3 / 4) as i64;
    env.set_env("ORDERFLOW_WORKERS", "1");
    let app = env.start().await.unwrap();
    let shop = shop(&app, "e2e-kill", units).await;
    let mut first = env.spawn_worker(4).unwrap();
    let _second = env.spawn_worker(4).unwrap();
    place(&app, &shop, 0, orders).await;
    // Kill a worker once it is well into the run.
    let deadline = Instant::now() + Duration::from_secs(120);
    while pending(&app, &shop).await > (orders as i64) / 2 {
        assert!(Instant::now() < deadline, "the workers made no progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.kill().unwrap();
    let _third = env.spawn_worker(4).unwrap();
    // Jobs the killed worker held come back when their lease (60 s) lapses.
    wait_until_done(&app, &shop, Duration::from_secs(300)).await;
    let all = audit(&app, &shop).await;
    assert_eq!(all.len(), orders, "every order is there");
    let (allocated, backordered) = each_stage_once(&all);
    assert_eq!(
        allocated as i64,
        units,
        "exactly the stock was promised ({})",
        env.describe()
    );
    assert_eq!(backordered, orders - units as usize);
    assert_eq!(stock(&app, &shop).await, (units, units));
    let _ = &shop.warehouse;
}

#[tokio::test]
async fn a_redis_outage_delays_jobs_but_loses_none() {
    let mut redis = RedisServer::start().unwrap();
    let mut env = Environment::new().await.unwrap();
    env.set_redis(&redis.url());
    env.set_env("ORDERFLOW_WORKERS", "2");
    let app = env.start().await.unwrap();
    let shop = shop(&app, "e2e-redis", 1000).await;
    let _worker = env.spawn_worker(2).unwrap();
    place(&app, &shop, 0, 60).await;
    wait_until_done(&app, &shop, Duration::from_secs(120)).await;

    redis.stop().unwrap();
    place(&app, &shop, 60, 60).await;
    wait_until_done(&app, &shop, Duration::from_secs(180)).await;

    // Back, empty: the stream and its consumer group are recreated.
    redis.resume().unwrap();
    place(&app, &shop, 120, 60).await;
    wait_until_done(&app, &shop, Duration::from_secs(180)).await;

    let all = audit(&app, &shop).await;
    assert_eq!(all.len(), 180);
    assert_eq!(each_stage_once(&all), (180, 0));
    assert_eq!(stock(&app, &shop).await, (1000, 180));
}
