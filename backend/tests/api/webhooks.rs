//! Channel connections and the webhook endpoint: signatures checked before anything is
//! parsed, redeliveries and reorderings absorbed, nothing lost, secrets never returned.

use orderflow::infra::signature::sign_base64;
use orderflow::jobs::worker;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::connectors::{fixture, fixture_json};
use crate::helpers::{Session, TestApp, count_rows, owner_connection, spawn_app};

const CONNECT: &str = "mutation($input: CreateChannelConnectionInput!) { createChannelConnection(input: $input) { channelConnection { id platform name shopDomain webhookUrl webhookEndpoint active hasWebhookSecret credentialNames } userErrors { field code message } } }";
const SHOPIFY_SECRET: &str = "shpss_0123456789abcdef0123456789abcdef";
const WOO_SECRET: &str = "woo webhook secret, HTML-entity-free";

pub async fn connect(
    app: &TestApp,
    s: &Session,
    platform: &str,
    shop: &str,
    secret: &str,
    credentials: Value,
) -> Value {
    connect_with(app, s, platform, shop, secret, credentials, true).await
}

/// A connection that takes orders and leaves the channel's stock alone: no catalog is read.
pub async fn connect_orders_only(
    app: &TestApp,
    s: &Session,
    platform: &str,
    shop: &str,
    secret: &str,
    credentials: Value,
) -> Value {
    connect_with(app, s, platform, shop, secret, credentials, false).await
}

async fn connect_with(
    app: &TestApp,
    s: &Session,
    platform: &str,
    shop: &str,
    secret: &str,
    credentials: Value,
    stock: bool,
) -> Value {
    let body = app.gql(Some(&s.access), CONNECT, json!({ "input": { "platform": platform, "name": format!("{platform} store"), "shopDomain": shop, "webhookSecret": secret, "credentials": credentials, "stockSync": stock } })).await;
    assert_eq!(
        body["data"]["createChannelConnection"]["userErrors"],
        json!([]),
        "{body}"
    );
    body["data"]["createChannelConnection"]["channelConnection"].clone()
}

pub async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let mut req = app.client.post(app.url(path)).body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn shopify_delivery(
    app: &TestApp,
    path: &str,
    topic: &str,
    webhook_id: &str,
    body: &[u8],
    secret: &str,
) -> (u16, Value) {
    let sig = sign_base64(secret, body);
    post(
        app,
        path,
        &[
            ("content-type", "application/json"),
            ("X-Shopify-Topic", topic),
            ("X-Shopify-Hmac-Sha256", &sig),
            ("X-Shopify-Shop-Domain", "demo.myshopify.com"),
            ("X-Shopify-Webhook-Id", webhook_id),
            ("X-Shopify-API-Version", "2026-04"),
        ],
        body,
    )
    .await
}

async fn drain(app: &TestApp) -> usize {
    worker::drain(&app.state).await.unwrap()
}

const ORDER: &str = "query($q: String) { orders(filter: {search: $q}) { edges { node { name externalId channel connectionId state currency email financialStatus fulfillmentStatus tags test cancelReason totals { subtotal discounts tax shipping total } lines { sku title quantity unitPrice } shippingAddress { name line1 city region postalCode country } customer { email firstName lastName } events { kind actor actorKind message } } } } }";

#[tokio::test]
async fn connections_validate_their_input_and_never_return_secrets() {
    let app = spawn_app().await;
    let owner = app.sign_up("Channels", "owner@channels.example").await;
    for (input, field, code) in [
        (
            json!({ "platform": "SHOPIFY", "name": "S", "shopDomain": "a.myshopify.com", "credentials": { "accessToken": "shpat_1" } }),
            json!(["input", "webhookSecret"]),
            "REQUIRED",
        ),
        (
            json!({ "platform": "SHOPIFY", "name": "S", "shopDomain": "a.myshopify.com", "webhookSecret": "short", "credentials": { "accessToken": "shpat_1" } }),
            json!(["input", "webhookSecret"]),
            "INVALID",
        ),
        (
            json!({ "platform": "BIGCOMMERCE", "name": "B", "shopDomain": "abc", "webhookSecret": SHOPIFY_SECRET, "credentials": { "accessToken": "t" } }),
            json!(["input", "credentials", "storeHash"]),
            "REQUIRED",
        ),
        (
            json!({ "platform": "AMAZON", "name": "A", "shopDomain": "A1", "credentials": { "clientId": "c", "clientSecret": "s", "refreshToken": "r" } }),
            json!(["input", "credentials", "marketplaceId"]),
            "REQUIRED",
        ),
        (
            json!({ "platform": "SHOPIFY", "name": "S", "shopDomain": "a.myshopify.com", "webhookSecret": SHOPIFY_SECRET, "credentials": { "accessToken": "x", "pass word": "y" } }),
            json!(["input", "credentials", "pass word"]),
            "INVALID",
        ),
        (
            json!({ "platform": "SHOPIFY", "name": "S", "shopDomain": "a.myshopify.com", "webhookSecret": SHOPIFY_SECRET, "credentials": { "accessToken": 5 } }),
            json!(["input", "credentials", "accessToken"]),
            "INVALID",
        ),
        (
            json!({ "platform": "AMAZON", "name": " ", "shopDomain": "A1SELLER", "credentials": {} }),
            json!(["input", "name"]),
            "INVALID",
        ),
    ] {
        let body = app
            .gql(Some(&owner.access), CONNECT, json!({ "input": input }))
            .await;
        let err = &body["data"]["createChannelConnection"]["userErrors"][0];
        assert_eq!(
            (
                err["field"].clone(),
                err["code"].as_str().unwrap_or("<none>")
            ),
            (field, code),
            "{input}: {body}"
        );
    }
    let token = "shpat_very_secret_access_token";
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "https://Demo.myshopify.com/",
        SHOPIFY_SECRET,
        json!({ "accessToken": token }),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["shopDomain"], "demo.myshopify.com");
    assert_eq!(c["credentialNames"], json!(["accessToken"]));
    assert_eq!(c["hasWebhookSecret"], true);
    let path = c["webhookUrl"].as_str().unwrap();
    assert!(
        path.starts_with("/webhooks/shopify/") && path.len() == "/webhooks/shopify/".len() + 36,
        "{path}"
    );
    assert_eq!(c["webhookEndpoint"], format!("http://orderflow.test{path}"));
    let again = app.gql(Some(&owner.access), CONNECT, json!({ "input": { "platform": "SHOPIFY", "name": "Dup", "shopDomain": "demo.myshopify.com", "webhookSecret": SHOPIFY_SECRET, "credentials": { "accessToken": "x" } } })).await;
    assert_eq!(
        again["data"]["createChannelConnection"]["userErrors"][0]["code"],
        "TAKEN"
    );

    // Nowhere in the API, nowhere in plain text in the database.
    let listed = app
        .gql(
            Some(&owner.access),
            "{ channelConnections { id name credentialNames } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(token) && !listed.to_string().contains(SHOPIFY_SECRET));
    let db = owner_connection(&app).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT webhook_secret_sealed, credentials_sealed FROM channel_connections",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: (String, String) = (
        row.try_get("", "webhook_secret_sealed").unwrap(),
        row.try_get("", "credentials_sealed").unwrap(),
    );
    assert!(
        !sealed.0.contains(SHOPIFY_SECRET) && !sealed.1.contains(token),
        "{sealed:?}"
    );
    // Webhooks need no API credentials; a bare string is taken as the access token.
    let plain = app.gql(Some(&owner.access), CONNECT, json!({ "input": { "platform": "SHOPIFY", "name": "Hooks only", "shopDomain": "hooks.myshopify.com", "webhookSecret": SHOPIFY_SECRET } })).await;
    assert_eq!(
        plain["data"]["createChannelConnection"]["channelConnection"]["credentialNames"],
        json!([]),
        "{plain}"
    );
    let bare = app.gql(Some(&owner.access), CONNECT, json!({ "input": { "platform": "SHOPIFY", "name": "Bare", "shopDomain": "bare.myshopify.com", "webhookSecret": SHOPIFY_SECRET, "credentials": "shpat_bare" } })).await;
    assert_eq!(
        bare["data"]["createChannelConnection"]["channelConnection"]["credentialNames"],
        json!(["accessToken"]),
        "{bare}"
    );

    let rotate = app.gql(Some(&owner.access), "mutation($id: ID!) { updateChannelConnection(input: {id: $id, name: \"Main store\", active: false, credentials: {accessToken: \"shpat_new\", apiUrl: \"https://demo.myshopify.com\"}}) { channelConnection { name active credentialNames } userErrors { code } } }", json!({ "id": id })).await;
    assert_eq!(
        rotate["data"]["updateChannelConnection"]["channelConnection"],
        json!({ "name": "Main store", "active": false, "credentialNames": ["accessToken", "apiUrl"] })
    );
}

#[tokio::test]
async fn a_signed_shopify_delivery_becomes_the_order_it_describes() {
    let app = spawn_app().await;
    let owner = app
        .sign_up("Shopify Shop", "owner@shopify-shop.example")
        .await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "demo.myshopify.com",
        SHOPIFY_SECRET,
        json!({ "accessToken": "shpat_x" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let body = fixture("shopify/webhook_orders_create.json");
    let (status, answer) = shopify_delivery(
        &app,
        path,
        "orders/create",
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        &body,
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    assert_eq!(
        count_rows(&app, "orders").await,
        0,
        "the request only stores; a job maps"
    );
    // The mapping job only: Shopify's sample order was placed years ago, so it counts as
    // history and its shopper is not emailed.
    assert_eq!(drain(&app).await, 1);

    let found = app
        .gql(Some(&owner.access), ORDER, json!({ "q": "#9999" }))
        .await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(o["externalId"], "820982911946154508");
    assert_eq!(o["channel"], "SHOPIFY");
    assert_eq!(o["connectionId"], c["id"]);
    assert_eq!(o["state"], "CANCELLED", "the fixture order is cancelled");
    assert_eq!(o["financialStatus"], "VOIDED");
    assert_eq!(o["email"], "jon@example.com");
    assert_eq!(o["tags"], json!(["tag1", "tag2"]));
    assert_eq!(o["test"], true);
    assert_eq!(
        o["totals"],
        json!({ "subtotal": "414.95", "discounts": "20.00", "tax": "0.00", "shipping": "10.00", "total": "404.95" })
    );
    assert_eq!(o["lines"].as_array().unwrap().len(), 5);
    assert_eq!(
        o["lines"][3],
        json!({ "sku": "SKU2006-020", "title": "Mid-century lounger", "quantity": 1, "unitPrice": "159.99" })
    );
    assert_eq!(
        o["shippingAddress"],
        json!({ "name": "Steve Shipper", "line1": "123 Shipping Street", "city": "Shippington", "region": "KY", "postalCode": "40003", "country": "US" })
    );
    assert_eq!(
        o["customer"],
        json!({ "email": "jon@example.com", "firstName": "John", "lastName": "Smith" })
    );
    let events = o["events"].as_array().unwrap();
    assert_eq!(events[0]["kind"], "order.received");
    assert_eq!(events[0]["actorKind"], "CHANNEL");
    assert_eq!(events[0]["actor"], "Shopify (demo.myshopify.com)");
    assert!(events.iter().any(|e| e["kind"] == "order.cancelled"));
    // Its SKUs are not in this tenant's catalog: flagged, not refused.
    let issues = app
        .gql(
            Some(&owner.access),
            "{ orders { edges { node { issues { code } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        issues["data"]["orders"]["edges"][0]["node"]["issues"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["code"] == "UNKNOWN_SKU")
            .count(),
        5
    );
}

#[tokio::test]
async fn tampered_bodies_and_wrong_secrets_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let owner = app.sign_up("Guarded", "owner@guarded.example").await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "guarded.myshopify.com",
        SHOPIFY_SECRET,
        json!({ "accessToken": "t" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let jobs_before = count_rows(&app, "jobs").await;
    let body = fixture("shopify/webhook_orders_create.json");
    let signature = sign_base64(SHOPIFY_SECRET, &body);
    let mut tampered = body.clone();
    let at = tampered.windows(6).position(|w| w == b"404.95").unwrap();
    tampered[at] = b'0';
    for (label, sig, payload) in [
        ("tampered body", signature.clone(), tampered.clone()),
        (
            "wrong secret",
            sign_base64("another secret entirely", &body),
            body.clone(),
        ),
        (
            "garbage signature",
            "bm90IGEgc2lnbmF0dXJl".to_owned(),
            body.clone(),
        ),
    ] {
        let (status, answer) = post(
            &app,
            path,
            &[
                ("X-Shopify-Topic", "orders/create"),
                ("X-Shopify-Hmac-Sha256", &sig),
                ("X-Shopify-Webhook-Id", label),
            ],
            &payload,
        )
        .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("BAD_SIGNATURE")),
            "{label}"
        );
    }
    let (status, _) = post(
        &app,
        path,
        &[
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Webhook-Id", "unsigned"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 401, "no signature at all");
    // A signed body that is not JSON is refused after verification, also storing nothing.
    let (status, _) = shopify_delivery(
        &app,
        path,
        "orders/create",
        "nonjson",
        b"<xml/>",
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = shopify_delivery(
        &app,
        "/webhooks/shopify/0190f0f0-0000-7000-8000-000000000000",
        "orders/create",
        "x",
        &body,
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(status, 404, "unknown connection");
    let (status, _) = shopify_delivery(
        &app,
        &path.replace("shopify", "woocommerce"),
        "orders/create",
        "x",
        &body,
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(
        status, 404,
        "a connection answers only on its own platform's path"
    );
    let huge = vec![b' '; 1024 * 1024 + 1];
    let (status, _) =
        shopify_delivery(&app, path, "orders/create", "huge", &huge, SHOPIFY_SECRET).await;
    assert_eq!(status, 413, "over the body limit");
    assert_eq!(count_rows(&app, "channel_deliveries").await, 0);
    assert_eq!(
        count_rows(&app, "jobs").await,
        jobs_before,
        "no job for a refused delivery"
    );
    drain(&app).await;
    assert_eq!(count_rows(&app, "orders").await, 0);
}

#[tokio::test]
async fn five_redeliveries_make_one_order_and_an_early_update_wins_over_a_late_create() {
    let app = spawn_app().await;
    let owner = app
        .sign_up("Redelivered", "owner@redelivered.example")
        .await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "redo.myshopify.com",
        SHOPIFY_SECRET,
        json!({ "accessToken": "t" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let created = fixture("shopify/webhook_orders_create.json");
    for i in 0..5 {
        let (status, answer) = shopify_delivery(
            &app,
            path,
            "orders/create",
            "same-delivery-id",
            &created,
            SHOPIFY_SECRET,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            answer["status"],
            if i == 0 { "accepted" } else { "duplicate" }
        );
    }
    drain(&app).await;
    assert_eq!(count_rows(&app, "orders").await, 1);
    assert_eq!(count_rows(&app, "channel_deliveries").await, 1);

    // A different order: its update (paid, later) arrives before its creation.
    let mut order = fixture_json("shopify/rest_order.json")["order"].clone();
    let original = serde_json::to_vec(&order).unwrap();
    order["financial_status"] = json!("paid");
    order["updated_at"] = json!("2008-01-10T12:30:00-05:00");
    order["tags"] = json!("priority");
    let update = serde_json::to_vec(&order).unwrap();
    shopify_delivery(
        &app,
        path,
        "orders/updated",
        "update-1",
        &update,
        SHOPIFY_SECRET,
    )
    .await;
    drain(&app).await;
    shopify_delivery(
        &app,
        path,
        "orders/create",
        "create-1",
        &original,
        SHOPIFY_SECRET,
    )
    .await;
    drain(&app).await;
    let found = app
        .gql(Some(&owner.access), ORDER, json!({ "q": "#1001" }))
        .await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(
        o["financialStatus"], "PAID",
        "the older create did not overwrite the newer update: {found}"
    );
    assert_eq!(o["tags"], json!(["priority"]));
    let kinds: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "order.received").count(), 1);
    assert!(
        !kinds.contains(&"order.updated"),
        "the stale create changed nothing: {kinds:?}"
    );
    let deliveries = app
        .gql(
            Some(&owner.access),
            "{ channelDeliveries { edges { node { topic status orderId } } } }",
            json!({}),
        )
        .await;
    assert!(
        deliveries["data"]["channelDeliveries"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["status"] == "PROCESSED"),
        "{deliveries}"
    );

    // A genuinely newer update updates, and says what changed.
    order["updated_at"] = json!("2008-01-11T09:00:00-05:00");
    order["fulfillment_status"] = json!("fulfilled");
    shopify_delivery(
        &app,
        path,
        "orders/updated",
        "update-2",
        &serde_json::to_vec(&order).unwrap(),
        SHOPIFY_SECRET,
    )
    .await;
    drain(&app).await;
    let found = app
        .gql(Some(&owner.access), ORDER, json!({ "q": "#1001" }))
        .await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(o["fulfillmentStatus"], "FULFILLED");
    let last = o["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "order.updated");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("fulfillment status: unfulfilled → fulfilled"),
        "{last}"
    );
}

#[tokio::test]
async fn an_unmappable_payload_needs_attention_and_can_be_processed_again() {
    let app = spawn_app().await;
    let owner = app.sign_up("Attention", "owner@attention.example").await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "attention.myshopify.com",
        SHOPIFY_SECRET,
        json!({ "accessToken": "t" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let mut order = fixture_json("shopify/webhook_orders_create.json");
    order.as_object_mut().unwrap().remove("total_price");
    let body = serde_json::to_vec(&order).unwrap();
    let (status, _) = shopify_delivery(
        &app,
        path,
        "orders/create",
        "broken-1",
        &body,
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(status, 200, "accepted: kept, not lost");
    drain(&app).await;
    assert_eq!(count_rows(&app, "orders").await, 0);
    let list = "{ channelDeliveries(status: NEEDS_ATTENTION) { edges { node { id topic externalId error attempts payload } } } }";
    let body = app.gql(Some(&owner.access), list, json!({})).await;
    let d = &body["data"]["channelDeliveries"]["edges"][0]["node"];
    assert_eq!(d["topic"], "orders/create");
    assert_eq!(d["externalId"], "820982911946154508");
    assert!(d["error"].as_str().unwrap().contains("total_price"), "{d}");
    assert!(
        d["payload"].as_str().unwrap().contains("#9999"),
        "the raw payload is kept"
    );
    // An absurd amount is refused by the mapping, not by a crash.
    let mut huge = fixture_json("shopify/webhook_orders_create.json");
    huge["id"] = json!(1u64);
    huge["line_items"][0]["price"] = json!("79228162514264337593543950335");
    shopify_delivery(
        &app,
        path,
        "orders/create",
        "huge-1",
        &serde_json::to_vec(&huge).unwrap(),
        SHOPIFY_SECRET,
    )
    .await;
    drain(&app).await;
    let body = app.gql(Some(&owner.access), list, json!({})).await;
    assert_eq!(
        body["data"]["channelDeliveries"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{body}"
    );
    let again = app.gql(Some(&owner.access), "mutation($id: ID!) { reprocessChannelDelivery(input: {id: $id}) { channelDelivery { status attempts } userErrors { code } } }", json!({ "id": d["id"] })).await;
    assert_eq!(
        again["data"]["reprocessChannelDelivery"]["channelDelivery"],
        json!({ "status": "NEEDS_ATTENTION", "attempts": 2 })
    );
}

#[tokio::test]
async fn woocommerce_pings_are_answered_and_deliveries_create_then_update() {
    let app = spawn_app().await;
    let owner = app.sign_up("Woo Shop", "owner@woo-shop.example").await;
    let c = connect_orders_only(
        &app,
        &owner,
        "WOOCOMMERCE",
        "shop.example.com",
        WOO_SECRET,
        json!({ "consumerKey": "ck_1", "consumerSecret": "cs_1" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let (status, answer) = post(
        &app,
        path,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("X-WC-Webhook-Source", "https://shop.example.com/"),
        ],
        b"webhook_id=12",
    )
    .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("pong")));
    assert_eq!(count_rows(&app, "channel_deliveries").await, 0);

    for (file, topic, delivery) in [
        (
            "woocommerce/order_created_727_wp_api_v3.json",
            "order.created",
            "d-1",
        ),
        (
            "woocommerce/order_updated_727_wp_api_v3.json",
            "order.updated",
            "d-2",
        ),
    ] {
        // WooCommerce signs the body exactly as sent; the fixtures are sent as written.
        let body = fixture(file);
        let body = String::from_utf8(body).unwrap().trim().as_bytes().to_vec();
        let sig = sign_base64(WOO_SECRET, &body);
        let (status, answer) = post(
            &app,
            path,
            &[
                ("content-type", "application/json"),
                ("X-WC-Webhook-Topic", topic),
                ("X-WC-Webhook-Signature", &sig),
                ("X-WC-Webhook-Delivery-ID", delivery),
                ("X-WC-Webhook-Source", "https://shop.example.com/"),
            ],
            &body,
        )
        .await;
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("accepted")),
            "{answer}"
        );
        drain(&app).await;
    }
    let found = app
        .gql(Some(&owner.access), ORDER, json!({ "q": "#727" }))
        .await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(o["channel"], "WOOCOMMERCE");
    assert_eq!(o["fulfillmentStatus"], "FULFILLED");
    assert_eq!(o["financialStatus"], "PAID");
    assert_eq!(
        o["totals"],
        json!({ "subtotal": "18.00", "discounts": "0.00", "tax": "1.35", "shipping": "10.00", "total": "29.35" })
    );
    assert_eq!(
        o["lines"][1],
        json!({ "sku": "Bar3", "title": "Ship Your Idea – Color: Black, Size: M Test", "quantity": 1, "unitPrice": "12.00" })
    );
    assert_eq!(o["customer"]["email"], "john.doe@example.com");
    assert_eq!(o["events"][0]["actor"], "WooCommerce (shop.example.com)");
    assert_eq!(count_rows(&app, "orders").await, 1);
}

#[tokio::test]
async fn deliveries_are_accepted_at_the_connections_graphql_id_and_without_a_topic_header() {
    let app = spawn_app().await;
    let owner = app.sign_up("Lenient", "owner@lenient.example").await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "lenient.myshopify.com",
        SHOPIFY_SECRET,
        json!({}),
    )
    .await;
    let by_id = format!("/webhooks/SHOPIFY/{}", c["id"].as_str().unwrap());
    let body = fixture("shopify/webhook_orders_create.json");
    let sig = sign_base64(SHOPIFY_SECRET, &body);
    let (status, answer) = post(&app, &by_id, &[("X-Shopify-Hmac-Sha256", &sig)], &body).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    drain(&app).await;
    assert_eq!(
        count_rows(&app, "orders").await,
        1,
        "an order-shaped body without a topic is an order"
    );
}

#[tokio::test]
async fn two_shops_on_one_platform_keep_their_own_orders_and_same_second_updates_apply() {
    let app = spawn_app().await;
    let owner = app.sign_up("Two Shops", "owner@two-shops.example").await;
    let a = connect_orders_only(
        &app,
        &owner,
        "WOOCOMMERCE",
        "shop-a.example.com",
        WOO_SECRET,
        json!({}),
    )
    .await;
    let b = connect_orders_only(
        &app,
        &owner,
        "WOOCOMMERCE",
        "shop-b.example.com",
        WOO_SECRET,
        json!({}),
    )
    .await;
    let body = String::from_utf8(fixture("woocommerce/order_created_727_wp_api_v3.json"))
        .unwrap()
        .trim()
        .as_bytes()
        .to_vec();
    for (c, delivery) in [(&a, "a-1"), (&b, "b-1")] {
        let sig = sign_base64(WOO_SECRET, &body);
        post(
            &app,
            c["webhookUrl"].as_str().unwrap(),
            &[
                ("X-WC-Webhook-Topic", "order.created"),
                ("X-WC-Webhook-Signature", &sig),
                ("X-WC-Webhook-Delivery-ID", delivery),
            ],
            &body,
        )
        .await;
    }
    drain(&app).await;
    assert_eq!(
        count_rows(&app, "orders").await,
        2,
        "order 727 of shop A is not order 727 of shop B"
    );

    // An update stamped in the same second as the order it updates is applied.
    let mut same_second = fixture_json("woocommerce/order_created_727_wp_api_v3.json");
    same_second["status"] = json!("cancelled");
    let body = serde_json::to_vec(&same_second).unwrap();
    let sig = sign_base64(WOO_SECRET, &body);
    post(
        &app,
        a["webhookUrl"].as_str().unwrap(),
        &[
            ("X-WC-Webhook-Topic", "order.updated"),
            ("X-WC-Webhook-Signature", &sig),
            ("X-WC-Webhook-Delivery-ID", "a-2"),
        ],
        &body,
    )
    .await;
    drain(&app).await;
    let found = app
        .gql(
            Some(&owner.access),
            "{ orders(filter: {state: CANCELLED}) { edges { node { connectionId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        found["data"]["orders"]["edges"],
        json!([{ "node": { "connectionId": a["id"] } }]),
        "{found}"
    );
}

#[tokio::test]
async fn deliveries_received_while_paused_are_mapped_when_the_connection_resumes() {
    let app = spawn_app().await;
    let owner = app.sign_up("Paused Shop", "owner@paused.example").await;
    let c = connect_orders_only(
        &app,
        &owner,
        "SHOPIFY",
        "paused.myshopify.com",
        SHOPIFY_SECRET,
        json!({}),
    )
    .await;
    let set = "mutation($id: ID!, $on: Boolean!) { updateChannelConnection(input: {id: $id, active: $on}) { channelConnection { active } userErrors { code } } }";
    app.gql(
        Some(&owner.access),
        set,
        json!({ "id": c["id"], "on": false }),
    )
    .await;
    let (status, _) = shopify_delivery(
        &app,
        c["webhookUrl"].as_str().unwrap(),
        "orders/create",
        "while-paused",
        &fixture("shopify/webhook_orders_create.json"),
        SHOPIFY_SECRET,
    )
    .await;
    assert_eq!(status, 200, "kept, not refused");
    drain(&app).await;
    assert_eq!(
        count_rows(&app, "orders").await,
        0,
        "not mapped while paused"
    );
    app.gql(
        Some(&owner.access),
        set,
        json!({ "id": c["id"], "on": true }),
    )
    .await;
    drain(&app).await;
    assert_eq!(count_rows(&app, "orders").await, 1, "mapped on resume");
}
