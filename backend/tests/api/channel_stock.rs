//! One stock figure on every channel (issue 21): a connection's catalog is read into the
//! listing map (matched by SKU, the rest waiting for staff), every stock change pushes the
//! SKU's available-to-sell in the platform's own bulk form, a burst of changes costs one
//! push, a drift found on the channel is counted and corrected, and a channel that limits
//! us for a minute delays the push without losing it. Against local servers answering with
//! the platforms' documented payloads.

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::connectors::fixture_json;
use crate::engine::drain;
use crate::fulfillment::{Shop, ok, shop};
use crate::helpers::{Session, TestApp, owner_connection, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};
use crate::webhooks::connect;

const API: &str = "/admin/api/2026-07";
/// The location and inventory item of Shopify's inventory level fixtures.
const LOCATION: i64 = 655441491;
const ITEM: i64 = 808950810;
/// An item no SKU of ours matches (Shopify's `inventory_level_connect` fixture's item).
const OTHER_ITEM: i64 = 457924702;

fn reply(exchange: &Value) -> Reply {
    let mut r = Reply::json(serde_json::to_vec(&exchange["response"]["body"]).unwrap());
    r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
    r
}

fn body(v: Value) -> Reply {
    Reply::json(serde_json::to_vec(&v).unwrap())
}

/// A Shopify shop selling KETTLE-1 (with the fixtures' inventory item) and one item we do
/// not have. Shopify publishes no recorded product or location list for 2026-07, nor an
/// `inventorySetQuantities` answer (see `WRITEBACK_SOURCES.md`), so those answers are written
/// here in the documented shapes; the inventory level list is Shopify's own.
fn shopify(mock: &MockApi) {
    mock.on(
        &format!("{API}/locations.json"),
        vec![body(
            json!({ "locations": [{ "id": LOCATION, "name": "Main", "active": true }] }),
        )],
    );
    mock.on(
        &format!("{API}/products.json"),
        vec![body(json!({ "products": [{
            "id": 632910392,
            "title": "Kettle",
            "variants": [
                { "id": 808950810, "title": "Default Title", "sku": "KETTLE-1", "inventory_item_id": ITEM },
                { "id": 457924702, "title": "Black", "sku": "KETTLE-BLACK", "inventory_item_id": OTHER_ITEM },
            ],
        }] }))],
    );
    mock.on(
        &format!("{API}/inventory_levels.json"),
        vec![reply(&fixture_json(
            "shopify/writeback/rest_2026-07_inventory_levels_list_by_item.json",
        ))],
    );
    mock.on(&format!("{API}/graphql.json"), vec![set_answer()]);
}

/// `inventorySetQuantities`' answer in the documented shape (Shopify publishes no recorded
/// one: see `WRITEBACK_SOURCES.md`).
fn set_answer() -> Reply {
    body(json!({
        "data": { "inventorySetQuantities": {
            "inventoryAdjustmentGroup": { "reason": "correction", "changes": [{ "name": "available", "delta": 19, "quantityAfterChange": null }] },
            "userErrors": []
        } },
        "extensions": { "cost": { "requestedQueryCost": 10, "actualQueryCost": 10, "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0 } } }
    }))
}

/// Every figure Shopify was told, in order: `{item, location, available}`.
fn sets(mock: &MockApi) -> Vec<Value> {
    let calls = mock.json_sent("POST", &format!("{API}/graphql.json"));
    let mut keys: Vec<&str> = calls
        .iter()
        .map(|c| c["variables"]["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), calls.len(), "an idempotency key per write");
    calls
        .iter()
        .flat_map(|c| {
            assert!(c["query"].as_str().unwrap().contains("@idempotent(key: $key)"));
            assert_eq!(c["variables"]["input"]["name"], "available");
            c["variables"]["input"]["quantities"].as_array().unwrap().clone()
        })
        .map(|q| {
            assert_eq!(q["changeFromQuantity"], Value::Null);
            let id = |v: &Value, kind: &str| {
                v.as_str().unwrap().strip_prefix(&format!("gid://shopify/{kind}/")).unwrap().parse::<i64>().unwrap()
            };
            json!({ "location_id": id(&q["locationId"], "Location"), "inventory_item_id": id(&q["inventoryItemId"], "InventoryItem"), "available": q["quantity"] })
        })
        .collect()
}

/// Waits out the coalescing window, then runs what is due.
async fn settle(app: &TestApp) {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    drain(app).await;
}

async fn adjust(app: &TestApp, s: &Session, warehouse: &str, sku: &str, delta: i64) {
    ok(app, s, "adjustStock", "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { field message } } }", json!({ "i": { "sku": sku, "warehouseId": warehouse, "delta": delta, "reason": "count" } })).await;
}

async fn stock_of(
    app: &TestApp,
    s: &Session,
    connection: &Value,
) -> (Value, Vec<Value>, Vec<Value>) {
    let body = app
        .gql(
            Some(&s.access),
            "query($c: ID!) { channelStock(connectionId: $c) { listed matched unmatched stale failing driftFound } channelListings(connectionId: $c) { edges { node { id sku variantId remoteInventoryItemId channelQuantity pushedQuantity stale driftCount lastError } } } channelStockLog(connectionId: $c) { kind state items changed summary answer } }",
            json!({ "c": connection }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let d = &body["data"];
    let listings = d["channelListings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    (
        d["channelStock"].clone(),
        listings,
        d["channelStockLog"].as_array().unwrap().clone(),
    )
}

async fn shopify_shop(app: &TestApp, slug: &str, mock: &MockApi) -> (Shop, Value) {
    let shop = shop(app, slug, false).await;
    let c = connect(
        app,
        &shop.owner,
        "SHOPIFY",
        &format!("{slug}.myshopify.com"),
        "shpss_stock_0123456789",
        json!({ "accessToken": "shpat_stock_0123456789", "apiUrl": mock.base }),
    )
    .await;
    (shop, c["id"].clone())
}

#[tokio::test]
async fn a_shopify_catalog_is_mapped_by_sku_and_each_stock_change_sets_its_level() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    shopify(&mock);
    let (shop, c) = shopify_shop(&app, "stock-shopify", &mock).await;
    let s = &shop.owner;
    // Connecting reads the catalog: the location, the products, their levels there.
    drain(&app).await;
    let (summary, listings, log) = stock_of(&app, s, &c).await;
    assert_eq!(summary["listed"], 2, "{summary}");
    assert_eq!(summary["matched"], 1, "{summary}");
    assert_eq!(summary["unmatched"], 1, "{summary}");
    let kettle = listings.iter().find(|l| l["sku"] == "KETTLE-1").unwrap();
    assert_eq!(kettle["remoteInventoryItemId"], ITEM.to_string());
    // Shopify's fixture: 1 available at this location.
    assert_eq!(kettle["channelQuantity"], 1);
    assert!(
        log[0]["summary"]
            .as_str()
            .unwrap()
            .contains("1 matched by SKU, 1 unmatched"),
        "{log:?}"
    );

    // The matched listing gets its figure: 10 at EAST + 10 at WEST.
    settle(&app).await;
    let sent = sets(&mock);
    assert_eq!(
        sent,
        vec![json!({ "location_id": LOCATION, "inventory_item_id": ITEM, "available": 20 })]
    );

    // A burst of changes to one SKU is one push of the final figure.
    for n in 0..12 {
        let w = if n % 2 == 0 { &shop.east } else { &shop.west };
        adjust(&app, s, w, "KETTLE-1", -1).await;
    }
    assert_eq!(
        sets(&mock).len(),
        1,
        "nothing is sent before the window closes"
    );
    settle(&app).await;
    let sent = sets(&mock);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["available"], 8);
    // A change to a SKU no channel lists sends nothing.
    adjust(&app, s, &shop.east, "SKU2006-020", 5).await;
    settle(&app).await;
    assert_eq!(sets(&mock).len(), 2);

    // The tenant's safety buffer is kept back from every channel; a variant may keep its own.
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {channelStockBuffer: 3}) { userErrors { field message } } }", json!({})).await;
    settle(&app).await;
    assert_eq!(sets(&mock).last().unwrap()["available"], 5);

    // Staff map the unmatched item to a SKU of ours: its figure is pushed at once.
    let (_, listings, _) = stock_of(&app, s, &c).await;
    let other = listings
        .iter()
        .find(|l| l["sku"] == "KETTLE-BLACK")
        .unwrap();
    assert_eq!(other["variantId"], Value::Null);
    let mapped = ok(&app, s, "mapChannelListing", "mutation($l: ID!) { mapChannelListing(input: {listingId: $l, sku: \"SKU2006-020\"}) { channelListing { variantId } userErrors { field message } } }", json!({ "l": other["id"] })).await;
    assert!(
        mapped["channelListing"]["variantId"].is_string(),
        "{mapped}"
    );
    settle(&app).await;
    let last = sets(&mock).last().unwrap().clone();
    // 10 + 10 + 5 received, less the buffer of 3.
    assert_eq!(
        last,
        json!({ "location_id": LOCATION, "inventory_item_id": OTHER_ITEM, "available": 22 })
    );
    let bad = app.gql(Some(&s.access), "mutation($l: ID!) { mapChannelListing(input: {listingId: $l, sku: \"NOPE\"}) { userErrors { field message } } }", json!({ "l": other["id"] })).await;
    assert_eq!(
        bad["data"]["mapChannelListing"]["userErrors"][0]["field"],
        json!(["input", "sku"]),
        "{bad}"
    );

    // The drift check reads the channel again: Shopify still says 1 where 5 was pushed.
    ok(&app, s, "checkChannelStock", "mutation($c: ID!) { checkChannelStock(input: {connectionId: $c}) { queued userErrors { field message } } }", json!({ "c": c })).await;
    drain(&app).await;
    let (summary, _, log) = stock_of(&app, s, &c).await;
    // (Shopify's fixture has no level for the other item: nothing to compare there.)
    assert_eq!(summary["driftFound"], 1, "{summary}");
    let drift = log.iter().find(|l| l["kind"] == "drift").unwrap();
    assert_eq!(drift["changed"], 1, "{drift}");
    let before = sets(&mock).len();
    settle(&app).await;
    let sent = sets(&mock);
    assert_eq!(sent.len(), before + 1, "{sent:?}");
    assert_eq!(
        sent[before],
        json!({ "location_id": LOCATION, "inventory_item_id": ITEM, "available": 5 })
    );
    let (summary, _, log) = stock_of(&app, s, &c).await;
    assert_eq!(summary["stale"], 0, "{summary}");
    assert!(
        log.iter()
            .any(|l| l["kind"] == "stock" && l["state"] == "sent"),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_channel_limiting_us_for_a_minute_delays_the_push_and_loses_nothing() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    shopify(&mock);
    mock.on(
        &format!("{API}/graphql.json"),
        vec![Reply::status(429).with("Retry-After", "60"), set_answer()],
    );
    let (shop, c) = shopify_shop(&app, "stock-limited", &mock).await;
    let s = &shop.owner;
    drain(&app).await;
    settle(&app).await;
    // Asked once, answered "in 60 seconds": the push waits that long, the listing stays stale.
    assert_eq!(mock.hits(&format!("{API}/graphql.json")), 1);
    let (summary, _, log) = stock_of(&app, s, &c).await;
    assert_eq!(summary["stale"], 1, "{summary}");
    assert_eq!(log[0]["state"], "waiting", "{log:?}");
    assert!(
        log[0]["answer"].as_str().unwrap().contains("429"),
        "{log:?}"
    );
    let db = owner_connection(&app).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'channel.stock' AND status = 'queued' AND run_at > CURRENT_TIMESTAMP",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 1);
    // Meanwhile the stock moves; once the minute is over, the latest figure goes out.
    adjust(&app, s, &shop.west, "KETTLE-1", -4).await;
    drain(&app).await;
    assert_eq!(
        mock.hits(&format!("{API}/graphql.json")),
        1,
        "nothing before the minute"
    );
    db.execute_unprepared(
        "UPDATE jobs SET run_at = '2001-01-01 00:00:00+00:00' WHERE kind = 'channel.stock'",
    )
    .await
    .unwrap();
    drain(&app).await;
    let sent = sets(&mock);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["available"], 16);
    let (summary, _, _) = stock_of(&app, s, &c).await;
    assert_eq!(summary["stale"], 0, "{summary}");
}

/// WooCommerce's batch answers, with the product of its update example standing in for ours.
fn woo(mock: &MockApi) {
    let mut product =
        fixture_json("woocommerce/writeback/product_update_794.json")["response"]["body"].clone();
    product["sku"] = json!("KETTLE-1");
    product["manage_stock"] = json!(true);
    product["stock_quantity"] = json!(3);
    mock.on(
        "/wp-json/wc/v3/products",
        vec![body(json!([product.clone()]))],
    );
    let mut batch = fixture_json("woocommerce/writeback/products_batch.json");
    let mut updated = product;
    updated["stock_quantity"] = json!(20);
    batch["response"]["body"]["update"] = json!([updated]);
    mock.on("/wp-json/wc/v3/products/batch", vec![reply(&batch)]);
}

#[tokio::test]
async fn woocommerce_stock_goes_out_as_one_batch_update() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    woo(&mock);
    let shop = shop(&app, "stock-woo", false).await;
    let s = &shop.owner;
    let c = connect(
        &app,
        s,
        "WOOCOMMERCE",
        "stock-woo.example.com",
        "woo_secret_0123456789",
        json!({ "consumerKey": "ck_stock", "consumerSecret": "cs_stock", "apiUrl": mock.base }),
    )
    .await;
    drain(&app).await;
    settle(&app).await;
    let sent = mock.json_sent("POST", "/wp-json/wc/v3/products/batch");
    assert_eq!(
        sent,
        vec![json!({ "update": [{ "id": 794, "manage_stock": true, "stock_quantity": 20 }] })]
    );
    let (summary, listings, _) = stock_of(&app, s, &c["id"]).await;
    assert_eq!(summary["matched"], 1, "{summary}");
    assert_eq!(listings[0]["pushedQuantity"], 20, "{listings:?}");
    assert_eq!(listings[0]["lastError"], Value::Null, "{listings:?}");
    // The connection's stock share: half of the free stock.
    ok(&app, s, "updateChannelConnection", "mutation($c: ID!) { updateChannelConnection(input: {id: $c, stockShare: 50}) { userErrors { field message } } }", json!({ "c": c["id"] })).await;
    drain(&app).await;
    settle(&app).await;
    let sent = mock.json_sent("POST", "/wp-json/wc/v3/products/batch");
    assert_eq!(
        sent.last().unwrap()["update"][0]["stock_quantity"],
        10,
        "{sent:?}"
    );
    // WooCommerce's answer still says 20: the item is marked refused, in its words.
    let (summary, listings, _) = stock_of(&app, s, &c["id"]).await;
    assert_eq!(summary["failing"], 1, "{summary}");
    assert!(
        listings[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("holds 20 after setting 10"),
        "{listings:?}"
    );
    // A refused item is not sent again and again: it waits for its SKU's next change.
    assert_eq!(summary["stale"], 0, "{summary}");
    settle(&app).await;
    assert_eq!(
        mock.json_sent("POST", "/wp-json/wc/v3/products/batch")
            .len(),
        2
    );
    adjust(&app, s, &shop.east, "KETTLE-1", -2).await;
    settle(&app).await;
    let sent = mock.json_sent("POST", "/wp-json/wc/v3/products/batch");
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2]["update"][0]["stock_quantity"], 9);
    let bad = app.gql(Some(&s.access), "mutation($c: ID!) { updateChannelConnection(input: {id: $c, stockShare: 0}) { userErrors { field message } } }", json!({ "c": c["id"] })).await;
    assert_eq!(
        bad["data"]["updateChannelConnection"]["userErrors"][0]["field"],
        json!(["input", "stockShare"]),
        "{bad}"
    );
}
