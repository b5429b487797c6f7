//! Customer communication over the API: an order's lifecycle mails the shopper once per step
//! (even when the sending jobs run again), inbound support mail is classified, threaded and
//! answered or left to staff with a suggestion, and templates are edited and previewed.

use mail_parser::MessageParser;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::engine::drain;
use crate::fulfillment::{CARRIER_SECRET, easypost_event, kettles, ok, shop, track, us_address};
use crate::helpers::{Session, TestApp, owner_connection, spawn_app, spawn_with};
use crate::webhooks::post;

const MAILS: &str = "query($o: ID!) { order(id: $o) { id name state notifications { kind status recipient subject messageId attempts sentAt } events { kind message } shipments { trackingNumber } supportThreads { id } } }";

/// Every message in the outbox, parsed: (To, Subject, Message-ID, In-Reply-To, References,
/// text, html).
#[derive(Debug, Clone)]
pub struct Sent {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub text: String,
    pub html: String,
    pub raw: String,
}

pub fn outbox(app: &TestApp) -> Vec<Sent> {
    let dir = app.data_dir.join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let raw = std::fs::read(&path).unwrap();
        let m = MessageParser::default().parse(&raw[..]).unwrap();
        let list = |v: &mail_parser::HeaderValue| -> Vec<String> {
            v.as_text_list()
                .map(|l| l.iter().map(|s| s.to_string()).collect())
                .or_else(|| v.as_text().map(|t| vec![t.to_owned()]))
                .unwrap_or_default()
        };
        out.push(Sent {
            to: m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            message_id: m.message_id().unwrap_or_default().to_owned(),
            in_reply_to: list(m.in_reply_to()).first().cloned(),
            references: list(m.references()),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            raw: String::from_utf8_lossy(&raw).into_owned(),
        });
    }
    out
}

/// Confirms `address` as the shop's sender from the link mailed there (its page's button).
pub async fn confirm_sender(app: &TestApp, address: &str) {
    let token = app.link_token_for(address, "/confirm-sender/");
    let res = app
        .client
        .post(app.url(&format!("/confirm-sender/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
}

fn to(app: &TestApp, email: &str) -> Vec<Sent> {
    outbox(app).into_iter().filter(|m| m.to == email).collect()
}

async fn mails(app: &TestApp, s: &Session, order: &str) -> Value {
    let body = app.gql(Some(&s.access), MAILS, json!({ "o": order })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

fn kinds_of(o: &Value) -> Vec<String> {
    o["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn exec(app: &TestApp, sql: &str) {
    let db = owner_connection(app).await;
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.ok();
}

/// A tracking update for the parcel with the given status on top of the fixture's history.
fn scan(number: &str, status: &str, at: &str) -> Vec<u8> {
    let mut e: Value = serde_json::from_slice(&easypost_event(number, 3, false)).unwrap();
    e["result"]["status"] = json!(status);
    e["result"]["tracking_details"].as_array_mut().unwrap().push(json!({
        "object": "TrackingDetail", "message": status.replace('_', " "), "status": status,
        "datetime": at, "source": "UPS",
        "tracking_location": { "object": "TrackingLocation", "city": "SHIPPINGTON", "state": "KY", "country": "US", "zip": "40003" }
    }));
    serde_json::to_vec(&e).unwrap()
}

/// Every notify.send job again, as a crashed worker's retry or a duplicate delivery would run it.
async fn rerun_all_sends(app: &TestApp) {
    let db = owner_connection(app).await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT tenant_id, dedupe_key FROM notifications".to_owned(),
        ))
        .await
        .unwrap();
    db.close().await.ok();
    for r in rows {
        let tenant: uuid::Uuid = r.try_get("", "tenant_id").unwrap();
        let key: String = r.try_get("", "dedupe_key").unwrap();
        let tx =
            orderflow::tenancy::TenantTx::begin(&app.state.db, orderflow::domain::TenantId(tenant))
                .await
                .unwrap();
        orderflow::jobs::queue::enqueue(
            &tx,
            orderflow::jobs::queue::NewJob::now(
                <orderflow::lifecycle::notify::jobs::SendNotification as orderflow::jobs::Job>::NAME,
                Some(orderflow::domain::TenantId(tenant)),
                json!({ "key": key }),
            ),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    drain(app).await;
}

#[tokio::test]
async fn an_order_mails_the_shopper_once_per_step_from_capture_to_delivery_even_when_jobs_rerun() {
    let app = spawn_app().await;
    let shop = shop(&app, "mail-it", true).await;
    let s = &shop.owner;
    let id = kettles(&app, s, "mail-1", 2, us_address()).await;
    let email = "mail-1@shopper.example";
    drain(&app).await;
    let o = mails(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED", "{o}");
    assert_eq!(kinds_of(&o), ["ORDER_CONFIRMATION", "SHIPPED"], "{o}");
    let number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();

    // The carrier scans it in transit (no email: the shipped one said so), out for delivery,
    // then delivered.
    for (status, at) in [
        ("in_transit", "2024-08-04T08:00:00Z"),
        ("out_for_delivery", "2024-08-05T07:00:00Z"),
        ("delivered", "2024-08-05T14:02:00Z"),
    ] {
        let (code, body) = track(
            &app,
            &shop.carrier,
            "easypost",
            CARRIER_SECRET,
            &scan(&number, status, at),
        )
        .await;
        assert_eq!(code, 200, "{body}");
        drain(&app).await;
    }
    let o = mails(&app, s, &id).await;
    assert_eq!(o["state"], "DELIVERED", "{o}");
    assert_eq!(
        kinds_of(&o),
        [
            "ORDER_CONFIRMATION",
            "SHIPPED",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
            "REVIEW_REQUEST"
        ],
        "{o}"
    );
    // The review request waits its days.
    assert_eq!(o["notifications"][4]["status"], "QUEUED");
    exec(
        &app,
        "UPDATE jobs SET run_at = created_at WHERE kind = 'notify.send'",
    )
    .await;
    drain(&app).await;

    let o = mails(&app, s, &id).await;
    for n in o["notifications"].as_array().unwrap() {
        assert_eq!(n["status"], "SENT", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        assert_eq!(n["recipient"], email);
    }
    let sent = to(&app, email);
    assert_eq!(
        sent.len(),
        5,
        "{:#?}",
        sent.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let name = o["name"].as_str().unwrap();
    // In the order they were sent, each the email of its step.
    let mut by_time: Vec<&Value> = o["notifications"].as_array().unwrap().iter().collect();
    by_time.sort_by_key(|n| n["sentAt"].as_str().unwrap().to_owned());
    let kinds: Vec<&str> = by_time
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
    for n in &by_time {
        let m = sent
            .iter()
            .find(|m| m.message_id == n["messageId"].as_str().unwrap())
            .unwrap_or_else(|| panic!("no mail with the Message-ID of {n}"));
        assert_eq!(m.subject, n["subject"].as_str().unwrap());
        assert!(m.subject.contains(name), "{}", m.subject);
        assert!(!m.text.is_empty() && m.html.contains("<html"), "{}", m.raw);
    }
    let shipped = sent
        .iter()
        .find(|m| m.message_id == by_time[1]["messageId"].as_str().unwrap())
        .unwrap();
    assert!(shipped.text.contains(&number), "{}", shipped.text);
    assert!(
        shipped.text.contains("https://www.ups.com/track?tracknum="),
        "{}",
        shipped.text
    );
    let confirmation = sent
        .iter()
        .find(|m| m.message_id == by_time[0]["messageId"].as_str().unwrap())
        .unwrap();
    assert!(
        confirmation.text.contains("$80.00"),
        "money in the shopper's locale: {}",
        confirmation.text
    );
    let review = sent
        .iter()
        .find(|m| m.message_id == by_time[4]["messageId"].as_str().unwrap())
        .unwrap();
    assert!(
        review.raw.contains("List-Unsubscribe: <")
            && review
                .raw
                .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        review.raw
    );
    // (HTML escapes the slashes of links as &#x2f;.)
    assert!(
        review.text.contains("/unsubscribe/") && review.html.contains("unsubscribe&#x2f;"),
        "{}",
        review.html
    );
    // On the timeline, once each.
    let sent_events = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notification.sent")
        .count();
    assert_eq!(sent_events, 5, "{o}");

    // Every sending job again: nothing more goes out, nothing changes.
    rerun_all_sends(&app).await;
    assert_eq!(to(&app, email).len(), 5);
    let again = mails(&app, s, &id).await;
    assert_eq!(again["notifications"], o["notifications"]);
    let sent_events = again["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "notification.sent")
        .count();
    assert_eq!(sent_events, 5);

    // The review link records a rating; the unsubscribe link stops the next request.
    let review_url = review
        .text
        .split_whitespace()
        .find(|w| w.contains("/review/"))
        .unwrap()
        .to_owned();
    let path = review_url
        .split_once("/review/")
        .map(|(_, t)| format!("/review/{t}"))
        .unwrap();
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("How was your order?"));
    let saved = app
        .client
        .post(app.url(&path))
        .form(&[("rating", "5"), ("comment", "Lovely kettle")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let bad = app
        .client
        .post(app.url(&path))
        .form(&[("rating", "9")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let forged = app
        .client
        .get(app.url(&format!("{path}x")))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);
    assert_eq!(crate::helpers::count_rows(&app, "order_reviews").await, 1);
    let unsubscribe = review
        .text
        .split_whitespace()
        .find(|w| w.contains("/unsubscribe/"))
        .unwrap()
        .to_owned();
    let path = unsubscribe
        .split_once("/unsubscribe/")
        .map(|(_, t)| format!("/unsubscribe/{t}"))
        .unwrap();
    let res = app.client.post(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A second order by the same shopper: everything but the review request goes out.
    let second = kettles(&app, s, "mail-1b", 1, us_address()).await;
    exec(
        &app,
        "UPDATE orders SET email = 'mail-1@shopper.example' WHERE external_id = 'mail-1b'",
    )
    .await;
    drain(&app).await;
    let o2 = mails(&app, s, &second).await;
    let number = o2["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    track(
        &app,
        &shop.carrier,
        "easypost",
        CARRIER_SECRET,
        &scan(&number, "delivered", "2024-08-06T10:00:00Z"),
    )
    .await;
    drain(&app).await;
    exec(
        &app,
        "UPDATE jobs SET run_at = created_at WHERE kind = 'notify.send'",
    )
    .await;
    drain(&app).await;
    let o2 = mails(&app, s, &second).await;
    let review = o2["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "REVIEW_REQUEST")
        .unwrap();
    assert_eq!(review["status"], "SUPPRESSED", "{o2}");
    assert!(
        o2["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "notification.suppressed")
    );
    // The tracking page in the emails shows the order.
    let tracking = outbox(&app).into_iter().find_map(|m| {
        m.text
            .split_whitespace()
            .find(|w| w.contains("/track/"))
            .map(str::to_owned)
    });
    assert!(
        tracking.is_none(),
        "UPS parcels link to UPS, not to our page"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failed_send_is_recorded_and_retried_and_the_delivery_log_shows_it() {
    // Nothing listens on port 9 of loopback: the SMTP connection is refused.
    let data_dir =
        std::env::temp_dir().join(format!("orderflow-test-{}", uuid::Uuid::new_v4().simple()));
    let database_url = match crate::helpers::postgres_url() {
        Some(server) => Some(crate::helpers::fresh_postgres_database(&server).await),
        None => None,
    };
    let mut settings = crate::helpers::settings(data_dir, database_url);
    settings.smtp_url = Some("smtp://127.0.0.1:9".into());
    let app = spawn_with(settings).await;
    let shop = shop(&app, "mail-down", true).await;
    let s = &shop.owner;
    let id = kettles(&app, s, "down-1", 1, us_address()).await;
    drain(&app).await;
    let o = mails(&app, s, &id).await;
    let confirmation = &o["notifications"][0];
    assert_eq!(confirmation["kind"], "ORDER_CONFIRMATION");
    assert_eq!(confirmation["status"], "FAILED", "{o}");
    assert_eq!(confirmation["attempts"], 1);
    let log = app
        .gql(
            Some(&s.access),
            "{ notifications(first: 10, status: FAILED) { edges { node { kind lastError } } } }",
            json!({}),
        )
        .await;
    let failed = log["data"]["notifications"]["edges"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{log}");
    assert!(
        failed[0]["node"]["lastError"]
            .as_str()
            .unwrap()
            .contains("SMTP"),
        "{log}"
    );
    // The job waits for its retry, with the attempt counted.
    let db = owner_connection(&app).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'notify.send' AND status = 'queued' AND attempts = 1 AND last_error IS NOT NULL".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let waiting: i64 = row.try_get("", "n").unwrap();
    assert_eq!(waiting, 2);
    app.stop().await;
}

async fn inbound_url(app: &TestApp, s: &Session) -> String {
    let body = ok(
        app,
        s,
        "rotateInboundEmailToken",
        "mutation { rotateInboundEmailToken { inboundEmailUrl userErrors { message } } }",
        json!({}),
    )
    .await;
    let url = body["inboundEmailUrl"].as_str().unwrap().to_owned();
    url.split_once("/webhooks/")
        .map(|(_, p)| format!("/webhooks/{p}"))
        .unwrap()
}

fn raw_mail(from: &str, subject: &str, id: &str, in_reply_to: Option<&str>, text: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Grace Hopper <{from}>\r\nTo: help@mail-it.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    );
    if let Some(parent) = in_reply_to {
        m.push_str(&format!(
            "In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
        ));
    }
    m.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ));
    m.into_bytes()
}

const THREADS: &str = "{ supportThreads(first: 20) { edges { node { id email subject status handling intent confidence orderId messageCount messages { id direction source subject text messageId inReplyTo intent confidence reasons suggestedReply proposedAction { kind status orderId } } } } } }";

async fn threads(app: &TestApp, s: &Session) -> Vec<Value> {
    let body = app.gql(Some(&s.access), THREADS, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["supportThreads"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

#[tokio::test]
async fn inbound_mail_is_classified_threaded_and_answered_or_left_to_staff_with_a_suggestion() {
    let app = spawn_app().await;
    let shop = shop(&app, "mail-it", true).await;
    let s = &shop.owner;
    let shipped = kettles(&app, s, "wismo-1", 1, us_address()).await;
    drain(&app).await;
    let o = mails(&app, s, &shipped).await;
    let number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    track(
        &app,
        &shop.carrier,
        "easypost",
        CARRIER_SECRET,
        &scan(&number, "in_transit", "2024-08-04T08:00:00Z"),
    )
    .await;
    drain(&app).await;
    let shopper = "wismo-1@shopper.example";
    let path = inbound_url(&app, s).await;

    // Without the token, or with a wrong one: refused before anything is read.
    let bare = path.split('?').next().unwrap().to_owned();
    let mail = raw_mail(
        shopper,
        "Where is my order?",
        "q1@mail.shopper.example",
        None,
        "Hi, where is my order? It has not arrived yet.",
    );
    let (code, body) = post(&app, &bare, &[("content-type", "message/rfc822")], &mail).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (401, Some("BAD_TOKEN")),
        "{body}"
    );
    // Unreadable input names the field.
    let (code, body) = post(
        &app,
        &path,
        &[("content-type", "application/json")],
        br#"{"from": "nobody", "text": "x"}"#,
    )
    .await;
    assert_eq!(
        (code, body["field"].as_str()),
        (422, Some("from")),
        "{body}"
    );

    // A shopper asks where the shipped order is: answered with the live status.
    let (code, body) = post(&app, &path, &[("content-type", "message/rfc822")], &mail).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (200, Some("filed")),
        "{body}"
    );
    let (code, body) = post(&app, &path, &[("content-type", "message/rfc822")], &mail).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (200, Some("duplicate")),
        "a redelivery files nothing: {body}"
    );
    drain(&app).await;
    let all = threads(&app, s).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let t = &all[0];
    assert_eq!(t["intent"], "WHERE_IS_MY_ORDER", "{t}");
    assert!(t["confidence"].as_i64().unwrap() >= 70, "{t}");
    assert_eq!(t["handling"], "AUTO_REPLIED", "{t}");
    assert_eq!(t["orderId"], shipped.as_str());
    let msgs = t["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{t}");
    assert_eq!(
        (msgs[1]["direction"].as_str(), msgs[1]["source"].as_str()),
        (Some("OUTBOUND"), Some("auto"))
    );
    let replies = to(&app, shopper);
    let reply = replies
        .iter()
        .find(|m| m.in_reply_to.as_deref() == Some("q1@mail.shopper.example"))
        .expect("the auto-reply is threaded");
    assert_eq!(reply.references, ["q1@mail.shopper.example"]);
    assert_eq!(reply.subject, "Re: Where is my order?");
    assert!(reply.text.contains(&number), "{}", reply.text);
    assert!(
        reply.text.contains("In transit"),
        "the live status: {}",
        reply.text
    );
    assert!(reply.html.contains(&number));
    let o = mails(&app, s, &shipped).await;
    assert!(
        o["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "support.message_received"),
        "{o}"
    );
    assert_eq!(o["supportThreads"].as_array().unwrap().len(), 1);

    // The shopper answers our reply: same thread, found by In-Reply-To.
    let answer = raw_mail(
        shopper,
        "Re: Where is my order?",
        "q2@mail.shopper.example",
        Some(&reply.message_id),
        "Thanks! Just so you know, I might not be home tomorrow.\n\nOn Fri, 27 Nov 2026, Shop wrote:\n> Your order is in transit",
    );
    post(&app, &path, &[("content-type", "message/rfc822")], &answer).await;
    drain(&app).await;
    let all = threads(&app, s).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["messageCount"], 3);

    // An ambiguous message, through Postmark's JSON: to staff, with a suggested reply.
    let vague = json!({
        "FromName": "Ada", "From": "ada@elsewhere.example",
        "FromFull": { "Email": "ada@elsewhere.example", "Name": "Ada", "MailboxHash": "" },
        "To": "help@mail-it.example", "Subject": "hello", "MessageID": "b2f1",
        "TextBody": "hi there, quick thing", "Headers": [{ "Name": "Message-ID", "Value": "<vague-1@elsewhere.example>" }]
    });
    let (code, body) = post(
        &app,
        &path,
        &[("content-type", "application/json")],
        &serde_json::to_vec(&vague).unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    drain(&app).await;
    let all = threads(&app, s).await;
    let v = all
        .iter()
        .find(|t| t["email"] == "ada@elsewhere.example")
        .unwrap();
    assert_eq!(v["handling"], "NEEDS_STAFF", "{v}");
    let m = &v["messages"][0];
    assert!(
        !m["suggestedReply"].as_str().unwrap_or_default().is_empty(),
        "{m}"
    );
    assert!(m["reasons"].as_array().unwrap().len() >= 2, "{m}");
    assert!(
        to(&app, "ada@elsewhere.example").is_empty(),
        "nothing is sent without staff"
    );

    // Staff reply from the inbox: sent as email threaded under the shopper's message.
    let thread = v["id"].as_str().unwrap().to_owned();
    ok(&app, s, "replyToSupportThread", "mutation($t: ID!) { replyToSupportThread(input: {threadId: $t, text: \"Hello Ada,\\n\\nHow can we help?\"}) { thread { status handling } userErrors { field message } } }", json!({ "t": thread })).await;
    drain(&app).await;
    let staff = to(&app, "ada@elsewhere.example");
    assert_eq!(staff.len(), 1);
    assert_eq!(
        staff[0].in_reply_to.as_deref(),
        Some("vague-1@elsewhere.example")
    );
    assert_eq!(staff[0].subject, "Re: hello");
    assert!(staff[0].text.contains("How can we help?"));

    // A cancellation request for an order not yet shipped: proposed, confirmed with one click.
    let mut settings = crate::fulfillment::ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true}) { userErrors { field message } } }", json!({})).await;
    settings.take();
    let open = kettles(&app, s, "cancel-1", 1, us_address()).await;
    drain(&app).await;
    let name = mails(&app, s, &open).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = post(&app, &path, &[("content-type", "application/json")], &serde_json::to_vec(&json!({
        "from": "cancel-1@shopper.example", "subject": format!("Cancel order {name}"),
        "text": format!("Please cancel my order {name}, I ordered the wrong kettle."), "messageId": "c1@shopper.example"
    })).unwrap()).await;
    assert_eq!(code, 200);
    drain(&app).await;
    let all = threads(&app, s).await;
    let c = all
        .iter()
        .find(|t| t["email"] == "cancel-1@shopper.example")
        .unwrap();
    assert_eq!(c["intent"], "CANCEL", "{c}");
    let m = &c["messages"][0];
    assert_eq!(m["proposedAction"]["kind"], "CANCEL_ORDER", "{c}");
    assert_eq!(m["proposedAction"]["status"], "PROPOSED");
    assert_eq!(m["proposedAction"]["orderId"], open.as_str());
    let ack = to(&app, "cancel-1@shopper.example")
        .into_iter()
        .find(|m| m.in_reply_to.as_deref() == Some("c1@shopper.example"));
    assert!(ack.is_some(), "the shopper is told it is being processed");
    let done = ok(&app, s, "confirmSupportAction", "mutation($m: ID!) { confirmSupportAction(input: {messageId: $m}) { message { proposedAction { status } } userErrors { field message } } }", json!({ "m": m["id"] })).await;
    assert_eq!(done["message"]["proposedAction"]["status"], "CONFIRMED");
    assert_eq!(mails(&app, s, &open).await["state"], "CANCELLED");
    let again = app.gql(Some(&s.access), "mutation($m: ID!) { confirmSupportAction(input: {messageId: $m}) { userErrors { field code } } }", json!({ "m": m["id"] })).await;
    assert_eq!(
        again["data"]["confirmSupportAction"]["userErrors"][0]["code"], "ILLEGAL_TRANSITION",
        "{again}"
    );

    // A bounce of our reply: recorded on the email; the address gets nothing more.
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: shop@mail-it.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; ada@elsewhere.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{}>\r\nSubject: Re: hello\r\n--r--\r\n",
        staff[0].message_id
    );
    let (code, body) = post(
        &app,
        &path,
        &[("content-type", "message/rfc822")],
        dsn.as_bytes(),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str(), body["matched"].as_bool()),
        (200, Some("bounce"), Some(true)),
        "{body}"
    );
    let log = app.gql(Some(&s.access), "{ notifications(first: 50, status: BOUNCED) { edges { node { recipient bounceReason } } } }", json!({})).await;
    let bounced = &log["data"]["notifications"]["edges"][0]["node"];
    assert_eq!(bounced["recipient"], "ada@elsewhere.example", "{log}");
    assert!(bounced["bounceReason"].as_str().unwrap().contains("5.1.1"));
    ok(&app, s, "replyToSupportThread", "mutation($t: ID!) { replyToSupportThread(input: {threadId: $t, text: \"Are you there?\"}) { userErrors { field message } } }", json!({ "t": thread })).await;
    drain(&app).await;
    assert_eq!(
        to(&app, "ada@elsewhere.example").len(),
        1,
        "a bounced address gets nothing more"
    );
    app.stop().await;
}

#[tokio::test]
async fn templates_are_edited_with_checked_syntax_previewed_and_written_in_the_shoppers_locale() {
    let app = spawn_app().await;
    let shop = shop(&app, "mail-tpl", true).await;
    let s = &shop.owner;
    const UPDATE: &str = "mutation($i: UpdateNotificationTemplateInput!) { updateNotificationTemplate(input: $i) { template { kind customized version subject } userErrors { field code message } } }";
    let bad = app.gql(Some(&s.access), UPDATE, json!({ "i": { "kind": "SHIPPED", "subject": "Shipped {{ order.name }}", "text": "ok", "html": "<p>\n{% if shipment.eta %}</p>" } })).await;
    let errors = &bad["data"]["updateNotificationTemplate"]["userErrors"];
    assert_eq!(errors[0]["field"], json!(["input", "html"]), "{bad}");
    assert!(
        errors[0]["message"].as_str().unwrap().starts_with("line 2"),
        "{bad}"
    );
    let saved = ok(&app, s, "updateNotificationTemplate", UPDATE, json!({ "i": { "kind": "ORDER_CONFIRMATION", "subject": "Danke! Bestellung {{ order.name }}", "text": "Summe: {{ order.total }} — {{ order.placed_at }}", "html": "<p>Summe: {{ order.total }}</p>" } })).await;
    assert_eq!(saved["template"]["version"], 1);
    assert_eq!(saved["template"]["customized"], true);
    // A German shopper: money and dates as Germans write them.
    let body = crate::orders::create_order(&app, s, json!({
        "externalId": "de-1", "email": "kunde@beispiel.example", "firstName": "Greta", "lastName": "Huber",
        "shippingAddress": us_address(), "billingAddress": us_address(),
        "client": { "language": "de-DE" },
        "lines": [{ "sku": "KETTLE-1", "quantity": 30 }],
        "payment": { "status": "PAID", "amountCaptured": "1200.00", "avsResult": "Y", "cvvResult": "M" }
    })).await;
    let id = body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let preview = ok(&app, s, "previewNotification", "mutation($o: ID!) { previewNotification(input: {kind: ORDER_CONFIRMATION, orderId: $o}) { preview { subject text html locale } userErrors { field message } } }", json!({ "o": id })).await;
    assert_eq!(preview["preview"]["locale"], "de_DE");
    assert!(
        preview["preview"]["text"]
            .as_str()
            .unwrap()
            .contains("1.200,00\u{a0}$"),
        "{preview}"
    );
    drain(&app).await;
    let sent = to(&app, "kunde@beispiel.example");
    let m = sent
        .iter()
        .find(|m| m.subject.starts_with("Danke!"))
        .expect("the edited template is used");
    assert!(m.text.contains("1.200,00"), "{}", m.text);
    // Unsaved edits preview without saving; a reset brings back the built-in one.
    let p = ok(&app, s, "previewNotification", "mutation { previewNotification(input: {kind: SHIPPED, subject: \"Sample {{ order.name }}\"}) { preview { subject } userErrors { field message } } }", json!({})).await;
    assert_eq!(p["preview"]["subject"], "Sample #1001");
    let reset = ok(&app, s, "resetNotificationTemplate", "mutation { resetNotificationTemplate(input: {kind: ORDER_CONFIRMATION}) { template { customized subject } userErrors { field message } } }", json!({})).await;
    assert_eq!(reset["template"]["customized"], false);
    let list = app
        .gql(
            Some(&s.access),
            "{ notificationTemplates { kind customized } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["notificationTemplates"]
            .as_array()
            .unwrap()
            .len(),
        14,
        "{list}"
    );
    // Settings: the sender and validation by field.
    let bad = app.gql(Some(&s.access), "mutation { updateNotificationSettings(input: {replyTo: \"not-an-address\"}) { userErrors { field code } } }", json!({})).await;
    assert_eq!(
        bad["data"]["updateNotificationSettings"]["userErrors"][0]["field"],
        json!(["input", "replyTo"])
    );
    let set = ok(&app, s, "updateNotificationSettings", "mutation { updateNotificationSettings(input: {senderName: \"Kettle Co\", senderAddress: \"hello@kettle.example\", replyTo: \"help@kettle.example\", reviewRequestDays: 3}) { settings { senderName replyTo reviewRequestDays senderAddressConfirmed } userErrors { field message } } }", json!({})).await;
    assert_eq!(set["settings"]["reviewRequestDays"], 3);
    // The shop's own address is used once someone there confirms it.
    assert_eq!(set["settings"]["senderAddressConfirmed"], false);
    confirm_sender(&app, "hello@kettle.example").await;
    kettles(&app, s, "sender-1", 1, us_address()).await;
    drain(&app).await;
    let m = &to(&app, "sender-1@shopper.example")[0];
    assert!(
        m.raw.contains("From: \"Kettle Co\" <hello@kettle.example>")
            || m.raw.contains("From: Kettle Co <hello@kettle.example>"),
        "{}",
        m.raw
    );
    assert!(
        m.raw.contains("Reply-To:") && m.raw.contains("help@kettle.example"),
        "{}",
        m.raw
    );
    assert!(
        m.message_id.ends_with("@kettle.example"),
        "{}",
        m.message_id
    );
    // A domain the platform may not send for: the tenant's name on the platform's address,
    // replies to the tenant.
    ok(&app, s, "updateNotificationSettings", "mutation { updateNotificationSettings(input: {senderAddress: \"hello@unverified.example\"}) { userErrors { field message } } }", json!({})).await;
    kettles(&app, s, "sender-2", 1, us_address()).await;
    drain(&app).await;
    let m = &to(&app, "sender-2@shopper.example")[0];
    assert!(
        m.raw.contains("Kettle Co") && m.raw.contains("<no-reply@orderflow.test>"),
        "{}",
        m.raw
    );
    assert!(
        !m.raw.contains("<hello@unverified.example>\r\nTo"),
        "{}",
        m.raw
    );
    assert!(
        m.raw.contains("Reply-To:") && m.raw.contains("help@kettle.example"),
        "{}",
        m.raw
    );
    app.stop().await;
}

/// Tenant B reaches none of tenant A's emails, threads, templates or settings.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-mail", true).await;
    let s = &a.owner;
    ok(app, s, "updateNotificationSettings", "mutation { updateNotificationSettings(input: {senderName: \"Alpha Sender Marker\"}) { userErrors { field message } } }", json!({})).await;
    ok(app, s, "updateNotificationTemplate", "mutation { updateNotificationTemplate(input: {kind: DELIVERED, subject: \"ALPHA-TEMPLATE-MARKER {{ order.name }}\", text: \"x\", html: \"<p>x</p>\"}) { userErrors { field message } } }", json!({})).await;
    let path = inbound_url(app, s).await;
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let shipped = kettles(app, s, "alpha-mail-1", 1, us_address()).await;
    ok(app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true}) { userErrors { field message } } }", json!({})).await;
    let open = kettles(app, s, "alpha-mail-2", 1, us_address()).await;
    drain(app).await;
    let name = mails(app, s, &open).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let posted = ok(app, s, "postSupportMessage", "mutation($t: String!) { postSupportMessage(input: {from: \"alpha-mail-2@shopper.example\", subject: \"Cancel\", text: $t}) { thread { id messages { id } } userErrors { field message } } }", json!({ "t": format!("Please cancel order {name}, wrong kettle") })).await;
    let thread = posted["thread"]["id"].as_str().unwrap().to_owned();
    let message = posted["thread"]["messages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = mails(app, s, &shipped).await;
    let notification_order = o["id"].as_str().unwrap().to_owned();
    let log = app
        .gql(
            Some(&s.access),
            "{ notifications(first: 5) { edges { node { id messageId } } } }",
            json!({}),
        )
        .await;
    let notification = log["data"]["notifications"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let message_id = log["data"]["notifications"]["edges"][0]["node"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = [
        "Alpha Sender Marker",
        "ALPHA-TEMPLATE-MARKER",
        "alpha-mail-1@shopper.example",
        "alpha-mail-2@shopper.example",
        thread.as_str(),
        message.as_str(),
        notification.as_str(),
        message_id.as_str(),
        token.as_str(),
    ];
    let no_leak = |field: &str, body: &Value| {
        let text = body.to_string();
        for m in markers {
            assert!(
                !text.contains(m),
                "{field} leaked {m:?} of the other tenant: {text}"
            );
        }
    };
    let vars = json!({ "t": thread, "m": message, "n": notification, "o": notification_order });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "notifications",
            "{ notifications(first: 100) { edges { node { id recipient subject messageId } } } }",
        ),
        (
            "notificationSettings",
            "{ notificationSettings { senderName inboundEmailUrl } }",
        ),
        (
            "notificationTemplates",
            "{ notificationTemplates { kind subject customized } }",
        ),
        (
            "supportThreads",
            "{ supportThreads(first: 100) { edges { node { id email messages { id text } } } } }",
        ),
        (
            "supportThread",
            "query($t: ID!) { supportThread(id: $t) { id email } }",
        ),
        (
            "classifySupportMessage",
            "{ classifySupportMessage(text: \"where is my parcel\") { intent confidence } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        no_leak(field, &body);
    }
    assert_eq!(
        app.gql(
            Some(&b.access),
            "query($t: ID!) { supportThread(id: $t) { id } }",
            vars.clone()
        )
        .await["data"]["supportThread"],
        Value::Null
    );
    for (field, query) in [
        (
            "resendNotification",
            "mutation($n: ID!) { resendNotification(input: {id: $n}) { userErrors { code } } }",
        ),
        (
            "replyToSupportThread",
            "mutation($t: ID!) { replyToSupportThread(input: {threadId: $t, text: \"hi\"}) { userErrors { code } } }",
        ),
        (
            "confirmSupportAction",
            "mutation($m: ID!) { confirmSupportAction(input: {messageId: $m}) { userErrors { code } } }",
        ),
        (
            "dismissSupportAction",
            "mutation($m: ID!) { dismissSupportAction(input: {messageId: $m}) { userErrors { code } } }",
        ),
        (
            "closeSupportThread",
            "mutation($t: ID!) { closeSupportThread(input: {threadId: $t}) { userErrors { code } } }",
        ),
        (
            "draftSupportReply",
            "mutation($t: ID!) { draftSupportReply(input: {threadId: $t}) { draft userErrors { code } } }",
        ),
        (
            "previewNotification",
            "mutation($o: ID!) { previewNotification(input: {kind: SHIPPED, orderId: $o}) { userErrors { code } } }",
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
    // B's own changes stay B's.
    for (field, query) in [
        (
            "updateNotificationSettings",
            "mutation { updateNotificationSettings(input: {senderName: \"Beta\"}) { settings { senderName } userErrors { field message } } }",
        ),
        (
            "rotateInboundEmailToken",
            "mutation { rotateInboundEmailToken { inboundEmailUrl userErrors { field message } } }",
        ),
        (
            "updateNotificationTemplate",
            "mutation { updateNotificationTemplate(input: {kind: SHIPPED, subject: \"Beta {{ order.name }}\", text: \"x\", html: \"<p>x</p>\"}) { template { subject } userErrors { field message } } }",
        ),
        (
            "resetNotificationTemplate",
            "mutation { resetNotificationTemplate(input: {kind: DELIVERED}) { template { subject } userErrors { field message } } }",
        ),
        (
            "postSupportMessage",
            "mutation { postSupportMessage(input: {from: \"alpha-mail-1@shopper.example\", subject: \"Where is my order\", text: \"where is my order?\"}) { thread { orderId } userErrors { field message } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, json!({})).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        assert_eq!(
            body["data"][field]["userErrors"],
            json!([]),
            "{field}: {body}"
        );
        if field == "postSupportMessage" {
            assert_eq!(
                body["data"][field]["thread"]["orderId"],
                Value::Null,
                "B's inbox never links A's orders"
            );
        }
    }
    // A's token does not open B's inbound webhook, nor B's A's.
    let b_tenant = app
        .gql(Some(&b.access), "{ me { tenant { id } } }", json!({}))
        .await["data"]["me"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_id = orderflow::graphql::relay::decode_id(&b_tenant, "Tenant", "id").unwrap();
    let (code, _) = post(
        app,
        &format!("/webhooks/email/{b_id}?token={token}"),
        &[("content-type", "application/json")],
        br#"{"from": "x@y.example", "text": "hi"}"#,
    )
    .await;
    assert_eq!(code, 401);
    // A's records are as they were.
    let t = app.gql(Some(&s.access), "query($t: ID!) { supportThread(id: $t) { status messages { proposedAction { status } } } }", json!({ "t": thread })).await;
    assert_eq!(t["data"]["supportThread"]["status"], "OPEN", "{t}");
    assert_eq!(
        t["data"]["supportThread"]["messages"][0]["proposedAction"]["status"],
        "PROPOSED"
    );
    let settings = app
        .gql(
            Some(&s.access),
            "{ notificationSettings { senderName } notificationTemplates { kind subject } }",
            json!({}),
        )
        .await;
    assert_eq!(
        settings["data"]["notificationSettings"]["senderName"],
        "Alpha Sender Marker"
    );
    let delivered = settings["data"]["notificationTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "DELIVERED")
        .unwrap()
        .clone();
    assert!(
        delivered["subject"]
            .as_str()
            .unwrap()
            .starts_with("ALPHA-TEMPLATE-MARKER")
    );
    covered
}

#[tokio::test]
async fn a_message_about_an_order_from_another_address_is_not_answered_automatically() {
    let app = spawn_app().await;
    let shop = shop(&app, "mail-spoof", true).await;
    let s = &shop.owner;
    let shipped = kettles(&app, s, "spoof-1", 1, us_address()).await;
    drain(&app).await;
    let o = mails(&app, s, &shipped).await;
    let shipped_mail = to(&app, "spoof-1@shopper.example")
        .into_iter()
        .find(|m| {
            m.subject.contains("on its way")
                || m.text
                    .contains(o["shipments"][0]["trackingNumber"].as_str().unwrap())
        })
        .unwrap();
    let path = inbound_url(&app, s).await;
    // A forward of the shipping email, from someone else, asking where the parcel is.
    let mail = raw_mail(
        "stranger@elsewhere.example",
        "Fwd: where is this order?",
        "fwd-1@elsewhere.example",
        Some(&shipped_mail.message_id),
        "Where is my order? Please send me the tracking details.",
    );
    let (code, _) = post(&app, &path, &[("content-type", "message/rfc822")], &mail).await;
    assert_eq!(code, 200);
    drain(&app).await;
    let t = threads(&app, s)
        .await
        .into_iter()
        .find(|t| t["email"] == "stranger@elsewhere.example")
        .unwrap();
    assert_eq!(t["orderId"], shipped.as_str(), "filed with the order: {t}");
    assert_eq!(t["handling"], "NEEDS_STAFF", "{t}");
    assert!(
        t["messages"][0]["reasons"]
            .to_string()
            .contains("not from the address that placed the order"),
        "{t}"
    );
    assert!(
        to(&app, "stranger@elsewhere.example").is_empty(),
        "no order facts to a stranger"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_address_change_is_proposed_confirmed_with_the_new_address_and_mistakes_leave_it_open() {
    let app = spawn_app().await;
    let shop = shop(&app, "mail-addr", true).await;
    let s = &shop.owner;
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true}) { userErrors { field message } } }", json!({})).await;
    let id = kettles(&app, s, "addr-1", 1, us_address()).await;
    drain(&app).await;
    let name = mails(&app, s, &id).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let posted = ok(&app, s, "postSupportMessage", "mutation($t: String!) { postSupportMessage(input: {from: \"addr-1@shopper.example\", subject: \"Wrong address\", text: $t}) { thread { id handling messages { id proposedAction { kind status } } } userErrors { field message } } }", json!({ "t": format!("I made a typo in the shipping address of order {name}, it should be 12 Elm Street, apartment 4") })).await;
    let thread = &posted["thread"];
    assert_eq!(thread["handling"], "NEEDS_STAFF", "{posted}");
    let m = thread["messages"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        thread["messages"][0]["proposedAction"]["kind"], "CHANGE_ADDRESS",
        "{posted}"
    );
    const CONFIRM: &str = "mutation($m: ID!, $a: AddressInput) { confirmSupportAction(input: {messageId: $m, address: $a}) { message { proposedAction { status } } userErrors { field code message } } }";
    let missing = app.gql(Some(&s.access), CONFIRM, json!({ "m": m })).await;
    assert_eq!(
        missing["data"]["confirmSupportAction"]["userErrors"][0]["field"],
        json!(["input", "address"]),
        "{missing}"
    );
    let wrong = app.gql(Some(&s.access), CONFIRM, json!({ "m": m, "a": { "line1": "", "city": "Shippington", "postalCode": "40003", "country": "US" } })).await;
    assert!(
        !wrong["data"]["confirmSupportAction"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{wrong}"
    );
    let open = app.gql(Some(&s.access), "query($t: ID!) { supportThread(id: $t) { handling messages { proposedAction { status } } } }", json!({ "t": thread["id"] })).await;
    assert_eq!(
        open["data"]["supportThread"]["messages"][0]["proposedAction"]["status"], "PROPOSED",
        "a mistake leaves it open: {open}"
    );
    let done = ok(&app, s, "confirmSupportAction", CONFIRM, json!({ "m": m, "a": { "name": "Grace Hopper", "line1": "12 Elm Street", "line2": "Apt 4", "city": "Shippington", "region": "KY", "postalCode": "40003", "country": "US" } })).await;
    assert_eq!(done["message"]["proposedAction"]["status"], "CONFIRMED");
    let o = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { shippingAddress { line1 line2 } events { kind } } }",
            json!({ "o": id }),
        )
        .await;
    assert_eq!(
        o["data"]["order"]["shippingAddress"]["line1"], "12 Elm Street",
        "{o}"
    );
    let after = app
        .gql(
            Some(&s.access),
            "query($t: ID!) { supportThread(id: $t) { handling } }",
            json!({ "t": thread["id"] }),
        )
        .await;
    // Nothing waits for staff any more: the automatic answer told the shopper it is being done.
    assert_eq!(
        after["data"]["supportThread"]["handling"], "AUTO_REPLIED",
        "{after}"
    );

    // Mail from the shop's own address is never answered automatically (no loops).
    ok(&app, s, "updateNotificationSettings", "mutation { updateNotificationSettings(input: {senderAddress: \"orders@kettle.example\"}) { userErrors { field message } } }", json!({})).await;
    let path = inbound_url(&app, s).await;
    let own = raw_mail(
        "orders@kettle.example",
        "Where is my order?",
        "own-1@kettle.example",
        None,
        "Where is my order? It has not arrived.",
    );
    post(&app, &path, &[("content-type", "message/rfc822")], &own).await;
    drain(&app).await;
    let t = threads(&app, s)
        .await
        .into_iter()
        .find(|t| t["email"] == "orders@kettle.example")
        .unwrap();
    assert_eq!(t["handling"], "NEEDS_STAFF", "{t}");
    // Nothing but the address's confirmation request went to it.
    assert!(
        to(&app, "orders@kettle.example")
            .iter()
            .all(|m| m.subject == "Confirm your sender address for Orderflow")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_drafting_model_drafts_replies_for_staff_and_the_template_stands_in_without_it() {
    const DRAFT: &str = "mutation($t: ID!) { draftSupportReply(input: {threadId: $t}) { draft source note userErrors { field code } } }";
    const POST: &str = "mutation { postSupportMessage(input: {from: \"ada@elsewhere.example\", subject: \"Gift wrap\", text: \"Can you gift wrap my kettle?\"}) { thread { id } userErrors { message } } }";
    // Without a model: the intent's template.
    let app = spawn_app().await;
    let s = app.sign_up("Draft Shop", "owner@draft.example").await;
    let t = ok(&app, &s, "postSupportMessage", POST, json!({})).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = ok(&app, &s, "draftSupportReply", DRAFT, json!({ "t": t })).await;
    assert_eq!(d["source"], "TEMPLATE", "{d}");
    assert!(!d["draft"].as_str().unwrap().is_empty());
    app.stop().await;

    // With one (an OpenAI-compatible API on loopback): its draft, never sent by itself.
    let model = crate::mock::MockApi::spawn("authorization");
    model.on("/v1/chat/completions", vec![crate::mock::Reply::json(serde_json::to_vec(&json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1764230400, "model": "test-model",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Hello Ada, we would be glad to gift wrap it." }, "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132 }
    })).unwrap()), crate::mock::Reply::status(500)]);
    let data_dir =
        std::env::temp_dir().join(format!("orderflow-test-{}", uuid::Uuid::new_v4().simple()));
    let database_url = match crate::helpers::postgres_url() {
        Some(server) => Some(crate::helpers::fresh_postgres_database(&server).await),
        None => None,
    };
    let mut settings = crate::helpers::settings(data_dir, database_url);
    settings.llm_url = Some(format!("{}/v1", model.base));
    settings.llm_api_key = Some("sk-test".into());
    let app = spawn_with(settings).await;
    let s = app.sign_up("Draft Shop", "owner@draft.example").await;
    let t = ok(&app, &s, "postSupportMessage", POST, json!({})).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = ok(&app, &s, "draftSupportReply", DRAFT, json!({ "t": t })).await;
    assert_eq!(d["source"], "MODEL", "{d}");
    assert_eq!(d["draft"], "Hello Ada, we would be glad to gift wrap it.");
    assert_eq!(model.hits("/v1/chat/completions"), 1);
    let seen = model.seen.lock().unwrap().clone();
    assert_eq!(seen[0].2.as_deref(), Some("Bearer sk-test"));
    // The model failing: the template stands in, and the note says why.
    let d = ok(&app, &s, "draftSupportReply", DRAFT, json!({ "t": t })).await;
    assert_eq!(d["source"], "TEMPLATE", "{d}");
    assert!(d["note"].as_str().unwrap().contains("500"), "{d}");
    let thread = app
        .gql(
            Some(&s.access),
            "query($t: ID!) { supportThread(id: $t) { messageCount } }",
            json!({ "t": t }),
        )
        .await;
    assert_eq!(
        thread["data"]["supportThread"]["messageCount"], 1,
        "drafts are never sent"
    );
    app.stop().await;
}
