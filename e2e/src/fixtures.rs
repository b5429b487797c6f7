//! The platforms' own payloads (`backend/tests/fixtures`, see its SOURCES files), for tests
//! that serve them from a [`crate::remote_api::MockApi`].

// Test support: a missing fixture should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::remote_api::{MockApi, Reply};

/// A fixture's JSON, by its path under `backend/tests/fixtures`.
pub fn json(path: &str) -> Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/tests/fixtures")
        .join(path);
    serde_json::from_slice(&std::fs::read(&full).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// `v` as a 200 JSON answer.
pub fn answer(v: &Value) -> Reply {
    Reply::json(serde_json::to_vec(v).unwrap())
}

/// A recorded exchange's answer: its status and body.
pub fn recorded(exchange: &Value) -> Reply {
    let mut r = answer(&exchange["response"]["body"]);
    r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
    r
}

/// Shopify's recorded fulfilment order list, for the order of its `orders/create` webhook
/// fixture (as `order_id`): one line item per line of that order, as Shopify makes one per
/// line. The list's body, not the exchange.
pub fn shopify_fulfillment_orders(order_id: i64) -> Value {
    let mut fos = json("shopify/writeback/rest_2026-07_fulfillment_orders_list.json");
    let webhook = json("shopify/webhook_orders_create.json");
    let template = fos["response"]["body"]["fulfillment_orders"][0]["line_items"][0].clone();
    let items: Vec<Value> = webhook["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut item = template.clone();
            item["id"] = json!(template["id"].as_i64().unwrap() + i as i64);
            item["line_item_id"] = line["id"].clone();
            item["quantity"] = line["quantity"].clone();
            item["fulfillable_quantity"] = line["quantity"].clone();
            item
        })
        .collect();
    let body = &mut fos["response"]["body"];
    body["fulfillment_orders"][0]["line_items"] = json!(items);
    body["fulfillment_orders"][0]["order_id"] = json!(order_id);
    body.take()
}

/// The id of Amazon's sandbox order.
pub const AMAZON_ORDER: &str = "902-1845936-5435065";

/// Amazon's SP-API serving one order for a kettle (its sandbox order, `status`, placed an
/// hour ago, to ship by `ship_by`): Login with Amazon, the order list, its items, and its
/// address and buyer through a restricted data token.
pub fn serve_amazon_order(mock: &MockApi, status: &str, ship_by: chrono::DateTime<chrono::Utc>) {
    mock.on(
        "/auth/o2/token",
        vec![answer(
            &json!({ "access_token": "Atza|e2e", "token_type": "bearer", "expires_in": 3600 }),
        )],
    );
    mock.on(
        "/tokens/2021-03-01/restrictedDataToken",
        vec![answer(
            &json!({ "restrictedDataToken": "Atz.sprdt|e2e", "expiresIn": 3600 }),
        )],
    );
    let now = chrono::Utc::now();
    let mut order =
        json("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json")["payload"].clone();
    order["OrderStatus"] = json!(status);
    order["PurchaseDate"] = json!((now - chrono::Duration::hours(1)).to_rfc3339());
    order["LastUpdateDate"] = json!(now.to_rfc3339());
    order["LatestShipDate"] = json!(ship_by.to_rfc3339());
    mock.on(
        "/orders/v0/orders",
        vec![answer(&json!({ "payload": { "Orders": [order] } }))],
    );
    let mut items = json("amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json");
    items["payload"]["OrderItems"][0]["SellerSKU"] = json!("KETTLE-1");
    mock.on(
        &format!("/orders/v0/orders/{AMAZON_ORDER}/orderItems"),
        vec![answer(&items)],
    );
    for (part, file) in [
        ("address", "getOrderAddress"),
        ("buyerInfo", "getOrderBuyerInfo"),
    ] {
        mock.on(
            &format!("/orders/v0/orders/{AMAZON_ORDER}/{part}"),
            vec![answer(&json(&format!(
                "amazon/sp_api_orders_v0_{file}_example.json"
            )))],
        );
    }
}
