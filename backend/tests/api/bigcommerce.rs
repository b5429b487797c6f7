//! BigCommerce end to end: the light webhook, the secret header, the order fetched from a
//! local stand-in for the v2 API serving BigCommerce's own payloads — through a rate limit and
//! a server error — and bad credentials parked as needing attention.

use orderflow::jobs::worker;
use serde_json::json;

use crate::connectors::fixture;
use crate::helpers::{count_rows, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};
use crate::webhooks::{connect, post};

const SECRET: &str = "bigcommerce hook header secret";
const ORDER: &str = "{ orders { edges { node { name externalId channel financialStatus lines { sku quantity unitPrice } shippingAddress { city postalCode } customer { email } events { kind actor } } } } }";

#[tokio::test]
async fn a_bigcommerce_webhook_fetches_the_order_through_rate_limits_and_errors() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app.sign_up("BC Shop", "owner@bc-shop.example").await;
    let api = MockApi::spawn("x-auth-token");
    api.on(
        "/stores/abc123/v2/orders/250",
        vec![Reply::json(fixture("bigcommerce/v2_order_get.json"))],
    );
    api.on(
        "/stores/abc123/v2/orders/218/products",
        vec![
            Reply::status(429).with("X-Rate-Limit-Time-Reset-Ms", "150"),
            Reply::json(fixture("bigcommerce/v2_order_products.json")),
        ],
    );
    api.on(
        "/stores/abc123/v2/orders/218/shippingaddresses",
        vec![
            Reply::status(503),
            Reply::json(fixture("bigcommerce/v2_order_shipping_addresses.json")),
        ],
    );
    let c = connect(
        &app,
        &owner,
        "BIGCOMMERCE",
        "abc123",
        SECRET,
        json!({ "storeHash": "abc123", "accessToken": "bc-token-1", "apiUrl": api.base }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    let body = fixture("bigcommerce/webhook_store_order_created.json");

    let (status, _) = post(
        &app,
        path,
        &[
            ("content-type", "application/json"),
            ("X-Orderflow-Secret", "wrong"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 401);
    let (status, answer) = post(
        &app,
        path,
        &[
            ("content-type", "application/json"),
            ("X-Orderflow-Secret", SECRET),
        ],
        &body,
    )
    .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    let (_, again) = post(
        &app,
        path,
        &[
            ("content-type", "application/json"),
            ("X-Orderflow-Secret", SECRET),
        ],
        &body,
    )
    .await;
    assert_eq!(
        again["status"], "duplicate",
        "BigCommerce's payload hash identifies a redelivery"
    );
    worker::drain(&app.state).await.unwrap();

    assert_eq!(
        api.hits("/stores/abc123/v2/orders/218/products"),
        2,
        "retried after the rate limit"
    );
    assert_eq!(
        api.hits("/stores/abc123/v2/orders/218/shippingaddresses"),
        2,
        "retried after the 503"
    );
    assert!(
        api.seen
            .lock()
            .unwrap()
            .iter()
            .all(|(_, _, token)| token.as_deref() == Some("bc-token-1"))
    );
    let found = app.gql(Some(&owner.access), ORDER, json!({})).await;
    let o = &found["data"]["orders"]["edges"][0]["node"];
    assert_eq!(
        (
            o["name"].as_str(),
            o["externalId"].as_str(),
            o["channel"].as_str()
        ),
        (Some("#218"), Some("218"), Some("BIGCOMMERCE"))
    );
    assert_eq!(o["financialStatus"], "AUTHORIZED");
    assert_eq!(
        o["lines"][0],
        json!({ "sku": "S-ORAN", "quantity": 1, "unitPrice": "55.99" })
    );
    assert_eq!(
        o["shippingAddress"],
        json!({ "city": "San Antonio", "postalCode": "78251" })
    );
    assert_eq!(o["customer"]["email"], "janedoe@example.com");
    assert_eq!(o["events"][0]["actor"], "BigCommerce (abc123)");
}

#[tokio::test]
async fn refused_credentials_park_the_delivery_with_the_platforms_answer() {
    let app = spawn_app_reaching_loopback().await;
    let owner = app.sign_up("BC Denied", "owner@bc-denied.example").await;
    let api = MockApi::spawn("x-auth-token");
    api.on("/stores/zz9/v2/orders/250", vec![Reply::status(401)]);
    let c = connect(
        &app,
        &owner,
        "BIGCOMMERCE",
        "zz9",
        SECRET,
        json!({ "storeHash": "zz9", "accessToken": "revoked", "apiUrl": api.base }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap();
    post(
        &app,
        path,
        &[("X-Orderflow-Secret", SECRET)],
        &fixture("bigcommerce/webhook_store_order_created.json"),
    )
    .await;
    worker::drain(&app.state).await.unwrap();
    assert_eq!(
        api.hits("/stores/zz9/v2/orders/250"),
        1,
        "a 401 is not retried"
    );
    assert_eq!(count_rows(&app, "orders").await, 0);
    let body = app
        .gql(
            Some(&owner.access),
            "{ channelDeliveries(status: NEEDS_ATTENTION) { edges { node { error } } } }",
            json!({}),
        )
        .await;
    let error = body["data"]["channelDeliveries"]["edges"][0]["node"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("401"), "{body}");
}
