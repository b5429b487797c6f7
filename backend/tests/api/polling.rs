//! Polled channels: Amazon through Login with Amazon and the SP-API, Etsy through its v3 API,
//! both on loopback stand-ins serving the platforms' own payloads; the cursor advances and a
//! re-read stores nothing twice.

use orderflow::jobs::worker;
use serde_json::json;

use crate::connectors::fixture;
use crate::helpers::{count_rows, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};
use crate::webhooks::connect_orders_only;

const SYNC: &str = "mutation($id: ID!) { syncChannelConnection(input: {id: $id}) { channelConnection { lastSyncedAt lastError } userErrors { field code } } }";

#[tokio::test]
async fn amazon_orders_are_polled_with_an_lwa_token_and_captured_once() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app
        .sign_up("Amazon Seller", "owner@amazon-seller.example")
        .await;
    let api = MockApi::spawn("x-amz-access-token");
    api.on(
        "/auth/o2/token",
        vec![Reply::json(
            br#"{"access_token":"Atza|lwa-token","token_type":"bearer","expires_in":3600}"#
                .to_vec(),
        )],
    );
    // getOrders answers with the sandbox order (rate-limited once), getOrderItems with its items.
    let orders = serde_json::json!({ "payload": { "Orders": [serde_json::from_slice::<serde_json::Value>(&fixture("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json")).unwrap()["payload"]] } });
    api.on(
        "/orders/v0/orders",
        vec![
            Reply::status(429),
            Reply::json(serde_json::to_vec(&orders).unwrap()),
        ],
    );
    api.on(
        "/orders/v0/orders/902-1845936-5435065/orderItems",
        vec![Reply::json(fixture(
            "amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json",
        ))],
    );
    // The sandbox order has no address: it is read with a restricted data token.
    api.on(
        "/tokens/2021-03-01/restrictedDataToken",
        vec![Reply::json(
            br#"{"restrictedDataToken":"Atz.sprdt|rdt-1","expiresIn":3600}"#.to_vec(),
        )],
    );
    api.on(
        "/orders/v0/orders/902-1845936-5435065/address",
        vec![Reply::json(fixture(
            "amazon/sp_api_orders_v0_getOrderAddress_example.json",
        ))],
    );
    api.on(
        "/orders/v0/orders/902-1845936-5435065/buyerInfo",
        vec![Reply::json(fixture(
            "amazon/sp_api_orders_v0_getOrderBuyerInfo_example.json",
        ))],
    );
    let c = connect_orders_only(&app, &owner, "AMAZON", "A3SELLERID", "", json!({
        "clientId": "amzn1.application-oa2-client.x", "clientSecret": "lwa-secret", "refreshToken": "Atzr|refresh",
        "marketplaceId": "ATVPDKIKX0DER", "apiUrl": api.base, "tokenUrl": format!("{}/auth/o2/token", api.base)
    })).await;
    assert_eq!(
        count_rows(&app, "jobs").await,
        1,
        "connecting schedules the first poll"
    );
    worker::drain(&app.state).await.unwrap();
    let seen = api.seen.lock().unwrap().clone();
    let list = seen
        .iter()
        .find(|(_, p, _)| p.starts_with("/orders/v0/orders?"))
        .unwrap();
    assert!(
        list.1.contains("MarketplaceIds=ATVPDKIKX0DER") && list.1.contains("LastUpdatedAfter="),
        "{list:?}"
    );
    for (_, path, token) in seen
        .iter()
        .filter(|(_, p, _)| p.starts_with("/orders/") || p.starts_with("/tokens/"))
    {
        let restricted = path.ends_with("/address") || path.ends_with("/buyerInfo");
        let expected = if restricted {
            "Atz.sprdt|rdt-1"
        } else {
            "Atza|lwa-token"
        };
        assert_eq!(token.as_deref(), Some(expected), "{path}");
    }

    let found = app.gql(Some(&owner.access), "{ orders { edges { node { name channel financialStatus totals { total } lines { sku quantity unitPrice } events { actor } email shippingAddress { city postalCode country } issues { code } } } } }", json!({})).await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(o["name"], "902-1845936-5435065");
    assert_eq!(o["channel"], "AMAZON");
    assert_eq!(o["financialStatus"], "PAID");
    assert_eq!(o["totals"]["total"], "11.01");
    assert_eq!(
        o["lines"][0],
        json!({ "sku": "NABetaASINB00551Q3CS", "quantity": 1, "unitPrice": "10.00" })
    );
    assert_eq!(o["events"][0]["actor"], "Amazon (a3sellerid)");
    assert_eq!(
        o["shippingAddress"],
        json!({ "city": "Canton", "postalCode": "48817", "country": "US" })
    );
    assert_eq!(o["email"], "user@example.com");
    assert!(
        o["issues"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["code"] != "NO_SHIPPING_ADDRESS"),
        "{o}"
    );

    // Polling again reads the same version: nothing new is stored.
    let body = app
        .gql(Some(&owner.access), SYNC, json!({ "id": c["id"] }))
        .await;
    assert_eq!(
        body["data"]["syncChannelConnection"]["channelConnection"]["lastError"],
        serde_json::Value::Null,
        "{body}"
    );
    assert!(body["data"]["syncChannelConnection"]["channelConnection"]["lastSyncedAt"].is_string());
    worker::drain(&app.state).await.unwrap();
    assert_eq!(count_rows(&app, "channel_deliveries").await, 1);
    assert_eq!(count_rows(&app, "orders").await, 1);
    // The cursor moved to the order's LastUpdateDate (less an overlap on the next read).
    let second = api
        .seen
        .lock()
        .unwrap()
        .iter()
        .rfind(|(_, p, _)| p.starts_with("/orders/v0/orders?"))
        .unwrap()
        .1
        .clone();
    assert!(
        second.contains("LastUpdatedAfter=1970-01-19T03%3A48%3A32Z"),
        "{second}"
    );
}

#[tokio::test]
async fn a_refused_token_is_shown_on_the_connection_and_polling_carries_on() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app
        .sign_up("Amazon Refused", "owner@amazon-refused.example")
        .await;
    let api = MockApi::spawn("x-amz-access-token");
    api.on("/auth/o2/token", vec![Reply::status(400)]);
    let c = connect_orders_only(&app, &owner, "AMAZON", "A3REFUSED", "", json!({
        "clientId": "c", "clientSecret": "s", "refreshToken": "revoked", "marketplaceId": "ATVPDKIKX0DER",
        "apiUrl": api.base, "tokenUrl": format!("{}/auth/o2/token", api.base)
    })).await;
    worker::drain(&app.state).await.unwrap();
    let body = app
        .gql(
            Some(&owner.access),
            "query($id: ID!) { channelConnection(id: $id) { lastError lastSyncedAt } }",
            json!({ "id": c["id"] }),
        )
        .await;
    let error = body["data"]["channelConnection"]["lastError"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("LWA") && error.contains("400"), "{body}");
    assert_eq!(
        count_rows(&app, "jobs").await,
        1,
        "the next poll is scheduled anyway"
    );
    let body = app
        .gql(Some(&owner.access), SYNC, json!({ "id": c["id"] }))
        .await;
    assert!(body["data"]["syncChannelConnection"]["channelConnection"]["lastError"].is_string());
}

#[tokio::test]
async fn etsy_receipts_are_polled_with_the_app_key_and_the_shops_token() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app.sign_up("Etsy Maker", "owner@etsy-maker.example").await;
    let api = MockApi::spawn("x-api-key");
    api.on("/v3/public/oauth/token", vec![Reply::json(br#"{"access_token":"12345678.etsy-access","token_type":"Bearer","expires_in":3600,"refresh_token":"12345678.etsy-refresh-2"}"#.to_vec())]);
    api.on(
        "/v3/application/shops/98765/receipts",
        vec![Reply::json(br#"{"count":0,"results":[]}"#.to_vec())],
    );
    let c = connect_orders_only(&app, &owner, "ETSY", "98765", "", json!({
        "apiKey": "etsy-keystring", "accessToken": "12345678.old", "refreshToken": "12345678.etsy-refresh",
        "shopId": "98765", "apiUrl": api.base, "tokenUrl": format!("{}/v3/public/oauth/token", api.base)
    })).await;
    worker::drain(&app.state).await.unwrap();
    let seen = api.seen.lock().unwrap().clone();
    let receipts = seen
        .iter()
        .find(|(_, p, _)| p.starts_with("/v3/application/shops/98765/receipts?"))
        .expect("receipts read");
    assert_eq!(receipts.2.as_deref(), Some("etsy-keystring"));
    assert!(
        receipts.1.contains("min_last_modified=")
            && receipts.1.contains("limit=100")
            && receipts.1.contains("sort_order=asc"),
        "{receipts:?}"
    );
    let body = app
        .gql(
            Some(&owner.access),
            "query($id: ID!) { channelConnection(id: $id) { lastError lastSyncedAt } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(
        body["data"]["channelConnection"]["lastError"],
        serde_json::Value::Null,
        "{body}"
    );
    assert!(body["data"]["channelConnection"]["lastSyncedAt"].is_string());
}

#[tokio::test]
async fn webhook_platforms_are_reconciled_from_their_apis_to_catch_missed_deliveries() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app.sign_up("Reconciled", "owner@reconciled.example").await;
    let shopify = MockApi::spawn("x-shopify-access-token");
    let order = serde_json::from_slice::<serde_json::Value>(&fixture("shopify/rest_order.json"))
        .unwrap()["order"]
        .clone();
    let mut later = order.clone();
    later["id"] = json!(450789470u64);
    later["name"] = json!("#1002");
    // Two pages, linked the way Shopify links them.
    let page2 = format!(
        "{}/admin/api/2026-07/orders.json?page_info=abc&limit=250",
        shopify.base
    );
    shopify.on(
        "/admin/api/2026-07/orders.json",
        vec![
            Reply::json(serde_json::to_vec(&json!({ "orders": [order] })).unwrap())
                .with("Link", &format!("<{page2}>; rel=\"next\"")),
            Reply::json(serde_json::to_vec(&json!({ "orders": [later] })).unwrap()),
        ],
    );
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "reconciled.myshopify.com",
        "shopify webhook secret",
        json!({ "accessToken": "shpat_reconcile", "apiUrl": shopify.base }),
    )
    .await;
    let body = app
        .gql(Some(&owner.access), SYNC, json!({ "id": c["id"] }))
        .await;
    assert_eq!(
        body["data"]["syncChannelConnection"]["channelConnection"]["lastError"],
        serde_json::Value::Null,
        "{body}"
    );
    worker::drain(&app.state).await.unwrap();
    let seen = shopify.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].1.contains("updated_at_min=")
            && seen[0].1.contains("status=any")
            && seen[0].1.contains("order=updated_at%20asc"),
        "{seen:?}"
    );
    assert!(seen[1].1.contains("page_info=abc"));
    assert!(
        seen.iter()
            .all(|(_, _, t)| t.as_deref() == Some("shpat_reconcile"))
    );
    let names = app
        .gql(
            Some(&owner.access),
            "{ orders(sort: PLACED_AT_ASC) { edges { node { name channel } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        names["data"]["orders"]["edges"].as_array().unwrap().len(),
        2,
        "{names}"
    );

    let woo = MockApi::spawn("authorization");
    woo.on(
        "/wp-json/wc/v3/orders",
        vec![Reply::json(
            format!(
                "[{}]",
                String::from_utf8(fixture("woocommerce/order_updated_727_wp_api_v3.json")).unwrap()
            )
            .into_bytes(),
        )],
    );
    let w = connect_orders_only(
        &app,
        &owner,
        "WOOCOMMERCE",
        "woo.reconciled.example",
        "woo webhook secret",
        json!({ "consumerKey": "ck_1", "consumerSecret": "cs_1", "apiUrl": woo.base }),
    )
    .await;
    let synced = app
        .gql(Some(&owner.access), SYNC, json!({ "id": w["id"] }))
        .await;
    assert_eq!(
        synced["data"]["syncChannelConnection"]["channelConnection"]["lastError"],
        serde_json::Value::Null,
        "{synced}"
    );
    worker::drain(&app.state).await.unwrap();
    let seen = woo.seen.lock().unwrap().clone();
    assert!(
        seen[0].1.contains("modified_after=") && seen[0].1.contains("dates_are_gmt=true"),
        "{seen:?}"
    );
    assert_eq!(
        seen[0].2.as_deref(),
        Some("Basic Y2tfMTpjc18x"),
        "consumer key and secret as basic auth"
    );
    let found = app.gql(Some(&owner.access), "{ orders(filter: {channel: WOOCOMMERCE}) { edges { node { name fulfillmentStatus } } } }", json!({})).await;
    assert_eq!(
        found["data"]["orders"]["edges"][0]["node"],
        json!({ "name": "#727", "fulfillmentStatus": "FULFILLED" })
    );
}

#[tokio::test]
async fn without_access_to_restricted_data_an_amazon_order_is_captured_and_its_address_flagged() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app
        .sign_up("Amazon No PII", "owner@amazon-nopii.example")
        .await;
    let api = MockApi::spawn("x-amz-access-token");
    api.on(
        "/auth/o2/token",
        vec![Reply::json(
            br#"{"access_token":"Atza|t","expires_in":3600}"#.to_vec(),
        )],
    );
    let orders = json!({ "payload": { "Orders": [serde_json::from_slice::<serde_json::Value>(&fixture("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json")).unwrap()["payload"]] } });
    api.on(
        "/orders/v0/orders",
        vec![Reply::json(serde_json::to_vec(&orders).unwrap())],
    );
    api.on(
        "/orders/v0/orders/902-1845936-5435065/orderItems",
        vec![Reply::json(fixture(
            "amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json",
        ))],
    );
    api.on(
        "/tokens/2021-03-01/restrictedDataToken",
        vec![Reply::status(403)],
    );
    connect_orders_only(&app, &owner, "AMAZON", "A3NOPII", "", json!({ "clientId": "c", "clientSecret": "s", "refreshToken": "r", "marketplaceId": "ATVPDKIKX0DER", "apiUrl": api.base, "tokenUrl": format!("{}/auth/o2/token", api.base) })).await;
    worker::drain(&app.state).await.unwrap();
    let found = app
        .gql(
            Some(&owner.access),
            "{ orders { edges { node { name issues { code } } } } }",
            json!({}),
        )
        .await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(o["name"], "902-1845936-5435065", "{found}");
    assert!(
        o["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["code"] == "NO_SHIPPING_ADDRESS"),
        "{o}"
    );
    assert_eq!(api.hits("/orders/v0/orders/902-1845936-5435065/address"), 0);
}
