//! Orders created over the API: the canonical model, checks on capture recorded as issues,
//! customers and their history, the timeline, filters, sorting and cursors.

use std::time::Duration;

use serde_json::{Value, json};

use crate::catalog::create_product;
use crate::helpers::{Session, TestApp, spawn_app};
use crate::subscriptions::{next_json, subscribe};

pub const CREATE_ORDER: &str = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { result order { id name externalId channel state currency email customerName financialStatus tags note totals { subtotal discounts tax shipping total } lines { sku title quantity unitPrice discount tax variantId } issues { code field message resolved } customer { email history { orderCount totalSpent currency } } events { kind actor actorKind message } } userErrors { field code message } } }";

pub async fn create_order(app: &TestApp, s: &Session, input: Value) -> Value {
    app.gql(Some(&s.access), CREATE_ORDER, json!({ "input": input }))
        .await
}

fn address() -> Value {
    json!({ "name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postalCode": "SW1Y 4JH", "country": "GB" })
}

async fn shop(app: &TestApp, slug: &str) -> Session {
    let owner = app.sign_up(slug, &format!("owner@{slug}.example")).await;
    create_product(app, &owner, json!({ "title": "Teapot", "variants": [{ "sku": "POT-1", "price": "30.00" }, { "sku": "CUP-1", "price": "8.50" }] })).await;
    owner
}

#[tokio::test]
async fn an_api_order_takes_catalog_prices_computes_totals_and_starts_a_customer_history() {
    let app = spawn_app().await;
    let owner = shop(&app, "orders-basic").await;
    let body = create_order(&app, &owner, json!({
        "externalId": "PHONE-1", "name": "#P1", "email": "Ada@Example.com", "firstName": "Ada", "lastName": "Lovelace",
        "shippingAddress": address(),
        "lines": [
            { "sku": "POT-1", "quantity": 1, "taxLines": [{ "title": "VAT", "rate": "0.2", "amount": "6.00" }] },
            { "sku": "CUP-1", "quantity": 4, "discount": "4.00" }
        ],
        "shippingLines": [{ "title": "Royal Mail", "price": "4.99" }],
        "discounts": [{ "code": "WELCOME", "amount": "5" }],
        "tags": ["phone", "vip", "Phone"], "note": "Gift wrap"
    })).await;
    let payload = &body["data"]["createOrder"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert_eq!(payload["result"], "CREATED");
    let order = &payload["order"];
    assert_eq!(order["channel"], "API");
    assert_eq!(order["state"], "RECEIVED");
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["email"], "ada@example.com");
    assert_eq!(order["customerName"], "Ada Lovelace");
    assert_eq!(order["tags"], json!(["phone", "vip"]));
    // 30 + 4 × 8.50 = 64; discounts 4 + 5 = 9; tax 6; shipping 4.99 → 65.99
    assert_eq!(
        order["totals"],
        json!({ "subtotal": "64.00", "discounts": "9.00", "tax": "6.00", "shipping": "4.99", "total": "65.99" })
    );
    assert_eq!(
        order["lines"][1],
        json!({ "sku": "CUP-1", "title": "Teapot", "quantity": 4, "unitPrice": "8.50", "discount": "4.00", "tax": "0.00", "variantId": order["lines"][1]["variantId"] })
    );
    assert!(
        order["lines"][0]["variantId"].is_string(),
        "matched to the catalog"
    );
    assert_eq!(order["issues"], json!([]), "nothing to resolve");
    assert_eq!(
        order["customer"]["history"],
        json!({ "orderCount": 1, "totalSpent": "65.99", "currency": "USD" })
    );
    let events = order["events"].as_array().unwrap();
    assert_eq!(events[0]["kind"], "order.received");
    assert_eq!(events[0]["actor"], "owner@orders-basic.example");
    assert_eq!(events[0]["actorKind"], "USER");

    // The same externalId again: the same order, nothing new.
    let again = create_order(
        &app,
        &owner,
        json!({ "externalId": "PHONE-1", "lines": [{ "sku": "POT-1", "quantity": 9 }] }),
    )
    .await;
    assert_eq!(again["data"]["createOrder"]["result"], "ALREADY_EXISTED");
    assert_eq!(again["data"]["createOrder"]["order"]["id"], order["id"]);
    assert_eq!(
        again["data"]["createOrder"]["order"]["lines"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let list = app.gql(Some(&owner.access), "{ orders { edges { node { id } } } customers { edges { node { email history { orderCount } } } } }", json!({})).await;
    assert_eq!(list["data"]["orders"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["data"]["customers"]["edges"][0]["node"],
        json!({ "email": "ada@example.com", "history": { "orderCount": 1 } })
    );
}

#[tokio::test]
async fn problems_on_capture_become_issues_on_the_order_not_errors() {
    let app = spawn_app().await;
    let owner = shop(&app, "orders-issues").await;
    let body = create_order(&app, &owner, json!({
        "externalId": "ISSUES-1", "email": "bob@example.com",
        "shippingAddress": { "line1": "1 Main St", "city": "Louisville", "postalCode": "4000", "country": "US" },
        "lines": [{ "sku": "POT-1", "quantity": 1 }, { "sku": "MYSTERY-9", "quantity": 1, "unitPrice": "5", "title": "Mystery box" }],
        "total": "99.00"
    })).await;
    let order = &body["data"]["createOrder"]["order"];
    let issues: Vec<(String, String)> = order["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        issues,
        vec![
            ("TOTALS_MISMATCH".to_owned(), "totals.total".to_owned()),
            ("UNKNOWN_SKU".to_owned(), "lines.1.sku".to_owned()),
            (
                "ADDRESS_INCOMPLETE".to_owned(),
                "shippingAddress.region".to_owned()
            ),
            (
                "POSTAL_CODE_INVALID".to_owned(),
                "shippingAddress.postalCode".to_owned()
            ),
        ],
        "{body}"
    );
    assert_eq!(order["lines"][1]["variantId"], Value::Null);
    assert!(
        order["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "order.issues_found")
    );

    let open = "{ orders(filter: {hasOpenIssues: true}) { edges { node { name } } } }";
    assert_eq!(
        app.gql(Some(&owner.access), open, json!({})).await["data"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let resolve = "mutation($input: ResolveOrderIssueInput!) { resolveOrderIssue(input: $input) { order { issues { code resolved } events { kind message } } userErrors { field code } } }";
    let id = order["id"].as_str().unwrap();
    for (code, field) in [
        ("TOTALS_MISMATCH", "totals.total"),
        ("UNKNOWN_SKU", "lines.1.sku"),
        ("ADDRESS_INCOMPLETE", "shippingAddress.region"),
        ("POSTAL_CODE_INVALID", "shippingAddress.postalCode"),
    ] {
        let body = app.gql(Some(&owner.access), resolve, json!({ "input": { "orderId": id, "code": code, "field": field, "reason": "checked with the shopper" } })).await;
        assert_eq!(
            body["data"]["resolveOrderIssue"]["userErrors"],
            json!([]),
            "{body}"
        );
    }
    let body = app.gql(Some(&owner.access), resolve, json!({ "input": { "orderId": id, "code": "UNKNOWN_SKU", "field": "lines.1.sku", "reason": "again" } })).await;
    assert_eq!(
        body["data"]["resolveOrderIssue"]["userErrors"][0],
        json!({ "field": ["input", "code"], "code": "NOT_FOUND" })
    );
    let body = app
        .gql(
            Some(&owner.access),
            resolve,
            json!({ "input": { "orderId": id, "code": "UNKNOWN_SKU", "reason": " " } }),
        )
        .await;
    assert_eq!(
        body["data"]["resolveOrderIssue"]["userErrors"][0]["field"],
        json!(["input", "reason"])
    );
    assert_eq!(
        app.gql(Some(&owner.access), open, json!({})).await["data"]["orders"]["edges"],
        json!([])
    );
}

#[tokio::test]
async fn bad_order_input_names_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let owner = shop(&app, "orders-bad").await;
    for (input, field, code) in [
        (
            json!({ "lines": [] }),
            json!(["input", "lines"]),
            "REQUIRED",
        ),
        (
            json!({ "lines": [{ "sku": "POT-1", "quantity": 0 }] }),
            json!(["input", "lines", "0", "quantity"]),
            "INVALID",
        ),
        (
            json!({ "lines": [{ "sku": "POT-1", "quantity": 1 }, { "sku": "NEW", "quantity": 1 }] }),
            json!(["input", "lines", "1", "unitPrice"]),
            "REQUIRED",
        ),
        (
            json!({ "lines": [{ "sku": "POT-1", "quantity": 1, "unitPrice": "ten" }] }),
            json!(["input", "lines", "0", "unitPrice"]),
            "INVALID",
        ),
        (
            json!({ "lines": [{ "sku": "POT-1", "quantity": 1, "taxLines": [{ "title": "t", "amount": "-1" }] }] }),
            json!(["input", "lines", "0", "taxLines", "0", "amount"]),
            "INVALID",
        ),
        (
            json!({ "email": "not-an-email", "lines": [{ "sku": "POT-1", "quantity": 1 }] }),
            json!(["input", "email"]),
            "INVALID_EMAIL",
        ),
        (
            json!({ "currency": "EUR", "lines": [{ "sku": "POT-1", "quantity": 1 }] }),
            json!(["input", "lines", "0", "unitPrice"]),
            "REQUIRED",
        ),
        (
            json!({ "currency": "dollars", "lines": [{ "sku": "POT-1", "quantity": 1 }] }),
            json!(["input", "currency"]),
            "INVALID",
        ),
        (
            json!({ "shippingAddress": { "line1": "x", "city": "y", "country": "Narnia" }, "lines": [{ "sku": "POT-1", "quantity": 1 }] }),
            json!(["input", "shippingAddress", "country"]),
            "INVALID",
        ),
        (
            json!({ "shippingLines": [{ "title": "Post", "price": "1.234567" }], "lines": [{ "sku": "POT-1", "quantity": 1 }] }),
            json!(["input", "shippingLines", "0", "price"]),
            "INVALID",
        ),
    ] {
        let body = create_order(&app, &owner, input.clone()).await;
        let err = &body["data"]["createOrder"]["userErrors"][0];
        assert_eq!(
            (
                err["field"].clone(),
                err["code"].as_str().unwrap_or("<none>")
            ),
            (field, code),
            "{input}: {body}"
        );
    }
    let list = app
        .gql(
            Some(&owner.access),
            "{ orders { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["data"]["orders"]["edges"], json!([]));
}

#[tokio::test]
async fn orders_are_filtered_sorted_and_paged_with_stable_cursors() {
    let app = spawn_app().await;
    let owner = shop(&app, "orders-list").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let body = create_order(
            &app,
            &owner,
            json!({
                "externalId": format!("L-{i}"), "name": format!("#L{i}"),
                "email": format!("buyer{}@example.com", i % 3),
                "placedAt": format!("2026-11-{:02}T10:00:00Z", 10 + i),
                "shippingAddress": address(),
                "lines": [{ "sku": if i % 2 == 0 { "POT-1" } else { "CUP-1" }, "quantity": i + 1 }],
                "tags": if i == 3 { json!(["wholesale"]) } else { json!([]) }
            }),
        )
        .await;
        ids.push(
            body["data"]["createOrder"]["order"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let names = |body: &Value| -> Vec<String> {
        body["data"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = "query($f: OrderFilterInput, $s: OrderSortKey, $a: String, $n: Int) { orders(filter: $f, sort: $s, after: $a, first: $n) { edges { node { name } } pageInfo { hasNextPage endCursor } } }";
    let run = |f: Value, s: &str| {
        let s = s.to_owned();
        let app = &app;
        let token = owner.access.clone();
        async move {
            app.gql(Some(&token), q, json!({ "f": f, "s": s, "n": 100 }))
                .await
        }
    };
    assert_eq!(
        names(&run(json!({}), "PLACED_AT_DESC").await),
        vec!["#L6", "#L5", "#L4", "#L3", "#L2", "#L1", "#L0"]
    );
    assert_eq!(
        names(&run(json!({ "sku": "CUP-1" }), "PLACED_AT_ASC").await),
        vec!["#L1", "#L3", "#L5"]
    );
    assert_eq!(
        names(&run(json!({ "tag": "wholesale" }), "PLACED_AT_ASC").await),
        vec!["#L3"]
    );
    assert_eq!(
        names(&run(json!({ "search": "BUYER1@" }), "PLACED_AT_ASC").await),
        vec!["#L1", "#L4"]
    );
    assert_eq!(
        names(&run(json!({ "search": "#l5" }), "PLACED_AT_ASC").await),
        vec!["#L5"]
    );
    assert_eq!(
        names(
            &run(
                json!({ "placedFrom": "2026-11-12T00:00:00Z", "placedTo": "2026-11-14T00:00:00Z" }),
                "PLACED_AT_ASC"
            )
            .await
        ),
        vec!["#L2", "#L3"]
    );
    assert_eq!(
        names(&run(json!({ "channel": "SHOPIFY" }), "PLACED_AT_ASC").await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            &run(
                json!({ "state": "RECEIVED", "channel": "API" }),
                "PLACED_AT_ASC"
            )
            .await
        )
        .len(),
        7
    );
    let customer = app
        .gql(
            Some(&owner.access),
            "{ customers(search: \"buyer2\") { edges { node { id history { orderCount } } } } }",
            json!({}),
        )
        .await;
    let customer = &customer["data"]["customers"]["edges"][0]["node"];
    assert_eq!(customer["history"]["orderCount"], 2);
    assert_eq!(
        names(&run(json!({ "customerId": customer["id"] }), "PLACED_AT_ASC").await),
        vec!["#L2", "#L5"]
    );

    // Totals: L0 30, L1 17, L2 90, L3 34, L4 150, L5 51, L6 210. Paged two at a time.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .gql(
                Some(&owner.access),
                q,
                json!({ "s": "TOTAL_ASC", "a": after, "n": 2 }),
            )
            .await;
        seen.extend(names(&page));
        let info = &page["data"]["orders"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, vec!["#L1", "#L0", "#L3", "#L5", "#L2", "#L4", "#L6"]);
    // A cursor of one sort is refused by another, naming the argument.
    let first = app
        .gql(Some(&owner.access), q, json!({ "s": "TOTAL_ASC", "n": 1 }))
        .await;
    let cursor = first["data"]["orders"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(
            Some(&owner.access),
            q,
            json!({ "s": "PLACED_AT_DESC", "a": cursor, "n": 1 }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    let _ = ids;
}

#[tokio::test]
async fn tags_notes_and_duplicates_show_on_the_live_timeline() {
    let app = spawn_app().await;
    let owner = shop(&app, "orders-live").await;
    let first = create_order(&app, &owner, json!({ "externalId": "D-1", "email": "eve@example.com", "shippingAddress": address(), "lines": [{ "sku": "POT-1", "quantity": 2 }] })).await;
    let id = first["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The same purchase again under another id: flagged, not refused.
    let second = create_order(&app, &owner, json!({ "externalId": "D-2", "email": "EVE@example.com", "shippingAddress": address(), "lines": [{ "sku": "POT-1", "quantity": 2 }] })).await;
    let issues = &second["data"]["createOrder"]["order"]["issues"];
    assert_eq!(issues[0]["code"], "POSSIBLE_DUPLICATE", "{second}");
    assert!(
        issues[0]["message"].as_str().unwrap().contains(
            first["data"]["createOrder"]["order"]["name"]
                .as_str()
                .unwrap()
        )
    );

    let mut ws = subscribe(
        &app,
        Some(&owner.access),
        &format!("subscription {{ orderEvents(orderId: \"{id}\") {{ kind actor message }} }}"),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let tags = "mutation($input: UpdateOrderTagsInput!) { updateOrderTags(input: $input) { order { tags } userErrors { field code } } }";
    let body = app
        .gql(
            Some(&owner.access),
            tags,
            json!({ "input": { "orderId": id, "add": ["rush", "gift"] } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrderTags"]["order"]["tags"],
        json!(["rush", "gift"])
    );
    let event = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("a live event");
    assert_eq!(
        event["payload"]["data"]["orderEvents"]["kind"], "order.tags_changed",
        "{event}"
    );
    assert_eq!(
        event["payload"]["data"]["orderEvents"]["actor"],
        "owner@orders-live.example"
    );

    let body = app
        .gql(
            Some(&owner.access),
            tags,
            json!({ "input": { "orderId": id, "remove": ["RUSH"], "add": [" "] } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrderTags"]["userErrors"][0]["field"],
        json!(["input", "add"])
    );
    let body = app
        .gql(
            Some(&owner.access),
            tags,
            json!({ "input": { "orderId": id, "remove": ["RUSH"] } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrderTags"]["order"]["tags"],
        json!(["gift"])
    );

    let note = "mutation($input: UpdateOrderNoteInput!) { updateOrderNote(input: $input) { order { note events { kind } } } }";
    let body = app
        .gql(
            Some(&owner.access),
            note,
            json!({ "input": { "orderId": id, "note": "Leave with neighbour" } }),
        )
        .await;
    let order = &body["data"]["updateOrderNote"]["order"];
    assert_eq!(order["note"], "Leave with neighbour");
    let kinds: Vec<&str> = order["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "order.received",
            "order.tags_changed",
            "order.tags_changed",
            "order.note_changed"
        ]
    );
}
