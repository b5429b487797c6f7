//! Refunds over the API: once per intent key however often and however concurrently they are
//! sent, never more than was captured less what was refunded, each booked in the ledger.

use serde_json::{Value, json};

use crate::fulfillment::{kettles, shop, us_address};
use crate::helpers::{Session, TestApp, owner_connection, spawn_app};

pub const REFUND: &str = "mutation($input: RefundOrderInput!) { refundOrder(input: $input) { replayed refund { id amount goods shipping tax method status providerReference idempotencyKey } order { financialStatus refundDue refunds { amount } } userErrors { field code message } } }";

pub async fn refund(app: &TestApp, s: &Session, input: Value) -> Value {
    let body = app
        .gql(Some(&s.access), REFUND, json!({ "input": input }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["refundOrder"].clone()
}

/// Sums of the ledger's lines per account for one order's entries of `kind`.
pub async fn booked(app: &TestApp, order_uuid: &str, kind: &str) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = owner_connection(app).await;
    let backend = db.get_database_backend();
    let (p1, p2) = match backend {
        sea_orm::DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(l.debit_units), 0) AS BIGINT), CAST(COALESCE(SUM(l.credit_units), 0) AS BIGINT), CAST(COUNT(DISTINCT e.id) AS BIGINT) FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id AND l.tenant_id = e.tenant_id WHERE e.order_id = {p1} AND e.kind = {p2}"
    );
    let order: uuid::Uuid = order_uuid.parse().unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [order.into(), kind.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let debit: i64 = row.try_get_by_index(0).unwrap();
    let credit: i64 = row.try_get_by_index(1).unwrap();
    let entries: i64 = row.try_get_by_index(2).unwrap();
    db.close().await.ok();
    assert_eq!(
        debit, credit,
        "the {kind} entries of the order do not balance"
    );
    (debit, entries)
}

pub fn uuid_of(global: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .unwrap();
    String::from_utf8(raw)
        .unwrap()
        .split_once(':')
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn concurrent_and_repeated_refunds_never_pay_more_than_was_captured() {
    let app = spawn_app().await;
    let shop = shop(&app, "refunds", false).await;
    let s = &shop.owner;
    // Two kettles: 80.00 captured.
    let order = kettles(&app, s, "R-1", 2, us_address()).await;
    let uuid = uuid_of(&order);
    // The sale was booked on capture: 80.00 through the processor's clearing account.
    assert_eq!(booked(&app, &uuid, "sale").await, (800_000, 1));

    // The same intent sent six times at once: one refund.
    let same = futures_util::future::join_all((0..6).map(|_| {
        refund(
            &app,
            s,
            json!({ "orderId": order, "amount": "10.00", "reason": "scratched", "idempotencyKey": "intent-1" }),
        )
    }))
    .await;
    let ids: std::collections::HashSet<String> = same
        .iter()
        .map(|r| {
            assert_eq!(r["userErrors"], json!([]), "{r}");
            r["refund"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one refund for one key: {same:?}");
    assert_eq!(
        same.iter()
            .filter(|r| r["replayed"] == json!(false))
            .count(),
        1
    );
    assert_eq!(same[0]["refund"]["status"], "SUCCEEDED");
    assert!(
        same[0]["refund"]["providerReference"]
            .as_str()
            .unwrap()
            .starts_with("rf_")
    );

    // Eight different intents of 30.00 at once against the 70.00 left: two fit.
    let racing = futures_util::future::join_all((0..8).map(|i| {
        refund(
            &app,
            s,
            json!({ "orderId": order, "amount": "30.00", "idempotencyKey": format!("race-{i}") }),
        )
    }))
    .await;
    let made: Vec<&Value> = racing
        .iter()
        .filter(|r| r["userErrors"] == json!([]))
        .collect();
    assert_eq!(made.len(), 2, "{racing:?}");
    for refused in racing.iter().filter(|r| r["userErrors"] != json!([])) {
        let e = &refused["userErrors"][0];
        assert_eq!(e["field"], json!(["input", "amount"]));
        assert_eq!(
            e["message"],
            "at most 10.00 can be refunded (captured 80.00 less 70.00 refunded)"
        );
    }

    // The same key with another amount is a mistake, not a new refund.
    let reused = refund(
        &app,
        s,
        json!({ "orderId": order, "amount": "5.00", "idempotencyKey": "intent-1" }),
    )
    .await;
    assert_eq!(
        reused["userErrors"][0]["field"],
        json!(["input", "idempotencyKey"])
    );
    assert_eq!(reused["userErrors"][0]["code"], "CONFLICT");

    // Shipping cannot be refunded beyond what was charged (none here).
    let shipping = refund(
        &app,
        s,
        json!({ "orderId": order, "amount": "5.00", "shipping": "1.00", "idempotencyKey": "ship-1" }),
    )
    .await;
    assert_eq!(
        shipping["userErrors"][0]["field"],
        json!(["input", "shipping"])
    );

    // The rest, as store credit, without naming the amount.
    let rest = refund(
        &app,
        s,
        json!({ "orderId": order, "method": "STORE_CREDIT", "idempotencyKey": "rest" }),
    )
    .await;
    assert_eq!(rest["userErrors"], json!([]), "{rest}");
    assert_eq!(rest["refund"]["amount"], "10.00");
    assert_eq!(rest["refund"]["method"], "STORE_CREDIT");
    assert_eq!(rest["order"]["financialStatus"], "REFUNDED");
    let sum: f64 = rest["order"]["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum, 80.0);
    let nothing = refund(
        &app,
        s,
        json!({ "orderId": order, "idempotencyKey": "more" }),
    )
    .await;
    assert_eq!(
        nothing["userErrors"][0]["field"],
        json!(["input", "amount"])
    );

    // Booked: 70.00 of money refunds in three entries, 10.00 of store credit in one.
    assert_eq!(booked(&app, &uuid, "refund").await, (700_000, 3));
    assert_eq!(booked(&app, &uuid, "credit_refund").await, (100_000, 1));
    // Each refund is on the timeline.
    let events = app
        .gql(
            Some(&s.access),
            "query($o: ID!) { order(id: $o) { events { kind message } } }",
            json!({ "o": order }),
        )
        .await;
    let issued: Vec<&Value> = events["data"]["order"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "refund.issued")
        .collect();
    assert_eq!(issued.len(), 4, "{events}");
}

#[tokio::test]
async fn the_ledger_refuses_edits_and_deletes() {
    use orderflow::domain::TenantId;
    use orderflow::tenancy::{AnyTx, TenantTx};
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let shop = shop(&app, "append-only", false).await;
    kettles(&app, &shop.owner, "A-1", 1, us_address()).await;
    let owner = owner_connection(&app).await;
    let row = owner
        .query_one_raw(Statement::from_string(
            owner.get_database_backend(),
            "SELECT tenant_id FROM ledger_entries",
        ))
        .await
        .unwrap()
        .expect("the sale was booked");
    let tenant = TenantId(row.try_get_by_index::<uuid::Uuid>(0).unwrap());
    owner.close().await.ok();
    // The application's own transactions (on PostgreSQL, its role) cannot change the books.
    for sql in [
        "UPDATE ledger_lines SET debit_units = debit_units + 1",
        "DELETE FROM ledger_lines",
        "UPDATE ledger_entries SET memo = 'edited'",
        "DELETE FROM ledger_entries",
    ] {
        let tx = TenantTx::begin(&app.state.db, tenant).await.unwrap();
        let backend = tx.conn().get_database_backend();
        let done = tx
            .conn()
            .execute_raw(Statement::from_string(backend, sql))
            .await;
        drop(tx);
        assert!(done.is_err(), "{sql} was allowed");
    }
}
