//! Returns over the API and the shopper's pages: a delivered order goes from the return link in
//! the delivered email to the refund without staff (auto-approval, label, the carrier's scans,
//! inspection by the warehouse's system, restock, refund), each step on the timeline and in the
//! ledger; what the policy holds back goes to staff.

use serde_json::{Value, json};

use crate::engine::drain;
use crate::fulfillment::{CARRIER_SECRET, easypost_event, kettles, ok, shop, track, us_address};
use crate::helpers::{Session, TestApp, spawn_app};
use crate::notify::outbox;
use crate::refunds::{booked, uuid_of};

pub const RETURN: &str = "id name status source reason resolution decision { automatic reasons } rejection trackingNumber labelCost labelStatus labelUrl pageUrl lines { lineIndex sku quantity grade disposition dispositionReason } settlement { amount goods tax shipping withheld notes } refund { amount status withheld } events { kind message }";

pub async fn returns_of(app: &TestApp, s: &Session, order: &str) -> Vec<Value> {
    let body = app
        .gql(
            Some(&s.access),
            &format!("query($o: ID!) {{ order(id: $o) {{ returns {{ {RETURN} }} }} }}"),
            json!({ "o": order }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"]["returns"].as_array().unwrap().clone()
}

async fn on_hand(app: &TestApp, s: &Session, sku: &str) -> Vec<(String, i64)> {
    let body = app
        .gql(
            Some(&s.access),
            "query($s: String!) { stockLevels(sku: $s) { warehouse { code } onHand } }",
            json!({ "s": sku }),
        )
        .await;
    let mut out: Vec<(String, i64)> = body["data"]["stockLevels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["warehouse"]["code"].as_str().unwrap().to_owned(),
                l["onHand"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn kinds(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A paid kettle order, routed, labelled and delivered by the carrier's webhook.
pub async fn delivered(
    app: &TestApp,
    s: &Session,
    carrier: &Value,
    external: &str,
    quantity: i64,
) -> String {
    let order = kettles(app, s, external, quantity, us_address()).await;
    drain(app).await;
    let o = crate::fulfillment::order(app, s, &order).await;
    let number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap_or_else(|| panic!("no label: {o}"))
        .to_owned();
    let (status, body) = track(
        app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &recent_event(&number, true),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    drain(app).await;
    order
}

/// EasyPost's event for `number` with its scans moved to the last few hours (the fixture's
/// are from 2024, outside any return window).
pub fn recent_event(number: &str, delivered: bool) -> Vec<u8> {
    let mut e: Value = serde_json::from_slice(&easypost_event(number, 2, delivered)).unwrap();
    let details = e["result"]["tracking_details"].as_array_mut().unwrap();
    let n = details.len() as i64;
    for (i, d) in details.iter_mut().enumerate() {
        let at = chrono::Utc::now() - chrono::Duration::hours(n - i as i64);
        d["datetime"] = json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    serde_json::to_vec(&e).unwrap()
}

fn path_of(url: &str) -> String {
    url.strip_prefix("http://orderflow.test")
        .unwrap_or_else(|| panic!("not one of our links: {url}"))
        .to_owned()
}

#[tokio::test]
async fn a_delivered_order_is_returned_and_refunded_without_staff() {
    let app = spawn_app().await;
    let shop = shop(&app, "returns", true).await;
    let s = &shop.owner;
    ok(&app, s, "updateReturnSettings", "mutation { updateReturnSettings(input: {restockingFeePercent: 10}) { settings { restockingFeePercent windowDays } userErrors { field message } } }", json!({})).await;
    let order = delivered(&app, s, &shop.carrier, "RET-1", 2).await;
    let before = on_hand(&app, s, "KETTLE-1").await;

    // The delivered email carries the link to the return form.
    let mail = outbox(&app)
        .into_iter()
        .find(|m| {
            m.to.eq_ignore_ascii_case("RET-1@shopper.example") && m.subject.contains("delivered")
        })
        .expect("the delivered email");
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/returns/new/"))
        .unwrap_or_else(|| panic!("no return link in: {}", mail.text))
        .to_owned();
    let form = app
        .client
        .get(app.url(&path_of(&link)))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("Item KETTLE-1") && html.contains("Changed my mind"),
        "{html}"
    );
    // A tampered link is refused.
    let bad = app
        .client
        .get(app.url(&format!("{}x", path_of(&link))))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);

    // The shopper asks to return one kettle: approved by policy, labelled, shown its page.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let done = no_redirects
        .post(app.url(&path_of(&link)))
        .form(&[
            ("qty_0", "1"),
            ("reason", "changed_mind"),
            ("comment", "Too big for my kitchen"),
            ("resolution", "refund"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    let done = app
        .client
        .get(app.url(&path_of(&location)))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let page = done.text().await.unwrap();
    assert!(
        page.contains("approved") && page.contains("Print your return label"),
        "{page}"
    );
    let r = &returns_of(&app, s, &order).await[0];
    assert_eq!(r["status"], "APPROVED");
    assert_eq!(r["source"], "shopper");
    assert_eq!(r["decision"]["automatic"], true, "{r}");
    let number = r["trackingNumber"].as_str().unwrap().to_owned();
    let label = app
        .client
        .get(app.url(&path_of(r["labelUrl"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(label.headers()["content-type"], "application/pdf");
    assert!(label.bytes().await.unwrap().starts_with(b"%PDF"));
    drain(&app).await;
    let approved = outbox(&app)
        .into_iter()
        .find(|m| m.subject.contains("return for order"))
        .expect("the return-approved email");
    assert!(
        approved
            .text
            .contains("Print your return label: http://orderflow.test/returns/"),
        "{}",
        approved.text
    );

    // The carrier scans the return parcel on its way and at the warehouse.
    let (status, _) = track(
        &app,
        &shop.carrier,
        "easypost",
        CARRIER_SECRET,
        &recent_event(&number, false),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(returns_of(&app, s, &order).await[0]["status"], "IN_TRANSIT");
    let (status, _) = track(
        &app,
        &shop.carrier,
        "easypost",
        CARRIER_SECRET,
        &recent_event(&number, true),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(returns_of(&app, s, &order).await[0]["status"], "RECEIVED");

    // The warehouse's system grades it; restock and refund follow by themselves.
    let (_, key) = app
        .create_api_key(s, &["ORDERS_READ", "ORDERS_MANAGE", "REFUNDS_ISSUE"])
        .await;
    let inspected = app
        .gql(
            Some(&key),
            &format!("mutation($i: InspectReturnInput!) {{ inspectReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"),
            json!({ "i": { "returnId": r["id"], "lines": [{ "lineIndex": 0, "grade": "A" }] } }),
        )
        .await;
    let r = &inspected["data"]["inspectReturn"]["return"];
    assert_eq!(
        inspected["data"]["inspectReturn"]["userErrors"],
        json!([]),
        "{inspected}"
    );
    assert_eq!(r["status"], "RESOLVED", "{r}");
    assert_eq!(r["lines"][0]["disposition"], "RESTOCK");
    // 40.00 for the kettle less the 10 % restocking fee.
    assert_eq!(r["settlement"]["amount"], "36.00");
    assert_eq!(r["settlement"]["withheld"], "4.00");
    assert_eq!(r["refund"]["amount"], "36.00");
    assert_eq!(r["refund"]["status"], "SUCCEEDED");
    let after = on_hand(&app, s, "KETTLE-1").await;
    let restocked: i64 = after.iter().zip(&before).map(|(a, b)| a.1 - b.1).sum();
    assert_eq!(restocked, 1, "{before:?} → {after:?}");
    assert_eq!(
        kinds(&r["events"]),
        [
            "return.requested",
            "return.approved",
            "return.in_transit",
            "return.received",
            "return.inspected",
            "refund.issued",
            "return.resolved"
        ]
    );

    // The books: the sale, both labels (out and back), and the refund.
    let uuid = uuid_of(&order);
    assert_eq!(booked(&app, &uuid, "sale").await, (800_000, 1));
    assert_eq!(booked(&app, &uuid, "label").await.1, 2);
    assert_eq!(booked(&app, &uuid, "refund").await, (360_000, 1));
    drain(&app).await;
    assert!(
        outbox(&app)
            .iter()
            .any(|m| m.subject.contains("refund for order") && m.text.contains("36.00"))
    );

    // Resolving again pays nothing more.
    let again = app
        .gql(
            Some(&s.access),
            "mutation($r: ID!) { resolveReturn(input: {returnId: $r}) { userErrors { field message } } }",
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        again["data"]["resolveReturn"]["userErrors"][0]["field"],
        json!(["input", "returnId"])
    );
    assert_eq!(booked(&app, &uuid, "refund").await, (360_000, 1));
}

#[tokio::test]
async fn what_the_policy_holds_back_goes_to_staff() {
    let app = spawn_app().await;
    let shop = shop(&app, "returns-staff", true).await;
    let s = &shop.owner;
    ok(&app, s, "updateReturnSettings", "mutation { updateReturnSettings(input: {autoApproveMaxValue: \"50.00\", autoRefund: false, finalSaleSkus: [\"LENS-*\"]}) { userErrors { field message } } }", json!({})).await;
    let bad = app.gql(Some(&s.access), "mutation { updateReturnSettings(input: {restockingFeePercent: 150}) { userErrors { field message } } }", json!({})).await;
    assert_eq!(
        bad["data"]["updateReturnSettings"]["userErrors"][0]["field"],
        json!(["input", "restockingFeePercent"])
    );
    let undelivered = kettles(&app, s, "RET-U", 1, us_address()).await;
    let order = delivered(&app, s, &shop.carrier, "RET-2", 2).await;
    let create = format!(
        "mutation($i: CreateReturnInput!) {{ createReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"
    );

    // Not delivered, too many, an unknown reason: refused, naming the field.
    for (input, field) in [
        (
            json!({ "orderId": undelivered, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "damaged" }),
            json!(["input", "orderId"]),
        ),
        (
            json!({ "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 3 }], "reason": "damaged" }),
            json!(["input", "lines", "0", "quantity"]),
        ),
        // The same line twice counts once against what was bought.
        (
            json!({ "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 2 }, { "lineIndex": 0, "quantity": 1 }], "reason": "damaged" }),
            json!(["input", "lines", "0", "quantity"]),
        ),
        (
            json!({ "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "bored" }),
            json!(["input", "reason"]),
        ),
    ] {
        let body = app
            .gql(Some(&s.access), &create, json!({ "i": input }))
            .await;
        assert_eq!(
            body["data"]["createReturn"]["userErrors"][0]["field"], field,
            "{body}"
        );
    }

    // Both kettles, damaged (the merchant's fault), worth 80.00 > 50.00: staff must approve.
    let body = app.gql(Some(&s.access), &create, json!({ "i": { "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 2 }], "reason": "damaged", "resolution": "STORE_CREDIT" } })).await;
    let r = &body["data"]["createReturn"]["return"];
    assert_eq!(r["status"], "REQUESTED", "{body}");
    assert_eq!(r["decision"]["automatic"], false);
    assert!(
        r["decision"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains("over the automatic limit"))
    );
    drain(&app).await;
    let to_shopper = |subject: &str| {
        outbox(&app)
            .into_iter()
            .filter(|m| {
                m.to.eq_ignore_ascii_case("RET-2@shopper.example") && m.subject.starts_with(subject)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        to_shopper("We've received your return request").len(),
        1,
        "the shopper hears the request is with staff"
    );
    // Nothing more of that line can be asked for while it is open.
    let more = app.gql(Some(&s.access), &create, json!({ "i": { "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "damaged" } })).await;
    assert_eq!(
        more["data"]["createReturn"]["userErrors"][0]["message"],
        "0 of KETTLE-1 can be returned"
    );

    let act = |m: &str| {
        format!(
            "mutation($r: ID!, $why: String) {{ {m}(input: {{returnId: $r, reason: $why}}) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"
        )
    };
    let approved = app
        .gql(
            Some(&s.access),
            &act("approveReturn"),
            json!({ "r": r["id"], "why": "photos show a cracked lid" }),
        )
        .await;
    assert_eq!(
        approved["data"]["approveReturn"]["return"]["status"], "APPROVED",
        "{approved}"
    );
    // Received by hand (the shopper dropped it off), then graded D: disposed of, and as the
    // merchant was at fault the whole value comes back as store credit.
    let received = app
        .gql(
            Some(&s.access),
            &act("receiveReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        received["data"]["receiveReturn"]["return"]["status"], "RECEIVED",
        "{received}"
    );
    let inspected = app.gql(Some(&s.access), &format!("mutation($i: InspectReturnInput!) {{ inspectReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"), json!({ "i": { "returnId": r["id"], "merchantFault": true, "lines": [{ "lineIndex": 0, "grade": "D", "note": "lid cracked; one kettle never came back", "received": 1 }] } })).await;
    let r2 = &inspected["data"]["inspectReturn"]["return"];
    assert_eq!(r2["status"], "INSPECTED", "{inspected}");
    assert_eq!(r2["lines"][0]["disposition"], "DISPOSE");
    // A viewer may look but not pay.
    let viewer = app
        .add_member(s, "viewer@returns-staff.example", "VIEWER")
        .await;
    let denied = app
        .gql(
            Some(&viewer.access),
            &act("resolveReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        denied["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{denied}"
    );
    let resolved = app
        .gql(
            Some(&s.access),
            &act("resolveReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    let r3 = &resolved["data"]["resolveReturn"]["return"];
    assert_eq!(r3["status"], "RESOLVED", "{resolved}");
    // One of the two arrived: its whole value as store credit, the merchant being at fault.
    assert_eq!(r3["settlement"]["amount"], "40.00");
    assert_eq!(r3["settlement"]["withheld"], "0.00");
    assert_eq!(
        booked(&app, &uuid_of(&order), "credit_refund").await,
        (400_000, 1)
    );

    // A return can be rejected with a reason, and cancelled while open.
    let order3 = delivered(&app, s, &shop.carrier, "RET-3", 1).await;
    let body = app.gql(Some(&s.access), &create, json!({ "i": { "orderId": order3, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "changed_mind" } })).await;
    let r = &body["data"]["createReturn"]["return"];
    assert_eq!(r["status"], "APPROVED", "{body}");
    let no_reason = app
        .gql(
            Some(&s.access),
            &act("rejectReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        no_reason["data"]["rejectReturn"]["userErrors"][0]["field"],
        json!(["input", "reason"])
    );
    let cancelled = app
        .gql(
            Some(&s.access),
            &act("cancelReturn"),
            json!({ "r": r["id"], "why": "shopper kept it" }),
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelReturn"]["return"]["status"], "CANCELLED",
        "{cancelled}"
    );
    // Its label no longer downloads.
    let label = cancelled["data"]["cancelReturn"]["return"]["labelUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = app
        .client
        .get(app.url(&path_of(&label)))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    // Its unused label came off the books: the label entry and its reversal.
    let (_, entries) = booked(&app, &uuid_of(&order3), "label").await;
    assert_eq!(
        entries, 3,
        "outbound label, return label, and the return label's reversal"
    );

    // With automatic approval off, staff reject; the shopper is told why.
    ok(&app, s, "updateReturnSettings", "mutation { updateReturnSettings(input: {autoApprove: false}) { userErrors { field message } } }", json!({})).await;
    let body = app.gql(Some(&s.access), &create, json!({ "i": { "orderId": order3, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "changed_mind" } })).await;
    let r = &body["data"]["createReturn"]["return"];
    assert_eq!(r["status"], "REQUESTED", "{body}");
    let rejected = app
        .gql(
            Some(&s.access),
            &act("rejectReturn"),
            json!({ "r": r["id"], "why": "the kettle was used for months" }),
        )
        .await;
    assert_eq!(
        rejected["data"]["rejectReturn"]["return"]["status"], "REJECTED",
        "{rejected}"
    );
    drain(&app).await;
    let told = outbox(&app)
        .into_iter()
        .find(|m| {
            m.to.eq_ignore_ascii_case("RET-3@shopper.example")
                && m.subject.starts_with("About your return")
        })
        .expect("the rejection email");
    assert!(
        told.text.contains("Why: the kettle was used for months"),
        "{}",
        told.text
    );
}

#[tokio::test]
async fn an_exchange_sends_a_replacement_through_the_lifecycle() {
    let app = spawn_app().await;
    let shop = shop(&app, "returns-exchange", true).await;
    let s = &shop.owner;
    let order = delivered(&app, s, &shop.carrier, "RET-X", 1).await;
    let create = format!(
        "mutation($i: CreateReturnInput!) {{ createReturn(input: $i) {{ return {{ {RETURN} exchangeOrderId }} userErrors {{ field message }} }} }}"
    );
    let body = app.gql(Some(&s.access), &create, json!({ "i": { "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "defective", "resolution": "EXCHANGE" } })).await;
    let r = &body["data"]["createReturn"]["return"];
    assert_eq!(r["status"], "APPROVED", "{body}");
    let act = |m: &str| {
        format!(
            "mutation($r: ID!) {{ {m}(input: {{returnId: $r}}) {{ return {{ {RETURN} exchangeOrderId }} userErrors {{ field message }} }} }}"
        )
    };
    let received = app
        .gql(
            Some(&s.access),
            &act("receiveReturn"),
            json!({ "r": r["id"] }),
        )
        .await;
    assert_eq!(
        received["data"]["receiveReturn"]["return"]["status"], "RECEIVED",
        "{received}"
    );
    let inspected = app.gql(Some(&s.access), &format!("mutation($i: InspectReturnInput!) {{ inspectReturn(input: $i) {{ return {{ {RETURN} exchangeOrderId }} userErrors {{ field message }} }} }}"), json!({ "i": { "returnId": r["id"], "lines": [{ "lineIndex": 0, "grade": "D" }] } })).await;
    let r = &inspected["data"]["inspectReturn"]["return"];
    assert_eq!(r["status"], "RESOLVED", "{inspected}");
    assert_eq!(r["refund"], Value::Null, "an exchange refunds nothing");
    let replacement = r["exchangeOrderId"]
        .as_str()
        .expect("a replacement order")
        .to_owned();
    // The replacement goes through the stages like any order: paid (by the return), screened,
    // allocated, routed and labelled.
    drain(&app).await;
    let o = app.gql(Some(&s.access), "query($o: ID!) { order(id: $o) { name state tags note totals { total } lines { sku quantity } shipments { trackingNumber } events { kind } } }", json!({ "o": replacement })).await;
    let o = &o["data"]["order"];
    assert_eq!(o["totals"]["total"], "0.00", "{o}");
    assert_eq!(o["lines"], json!([{ "sku": "KETTLE-1", "quantity": 1 }]));
    assert!(o["tags"].as_array().unwrap().contains(&json!("exchange")));
    assert!(o["name"].as_str().unwrap().ends_with("-R1-EX"), "{o}");
    assert!(
        o["shipments"][0]["trackingNumber"].is_string(),
        "the replacement was labelled: {o}"
    );
    assert_eq!(
        crate::refunds::booked(&app, &uuid_of(&order), "refund")
            .await
            .1,
        0
    );
}

/// Tenant B against tenant A's returns, refunds, ledger and reconciliation: every read shows
/// none of A's, every write naming A's records is NOT_FOUND.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-returns", true).await;
    let s = &a.owner;
    ok(app, s, "updateReturnSettings", "mutation { updateReturnSettings(input: {finalSaleSkus: [\"ALPHA-FINAL-MARKER\"], autoRefund: false}) { userErrors { field message } } }", json!({})).await;
    let order = delivered(app, s, &a.carrier, "alpha-ret", 2).await;
    let created = ok(app, s, "createReturn", &format!("mutation($i: CreateReturnInput!) {{ createReturn(input: $i) {{ return {{ {RETURN} }} userErrors {{ field message }} }} }}"), json!({ "i": { "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "changed_mind" } })).await;
    let ret = created["return"]["id"].as_str().unwrap().to_owned();
    let refunded = crate::refunds::refund(
        app,
        s,
        json!({ "orderId": order, "amount": "1.00", "idempotencyKey": "alpha-refund" }),
    )
    .await;
    let refund_id = refunded["refund"]["id"].as_str().unwrap().to_owned();
    let report = app.gql(Some(&s.access), "mutation($c: String!) { importPayoutReport(input: {format: STRIPE_CSV, content: $c}) { run { id items { id } } userErrors { message } } }", json!({ "c": "balance_transaction_id,currency,gross,fee,reporting_category,source_id\ntxn_alpha_marker,usd,3.00,0.10,charge,ch_alpha_marker\n" })).await;
    let run = report["data"]["importPayoutReport"]["run"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = report["data"]["importPayoutReport"]["run"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let entries = app
        .gql(
            Some(&s.access),
            "{ ledgerEntries(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let entry = entries["data"]["ledgerEntries"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = [
        order.as_str(),
        ret.as_str(),
        refund_id.as_str(),
        run.as_str(),
        item.as_str(),
        entry.as_str(),
        "ALPHA-FINAL-MARKER",
        "txn_alpha_marker",
        "alpha-ret",
    ];
    let no_leak = |field: &str, body: &Value| {
        let text = body.to_string();
        assert!(body["errors"].is_null(), "{field}: {text}");
        for m in markers {
            assert!(
                !text.contains(m),
                "{field} leaked {m:?} of the other tenant: {text}"
            );
        }
    };
    let vars = json!({ "r": ret, "o": order, "e": entry, "run": run, "i": item });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "returns",
            "{ returns(first: 100) { edges { node { id name } } } }",
        ),
        ("return", "query($r: ID!) { return(id: $r) { id } }"),
        ("returnSettings", "{ returnSettings { finalSaleSkus } }"),
        (
            "ledgerEntries",
            "{ ledgerEntries(first: 100) { edges { node { id memo orderId } } } }",
        ),
        (
            "ledgerBalances",
            "{ ledgerBalances { accounts { account balance } } }",
        ),
        (
            "reconciliationRuns",
            "{ reconciliationRuns(first: 100) { edges { node { id items { transactionId } } } } }",
        ),
        (
            "reconciliationRun",
            "query($run: ID!) { reconciliationRun(id: $run) { id } }",
        ),
        (
            "discrepancies",
            "{ discrepancies(first: 100, includeResolved: true) { edges { node { id transactionId } } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        no_leak(field, &body);
    }
    let b_balances = app
        .gql(
            Some(&b.access),
            "{ ledgerBalances { accounts { account } } }",
            json!({}),
        )
        .await;
    assert_eq!(b_balances["data"]["ledgerBalances"]["accounts"], json!([]));
    for (field, query) in [
        (
            "createReturn",
            "mutation($o: ID!) { createReturn(input: {orderId: $o, lines: [{lineIndex: 0, quantity: 1}], reason: \"changed_mind\"}) { userErrors { code } } }",
        ),
        (
            "approveReturn",
            "mutation($r: ID!) { approveReturn(input: {returnId: $r}) { userErrors { code } } }",
        ),
        (
            "rejectReturn",
            "mutation($r: ID!) { rejectReturn(input: {returnId: $r, reason: \"x\"}) { userErrors { code } } }",
        ),
        (
            "receiveReturn",
            "mutation($r: ID!) { receiveReturn(input: {returnId: $r}) { userErrors { code } } }",
        ),
        (
            "inspectReturn",
            "mutation($r: ID!) { inspectReturn(input: {returnId: $r, lines: [{lineIndex: 0, grade: A}]}) { userErrors { code } } }",
        ),
        (
            "resolveReturn",
            "mutation($r: ID!) { resolveReturn(input: {returnId: $r}) { userErrors { code } } }",
        ),
        (
            "cancelReturn",
            "mutation($r: ID!) { cancelReturn(input: {returnId: $r}) { userErrors { code } } }",
        ),
        (
            "refundOrder",
            "mutation($o: ID!) { refundOrder(input: {orderId: $o, amount: \"1.00\", idempotencyKey: \"b-try\"}) { userErrors { code } } }",
        ),
        (
            "reverseLedgerEntry",
            "mutation($e: ID!) { reverseLedgerEntry(input: {entryId: $e, reason: \"x\"}) { userErrors { code } } }",
        ),
        (
            "resolveDiscrepancy",
            "mutation($i: ID!) { resolveDiscrepancy(input: {itemId: $i, resolution: WRITTEN_OFF}) { userErrors { code } } }",
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
    // B's own settings and imports touch nothing of A's: a report naming A's payment finds
    // no order of B's.
    covered.push("updateReturnSettings");
    let own = app.gql(Some(&b.access), "mutation { updateReturnSettings(input: {windowDays: 7}) { settings { windowDays finalSaleSkus } userErrors { code } } }", json!({})).await;
    no_leak("updateReturnSettings", &own);
    covered.push("importPayoutReport");
    let theirs = app.gql(Some(&b.access), "mutation($c: String!) { importPayoutReport(input: {format: STRIPE_CSV, content: $c}) { run { discrepancies items { orderId } } userErrors { code } } }", json!({ "c": "balance_transaction_id,currency,gross,fee,reporting_category,source_id\ntxn_b_1,usd,80.00,0,charge,ch_alpha_marker\n" })).await;
    no_leak("importPayoutReport", &theirs);
    assert_eq!(
        theirs["data"]["importPayoutReport"]["run"]["discrepancies"],
        1
    );
    let still = app
        .gql(
            Some(&s.access),
            "query($r: ID!) { return(id: $r) { status } returnSettings { windowDays } }",
            json!({ "r": ret }),
        )
        .await;
    assert_eq!(still["data"]["return"]["status"], "APPROVED");
    assert_eq!(still["data"]["returnSettings"]["windowDays"], 30);
    covered
}
