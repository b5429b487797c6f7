//! Fulfillment over the API: an order is routed (with the alternatives it beat), labelled
//! (PDF with a scannable Code 128, ZPL), picked and packed with scan checks, tracked through
//! carrier webhooks in every supported format, and watched for late or lost parcels.

use orderflow::domain::TenantId;
use orderflow::lifecycle::tracking::{signature, watch};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::catalog::create_product;
use crate::connectors::{fixture, fixture_json};
use crate::engine::drain;
use crate::helpers::{Session, TestApp, owner_connection, spawn_app};
use crate::orders::create_order;
use crate::webhooks::{connect_orders_only, post, shopify_delivery};

pub const ORDER: &str = "query($o: ID!) { order(id: $o) { id name state holdReason promisedAt routing { method evaluated excluded notes chosen { summary shippingPrice cost { shipping lateness workload parcels preference total } parcels { warehouseCode service zone price deliveryOn daysLate pieces { sku quantity } } } alternatives { summary cost { total } parcels { warehouseCode } } } shipments { id status simulated carrier service trackingNumber labelUrl labelZplUrl packingSlipUrl cost zone ratePick estimatedDelivery warehouse { code } lines { sku quantity } rates { excluded recommendations { pick reason quote { service price deliveryOn } } options { service price } } trackingEvents { status message occurredAt } } deliveryExceptions { id kind recommendedAction status detail } allocations { sku quantity status warehouse { code } } events { kind message } } }";

pub const CARRIER_SECRET: &str = "tracking-secret-1";

pub async fn order(app: &TestApp, s: &Session, id: &str) -> Value {
    let body = app.gql(Some(&s.access), ORDER, json!({ "o": id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["order"].clone()
}

fn kinds(o: &Value) -> Vec<String> {
    o["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn ok(app: &TestApp, s: &Session, mutation: &str, query: &str, vars: Value) -> Value {
    let body = app.gql(Some(&s.access), query, vars).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"][mutation]["userErrors"], json!([]), "{body}");
    body["data"][mutation].clone()
}

pub async fn warehouse(app: &TestApp, s: &Session, code: &str, address: Value, tz: &str) -> String {
    let w = ok(app, s, "createWarehouse", "mutation($input: CreateWarehouseInput!) { createWarehouse(input: $input) { warehouse { id timezone } userErrors { field code message } } }", json!({ "input": { "code": code, "name": format!("{code} warehouse"), "address": address, "dailyCapacity": 400, "timezone": tz } })).await;
    assert_eq!(w["warehouse"]["timezone"], tz);
    w["warehouse"]["id"].as_str().unwrap().to_owned()
}

/// Ground: 5 + zone up to 1 kg, 8 + 1.5 × zone up to 5 kg, 1.00 a kilogram beyond; 1 + zone/2
/// days. Express: 20 + 2 × zone up to 5 kg, next day. Domestic zones 1–8 only.
fn rate_card(express: bool) -> Value {
    let zones: Vec<Value> = (1..=8)
        .map(|z: i32| {
            if express {
                json!({ "zone": z, "transitDays": 1, "brackets": [{ "upToGrams": 5000, "price": format!("{}.00", 20 + 2 * z) }] })
            } else {
                json!({ "zone": z, "transitDays": 1 + z / 2, "extraPerKg": "1.00", "brackets": [
                    { "upToGrams": 1000, "price": format!("{}.00", 5 + z) },
                    { "upToGrams": 5000, "price": format!("{:.2}", 8.0 + 1.5 * f64::from(z)) }
                ] })
            }
        })
        .collect();
    json!({ "dimDivisor": 5000, "maxWeightGrams": 30000, "zones": zones })
}

pub struct Shop {
    pub owner: Session,
    pub east: String,
    pub west: String,
    pub carrier: Value,
}

pub const CREATE_CARRIER: &str = "mutation($input: CreateCarrierInput!) { createCarrier(input: $input) { carrier { id code name trackingFormat trackingSource trackingWebhookUrl hasWebhookSecret } userErrors { field code message } } }";
pub const CREATE_SERVICE: &str = "mutation($input: CreateCarrierServiceInput!) { createCarrierService(input: $input) { service { id code name onTimeRate rateCard { zones { zone transitDays } } } userErrors { field code message } } }";

pub async fn carrier(app: &TestApp, s: &Session, source: &str, secret: &str) -> Value {
    let c = ok(app, s, "createCarrier", CREATE_CARRIER, json!({ "input": { "code": "ups", "name": "UPS", "trackingFormat": "UPS", "account": "A1B2C3", "trackingSource": source, "webhookSecret": secret } })).await;
    let id = c["carrier"]["id"].as_str().unwrap().to_owned();
    for (code, name, express, cutoff) in [
        ("ground", "Ground", false, "17:00"),
        ("express", "Express", true, "15:00"),
    ] {
        ok(app, s, "createCarrierService", CREATE_SERVICE, json!({ "input": { "carrierId": id, "code": code, "name": name, "currency": "USD", "rateCard": rate_card(express), "cutoff": cutoff } })).await;
    }
    c["carrier"].clone()
}

/// Two warehouses (Louisville KY and San Francisco CA) stocking the Shopify fixture's SKUs and
/// a kettle, with bins; optionally a carrier.
pub async fn shop(app: &TestApp, slug: &str, with_carrier: bool) -> Shop {
    let owner = app.sign_up(slug, &format!("owner@{slug}.example")).await;
    let east = warehouse(app, &owner, "EAST", json!({ "line1": "400 W Market St", "city": "Louisville", "region": "KY", "postalCode": "40202", "country": "US" }), "America/New_York").await;
    let west = warehouse(app, &owner, "WEST", json!({ "line1": "1 Market St", "city": "San Francisco", "region": "CA", "postalCode": "94105", "country": "US" }), "America/Los_Angeles").await;
    let skus = [
        ("SKU2006-001", 100, Some("0012345678905"), "C-02"),
        ("LENS-PROTECT-2YR", 50, None, "A-07"),
        ("CASE-LEATHER-PREM", 200, None, "A-01"),
        ("SKU2006-020", 1000, None, "B-01"),
        ("SKU2006-035", 500, None, "B-09"),
        ("KETTLE-1", 1200, Some("4006381333931"), "A-03"),
    ];
    for (sku, grams, barcode, bin) in skus {
        let p = create_product(app, &owner, json!({ "title": format!("Item {sku}"), "variants": [{ "sku": sku, "price": "40.00", "weightGrams": grams, "barcode": barcode, "lengthMm": 200, "widthMm": 150, "heightMm": 100 }] })).await;
        assert_eq!(p["data"]["createProduct"]["userErrors"], json!([]), "{p}");
        for w in [&east, &west] {
            ok(app, &owner, "receiveStock", "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 10}) { userErrors { field message } } }", json!({ "s": sku, "w": w })).await;
            ok(app, &owner, "setBinLocation", "mutation($s: String!, $w: ID!, $b: String) { setBinLocation(input: {sku: $s, warehouseId: $w, binLocation: $b}) { userErrors { field message } } }", json!({ "s": sku, "w": w, "b": bin })).await;
        }
    }
    let carrier = if with_carrier {
        carrier(app, &owner, "EASYPOST", CARRIER_SECRET).await
    } else {
        Value::Null
    };
    Shop {
        owner,
        east,
        west,
        carrier,
    }
}

pub fn us_address() -> Value {
    json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Shippington", "region": "KY", "postalCode": "40003", "country": "US" })
}

/// A paid API order for kettles to Kentucky.
pub async fn kettles(
    app: &TestApp,
    s: &Session,
    external: &str,
    quantity: i64,
    shipping: Value,
) -> String {
    let total = format!("{}.00", 40 * quantity);
    let body = create_order(app, s, json!({
        "externalId": external, "email": format!("{external}@shopper.example"), "firstName": "Grace", "lastName": "Hopper",
        "shippingAddress": shipping.clone(), "billingAddress": shipping,
        "lines": [{ "sku": "KETTLE-1", "quantity": quantity }],
        "payment": { "status": "PAID", "amountCaptured": total, "avsResult": "Y", "cvvResult": "M" }
    })).await;
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

async fn download(app: &TestApp, s: &Session, path: &str) -> (u16, Vec<u8>) {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed for the label checks (.ci/run installs poppler-utils and zbar-tools): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders a PDF at 300 dpi and reads it as a person and a scanner would: its text, and every
/// barcode on it.
fn read_pdf(bytes: &[u8]) -> (String, String) {
    let dir = tempfile_dir();
    let pdf = dir.join("doc.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let text = run("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    let png = dir.join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            pdf.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let scanned = run(
        "zbarimg",
        &["--raw", "-q", dir.join("page.png").to_str().unwrap()],
    );
    std::fs::remove_dir_all(&dir).ok();
    (text, scanned.trim().to_owned())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("of-label-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Posts a tracking body signed as `source` signs it.
pub async fn track(
    app: &TestApp,
    carrier: &Value,
    source: &str,
    secret: &str,
    body: &[u8],
) -> (u16, Value) {
    let path = carrier["trackingWebhookUrl"].as_str().unwrap();
    match source {
        "easypost" => {
            let sig = format!(
                "hmac-sha256-hex={}",
                hex::encode(orderflow::infra::signature::hmac_sha256(
                    secret.as_bytes(),
                    body
                ))
            );
            post(
                app,
                path,
                &[
                    ("content-type", "application/json"),
                    ("X-Hmac-Signature", &sig),
                ],
                body,
            )
            .await
        }
        "aftership" => {
            let sig = orderflow::infra::signature::sign_base64(secret, body);
            post(
                app,
                path,
                &[
                    ("content-type", "application/json"),
                    ("aftership-hmac-sha256", &sig),
                ],
                body,
            )
            .await
        }
        "shippo" => {
            post(
                app,
                &format!("{path}?token={secret}"),
                &[("content-type", "application/json")],
                body,
            )
            .await
        }
        _ => {
            let sig = signature::sign_orderflow(secret, body, chrono::Utc::now().timestamp());
            post(
                app,
                path,
                &[
                    ("content-type", "application/json"),
                    ("X-Orderflow-Signature", &sig),
                ],
                body,
            )
            .await
        }
    }
}

/// EasyPost's in-transit event for our tracking number, with its history cut to `keep` scans
/// and, optionally, a delivery scan on top.
pub fn easypost_event(number: &str, keep: usize, delivered: bool) -> Vec<u8> {
    let mut e = fixture_json("easypost/event_tracker_updated_in_transit.json");
    e["result"]["tracking_code"] = json!(number);
    let details = e["result"]["tracking_details"].as_array_mut().unwrap();
    details.truncate(keep);
    if delivered {
        details.push(json!({ "object": "TrackingDetail", "message": "Delivered, front door", "description": "Delivered", "status": "delivered", "status_detail": "arrived_at_destination", "datetime": "2024-08-05T14:02:00Z", "source": "FedEx", "tracking_location": { "object": "TrackingLocation", "city": "SHIPPINGTON", "state": "KY", "country": "US", "zip": "40003" } }));
        e["result"]["status"] = json!("delivered");
    }
    serde_json::to_vec(&e).unwrap()
}

#[tokio::test]
async fn a_shopify_order_is_routed_labelled_and_delivered_unattended() {
    let app = spawn_app().await;
    let shop = shop(&app, "ship-it", true).await;
    let s = &shop.owner;
    let secret = "shpss_fulfilment_0123456789";
    let c = connect_orders_only(
        &app,
        s,
        "SHOPIFY",
        "demo.myshopify.com",
        secret,
        json!({ "accessToken": "shpat_x" }),
    )
    .await;
    // The fixture order, paid and not cancelled.
    let mut o = fixture_json("shopify/webhook_orders_create.json");
    o["cancelled_at"] = Value::Null;
    o["cancel_reason"] = Value::Null;
    o["financial_status"] = json!("paid");
    let body = serde_json::to_vec(&o).unwrap();
    let (status, _) = shopify_delivery(
        &app,
        c["webhookUrl"].as_str().unwrap(),
        "orders/create",
        "wh-ship-1",
        &body,
        secret,
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
    let id = list["data"]["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED", "{o}");
    // Routing: both warehouses hold everything; Louisville is in the shopper's state.
    let r = &o["routing"];
    assert_eq!(r["method"], "exact");
    assert_eq!(r["evaluated"], 32, "5 lines × 2 warehouses");
    assert_eq!(r["chosen"]["parcels"].as_array().unwrap().len(), 1);
    assert_eq!(r["chosen"]["parcels"][0]["warehouseCode"], "EAST");
    assert_eq!(r["chosen"]["parcels"][0]["zone"], 2);
    let alternatives = r["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty());
    let chosen_cost = r["chosen"]["cost"]["total"].as_f64().unwrap();
    assert!(
        alternatives
            .iter()
            .all(|a| a["cost"]["total"].as_f64().unwrap() >= chosen_cost)
    );
    assert!(alternatives.iter().any(|a| {
        a["parcels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["warehouseCode"] == "WEST")
    }));
    assert!(o["promisedAt"].is_string());
    // The label: recommended service, a valid UPS number, three recommendations kept.
    let sh = &o["shipments"][0];
    assert_eq!(sh["status"], "PRE_TRANSIT");
    assert_eq!(sh["carrier"], "UPS");
    assert_eq!(sh["ratePick"], "best_experience");
    let number = sh["trackingNumber"].as_str().unwrap().to_owned();
    assert!(
        number.starts_with("1ZA1B2C3") && number.len() == 18,
        "{number}"
    );
    assert!(orderflow::lifecycle::shipping::tracking_number::is_valid(
        orderflow::lifecycle::shipping::tracking_number::TrackingFormat::Ups,
        &number
    ));
    let picks: Vec<&str> = sh["rates"]["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pick"].as_str().unwrap())
        .collect();
    assert_eq!(picks, ["CHEAPEST", "FASTEST", "BEST_EXPERIENCE"]);
    assert_eq!(sh["rates"]["options"].as_array().unwrap().len(), 2);
    let k = kinds(&o);
    for kind in [
        "order.received",
        "order.payment_verified",
        "order.screened",
        "order.allocated",
        "order.routed",
        "shipment.label_created",
        "order.shipped",
    ] {
        assert!(k.contains(&kind.to_owned()), "{kind} in {k:?}");
    }
    // Stock left the building: 9 of 10 kettles' worth of each fixture SKU on hand at EAST.
    let levels = app
        .gql(
            Some(&s.access),
            "{ stockLevels(sku: \"SKU2006-020\") { warehouse { code } onHand reserved } }",
            json!({}),
        )
        .await;
    let east = levels["data"]["stockLevels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["warehouse"]["code"] == "EAST")
        .unwrap()
        .clone();
    assert_eq!(
        (east["onHand"].as_i64(), east["reserved"].as_i64()),
        (Some(9), Some(0))
    );

    // The PDF opens, shows the tracking number, and its barcode scans to it.
    let (code, pdf) = download(&app, s, sh["labelUrl"].as_str().unwrap()).await;
    assert_eq!(code, 200);
    let (text, scanned) = read_pdf(&pdf);
    assert!(text.contains(&number), "{text}");
    assert!(
        text.contains("Steve Shipper") && text.contains("UPS "),
        "{text}"
    );
    assert_eq!(scanned, number);
    let (code, zpl) = download(&app, s, sh["labelZplUrl"].as_str().unwrap()).await;
    assert_eq!(code, 200);
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(
        zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"),
        "{zpl}"
    );
    assert!(zpl.contains(&format!("^BCN,220,Y,N,N,A^FH_^FD{number}^FS")));
    assert_eq!(zpl.matches("^FO").count(), zpl.matches("^FS").count());
    // Without a token: refused.
    let res = app
        .client
        .get(app.url(sh["labelUrl"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    // Tracking: in transit (EasyPost, with three scans), the same delivery again, an older
    // partial history late, then delivery.
    let carrier = &shop.carrier;
    let (code, body) = track(
        &app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &easypost_event(&number, 3, false),
    )
    .await;
    assert_eq!(
        (code, body["status"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    assert_eq!(body["newScans"], 3);
    let (_, again) = track(
        &app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &easypost_event(&number, 3, false),
    )
    .await;
    assert_eq!(again["status"], "duplicate");
    let (_, late) = track(
        &app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &easypost_event(&number, 1, false),
    )
    .await;
    assert_eq!(late["status"], "duplicate", "an older scan already known");
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "IN_TRANSIT");
    assert_eq!(o["shipments"][0]["status"], "IN_TRANSIT");
    assert_eq!(
        o["shipments"][0]["trackingEvents"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (code, body) = track(
        &app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &easypost_event(&number, 7, true),
    )
    .await;
    assert_eq!((code, body["newScans"].as_i64()), (200, Some(5)), "{body}");
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "DELIVERED", "{o}");
    assert_eq!(o["shipments"][0]["status"], "DELIVERED");
    let k = kinds(&o);
    assert!(
        k.contains(&"order.in_transit".to_owned()) && k.contains(&"order.delivered".to_owned()),
        "{k:?}"
    );
    // A stray in-transit scan after delivery changes nothing.
    let mut stray = fixture_json("easypost/event_tracker_updated_in_transit.json");
    stray["result"]["tracking_code"] = json!(number);
    stray["result"]["tracking_details"][0]["datetime"] = json!("2024-08-06T00:00:00Z");
    stray["result"]["tracking_details"][0]["status"] = json!("in_transit");
    track(
        &app,
        carrier,
        "easypost",
        CARRIER_SECRET,
        &serde_json::to_vec(&stray).unwrap(),
    )
    .await;
    let o = order(&app, s, &id).await;
    assert_eq!(
        (o["state"].as_str(), o["shipments"][0]["status"].as_str()),
        (Some("DELIVERED"), Some("DELIVERED"))
    );
    let services = app
        .gql(
            Some(&s.access),
            "{ carriers { services { code deliveredCount onTimeRate } } }",
            json!({}),
        )
        .await;
    let delivered: i64 = services["data"]["carriers"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["deliveredCount"].as_i64().unwrap())
        .sum();
    assert_eq!(delivered, 1);
}

#[tokio::test]
async fn with_the_warehouse_workflow_orders_are_waved_picked_packed_by_scan_then_labelled() {
    let app = spawn_app().await;
    let shop = shop(&app, "wave-shop", false).await;
    let s = &shop.owner;
    carrier(&app, s, "ORDERFLOW", CARRIER_SECRET).await;
    let carrier = app
        .gql(
            Some(&s.access),
            "{ carriers { id trackingWebhookUrl } }",
            json!({}),
        )
        .await["data"]["carriers"][0]
        .clone();
    // Waves are per warehouse, so only Louisville ships here: with both open, the express
    // order ships sooner from San Francisco once Louisville's express cutoff (15:00 New York
    // time) has passed — routing's business, tested there, and a failure here by the clock.
    ok(&app, s, "updateWarehouse", "mutation($id: ID!) { updateWarehouse(input: {id: $id, active: false}) { warehouse { active } userErrors { field message } } }", json!({ "id": shop.west })).await;
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true, waveSize: 10}) { settings { warehouseWorkflow autoBuyLabels labelPick } userErrors { field message } } }", json!({})).await;
    let a = kettles(&app, s, "wave-a", 2, us_address()).await;
    let body = create_order(&app, s, json!({
        "externalId": "wave-b", "email": "b@shopper.example", "shippingAddress": us_address(), "billingAddress": us_address(),
        "lines": [{ "sku": "KETTLE-1", "quantity": 1 }, { "sku": "CASE-LEATHER-PREM", "quantity": 1 }, { "sku": "SKU2006-001", "quantity": 1 }],
        "shippingLines": [{ "title": "Express 2-day", "price": "0.00" }],
        "payment": { "status": "PAID", "amountCaptured": "120.00", "avsResult": "Y", "cvvResult": "M" }
    })).await;
    assert_eq!(
        body["data"]["createOrder"]["userErrors"],
        json!([]),
        "{body}"
    );
    let b = body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    drain(&app).await;
    assert_eq!(order(&app, s, &a).await["state"], "ROUTED");
    assert_eq!(order(&app, s, &b).await["state"], "ROUTED");
    // A routed order cancelled before picking: its parcel is voided, never waved.
    let c = kettles(&app, s, "wave-c", 1, us_address()).await;
    drain(&app).await;
    ok(&app, s, "cancelOrder", "mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: \"changed mind\"}) { order { state } userErrors { field message } } }", json!({ "o": c })).await;
    assert_eq!(order(&app, s, &c).await["shipments"][0]["status"], "VOIDED");

    let waves = ok(&app, s, "createPickWaves", "mutation($w: ID!) { createPickWaves(input: {warehouseId: $w}) { waves { id status shipmentCount tasks { sequence binLocation sku quantity picked shipmentId } } userErrors { field message } } }", json!({ "w": shop.east })).await;
    let wave = &waves["waves"][0];
    assert_eq!(wave["shipmentCount"], 2);
    let walk: Vec<(String, String)> = wave["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["binLocation"].as_str().unwrap().to_owned(),
                t["sku"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Aisle A up, then C: A-01, A-03 (both orders' kettles), C-02.
    let bins: Vec<&str> = walk.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(bins, ["A-01", "A-03", "A-03", "C-02"], "{walk:?}");
    let b_shipment = order(&app, s, &b).await["shipments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The express order leads the wave.
    let a3: Vec<&Value> = wave["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["binLocation"] == "A-03")
        .collect();
    assert_eq!(
        a3[0]["shipmentId"],
        b_shipment.as_str(),
        "urgent first at the same bin"
    );
    assert_eq!(order(&app, s, &a).await["state"], "PICKING");
    let picked = ok(&app, s, "markPicked", "mutation($w: ID!) { markPicked(input: {waveId: $w}) { wave { status tasks { picked quantity } } userErrors { field message } } }", json!({ "w": wave["id"] })).await;
    assert_eq!(picked["wave"]["status"], "DONE");

    const PACK: &str = "mutation($s: ID!, $scans: [String!]!) { packShipment(input: {shipmentId: $s, scans: $scans}) { shipment { status trackingNumber packedAt } order { state } userErrors { field code message } } }";
    // A wrong item and a missing one: refused, nothing changes.
    let bad = app
        .gql(
            Some(&s.access),
            PACK,
            json!({ "s": b_shipment, "scans": ["4006381333931", "SKU2006-020"] }),
        )
        .await;
    let err = &bad["data"]["packShipment"]["userErrors"][0];
    assert_eq!(err["field"], json!(["input", "scans"]));
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("not in this parcel: SKU2006-020")
            && msg.contains("missing: 1 × CASE-LEATHER-PREM, 1 × SKU2006-001"),
        "{msg}"
    );
    assert_eq!(order(&app, s, &b).await["state"], "PICKING");
    // Scanned right (barcodes or SKUs): packed, labelled, shipped.
    let good = ok(&app, s, "packShipment", PACK, json!({ "s": b_shipment, "scans": ["4006381333931", "case-leather-prem", "0012345678905"] })).await;
    assert_eq!(good["order"]["state"], "SHIPPED");
    assert_eq!(good["shipment"]["status"], "PRE_TRANSIT");
    let number = good["shipment"]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let ob = order(&app, s, &b).await;
    // Express shipping promised in two days: the express service.
    assert!(ob["shipments"][0]["service"].as_str().is_some());
    let (code, slip) = download(
        &app,
        s,
        ob["shipments"][0]["packingSlipUrl"].as_str().unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    let (text, scanned) = read_pdf(&slip);
    assert!(
        text.contains("PACKING SLIP")
            && text.contains("CASE-LEATHER-PREM")
            && text.contains("A-01"),
        "{text}"
    );
    assert_eq!(
        scanned,
        ob["name"].as_str().unwrap().trim_start_matches('#')
    );

    // Our own tracking format: out for delivery, a failed attempt, then delivered.
    let event = |status: &str, detail: Option<&str>, at: &str, id: &str| {
        serde_json::to_vec(&json!({ "eventId": id, "trackingNumber": number, "status": status, "detail": detail, "message": format!("{status} scan"), "location": "Shippington, KY", "occurredAt": at })).unwrap()
    };
    let (code, r) = track(
        &app,
        &carrier,
        "orderflow",
        CARRIER_SECRET,
        &event("out_for_delivery", None, "2026-11-27T08:00:00Z", "e1"),
    )
    .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(order(&app, s, &b).await["state"], "OUT_FOR_DELIVERY");
    track(
        &app,
        &carrier,
        "orderflow",
        CARRIER_SECRET,
        &event(
            "failure",
            Some("attempt_failed"),
            "2026-11-27T12:00:00Z",
            "e2",
        ),
    )
    .await;
    let ob = order(&app, s, &b).await;
    let ex = &ob["deliveryExceptions"][0];
    assert_eq!(
        (
            ex["kind"].as_str(),
            ex["recommendedAction"].as_str(),
            ex["status"].as_str()
        ),
        (
            Some("FAILED_ATTEMPT"),
            Some("CONTACT_CUSTOMER"),
            Some("OPEN")
        ),
        "{ob}"
    );
    let queue = app
        .gql(
            Some(&s.access),
            "{ deliveryExceptions(first: 10) { edges { node { id kind orderId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        queue["data"]["deliveryExceptions"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ok(&app, s, "resolveDeliveryException", "mutation($id: ID!) { resolveDeliveryException(input: {id: $id, action: CONTACT_CUSTOMER, note: \"Rebooked for Saturday\"}) { exception { status resolution } userErrors { field message } } }", json!({ "id": ex["id"] })).await;
    let queue = app
        .gql(
            Some(&s.access),
            "{ deliveryExceptions(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(queue["data"]["deliveryExceptions"]["edges"], json!([]));
    track(
        &app,
        &carrier,
        "orderflow",
        CARRIER_SECRET,
        &event("delivered", None, "2026-11-28T10:00:00Z", "e3"),
    )
    .await;
    let ob = order(&app, s, &b).await;
    assert_eq!(ob["state"], "DELIVERED");
    assert!(kinds(&ob).contains(&"shipment.exception_resolved".to_owned()));
}

#[tokio::test]
async fn orders_wait_for_a_carrier_labels_can_be_voided_and_rebought_and_unroutable_orders_are_held()
 {
    let app = spawn_app().await;
    let shop = shop(&app, "no-carrier", false).await;
    let s = &shop.owner;
    let id = kettles(&app, s, "wait-1", 1, us_address()).await;
    drain(&app).await;
    assert_eq!(
        order(&app, s, &id).await["state"],
        "ALLOCATED",
        "no carrier yet: it waits"
    );
    let carrier = carrier(&app, s, "EASYPOST", CARRIER_SECRET).await;
    drain(&app).await;
    let o = order(&app, s, &id).await;
    assert_eq!(
        o["state"], "SHIPPED",
        "a carrier's first service resumes it"
    );
    let shipment = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let first_number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let kettle_east = |levels: &Value| {
        levels["data"]["stockLevels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["warehouse"]["code"] == "EAST")
            .map(|l| {
                (
                    l["onHand"].as_i64().unwrap(),
                    l["reserved"].as_i64().unwrap(),
                )
            })
            .unwrap()
    };
    const LEVELS: &str =
        "{ stockLevels(sku: \"KETTLE-1\") { warehouse { code } onHand reserved } }";
    assert_eq!(
        kettle_east(&app.gql(Some(&s.access), LEVELS, json!({})).await),
        (9, 0)
    );

    const VOID: &str = "mutation($s: ID!) { voidShippingLabel(input: {shipmentId: $s, reason: \"wrong box\"}) { shipment { status trackingNumber voidedAt } order { state } userErrors { field code message } } }";
    let voided = ok(&app, s, "voidShippingLabel", VOID, json!({ "s": shipment })).await;
    assert_eq!(
        (
            voided["order"]["state"].as_str(),
            voided["shipment"]["status"].as_str()
        ),
        (Some("ROUTED"), Some("PLANNED"))
    );
    assert_eq!(
        kettle_east(&app.gql(Some(&s.access), LEVELS, json!({})).await),
        (10, 1),
        "back on the shelf, reserved again"
    );
    let again = app
        .gql(Some(&s.access), VOID, json!({ "s": shipment }))
        .await;
    assert_eq!(
        again["data"]["voidShippingLabel"]["userErrors"][0]["field"],
        json!(["input", "shipmentId"])
    );
    // Bought again, the cheapest this time: a new number.
    let bought = ok(&app, s, "buyShippingLabel", "mutation($s: ID!) { buyShippingLabel(input: {shipmentId: $s, pick: CHEAPEST}) { shipment { status trackingNumber ratePick service } order { state } userErrors { field code message } } }", json!({ "s": shipment })).await;
    assert_eq!(bought["order"]["state"], "SHIPPED");
    assert_eq!(bought["shipment"]["ratePick"], "cheapest");
    assert_eq!(bought["shipment"]["service"], "Ground");
    assert_ne!(
        bought["shipment"]["trackingNumber"].as_str(),
        Some(first_number.as_str())
    );
    let o = order(&app, s, &id).await;
    assert!(kinds(&o).contains(&"shipment.label_voided".to_owned()));
    // The tracking webhook refuses a wrong signature, an unknown carrier, an old timestamp.
    let (code, _) = track(
        &app,
        &carrier,
        "easypost",
        "not-the-secret",
        &easypost_event("1Z", 1, false),
    )
    .await;
    assert_eq!(code, 401);
    let (code, _) = post(
        &app,
        &format!("/webhooks/carriers/{}", uuid::Uuid::now_v7()),
        &[],
        b"{}",
    )
    .await;
    assert_eq!(code, 404);

    // No service reaches Germany (domestic zones only): the order is held with the reason.
    let berlin = json!({ "name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postalCode": "10117", "country": "DE" });
    let abroad = kettles(&app, s, "abroad-1", 1, berlin).await;
    drain(&app).await;
    let o = order(&app, s, &abroad).await;
    assert_eq!(o["state"], "ON_HOLD", "{o}");
    assert!(
        o["holdReason"]
            .as_str()
            .unwrap()
            .starts_with("cannot be routed: no carrier service ships from"),
        "{o}"
    );

    // Bad carrier set-up is refused, naming the field.
    let carrier_id = carrier["id"].as_str().unwrap();
    let mut card = rate_card(false);
    card["zones"][0]["brackets"][1]["upToGrams"] = json!(500);
    let bad = app.gql(Some(&s.access), CREATE_SERVICE, json!({ "input": { "carrierId": carrier_id, "code": "bad", "name": "Bad", "currency": "USD", "rateCard": card } })).await;
    assert_eq!(
        bad["data"]["createCarrierService"]["userErrors"][0]["field"],
        json!([
            "input",
            "rateCard",
            "zones",
            "0",
            "brackets",
            "1",
            "upToGrams"
        ])
    );
    let bad = app.gql(Some(&s.access), CREATE_SERVICE, json!({ "input": { "carrierId": carrier_id, "code": "late", "name": "Late", "currency": "USD", "rateCard": rate_card(false), "cutoff": "25:00" } })).await;
    assert_eq!(
        bad["data"]["createCarrierService"]["userErrors"][0]["field"],
        json!(["input", "cutoff"])
    );
    let bad = app.gql(Some(&s.access), "mutation { updateFulfillmentSettings(input: {expressPromiseDays: 9}) { userErrors { field message } } }", json!({})).await;
    assert_eq!(
        bad["data"]["updateFulfillmentSettings"]["userErrors"][0]["field"],
        json!(["input", "expressPromiseDays"])
    );

    // A tenant rule: prefer San Francisco for the US, worth 50 a parcel. The next order ships
    // from there although Louisville is nearer, and the decision says why.
    let set = ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {preferredWarehouses: [{country: \"us\", warehouse: \"west\"}], routingWeights: {shipping: 1, lateDay: 15, workload: 5, extraParcel: 4, preferred: 50}}) { settings { preferredWarehouses { country warehouse } routingWeights { preferred } } userErrors { field message } } }", json!({})).await;
    assert_eq!(
        set["settings"]["preferredWarehouses"],
        json!([{ "country": "US", "warehouse": "WEST" }])
    );
    let preferred = kettles(&app, s, "prefer-1", 1, us_address()).await;
    drain(&app).await;
    let o = order(&app, s, &preferred).await;
    assert_eq!(
        o["routing"]["chosen"]["parcels"][0]["warehouseCode"], "WEST",
        "{o}"
    );
    assert_eq!(o["routing"]["chosen"]["cost"]["preference"], -50.0);
    assert_eq!(
        o["routing"]["alternatives"][0]["parcels"][0]["warehouseCode"],
        "EAST"
    );
    let placed = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { shipments { warehouse { id } } } }",
            json!({ "o": preferred }),
        )
        .await;
    assert_eq!(
        placed["data"]["order"]["shipments"][0]["warehouse"]["id"],
        shop.west.as_str()
    );
}

#[tokio::test]
async fn aftership_and_shippo_bodies_track_and_easypost_verifies_its_published_vector() {
    let app = spawn_app().await;
    let shop = shop(&app, "track-formats", true).await;
    let s = &shop.owner;
    let id = kettles(&app, s, "fmt-1", 1, us_address()).await;
    drain(&app).await;
    let number = order(&app, s, &id).await["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();

    // EasyPost's fixture, signed as EasyPost signs: HMAC-SHA256 under the NFKD form of the
    // secret (its published vector, secret "sécret", is checked in the signature module's
    // tests; a secret that short is refused here, as a merchant's would be).
    let secret = "sécret for the easypost webhook";
    let short = app.gql(Some(&s.access), "mutation($id: ID!) { updateCarrier(input: {id: $id, webhookSecret: \"sécret\"}) { userErrors { field code } } }", json!({ "id": shop.carrier["id"] })).await;
    assert_eq!(
        short["data"]["updateCarrier"]["userErrors"][0]["field"],
        json!(["input", "webhookSecret"]),
        "{short}"
    );
    ok(&app, s, "updateCarrier", "mutation($id: ID!, $w: String!) { updateCarrier(input: {id: $id, webhookSecret: $w}) { carrier { id } userErrors { field message } } }", json!({ "id": shop.carrier["id"], "w": secret })).await;
    let raw = fixture("easypost/event_tracker_updated_in_transit.json");
    let exact = raw.strip_suffix(b"\n").unwrap_or(&raw);
    let path = shop.carrier["trackingWebhookUrl"].as_str().unwrap();
    let sig = {
        use hmac::Mac;
        use unicode_normalization::UnicodeNormalization;
        let key: String = secret.nfkd().collect();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(exact);
        format!(
            "hmac-sha256-hex={}",
            hex::encode(mac.finalize().into_bytes())
        )
    };
    let sig = sig.as_str();
    let (code, body) = post(&app, path, &[("X-Hmac-Signature", sig)], exact).await;
    assert_eq!(
        (code, body["status"].as_str()),
        (200, Some("unknown_tracking_number")),
        "{body}"
    );
    let (code, _) = post(&app, path, &[("X-Hmac-Signature", sig)], &raw).await;
    assert_eq!(code, 401, "with the newline the bytes differ");

    // AfterShip: the recorded tracking as a webhook's msg, for our number.
    ok(&app, s, "updateCarrier", "mutation($id: ID!) { updateCarrier(input: {id: $id, trackingSource: AFTERSHIP, webhookSecret: \"aftership-webhook-secret\"}) { carrier { id } userErrors { field message } } }", json!({ "id": shop.carrier["id"] })).await;
    let mut tracking =
        fixture_json("aftership/tracking_get_fedex_cn_jp_delivered.json")["data"]["tracking"]
            .clone();
    tracking["tracking_number"] = json!(number);
    let body = serde_json::to_vec(&json!({ "event": "tracking_update", "event_id": "e-1", "is_tracking_first_tag": false, "msg": tracking, "ts": 1_532_500_000 })).unwrap();
    let (code, r) = track(
        &app,
        &shop.carrier,
        "aftership",
        "aftership-webhook-secret",
        &body,
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "DELIVERED", "{o}");
    assert!(
        o["shipments"][0]["trackingEvents"]
            .as_array()
            .unwrap()
            .len()
            >= 5
    );

    // Shippo (secret token in the URL): the recorded USPS track, for a second order.
    ok(&app, s, "updateCarrier", "mutation($id: ID!) { updateCarrier(input: {id: $id, trackingSource: SHIPPO, webhookSecret: \"shippo-token-0123456789\"}) { carrier { id } userErrors { field message } } }", json!({ "id": shop.carrier["id"] })).await;
    let second = kettles(&app, s, "fmt-2", 1, us_address()).await;
    drain(&app).await;
    let number = order(&app, s, &second).await["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut track_obj = fixture_json("shippo/track_get_usps_9205590164917337534322.json");
    track_obj["tracking_number"] = json!(number);
    let body =
        serde_json::to_vec(&json!({ "event": "track_updated", "test": false, "data": track_obj }))
            .unwrap();
    let (code, _) = track(&app, &shop.carrier, "shippo", "wrong-token", &body).await;
    assert_eq!(code, 401);
    let (code, r) = track(
        &app,
        &shop.carrier,
        "shippo",
        "shippo-token-0123456789",
        &body,
    )
    .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(order(&app, s, &second).await["state"], "DELIVERED");
    let ignored =
        serde_json::to_vec(&json!({ "event": "transaction_created", "data": {} })).unwrap();
    let (code, r) = track(
        &app,
        &shop.carrier,
        "shippo",
        "shippo-token-0123456789",
        &ignored,
    )
    .await;
    assert_eq!((code, r["status"].as_str()), (200, Some("ignored")));
}

#[tokio::test]
async fn the_watch_flags_late_and_silent_parcels_and_predicts_from_history() {
    let app = spawn_app().await;
    let shop = shop(&app, "watchful", true).await;
    let s = &shop.owner;
    let id = kettles(&app, s, "watch-1", 1, us_address()).await;
    drain(&app).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "SHIPPED");
    let tenant = app
        .gql(Some(&s.access), "{ me { tenant { id } } }", json!({}))
        .await["data"]["me"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = TenantId(orderflow::graphql::relay::decode_id(&tenant, "Tenant", "id").unwrap());
    assert_eq!(
        watch::run(&app.state, tenant).await.unwrap(),
        0,
        "a fresh label is fine"
    );
    // Ten days later, with no scan and the promise passed.
    let db = owner_connection(&app).await;
    let ten_days_ago = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    for sql in [format!(
        "UPDATE shipments SET labelled_at = '{ten_days_ago}', promised_at = '{ten_days_ago}'"
    )] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    db.close().await.ok();
    assert_eq!(watch::run(&app.state, tenant).await.unwrap(), 2);
    assert_eq!(
        watch::run(&app.state, tenant).await.unwrap(),
        0,
        "raised once"
    );
    let o = order(&app, s, &id).await;
    let mut found: Vec<(String, String)> = o["deliveryExceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["recommendedAction"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("LATE".to_owned(), "CONTACT_CARRIER".to_owned()),
            ("LOST".to_owned(), "CONTACT_CARRIER".to_owned())
        ]
    );
    assert!(
        kinds(&o)
            .iter()
            .filter(|k| *k == "shipment.exception")
            .count()
            == 2
    );
    // Delivery settles them.
    let number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    track(
        &app,
        &shop.carrier,
        "easypost",
        CARRIER_SECRET,
        &easypost_event(&number, 7, true),
    )
    .await;
    let open = app.gql(Some(&s.access), "{ deliveryExceptions(first: 10) { edges { node { id } } } all: deliveryExceptions(first: 10, includeResolved: true) { edges { node { resolution } } } }", json!({})).await;
    assert_eq!(open["data"]["deliveryExceptions"]["edges"], json!([]));
    assert_eq!(
        open["data"]["all"]["edges"][0]["node"]["resolution"],
        "delivered"
    );

    // Five more parcels took three days each (our own format, recent dates); a sixth in
    // transit is predicted from them rather than from the carrier's estimate.
    ok(&app, s, "updateCarrier", "mutation($id: ID!) { updateCarrier(input: {id: $id, trackingSource: ORDERFLOW}) { carrier { id } userErrors { field message } } }", json!({ "id": shop.carrier["id"] })).await;
    let now = chrono::Utc::now();
    let scan = |number: &str, status: &str, at: chrono::DateTime<chrono::Utc>| {
        serde_json::to_vec(&json!({ "trackingNumber": number, "status": status, "occurredAt": at.to_rfc3339(), "message": status })).unwrap()
    };
    let mut numbers = Vec::new();
    for i in 0..6 {
        let id = kettles(&app, s, &format!("history-{i}"), 1, us_address()).await;
        drain(&app).await;
        numbers.push((
            id.clone(),
            order(&app, s, &id).await["shipments"][0]["trackingNumber"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    for (_, n) in &numbers[..5] {
        track(
            &app,
            &shop.carrier,
            "orderflow",
            CARRIER_SECRET,
            &scan(n, "in_transit", now - chrono::Duration::days(4)),
        )
        .await;
        let (code, r) = track(
            &app,
            &shop.carrier,
            "orderflow",
            CARRIER_SECRET,
            &scan(n, "delivered", now - chrono::Duration::days(1)),
        )
        .await;
        assert_eq!(code, 200, "{r}");
    }
    let (last_order, last) = &numbers[5];
    let moving = now - chrono::Duration::hours(2);
    track(
        &app,
        &shop.carrier,
        "orderflow",
        CARRIER_SECRET,
        &scan(last, "in_transit", moving),
    )
    .await;
    watch::run(&app.state, tenant).await.unwrap();
    let p = app.gql(Some(&s.access), "query($o: ID!) { order(id: $o) { state shipments { predictedDelivery { at samples basis } } } }", json!({ "o": last_order })).await;
    let pred = &p["data"]["order"]["shipments"][0]["predictedDelivery"];
    assert_eq!(p["data"]["order"]["state"], "IN_TRANSIT");
    assert_eq!(pred["samples"], 5, "{p}");
    assert!(
        pred["basis"]
            .as_str()
            .unwrap()
            .starts_with("5 past deliveries of this service to zone 2"),
        "{pred}"
    );
    let at = chrono::DateTime::parse_from_rfc3339(pred["at"].as_str().unwrap()).unwrap();
    // Three days after it started moving (to the minute: timestamps are stored in µs).
    let minutes = (at.with_timezone(&chrono::Utc) - moving).num_minutes();
    assert!((4319..=4320).contains(&minutes), "{minutes}");
}

/// Tenant isolation of every fulfillment field: a tenant with carriers, shipments, a wave and
/// an exception, and another tenant `b` trying each field on them. Returns the fields covered.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let a = shop(app, "alpha-ships", true).await;
    let s = &a.owner;
    let shipped = kettles(app, s, "alpha-shipped", 1, us_address()).await;
    drain(app).await;
    let o = order(app, s, &shipped).await;
    let labelled = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let number = o["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let label_url = o["shipments"][0]["labelUrl"].as_str().unwrap().to_owned();
    // A returned parcel: an exception.
    let mut e = fixture_json("easypost/event_tracker_updated_in_transit.json");
    e["result"]["tracking_code"] = json!(number);
    e["result"]["status"] = json!("return_to_sender");
    e["result"]["tracking_details"][0]["status"] = json!("return_to_sender");
    track(
        app,
        &a.carrier,
        "easypost",
        CARRIER_SECRET,
        &serde_json::to_vec(&e).unwrap(),
    )
    .await;
    let exception = order(app, s, &shipped).await["deliveryExceptions"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A wave.
    ok(app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {warehouseWorkflow: true}) { userErrors { field message } } }", json!({})).await;
    let waiting = kettles(app, s, "alpha-waiting", 1, us_address()).await;
    drain(app).await;
    let planned = order(app, s, &waiting).await["shipments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let waves = ok(app, s, "createPickWaves", "mutation($w: ID!) { createPickWaves(input: {warehouseId: $w}) { waves { id } userErrors { field message } } }", json!({ "w": a.east })).await;
    let wave = waves["waves"][0]["id"].as_str().unwrap().to_owned();
    let carriers = app
        .gql(
            Some(&s.access),
            "{ carriers { id services { id } } }",
            json!({}),
        )
        .await;
    let carrier = carriers["data"]["carriers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = carriers["data"]["carriers"][0]["services"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = [
        number.as_str(),
        carrier.as_str(),
        labelled.as_str(),
        planned.as_str(),
        wave.as_str(),
        exception.as_str(),
        "A1B2C3",
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
    let vars = json!({ "s": labelled, "p": planned, "w": wave, "c": carrier, "v": service, "e": exception, "h": a.east });
    let mut covered = Vec::new();
    for (field, query) in [
        ("carriers", "{ carriers { id account services { id } } }"),
        (
            "shipment",
            "query($s: ID!) { shipment(id: $s) { id trackingNumber } }",
        ),
        (
            "rateQuote",
            "query($s: ID!) { rateQuote(shipmentId: $s) { options { service } } }",
        ),
        (
            "fulfillmentSettings",
            "{ fulfillmentSettings { warehouseWorkflow } }",
        ),
        (
            "deliveryExceptions",
            "{ deliveryExceptions(first: 100, includeResolved: true) { edges { node { id detail } } } }",
        ),
        (
            "pickWaves",
            "{ pickWaves(first: 100, includeDone: true) { edges { node { id tasks { shipmentId } } } } }",
        ),
        ("pickWave", "query($w: ID!) { pickWave(id: $w) { id } }"),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        no_leak(field, &body);
    }
    let own = app
        .gql(
            Some(&b.access),
            "{ fulfillmentSettings { warehouseWorkflow } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["data"]["fulfillmentSettings"]["warehouseWorkflow"],
        false
    );
    covered.push("testCarrierConnection");
    let tested = app
        .gql(
            Some(&b.access),
            "mutation($c: ID!) { testCarrierConnection(id: $c) { ok message } }",
            vars.clone(),
        )
        .await;
    assert_eq!(
        tested["data"]["testCarrierConnection"],
        json!({ "ok": false, "message": "no such carrier" }),
        "{tested}"
    );
    for (field, query) in [
        (
            "updateCarrier",
            "mutation($c: ID!) { updateCarrier(input: {id: $c, active: false}) { userErrors { code } } }",
        ),
        (
            "createCarrierService",
            "mutation($c: ID!) { createCarrierService(input: {carrierId: $c, code: \"x\", name: \"X\", currency: \"USD\", rateCard: {zones: []}}) { userErrors { code } } }",
        ),
        (
            "updateCarrierService",
            "mutation($v: ID!) { updateCarrierService(input: {id: $v, active: false}) { userErrors { code } } }",
        ),
        (
            "buyShippingLabel",
            "mutation($p: ID!) { buyShippingLabel(input: {shipmentId: $p}) { userErrors { code } } }",
        ),
        (
            "voidShippingLabel",
            "mutation($s: ID!) { voidShippingLabel(input: {shipmentId: $s}) { userErrors { code } } }",
        ),
        (
            "resolveDeliveryException",
            "mutation($e: ID!) { resolveDeliveryException(input: {id: $e, action: REFUND}) { userErrors { code } } }",
        ),
        (
            "createPickWaves",
            "mutation($h: ID!) { createPickWaves(input: {warehouseId: $h}) { userErrors { code } } }",
        ),
        (
            "markPicked",
            "mutation($w: ID!) { markPicked(input: {waveId: $w}) { userErrors { code } } }",
        ),
        (
            "packShipment",
            "mutation($p: ID!) { packShipment(input: {shipmentId: $p, scans: [\"KETTLE-1\"]}) { userErrors { code } } }",
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
    // B's own carrier may share A's code; B's settings change leaves A's alone.
    covered.push("createCarrier");
    ok(
        app,
        b,
        "createCarrier",
        CREATE_CARRIER,
        json!({ "input": { "code": "ups", "name": "UPS", "trackingFormat": "UPS" } }),
    )
    .await;
    covered.push("updateFulfillmentSettings");
    ok(app, b, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {waveSize: 3}) { userErrors { field message } } }", json!({})).await;
    let mine = app
        .gql(
            Some(&s.access),
            "{ fulfillmentSettings { warehouseWorkflow waveSize } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["fulfillmentSettings"],
        json!({ "warehouseWorkflow": true, "waveSize": 20 })
    );
    // Label files too.
    let (code, _) = download(app, b, &label_url).await;
    assert_eq!(code, 404);
    // And A's records are as they were.
    let o = order(app, s, &shipped).await;
    assert_eq!(o["deliveryExceptions"][0]["status"], "OPEN");
    assert_eq!(o["shipments"][0]["trackingNumber"], number.as_str());
    covered
}

#[tokio::test]
async fn two_carriers_of_one_format_never_issue_the_same_number() {
    let app = spawn_app().await;
    let shop = shop(&app, "two-carriers", false).await;
    let s = &shop.owner;
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {autoBuyLabels: false}) { userErrors { field message } } }", json!({})).await;
    let mut services = Vec::new();
    for code in ["parcel-a", "parcel-b"] {
        let c = ok(
            &app,
            s,
            "createCarrier",
            CREATE_CARRIER,
            json!({ "input": { "code": code, "name": code, "trackingFormat": "ORDERFLOW" } }),
        )
        .await;
        let svc = ok(&app, s, "createCarrierService", CREATE_SERVICE, json!({ "input": { "carrierId": c["carrier"]["id"], "code": "ground", "name": "Ground", "currency": "USD", "rateCard": rate_card(false) } })).await;
        services.push(svc["service"]["id"].as_str().unwrap().to_owned());
    }
    // Both accounts at the same serial: the second label would repeat the first's number.
    let db = owner_connection(&app).await;
    db.execute_unprepared("UPDATE carriers SET next_serial = 500")
        .await
        .unwrap();
    db.close().await.ok();
    let mut numbers = Vec::new();
    for (i, service) in services.iter().enumerate() {
        let id = kettles(&app, s, &format!("clash-{i}"), 1, us_address()).await;
        drain(&app).await;
        let o = order(&app, s, &id).await;
        assert_eq!(o["state"], "ROUTED", "{o}");
        let bought = ok(&app, s, "buyShippingLabel", "mutation($s: ID!, $v: ID!) { buyShippingLabel(input: {shipmentId: $s, serviceId: $v}) { shipment { trackingNumber ratePick } order { state } userErrors { field message } } }", json!({ "s": o["shipments"][0]["id"], "v": service })).await;
        assert_eq!(
            (
                bought["order"]["state"].as_str(),
                bought["shipment"]["ratePick"].as_str()
            ),
            (Some("SHIPPED"), Some("staff"))
        );
        numbers.push(
            bought["shipment"]["trackingNumber"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_ne!(numbers[0], numbers[1]);
    for n in &numbers {
        assert!(orderflow::lifecycle::shipping::tracking_number::is_valid(
            orderflow::lifecycle::shipping::tracking_number::TrackingFormat::Orderflow,
            n
        ));
    }
}

#[tokio::test]
async fn cancelling_a_partly_labelled_order_voids_its_label_and_gives_every_unit_back() {
    let app = spawn_app().await;
    let shop = shop(&app, "part-label", true).await;
    let s = &shop.owner;
    ok(&app, s, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {autoBuyLabels: false}) { userErrors { field message } } }", json!({})).await;
    // 15 kettles: 10 at each warehouse, so two parcels.
    let id = kettles(&app, s, "split-15", 15, us_address()).await;
    drain(&app).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "ROUTED", "{o}");
    assert_eq!(o["shipments"].as_array().unwrap().len(), 2);
    let first = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let bought = ok(&app, s, "buyShippingLabel", "mutation($s: ID!) { buyShippingLabel(input: {shipmentId: $s}) { shipment { trackingNumber } order { state } userErrors { field message } } }", json!({ "s": first })).await;
    assert_eq!(bought["order"]["state"], "ROUTED", "one parcel still open");
    ok(&app, s, "cancelOrder", "mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: \"shopper cancelled\"}) { order { state } userErrors { field message } } }", json!({ "o": id })).await;
    let o = order(&app, s, &id).await;
    assert_eq!(o["state"], "CANCELLED");
    let statuses: Vec<&str> = o["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["VOIDED", "VOIDED"]);
    assert!(kinds(&o).contains(&"order.cancelled".to_owned()));
    let levels = app
        .gql(
            Some(&s.access),
            "{ stockLevels(sku: \"KETTLE-1\") { warehouse { code } onHand reserved } }",
            json!({}),
        )
        .await;
    for l in levels["data"]["stockLevels"].as_array().unwrap() {
        assert_eq!(
            (l["onHand"].as_i64(), l["reserved"].as_i64()),
            (Some(10), Some(0)),
            "{l}"
        );
    }
}
