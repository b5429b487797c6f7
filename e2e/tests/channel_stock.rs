//! One stock figure on every channel, on the real binary: a Shopify shop, a BigCommerce
//! store and an Amazon seller account list the kettle; a sale arriving from WooCommerce lowers
//! the kettle's figure on all three within seconds; a thousand stock changes in a burst end
//! with the right figure on each, in a bounded number of pushes. The channels are local
//! servers answering with the platforms' documented payloads.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::fixtures::{answer as body, json as fixture};
use e2e::orderflow::{Environment, Orderflow};
use e2e::remote_api::MockApi;
use e2e::shop;
use serde_json::json;

const SHOPIFY_SET: &str = "/admin/api/2026-07/graphql.json";
const BIG_SET: &str = "/stores/e2estore/v3/inventory/adjustments/absolute";
const AMAZON_SET: &str = "/listings/2021-08-01/items/A3SELLERID/KETTLE-1";
const WOO_SECRET: &str = "woocommerce secret for the e2e shop";

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

/// Amazon: Login with Amazon, an order that named the kettle (cancelled there: it holds no
/// stock; the sandbox's order and items), the kettle's listing read back (its documented
/// shape) and `patchListingsItem`'s recorded answer.
fn amazon(mock: &MockApi) {
    let ship_by = chrono::Utc::now() + chrono::Duration::days(2);
    e2e::fixtures::serve_amazon_order(mock, "Canceled", ship_by);
    mock.on(
        &format!("GET {AMAZON_SET}"),
        vec![body(&json!({
            "sku": "KETTLE-1",
            "summaries": [{ "marketplaceId": "ATVPDKIKX0DER", "asin": "B0KETTLE01", "itemName": "Kettle" }],
            "fulfillmentAvailability": [{ "fulfillmentChannelCode": "DEFAULT", "quantity": 4 }]
        }))],
    );
    mock.on(
        &format!("PATCH {AMAZON_SET}"),
        vec![body(
            &fixture(
                "amazon/writeback/sp_api_listings_2021-08-01_patchListingsItem_sandbox_200.json",
            )["response"]["body"],
        )],
    );
}

fn amazon_figures(mock: &MockApi) -> Vec<i64> {
    mock.json_sent("PATCH", AMAZON_SET)
        .iter()
        .map(|b| b["patches"][0]["value"][0]["quantity"].as_i64().unwrap())
        .collect()
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

/// The three channels' servers, and what each was told.
struct Channels {
    shopify: MockApi,
    big: MockApi,
    amazon: MockApi,
}

impl Channels {
    fn figures(&self) -> [Vec<i64>; 3] {
        [
            shopify_figures(&self.shopify),
            big_figures(&self.big),
            amazon_figures(&self.amazon),
        ]
    }
}

/// Waits until every channel was last told `figure`; how long that took.
async fn all_show(app: &Orderflow, channels: &Channels, figure: i64, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let told = channels.figures();
        if told.iter().all(|t| t.last() == Some(&figure)) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the channels never showed {figure}: Shopify, BigCommerce, Amazon {told:?}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn woo_sale(app: &Orderflow, token: &str, kettles: i64) {
    let c = app.mutate(token, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } userErrors { message } } }",
        json!({ "i": { "platform": "WOOCOMMERCE", "name": "Woo", "shopDomain": "woo.example.com", "webhookSecret": WOO_SECRET } })).await.unwrap();
    let path = c["channelConnection"]["webhookUrl"].as_str().unwrap();
    shop::woocommerce_sale(app, path, "woo.example.com", WOO_SECRET, kettles)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_sale_reaches_shopify_bigcommerce_and_amazon_and_a_burst_costs_few_pushes() {
    let channels = Channels {
        shopify: MockApi::spawn("x-shopify-access-token"),
        big: MockApi::spawn("x-auth-token"),
        amazon: MockApi::spawn("x-amz-access-token"),
    };
    shopify(&channels.shopify);
    bigcommerce(&channels.big);
    amazon(&channels.amazon);
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
            json!({ "accessToken": "shpat_stock_e2e", "apiUrl": channels.shopify.base }),
        ),
        (
            "BIGCOMMERCE",
            "e2estore",
            json!({ "storeHash": "e2estore", "accessToken": "bc_stock_e2e", "apiUrl": channels.big.base }),
        ),
        (
            "AMAZON",
            "A3SELLERID",
            json!({
                "clientId": "amzn1.application-oa2-client.e2e", "clientSecret": "lwa-secret", "refreshToken": "Atzr|e2e",
                "sellerId": "A3SELLERID", "marketplaceId": "ATVPDKIKX0DER",
                "apiUrl": channels.amazon.base, "tokenUrl": format!("{}/auth/o2/token", channels.amazon.base)
            }),
        ),
    ] {
        let c = app.mutate(t, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { id } userErrors { field message } } }",
            json!({ "i": { "platform": platform, "name": platform, "shopDomain": domain, "webhookSecret": "a channel secret for the e2e stock shop", "credentials": credentials } }))
            .await
            .unwrap();
        if platform == "AMAZON" {
            // Amazon's listings are the SKUs its orders named: read once the order is in.
            shop::order_named(&app, t, e2e::fixtures::AMAZON_ORDER).await;
            app.mutate(t, "checkChannelStock", "mutation($c: ID!) { checkChannelStock(input: {connectionId: $c}) { userErrors { message } } }",
                json!({ "c": c["channelConnection"]["id"] }))
                .await
                .unwrap();
        }
    }
    // Connected: each catalog is read, the kettle matched, its 20 units pushed to all three.
    all_show(&app, &channels, 20, Duration::from_secs(30)).await;
    let first = channels.big.json_sent("PUT", BIG_SET);
    assert_eq!(
        first[0]["items"],
        json!([{ "location_id": 1, "variant_id": 382, "quantity": 20 }])
    );

    // A sale of 3 on WooCommerce: every other channel shows 17 within seconds.
    let sold = Instant::now();
    woo_sale(&app, t, 3).await;
    all_show(&app, &channels, 17, Duration::from_secs(15)).await;
    let took = sold.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A thousand changes to the kettle, eight at a time: +2, −1, … (net +500).
    let before = channels.figures().map(|f| f.len());
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
    all_show(&app, &channels, 517, Duration::from_secs(30)).await;
    let settled = burst.elapsed();
    let after = channels.figures().map(|f| f.len());
    let pushes: Vec<usize> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    eprintln!(
        "sale to every channel: {took:?}; 1000 changes in {burst_took:?}, settled after {settled:?}: \
         Shopify, BigCommerce, Amazon pushes {pushes:?}"
    );
    // About one push a second while changes keep coming (the coalescing window), then the last.
    let bound = settled.as_secs() as usize + 3;
    for (channel, n) in ["Shopify", "BigCommerce", "Amazon"].iter().zip(&pushes) {
        assert!(*n <= bound, "{n} {channel} pushes for {settled:?}");
    }
}
