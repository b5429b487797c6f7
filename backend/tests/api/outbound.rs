//! Outbound webhooks to a receiver on loopback: signed as documented (checked here with an
//! independent HMAC), retried with backoff when the receiver fails, every attempt in the log,
//! redelivered on demand, and only the events subscribed to.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::engine::drain;
use crate::fulfillment::{kettles, ok, shop, us_address};
use crate::helpers::{TestApp, fresh_settings, owner_connection, spawn_with};
use crate::refunds::refund;

/// What a receiver saw of one request: signature, event, delivery id, body.
pub type Request = (String, String, String, String);

/// A receiver that answers with the scripted statuses in turn (then 200), recording each
/// request's signature, event, delivery id and body.
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Request>>>,
    _server: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub fn spawn(script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/orderflow", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let script = Arc::new(Mutex::new(script));
        let (s, w) = (script.clone(), seen.clone());
        let server = HttpServer::new(move || {
            let (script, seen) = (s.clone(), w.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (script, seen) = (script.clone(), seen.clone());
                async move {
                    let h = |n: &str| {
                        req.headers()
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    seen.lock().unwrap().push((
                        h("x-orderflow-signature"),
                        h("x-orderflow-event"),
                        h("x-orderflow-delivery"),
                        String::from_utf8_lossy(&body).into_owned(),
                    ));
                    let status = {
                        let mut s = script.lock().unwrap();
                        if s.is_empty() { 200 } else { s.remove(0) }
                    };
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .body(format!("answered {status}"))
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url,
            seen,
            _server: handle,
        }
    }

    pub fn seen(&self) -> Vec<Request> {
        self.seen.lock().unwrap().clone()
    }
}

/// The documented check: `v1` = hex HMAC-SHA256 of `"<t>.<body>"` under the secret.
pub fn verifies(header: &str, body: &str, secret: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_owned()),
            Some(("v1", v)) => v1 = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    age.abs() < 300 && expected == v1
}

/// Makes retried deliveries due now (the queue's backoff would wait seconds to minutes).
async fn due_now(app: &TestApp) {
    let db = owner_connection(app).await;
    db.execute_unprepared(
        "UPDATE jobs SET run_at = created_at WHERE kind = 'webhook.deliver' AND status = 'queued'",
    )
    .await
    .unwrap();
    db.close().await.ok();
}

const LOG: &str = "query($s: ID) { webhookDeliveries(first: 50, subscriptionId: $s) { edges { node { id eventKind status attempts lastStatusCode body attemptLog { attempt statusCode error response durationMs } } } } }";

#[tokio::test]
async fn deliveries_are_signed_retried_logged_and_redelivered() {
    let mut s = fresh_settings().await;
    s.outbound_allow_loopback = true;
    let app = spawn_with(s).await;
    let shop = shop(&app, "hooks", false).await;
    let owner = &shop.owner;
    // Two failures, then the receiver takes it.
    let receiver = Receiver::spawn(vec![500, 503]);

    let create = "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { subscription { id url events active } secret userErrors { field code message } } }";
    for (input, field) in [
        (
            json!({ "url": "http://hooks.example.com/x", "events": ["*"] }),
            json!(["input", "url"]),
        ),
        (
            json!({ "url": receiver.url, "events": ["Order Shipped"] }),
            json!(["input", "events", "0"]),
        ),
        (
            json!({ "url": receiver.url, "events": [] }),
            json!(["input", "events"]),
        ),
    ] {
        let body = app
            .gql(Some(&owner.access), create, json!({ "i": input }))
            .await;
        assert_eq!(
            body["data"]["createWebhookSubscription"]["userErrors"][0]["field"], field,
            "{body}"
        );
    }
    let made = ok(&app, owner, "createWebhookSubscription", create, json!({ "i": { "url": receiver.url, "events": ["order.received", "refund.*"], "description": "ERP" } })).await;
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let subscription = made["subscription"]["id"].as_str().unwrap().to_owned();
    // The secret is shown once: the list does not carry it.
    let listed = app
        .gql(
            Some(&owner.access),
            "{ webhookSubscriptions { id url events active } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(&secret));

    let order = kettles(&app, owner, "HOOK-1", 1, us_address()).await;
    drain(&app).await;
    // Attempt 1 failed (500) and waits for its backoff; make it due, fail again (503), then
    // deliver.
    due_now(&app).await;
    drain(&app).await;
    due_now(&app).await;
    drain(&app).await;

    let seen = receiver.seen();
    assert_eq!(seen.len(), 3, "three attempts: {seen:?}");
    let delivery_id = seen[0].2.clone();
    for (signature, event, delivery, body) in &seen {
        assert_eq!(event, "order.received");
        assert_eq!(delivery, &delivery_id, "the same delivery each attempt");
        assert_eq!(body, &seen[0].3, "the same bytes each attempt");
        assert!(
            verifies(signature, body, &secret),
            "signature {signature} does not verify"
        );
        assert!(!verifies(signature, body, "whsec_wrong"));
    }
    let payload: Value = serde_json::from_str(&seen[0].3).unwrap();
    assert_eq!(payload["type"], "order.received");
    assert_eq!(payload["data"]["orderId"], order.as_str());

    // The log shows every attempt; only the subscribed kinds were delivered (the order went
    // on to be screened and allocated, unsubscribed).
    let log = app
        .gql(Some(&owner.access), LOG, json!({ "s": subscription }))
        .await;
    let edges = log["data"]["webhookDeliveries"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 1, "{log}");
    let d = &edges[0]["node"];
    assert_eq!(d["status"], "DELIVERED");
    assert_eq!(d["attempts"], 3);
    let codes: Vec<Value> = d["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].clone())
        .collect();
    assert_eq!(codes, vec![json!(500), json!(503), json!(200)]);
    assert_eq!(d["attemptLog"][0]["error"], "the receiver answered 500");
    assert_eq!(d["attemptLog"][2]["response"], "answered 200");

    // Redelivered on demand: a fourth attempt with the same body.
    let again = ok(&app, owner, "redeliverWebhook", "mutation($d: ID!) { redeliverWebhook(input: {deliveryId: $d}) { delivery { status } userErrors { field message } } }", json!({ "d": d["id"] })).await;
    assert_eq!(again["delivery"]["status"], "PENDING");
    drain(&app).await;
    assert_eq!(receiver.seen().len(), 4);
    assert_eq!(receiver.seen()[3].3, seen[0].3);

    // A refund is delivered too; after rotating the secret, signed with the new one.
    let rotated = ok(&app, owner, "rotateWebhookSecret", "mutation($s: ID!) { rotateWebhookSecret(input: {id: $s}) { secret userErrors { field message } } }", json!({ "s": subscription })).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    let r = refund(
        &app,
        owner,
        json!({ "orderId": order, "amount": "5.00", "idempotencyKey": "hook-refund" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]));
    drain(&app).await;
    let last = receiver.seen().last().cloned().unwrap();
    assert_eq!(last.1, "refund.issued");
    assert!(verifies(&last.0, &last.3, &new_secret));
    assert!(!verifies(&last.0, &last.3, &secret));

    // Disabled, nothing more is sent.
    ok(&app, owner, "updateWebhookSubscription", "mutation($s: ID!) { updateWebhookSubscription(input: {id: $s, active: false}) { subscription { active } userErrors { field message } } }", json!({ "s": subscription })).await;
    let before = receiver.seen().len();
    refund(
        &app,
        owner,
        json!({ "orderId": order, "amount": "1.00", "idempotencyKey": "hook-refund-2" }),
    )
    .await;
    drain(&app).await;
    assert_eq!(receiver.seen().len(), before);
}

#[tokio::test]
async fn a_receiver_that_never_answers_well_is_given_up_on_and_logged() {
    let mut s = fresh_settings().await;
    s.outbound_allow_loopback = true;
    let app = spawn_with(s).await;
    let shop = shop(&app, "hooks-down", false).await;
    let owner = &shop.owner;
    let receiver = Receiver::spawn(vec![500; 20]);
    ok(&app, owner, "createWebhookSubscription", "mutation($u: String!) { createWebhookSubscription(input: {url: $u, events: [\"order.received\"]}) { secret userErrors { field message } } }", json!({ "u": receiver.url })).await;
    kettles(&app, owner, "HOOK-DOWN", 1, us_address()).await;
    drain(&app).await;
    for _ in 0..orderflow::webhooks::service::ATTEMPTS {
        due_now(&app).await;
        drain(&app).await;
    }
    let attempts = usize::try_from(orderflow::webhooks::service::ATTEMPTS).unwrap();
    assert_eq!(receiver.seen().len(), attempts);
    let log = app
        .gql(Some(&owner.access), LOG, json!({ "s": Value::Null }))
        .await;
    let d = &log["data"]["webhookDeliveries"]["edges"][0]["node"];
    assert_eq!(d["status"], "FAILED", "{log}");
    assert_eq!(d["attemptLog"].as_array().unwrap().len(), attempts);
}

/// Tenant B against tenant A's subscriptions and delivery log.
pub async fn isolation_cases(app: &TestApp, b: &crate::helpers::Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-hooks", false).await;
    let s = &a.owner;
    let made = ok(app, s, "createWebhookSubscription", "mutation { createWebhookSubscription(input: {url: \"https://hooks.alpha-marker.example/in\", events: [\"*\"], description: \"ALPHA-HOOK-MARKER\"}) { subscription { id } secret userErrors { field message } } }", json!({})).await;
    let subscription = made["subscription"]["id"].as_str().unwrap().to_owned();
    let secret = made["secret"].as_str().unwrap().to_owned();
    // An event makes a delivery (not sent here: nothing is drained).
    kettles(app, s, "alpha-hook-order", 1, us_address()).await;
    let log = app
        .gql(
            Some(&s.access),
            "{ webhookDeliveries(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let delivery = log["data"]["webhookDeliveries"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = [
        subscription.as_str(),
        delivery.as_str(),
        secret.as_str(),
        "alpha-marker",
        "ALPHA-HOOK-MARKER",
        "alpha-hook-order",
    ];
    let vars = json!({ "w": subscription, "d": delivery });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "webhookSubscriptions",
            "{ webhookSubscriptions { id url description } }",
        ),
        (
            "webhookDeliveries",
            "{ webhookDeliveries(first: 100) { edges { node { id body } } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        let text = body.to_string();
        for m in markers {
            assert!(!text.contains(m), "{field} leaked {m:?}: {text}");
        }
    }
    for (field, query) in [
        (
            "updateWebhookSubscription",
            "mutation($w: ID!) { updateWebhookSubscription(input: {id: $w, active: false}) { userErrors { code } } }",
        ),
        (
            "rotateWebhookSecret",
            "mutation($w: ID!) { rotateWebhookSecret(input: {id: $w}) { userErrors { code } } }",
        ),
        (
            "deleteWebhookSubscription",
            "mutation($w: ID!) { deleteWebhookSubscription(input: {id: $w}) { userErrors { code } } }",
        ),
        (
            "redeliverWebhook",
            "mutation($d: ID!) { redeliverWebhook(input: {deliveryId: $d}) { userErrors { code } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert_eq!(
            crate::helpers::user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
    }
    covered.push("createWebhookSubscription");
    ok(app, b, "createWebhookSubscription", "mutation { createWebhookSubscription(input: {url: \"https://hooks.beta.example/in\", events: [\"order.*\"]}) { secret userErrors { field message } } }", json!({})).await;
    let still = app
        .gql(
            Some(&s.access),
            "{ webhookSubscriptions { active url } }",
            json!({}),
        )
        .await;
    assert_eq!(
        still["data"]["webhookSubscriptions"],
        json!([{ "active": true, "url": "https://hooks.alpha-marker.example/in" }])
    );
    covered
}
