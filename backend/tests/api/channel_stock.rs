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
    // And counted among the day's KPIs.
    let today = chrono::Utc::now().date_naive();
    let kpis = app
        .gql(
            Some(&s.access),
            "query($f: NaiveDate!, $t: NaiveDate!) { kpis(from: $f, to: $t) { kpis { stockDriftCorrected } } }",
            json!({ "f": today - chrono::Duration::days(1), "t": today }),
        )
        .await;
    assert_eq!(
        kpis["data"]["kpis"]["kpis"]["stockDriftCorrected"], 1,
        "{kpis}"
    );
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

const FEEDS: &str = "/feeds/2021-06-30";

/// Amazon's listing of `sku` (`getListingsItem`, its documented shape: the SP-API models give
/// no example with `fulfillmentAvailability`), showing `quantity`.
fn amazon_listing(sku: &str, quantity: i64) -> Reply {
    body(json!({
        "sku": sku,
        "summaries": [{ "marketplaceId": "ATVPDKIKX0DER", "asin": format!("B0{sku}"), "itemName": format!("Item {sku}") }],
        "fulfillmentAvailability": [{ "fulfillmentChannelCode": "DEFAULT", "quantity": quantity }]
    }))
}

/// The feeds API: a document to upload to (Amazon's sandbox answer, its URL ours), the upload,
/// the feed (Amazon's 202, with `feed` as its id), read first in progress then done, and its
/// result document, gzipped as Amazon serves it: Amazon's processing report example, whose
/// refused SKUs are `refused`.
fn amazon_feeds(mock: &MockApi, feed: &str, refused: [&str; 2]) {
    let mut doc = fixture_json(
        "amazon/writeback/sp_api_feeds_2021-06-30_createFeedDocument_sandbox_201.json",
    );
    doc["response"]["body"]["url"] = json!(format!("{}/upload/{feed}", mock.base));
    mock.on(&format!("{FEEDS}/documents"), vec![reply(&doc)]);
    mock.on(&format!("/upload/{feed}"), vec![body(json!({}))]);
    let mut made =
        fixture_json("amazon/writeback/sp_api_feeds_2021-06-30_createFeed_sandbox_202.json");
    made["response"]["body"]["feedId"] = json!(feed);
    mock.on(&format!("{FEEDS}/feeds"), vec![reply(&made)]);
    let read = fixture_json("amazon/writeback/sp_api_feeds_2021-06-30_getFeed_sandbox_200.json");
    let mut running = read["response"]["body"].clone();
    running["feedId"] = json!(feed);
    running["feedType"] = json!("JSON_LISTINGS_FEED");
    running["processingStatus"] = json!("IN_PROGRESS");
    let mut done = running.clone();
    done["processingStatus"] = json!("DONE");
    done["resultFeedDocumentId"] = json!(format!("result-{feed}"));
    mock.on(
        &format!("{FEEDS}/feeds/{feed}"),
        vec![body(running), body(done)],
    );
    mock.on(
        &format!("{FEEDS}/documents/result-{feed}"),
        vec![body(json!({
            "feedDocumentId": format!("result-{feed}"),
            "url": format!("{}/reports/{feed}", mock.base),
            "compressionAlgorithm": "GZIP"
        }))],
    );
    let report = String::from_utf8(crate::connectors::fixture(
        "amazon/writeback/listings_feed_v2_processing_report_example.json",
    ))
    .unwrap()
    .replace("My-SKU-B", refused[0])
    .replace("My-SKU-C", refused[1]);
    use std::io::Write;
    let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    zipped.write_all(report.as_bytes()).unwrap();
    let mut r = Reply::json(zipped.finish().unwrap());
    r.headers = vec![("content-type", "application/octet-stream".into())];
    mock.on(&format!("/reports/{feed}"), vec![r]);
}

/// Runs the feed checks now, as if their wait were over.
async fn feed_checks_due(app: &TestApp) {
    owner_connection(app)
        .await
        .execute_unprepared(
            "UPDATE jobs SET run_at = '2001-01-01 00:00:00+00:00' WHERE kind = 'channel.stock_feed' AND status = 'queued'",
        )
        .await
        .unwrap();
    drain(app).await;
}

#[tokio::test]
async fn amazon_stock_of_many_skus_goes_as_one_listings_feed_whose_report_is_read() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-amz-access-token");
    let skus: Vec<String> = (1..=12).map(|i| format!("AMZ-{i:02}")).collect();
    let names: Vec<&str> = skus.iter().map(String::as_str).collect();
    crate::channel_push::amazon_api(
        &mock,
        &[(
            "902-1845936-5435065",
            chrono::Utc::now() + chrono::Duration::days(2),
            &names,
        )],
    );
    for sku in &skus {
        mock.on(
            &format!("/listings/2021-08-01/items/A3SELLERID/{sku}"),
            vec![amazon_listing(sku, 0)],
        );
    }
    amazon_feeds(&mock, "3485934", ["AMZ-02", "AMZ-03"]);
    let shop = shop(&app, "stock-amazon-feed", false).await;
    let s = &shop.owner;
    for sku in &skus {
        let made = crate::catalog::create_product(&app, s, json!({ "title": sku, "variants": [{ "sku": sku, "price": "10.00", "weightGrams": 300 }] })).await;
        assert_eq!(
            made["data"]["createProduct"]["userErrors"],
            json!([]),
            "{made}"
        );
        ok(&app, s, "receiveStock", "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 7}) { userErrors { field message } } }", json!({ "s": sku, "w": shop.east })).await;
    }
    let c = connect(
        &app,
        s,
        "AMAZON",
        "A3SELLERID",
        "",
        crate::channel_push::amazon_credentials(&mock),
    )
    .await;
    let c = c["id"].clone();
    // The order is polled and names the SKUs, which are read back as Amazon's listings.
    drain(&app).await;
    let check = app
        .gql(
            Some(&s.access),
            "mutation($c: ID!) { checkChannelStock(input: {connectionId: $c}) { userErrors { message } } }",
            json!({ "c": c }),
        )
        .await;
    assert!(check["errors"].is_null(), "{check}");
    drain(&app).await;
    settle(&app).await;

    // Twelve figures: one feed, not twelve patches.
    assert_eq!(
        mock.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, ..)| m == "PATCH")
            .count(),
        0
    );
    assert_eq!(
        mock.json_sent("POST", &format!("{FEEDS}/documents")),
        vec![json!({ "contentType": "application/json; charset=UTF-8" })]
    );
    let uploaded = mock.json_sent("PUT", "/upload/3485934");
    assert_eq!(uploaded.len(), 1);
    let messages = uploaded[0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 12, "{}", uploaded[0]);
    assert_eq!(uploaded[0]["header"]["sellerId"], "A3SELLERID");
    for m in messages {
        assert_eq!(m["operationType"], "PATCH");
        assert_eq!(
            m["patches"][0]["value"][0]["quantity"], 7,
            "the units free: {m}"
        );
    }
    assert_eq!(
        mock.json_sent("POST", &format!("{FEEDS}/feeds")),
        vec![json!({
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": "3d4e42b5-1d6e-44e8-a89c-2abfca0625bb"
        })]
    );
    let (summary, _, _) = stock_of(&app, s, &c).await;
    assert_eq!(summary["stale"], 0, "{summary}");

    // In progress at the first look; done at the next: two SKUs refused in Amazon's words.
    feed_checks_due(&app).await;
    assert_eq!(mock.hits(&format!("{FEEDS}/documents/result-3485934")), 0);
    feed_checks_due(&app).await;
    let (summary, listings, log) = stock_of(&app, s, &c).await;
    assert_eq!(summary["failing"], 2, "{summary}");
    for l in &listings {
        let sku = l["sku"].as_str().unwrap();
        if ["AMZ-02", "AMZ-03"].contains(&sku) {
            assert!(
                l["lastError"]
                    .as_str()
                    .unwrap()
                    .starts_with("Amazon: 90220 ")
                    || l["lastError"]
                        .as_str()
                        .unwrap()
                        .starts_with("Amazon: 99022 "),
                "{l}"
            );
            assert!(l["pushedQuantity"].is_null(), "{l}");
        } else {
            assert_eq!(l["pushedQuantity"], 7, "{l}");
            assert!(l["lastError"].is_null(), "{l}");
        }
    }
    assert_eq!(log[0]["kind"], "stock_feed", "{log:?}");
    assert_eq!(
        log[0]["summary"],
        "Amazon processed listings feed 3485934: 2 accepted, 2 refused"
    );

    // A feed Amazon cannot process leaves its SKUs stale, to be sent anew.
    amazon_feeds(&mock, "3485935", ["AMZ-02", "AMZ-03"]);
    let mut fatal =
        fixture_json("amazon/writeback/sp_api_feeds_2021-06-30_getFeed_sandbox_200.json");
    fatal["response"]["body"]["processingStatus"] = json!("FATAL");
    mock.on(&format!("{FEEDS}/feeds/3485935"), vec![reply(&fatal)]);
    for sku in &skus {
        adjust(&app, s, &shop.east, sku, -1).await;
    }
    settle(&app).await;
    assert_eq!(mock.json_sent("PUT", "/upload/3485935").len(), 1);
    feed_checks_due(&app).await;
    let (summary, listings, log) = stock_of(&app, s, &c).await;
    assert_eq!(summary["stale"], 12, "{summary}");
    assert!(
        listings
            .iter()
            .all(|l| l["lastError"] == "Amazon listings feed 3485935: FATAL"),
        "{listings:?}"
    );
    assert_eq!(log[0]["state"], "failed", "{log:?}");
}
