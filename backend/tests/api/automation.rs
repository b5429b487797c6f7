//! Automation rules over the API: the issue's rule "fraud score above 70 and order total above
//! 500 → hold and tag" holds exactly the orders it should, shows on their timelines, logs every
//! run, and its dry run counts the same orders; mistakes are refused by field and column.

use serde_json::{Value, json};

use crate::engine::drain;
use crate::fulfillment::{ok, shop, us_address};
use crate::helpers::{Session, TestApp, fresh_settings, spawn_app, spawn_with};
use crate::orders::create_order;
use crate::outbound::{Receiver, verifies};

const SAVE: &str = "mutation($i: SaveAutomationRuleInput!) { saveAutomationRule(input: $i) { rule { id name version enabled trigger condition actions { kind value } versions { version condition } } userErrors { field code message } } }";
const RULE: &str = "fraud.score > 70 and order.total > 500";

fn address(country: &str) -> Value {
    json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Lagos", "postalCode": "100001", "country": country })
}

/// A paid kettle order; risky ones carry every signal the screening weighs.
async fn place(app: &TestApp, s: &Session, external: &str, quantity: i64, risky: bool) -> String {
    let total = format!("{}.00", 40 * quantity);
    let mut input = json!({
        "externalId": external, "email": format!("{external}@shopper.example"), "firstName": "Grace", "lastName": "Hopper",
        "shippingAddress": us_address(), "billingAddress": us_address(),
        "lines": [{ "sku": "KETTLE-1", "quantity": quantity }],
        "payment": { "status": "PAID", "amountCaptured": total, "avsResult": "Y", "cvvResult": "M" }
    });
    if risky {
        input["email"] = json!(format!(
            "xk{}9205@mailinator.com",
            external.to_lowercase().replace('-', "")
        ));
        input["shippingAddress"] = address("NG");
        input["client"] = json!({ "ip": "203.0.113.9", "deviceId": format!("dev-{external}"), "ipCountry": "RU" });
    }
    let body = create_order(app, s, input).await;
    assert_eq!(
        body["data"]["createOrder"]["userErrors"],
        json!([]),
        "{body}"
    );
    body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn order(app: &TestApp, s: &Session, id: &str) -> Value {
    let body = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { state tags holdReason totals { total } fraud { score } events { kind message actor } } }",
            json!({ "o": id }),
        )
        .await;
    body["data"]["order"].clone()
}

#[tokio::test]
async fn the_risky_big_orders_rule_holds_exactly_those_and_its_dry_run_agrees() {
    let app = spawn_app().await;
    let shop = shop(&app, "automation", false).await;
    let s = &shop.owner;
    // Screening holds nothing itself here: the rule is what holds.
    ok(&app, s, "updateLifecycleSettings", "mutation { updateLifecycleSettings(input: {fraudReviewScore: 99, fraudRejectScore: 100, highRiskCountries: [\"NG\"]}) { userErrors { field message } } }", json!({})).await;

    // Mistakes are refused by field (and column, for the condition).
    for (input, field, says) in [
        (
            json!({ "name": "x", "trigger": "order.screened", "condition": "fraud.score > \"high\"", "actions": [{ "kind": "HOLD", "value": "check" }] }),
            json!(["input", "condition"]),
            "cannot be compared",
        ),
        (
            json!({ "name": "x", "trigger": "order.screened", "condition": "fraud.scor > 70", "actions": [{ "kind": "HOLD", "value": "check" }] }),
            json!(["input", "condition"]),
            "there is no field fraud.scor",
        ),
        (
            json!({ "name": "x", "trigger": "order.screened", "condition": "fraud.score > 70 and", "actions": [{ "kind": "HOLD", "value": "check" }] }),
            json!(["input", "condition"]),
            "column 21",
        ),
        (
            json!({ "name": "x", "trigger": "Order Screened", "condition": RULE, "actions": [{ "kind": "HOLD", "value": "check" }] }),
            json!(["input", "trigger"]),
            "not an event pattern",
        ),
        (
            json!({ "name": "x", "trigger": "order.screened", "condition": RULE, "actions": [{ "kind": "ADD_TAG", "value": "" }] }),
            json!(["input", "actions", "0", "value"]),
            "1 to 40",
        ),
    ] {
        let body = app.gql(Some(&s.access), SAVE, json!({ "i": input })).await;
        let e = &body["data"]["saveAutomationRule"]["userErrors"][0];
        assert_eq!(e["field"], field, "{body}");
        assert!(e["message"].as_str().unwrap().contains(says), "{body}");
    }

    let saved = ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Risky and big", "trigger": "order.screened", "condition": "fraud.score > 90", "actions": [{ "kind": "HOLD", "value": "fraud check" }] } })).await;
    let rule = saved["rule"]["id"].as_str().unwrap().to_owned();
    // The next version is the issue's rule: hold and tag.
    let saved = ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "id": rule, "name": "Risky and big", "trigger": "order.screened", "condition": RULE, "actions": [{ "kind": "HOLD", "value": "fraud check" }, { "kind": "ADD_TAG", "value": "fraud-check" }] } })).await;
    assert_eq!(saved["rule"]["version"], 2);
    assert_eq!(saved["rule"]["versions"].as_array().unwrap().len(), 2);

    let risky_big = place(&app, s, "AUTO-1", 15, true).await;
    let risky_small = place(&app, s, "AUTO-2", 12, true).await;
    let safe_big = place(&app, s, "AUTO-3", 15, false).await;
    let safe_small = place(&app, s, "AUTO-4", 1, false).await;
    drain(&app).await;

    let o = order(&app, s, &risky_big).await;
    assert!(o["fraud"]["score"].is_i64(), "{o}");
    assert!(
        o["fraud"]["score"].as_i64().unwrap() > 70,
        "the risky order scores above 70: {o}"
    );
    assert_eq!(o["state"], "ON_HOLD", "{o}");
    assert_eq!(o["holdReason"], "fraud check");
    assert_eq!(o["tags"], json!(["fraud-check"]));
    let kinds: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"automation.rule_matched") && kinds.contains(&"order.held"),
        "{kinds:?}"
    );
    let matched = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "automation.rule_matched")
        .unwrap();
    assert_eq!(
        matched["message"],
        "Rule \"Risky and big\" (v2) matched on order.screened: held; added tag fraud-check"
    );
    for (id, why) in [
        (&risky_small, "small"),
        (&safe_big, "safe"),
        (&safe_small, "safe and small"),
    ] {
        let o = order(&app, s, id).await;
        assert_ne!(o["state"], "ON_HOLD", "{why}: {o}");
        assert_eq!(o["tags"], json!([]), "{why}");
        assert!(
            o["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["kind"] != "automation.rule_matched")
        );
    }
    let risky_small_score = order(&app, s, &risky_small).await["fraud"]["score"]
        .as_i64()
        .unwrap();
    assert!(risky_small_score > 70, "only its total keeps it out");

    // Every run is logged: four screenings, one match.
    let runs = app.gql(Some(&s.access), "query($r: ID) { automationRuns(first: 20, ruleId: $r) { edges { node { matched eventKind ruleVersion outcomes } } } }", json!({ "r": rule })).await;
    let runs = runs["data"]["automationRuns"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert_eq!(
        runs.iter().filter(|r| r["node"]["matched"] == true).count(),
        1
    );
    assert!(
        runs.iter()
            .all(|r| r["node"]["ruleVersion"] == 2 && r["node"]["eventKind"] == "order.screened")
    );

    // The dry run counts the same order among the last ones.
    let dry = ok(&app, s, "dryRunAutomationRule", "mutation($i: DryRunAutomationRuleInput!) { dryRunAutomationRule(input: $i) { result { evaluated matched summary orders { id } } userErrors { field message } } }", json!({ "i": { "trigger": "order.screened", "condition": RULE, "last": 1000 } })).await;
    assert_eq!(dry["result"]["evaluated"], 4);
    assert_eq!(dry["result"]["matched"], 1);
    assert_eq!(
        dry["result"]["summary"],
        "This rule would have matched 1 of the last 4 orders."
    );
    assert_eq!(dry["result"]["orders"], json!([{ "id": risky_big }]));

    // Disabled, a rule runs no more.
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "id": rule, "name": "Risky and big", "trigger": "order.screened", "condition": RULE, "actions": [{ "kind": "HOLD", "value": "fraud check" }], "enabled": false } })).await;
    let later = place(&app, s, "AUTO-5", 15, true).await;
    drain(&app).await;
    assert_ne!(order(&app, s, &later).await["state"], "ON_HOLD");
}

/// Tenant B against tenant A's rules, runs and dry runs.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-rules", false).await;
    let s = &a.owner;
    let saved = ok(app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "ALPHA-RULE-MARKER", "trigger": "order.received", "condition": "order.total > 1", "actions": [{ "kind": "ADD_TAG", "value": "alpha-tag-marker" }, { "kind": "CREATE_TASK", "value": "ALPHA-TASK-MARKER" }] } })).await;
    let rule = saved["rule"]["id"].as_str().unwrap().to_owned();
    let placed = place(app, s, "ALPHA-RULE-ORDER", 1, false).await;
    drain(app).await;
    let tasks = app
        .gql(Some(&s.access), "{ staffTasks { id } }", json!({}))
        .await;
    let task = tasks["data"]["staffTasks"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{tasks}"))
        .to_owned();
    let markers = [
        rule.as_str(),
        placed.as_str(),
        task.as_str(),
        "ALPHA-RULE-MARKER",
        "alpha-tag-marker",
        "ALPHA-RULE-ORDER",
        "ALPHA-TASK-MARKER",
    ];
    let vars = json!({ "r": rule, "t": task });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "automationRules",
            "{ automationRules { id name condition } }",
        ),
        (
            "automationRuns",
            "query($r: ID) { automationRuns(first: 100, ruleId: $r) { edges { node { id orderId } } } }",
        ),
        (
            "dryRunAutomationRule",
            "mutation { dryRunAutomationRule(input: {trigger: \"*\", condition: \"order.total > 0\"}) { result { evaluated orders { id name } } userErrors { code } } }",
        ),
        (
            "staffTasks",
            "{ open: staffTasks { id title orderId } done: staffTasks(status: DONE) { id title } }",
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
            "saveAutomationRule",
            "mutation($r: ID!) { saveAutomationRule(input: {id: $r, name: \"x\", trigger: \"*\", condition: \"order.total > 0\", actions: [{kind: ADD_TAG, value: \"x\"}]}) { userErrors { code } } }",
        ),
        (
            "deleteAutomationRule",
            "mutation($r: ID!) { deleteAutomationRule(input: {id: $r}) { userErrors { code } } }",
        ),
        (
            "completeStaffTask",
            "mutation($t: ID!) { completeStaffTask(input: {id: $t}) { userErrors { code } } }",
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
    // A's rule tagged A's order, and still stands.
    let mine = app
        .gql(
            Some(&s.access),
            "{ automationRules { name version } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["automationRules"],
        json!([{ "name": "ALPHA-RULE-MARKER", "version": 1 }])
    );
    covered
}

#[tokio::test]
async fn rules_release_orders_email_shoppers_and_post_to_a_webhook() {
    let mut settings = fresh_settings().await;
    settings.outbound_allow_loopback = true;
    let app = spawn_with(settings).await;
    let shop = shop(&app, "rules-act", false).await;
    let s = &shop.owner;
    let receiver = Receiver::spawn(Vec::new());
    // The subscription wants refunds only: the rule's action posts its match to it anyway.
    let made = ok(&app, s, "createWebhookSubscription", "mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { subscription { id } secret userErrors { field message } } }", json!({ "i": { "url": receiver.url, "events": ["refund.*"] } })).await;
    let (subscription, secret) = (
        made["subscription"]["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    );
    for (actions, says) in [
        (
            json!([{ "kind": "SEND_EMAIL", "value": "invitation" }]),
            "not an email a rule can send",
        ),
        (
            json!([{ "kind": "CALL_WEBHOOK", "value": "https://example.com" }]),
            "not a webhook subscription id",
        ),
    ] {
        let body = app.gql(Some(&s.access), SAVE, json!({ "i": { "name": "x", "trigger": "order.received", "condition": "order.total > 1", "actions": actions } })).await;
        let e = &body["data"]["saveAutomationRule"]["userErrors"][0];
        assert_eq!(
            e["field"],
            json!(["input", "actions", "0", "value"]),
            "{body}"
        );
        assert!(e["message"].as_str().unwrap().contains(says), "{body}");
    }
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Small holds clear themselves", "trigger": "order.held", "condition": "order.total < 100", "actions": [{ "kind": "RELEASE", "value": "small order, no need to wait" }] } })).await;
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Big orders: welcome and tell the ERP", "trigger": "order.received", "condition": "order.total >= 100", "actions": [{ "kind": "SEND_EMAIL", "value": "order_confirmation" }, { "kind": "CALL_WEBHOOK", "value": subscription }] } })).await;

    let small = place(&app, s, "ACT-1", 1, false).await;
    let big = place(&app, s, "ACT-2", 3, false).await;
    drain(&app).await;
    for o in [&small, &big] {
        let held = app.gql(Some(&s.access), "mutation($o: ID!) { holdOrder(input: {orderId: $o, reason: \"gift message to check\"}) { order { state } userErrors { message } } }", json!({ "o": o })).await;
        assert_eq!(
            held["data"]["holdOrder"]["order"]["state"], "ON_HOLD",
            "{held}"
        );
    }
    drain(&app).await;

    // Released by the rule and taken on by the engine; the big one stays held.
    let o = order(&app, s, &small).await;
    assert_eq!(o["state"], "ALLOCATED", "{o}");
    let messages: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"Released by rule \"Small holds clear themselves\", back to allocated: small order, no need to wait"), "{messages:?}");
    assert_eq!(order(&app, s, &big).await["state"], "ON_HOLD");

    // The big order's shopper got the confirmation twice (the shop's own, and the rule's); the
    // small one's once.
    let mail = crate::notify::outbox(&app);
    let confirmations = |who: &str| {
        mail.iter()
            .filter(|m| m.to.eq_ignore_ascii_case(who) && m.subject.contains("confirmed"))
            .count()
    };
    assert_eq!(confirmations("ACT-2@shopper.example"), 2);
    assert_eq!(confirmations("ACT-1@shopper.example"), 1);

    // The subscription received the rule's match, signed, and nothing else.
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (signature, event, _, body) = &seen[0];
    assert_eq!(event, "automation.rule_matched");
    assert!(verifies(signature, body, &secret));
    let posted: Value = serde_json::from_str(body).unwrap();
    assert_eq!(posted["data"]["orderId"], json!(big));
    assert_eq!(
        posted["data"]["details"]["results"][1]["outcome"],
        json!(format!("posting to webhook subscription {subscription}"))
    );
}

#[tokio::test]
async fn rules_pin_the_warehouse_and_the_carrier_service() {
    let app = spawn_app().await;
    let shop = shop(&app, "rules-pin", true).await;
    let s = &shop.owner;
    let bad = app.gql(Some(&s.access), SAVE, json!({ "i": { "name": "x", "trigger": "order.received", "condition": "order.total > 1", "actions": [{ "kind": "ASSIGN_WAREHOUSE", "value": " " }] } })).await;
    assert_eq!(
        bad["data"]["saveAutomationRule"]["userErrors"][0]["field"],
        json!(["input", "actions", "0", "value"]),
        "{bad}"
    );
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Big ones go express from the west", "trigger": "order.received", "condition": "order.total >= 80", "actions": [{ "kind": "ASSIGN_WAREHOUSE", "value": "west" }, { "kind": "CHOOSE_SERVICE", "value": "ups/express" }, { "kind": "CREATE_TASK", "value": "Add a gift note" }] } })).await;
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Nowhere", "trigger": "order.received", "condition": "order.total >= 80", "actions": [{ "kind": "ASSIGN_WAREHOUSE", "value": "MOON" }] } })).await;
    let small = place(&app, s, "PIN-1", 1, false).await;
    let big = place(&app, s, "PIN-2", 2, false).await;
    drain(&app).await;
    let parcel = |o: &Value| {
        let p = &o["shipments"][0];
        (
            p["warehouse"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            p["service"].as_str().unwrap_or_default().to_lowercase(),
        )
    };
    let s_order = crate::fulfillment::order(&app, s, &small).await;
    let b_order = crate::fulfillment::order(&app, s, &big).await;
    // Kentucky is nearer the east, and ground is the usual pick; the rule's pins (in place
    // before the engine's first stage) send the big one from the west, by express.
    assert_eq!(
        parcel(&s_order),
        ("EAST".to_owned(), "ground".to_owned()),
        "{s_order}"
    );
    assert_eq!(
        parcel(&b_order),
        ("WEST".to_owned(), "express".to_owned()),
        "{b_order}"
    );
    let messages: Vec<&str> = b_order["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ships from warehouse WEST")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("labels with service ups/express")),
        "{messages:?}"
    );
    // A warehouse that does not exist is skipped, and said so in the run log.
    let runs = app
        .gql(
            Some(&s.access),
            "{ automationRuns(first: 20) { edges { node { matched outcomes } } } }",
            json!({}),
        )
        .await;
    let text = runs.to_string();
    assert!(
        text.contains("skipped: there is no active warehouse MOON"),
        "{text}"
    );

    // The rule's task is on the list, for the big order only; done once.
    let tasks = app
        .gql(
            Some(&s.access),
            "{ staffTasks { id title orderId status } }",
            json!({}),
        )
        .await;
    let list = tasks["data"]["staffTasks"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{tasks}");
    assert_eq!(
        (list[0]["title"].as_str(), list[0]["orderId"].as_str()),
        (Some("Add a gift note"), Some(big.as_str()))
    );
    let done = "mutation($i: CompleteStaffTaskInput!) { completeStaffTask(input: $i) { task { status note doneBy } userErrors { field code message } } }";
    let first = ok(
        &app,
        s,
        "completeStaffTask",
        done,
        json!({ "i": { "id": list[0]["id"], "note": "note written" } }),
    )
    .await;
    assert_eq!(first["task"]["status"], "DONE");
    assert_eq!(first["task"]["note"], "note written");
    let again = app
        .gql(
            Some(&s.access),
            done,
            json!({ "i": { "id": list[0]["id"] } }),
        )
        .await;
    assert_eq!(
        again["data"]["completeStaffTask"]["userErrors"][0]["code"], "CONFLICT",
        "{again}"
    );
    let open = app
        .gql(Some(&s.access), "{ staffTasks { id } }", json!({}))
        .await;
    assert_eq!(open["data"]["staffTasks"], json!([]));
    let finished = app
        .gql(
            Some(&s.access),
            "{ staffTasks(status: DONE) { title } }",
            json!({}),
        )
        .await;
    assert_eq!(
        finished["data"]["staffTasks"],
        json!([{ "title": "Add a gift note" }])
    );
}

#[tokio::test]
async fn stock_falling_below_the_threshold_triggers_rules_once_per_crossing() {
    let app = spawn_app().await;
    let shop = shop(&app, "rules-stock", false).await;
    let s = &shop.owner;
    let settings = "mutation($t: Int!) { updateLifecycleSettings(input: {lowStockThreshold: $t}) { settings { lowStockThreshold } userErrors { field code message } } }";
    let bad = app.gql(Some(&s.access), settings, json!({ "t": -1 })).await;
    assert_eq!(
        bad["data"]["updateLifecycleSettings"]["userErrors"][0]["field"],
        json!(["input", "lowStockThreshold"]),
        "{bad}"
    );
    // 20 kettles in all (10 in each warehouse); below 16 is low.
    let set = ok(
        &app,
        s,
        "updateLifecycleSettings",
        settings,
        json!({ "t": 16 }),
    )
    .await;
    assert_eq!(set["settings"]["lowStockThreshold"], 16);
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Reorder kettles", "trigger": "order.stock_low", "condition": "stock.sku = \"KETTLE-1\" and stock.available < 16", "actions": [{ "kind": "ADD_TAG", "value": "restock" }, { "kind": "CREATE_TASK", "value": "Reorder kettles" }] } })).await;
    ok(&app, s, "saveAutomationRule", SAVE, json!({ "i": { "name": "Nearly out", "trigger": "order.stock_low", "condition": "stock.available < 5", "actions": [{ "kind": "ADD_TAG", "value": "nearly-out" }] } })).await;

    let mut placed = Vec::new();
    for (external, quantity) in [("SL-1", 2), ("SL-2", 3), ("SL-3", 1)] {
        placed.push(place(&app, s, external, quantity, false).await);
        drain(&app).await;
    }
    let tags = |o: &Value| o["tags"].clone();
    let lows = |o: &Value| -> Vec<String> {
        o["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "order.stock_low")
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect()
    };
    // 18 left after the first: not low. The second leaves 15: low, once. The third finds it
    // low already and says nothing.
    let first = order(&app, s, &placed[0]).await;
    assert_eq!(
        (lows(&first).len(), tags(&first)),
        (0, json!([])),
        "{first}"
    );
    let second = order(&app, s, &placed[1]).await;
    assert_eq!(
        lows(&second),
        ["Stock low: KETTLE-1 has 15 unit(s) free in all warehouses, below 16"],
        "{second}"
    );
    assert_eq!(tags(&second), json!(["restock"]), "{second}");
    let third = order(&app, s, &placed[2]).await;
    assert_eq!(
        (lows(&third).len(), tags(&third)),
        (0, json!([])),
        "{third}"
    );

    // Refilled to 24, then an order of 9 takes it to 15: low again.
    ok(&app, s, "receiveStock", "mutation($w: ID!) { receiveStock(input: {sku: \"KETTLE-1\", warehouseId: $w, quantity: 10}) { userErrors { field message } } }", json!({ "w": shop.east })).await;
    let fourth_id = place(&app, s, "SL-4", 9, false).await;
    drain(&app).await;
    let fourth = order(&app, s, &fourth_id).await;
    assert_eq!(lows(&fourth).len(), 1, "{fourth}");
    assert_eq!(tags(&fourth), json!(["restock"]), "{fourth}");

    let tasks = app
        .gql(
            Some(&s.access),
            "{ staffTasks { title orderId } }",
            json!({}),
        )
        .await;
    let mut on: Vec<&str> = tasks["data"]["staffTasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["orderId"].as_str().unwrap())
        .collect();
    on.sort();
    let mut want = vec![placed[1].as_str(), fourth_id.as_str()];
    want.sort();
    assert_eq!(on, want, "{tasks}");
    // Both rules ran on each low event; only the first matched.
    let runs = app
        .gql(
            Some(&s.access),
            "{ automationRuns(first: 20) { edges { node { matched eventKind } } } }",
            json!({}),
        )
        .await;
    let edges = runs["data"]["automationRuns"]["edges"].as_array().unwrap();
    let on_low: Vec<bool> = edges
        .iter()
        .filter(|e| e["node"]["eventKind"] == "order.stock_low")
        .map(|e| e["node"]["matched"].as_bool().unwrap())
        .collect();
    assert_eq!(on_low.len(), 4, "{runs}");
    assert_eq!(on_low.iter().filter(|m| **m).count(), 2, "{runs}");
}
