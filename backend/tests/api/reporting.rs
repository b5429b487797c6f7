//! KPIs over the API: a small fixed data set — orders made through the product (captured,
//! screened, labelled, tracked, returned, refunded), then dated by hand to fixed instants in
//! October — and every KPI checked against the value worked out below, in the tenant's
//! timezone (New York: an order at 22:30 local time on the 14th is on the 14th, though it is
//! the 15th in UTC).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::engine::{drain, place};
use crate::fulfillment::{kettles, ok, order, shop, us_address};
use crate::helpers::{Session, TestApp, owner_connection, spawn_app};
use crate::refunds::{refund, uuid_of};
use crate::returns::delivered;

const KPIS: &str = "query($f: NaiveDate!, $t: NaiveDate!) { kpis(from: $f, to: $t) { timezone currency period { from to startsAt endsAt } previousPeriod { from to } kpis { ...K } previousKpis { ...K } daily { date kpis { orders cancelledOrders money { currency revenue } } } } } fragment K on Kpis { orders cancelledOrders customers money { currency orders revenue refunded netRevenue averageOrderValue costs costPerOrder customers revenuePerCustomer } ordersShipped processingMedianSeconds processingP90Seconds shipments accurateShipments fulfillmentAccuracy deliveries averageShippingSeconds medianShippingSeconds promisedDeliveries onTimeDeliveries onTimeRate reviews averageRating csat returns returnRate unitsShipped averageOnHand inventoryTurnover supportTickets autoResolvedTickets autoResolutionRate fraudHolds fraudApproved fraudRejected fraudPending fraudAutoRejected }";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Runs `sql` with `?` placeholders (numbered for PostgreSQL) on our own database.
async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> u64 {
    let backend = db.get_database_backend();
    let sql = if backend == sea_orm::DatabaseBackend::Postgres {
        let mut n = 0;
        sql.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        sql.to_owned()
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .unwrap()
        .rows_affected()
}

fn id(global: &str) -> sea_orm::Value {
    uuid_of(global).parse::<uuid::Uuid>().unwrap().into()
}

/// Dates an order: placed and received at `placed`; its parcel shipped, delivered and promised
/// as given, and the stock that left with it when it shipped.
async fn date(
    db: &DatabaseConnection,
    o: &Value,
    placed: &str,
    shipped: Option<&str>,
    delivered: Option<&str>,
    promised: Option<&str>,
) {
    let order = o["id"].as_str().unwrap();
    let t = |s: Option<&str>| -> sea_orm::Value { s.map(at).into() };
    exec(
        db,
        "UPDATE orders SET placed_at = ?, created_at = ? WHERE id = ?",
        vec![at(placed).into(), at(placed).into(), id(order)],
    )
    .await;
    if shipped.is_some() {
        let n = exec(db, "UPDATE shipments SET shipped_at = ?, delivered_at = ?, promised_at = ? WHERE order_id = ?", vec![t(shipped), t(delivered), t(promised), id(order)]).await;
        assert_eq!(n, 1, "one parcel: {o}");
        let name = format!("order {} parcel%", o["name"].as_str().unwrap());
        let n = exec(
            db,
            "UPDATE inventory_movements SET at = ? WHERE kind = 'shipment' AND reference LIKE ?",
            vec![t(shipped), name.into()],
        )
        .await;
        assert_eq!(n, 1, "one shipment movement: {o}");
    }
}

/// A paid order for one unit of `sku` (40.00); a risky one ships to Nigeria, billed in Britain,
/// from a Russian IP address.
async fn one_item(
    app: &TestApp,
    s: &Session,
    external: &str,
    email: &str,
    sku: &str,
    risky: bool,
) -> String {
    let nigeria = json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Lagos", "postalCode": "100001", "country": "NG" });
    let britain = json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Portsmouth", "postalCode": "PO1 3AX", "country": "GB" });
    let (ship_to, bill_to, client) = if risky {
        (
            nigeria,
            britain,
            json!({ "ip": "203.0.113.9", "ipCountry": "RU" }),
        )
    } else {
        (us_address(), us_address(), json!({}))
    };
    place(app, s, json!({
        "externalId": external, "email": email, "firstName": "Grace", "lastName": "Hopper",
        "shippingAddress": ship_to, "billingAddress": bill_to, "client": client,
        "lines": [{ "sku": sku, "quantity": 1 }],
        "payment": { "status": "PAID", "amountCaptured": "40.00", "avsResult": "Y", "cvvResult": "M" }
    }))
    .await
}

async fn kpis(app: &TestApp, s: &Session, from: &str, to: &str) -> Value {
    let body = app
        .gql(Some(&s.access), KPIS, json!({ "f": from, "t": to }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["kpis"].clone()
}

fn near(v: &Value, expected: f64, tolerance: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    assert!(
        (got - expected).abs() <= tolerance,
        "{got} is not {expected} ± {tolerance}"
    );
}

async fn act(app: &TestApp, s: &Session, action: &str, order: &str) {
    let body = app.gql(Some(&s.access), &format!("mutation($o: ID!) {{ {action}(input: {{orderId: $o, reason: \"checked\"}}) {{ userErrors {{ message }} }} }}"), json!({ "o": order })).await;
    assert_eq!(body["data"][action]["userErrors"], json!([]), "{body}");
}

#[tokio::test]
async fn every_kpi_matches_the_value_worked_out_by_hand() {
    let app = spawn_app().await;
    let shop = shop(&app, "kpi", true).await;
    let s = &shop.owner;
    let bad = app.gql(Some(&s.access), "mutation { setTenantTimezone(timezone: \"Mars/Olympus\") { timezone userErrors { field message } } }", json!({})).await;
    assert_eq!(
        bad["data"]["setTenantTimezone"]["userErrors"][0]["field"],
        json!(["input", "timezone"]),
        "{bad}"
    );
    let set = ok(&app, s, "setTenantTimezone", "mutation { setTenantTimezone(timezone: \"America/New_York\") { timezone userErrors { field message } } }", json!({})).await;
    assert_eq!(set["timezone"], "America/New_York");
    ok(&app, s, "updateLifecycleSettings", "mutation { updateLifecycleSettings(input: {fraudReviewScore: 30, fraudRejectScore: 95, highRiskCountries: [\"NG\"]}) { userErrors { field message } } }", json!({})).await;

    // Made through the product, today.
    let o5 = delivered(&app, s, &shop.carrier, "KPI-5", 1).await;
    let o1 = delivered(&app, s, &shop.carrier, "KPI-1", 1).await;
    let o2 = delivered(&app, s, &shop.carrier, "KPI-2", 2).await;
    // O3 is O1's shopper again, for something else.
    let o3 = one_item(
        &app,
        s,
        "KPI-3",
        "KPI-1@shopper.example",
        "SKU2006-020",
        false,
    )
    .await;
    let o4 = one_item(
        &app,
        s,
        "KPI-4",
        "xk83920571@mailinator.com",
        "KETTLE-1",
        true,
    )
    .await;
    let o6 = one_item(
        &app,
        s,
        "KPI-6",
        "zq55120933@mailinator.com",
        "KETTLE-1",
        true,
    )
    .await;
    drain(&app).await;
    for o in [&o4, &o6] {
        assert_eq!(order(&app, s, o).await["state"], "FRAUD_REVIEW");
    }
    act(&app, s, "rejectOrder", &o4).await;
    act(&app, s, "approveOrder", &o6).await;
    drain(&app).await;
    // The wrong kettle came in parcel 1: the shopper's return says so (an exception follows).
    let ret = ok(&app, s, "createReturn", "mutation($i: CreateReturnInput!) { createReturn(input: $i) { return { id status } userErrors { field message } } }", json!({ "i": { "orderId": o1, "lines": [{ "lineIndex": 0, "quantity": 1 }], "reason": "wrong_item" } })).await;
    assert_eq!(ret["return"]["status"], "APPROVED", "{ret}");
    let refunded = refund(
        &app,
        s,
        json!({ "orderId": o2, "idempotencyKey": "kpi-r1", "amount": "10.00", "reason": "late" }),
    )
    .await;
    assert_eq!(refunded["userErrors"], json!([]), "{refunded}");
    // Parcel 3 went out a kettle short, the shopper writes.
    let o3_detail = order(&app, s, &o3).await;
    let shipment3 = o3_detail["shipments"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{o3_detail}"))
        .to_owned();
    let db = owner_connection(&app).await;
    exec(
        &db,
        "UPDATE shipments SET shipped_at = ? WHERE order_id = ?",
        vec![at("2026-10-15T13:00:00Z").into(), id(&o3)],
    )
    .await;
    let report = "mutation($i: ReportFulfillmentErrorInput!) { reportFulfillmentError(input: $i) { exception { kind recommendedAction status } userErrors { field message } } }";
    let blank = app
        .gql(
            Some(&s.access),
            report,
            json!({ "i": { "shipmentId": shipment3, "kind": "MISSING_ITEM", "detail": " " } }),
        )
        .await;
    assert_eq!(
        blank["data"]["reportFulfillmentError"]["userErrors"][0]["field"],
        json!(["input", "detail"])
    );
    let reported = ok(&app, s, "reportFulfillmentError", report, json!({ "i": { "shipmentId": shipment3, "kind": "MISSING_ITEM", "detail": "only the lid arrived" } })).await;
    assert_eq!(
        reported["exception"],
        json!({ "kind": "MISSING_ITEM", "recommendedAction": "RESHIP", "status": "OPEN" })
    );
    let o1_detail = order(&app, s, &o1).await;
    assert_eq!(
        o1_detail["deliveryExceptions"][0]["kind"], "WRONG_ITEM",
        "{o1_detail}"
    );
    // One order stays today's, for the costs the ledger booked today.
    let o7 = kettles(&app, s, "KPI-7", 1, us_address()).await;
    drain(&app).await;

    // Dated by hand. New York is UTC−4 in October.
    //            placed                 shipped                delivered              promised
    // O5 (Q)  10-13 09:00 NY         10-13 21:00 NY (12 h)  10-14 09:00 NY (12 h)  none
    // O6 (Q)  10-13 07:00 NY, held 10-13 08:00 NY and approved
    // O1      10-14 09:00 NY         10-14 15:00 (6 h)      10-15 15:00 (24 h)     10-15 23:00: on time
    // O2      10-14 22:30 NY (15th UTC) 10-15 10:30 (12 h)  10-15 20:30 (10 h)     10-15 12:00: late
    // O3      10-15 08:00 NY         10-15 09:00 (1 h)      —
    // O4      10-15 11:00 NY, held 11:01 and rejected
    let mut detail = std::collections::HashMap::new();
    for o in [&o1, &o2, &o3, &o4, &o5, &o6] {
        detail.insert(o.clone(), order(&app, s, o).await);
    }
    date(
        &db,
        &detail[&o5],
        "2026-10-13T13:00:00Z",
        Some("2026-10-14T01:00:00Z"),
        Some("2026-10-14T13:00:00Z"),
        None,
    )
    .await;
    date(
        &db,
        &detail[&o1],
        "2026-10-14T13:00:00Z",
        Some("2026-10-14T19:00:00Z"),
        Some("2026-10-15T19:00:00Z"),
        Some("2026-10-16T03:00:00Z"),
    )
    .await;
    date(
        &db,
        &detail[&o2],
        "2026-10-15T02:30:00Z",
        Some("2026-10-15T14:30:00Z"),
        Some("2026-10-16T00:30:00Z"),
        Some("2026-10-15T16:00:00Z"),
    )
    .await;
    date(
        &db,
        &detail[&o3],
        "2026-10-15T12:00:00Z",
        Some("2026-10-15T13:00:00Z"),
        None,
        None,
    )
    .await;
    date(&db, &detail[&o4], "2026-10-15T15:00:00Z", None, None, None).await;
    date(&db, &detail[&o6], "2026-10-13T11:00:00Z", None, None, None).await;
    // Held and decided: O4 rejected on the 15th, O6 approved on the 13th.
    for (o, kind, when) in [
        (&o4, "order.fraud_review", "2026-10-15T15:01:00Z"),
        (&o4, "order.rejected", "2026-10-15T16:00:00Z"),
        (&o6, "order.fraud_review", "2026-10-13T12:00:00Z"),
        (&o6, "order.fraud_approved", "2026-10-13T12:30:00Z"),
    ] {
        let n = exec(
            &db,
            "UPDATE order_events SET at = ? WHERE order_id = ? AND kind = ?",
            vec![at(when).into(), id(o), kind.into()],
        )
        .await;
        assert_eq!(n, 1, "{kind}");
    }
    // The stock arrived on October 1st; the return was asked for, and O2's refund made, on the 15th.
    exec(
        &db,
        "UPDATE inventory_movements SET at = ? WHERE kind = 'receipt'",
        vec![at("2026-10-01T00:00:00Z").into()],
    )
    .await;
    exec(
        &db,
        "UPDATE returns SET created_at = ? WHERE order_id = ?",
        vec![at("2026-10-15T20:00:00Z").into(), id(&o1)],
    )
    .await;
    exec(
        &db,
        "UPDATE refunds SET created_at = ? WHERE order_id = ?",
        vec![at("2026-10-15T18:00:00Z").into(), id(&o2)],
    )
    .await;
    let tenant = id(&s.tenant_id);
    // Ratings: 5 and 3 on the 15th; 4 in the previous period.
    for (o, rating, when) in [
        (&o1, 5, "2026-10-15T20:00:00Z"),
        (&o2, 3, "2026-10-15T21:00:00Z"),
        (&o5, 4, "2026-10-13T20:00:00Z"),
    ] {
        exec(&db, "INSERT INTO order_reviews (tenant_id, order_id, rating, comment, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, ?)", vec![tenant.clone(), id(o), rating.into(), at(when).into(), at(when).into()]).await;
    }
    // Two support threads on the 14th: one answered automatically, one for staff.
    for handling in ["auto_replied", "needs_staff"] {
        let when = at("2026-10-14T15:00:00Z");
        exec(&db, "INSERT INTO support_threads (tenant_id, id, customer_id, order_id, email, customer_name, subject, status, intent, confidence, handling, message_count, last_message_at, created_at, updated_at) VALUES (?, ?, NULL, NULL, 'shopper@example.com', NULL, 'Where is my order', 'open', 'where_is_my_order', 90, ?, 1, ?, ?, ?)", vec![tenant.clone(), uuid::Uuid::now_v7().into(), handling.into(), when.into(), when.into(), when.into()]).await;
    }

    let r = kpis(&app, s, "2026-10-14", "2026-10-15").await;
    assert_eq!(r["timezone"], "America/New_York");
    assert_eq!(
        r["period"],
        json!({ "from": "2026-10-14", "to": "2026-10-15", "startsAt": "2026-10-14T04:00:00+00:00", "endsAt": "2026-10-16T04:00:00+00:00" })
    );
    assert_eq!(
        r["previousPeriod"],
        json!({ "from": "2026-10-12", "to": "2026-10-13" })
    );
    let k = &r["kpis"];
    // Orders: O1, O2 (the 14th in New York), O3, O4; O4 rejected.
    assert_eq!(
        (k["orders"].as_i64(), k["cancelledOrders"].as_i64()),
        (Some(4), Some(1)),
        "{k}"
    );
    // Revenue 40 + 80 + 40 = 160 from 2 customers (O1 and O3 are one shopper).
    let usd = &k["money"][0];
    assert_eq!(usd["currency"], "USD");
    assert_eq!(usd["orders"], 3);
    assert_eq!(usd["revenue"], "160.00");
    assert_eq!(usd["refunded"], "10.00");
    assert_eq!(usd["netRevenue"], "150.00");
    assert_eq!(usd["averageOrderValue"], "53.33");
    assert_eq!(
        (k["customers"].as_i64(), usd["customers"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(usd["revenuePerCustomer"], "80.00");
    // Labels were bought today, not in October.
    assert_eq!(usd["costs"], "0.00");
    // Processing: 6 h, 12 h, 1 h → median 6 h, p90 12 h (within 2 %).
    assert_eq!(k["ordersShipped"], 3);
    near(&k["processingMedianSeconds"], 21_600.0, 432.0);
    near(&k["processingP90Seconds"], 43_200.0, 864.0);
    // Accuracy: 3 parcels shipped, O1's (wrong item) and O3's (missing item) reported.
    assert_eq!(
        (k["shipments"].as_i64(), k["accurateShipments"].as_i64()),
        (Some(3), Some(1))
    );
    near(&k["fulfillmentAccuracy"], 1.0 / 3.0, 1e-9);
    // Deliveries: O5 12 h, O1 24 h, O2 10 h → 15 h 20 min on average; 1 of 2 promises kept.
    assert_eq!(k["deliveries"], 3);
    near(&k["averageShippingSeconds"], 55_200.0, 1e-6);
    assert_eq!(
        (
            k["promisedDeliveries"].as_i64(),
            k["onTimeDeliveries"].as_i64()
        ),
        (Some(2), Some(1))
    );
    near(&k["onTimeRate"], 0.5, 1e-9);
    // Ratings 5 and 3: average 4, CSAT 50 %.
    assert_eq!(k["reviews"], 2);
    near(&k["averageRating"], 4.0, 1e-9);
    near(&k["csat"], 0.5, 1e-9);
    // One return for three orders shipped.
    assert_eq!(k["returns"], 1);
    near(&k["returnRate"], 1.0 / 3.0, 1e-9);
    // Stock: 120 units received on the 1st; O5 took 1 on the 13th, O1 1 on the 14th, O2 2 and
    // O3 1 on the 15th (O6 and O7 today): 118 and 115 at the ends of the two days.
    assert_eq!(k["unitsShipped"], 4);
    near(&k["averageOnHand"], 116.5, 1e-9);
    near(&k["inventoryTurnover"], 4.0 / 116.5, 1e-9);
    // Support: 2 threads, 1 answered automatically.
    assert_eq!(
        (
            k["supportTickets"].as_i64(),
            k["autoResolvedTickets"].as_i64()
        ),
        (Some(2), Some(1))
    );
    near(&k["autoResolutionRate"], 0.5, 1e-9);
    // Fraud: O4 held and rejected by staff.
    assert_eq!(
        [
            &k["fraudHolds"],
            &k["fraudApproved"],
            &k["fraudRejected"],
            &k["fraudPending"],
            &k["fraudAutoRejected"]
        ],
        [&json!(1), &json!(0), &json!(1), &json!(0), &json!(0)]
    );

    // The previous period: O5 and O6 placed, O5 shipped in 12 h, O6 held and approved.
    let q = &r["previousKpis"];
    assert_eq!(q["orders"], 2);
    assert_eq!(q["money"][0]["revenue"], "80.00");
    assert_eq!(q["ordersShipped"], 1);
    near(&q["processingMedianSeconds"], 43_200.0, 864.0);
    assert_eq!(
        (q["shipments"].as_i64(), q["deliveries"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (q["reviews"].as_i64(), q["csat"].as_f64()),
        (Some(1), Some(1.0))
    );
    assert_eq!(
        (q["fraudHolds"].as_i64(), q["fraudApproved"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(q["unitsShipped"], 1);
    near(&q["averageOnHand"], 119.5, 1e-9);
    assert_eq!(
        (q["returns"].as_i64(), q["returnRate"].as_f64()),
        (Some(0), Some(0.0))
    );
    assert_eq!(q["onTimeRate"], Value::Null, "no deliveries, no rate");

    // The daily series, New York days.
    assert_eq!(
        r["daily"],
        json!([
            { "date": "2026-10-14", "kpis": { "orders": 2, "cancelledOrders": 0, "money": [{ "currency": "USD", "revenue": "120.00" }] } },
            { "date": "2026-10-15", "kpis": { "orders": 2, "cancelledOrders": 1, "money": [{ "currency": "USD", "revenue": "40.00" }] } }
        ])
    );

    // Costs: every label and fee the ledger booked is today's, and today's one order is O7.
    let ny = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    let today = kpis(
        &app,
        s,
        &(ny - chrono::Days::new(1)).to_string(),
        &ny.to_string(),
    )
    .await;
    let booked = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT CAST(SUM(debit_units - credit_units) AS BIGINT) FROM ledger_lines WHERE account IN ('shipping_cost', 'payment_fees')"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert!(booked > 0, "labels were booked");
    let costs = rust_decimal::Decimal::new(booked, 4)
        .round_dp(2)
        .to_string();
    let t = &today["kpis"]["money"][0];
    assert_eq!(
        (today["kpis"]["orders"].as_i64(), t["orders"].as_i64()),
        (Some(1), Some(1)),
        "{today}"
    );
    assert_eq!(t["costs"], costs);
    assert_eq!(t["costPerOrder"], costs);
    let _ = &o7;

    // October's days are settled: stored, a rating dated then is not seen until the days are
    // computed again.
    exec(&db, "INSERT INTO order_reviews (tenant_id, order_id, rating, comment, created_at, updated_at) VALUES (?, ?, 1, NULL, ?, ?)", vec![tenant.clone(), id(&o3), at("2026-10-15T22:00:00Z").into(), at("2026-10-15T22:00:00Z").into()]).await;
    assert_eq!(
        kpis(&app, s, "2026-10-14", "2026-10-15").await["kpis"]["reviews"],
        2
    );
    let again = ok(&app, s, "recomputeKpis", "mutation { recomputeKpis(from: \"2026-10-15\", to: \"2026-10-15\") { days userErrors { field message } } }", json!({})).await;
    assert_eq!(again["days"], 1);
    let k = kpis(&app, s, "2026-10-14", "2026-10-15").await["kpis"].clone();
    assert_eq!(k["reviews"], 3);
    near(&k["csat"], 1.0 / 3.0, 1e-9);

    // The same as CSV: a row per day, the period and the previous period.
    let csv = app
        .client
        .get(app.url("/exports/kpis.csv?from=2026-10-14&to=2026-10-15"))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name}: {header:?}"))
    };
    let scopes: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(scopes, ["day", "day", "period", "previous"]);
    assert_eq!(rows[2][col("orders")], "4");
    assert_eq!(rows[2][col("revenue_USD")], "160.00");
    assert_eq!(rows[2][col("revenue_per_customer_USD")], "80.00");
    assert_eq!(rows[2][col("on_time_rate")], "0.5000");
    assert_eq!(rows[3][col("revenue_USD")], "80.00");
    assert_eq!(rows[0][col("orders")], "2");
    let bad = app
        .client
        .get(app.url("/exports/kpis.csv?from=2026-13-01&to=2026-10-15"))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("from"));
    let anonymous = app
        .client
        .get(app.url("/exports/kpis.csv?from=2026-10-14&to=2026-10-15"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let long = app
        .gql(
            Some(&s.access),
            KPIS,
            json!({ "f": "2020-01-01", "t": "2026-10-15" }),
        )
        .await;
    assert!(
        long["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 731 days"),
        "{long}"
    );

    // In UTC, O2 (02:30 UTC on the 15th) moves to the 15th: the stored days are recomputed.
    ok(&app, s, "setTenantTimezone", "mutation { setTenantTimezone(timezone: \"UTC\") { timezone userErrors { field message } } }", json!({})).await;
    let utc = kpis(&app, s, "2026-10-14", "2026-10-15").await;
    let per_day: Vec<i64> = utc["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kpis"]["orders"].as_i64().unwrap())
        .collect();
    assert_eq!(per_day, [1, 3]);
    assert_eq!(utc["kpis"]["orders"], 4);

    // The rollup job stores every day from the first order to today.
    let tenant = orderflow::domain::TenantId(uuid_of(&s.tenant_id).parse().unwrap());
    let run = orderflow::reporting::service::roll_up(&app.state, tenant)
        .await
        .unwrap();
    let first = chrono::NaiveDate::from_ymd_opt(2026, 10, 13).unwrap();
    let expected = (chrono::Utc::now().date_naive() - first).num_days() + 1;
    assert_eq!(run.days as i64, expected);
    // The days the reports just computed were fresh: the job left them alone.
    assert!(run.computed < run.days, "{run:?}");
    let again = orderflow::reporting::service::roll_up(&app.state, tenant)
        .await
        .unwrap();
    assert_eq!(again.computed, 0, "nothing is stale right after a run");
    let stored = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) FROM kpi_days",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert!(stored >= expected, "{stored} rows for {expected} days");
    db.close().await.ok();
}

/// Tenant B reads its own KPIs only, and cannot report on A's parcels.
pub async fn isolation_cases(app: &TestApp, b: &Session) -> Vec<&'static str> {
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        (today - chrono::Days::new(1)).to_string(),
        (today + chrono::Days::new(1)).to_string(),
    );
    let before = kpis(app, b, &from, &to).await;
    let a = shop(app, "alpha-kpis", true).await;
    let placed = kettles(app, &a.owner, "alpha-kpi-order", 1, us_address()).await;
    drain(app).await;
    let mine = kpis(app, &a.owner, &from, &to).await;
    assert_eq!(mine["kpis"]["orders"], 1);
    assert_eq!(mine["kpis"]["money"][0]["revenue"], "40.00");
    // B's figures are B's alone: A's order changed none of them.
    let theirs = kpis(app, b, &from, &to).await;
    assert_eq!(theirs["kpis"], before["kpis"]);
    ok(app, b, "setTenantTimezone", "mutation { setTenantTimezone(timezone: \"Asia/Tokyo\") { timezone userErrors { field message } } }", json!({})).await;
    assert_eq!(kpis(app, &a.owner, &from, &to).await["timezone"], "UTC");
    ok(app, b, "recomputeKpis", "mutation($f: NaiveDate!, $t: NaiveDate!) { recomputeKpis(from: $f, to: $t) { days userErrors { field message } } }", json!({ "f": from, "t": to })).await;
    assert_eq!(kpis(app, &a.owner, &from, &to).await["kpis"]["orders"], 1);
    let shipment = order(app, &a.owner, &placed).await["shipments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app.gql(Some(&b.access), "mutation($s: ID!) { reportFulfillmentError(input: {shipmentId: $s, kind: WRONG_ITEM, detail: \"x\"}) { userErrors { code } } }", json!({ "s": shipment })).await;
    assert_eq!(
        crate::helpers::user_error_code(&body, "reportFulfillmentError"),
        "NOT_FOUND",
        "{body}"
    );
    vec![
        "kpis",
        "setTenantTimezone",
        "recomputeKpis",
        "reportFulfillmentError",
    ]
}
