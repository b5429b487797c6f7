//! A label bought from a carrier's API survives a crash at the worst moment: the worker (and
//! the server) are killed with SIGKILL after EasyPost answered the purchase and before
//! Orderflow wrote the answer down; the next run asks EasyPost what the shipment has and
//! takes that label instead of buying a second one.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::orderflow::{Environment, Orderflow};
use e2e::remote_api::{MockApi, Reply};
use e2e::shop;
use serde_json::{Value, json};

const SHIPMENT: &str = "shp_16578f588f9546ec914afd2474e24ff5";
const LABEL: &str = "/files/postage_label/20250307/e813a2cf6d079c4ea49714758be7711be0.png";

fn fixture(path: &str) -> Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/fixtures")
        .join(path);
    serde_json::from_slice(&std::fs::read(full).unwrap()).unwrap()
}

/// EasyPost's recorded create and buy; asked for the shipment afterwards, EasyPost answers
/// with the bought shipment (the object its purchase returned).
fn easypost(mock: &MockApi) {
    let reply = |status: u16, body: &Value| {
        let mut r = Reply::json(serde_json::to_vec(body).unwrap());
        r.status = status;
        r
    };
    let created = fixture("easypost/api/shipment_buy_1_POST_201.json");
    let mut bought = fixture("easypost/api/shipment_buy_2_POST_200.json");
    bought["response"]["body"]["postage_label"]["label_url"] =
        json!(format!("{}{LABEL}", mock.base));
    mock.on(
        "/v2/shipments",
        vec![reply(201, &created["response"]["body"])],
    );
    mock.on(
        &format!("/v2/shipments/{SHIPMENT}/buy"),
        vec![reply(200, &bought["response"]["body"])],
    );
    mock.on(
        &format!("/v2/shipments/{SHIPMENT}"),
        vec![reply(200, &bought["response"]["body"])],
    );
    mock.on(
        LABEL,
        vec![Reply {
            status: 200,
            headers: vec![("content-type", "image/png".into())],
            body: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            delay: None,
        }],
    );
}

async fn first_order(app: &Orderflow, token: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = app
            .graphql(
                Some(token),
                "{ orders(first: 1) { edges { node { id } } } }",
                json!({}),
            )
            .await
            .unwrap();
        if let Some(id) = body["data"]["orders"]["edges"][0]["node"]["id"].as_str() {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "no order: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_between_the_carriers_answer_and_our_commit_buys_no_second_label() {
    let mock = MockApi::spawn("authorization");
    easypost(&mock);
    let mut env = Environment::new().await.unwrap();
    env.set_env("ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK", "true");
    // Every process started now stops for good right after a carrier answers a purchase.
    env.set_env("ORDERFLOW_FAULT_PAUSE", "label.answered");
    env.set_env("ORDERFLOW_WORKERS", "1");
    let app = env.start().await.unwrap();
    let shop = shop::open(&app, "Kill Shop", "owner@kill-shop.example")
        .await
        .unwrap();
    let t = shop.token.as_str();
    // EasyPost beside the shop's rate-card carrier: its 6.07 beats the card's 7.50.
    app.mutate(t, "createCarrier", "mutation($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { id } userErrors { field message } } }",
        json!({ "i": { "code": "easypost", "name": "EasyPost", "trackingFormat": "ORDERFLOW", "provider": "EASYPOST",
            "apiKey": "EZTK_e2e_0123456789", "apiBase": mock.base, "webhookSecret": "easypost tracking secret e2e" } }))
        .await
        .unwrap();
    app.mutate(t, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {labelPick: CHEAPEST}) { userErrors { field message } } }", json!({}))
        .await
        .unwrap();
    let mut worker = env.spawn_worker(2).unwrap();
    shop::shopify_order(&app, &shop, "wh-kill-label-1")
        .await
        .unwrap();
    let id = first_order(&app, t).await;

    // EasyPost has sold the label; whichever process bought it is now stopped before writing.
    let buy = format!("/v2/shipments/{SHIPMENT}/buy");
    let deadline = Instant::now() + Duration::from_secs(60);
    while mock.hits(&buy) == 0 {
        assert!(
            Instant::now() < deadline,
            "no purchase was made\n{}\n{}",
            app.stderr(),
            worker.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.kill().unwrap();
    drop(app);

    // Started again without the fault: the purchase's job comes back when its lease lapses.
    env.set_env("ORDERFLOW_FAULT_PAUSE", "");
    let app = env.start().await.unwrap();
    let _worker = env.spawn_worker(2).unwrap();
    let query = "query($o: ID!) { order(id: $o) { state shipments { trackingNumber cost labelWait } events { kind } } }";
    let deadline = Instant::now() + Duration::from_secs(180);
    let order = loop {
        let body = app
            .graphql(Some(t), query, json!({ "o": id }))
            .await
            .unwrap();
        let order = body["data"]["order"].clone();
        if order["state"] == "SHIPPED" {
            break order;
        }
        assert!(
            Instant::now() < deadline,
            "never shipped: {order}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        order["shipments"][0]["trackingNumber"],
        "9400100208303109505657"
    );
    assert_eq!(order["shipments"][0]["cost"], "6.07");
    assert!(order["shipments"][0]["labelWait"].is_null(), "{order}");
    assert_eq!(mock.hits(&buy), 1, "bought once");
    assert!(
        mock.hits(&format!("/v2/shipments/{SHIPMENT}")) >= 1,
        "asked EasyPost before buying again"
    );
    let created = order["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "shipment.label_created")
        .count();
    assert_eq!(created, 1, "{order}");
}
