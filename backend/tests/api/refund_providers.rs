//! Refunds through real providers (issue 20), against a local server answering with the
//! platforms' own payloads: Stripe (one idempotency key however often the job runs, a refund
//! that fails later is due again, a late webhook made up for by polling), Shopify (calculate,
//! then create with the return's restock decision) and WooCommerce (its gateway asked to
//! move the money).

use serde_json::{Value, json};

use crate::connectors::fixture_json;
use crate::engine::drain;
use crate::fulfillment::{CARRIER_SECRET, shop, track, us_address};
use crate::helpers::{Session, TestApp, owner_connection, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};
use crate::orders::create_order;
use crate::refunds::{booked, refund, uuid_of};
use crate::returns::{RETURN, recent_event};
use crate::webhooks::{connect, post};

const PAYMENT: &str = "pi_3MtwBwLkdIwHu7ix28a3tqPa";
/// The refund in Stripe's fixture.
const STRIPE_REFUND: &str = "re_1Pgc72B7WZ01zgkWqPvrRrPE";
const WEBHOOK_SECRET: &str = "whsec_test_0123456789abcdef";
const SAVE_STRIPE: &str = "mutation($i: SaveStripeInput!) { saveStripeAccount(input: $i) { processor { id provider testMode hasWebhookSecret webhookUrl apiBase } userErrors { field code message } } }";
const ROUTE: &str = "query($o: ID!) { order(id: $o) { refundDue financialStatus refundRoute { provider simulated why problem chosen } refunds { status provider simulated providerReference error amount } events { kind message } } }";

/// Stripe's refund object as its fixture has it, with `status` (and a failure reason).
fn stripe_refund(status: &str, failure: Option<&str>) -> Value {
    let mut r = fixture_json("stripe/api/refund_create_POST_200.json")["response"]["body"].clone();
    r["status"] = json!(status);
    if let Some(f) = failure {
        r["failure_reason"] = json!(f);
    }
    r
}

fn reply(body: &Value) -> Reply {
    Reply::json(serde_json::to_vec(body).unwrap())
}

async fn stripe_account(app: &TestApp, s: &Session, mock: &MockApi) -> Value {
    let body = app
        .gql(
            Some(&s.access),
            SAVE_STRIPE,
            json!({ "i": { "secretKey": "sk_test_51Orderflow0123456789", "webhookSecret": WEBHOOK_SECRET, "apiBase": mock.base } }),
        )
        .await;
    let p = &body["data"]["saveStripeAccount"];
    assert_eq!(p["userErrors"], json!([]), "{body}");
    p["processor"].clone()
}

/// A paid API order for one kettle, its payment Stripe's, delivered to the shopper.
async fn delivered_stripe_order(
    app: &TestApp,
    s: &Session,
    carrier: &Value,
    external: &str,
) -> String {
    let address = us_address();
    let body = create_order(app, s, json!({
        "externalId": external, "email": format!("{external}@shopper.example"),
        "shippingAddress": address.clone(), "billingAddress": address,
        "lines": [{ "sku": "KETTLE-1", "quantity": 2 }],
        "payment": { "status": "PAID", "amountCaptured": "80.00", "avsResult": "Y", "cvvResult": "M", "reference": PAYMENT }
    }))
    .await;
    let order = body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    deliver(app, s, carrier, &order).await;
    order
}

/// Every parcel of `order` scanned delivered by the carrier.
async fn deliver(app: &TestApp, s: &Session, carrier: &Value, order: &str) {
    drain(app).await;
    let o = crate::fulfillment::order(app, s, order).await;
    for shipment in o["shipments"].as_array().unwrap() {
        let number = shipment["trackingNumber"]
            .as_str()
            .unwrap_or_else(|| panic!("no label: {o}"));
        let (status, body) = track(
            app,
            carrier,
            "easypost",
            CARRIER_SECRET,
            &recent_event(number, true),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    drain(app).await;
}

/// Staff take back line `line` of `order` (one unit, as new) and resolve it with a refund.
async fn return_line(app: &TestApp, s: &Session, order: &str, line: i64) -> Value {
    let step = |m: &str| {
        format!(
            "mutation($r: ID!) {{ {m}(input: {{returnId: $r}}) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"
        )
    };
    let created = app.gql(Some(&s.access), &format!("mutation($i: CreateReturnInput!) {{ createReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"), json!({ "i": { "orderId": order, "lines": [{ "lineIndex": line, "quantity": 1 }], "reason": "changed_mind", "resolution": "REFUND" } })).await;
    let mut r = created["data"]["createReturn"]["return"].clone();
    assert!(r["id"].is_string(), "{created}");
    if r["status"] == "REQUESTED" {
        let a = app
            .gql(
                Some(&s.access),
                &step("approveReturn"),
                json!({ "r": r["id"] }),
            )
            .await;
        r = a["data"]["approveReturn"]["return"].clone();
    }
    let got = app
        .gql(
            Some(&s.access),
            &step("receiveReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        got["data"]["receiveReturn"]["return"]["status"], "RECEIVED",
        "{got}"
    );
    let inspected = app.gql(Some(&s.access), &format!("mutation($i: InspectReturnInput!) {{ inspectReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"), json!({ "i": { "returnId": r["id"], "lines": [{ "lineIndex": line, "grade": "A" }] } })).await;
    r = inspected["data"]["inspectReturn"]["return"].clone();
    assert_eq!(
        inspected["data"]["inspectReturn"]["userErrors"],
        json!([]),
        "{inspected}"
    );
    if r["status"] == "INSPECTED" {
        let done = app
            .gql(
                Some(&s.access),
                &step("resolveReturn"),
                json!({ "r": r["id"] }),
            )
            .await;
        r = done["data"]["resolveReturn"]["return"].clone();
    }
    assert_eq!(r["status"], "RESOLVED", "{r}");
    r
}

async fn route_of(app: &TestApp, s: &Session, order: &str) -> Value {
    let body = app.gql(Some(&s.access), ROUTE, json!({ "o": order })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

fn kinds(o: &Value, kind: &str) -> usize {
    o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

/// The order once its refund `n` has ended, running due jobs meanwhile (at most `secs`).
async fn settled(app: &TestApp, s: &Session, order: &str, n: usize, secs: u64) -> Value {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        drain(app).await;
        let o = route_of(app, s, order).await;
        if o["refunds"][n]["status"] != "PENDING" || std::time::Instant::now() > until {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_return_refunded_by_stripe_is_asked_for_once_however_often_the_job_runs() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("idempotency-key");
    let shop = shop(&app, "stripe-refunds", true).await;
    let s = &shop.owner;

    // Keys are checked by their shape; a publishable key cannot refund.
    let bad = app
        .gql(
            Some(&s.access),
            SAVE_STRIPE,
            json!({ "i": { "secretKey": "pk_test_0123456789abcdef" } }),
        )
        .await;
    assert_eq!(
        bad["data"]["saveStripeAccount"]["userErrors"][0]["field"],
        json!(["input", "secretKey"]),
        "{bad}"
    );
    let p = stripe_account(&app, s, &mock).await;
    assert_eq!(
        (
            p["provider"].as_str(),
            p["testMode"].as_bool(),
            p["hasWebhookSecret"].as_bool()
        ),
        (Some("STRIPE"), Some(true), Some(true))
    );
    // The connection test reads one refund with the key.
    mock.on(
        "/v1/refunds",
        vec![reply(&json!({ "object": "list", "url": "/v1/refunds", "has_more": false, "data": [stripe_refund("succeeded", None)] }))],
    );
    let tested = app
        .gql(
            Some(&s.access),
            "mutation($p: ID!) { testPaymentProcessor(id: $p) { ok message } }",
            json!({ "p": p["id"] }),
        )
        .await;
    assert_eq!(
        tested["data"]["testPaymentProcessor"]["ok"], true,
        "{tested}"
    );

    let order = delivered_stripe_order(&app, s, &shop.carrier, "STRIPE-1").await;
    let o = route_of(&app, s, &order).await;
    assert_eq!(o["refundRoute"]["provider"], "STRIPE", "{o}");
    assert_eq!(o["refundRoute"]["simulated"], false);
    assert!(o["refundRoute"]["why"].as_str().unwrap().contains(PAYMENT));

    // Stripe is unavailable three times, then makes the refund.
    let unavailable = || Reply::status(503);
    mock.on(
        "/v1/refunds",
        vec![
            unavailable(),
            unavailable(),
            unavailable(),
            reply(&stripe_refund("succeeded", None)),
        ],
    );
    let r = return_line(&app, s, &order, 0).await;
    assert_eq!(r["refund"]["status"], "PENDING", "{r}");
    let posts = || {
        mock.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p, _)| m == "POST" && p == "/v1/refunds")
            .map(|(_, _, key)| key.clone())
            .collect::<Vec<_>>()
    };
    let o = route_of(&app, s, &order).await;
    assert_eq!(kinds(&o, "refund.requested"), 1, "{o}");
    // Each try is a job of its own, 1 s, 2 s and 4 s after the one before.
    let o = settled(&app, s, &order, 0, 30).await;
    let sent = posts();
    assert_eq!(
        sent.len(),
        4,
        "three tries that failed and one that made it: {sent:?}"
    );
    let keys: std::collections::BTreeSet<_> = sent.iter().cloned().collect();
    assert_eq!(keys.len(), 1, "one idempotency key for every try: {sent:?}");
    let return_uuid = uuid_of(r["id"].as_str().unwrap());
    assert_eq!(
        sent[0].as_deref(),
        Some(format!("return:{return_uuid}").as_str())
    );
    // The form Stripe got: the payment, the amount in cents, the order in its metadata.
    let (_, _, form) = mock
        .bodies
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(m, p, _)| m == "POST" && p == "/v1/refunds")
        .cloned()
        .unwrap();
    let form = String::from_utf8(form).unwrap();
    assert!(
        form.contains(&format!("payment_intent={PAYMENT}")),
        "{form}"
    );
    assert!(form.contains("amount=4000"), "{form}");
    assert!(form.contains("metadata%5Border_id%5D="), "{form}");
    let refund = &o["refunds"][0];
    assert_eq!(
        (
            refund["status"].as_str(),
            refund["provider"].as_str(),
            refund["providerReference"].as_str(),
            refund["simulated"].as_bool()
        ),
        (
            Some("SUCCEEDED"),
            Some("stripe"),
            Some(STRIPE_REFUND),
            Some(false)
        ),
        "{o}"
    );
    assert_eq!(kinds(&o, "refund.issued"), 1, "{o}");
    assert_eq!(booked(&app, &uuid_of(&order), "refund").await.1, 1);
    // Nothing more is sent, however often the queue runs.
    drain(&app).await;
    assert_eq!(posts().len(), 4);
}

/// Makes the queued jobs of `kind` due now (the time a late webhook leaves before polling).
async fn due_now(app: &TestApp, kind: &str) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let db = owner_connection(app).await;
    let moved = entity::jobs::Entity::update_many()
        .col_expr(entity::jobs::Column::RunAt, Expr::value(chrono::Utc::now()))
        .filter(entity::jobs::Column::Kind.eq(kind))
        .filter(entity::jobs::Column::Status.eq("queued"))
        .exec(&db)
        .await
        .unwrap();
    assert!(moved.rows_affected >= 1, "no {kind} job was waiting");
    db.close().await.ok();
}

async fn stripe_event(
    app: &TestApp,
    url: &str,
    kind: &str,
    refund: &Value,
    signed_at: i64,
    secret: &str,
) -> (u16, Value) {
    let event = json!({ "id": format!("evt_{}", uuid::Uuid::new_v4().simple()), "object": "event", "type": kind, "data": { "object": refund } });
    let body = serde_json::to_vec(&event).unwrap();
    let sig = orderflow::infra::signature::sign_timestamped(secret, &body, signed_at);
    post(
        app,
        url,
        &[
            ("content-type", "application/json"),
            ("Stripe-Signature", &sig),
        ],
        &body,
    )
    .await
}

#[tokio::test]
async fn a_stripe_refund_that_fails_later_is_due_again_and_a_late_webhook_is_made_up_for() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("idempotency-key");
    let shop = shop(&app, "stripe-fails", true).await;
    let s = &shop.owner;
    let p = stripe_account(&app, s, &mock).await;
    let hook = p["webhookUrl"].as_str().unwrap().to_owned();
    let order = delivered_stripe_order(&app, s, &shop.carrier, "STRIPE-2").await;

    // Stripe takes the refund as pending (a bank that answers later).
    mock.on("/v1/refunds", vec![reply(&stripe_refund("pending", None))]);
    let made = refund(&app, s, json!({ "orderId": order, "amount": "25.00", "reason": "late delivery", "idempotencyKey": "goodwill-1" })).await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    assert_eq!(made["refund"]["status"], "PENDING");
    drain(&app).await;
    let o = route_of(&app, s, &order).await;
    assert_eq!(o["refunds"][0]["providerReference"], STRIPE_REFUND, "{o}");
    assert_eq!(o["refunds"][0]["status"], "PENDING");

    // Stripe's webhook: refused unsigned, wrongly signed or replayed; then it fails the refund.
    let now = chrono::Utc::now().timestamp();
    let failed = stripe_refund("failed", Some("expired_or_canceled_card"));
    for (at, secret) in [
        (now, "whsec_someone_elses_secret"),
        (now - 600, WEBHOOK_SECRET),
    ] {
        let (status, body) = stripe_event(&app, &hook, "refund.updated", &failed, at, secret).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("BAD_SIGNATURE")),
            "{body}"
        );
    }
    let (status, body) = stripe_event(
        &app,
        &hook,
        "charge.refund.updated",
        &failed,
        now,
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let o = route_of(&app, s, &order).await;
    let r = &o["refunds"][0];
    assert_eq!(r["status"], "FAILED", "{o}");
    assert_eq!(r["error"], "the card has expired or was cancelled");
    // The money is due again, with Stripe's reason on the timeline; nothing was booked.
    assert_eq!(o["refundDue"], "25.00", "{o}");
    let said = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "refund.failed")
        .unwrap();
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains("expired or was cancelled; it is due again"),
        "{said}"
    );
    assert_eq!(booked(&app, &uuid_of(&order), "refund").await.1, 0);
    // The same event again changes nothing.
    let (_, again) =
        stripe_event(&app, &hook, "refund.updated", &failed, now, WEBHOOK_SECRET).await;
    assert_eq!(again["status"], "unchanged");

    // Asked again: a new request to Stripe (its key would only bring back the failure),
    // pending, and no webhook comes: polling finds it refunded.
    mock.on("/v1/refunds", vec![reply(&stripe_refund("pending", None))]);
    mock.on(
        &format!("/v1/refunds/{STRIPE_REFUND}"),
        vec![reply(&stripe_refund("succeeded", None))],
    );
    let retried = refund(&app, s, json!({ "orderId": order, "amount": "25.00", "reason": "late delivery", "idempotencyKey": "goodwill-1" })).await;
    assert_eq!(retried["refund"]["status"], "PENDING", "{retried}");
    drain(&app).await;
    let keys: Vec<Option<String>> = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/v1/refunds")
        .map(|(_, _, k)| k.clone())
        .collect();
    assert_eq!(
        keys,
        vec![
            Some("goodwill-1".to_owned()),
            Some("goodwill-1/retry-1".to_owned())
        ]
    );
    due_now(&app, "refund.send").await;
    let o = settled(&app, s, &order, 0, 10).await;
    assert_eq!(o["refunds"][0]["status"], "SUCCEEDED", "{o}");
    assert_eq!(o["refundDue"], "0.00");
    assert_eq!(mock.hits(&format!("/v1/refunds/{STRIPE_REFUND}")), 1);
    assert_eq!(booked(&app, &uuid_of(&order), "refund").await.1, 1);
}

/// A Shopify connection whose API is `mock`, and an order from its `orders/create` webhook.
async fn shopify_order(app: &TestApp, s: &Session, mock: &MockApi) -> String {
    let credentials = json!({ "accessToken": "shpat_refunds", "apiUrl": mock.base });
    crate::carrier_apis::shopify_order_with(app, s, credentials).await
}

#[tokio::test]
async fn a_shopify_order_is_refunded_through_shopify_with_the_returns_restock_decision() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("x-shopify-access-token");
    let shop = shop(&app, "shopify-refunds", true).await;
    let s = &shop.owner;
    let order = shopify_order(&app, s, &mock).await;
    deliver(&app, s, &shop.carrier, &order).await;
    let o = route_of(&app, s, &order).await;
    assert_eq!(o["refundRoute"]["provider"], "SHOPIFY", "{o}");

    let api = "/admin/api/2026-07/orders/820982911946154508";
    let recorded =
        |f: &str| fixture_json(&format!("shopify/writeback/{f}"))["response"]["body"].clone();
    // The order's refunds so far: one made in Shopify's admin, not ours.
    mock.on(
        &format!("{api}/refunds.json"),
        vec![
            reply(&json!({ "refunds": [fixture_json("shopify/rest_refund.json")] })),
            reply(&recorded(
                "rest_2026-07_refund_create_line_items_restock.json",
            )),
        ],
    );
    mock.on(
        &format!("{api}/refunds/calculate.json"),
        vec![reply(&recorded(
            "rest_2026-07_refund_calculate_line_items.json",
        ))],
    );
    // The protection plan (line 1) comes back as new: restocked.
    let r = return_line(&app, s, &order, 1).await;
    assert_eq!(r["lines"][0]["disposition"], "RESTOCK", "{r}");
    let o = settled(&app, s, &order, 0, 15).await;
    let first = &o["refunds"][0];
    assert_eq!(
        (
            first["status"].as_str(),
            first["provider"].as_str(),
            first["providerReference"].as_str()
        ),
        (Some("SUCCEEDED"), Some("shopify"), Some("929361472")),
        "{o}"
    );
    let calc = mock.json_sent("POST", &format!("{api}/refunds/calculate.json"));
    let line = &calc[0]["refund"]["refund_line_items"][0];
    assert_eq!(
        (
            line["line_item_id"].as_u64(),
            line["quantity"].as_i64(),
            line["restock_type"].as_str()
        ),
        (Some(789012345678901234), Some(1), Some("return")),
        "{calc:?}"
    );
    let created = mock.json_sent("POST", &format!("{api}/refunds.json"));
    assert_eq!(created.len(), 1);
    let t = &created[0]["refund"]["transactions"][0];
    assert_eq!(
        (
            t["parent_id"].as_u64(),
            t["gateway"].as_str(),
            t["kind"].as_str()
        ),
        (Some(801038806), Some("bogus"), Some("refund")),
        "{created:?}"
    );
    assert_eq!(
        t["amount"].as_str(),
        Some(first["amount"].as_str().unwrap())
    );
    assert_eq!(created[0]["refund"]["notify"], false);
    assert!(
        created[0]["refund"]["note"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "[orderflow:return:{}]",
                uuid_of(r["id"].as_str().unwrap())
            ))
    );
    let token = mock
        .seen
        .lock()
        .unwrap()
        .iter()
        .find_map(|(_, _, t)| t.clone());
    assert_eq!(token.as_deref(), Some("shpat_refunds"));
    assert_eq!(kinds(&o, "refund.issued"), 1);

    // Staff may send this order's refunds elsewhere, not where they cannot go.
    let set = |rule: &str| {
        format!(
            "mutation($o: ID!) {{ setOrderRefundRoute(orderId: $o, rule: {rule}) {{ route {{ provider simulated chosen problem }} userErrors {{ field message }} }} }}"
        )
    };
    let no = app
        .gql(Some(&s.access), &set("PROCESSOR"), json!({ "o": order }))
        .await;
    assert!(
        no["data"]["setOrderRefundRoute"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no Stripe account"),
        "{no}"
    );
    let yes = app
        .gql(Some(&s.access), &set("SIMULATED"), json!({ "o": order }))
        .await;
    assert_eq!(
        yes["data"]["setOrderRefundRoute"]["route"],
        json!({ "provider": "SIMULATED", "simulated": true, "chosen": "SIMULATED", "problem": null }),
        "{yes}"
    );
    let made = refund(
        &app,
        s,
        json!({ "orderId": order, "amount": "5.00", "idempotencyKey": "sim-1" }),
    )
    .await;
    assert_eq!(
        (
            made["refund"]["status"].as_str(),
            made["refund"]["providerReference"]
                .as_str()
                .map(|r| r.starts_with("rf_"))
        ),
        (Some("SUCCEEDED"), Some(true)),
        "{made}"
    );
    assert_eq!(
        mock.json_sent("POST", &format!("{api}/refunds.json")).len(),
        1,
        "nothing more sent to Shopify"
    );
}

#[tokio::test]
async fn a_woocommerce_order_is_refunded_by_its_gateway_and_a_retry_finds_the_refund() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    let s = &app
        .sign_up("woo-refunds", "owner@woo-refunds.example")
        .await;
    let secret = "woo-refunds-secret-0123456789";
    let c = connect(
        &app,
        s,
        "WOOCOMMERCE",
        "shop.example.com",
        secret,
        json!({ "consumerKey": "ck_refunds", "consumerSecret": "cs_refunds", "apiUrl": mock.base }),
    )
    .await;
    let body = crate::connectors::fixture("woocommerce/order_created_727_wp_api_v3.json");
    let body = String::from_utf8(body).unwrap().trim().as_bytes().to_vec();
    let sig = orderflow::infra::signature::sign_base64(secret, &body);
    let (status, _) = post(
        &app,
        c["webhookUrl"].as_str().unwrap(),
        &[
            ("content-type", "application/json"),
            ("X-WC-Webhook-Topic", "order.created"),
            ("X-WC-Webhook-Signature", &sig),
            ("X-WC-Webhook-Delivery-ID", "d-r1"),
            ("X-WC-Webhook-Source", "https://shop.example.com/"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, 200);
    drain(&app).await;
    let list = app
        .gql(
            Some(&s.access),
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let order = list["data"]["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        route_of(&app, s, &order).await["refundRoute"]["provider"],
        "WOOCOMMERCE"
    );

    let api = "/wp-json/wc/v3/orders/727/refunds";
    let mut ours =
        fixture_json("woocommerce/writeback/order_refund_create_723.json")["response"]["body"]
            .clone();
    ours["reason"] = json!("[orderflow:woo-1]");
    // Listed: none of ours. Created: WooCommerce's answer was lost (a 502), and the next run
    // finds the refund by its note instead of making another.
    mock.on(
        api,
        vec![reply(&json!([])), Reply::status(502), reply(&json!([ours]))],
    );
    let asked = refund(
        &app,
        s,
        json!({ "orderId": order, "amount": "10.00", "idempotencyKey": "woo-1" }),
    )
    .await;
    assert_eq!(asked["userErrors"], json!([]), "{asked}");
    let o = settled(&app, s, &order, 0, 15).await;
    assert_eq!(o["refunds"][0]["status"], "SUCCEEDED", "{o}");
    assert_eq!(o["refunds"][0]["providerReference"], "726");
    let sent = mock.json_sent("POST", api);
    assert_eq!(sent.len(), 1, "one refund asked of WooCommerce: {sent:?}");
    assert_eq!(
        (sent[0]["amount"].as_str(), sent[0]["api_refund"].as_bool()),
        (Some("10.00"), Some(true))
    );
    // WooCommerce's recorded answer says its gateway moved nothing: staff are told.
    let issued = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "refund.issued")
        .unwrap();
    assert!(
        issued["message"]
            .as_str()
            .unwrap()
            .contains("did not return the money"),
        "{issued}"
    );
}

/// Tenant B cannot see or touch tenant A's payment processor, refund rule or order routes.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-refund-setup", false).await;
    let s = &a.owner;
    let saved = app.gql(Some(&s.access), SAVE_STRIPE, json!({ "i": { "name": "ALPHA-STRIPE-MARKER", "secretKey": "sk_test_alpha0123456789", "webhookSecret": WEBHOOK_SECRET } })).await;
    let processor = saved["data"]["saveStripeAccount"]["processor"].clone();
    let id = processor["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{saved}"))
        .to_owned();
    let hook = processor["webhookUrl"].as_str().unwrap().to_owned();
    crate::fulfillment::ok(
        app,
        s,
        "updateRefundSettings",
        "mutation { updateRefundSettings(rule: PROCESSOR) { userErrors { field message } } }",
        json!({}),
    )
    .await;
    let order = crate::fulfillment::kettles(app, s, "alpha-refund-route", 1, us_address()).await;
    let markers = [
        id.as_str(),
        hook.as_str(),
        "ALPHA-STRIPE-MARKER",
        order.as_str(),
    ];
    let vars = json!({ "p": id, "o": order });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "paymentProcessors",
            "{ paymentProcessors { id name webhookUrl } }",
        ),
        ("refundSettings", "{ refundSettings { rule } }"),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        let text = body.to_string();
        for m in markers {
            assert!(!text.contains(m), "{field} leaked {m:?}: {text}");
        }
        if field == "refundSettings" {
            assert_eq!(
                body["data"]["refundSettings"]["rule"], "AUTO",
                "B has its own rule"
            );
        }
    }
    for (field, query) in [
        (
            "deletePaymentProcessor",
            "mutation($p: ID!) { deletePaymentProcessor(id: $p) { userErrors { code } } }",
        ),
        (
            "setOrderRefundRoute",
            "mutation($o: ID!) { setOrderRefundRoute(orderId: $o, rule: SIMULATED) { userErrors { code } } }",
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
    covered.push("testPaymentProcessor");
    let tested = app
        .gql(
            Some(&b.access),
            "mutation($p: ID!) { testPaymentProcessor(id: $p) { ok message } }",
            vars.clone(),
        )
        .await;
    assert_eq!(
        tested["data"]["testPaymentProcessor"],
        json!({ "ok": false, "message": "no such payment processor" }),
        "{tested}"
    );
    // B's own account and rule leave A's as they were.
    for (field, query) in [
        (
            "saveStripeAccount",
            "mutation { saveStripeAccount(input: {secretKey: \"sk_test_beta0123456789\"}) { userErrors { code } } }",
        ),
        (
            "updateRefundSettings",
            "mutation { updateRefundSettings(rule: SIMULATED) { userErrors { code } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, json!({})).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
    }
    let mine = app
        .gql(
            Some(&s.access),
            "{ paymentProcessors { name hasWebhookSecret } refundSettings { rule } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"],
        json!({ "paymentProcessors": [{ "name": "ALPHA-STRIPE-MARKER", "hasWebhookSecret": true }], "refundSettings": { "rule": "PROCESSOR" } }),
        "{mine}"
    );
    // A's processor under B's tenant in its webhook address is not found.
    let processor_uuid = hook.rsplit('/').next().unwrap();
    let b_tenant = match uuid::Uuid::try_parse(&b.tenant_id) {
        Ok(u) => u.to_string(),
        Err(_) => uuid_of(&b.tenant_id),
    };
    let stolen = format!("/webhooks/payments/{b_tenant}/{processor_uuid}");
    let now = chrono::Utc::now().timestamp();
    let (status, _) = stripe_event(
        app,
        &stolen,
        "refund.updated",
        &stripe_refund("succeeded", None),
        now,
        WEBHOOK_SECRET,
    )
    .await;
    assert_eq!(status, 404);
    covered
}
