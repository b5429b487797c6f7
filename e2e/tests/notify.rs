//! Customer communication on the real binary with a real SMTP receiver: an order's lifecycle
//! sends exactly its emails, in order, each once, each with text and HTML parts; a shopper's
//! reply to the shipping email is answered automatically with the live tracking status,
//! threaded under their message; a staff reply is threaded too.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::mail::Part;
use e2e::orderflow::{Environment, Orderflow};
use e2e::smtp::{ReceivedMail, SmtpReceiver};
use serde_json::{Value, json};

async fn ok(app: &Orderflow, token: &str, mutation: &str, query: &str, vars: Value) -> Value {
    app.mutate(token, mutation, query, vars).await.unwrap()
}

/// Waits until `count` messages went to `to`, and returns them in the order received.
async fn mail_to(
    app: &Orderflow,
    smtp: &SmtpReceiver,
    to: &str,
    count: usize,
) -> Vec<ReceivedMail> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: Vec<ReceivedMail> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == to))
            .collect();
        if got.len() >= count {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} messages to {to}: {:#?}\n{}",
            got.len(),
            got.iter()
                .map(|m| Part::parse(&m.data).header("Subject").map(str::to_owned))
                .collect::<Vec<_>>(),
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The headers and parts every message must have; returns (subject, message-id, text, html).
fn check_message(m: &ReceivedMail, to: &str) -> (String, String, String, String) {
    let p = Part::parse(&m.data);
    assert_eq!(m.rcpt_to, vec![to.to_owned()]);
    assert_eq!(m.mail_from, "no-reply@kettle-shop.example");
    assert!(
        p.header("From").unwrap().contains("Kettle Shop"),
        "{}",
        m.data
    );
    assert!(p.header("To").unwrap().contains(to));
    let id = p.header("Message-ID").unwrap().trim().to_owned();
    assert!(id.starts_with('<') && id.ends_with('>'), "{id}");
    assert_eq!(p.media_type(), "multipart/alternative", "{}", m.data);
    let parts = p.subparts();
    assert_eq!(parts.len(), 2, "{}", m.data);
    assert_eq!(parts[0].media_type(), "text/plain");
    assert_eq!(parts[1].media_type(), "text/html");
    let text = parts[0].decoded_body().unwrap();
    let html = parts[1].decoded_body().unwrap();
    assert!(html.contains("<html"), "{html}");
    (p.header("Subject").unwrap().to_owned(), id, text, html)
}

async fn order(app: &Orderflow, token: &str, id: &str) -> Value {
    let body = app
        .graphql(Some(token), "query($o: ID!) { order(id: $o) { name state shipments { trackingNumber } notifications { kind status } } }", json!({ "o": id }))
        .await
        .unwrap();
    body["data"]["order"].clone()
}

async fn wait_for(app: &Orderflow, token: &str, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = order(app, token, id).await;
        if o["state"] == state {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {state}: {o}\n{}",
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shopper_gets_each_lifecycle_email_once_and_support_replies_are_threaded() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let mut env = Environment::new().await.unwrap();
    env.set_env("SMTP_URL", smtp.url());
    env.set_env(
        "ORDERFLOW_MAIL_FROM",
        "Orderflow <no-reply@kettle-shop.example>",
    );
    let app = env.start().await.unwrap();
    let body = app
        .graphql(None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken userErrors { message } } }", json!({ "i": { "tenantName": "Kettle Shop", "email": "owner@kettle-shop.example", "password": "correct horse battery staple" } }))
        .await
        .unwrap();
    let t = body["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = t.as_str();
    let w = ok(&app, t, "createWarehouse", "mutation { createWarehouse(input: {code: \"KY1\", name: \"Louisville\", timezone: \"America/New_York\", address: {line1: \"400 W Market St\", city: \"Louisville\", region: \"KY\", postalCode: \"40202\", country: \"US\"}}) { warehouse { id } userErrors { message } } }", json!({})).await;
    let warehouse = w["warehouse"]["id"].as_str().unwrap().to_owned();
    ok(&app, t, "createProduct", "mutation { createProduct(input: {title: \"Kettle\", variants: [{sku: \"KETTLE-1\", price: \"40.00\", weightGrams: 1200}]}) { userErrors { message } } }", json!({})).await;
    ok(&app, t, "receiveStock", "mutation($w: ID!) { receiveStock(input: {sku: \"KETTLE-1\", warehouseId: $w, quantity: 5}) { userErrors { message } } }", json!({ "w": warehouse })).await;
    let secret = "carrier tracking secret";
    let c = ok(&app, t, "createCarrier", "mutation($s: String!) { createCarrier(input: {code: \"ups\", name: \"UPS\", trackingFormat: UPS, account: \"E2E123\", trackingSource: ORDERFLOW, webhookSecret: $s}) { carrier { id trackingWebhookUrl } userErrors { message } } }", json!({ "s": secret })).await;
    let zones: Vec<Value> = (1..=8).map(|z| json!({ "zone": z, "transitDays": 2, "brackets": [{ "upToGrams": 5000, "price": "7.50" }] })).collect();
    ok(&app, t, "createCarrierService", "mutation($c: ID!, $r: RateCardInput!) { createCarrierService(input: {carrierId: $c, code: \"ground\", name: \"Ground\", currency: \"USD\", rateCard: $r}) { userErrors { message } } }", json!({ "c": c["carrier"]["id"], "r": { "zones": zones } })).await;

    let shopper = "grace@shopper.example";
    let address = json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Shippington", "region": "KY", "postalCode": "40003", "country": "US" });
    let created = ok(&app, t, "createOrder", "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } userErrors { field message } } }", json!({ "i": {
        "externalId": "e2e-mail-1", "email": shopper, "firstName": "Grace", "lastName": "Hopper",
        "shippingAddress": address, "billingAddress": address,
        "lines": [{ "sku": "KETTLE-1", "quantity": 2 }],
        "payment": { "status": "PAID", "amountCaptured": "80.00", "avsResult": "Y", "cvvResult": "M" }
    } })).await;
    let id = created["order"]["id"].as_str().unwrap().to_owned();
    let shipped = wait_for(&app, t, &id, "SHIPPED").await;
    let name = shipped["name"].as_str().unwrap().to_owned();
    let number = shipped["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = c["carrier"]["trackingWebhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    for (status, at) in [
        ("in_transit", "2026-11-27T09:00:00Z"),
        ("out_for_delivery", "2026-11-28T07:00:00Z"),
        ("delivered", "2026-11-28T13:30:00Z"),
    ] {
        // Let each step's email go before the next scan, so their order is the lifecycle's.
        let expected = match status {
            "in_transit" => 2,
            "out_for_delivery" => 3,
            _ => 4,
        };
        let code = e2e::tracking::send_scan(&app, &path, secret, &number, status, at)
            .await
            .unwrap();
        assert_eq!(code, 200);
        mail_to(&app, &smtp, shopper, expected).await;
    }
    wait_for(&app, t, &id, "DELIVERED").await;
    let mails = mail_to(&app, &smtp, shopper, 4).await;
    // Give a duplicate the time it would need to show.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails_now = smtp
        .messages()
        .into_iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == shopper))
        .count();
    assert_eq!(mails_now, 4, "exactly one email per step");
    let checked: Vec<(String, String, String, String)> =
        mails.iter().map(|m| check_message(m, shopper)).collect();
    let subjects: Vec<&str> = checked.iter().map(|c| c.0.as_str()).collect();
    for s in &subjects {
        assert!(s.contains(&name), "{subjects:?}");
    }
    let o = order(&app, t, &id).await;
    let kinds: Vec<&str> = o["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ORDER_CONFIRMATION",
            "SHIPPED",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
            "REVIEW_REQUEST"
        ]
    );
    assert_eq!(
        o["notifications"][4]["status"], "QUEUED",
        "the review request waits its 7 days"
    );
    assert!(checked[0].2.contains("$80.00"), "{}", checked[0].2);
    let (shipped_subject, shipped_id, shipped_text, shipped_html) = &checked[1];
    assert!(
        shipped_text.contains(&number) && shipped_html.contains(&number),
        "{shipped_text}"
    );
    assert!(
        shipped_subject.contains("on its way")
            || shipped_subject.to_lowercase().contains("shipped"),
        "{shipped_subject}"
    );
    assert!(
        checked[2].2.to_lowercase().contains("out for delivery"),
        "{}",
        checked[2].2
    );
    assert!(
        checked[3].2.to_lowercase().contains("delivered"),
        "{}",
        checked[3].2
    );

    // The shopper replies to the shipping email; the auto-reply is threaded under it.
    let inbound = ok(
        &app,
        t,
        "rotateInboundEmailToken",
        "mutation { rotateInboundEmailToken { inboundEmailUrl userErrors { message } } }",
        json!({}),
    )
    .await;
    let url = inbound["inboundEmailUrl"].as_str().unwrap();
    let inbound_path = url
        .split_once("/webhooks/")
        .map(|(_, p)| format!("/webhooks/{p}"))
        .unwrap();
    let raw = format!(
        "From: Grace Hopper <{shopper}>\r\nTo: Kettle Shop <no-reply@kettle-shop.example>\r\nSubject: Re: {shipped_subject}\r\nMessage-ID: <reply-1@shopper.example>\r\nIn-Reply-To: {shipped_id}\r\nReferences: {shipped_id}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWhere is my parcel? It still has not arrived.\r\n\r\nOn Fri, Kettle Shop wrote:\r\n> Your order is on its way\r\n"
    );
    let res = app
        .client()
        .post(app.url(&inbound_path))
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all = mail_to(&app, &smtp, shopper, 5).await;
    let (subject, _, text, _) = check_message(&all[4], shopper);
    let reply = Part::parse(&all[4].data);
    assert_eq!(
        reply.header("In-Reply-To"),
        Some("<reply-1@shopper.example>"),
        "{}",
        all[4].data
    );
    let references = reply.header("References").unwrap();
    assert!(
        references.contains(shipped_id) && references.contains("<reply-1@shopper.example>"),
        "{references}"
    );
    assert!(
        references.find(shipped_id) < references.find("<reply-1@shopper.example>"),
        "oldest first: {references}"
    );
    assert_eq!(subject, format!("Re: {shipped_subject}"));
    assert!(text.contains(&number), "{text}");
    assert!(text.contains("Delivered"), "the live status: {text}");

    // A question for staff; the staff reply is threaded too.
    let posted = ok(&app, t, "postSupportMessage", "mutation { postSupportMessage(input: {from: \"ada@elsewhere.example\", subject: \"Gift wrapping\", text: \"Can you gift wrap the kettle?\", messageId: \"ada-1\"}) { thread { id handling messages { messageId suggestedReply } } userErrors { message } } }", json!({})).await;
    assert_eq!(posted["thread"]["handling"], "NEEDS_STAFF", "{posted}");
    let parent = posted["thread"]["messages"][0]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&app, t, "replyToSupportThread", "mutation($t: ID!) { replyToSupportThread(input: {threadId: $t, text: \"Hello Ada,\\n\\nYes, gladly.\"}) { userErrors { message } } }", json!({ "t": posted["thread"]["id"] })).await;
    let staff = mail_to(&app, &smtp, "ada@elsewhere.example", 1).await;
    let (subject, _, text, html) = check_message(&staff[0], "ada@elsewhere.example");
    let p = Part::parse(&staff[0].data);
    assert_eq!(
        p.header("In-Reply-To").map(str::to_owned),
        Some(format!("<{parent}>"))
    );
    assert_eq!(subject, "Re: Gift wrapping");
    assert!(text.contains("Yes, gladly.") && html.contains("Yes, gladly."));

    let status = app.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success());
}
