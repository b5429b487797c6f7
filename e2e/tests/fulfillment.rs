//! Fulfillment on the real binary (PostgreSQL + Redis in CI): a signed Shopify webhook's order
//! goes, with only the warehouse's scans, through routing, a pick wave, scan-checked packing,
//! an automatically bought label and carrier tracking events to `DELIVERED`, each decision
//! readable over GraphQL.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::orderflow::{Environment, Orderflow};
use serde_json::{Value, json};

fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

async fn ok(app: &Orderflow, token: &str, mutation: &str, query: &str, vars: Value) -> Value {
    app.mutate(token, mutation, query, vars).await.unwrap()
}

const ORDER: &str = "query($o: ID!) { order(id: $o) { state routing { chosen { summary parcels { warehouseCode } } alternatives { summary } } shipments { id status trackingNumber labelUrl rates { recommendations { pick reason } } } events { kind message } } }";

async fn wait_for(app: &Orderflow, token: &str, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = app
            .graphql(Some(token), ORDER, json!({ "o": id }))
            .await
            .unwrap();
        let order = body["data"]["order"].clone();
        if order["state"] == state {
            return order;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {state}: {order}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopify_order_is_routed_picked_packed_labelled_and_delivered() {
    let mut env = Environment::new().await.unwrap();
    let app = env.start().await.unwrap();
    let body = app
        .graphql(None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken userErrors { message } } }", json!({ "i": { "tenantName": "Parcel Shop", "email": "owner@parcel-shop.example", "password": "correct horse battery staple" } }))
        .await
        .unwrap();
    let token = body["data"]["signUp"]["accessToken"]
        .as_str()
        .expect("signed up")
        .to_owned();
    let t = token.as_str();

    // A warehouse in Kentucky with bins, the fixture order's five SKUs, a carrier.
    let w = ok(&app, t, "createWarehouse", "mutation { createWarehouse(input: {code: \"KY1\", name: \"Louisville\", timezone: \"America/New_York\", dailyCapacity: 300, address: {line1: \"400 W Market St\", city: \"Louisville\", region: \"KY\", postalCode: \"40202\", country: \"US\"}}) { warehouse { id } userErrors { message } } }", json!({})).await;
    let warehouse = w["warehouse"]["id"].as_str().unwrap().to_owned();
    let skus = [
        "SKU2006-001",
        "LENS-PROTECT-2YR",
        "CASE-LEATHER-PREM",
        "SKU2006-020",
        "SKU2006-035",
    ];
    for (i, sku) in skus.iter().enumerate() {
        ok(&app, t, "createProduct", "mutation($s: String!) { createProduct(input: {title: $s, variants: [{sku: $s, price: \"20.00\", weightGrams: 400}]}) { userErrors { message } } }", json!({ "s": sku })).await;
        ok(&app, t, "receiveStock", "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 5}) { userErrors { message } } }", json!({ "s": sku, "w": warehouse })).await;
        ok(&app, t, "setBinLocation", "mutation($s: String!, $w: ID!, $b: String) { setBinLocation(input: {sku: $s, warehouseId: $w, binLocation: $b}) { userErrors { message } } }", json!({ "s": sku, "w": warehouse, "b": format!("{}-{:02}", ["A", "B"][i % 2], 10 - i) })).await;
    }
    let secret = "carrier tracking secret";
    let c = ok(&app, t, "createCarrier", "mutation($s: String!) { createCarrier(input: {code: \"ups\", name: \"UPS\", trackingFormat: UPS, account: \"E2E123\", trackingSource: ORDERFLOW, webhookSecret: $s}) { carrier { id trackingWebhookUrl } userErrors { message } } }", json!({ "s": secret })).await;
    let zones: Vec<Value> = (1..=8).map(|z| json!({ "zone": z, "transitDays": 1 + z / 2, "brackets": [{ "upToGrams": 5000, "price": format!("{}.50", 6 + z) }], "extraPerKg": "1.00" })).collect();
    ok(&app, t, "createCarrierService", "mutation($c: ID!, $r: RateCardInput!) { createCarrierService(input: {carrierId: $c, code: \"ground\", name: \"Ground\", currency: \"USD\", rateCard: $r, cutoff: \"17:00\"}) { userErrors { message } } }", json!({ "c": c["carrier"]["id"], "r": { "zones": zones } })).await;
    ok(&app, t, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true}) { userErrors { message } } }", json!({})).await;

    // The Shopify order arrives by webhook.
    let shop_secret = "shopify secret for fulfillment";
    let conn = ok(&app, t, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } userErrors { message } } }", json!({ "i": { "platform": "SHOPIFY", "name": "Main", "shopDomain": "e2e.myshopify.com", "webhookSecret": shop_secret } })).await;
    let fixture = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../backend/tests/fixtures/shopify/webhook_orders_create.json"),
    )
    .unwrap();
    let mut order: Value = serde_json::from_slice(&fixture).unwrap();
    order["cancelled_at"] = Value::Null;
    order["cancel_reason"] = Value::Null;
    order["financial_status"] = json!("paid");
    let payload = serde_json::to_vec(&order).unwrap();
    use base64::Engine;
    let res = app
        .client()
        .post(app.url(conn["channelConnection"]["webhookUrl"].as_str().unwrap()))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Webhook-Id", "e2e-fulfil-1")
        .header(
            "X-Shopify-Hmac-Sha256",
            base64::engine::general_purpose::STANDARD.encode(hmac(shop_secret, &payload)),
        )
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let body = app
            .graphql(Some(t), "{ orders { edges { node { id } } } }", json!({}))
            .await
            .unwrap();
        if let Some(id) = body["data"]["orders"]["edges"][0]["node"]["id"].as_str() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "no order: {}", app.stderr());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let routed = wait_for(&app, t, &id, "ROUTED").await;
    assert_eq!(
        routed["routing"]["chosen"]["parcels"][0]["warehouseCode"],
        "KY1"
    );
    assert!(
        routed["routing"]["chosen"]["summary"]
            .as_str()
            .unwrap()
            .contains("KY1 (UPS Ground)"),
        "{routed}"
    );

    // The warehouse: a wave, its walk, the picks, the packing scans.
    let waves = ok(&app, t, "createPickWaves", "mutation($w: ID!) { createPickWaves(input: {warehouseId: $w}) { waves { id tasks { sequence binLocation sku } } userErrors { message } } }", json!({ "w": warehouse })).await;
    let bins: Vec<&str> = waves["waves"][0]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["binLocation"].as_str().unwrap())
        .collect();
    assert_eq!(
        bins,
        ["A-06", "A-08", "A-10", "B-09", "B-07"],
        "aisle A up, aisle B down"
    );
    ok(&app, t, "markPicked", "mutation($w: ID!) { markPicked(input: {waveId: $w}) { wave { status } userErrors { message } } }", json!({ "w": waves["waves"][0]["id"] })).await;
    let shipment = routed["shipments"][0]["id"].as_str().unwrap();
    let packed = ok(&app, t, "packShipment", "mutation($s: ID!, $scans: [String!]!) { packShipment(input: {shipmentId: $s, scans: $scans}) { order { state } shipment { trackingNumber } userErrors { message } } }", json!({ "s": shipment, "scans": skus })).await;
    assert_eq!(packed["order"]["state"], "SHIPPED");
    let number = packed["shipment"]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let shipped = wait_for(&app, t, &id, "SHIPPED").await;
    assert_eq!(
        shipped["shipments"][0]["rates"]["recommendations"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let res = app
        .client()
        .get(app.url(shipped["shipments"][0]["labelUrl"].as_str().unwrap()))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));

    // The carrier's scans, signed, one a duplicate.
    let path = c["carrier"]["trackingWebhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    for (status, at) in [
        ("in_transit", "2026-11-27T09:00:00Z"),
        ("in_transit", "2026-11-27T09:00:00Z"),
        ("out_for_delivery", "2026-11-28T07:00:00Z"),
        ("delivered", "2026-11-28T13:30:00Z"),
    ] {
        let code = e2e::tracking::send_scan(&app, &path, secret, &number, status, at)
            .await
            .unwrap();
        assert_eq!(code, 200);
    }
    let delivered = wait_for(&app, t, &id, "DELIVERED").await;
    let kinds: Vec<&str> = delivered["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "order.received",
        "order.allocated",
        "order.routed",
        "order.picking",
        "shipment.packed",
        "order.packed",
        "shipment.label_created",
        "order.shipped",
        "order.in_transit",
        "order.out_for_delivery",
        "order.delivered",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert_eq!(
        kinds.iter().filter(|k| **k == "shipment.tracking").count(),
        3,
        "the duplicate scan added nothing"
    );
    let status = app.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success());
}
