//! One stock figure on every channel, on the real binary: a Shopify shop and a BigCommerce
//! store list the kettle; a sale arriving from WooCommerce lowers the kettle's figure on
//! both within seconds; a thousand stock changes in a burst end with the right figure on
//! both, in a bounded number of pushes. The channels are local servers answering with the
//! platforms' documented payloads.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use base64::Engine;
use e2e::orderflow::{Environment, Orderflow};
use e2e::remote_api::{MockApi, Reply};
use e2e::shop;
use hmac::Mac;
use serde_json::{Value, json};

const SHOPIFY_SET: &str = "/admin/api/2026-07/graphql.json";
const BIG_SET: &str = "/stores/e2estore/v3/inventory/adjustments/absolute";
const WOO_SECRET: &str = "woocommerce secret for the e2e shop";

fn fixture(path: &str) -> Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/fixtures")
        .join(path);
    serde_json::from_slice(&std::fs::read(full).unwrap()).unwrap()
}

fn body(v: &Value) -> Reply {
    Reply::json(serde_json::to_vec(v).unwrap())
}

/// Shopify: a location, the kettle's product and `inventorySetQuantities`' answer (written in
/// the documented shapes: Shopify publishes no recorded ones), its level there (Shopify's own).
fn shopify(mock: &MockApi) {
    let api = "/admin/api/2026-07";
    mock.on(
        &format!("{api}/locations.json"),
        vec![body(
            &json!({ "locations": [{ "id": 655441491, "active": true }] }),
        )],
    );
    mock.on(
        &format!("{api}/products.json"),
        vec![body(&json!({ "products": [{ "id": 632910392, "title": "Kettle", "variants": [
            { "id": 808950810, "title": "Default Title", "sku": "KETTLE-1", "inventory_item_id": 808950810 }
        ] }] }))],
    );
    mock.on(
        &format!("{api}/inventory_levels.json"),
        vec![body(
            &fixture("shopify/writeback/rest_2026-07_inventory_levels_list_by_item.json")["response"]["body"],
        )],
    );
    mock.on(
        SHOPIFY_SET,
        vec![body(&json!({ "data": { "inventorySetQuantities": {
            "inventoryAdjustmentGroup": { "reason": "correction", "changes": [] }, "userErrors": []
        } } }))],
    );
}

/// BigCommerce: the kettle's variant (the catalog API's documented shape) and the absolute
/// adjustment's answer (its schema, `SimpleTransactionResponse`: BigCommerce gives no example).
fn bigcommerce(mock: &MockApi) {
    mock.on(
        "/stores/e2estore/v3/catalog/variants",
        vec![body(&json!({
            "data": [{ "id": 382, "product_id": 111, "sku": "KETTLE-1", "inventory_level": 4, "option_values": [] }],
            "meta": { "pagination": { "total": 1, "count": 1, "per_page": 250, "current_page": 1, "total_pages": 1 } }
        }))],
    );
    mock.on(
        BIG_SET,
        vec![body(
            &json!({ "transaction_id": "a3a1e8b2-8c7e-4a36-9d3b-3b0cf1d0e6b1" }),
        )],
    );
}

fn shopify_figures(mock: &MockApi) -> Vec<i64> {
    mock.json_sent("POST", SHOPIFY_SET)
        .iter()
        .map(|b| {
            b["variables"]["input"]["quantities"][0]["quantity"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

fn big_figures(mock: &MockApi) -> Vec<i64> {
    mock.json_sent("PUT", BIG_SET)
        .iter()
        .map(|b| b["items"][0]["quantity"].as_i64().unwrap())
        .collect()
}

/// Waits until both channels were last told `figure`; how long that took.
async fn both_show(
    app: &Orderflow,
    shopify: &MockApi,
    big: &MockApi,
    figure: i64,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let (s, b) = (shopify_figures(shopify), big_figures(big));
        if s.last() == Some(&figure) && b.last() == Some(&figure) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the channels never showed {figure}: Shopify {s:?}, BigCommerce {b:?}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn woo_sale(app: &Orderflow, token: &str, kettles: i64) {
    let c = app.mutate(token, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } userErrors { message } } }",
        json!({ "i": { "platform": "WOOCOMMERCE", "name": "Woo", "shopDomain": "woo.example.com", "webhookSecret": WOO_SECRET } })).await.unwrap();
    let mut o = fixture("woocommerce/order_created_727_wp_api_v3.json");
    o["line_items"][0]["sku"] = json!("KETTLE-1");
    o["line_items"][0]["quantity"] = json!(kettles);
    o["line_items"][1]["sku"] = json!("SKU2006-020");
    let payload = serde_json::to_vec(&o).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(WOO_SECRET.as_bytes()).unwrap();
    mac.update(&payload);
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let res = app
        .client()
        .post(app.url(c["channelConnection"]["webhookUrl"].as_str().unwrap()))
        .header("content-type", "application/json")
        .header("X-WC-Webhook-Topic", "order.created")
        .header("X-WC-Webhook-Signature", signature)
        .header("X-WC-Webhook-Delivery-ID", "e2e-stock-1")
        .header("X-WC-Webhook-Source", "https://woo.example.com/")
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_sale_reaches_shopify_and_bigcommerce_and_a_burst_costs_few_pushes() {
    let (shopify_api, big_api) = (
        MockApi::spawn("x-shopify-access-token"),
        MockApi::spawn("x-auth-token"),
    );
    shopify(&shopify_api);
    bigcommerce(&big_api);
    let mut env = Environment::new().await.unwrap();
    env.set_env("ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK", "true");
    let app = env.start().await.unwrap();
    let shop = shop::open(&app, "Stock Shop", "owner@stock-shop.example")
        .await
        .unwrap();
    let t = shop.token.as_str();
    for (platform, domain, credentials) in [
        (
            "SHOPIFY",
            "stock.myshopify.com",
            json!({ "accessToken": "shpat_stock_e2e", "apiUrl": shopify_api.base }),
        ),
        (
            "BIGCOMMERCE",
            "e2estore",
            json!({ "storeHash": "e2estore", "accessToken": "bc_stock_e2e", "apiUrl": big_api.base }),
        ),
    ] {
        app.mutate(t, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { id } userErrors { field message } } }",
            json!({ "i": { "platform": platform, "name": platform, "shopDomain": domain, "webhookSecret": "a channel secret for the e2e stock shop", "credentials": credentials } }))
            .await
            .unwrap();
    }
    // Connected: each catalog is read, the kettle matched, its 20 units pushed to both.
    both_show(&app, &shopify_api, &big_api, 20, Duration::from_secs(30)).await;
    let first = big_api.json_sent("PUT", BIG_SET);
    assert_eq!(
        first[0]["items"],
        json!([{ "location_id": 1, "variant_id": 382, "quantity": 20 }])
    );

    // A sale of 3 on WooCommerce: both other channels show 17 within seconds.
    let sold = Instant::now();
    woo_sale(&app, t, 3).await;
    both_show(&app, &shopify_api, &big_api, 17, Duration::from_secs(15)).await;
    let took = sold.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A thousand changes to the kettle, eight at a time: +2, −1, … (net +500).
    let (shopify_before, big_before) = (
        shopify_figures(&shopify_api).len(),
        big_figures(&big_api).len(),
    );
    let burst = Instant::now();
    let changes: Vec<i64> = (0..1000).map(|i| if i % 2 == 0 { 2 } else { -1 }).collect();
    for chunk in changes.chunks(8) {
        let calls = chunk.iter().map(|delta| {
            app.mutate(t, "adjustStock", "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { field message } } }",
                json!({ "i": { "sku": "KETTLE-1", "warehouseId": shop.warehouse, "delta": delta, "reason": "burst" } }))
        });
        for r in futures_util::future::join_all(calls).await {
            r.unwrap();
        }
    }
    let burst_took = burst.elapsed();
    both_show(&app, &shopify_api, &big_api, 517, Duration::from_secs(30)).await;
    let settled = burst.elapsed();
    let shopify_pushes = shopify_figures(&shopify_api).len() - shopify_before;
    let big_pushes = big_figures(&big_api).len() - big_before;
    eprintln!(
        "sale to both channels: {took:?}; 1000 changes in {burst_took:?}, settled after {settled:?}: \
         {shopify_pushes} Shopify pushes, {big_pushes} BigCommerce pushes"
    );
    // About one push a second while changes keep coming (the coalescing window), then the last.
    let bound = settled.as_secs() as usize + 3;
    assert!(
        shopify_pushes <= bound,
        "{shopify_pushes} Shopify pushes for {settled:?}"
    );
    assert!(
        big_pushes <= bound,
        "{big_pushes} BigCommerce pushes for {settled:?}"
    );
}
