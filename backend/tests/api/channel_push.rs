//! Channels hear back (issue 21): a Shopify order's parcel, once labelled, is a fulfilment on
//! Shopify with its tracking and lines, and an `in_transit` event once the carrier has it;
//! against a local server answering with Shopify's own documented payloads.

use serde_json::{Value, json};

use crate::carrier_apis::shopify_order_with;
use crate::connectors::fixture_json;
use crate::engine::drain;
use crate::fulfillment::{CARRIER_SECRET, easypost_event, shop, track};
use crate::helpers::{Session, TestApp, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};

/// The order of Shopify's `orders/create` webhook fixture.
const ORDER_ID: &str = "820982911946154508";
const API: &str = "/admin/api/2026-07";

fn reply(exchange: &Value) -> Reply {
    let mut r = Reply::json(serde_json::to_vec(&exchange["response"]["body"]).unwrap());
    r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
    r
}

fn order_path() -> String {
    format!("{API}/orders/{ORDER_ID}.json")
}

/// Shopify's recorded order (its fulfilments), served for the webhook's order.
fn shopify_order() -> Value {
    fixture_json("shopify/rest_order.json")
}

/// Shopify's answers for the webhook fixture's order: the recorded order (its fulfilments
/// carry other tracking numbers), its fulfilment order (the recorded one, with one line item
/// per line of the webhook's order, as Shopify makes one per line), the recorded fulfilment
/// and the recorded fulfilment event.
fn shopify(mock: &MockApi) -> Value {
    mock.on(
        &order_path(),
        vec![Reply::json(serde_json::to_vec(&shopify_order()).unwrap())],
    );
    mock.on(
        &format!("{API}/orders/{ORDER_ID}/fulfillment_orders.json"),
        vec![Reply::json(
            serde_json::to_vec(&e2e::fixtures::shopify_fulfillment_orders(
                ORDER_ID.parse().unwrap(),
            ))
            .unwrap(),
        )],
    );
    let made = fixture_json("shopify/writeback/rest_2026-07_fulfillment_create_tracking_url.json");
    mock.on(&format!("{API}/fulfillments.json"), vec![reply(&made)]);
    let id = made["response"]["body"]["fulfillment"]["id"].clone();
    mock.on(
        &format!("{API}/orders/{ORDER_ID}/fulfillments/{id}/events.json"),
        vec![reply(&fixture_json(
            "shopify/writeback/rest_2026-07_fulfillment_event_create_in_transit.json",
        ))],
    );
    id
}

async fn order(app: &TestApp, s: &Session, id: &str) -> Value {
    let body = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { state shipments { id trackingNumber lines { sku quantity } } events { kind message } } }",
            json!({ "o": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

async fn sync_log(app: &TestApp, s: &Session) -> Vec<Value> {
    let connections = app
        .gql(Some(&s.access), "{ channelConnections { id } }", json!({}))
        .await;
    let id = connections["data"]["channelConnections"][0]["id"].clone();
    let body = app
        .gql(
            Some(&s.access),
            "query($c: ID!) { channelSyncLog(connectionId: $c) { kind state summary remoteId answer attempts durationMs sentAt } }",
            json!({ "c": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["channelSyncLog"].as_array().unwrap().clone()
}

fn credentials(mock: &MockApi) -> Value {
    json!({ "accessToken": "shpat_push_0123456789", "apiUrl": mock.base })
}

#[tokio::test]
async fn a_labelled_shopify_parcel_is_one_fulfilment_with_its_tracking_then_in_transit() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    let fulfilment = shopify(&mock);
    let shop = shop(&app, "push-shopify", true).await;
    let s = &shop.owner;
    let id = shopify_order_with(&app, s, credentials(&mock)).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED", "{o}");
    assert_eq!(o["shipments"].as_array().unwrap().len(), 1, "{o}");
    let parcel = &o["shipments"][0];
    let tracking = parcel["trackingNumber"].as_str().unwrap().to_owned();

    // One fulfilment, of the parcel's lines on the order's fulfilment order, with its
    // tracking; Shopify does not email the shopper (Orderflow does).
    let sent = mock.json_sent("POST", &format!("{API}/fulfillments.json"));
    assert_eq!(sent.len(), 1, "{sent:?}");
    let f = &sent[0]["fulfillment"];
    assert_eq!(f["tracking_info"]["number"], tracking.as_str());
    assert_eq!(f["notify_customer"], false);
    let by_fo = f["line_items_by_fulfillment_order"].as_array().unwrap();
    assert_eq!(by_fo.len(), 1, "{f}");
    assert_eq!(by_fo[0]["fulfillment_order_id"], 1046000780);
    let units: i64 = by_fo[0]["fulfillment_order_line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    let in_parcel: i64 = parcel["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(units, in_parcel, "{f} for {parcel}");
    let token = mock.seen.lock().unwrap().iter().find_map(|(_, p, h)| {
        p.ends_with("fulfillments.json")
            .then(|| h.clone())
            .flatten()
    });
    assert_eq!(token.as_deref(), Some("shpat_push_0123456789"));
    // Said on the timeline and in the connection's sync log, with Shopify's answer.
    let said: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "channel.pushed")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        said,
        [format!("Fulfilment sent to Shopify (tracking {tracking})")]
    );
    let log = sync_log(&app, s).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "fulfillment");
    assert_eq!(log[0]["state"], "sent");
    assert_eq!(log[0]["remoteId"], fulfilment.to_string());
    assert!(log[0]["durationMs"].as_i64().is_some());

    // Running the jobs again writes nothing more.
    drain(&app).await;
    assert_eq!(mock.hits(&format!("{API}/fulfillments.json")), 1);

    // The carrier's first scan: Shopify's fulfilment moves to in transit, once.
    let events_path = format!("{API}/orders/{ORDER_ID}/fulfillments/{fulfilment}/events.json");
    for _ in 0..2 {
        let (status, body) = track(
            &app,
            &shop.carrier,
            "easypost",
            CARRIER_SECRET,
            &easypost_event(&tracking, 2, false),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        drain(&app).await;
    }
    assert_eq!(
        mock.json_sent("POST", &events_path),
        vec![json!({ "event": { "status": "in_transit" } })]
    );
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["kind"], "in_transit", "{log:?}");
    assert_eq!(log[0]["state"], "sent");
}

#[tokio::test]
async fn a_fulfilment_whose_answer_was_lost_is_found_on_shopify_not_made_twice() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    shopify(&mock);
    // Shopify is limiting at first (429 with Retry-After: the push waits as asked), then
    // makes the fulfilment but its answer is lost (a 502 on the way back).
    mock.on(
        &order_path(),
        vec![
            Reply::status(429).with("Retry-After", "0.2"),
            Reply::json(serde_json::to_vec(&shopify_order()).unwrap()),
        ],
    );
    let made = fixture_json("shopify/writeback/rest_2026-07_fulfillment_create_tracking_url.json");
    mock.on(
        &format!("{API}/fulfillments.json"),
        vec![Reply::status(502), reply(&made)],
    );
    let shop = shop(&app, "push-shopify-lost", true).await;
    let s = &shop.owner;
    let id = shopify_order_with(&app, s, credentials(&mock)).await;
    let tracking = order(&app, s, &id).await["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(mock.hits(&order_path()), 2, "asked again after the 429");
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["state"], "waiting", "{log:?}");
    assert!(
        log[0]["answer"].as_str().unwrap().contains("502"),
        "the reason is shown: {log:?}"
    );
    // Shopify now holds a fulfilment with the parcel's tracking number.
    let mut known = shopify_order();
    known["order"]["fulfillments"][0]["tracking_number"] = json!(tracking);
    known["order"]["fulfillments"][0]["tracking_numbers"] = json!([tracking]);
    known["order"]["fulfillments"][0]["status"] = json!("success");
    mock.on(
        &order_path(),
        vec![Reply::json(serde_json::to_vec(&known).unwrap())],
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    drain(&app).await;
    assert_eq!(
        mock.hits(&format!("{API}/fulfillments.json")),
        1,
        "never made twice"
    );
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["state"], "sent", "{log:?}");
    assert_eq!(
        log[0]["remoteId"], "255858046",
        "the fulfilment Shopify already had"
    );
    assert_eq!(log[0]["attempts"], 2);
}

const WOO: &str = "/wp-json/wc/v3/orders/727";
const WOO_SECRET: &str = "woo push secret 0123456789";

/// WooCommerce's order 727 (its `order.created` webhook), with lines this shop stocks: 15
/// kettles (no warehouse holds more than 10, so two parcels) and one more item.
async fn woo_order(app: &TestApp, s: &Session, mock: &MockApi) -> String {
    let c = crate::webhooks::connect(
        app,
        s,
        "WOOCOMMERCE",
        "shop.example.com",
        WOO_SECRET,
        json!({ "consumerKey": "ck_push", "consumerSecret": "cs_push", "apiUrl": mock.base }),
    )
    .await;
    let mut o = fixture_json("woocommerce/order_created_727_wp_api_v3.json");
    o["line_items"][0]["sku"] = json!("KETTLE-1");
    o["line_items"][0]["quantity"] = json!(15);
    o["line_items"][1]["sku"] = json!("SKU2006-020");
    let body = serde_json::to_vec(&o).unwrap();
    let sig = orderflow::infra::signature::sign_base64(WOO_SECRET, &body);
    let (status, answer) = crate::webhooks::post(
        app,
        c["webhookUrl"].as_str().unwrap(),
        &[
            ("content-type", "application/json"),
            ("X-WC-Webhook-Topic", "order.created"),
            ("X-WC-Webhook-Signature", &sig),
            ("X-WC-Webhook-Delivery-ID", "push-1"),
            ("X-WC-Webhook-Source", "https://shop.example.com/"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    drain(app).await;
    let list = app
        .gql(
            Some(&s.access),
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    list["data"]["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_split_woocommerce_order_gets_a_note_per_parcel_then_completed() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    // Each note as WooCommerce's docs answer one; the order as they answer its update to
    // completed.
    let note = fixture_json("woocommerce/writeback/order_note_create_723.json");
    let mut created = Reply::json(serde_json::to_vec(&note["response"]["body"]).unwrap());
    created.status = 201;
    let completed = fixture_json("woocommerce/writeback/order_update_status_completed_727.json");
    mock.on(WOO, vec![reply(&completed)]);
    let shop = shop(&app, "push-woo", true).await;
    let s = &shop.owner;
    // GET and POST share the notes path: no notes yet, a note made, and again for the
    // second parcel.
    mock.on(
        &format!("{WOO}/notes"),
        vec![
            Reply::json(b"[]".to_vec()),
            created.clone(),
            Reply::json(b"[]".to_vec()),
            created,
        ],
    );
    let id = woo_order(&app, s, &mock).await;
    let o = order(&app, s, &id).await;
    let parcels: Vec<String> = o["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["trackingNumber"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(parcels.len(), 2, "{o}");

    // A note per parcel, each naming its own tracking number, for the shopper.
    let notes = mock.json_sent("POST", &format!("{WOO}/notes"));
    assert_eq!(notes.len(), 2, "{notes:?}");
    for n in &notes {
        assert_eq!(n["customer_note"], true);
    }
    for number in &parcels {
        assert_eq!(
            notes
                .iter()
                .filter(|n| n["note"].as_str().unwrap().contains(number.as_str()))
                .count(),
            1,
            "{number} in {notes:?}"
        );
    }
    // Completed once, after both notes, with both parcels' tracking in the order meta.
    let bodies = mock.bodies.lock().unwrap().clone();
    let writes: Vec<(String, String)> = bodies
        .iter()
        .filter(|(m, ..)| m != "GET")
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    assert_eq!(
        writes,
        vec![
            ("POST".to_owned(), format!("{WOO}/notes")),
            ("POST".to_owned(), format!("{WOO}/notes")),
            ("PUT".to_owned(), WOO.to_owned()),
        ]
    );
    let put = &mock.json_sent("PUT", WOO)[0];
    assert_eq!(put["status"], "completed");
    let tracked: Vec<&str> = put["meta_data"][0]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tracking_number"].as_str().unwrap())
        .collect();
    assert_eq!(tracked.len(), 2, "{put}");
    let auth = mock.seen.lock().unwrap()[0].2.clone().unwrap_or_default();
    assert!(auth.starts_with("Basic "), "{auth}");
    let log = sync_log(&app, s).await;
    let states: Vec<(&str, &str)> = log
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("completed", "sent"),
            ("fulfillment", "sent"),
            ("fulfillment", "sent")
        ],
        "{log:?}"
    );
}

#[tokio::test]
async fn an_order_cancelled_in_orderflow_is_cancelled_on_shopify_after_its_fulfilment() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    let fulfilment = shopify(&mock);
    let shop = shop(&app, "push-shopify-cancel", true).await;
    let s = &shop.owner;
    let id = shopify_order_with(&app, s, credentials(&mock)).await;
    assert_eq!(mock.hits(&format!("{API}/fulfillments.json")), 1);
    // Shopify holds the fulfilment Orderflow made (and no cancellation); once cancelled,
    // it shows it cancelled.
    let mut known = shopify_order();
    known["order"]["fulfillments"][0]["id"] = fulfilment.clone();
    known["order"]["fulfillments"][0]["status"] = json!("success");
    let mut after = known.clone();
    after["order"]["fulfillments"][0]["status"] = json!("cancelled");
    mock.on(
        &order_path(),
        vec![
            Reply::json(serde_json::to_vec(&known).unwrap()),
            Reply::json(serde_json::to_vec(&after).unwrap()),
        ],
    );
    let cancel_fulfilment = format!("{API}/fulfillments/{fulfilment}/cancel.json");
    mock.on(
        &cancel_fulfilment,
        vec![reply(&fixture_json(
            "shopify/writeback/rest_2026-07_fulfillment_cancel.json",
        ))],
    );
    let cancel_order = format!("{API}/orders/{ORDER_ID}/cancel.json");
    mock.on(
        &cancel_order,
        vec![reply(&fixture_json(
            "shopify/writeback/rest_2026-07_order_cancel.json",
        ))],
    );

    // Staff void the label and cancel the order before the carrier has the parcel: Shopify
    // hears both, in that order: the fulfilment cancelled, then the order, once each.
    let parcel = order(&app, s, &id).await["shipments"][0]["id"].clone();
    let body = app
        .gql(
            Some(&s.access),
            "mutation($s: ID!) { voidShippingLabel(input: {shipmentId: $s, reason: \"wrong box\"}) { userErrors { field message } } }",
            json!({ "s": parcel }),
        )
        .await;
    assert_eq!(
        body["data"]["voidShippingLabel"]["userErrors"],
        json!([]),
        "{body}"
    );
    let body = app
        .gql(
            Some(&s.access),
            "mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: \"shopper changed their mind\"}) { order { state } userErrors { field message } } }",
            json!({ "o": id }),
        )
        .await;
    assert_eq!(
        body["data"]["cancelOrder"]["order"]["state"], "CANCELLED",
        "{body}"
    );
    drain(&app).await;
    let writes: Vec<String> = mock
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, ..)| m == "POST")
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(
        writes,
        vec![
            format!("{API}/fulfillments.json"),
            cancel_fulfilment,
            cancel_order.clone()
        ]
    );
    assert_eq!(
        mock.json_sent("POST", &cancel_order),
        vec![json!({ "reason": "other", "email": false, "restock": true })]
    );
    let o = order(&app, s, &id).await;
    assert!(
        o["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "Order cancelled on Shopify"),
        "{o}"
    );
    let log = sync_log(&app, s).await;
    let kinds: Vec<(&str, &str)> = log
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["state"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("cancel", "sent")), "{log:?}");
}

#[tokio::test]
async fn a_cancellation_made_on_shopify_is_not_sent_back_to_it() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    shopify(&mock);
    let shop = shop(&app, "push-shopify-echo", true).await;
    let s = &shop.owner;
    let secret = "shpss_push_echo_0123456789";
    let c = crate::webhooks::connect(
        &app,
        s,
        "SHOPIFY",
        "demo.myshopify.com",
        secret,
        credentials(&mock),
    )
    .await;
    // Shopify's own sample order, cancelled on Shopify.
    let body = crate::connectors::fixture("shopify/webhook_orders_create.json");
    let (status, _) = crate::webhooks::shopify_delivery(
        &app,
        c["webhookUrl"].as_str().unwrap(),
        "orders/create",
        "wh-echo-1",
        &body,
        secret,
    )
    .await;
    assert_eq!(status, 200);
    drain(&app).await;
    let list = app
        .gql(
            Some(&s.access),
            "{ orders(first: 1) { edges { node { state } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["orders"]["edges"][0]["node"]["state"],
        "CANCELLED"
    );
    assert!(sync_log(&app, s).await.is_empty());
    assert_eq!(
        mock.hits(&format!("{API}/orders/{ORDER_ID}/cancel.json")),
        0
    );
}

#[tokio::test]
async fn a_bigcommerce_parcel_is_a_shipment_of_its_order_products_made_once() {
    let app = spawn_app_reaching_loopback().await;
    let api = MockApi::spawn("x-auth-token");
    let store = "/stores/abc123/v2";
    let fixture = crate::connectors::fixture;
    // The order BigCommerce's webhook names, as its docs answer for it.
    api.on(
        &format!("{store}/orders/250"),
        vec![Reply::json(fixture("bigcommerce/v2_order_get.json"))],
    );
    api.on(
        &format!("{store}/orders/218/products"),
        vec![Reply::json(fixture("bigcommerce/v2_order_products.json"))],
    );
    api.on(
        &format!("{store}/orders/218/shippingaddresses"),
        vec![Reply::json(fixture(
            "bigcommerce/v2_order_shipping_addresses.json",
        ))],
    );
    // Its shipments: none of ours at first, then (after a lost answer) the one made.
    let recorded = fixture_json("bigcommerce/v2_order_shipments.json");
    api.on(
        &format!("{store}/orders/218/shipping_addresses"),
        vec![Reply::json(fixture(
            "bigcommerce/v2_order_shipping_addresses.json",
        ))],
    );
    let made = fixture_json("bigcommerce/writeback/v2_order_shipment_create_POST_201.json");
    api.on(
        &format!("{store}/orders/218/shipments"),
        vec![
            Reply::json(serde_json::to_vec(&recorded).unwrap()),
            Reply::status(503),
        ],
    );
    let shop = shop(&app, "push-bigcommerce", true).await;
    let s = &shop.owner;
    for sku in ["S-ORAN", "ABS"] {
        let p = crate::catalog::create_product(&app, s, json!({ "title": sku, "variants": [{ "sku": sku, "price": "50.00", "weightGrams": 400 }] })).await;
        assert_eq!(p["data"]["createProduct"]["userErrors"], json!([]), "{p}");
        crate::fulfillment::ok(&app, s, "receiveStock", "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 5}) { userErrors { field message } } }", json!({ "s": sku, "w": shop.east })).await;
    }
    let secret = "bigcommerce push hook secret";
    let c = crate::webhooks::connect(
        &app,
        s,
        "BIGCOMMERCE",
        "abc123",
        secret,
        json!({ "storeHash": "abc123", "accessToken": "bc-push-token", "apiUrl": api.base }),
    )
    .await;
    let (status, _) = crate::webhooks::post(
        &app,
        c["webhookUrl"].as_str().unwrap(),
        &[
            ("content-type", "application/json"),
            ("X-Orderflow-Secret", secret),
        ],
        &fixture("bigcommerce/webhook_store_order_created.json"),
    )
    .await;
    assert_eq!(status, 200);
    drain(&app).await;
    // BigCommerce's sample order does not add up (held until staff resolve it) and awaits
    // payment (staff approve it): then it is labelled.
    let list = app
        .gql(
            Some(&s.access),
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let id = list["data"]["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issues = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { issues { code field } } }",
            json!({ "o": id }),
        )
        .await;
    let mut steps: Vec<(&str, String)> = issues["data"]["order"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                "resolveOrderIssue",
                format!(
                    ", code: {}, field: {}, reason: \"checked in BigCommerce\"",
                    i["code"].as_str().unwrap(),
                    i["field"]
                ),
            )
        })
        .collect();
    steps.push(("releaseOrder", String::new()));
    for (m, extra) in steps {
        let body = app
            .gql(
                Some(&s.access),
                &format!("mutation($o: ID!) {{ {m}(input: {{orderId: $o{extra}}}) {{ userErrors {{ field message }} }} }}"),
                json!({ "o": id }),
            )
            .await;
        assert_eq!(body["data"][m]["userErrors"], json!([]), "{m}: {body}");
        drain(&app).await;
    }
    if order(&app, s, &id).await["state"] == "PAYMENT_REVIEW" {
        let body = app
            .gql(
                Some(&s.access),
                "mutation($o: ID!) { approveOrder(input: {orderId: $o, reason: \"paid by card on BigCommerce\"}) { userErrors { field message } } }",
                json!({ "o": id }),
            )
            .await;
        assert_eq!(
            body["data"]["approveOrder"]["userErrors"],
            json!([]),
            "{body}"
        );
        drain(&app).await;
    }
    let o = order(&app, s, &id).await;
    let tracking = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap_or_else(|| panic!("labelled: {o}"))
        .to_owned();
    // The create's answer is lost (503 on the second call to the path): the next run finds
    // the shipment BigCommerce made by its tracking number.
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["state"], "waiting", "{log:?}");
    let sent = api.json_sent("POST", &format!("{store}/orders/218/shipments"));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["tracking_number"], tracking.as_str());
    assert_eq!(sent[0]["order_address_id"], 132);
    assert_eq!(
        sent[0]["items"],
        json!([{ "order_product_id": 65, "quantity": 1 }, { "order_product_id": 66, "quantity": 1 }])
    );
    let mut holding = recorded.clone();
    let mut ours = made["response"]["body"].clone();
    ours["tracking_number"] = json!(tracking);
    holding.as_array_mut().unwrap().push(ours);
    api.on(
        &format!("{store}/orders/218/shipments"),
        vec![Reply::json(serde_json::to_vec(&holding).unwrap())],
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    drain(&app).await;
    assert_eq!(
        api.json_sent("POST", &format!("{store}/orders/218/shipments"))
            .len(),
        1
    );
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["state"], "sent", "{log:?}");
    assert_eq!(
        log[0]["remoteId"],
        made["response"]["body"]["id"].to_string()
    );
    assert!(
        api.seen
            .lock()
            .unwrap()
            .iter()
            .all(|(_, _, token)| token.as_deref() == Some("bc-push-token"))
    );
}

#[tokio::test]
async fn a_push_shopify_refuses_stops_with_its_words_on_the_order_and_the_connection() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    shopify(&mock);
    // Shopify's answer to a revoked token.
    mock.on(
        &format!("{API}/orders/{ORDER_ID}.json"),
        vec![Reply {
            status: 401,
            ..Reply::json(
                br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#
                    .to_vec(),
            )
        }],
    );
    let shop = shop(&app, "push-shopify-refused", true).await;
    let s = &shop.owner;
    let id = shopify_order_with(&app, s, credentials(&mock)).await;
    drain(&app).await;
    assert_eq!(mock.hits(&order_path()), 1, "a refusal is not retried");
    assert_eq!(mock.hits(&format!("{API}/fulfillments.json")), 0);
    let log = sync_log(&app, s).await;
    assert_eq!(log[0]["state"], "failed", "{log:?}");
    assert!(
        log[0]["answer"]
            .as_str()
            .unwrap()
            .contains("Invalid API key"),
        "{log:?}"
    );
    let o = order(&app, s, &id).await;
    let failed: Vec<&Value> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "channel.push_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{o}");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Shopify did not take the fulfillment push: Shopify GET order: HTTP 401"),
        "{failed:?}"
    );
    let c = app
        .gql(
            Some(&s.access),
            "{ channelConnections { lastError } }",
            json!({}),
        )
        .await;
    assert!(
        c["data"]["channelConnections"][0]["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("Invalid API key"),
        "{c}"
    );
}

/// The pace of writes to one connection is one bucket for every worker: in Redis when it is
/// configured (the PostgreSQL + Redis run), in the process otherwise.
#[tokio::test]
async fn a_connections_call_budget_is_shared_and_refills_at_its_rate() {
    use orderflow::infra::ratelimit::Bucket;
    let app = crate::helpers::spawn_app().await;
    let key = format!("channel:{}", uuid::Uuid::now_v7());
    let b = Bucket {
        rate: 2.0,
        burst: 3.0,
    };
    let limiter = &app.state.limiter;
    assert_eq!(
        limiter.take(&key, b, 3.0).await.unwrap(),
        std::time::Duration::ZERO
    );
    let wait = limiter.take(&key, b, 1.0).await.unwrap();
    // Empty: the next call is at most half a second away (2 a second), and none is taken.
    assert!(
        !wait.is_zero() && wait <= std::time::Duration::from_millis(500),
        "{wait:?}"
    );
    tokio::time::sleep(wait).await;
    assert_eq!(
        limiter.take(&key, b, 1.0).await.unwrap(),
        std::time::Duration::ZERO
    );
    // Another connection's budget is its own.
    let other = format!("channel:{}", uuid::Uuid::now_v7());
    assert_eq!(
        limiter.take(&other, b, 3.0).await.unwrap(),
        std::time::Duration::ZERO
    );
}

const AMAZON_ORDER: &str = "902-1845936-5435065";
/// An Amazon order due to ship within the hour, whose item no warehouse stocks.
const AMAZON_LATE: &str = "902-1845936-0000001";

/// Amazon's sandbox order as `id`, to ship by `ship_by`.
fn amazon_order(id: &str, ship_by: chrono::DateTime<chrono::Utc>) -> Value {
    let mut o =
        fixture_json("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json")["payload"]
            .clone();
    let now = chrono::Utc::now();
    o["AmazonOrderId"] = json!(id);
    o["PurchaseDate"] = json!((now - chrono::Duration::hours(1)).to_rfc3339());
    o["LastUpdateDate"] = json!(now.to_rfc3339());
    o["EarliestShipDate"] = json!(now.to_rfc3339());
    o["LatestShipDate"] = json!(ship_by.to_rfc3339());
    o
}

/// The SP-API on loopback: Login with Amazon, `orders` (id, ship-by time, the SKU of each
/// item: their items, address and buyer read through a restricted data token) and
/// `confirmShipment`'s recorded 204.
pub fn amazon_api(mock: &MockApi, orders: &[(&str, chrono::DateTime<chrono::Utc>, &[&str])]) {
    mock.on(
        "/auth/o2/token",
        vec![Reply::json(
            br#"{"access_token":"Atza|lwa-token","token_type":"bearer","expires_in":3600}"#
                .to_vec(),
        )],
    );
    mock.on(
        "/tokens/2021-03-01/restrictedDataToken",
        vec![Reply::json(
            br#"{"restrictedDataToken":"Atz.sprdt|rdt-1","expiresIn":3600}"#.to_vec(),
        )],
    );
    let list: Vec<Value> = orders
        .iter()
        .map(|(id, ship_by, _)| amazon_order(id, *ship_by))
        .collect();
    mock.on(
        "/orders/v0/orders",
        vec![Reply::json(
            serde_json::to_vec(&json!({ "payload": { "Orders": list } })).unwrap(),
        )],
    );
    let items = fixture_json("amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json");
    for (id, _, skus) in orders {
        let mut these = items.clone();
        let template = items["payload"]["OrderItems"][0].clone();
        these["payload"]["AmazonOrderId"] = json!(id);
        these["payload"]["OrderItems"] = skus
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                let mut item = template.clone();
                item["SellerSKU"] = json!(sku);
                if i > 0 {
                    item["OrderItemId"] = json!(format!("0501585115{i:04}"));
                }
                item
            })
            .collect();
        mock.on(
            &format!("/orders/v0/orders/{id}/orderItems"),
            vec![Reply::json(serde_json::to_vec(&these).unwrap())],
        );
        for (part, file) in [
            ("address", "getOrderAddress"),
            ("buyerInfo", "getOrderBuyerInfo"),
        ] {
            mock.on(
                &format!("/orders/v0/orders/{id}/{part}"),
                vec![Reply::json(
                    serde_json::to_vec(&fixture_json(&format!(
                        "amazon/sp_api_orders_v0_{file}_example.json"
                    )))
                    .unwrap(),
                )],
            );
        }
        mock.on(
            &format!("/orders/v0/orders/{id}/shipmentConfirmation"),
            vec![reply(&fixture_json(
                "amazon/writeback/sp_api_orders_v0_confirmShipment_sandbox_204.json",
            ))],
        );
    }
}

pub fn amazon_credentials(mock: &MockApi) -> Value {
    json!({
        "clientId": "amzn1.application-oa2-client.x", "clientSecret": "lwa-secret", "refreshToken": "Atzr|refresh",
        "sellerId": "A3SELLERID", "marketplaceId": "ATVPDKIKX0DER", "apiUrl": mock.base, "tokenUrl": format!("{}/auth/o2/token", mock.base)
    })
}

#[tokio::test]
async fn an_amazon_order_is_confirmed_before_its_ship_by_time_and_one_at_risk_is_flagged() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-amz-access-token");
    let ship_by = chrono::Utc::now() + chrono::Duration::days(2);
    let soon = chrono::Utc::now() + chrono::Duration::minutes(50);
    amazon_api(
        &mock,
        &[
            (AMAZON_ORDER, ship_by, &["NABetaASINB00551Q3CS"]),
            (AMAZON_LATE, soon, &["NOT-STOCKED-1"]),
        ],
    );
    let shop = shop(&app, "push-amazon", true).await;
    let s = &shop.owner;
    let made = crate::catalog::create_product(&app, s, json!({ "title": "Beta item", "variants": [{ "sku": "NABetaASINB00551Q3CS", "price": "10.00", "weightGrams": 300 }] })).await;
    assert_eq!(
        made["data"]["createProduct"]["userErrors"],
        json!([]),
        "{made}"
    );
    crate::fulfillment::ok(&app, s, "receiveStock", "mutation($w: ID!) { receiveStock(input: {sku: \"NABetaASINB00551Q3CS\", warehouseId: $w, quantity: 5}) { userErrors { field message } } }", json!({ "w": shop.east })).await;
    crate::webhooks::connect_orders_only(
        &app,
        s,
        "AMAZON",
        "A3SELLERID",
        "",
        amazon_credentials(&mock),
    )
    .await;
    drain(&app).await;

    let list = app
        .gql(
            Some(&s.access),
            "{ orders { edges { node { id name state shipBy shipments { trackingNumber } events { kind message reason } } } } }",
            json!({}),
        )
        .await;
    let found = |name: &str| {
        list["data"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {list}"))
    };
    // The stocked order ships; Amazon hears of its package, well before the ship-by time.
    let shipped = found(AMAZON_ORDER);
    assert_eq!(shipped["state"], "SHIPPED", "{shipped}");
    assert_eq!(
        shipped["shipBy"].as_str().map(|t| t[..16].to_owned()),
        Some(ship_by.format("%Y-%m-%dT%H:%M").to_string()),
        "Amazon's LatestShipDate"
    );
    let tracking = shipped["shipments"][0]["trackingNumber"].as_str().unwrap();
    let confirmed = mock.json_sent(
        "POST",
        &format!("/orders/v0/orders/{AMAZON_ORDER}/shipmentConfirmation"),
    );
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    let package = &confirmed[0]["packageDetail"];
    assert_eq!(package["trackingNumber"], tracking);
    assert_eq!(
        package["orderItems"],
        json!([{ "orderItemId": "05015851154158", "quantity": 1 }])
    );
    assert_eq!(confirmed[0]["marketplaceId"], "ATVPDKIKX0DER");
    let log = sync_log(&app, s).await;
    let sent = log
        .iter()
        .find(|l| l["kind"] == "fulfillment")
        .unwrap_or_else(|| panic!("{log:?}"));
    assert_eq!(sent["state"], "sent", "{log:?}");
    let at = chrono::DateTime::parse_from_rfc3339(sent["sentAt"].as_str().unwrap()).unwrap();
    assert!(at < ship_by, "confirmed at {at}, ship by {ship_by}");
    assert!(
        !shipped["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "channel.ship_by_at_risk"),
        "{shipped}"
    );

    // The order due within the hour cannot ship: staff are told now, with the time left.
    let late = found(AMAZON_LATE);
    assert_ne!(late["state"], "SHIPPED", "{late}");
    let flagged: Vec<&Value> = late["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "channel.ship_by_at_risk")
        .collect();
    assert_eq!(flagged.len(), 1, "{late}");
    assert_eq!(
        flagged[0]["message"],
        "Not yet confirmed shipped to Amazon: it has not shipped"
    );
    let tasks = app
        .gql(
            Some(&s.access),
            "{ staffTasks { title orderId } }",
            json!({}),
        )
        .await;
    let titles: Vec<&str> = tasks["data"]["staffTasks"]
        .as_array()
        .unwrap_or_else(|| panic!("{tasks}"))
        .iter()
        .filter(|t| t["orderId"] == late["id"])
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 1, "{tasks}");
    assert!(
        titles[0].starts_with(&format!("Confirm {AMAZON_LATE} shipped on Amazon by "))
            && titles[0].contains("(in "),
        "{titles:?}"
    );
}
