//! Labels bought from a carrier's API (issue 20), against a local server that answers with
//! the payloads EasyPost's own client library recorded: a Shopify order is routed, rated
//! across EasyPost's rates, its label bought with the recommended rate by the label job, the
//! file stored and downloadable, and EasyPost's tracker webhook then delivers it.

use serde_json::{Value, json};

use crate::connectors::fixture_json;
use crate::engine::drain;
use crate::fulfillment::{CARRIER_SECRET, ORDER, ok, shop, track};
use crate::helpers::{Session, TestApp, spawn_app_reaching_loopback};
use crate::mock::{MockApi, Reply};
use crate::webhooks::{connect_orders_only, shopify_delivery};

const SHIPMENT: &str = "shp_16578f588f9546ec914afd2474e24ff5";
/// The label file the recorded purchase points at, served here instead of EasyPost's S3.
const LABEL_PATH: &str = "/files/postage_label/20250307/e813a2cf6d079c4ea49714758be7711be0.png";
/// A label image's first bytes (PNG signature and header chunk).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x04\xb0\0\0\x07\x08\x08\x02\0\0\0";

const CREATE_CARRIER: &str = "mutation($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { id provider simulated hasApiKey apiBase trackingSource trackingWebhookUrl } userErrors { field code message } } }";

/// EasyPost's recorded answers, its label URL pointed at `mock`.
fn easypost(mock: &MockApi) {
    let created = fixture_json("easypost/api/shipment_buy_1_POST_201.json");
    let mut bought = fixture_json("easypost/api/shipment_buy_2_POST_200.json");
    bought["response"]["body"]["postage_label"]["label_url"] =
        json!(format!("{}{LABEL_PATH}", mock.base));
    let reply = |exchange: &Value| {
        let mut r = Reply::json(serde_json::to_vec(&exchange["response"]["body"]).unwrap());
        r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
        r
    };
    mock.on("/v2/shipments", vec![reply(&created)]);
    mock.on(
        &format!("/v2/shipments/{SHIPMENT}/buy"),
        vec![reply(&bought)],
    );
    mock.on(
        LABEL_PATH,
        vec![Reply {
            status: 200,
            headers: vec![("content-type", "image/png".into())],
            body: PNG.to_vec(),
            delay: None,
        }],
    );
}

async fn easypost_carrier(app: &TestApp, s: &Session, mock: &MockApi) -> Value {
    let c = app
        .gql(
            Some(&s.access),
            CREATE_CARRIER,
            json!({ "i": { "code": "easypost", "name": "EasyPost", "trackingFormat": "ORDERFLOW",
                "provider": "EASYPOST", "apiKey": "EZTK_test_0123456789", "apiBase": mock.base,
                "webhookSecret": CARRIER_SECRET } }),
        )
        .await;
    let c = &c["data"]["createCarrier"];
    assert_eq!(c["userErrors"], json!([]), "{c}");
    c["carrier"].clone()
}

async fn shopify_order(app: &TestApp, s: &Session) -> String {
    shopify_order_with(app, s, json!({ "accessToken": "shpat_x" })).await
}

/// A Shopify connection with `credentials`, and an order from its `orders/create` webhook.
pub async fn shopify_order_with(app: &TestApp, s: &Session, credentials: Value) -> String {
    let secret = "shpss_carrier_apis_0123456789";
    let c = connect_orders_only(app, s, "SHOPIFY", "demo.myshopify.com", secret, credentials).await;
    let mut o = fixture_json("shopify/webhook_orders_create.json");
    o["cancelled_at"] = Value::Null;
    o["cancel_reason"] = Value::Null;
    o["financial_status"] = json!("paid");
    let body = serde_json::to_vec(&o).unwrap();
    let (status, _) = shopify_delivery(
        app,
        c["webhookUrl"].as_str().unwrap(),
        "orders/create",
        "wh-carrier-1",
        &body,
        secret,
    )
    .await;
    assert_eq!(status, 200);
    drain(app).await;
    let list = app
        .gql(
            Some(&s.access),
            "{ orders(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    list["data"]["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn order(app: &TestApp, s: &Session, id: &str) -> Value {
    let body = app.gql(Some(&s.access), ORDER, json!({ "o": id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

#[tokio::test]
async fn a_shopify_order_gets_an_easypost_label_bought_once_and_delivered_by_its_tracker() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    easypost(&mock);
    let shop = shop(&app, "easypost-ship", false).await;
    let s = &shop.owner;
    let carrier = easypost_carrier(&app, s, &mock).await;
    assert_eq!(carrier["provider"], "EASYPOST");
    assert_eq!(carrier["simulated"], false);
    assert_eq!(carrier["hasApiKey"], true);
    assert_eq!(carrier["trackingSource"], "EASYPOST");
    // The cheapest of EasyPost's rates: the one its client library bought in the recording.
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {labelPick: CHEAPEST}) { userErrors { field message } } }", json!({})).await;

    let id = shopify_order(&app, s).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED", "{o}");
    let sh = &o["shipments"][0];
    assert_eq!(sh["trackingNumber"], "9400100208303109505657");
    assert_eq!(sh["status"], "PRE_TRANSIT");
    assert_eq!(sh["ratePick"], "cheapest");
    assert_eq!(sh["simulated"], false, "bought postage");
    assert_eq!(sh["cost"], "6.07");
    // All three of EasyPost's rates were shopped, and the three recommendations made.
    let options: Vec<&str> = sh["rates"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["service"].as_str().unwrap())
        .collect();
    assert_eq!(options.len(), 3, "{options:?}");
    assert!(options.contains(&"GroundAdvantage") && options.contains(&"Express"));
    assert_eq!(
        sh["rates"]["recommendations"].as_array().unwrap().len(),
        3,
        "{sh}"
    );
    let kinds: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "order.routed",
        "shipment.label_requested",
        "shipment.label_created",
        "order.shipped",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }

    // One shipment created and one bought, with the rate EasyPost's library bought, under the
    // tenant's key; the parcel went from the warehouse to the shopper.
    assert_eq!(mock.hits("/v2/shipments"), 1);
    assert_eq!(mock.hits(&format!("/v2/shipments/{SHIPMENT}/buy")), 1);
    let recorded = fixture_json("easypost/api/shipment_buy_2_POST_200.json");
    assert_eq!(
        mock.json_sent("POST", &format!("/v2/shipments/{SHIPMENT}/buy")),
        vec![recorded["request"]["body"].clone()]
    );
    let created = &mock.json_sent("POST", "/v2/shipments")[0]["shipment"];
    assert_eq!(created["from_address"]["city"], "Louisville");
    assert_eq!(created["to_address"]["country"], "US");
    assert_eq!(created["options"]["label_format"], "PDF");
    let auth = mock.seen.lock().unwrap()[0].2.clone().unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");

    // The label file is kept and served as the carrier made it.
    let res = app
        .client
        .get(app.url(sh["labelUrl"].as_str().unwrap()))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // Running the jobs again buys nothing more.
    drain(&app).await;
    assert_eq!(mock.hits(&format!("/v2/shipments/{SHIPMENT}/buy")), 1);

    // EasyPost's tracker webhook for the bought tracking code delivers the parcel.
    let mut event = fixture_json("easypost/event_tracker_updated_delivered.json");
    event["result"]["tracking_code"] = json!("9400100208303109505657");
    let (status, body) = track(
        &app,
        &carrier,
        "easypost",
        CARRIER_SECRET,
        &serde_json::to_vec(&event).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    drain(&app).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "DELIVERED", "{o}");
}

#[tokio::test]
async fn a_remote_carrier_needs_its_key_and_a_callable_api() {
    let app = spawn_app_reaching_loopback().await;
    let s = app
        .sign_up("easypost-keys", "owner@easypost-keys.example")
        .await;
    let c = app
        .gql(
            Some(&s.access),
            CREATE_CARRIER,
            json!({ "i": { "code": "ep", "name": "EasyPost", "trackingFormat": "ORDERFLOW", "provider": "EASYPOST" } }),
        )
        .await;
    assert_eq!(
        c["data"]["createCarrier"]["userErrors"][0]["field"],
        json!(["input", "apiKey"]),
        "{c}"
    );
    let c = app
        .gql(
            Some(&s.access),
            CREATE_CARRIER,
            json!({ "i": { "code": "ep", "name": "EasyPost", "trackingFormat": "ORDERFLOW", "provider": "EASYPOST",
                "apiKey": "EZAK_live", "apiBase": "http://10.0.0.5/v2" } }),
        )
        .await;
    assert_eq!(
        c["data"]["createCarrier"]["userErrors"][0]["field"],
        json!(["input", "apiBase"]),
        "{c}"
    );
}

const TRANSACTION: &str = "0cea366887e54c93aabe57d57084ded1";
const SHIPPO_LABEL_PATH: &str = "/f3b5b88d350b4a02922dcec49b781ffd.pdf";

/// Shippo's recorded answers: the shipment with its 22 rates, the purchase QUEUED, then the
/// SUCCESS transaction of the recorded list (its label URL pointed at `mock`).
fn shippo(mock: &MockApi) {
    let reply = |status: u16, body: &Value| {
        let mut r = Reply::json(serde_json::to_vec(body).unwrap());
        r.status = status;
        r
    };
    let shipment = fixture_json("shippo/api/transaction_create_4_POST_201.json");
    let queued = fixture_json("shippo/api/transaction_create_7_POST_201.json");
    let list = fixture_json("shippo/api/transaction_list_1_GET_200.json");
    let mut done = list["response"]["body"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "SUCCESS")
        .unwrap()
        .clone();
    done["label_url"] = json!(format!("{}{SHIPPO_LABEL_PATH}", mock.base));
    mock.on(
        "/shipments/",
        vec![reply(201, &shipment["response"]["body"])],
    );
    mock.on(
        "/transactions/",
        vec![reply(201, &queued["response"]["body"])],
    );
    // Still queued when first asked again, bought the second time.
    mock.on(
        &format!("/transactions/{TRANSACTION}"),
        vec![reply(200, &queued["response"]["body"]), reply(200, &done)],
    );
    mock.on(
        SHIPPO_LABEL_PATH,
        vec![Reply {
            status: 200,
            headers: vec![("content-type", "binary/octet-stream".into())],
            body: b"%PDF-1.4\n%shippo label\n".to_vec(),
            delay: None,
        }],
    );
}

#[tokio::test]
async fn a_shippo_label_is_followed_from_queued_to_bought_and_tracked_to_the_door() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    shippo(&mock);
    let shop = shop(&app, "shippo-ship", false).await;
    let s = &shop.owner;
    let token = "shippo-token-0123456789";
    let c = app
        .gql(
            Some(&s.access),
            CREATE_CARRIER,
            json!({ "i": { "code": "shippo", "name": "Shippo", "trackingFormat": "ORDERFLOW",
                "provider": "SHIPPO", "apiKey": "shippo_test_0123456789", "apiBase": mock.base,
                "webhookSecret": token } }),
        )
        .await;
    let carrier = c["data"]["createCarrier"]["carrier"].clone();
    assert_eq!(carrier["trackingSource"], "SHIPPO", "{c}");
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {labelPick: CHEAPEST}) { userErrors { field message } } }", json!({})).await;

    let id = shopify_order(&app, s).await;
    // The purchase was queued: the parcel says so, and the order waits, routed.
    let o = order(&app, s, &id).await;
    let waiting = &o["shipments"][0];
    assert!(waiting["trackingNumber"].is_null(), "{o}");
    // Asked again until Shippo has bought it (the job runs again in 2 s).
    let mut tries = 0;
    let o = loop {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        drain(&app).await;
        let o = order(&app, s, &id).await;
        if o["state"] == "SHIPPED" || tries > 20 {
            break o;
        }
        tries += 1;
    };
    assert_eq!(o["state"], "SHIPPED", "{o}");
    let sh = &o["shipments"][0];
    assert_eq!(sh["trackingNumber"], "9205590164917310132354");
    // The cheapest of Shippo's 22 rates, and its price.
    assert_eq!(sh["service"], "USPS Priority Mail", "{sh}");
    assert_eq!(sh["cost"], "9.09");
    assert_eq!(mock.hits("/transactions/"), 1, "bought once");
    assert!(mock.hits(&format!("/transactions/{TRANSACTION}")) >= 2);
    let sent = &mock.json_sent("POST", "/transactions/")[0];
    assert_eq!(sent["rate"], "01fda05939ac4ee6bccdc4bdc63e8cd7");
    assert_eq!(sent["label_file_type"], "PDF_4x6");
    assert_eq!(sent["async"], false);
    let auth = mock.seen.lock().unwrap()[0].2.clone().unwrap();
    assert_eq!(auth, "ShippoToken shippo_test_0123456789");
    // The label is a PDF, known by its bytes though the file server said octet-stream.
    let res = app
        .client
        .get(app.url(sh["labelUrl"].as_str().unwrap()))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));

    // Shippo's track webhook for the bought number delivers it.
    let mut t = fixture_json("shippo/track_get_usps_9205590164917337534322.json");
    t["tracking_number"] = json!("9205590164917310132354");
    let body =
        serde_json::to_vec(&json!({ "event": "track_updated", "test": true, "data": t })).unwrap();
    let (code, r) = track(&app, &carrier, "shippo", token, &body).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(order(&app, s, &id).await["state"], "DELIVERED");

    // The connection test reads Shippo's newest transactions with the key.
    let listed = fixture_json("shippo/api/transaction_list_1_GET_200.json");
    mock.on(
        "/transactions/",
        vec![Reply::json(
            serde_json::to_vec(&listed["response"]["body"]).unwrap(),
        )],
    );
    let tested = app
        .gql(
            Some(&s.access),
            "mutation($c: ID!) { testCarrierConnection(id: $c) { ok message } }",
            json!({ "c": carrier["id"] }),
        )
        .await;
    assert_eq!(
        tested["data"]["testCarrierConnection"],
        json!({ "ok": true, "message": "Shippo answered: the API key works" }),
        "{tested}"
    );
    let last = mock.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("GET", "/transactions/?results=1")
    );
}

#[tokio::test]
async fn staff_switch_the_service_of_a_parcel_waiting_for_a_carrier_that_is_down() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    // EasyPost is down; the rate-card carrier (UPS) is not.
    mock.on("/v2/shipments", vec![Reply::status(503)]);
    let shop = shop(&app, "easypost-down", true).await;
    let s = &shop.owner;
    easypost_carrier(&app, s, &mock).await;
    let id = shopify_order(&app, s).await;
    let waiting = "query($o: ID!) { order(id: $o) { state shipments { id status simulated carrier service labelWait trackingNumber } events { kind message } } }";
    let o = app.gql(Some(&s.access), waiting, json!({ "o": id })).await;
    let sh = &o["data"]["order"]["shipments"][0];
    assert!(
        sh["labelWait"]
            .as_str()
            .unwrap_or_default()
            .contains("waiting for the carrier (try 1"),
        "{o}"
    );
    assert_eq!(sh["trackingNumber"], Value::Null);
    let asked = mock.hits("/v2/shipments");
    assert!(asked >= 1);

    // Staff pick UPS Ground instead: the waiting purchase gives way to a new one, which
    // draws the label at once without waiting for EasyPost again.
    let carriers = app
        .gql(
            Some(&s.access),
            "{ carriers { code services { id code } } }",
            json!({}),
        )
        .await;
    let ground = carriers["data"]["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ups")
        .unwrap()["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "ground")
        .unwrap()["id"]
        .clone();
    let bought = app.gql(Some(&s.access), "mutation($s: ID!, $v: ID!) { buyShippingLabel(input: {shipmentId: $s, serviceId: $v}) { shipment { labelWait } userErrors { field message } } }", json!({ "s": sh["id"], "v": ground })).await;
    assert_eq!(
        bought["data"]["buyShippingLabel"]["userErrors"],
        json!([]),
        "{bought}"
    );
    drain(&app).await;
    let o = app.gql(Some(&s.access), waiting, json!({ "o": id })).await;
    let order = &o["data"]["order"];
    let sh = &order["shipments"][0];
    assert_eq!(
        (sh["carrier"].as_str(), sh["service"].as_str()),
        (Some("UPS"), Some("Ground")),
        "{o}"
    );
    assert!(sh["trackingNumber"].is_string());
    assert_eq!(
        sh["simulated"], true,
        "drawn by Orderflow for the rate-card carrier"
    );
    assert_eq!(sh["labelWait"], Value::Null);
    assert_eq!(order["state"], "SHIPPED");
    assert!(
        order["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"]
                .as_str()
                .unwrap()
                .contains("asked for again with another choice")),
        "{o}"
    );

    // The first purchase's next try (after its backoff) finds itself replaced: nothing more.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    drain(&app).await;
    let again = app.gql(Some(&s.access), waiting, json!({ "o": id })).await;
    assert_eq!(
        again["data"]["order"]["shipments"],
        o["data"]["order"]["shipments"]
    );
    assert_eq!(mock.hits(&format!("/v2/shipments/{SHIPMENT}/buy")), 0);
}

#[tokio::test]
async fn an_order_held_for_a_label_the_carrier_refused_asks_again_when_released() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    easypost(&mock);
    // EasyPost refuses the first shipment (its recorded 422), then rates the next one.
    let refused = fixture_json("easypost/api/error_shipment_create_1_POST_422.json");
    let created = fixture_json("easypost/api/shipment_buy_1_POST_201.json");
    let mut no = Reply::json(serde_json::to_vec(&refused["response"]["body"]).unwrap());
    no.status = 422;
    let mut yes = Reply::json(serde_json::to_vec(&created["response"]["body"]).unwrap());
    yes.status = 201;
    mock.on("/v2/shipments", vec![no, yes]);
    let shop = shop(&app, "easypost-refused", false).await;
    let s = &shop.owner;
    easypost_carrier(&app, s, &mock).await;
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {labelPick: CHEAPEST}) { userErrors { field message } } }", json!({})).await;
    let id = shopify_order(&app, s).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "ON_HOLD", "{o}");
    let held = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "order.held")
        .unwrap();
    assert!(
        held["message"]
            .as_str()
            .unwrap()
            .contains("Missing required parameter"),
        "{held}"
    );

    let released = app.gql(Some(&s.access), "mutation($o: ID!) { releaseOrder(input: {orderId: $o}) { order { state } userErrors { field message } } }", json!({ "o": id })).await;
    assert_eq!(
        released["data"]["releaseOrder"]["userErrors"],
        json!([]),
        "{released}"
    );
    drain(&app).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED", "{o}");
    assert_eq!(
        o["shipments"][0]["trackingNumber"],
        "9400100208303109505657"
    );
    assert_eq!(mock.hits("/v2/shipments"), 2);
    assert_eq!(mock.hits(&format!("/v2/shipments/{SHIPMENT}/buy")), 1);
}

/// The return shipment EasyPost documents (`is_return`, rated from the shopper's address).
const RETURN_SHIPMENT: &str = "shp_18efc5c59c4b4bc598eb47070948cec8";
/// Its cheapest rate: USPS GroundAdvantage at 8.20.
const RETURN_RATE: &str = "rate_e77cbaf75acc4ac2acf81cd450fa15d6";
/// The return parcel's own tracking code (the recorded purchase answer carries the outbound
/// parcel's, which a return must not share).
const RETURN_TRACKING: &str = "9400100208303109505658";

/// A shop whose only carrier is EasyPost at `mock`, and a kettle order placed over the API
/// today (a channel's imported history is not mailed), labelled and delivered.
async fn delivered_through_easypost(
    app: &TestApp,
    mock: &MockApi,
    slug: &str,
) -> (Session, Value, String) {
    let shop = shop(app, slug, false).await;
    let s = shop.owner;
    let carrier = easypost_carrier(app, &s, mock).await;
    ok(app, &s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {labelPick: CHEAPEST}) { userErrors { field message } } }", json!({})).await;
    let id =
        crate::fulfillment::kettles(app, &s, "RET-EP", 1, crate::fulfillment::us_address()).await;
    drain(app).await;
    let o = order(app, &s, &id).await;
    assert_eq!(
        o["shipments"][0]["trackingNumber"], "9400100208303109505657",
        "{o}"
    );
    let (status, body) = track(
        app,
        &carrier,
        "easypost",
        CARRIER_SECRET,
        &crate::returns::recent_event("9400100208303109505657", true),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    drain(app).await;
    assert_eq!(order(app, &s, &id).await["state"], "DELIVERED");
    (s, carrier, id)
}

/// A return of the order's first item, approved (by the policy or staff).
async fn approved_return(app: &TestApp, s: &Session, order: &str) -> Value {
    let fields = format!("{} labelWait", crate::returns::RETURN);
    let create = format!(
        "mutation($i: CreateReturnInput!) {{ createReturn(input: $i) {{ return {{ {fields} }} userErrors {{ field message }} }} }}"
    );
    let body = app
        .gql(
            Some(&s.access),
            &create,
            json!({ "i": { "orderId": order, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "changed_mind" } }),
        )
        .await;
    let r = body["data"]["createReturn"]["return"].clone();
    assert!(r.is_object(), "{body}");
    if r["status"] != "REQUESTED" {
        return r;
    }
    let approve = format!(
        "mutation($r: ID!) {{ approveReturn(input: {{returnId: $r}}) {{ return {{ {fields} }} userErrors {{ field message }} }} }}"
    );
    let body = app
        .gql(Some(&s.access), &approve, json!({ "r": r["id"] }))
        .await;
    body["data"]["approveReturn"]["return"].clone()
}

/// The approval emails the shopper of `delivered_through_easypost` has had.
fn approvals(app: &TestApp) -> Vec<crate::notify::Sent> {
    crate::notify::outbox(app)
        .into_iter()
        .filter(|m| m.to.eq_ignore_ascii_case("RET-EP@shopper.example"))
        .filter(|m| m.subject.contains("return") && m.subject.contains("approved"))
        .collect()
}

fn path_of(link: &Value) -> String {
    link.as_str()
        .unwrap()
        .trim_start_matches("http://orderflow.test")
        .to_owned()
}

#[tokio::test]
async fn a_return_label_is_bought_from_easypost_as_a_return_shipment_and_mailed_with_it() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    easypost(&mock);
    let reply = |exchange: &Value| {
        let mut r = Reply::json(serde_json::to_vec(&exchange["response"]["body"]).unwrap());
        r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
        r
    };
    // The outbound parcel's shipment first, then EasyPost's documented return shipment; its
    // purchase is answered with the recorded purchase, for the return's shipment.
    let outbound = fixture_json("easypost/api/shipment_buy_1_POST_201.json");
    let returned = fixture_json("easypost/api/docs_return_shipment_create_POST_201.json");
    mock.on("/v2/shipments", vec![reply(&outbound), reply(&returned)]);
    let mut bought = fixture_json("easypost/api/shipment_buy_2_POST_200.json");
    let body = &mut bought["response"]["body"];
    body["id"] = json!(RETURN_SHIPMENT);
    body["is_return"] = json!(true);
    body["tracking_code"] = json!(RETURN_TRACKING);
    body["postage_label"]["label_url"] = json!(format!("{}{LABEL_PATH}", mock.base));
    // EasyPost sells the label but its answer is lost (a 502 on the way back): the next
    // try finds the purchase `buying` and asks EasyPost for the shipment before buying.
    mock.on(
        &format!("/v2/shipments/{RETURN_SHIPMENT}/buy"),
        vec![Reply::status(502), reply(&bought)],
    );
    mock.on(
        &format!("/v2/shipments/{RETURN_SHIPMENT}"),
        vec![reply(&bought)],
    );
    let (s, carrier, id) = delivered_through_easypost(&app, &mock, "easypost-return").await;
    let s = &s;

    // Approved: the label is requested from EasyPost, not drawn, and the shopper not yet told.
    let r = approved_return(&app, s, &id).await;
    assert_eq!(r["status"], "APPROVED", "{r}");
    assert_eq!(r["labelStatus"], "requested", "{r}");
    assert_eq!(r["labelWait"], "label requested from the carrier");
    assert_eq!(r["labelUrl"], Value::Null);
    let page = app
        .client
        .get(app.url(&path_of(&r["pageUrl"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("being prepared"), "{page}");

    drain(&app).await;
    let r = &crate::returns::returns_of(&app, s, &id).await[0];
    assert_eq!(r["labelStatus"], "buying", "{r}");
    assert!(approvals(&app).is_empty(), "no email before the label");
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    drain(&app).await;
    assert_eq!(mock.hits(&format!("/v2/shipments/{RETURN_SHIPMENT}")), 1);
    // EasyPost was asked for a return shipment: the warehouse as the sender it goes back to,
    // the shopper as the addressee it comes from, and a PDF whatever the carrier's format.
    let sent = mock.json_sent("POST", "/v2/shipments");
    assert_eq!(sent.len(), 2, "{sent:?}");
    let asked = &sent[1]["shipment"];
    assert_eq!(asked["is_return"], true, "{asked}");
    assert_eq!(asked["from_address"]["city"], "Louisville");
    assert_eq!(
        asked["to_address"]["street1"],
        sent[0]["shipment"]["to_address"]["street1"]
    );
    assert_eq!(asked["options"]["label_format"], "PDF");
    // The cheapest of its three return rates bought, once: the lost answer was found.
    assert_eq!(
        mock.json_sent("POST", &format!("/v2/shipments/{RETURN_SHIPMENT}/buy")),
        vec![json!({ "rate": { "id": RETURN_RATE } })]
    );
    let r = &crate::returns::returns_of(&app, s, &id).await[0];
    assert_eq!(r["labelStatus"], "pre_transit", "{r}");
    assert_eq!(r["trackingNumber"], RETURN_TRACKING);
    assert_eq!(r["labelCost"], "6.07", "the price EasyPost charged");
    let kinds: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"return.label_ready"), "{kinds:?}");
    // The label file, as EasyPost made it, behind the shopper's link.
    let res = app
        .client
        .get(
            app.url(
                r["labelUrl"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://orderflow.test"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    // One approval email, sent with the label.
    let mails = approvals(&app);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].text.contains("Print your return label: http"),
        "{}",
        mails[0].text
    );
    // The postage is booked once; running the jobs again buys nothing more.
    drain(&app).await;
    assert_eq!(
        mock.hits(&format!("/v2/shipments/{RETURN_SHIPMENT}/buy")),
        1
    );
    assert_eq!(approvals(&app).len(), 1);

    // EasyPost's tracker for the return's code brings the parcel back to the warehouse.
    let (status, body) = track(
        &app,
        &carrier,
        "easypost",
        CARRIER_SECRET,
        &crate::returns::recent_event(RETURN_TRACKING, true),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    drain(&app).await;
    let r = &crate::returns::returns_of(&app, s, &id).await[0];
    assert_eq!(r["status"], "RECEIVED", "{r}");
}

#[tokio::test]
async fn a_return_label_easypost_refuses_leaves_the_shopper_the_warehouse_address() {
    let app = spawn_app_reaching_loopback().await;
    let mock = MockApi::spawn("authorization");
    easypost(&mock);
    let reply = |exchange: &Value| {
        let mut r = Reply::json(serde_json::to_vec(&exchange["response"]["body"]).unwrap());
        r.status = exchange["response"]["status"].as_u64().unwrap() as u16;
        r
    };
    // The outbound shipment, then EasyPost's recorded 422 for the return shipment.
    mock.on(
        "/v2/shipments",
        vec![
            reply(&fixture_json("easypost/api/shipment_buy_1_POST_201.json")),
            reply(&fixture_json(
                "easypost/api/error_shipment_create_1_POST_422.json",
            )),
        ],
    );
    let (s, _, id) = delivered_through_easypost(&app, &mock, "easypost-return-refused").await;
    let r = approved_return(&app, &s, &id).await;
    assert_eq!(r["labelStatus"], "requested", "{r}");
    assert!(
        approvals(&app).is_empty(),
        "no email before the label is settled"
    );
    drain(&app).await;

    let r = &crate::returns::returns_of(&app, &s, &id).await[0];
    assert_eq!(r["status"], "APPROVED");
    assert_eq!(r["labelStatus"], "failed", "{r}");
    assert_eq!(r["labelUrl"], Value::Null);
    let wait = app
        .gql(
            Some(&s.access),
            "query($r: ID!) { return(id: $r) { labelWait } }",
            json!({ "r": r["id"] }),
        )
        .await;
    assert!(
        wait["data"]["return"]["labelWait"]
            .as_str()
            .unwrap_or_default()
            .contains("Missing required parameter"),
        "the carrier's words: {wait}"
    );
    let failed = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "return.label_failed")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("sends it back themselves"),
        "{failed}"
    );
    // Nothing was bought; the shopper is told where to send it, once.
    assert_eq!(
        mock.hits(&format!("/v2/shipments/{RETURN_SHIPMENT}/buy")),
        0
    );
    let mails = approvals(&app);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].text.contains("Send the items to: EAST warehouse")
            && mails[0].text.contains("400 W Market St")
            && !mails[0].text.contains("Print your return label"),
        "{}",
        mails[0].text
    );
    let page = app
        .client
        .get(app.url(&path_of(&r["pageUrl"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("could not get a return label"), "{page}");
}
