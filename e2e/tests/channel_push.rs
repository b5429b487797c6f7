//! Channels hear back, on the real binary, through a crash: Orderflow is killed (SIGKILL) while
//! Shopify and WooCommerce are still answering its writes — a fulfilment, an order
//! cancellation, a shopper note — which the platforms nevertheless made. Restarted, it finishes
//! each push without making any of them twice (counted at the local channel servers, which
//! answer with the platforms' documented payloads and read back what was written).

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::fixtures::{AMAZON_ORDER, answer as body, json as fixture};
use e2e::orderflow::{Environment, Orderflow};
use e2e::remote_api::{MockApi, Reply};
use e2e::shop::{self, Shop};
use serde_json::{Value, json};

const API: &str = "/admin/api/2026-07";
/// The Shopify webhook fixture's order, shipped.
const SHIPPED: &str = "820982911946154508";
/// A second order from the same fixture, awaiting payment, cancelled in Orderflow.
const CANCELLED: &str = "820982911946154599";
const WOO: &str = "/wp-json/wc/v3/orders/727";
/// An answer that never arrives: Orderflow is killed while it waits.
const NEVER: Duration = Duration::from_secs(600);

/// A recorded exchange's answer, held as long as `delay`.
fn held(exchange: &Value, delay: Duration) -> Reply {
    e2e::fixtures::recorded(exchange).held_for(delay)
}

/// Shopify's recorded order as `id`, with no fulfilment of ours.
fn shopify_order(id: &str) -> Value {
    let mut o = fixture("shopify/rest_order.json");
    o["order"]["id"] = json!(id.parse::<i64>().unwrap());
    o["order"]["cancelled_at"] = Value::Null;
    o
}

/// Shopify: both orders, the shipped one's fulfilment order (a line item per line of the
/// webhook's order), a fulfilment create and an order cancel whose answers never come but
/// which Shopify makes: the order read back afterwards holds the fulfilment, or is cancelled.
fn shopify(mock: &MockApi) {
    mock.on(
        &format!("{API}/orders.json"),
        vec![body(&json!({ "orders": [] }))],
    );
    for id in [SHIPPED, CANCELLED] {
        mock.on(
            &format!("{API}/orders/{id}.json"),
            vec![body(&shopify_order(id))],
        );
    }
    mock.on(
        &format!("{API}/orders/{SHIPPED}/fulfillment_orders.json"),
        vec![body(&e2e::fixtures::shopify_fulfillment_orders(
            SHIPPED.parse().unwrap(),
        ))],
    );
    let made = fixture("shopify/writeback/rest_2026-07_fulfillment_create_tracking_url.json");
    let id = made["response"]["body"]["fulfillment"]["id"].clone();
    mock.on(
        &format!("{API}/fulfillments.json"),
        vec![held(&made, NEVER)],
    );
    mock.effect(&format!("POST {API}/fulfillments.json"), move |sent| {
        let sent: Value = serde_json::from_slice(sent).unwrap();
        let number = sent["fulfillment"]["tracking_info"]["number"].clone();
        let mut known = shopify_order(SHIPPED);
        known["order"]["fulfillments"][0]["id"] = id.clone();
        known["order"]["fulfillments"][0]["tracking_number"] = number.clone();
        known["order"]["fulfillments"][0]["tracking_numbers"] = json!([number]);
        known["order"]["fulfillments"][0]["status"] = json!("success");
        vec![(format!("{API}/orders/{SHIPPED}.json"), vec![body(&known)])]
    });
    let cancel = format!("{API}/orders/{CANCELLED}/cancel.json");
    mock.on(
        &cancel,
        vec![held(
            &fixture("shopify/writeback/rest_2026-07_order_cancel.json"),
            NEVER,
        )],
    );
    mock.effect(&format!("POST {cancel}"), |_| {
        let mut known = shopify_order(CANCELLED);
        known["order"]["cancelled_at"] = json!("2026-12-08T10:00:00-05:00");
        vec![(format!("{API}/orders/{CANCELLED}.json"), vec![body(&known)])]
    });
}

/// WooCommerce: no notes on order 727 until one is written (its answer never comes, but the
/// note is there when read back); the order's update to completed.
fn woocommerce(mock: &MockApi) {
    mock.on("/wp-json/wc/v3/orders", vec![body(&json!([]))]);
    let notes = format!("{WOO}/notes");
    mock.on(&format!("GET {notes}"), vec![body(&json!([]))]);
    let note = fixture("woocommerce/writeback/order_note_create_723.json");
    mock.on(&format!("POST {notes}"), vec![held(&note, NEVER)]);
    mock.effect(&format!("POST {notes}"), move |sent| {
        let sent: Value = serde_json::from_slice(sent).unwrap();
        let mut kept = note["response"]["body"].clone();
        kept["note"] = sent["note"].clone();
        kept["customer_note"] = json!(true);
        vec![(format!("GET {notes}"), vec![body(&json!([kept]))])]
    });
    let completed = fixture("woocommerce/writeback/order_update_status_completed_727.json");
    mock.on(WOO, vec![held(&completed, Duration::ZERO)]);
}

async fn connect(
    app: &Orderflow,
    shop: &Shop,
    platform: &str,
    domain: &str,
    secret: &str,
    credentials: Value,
) -> String {
    let c = app.mutate(&shop.token, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { id webhookUrl } userErrors { field message } } }",
        json!({ "i": { "platform": platform, "name": format!("{platform} pushed"), "shopDomain": domain, "webhookSecret": secret, "credentials": credentials, "stockSync": false } }))
        .await
        .unwrap();
    c["channelConnection"]["webhookUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until `mock` has seen `method path`.
async fn seen(app: &Orderflow, mock: &MockApi, method: &str, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while mock.hits_by(method, path) == 0 {
        assert!(
            Instant::now() < deadline,
            "no {method} {path}: {:?}\n{}",
            mock.seen.lock().unwrap(),
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The pushes of the tenant's connections: (kind, state, answer) each.
async fn pushes(app: &Orderflow, token: &str) -> Vec<(String, String, String)> {
    let body = app
        .graphql(Some(token), "{ channelConnections { id } }", json!({}))
        .await
        .unwrap();
    let mut all = Vec::new();
    for c in body["data"]["channelConnections"].as_array().unwrap() {
        let log = app
            .graphql(
                Some(token),
                "query($c: ID!) { channelSyncLog(connectionId: $c) { kind state answer } }",
                json!({ "c": c["id"] }),
            )
            .await
            .unwrap();
        for l in log["data"]["channelSyncLog"].as_array().unwrap() {
            let text = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
            all.push((text("kind"), text("state"), text("answer")));
        }
    }
    all.sort();
    all
}

/// The tracking numbers of an order's parcels.
async fn tracking_numbers(app: &Orderflow, token: &str, order: &str) -> Vec<String> {
    let body = app
        .graphql(
            Some(token),
            "query($o: ID!) { order(id: $o) { shipments { trackingNumber } } }",
            json!({ "o": order }),
        )
        .await
        .unwrap();
    body["data"]["order"]["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["trackingNumber"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until every push of the tenant is sent and there are `count`.
async fn all_sent(app: &Orderflow, token: &str, count: usize) -> Vec<(String, String, String)> {
    // The dead process's jobs come back when their lease (60 s) lapses.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let log = pushes(app, token).await;
        if log.len() == count && log.iter().all(|(_, state, _)| state == "sent") {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "not all sent: {log:?}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_push_and_restarted_orderflow_fulfils_cancels_and_notes_each_once() {
    let (shopify_api, woo_api) = (
        MockApi::spawn("x-shopify-access-token"),
        MockApi::spawn("authorization"),
    );
    shopify(&shopify_api);
    woocommerce(&woo_api);
    let mut env = Environment::new().await.unwrap();
    env.set_env("ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK", "true");
    let app = env.start().await.unwrap();

    // Shopify's shop: one order shipped (its label bought at once), one awaiting payment.
    let a = shop::open(&app, "Push Shop", "owner@push-shop.example")
        .await
        .unwrap();
    let secret = "shopify secret for the pushed connection";
    let path = connect(
        &app,
        &a,
        "SHOPIFY",
        "pushed.myshopify.com",
        secret,
        json!({ "accessToken": "shpat_push_e2e", "apiUrl": shopify_api.base }),
    )
    .await;
    let fixture_order = shop::shopify_fixture().unwrap();
    shop::shopify_webhook(&app, &path, secret, "e2e-push-1", &fixture_order)
        .await
        .unwrap();
    let shipped = shop::order_named(&app, &a.token, "#9999").await;
    shop::wait_for_state(&app, &a.token, &shipped, "SHIPPED")
        .await
        .unwrap();
    let tracking = tracking_numbers(&app, &a.token, &shipped).await;
    // The same shopper again, after (arriving together, either could be held as the other's
    // duplicate).
    let mut unpaid = fixture_order.clone();
    unpaid["id"] = json!(CANCELLED.parse::<i64>().unwrap());
    unpaid["name"] = json!("#9998");
    unpaid["order_number"] = json!(1235);
    unpaid["financial_status"] = json!("pending");
    shop::shopify_webhook(&app, &path, secret, "e2e-push-2", &unpaid)
        .await
        .unwrap();
    let unpaid = shop::order_named(&app, &a.token, "#9998").await;
    shop::wait_for_state(&app, &a.token, &unpaid, "ON_HOLD")
        .await
        .unwrap();
    let cancelled = app.mutate(&a.token, "cancelOrder", "mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: \"never paid\"}) { order { state } userErrors { field message } } }", json!({ "o": unpaid })).await.unwrap();
    assert_eq!(cancelled["order"]["state"], "CANCELLED");

    // WooCommerce's shop: one order shipped.
    let b = shop::open(&app, "Woo Push Shop", "owner@woo-push-shop.example")
        .await
        .unwrap();
    let woo_secret = "woocommerce secret for the pushed connection";
    let woo_path = connect(&app, &b, "WOOCOMMERCE", "woocommerce.example.com", woo_secret, json!({ "consumerKey": "ck_push_e2e", "consumerSecret": "cs_push_e2e", "apiUrl": woo_api.base })).await;
    shop::woocommerce_sale(&app, &woo_path, "woocommerce.example.com", woo_secret, 1)
        .await
        .unwrap();

    // Each write has reached its platform, which made it; no answer has come back.
    let fulfil = format!("{API}/fulfillments.json");
    let cancel = format!("{API}/orders/{CANCELLED}/cancel.json");
    let note = format!("{WOO}/notes");
    seen(&app, &shopify_api, "POST", &fulfil).await;
    seen(&app, &shopify_api, "POST", &cancel).await;
    seen(&app, &woo_api, "POST", &note).await;
    app.kill().unwrap();

    let app = env.start().await.unwrap();
    let shopify_log = all_sent(&app, &a.token, 2).await;
    let woo_log = all_sent(&app, &b.token, 2).await;
    assert_eq!(shopify_api.hits_by("POST", &fulfil), 1, "one fulfilment");
    // Of the parcel: its tracking number, every line of the order (one unit each).
    let sent = &shopify_api.json_sent("POST", &fulfil)[0]["fulfillment"];
    assert_eq!(sent["tracking_info"]["number"], tracking[0].as_str());
    let units: i64 = sent["line_items_by_fulfillment_order"][0]["fulfillment_order_line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(units, 5, "{sent}");
    assert_eq!(shopify_api.hits_by("POST", &cancel), 1, "one cancellation");
    assert_eq!(woo_api.hits_by("POST", &note), 1, "one note");
    // Found on the platforms, not made again.
    let answers: Vec<&str> = shopify_log.iter().map(|(_, _, a)| a.as_str()).collect();
    assert!(
        answers.contains(&"Shopify had the order cancelled already"),
        "{shopify_log:?}"
    );
    assert!(
        answers
            .iter()
            .any(|a| a.starts_with("Shopify already had fulfilment")),
        "{shopify_log:?}"
    );
    assert!(
        woo_log
            .iter()
            .any(|(k, _, a)| k == "fulfillment" && a.starts_with("WooCommerce already had note")),
        "{woo_log:?}"
    );
    assert!(
        woo_log.iter().any(|(k, ..)| k == "completed"),
        "{woo_log:?}"
    );
    let status = app.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success());
}

/// The SP-API: Amazon's sandbox order for a kettle, to ship by `ship_by`, and
/// `confirmShipment`'s recorded 204.
fn amazon(mock: &MockApi, ship_by: chrono::DateTime<chrono::Utc>) {
    e2e::fixtures::serve_amazon_order(mock, "Unshipped", ship_by);
    mock.on(
        &format!("/orders/v0/orders/{AMAZON_ORDER}/shipmentConfirmation"),
        vec![e2e::fixtures::recorded(&fixture(
            "amazon/writeback/sp_api_orders_v0_confirmShipment_sandbox_204.json",
        ))],
    );
}

/// WooCommerce: notes as its docs answer one (each read back once written), the order as
/// its docs answer the update to completed.
fn woocommerce_notes(mock: &MockApi) {
    mock.on("/wp-json/wc/v3/orders", vec![body(&json!([]))]);
    let notes = format!("{WOO}/notes");
    mock.on(&format!("GET {notes}"), vec![body(&json!([]))]);
    let note = fixture("woocommerce/writeback/order_note_create_723.json");
    mock.on(
        &format!("POST {notes}"),
        vec![e2e::fixtures::recorded(&note)],
    );
    let written = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    mock.effect(&format!("POST {notes}"), move |sent| {
        let sent: Value = serde_json::from_slice(sent).unwrap();
        let mut kept = note["response"]["body"].clone();
        kept["note"] = sent["note"].clone();
        let mut all = written.lock().unwrap();
        all.push(kept);
        vec![(
            format!("GET {notes}"),
            vec![body(&Value::Array(all.clone()))],
        )]
    });
    mock.on(
        WOO,
        vec![e2e::fixtures::recorded(&fixture(
            "woocommerce/writeback/order_update_status_completed_727.json",
        ))],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_woocommerce_order_and_an_amazon_order_are_told_of_their_parcels() {
    let (woo_api, amazon_api) = (
        MockApi::spawn("authorization"),
        MockApi::spawn("x-amz-access-token"),
    );
    woocommerce_notes(&woo_api);
    let ship_by = chrono::Utc::now() + chrono::Duration::days(2);
    amazon(&amazon_api, ship_by);
    let mut env = Environment::new().await.unwrap();
    env.set_env("ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK", "true");
    let app = env.start().await.unwrap();
    let s = shop::open(&app, "Told Shop", "owner@told-shop.example")
        .await
        .unwrap();
    let t = s.token.as_str();
    // Ten kettles in Kentucky, ten in California: fifteen go as two parcels.
    app.mutate(t, "adjustStock", "mutation($w: ID!) { adjustStock(input: {sku: \"KETTLE-1\", warehouseId: $w, delta: -10, reason: \"count\"}) { userErrors { field message } } }", json!({ "w": s.warehouse })).await.unwrap();
    let ca = app.mutate(t, "createWarehouse", "mutation { createWarehouse(input: {code: \"CA1\", name: \"San Francisco\", timezone: \"America/Los_Angeles\", address: {line1: \"1 Market St\", city: \"San Francisco\", region: \"CA\", postalCode: \"94105\", country: \"US\"}}) { warehouse { id } userErrors { message } } }", json!({})).await.unwrap();
    app.mutate(t, "receiveStock", "mutation($w: ID!) { receiveStock(input: {sku: \"KETTLE-1\", warehouseId: $w, quantity: 10}) { userErrors { field message } } }", json!({ "w": ca["warehouse"]["id"] })).await.unwrap();

    let woo_secret = "woocommerce secret for the told shop";
    let woo_path = connect(&app, &s, "WOOCOMMERCE", "woocommerce.example.com", woo_secret, json!({ "consumerKey": "ck_told_e2e", "consumerSecret": "cs_told_e2e", "apiUrl": woo_api.base })).await;
    shop::woocommerce_sale(&app, &woo_path, "woocommerce.example.com", woo_secret, 15)
        .await
        .unwrap();
    connect(&app, &s, "AMAZON", "A3SELLERID", "", json!({
        "clientId": "amzn1.application-oa2-client.e2e", "clientSecret": "lwa-secret", "refreshToken": "Atzr|e2e",
        "sellerId": "A3SELLERID", "marketplaceId": "ATVPDKIKX0DER",
        "apiUrl": amazon_api.base, "tokenUrl": format!("{}/auth/o2/token", amazon_api.base)
    })).await;

    // WooCommerce: a note per parcel, each with its own tracking, then completed.
    let woo_order = shop::order_named(&app, t, "#727").await;
    shop::wait_for_state(&app, t, &woo_order, "SHIPPED")
        .await
        .unwrap();
    let parcels = tracking_numbers(&app, t, &woo_order).await;
    assert_eq!(parcels.len(), 2, "{parcels:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while woo_api.hits_by("PUT", WOO) == 0 {
        assert!(
            Instant::now() < deadline,
            "never completed: {:?}\n{}",
            woo_api.seen.lock().unwrap(),
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = woo_api.json_sent("POST", &format!("{WOO}/notes"));
    assert_eq!(notes.len(), 2, "{notes:?}");
    for number in &parcels {
        let naming = notes
            .iter()
            .filter(|n| n["note"].as_str().unwrap().contains(number.as_str()))
            .count();
        assert_eq!(naming, 1, "{number} in {notes:?}");
    }
    let writes: Vec<String> = woo_api
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, ..)| m != "GET")
        .map(|(m, p, _)| format!("{m} {}", p.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        writes,
        [
            format!("POST {WOO}/notes"),
            format!("POST {WOO}/notes"),
            format!("PUT {WOO}")
        ]
    );
    assert_eq!(woo_api.json_sent("PUT", WOO)[0]["status"], "completed");

    // Amazon: the package confirmed with its item and tracking, before the ship-by time.
    let amazon_order = shop::order_named(&app, t, AMAZON_ORDER).await;
    shop::wait_for_state(&app, t, &amazon_order, "SHIPPED")
        .await
        .unwrap();
    let confirm = format!("/orders/v0/orders/{AMAZON_ORDER}/shipmentConfirmation");
    seen(&app, &amazon_api, "POST", &confirm).await;
    let confirmed_at = chrono::Utc::now();
    let sent = amazon_api.json_sent("POST", &confirm);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let tracking = tracking_numbers(&app, t, &amazon_order).await;
    assert_eq!(
        sent[0]["packageDetail"]["trackingNumber"],
        tracking[0].as_str()
    );
    assert_eq!(
        sent[0]["packageDetail"]["orderItems"],
        json!([{ "orderItemId": "05015851154158", "quantity": 1 }])
    );
    assert!(confirmed_at < ship_by);
    let status = app.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success());
}
