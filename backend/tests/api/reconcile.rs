//! Payout reconciliation over the API with Stripe's own objects: the fixture charge, dispute,
//! balance transactions and payout are matched to orders, their fees, chargeback and payout
//! booked, the mismatch and the stranger kept as discrepancies and resolved; the ledger
//! balances and exports as CSV.

use serde_json::{Value, json};

use crate::connectors::fixture_json;
use crate::fulfillment::{ok, shop, us_address};
use crate::helpers::{Session, TestApp, spawn_app};
use crate::orders::create_order;
use crate::refunds::refund;

const RUN: &str = "id lines matched discrepancies duplicates csvUrl totals { currency gross fee net } items { lineNo transactionId category status discrepancy expected message gross fee orderId id }";

async fn paid(app: &TestApp, s: &Session, external: &str, price: &str, reference: &str) -> String {
    let body = create_order(
        app,
        s,
        json!({
            "externalId": external, "email": format!("{external}@shopper.example"),
            "shippingAddress": us_address(), "billingAddress": us_address(),
            "lines": [{ "sku": "KETTLE-1", "quantity": 1, "unitPrice": price }],
            "payment": { "status": "PAID", "amountCaptured": price, "reference": reference }
        }),
    )
    .await;
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

async fn import(app: &TestApp, s: &Session, format: &str, content: &str) -> Value {
    let body = app
        .gql(
            Some(&s.access),
            &format!("mutation($i: ImportPayoutReportInput!) {{ importPayoutReport(input: $i) {{ run {{ {RUN} }} userErrors {{ field message }} }} }}"),
            json!({ "i": { "format": format, "content": content, "fileName": "report" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["importPayoutReport"].clone()
}

fn balance(balances: &Value, account: &str) -> String {
    balances["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == account)
        .map(|a| a["balance"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {account} in {balances}"))
}

#[tokio::test]
async fn the_fixture_payout_report_matches_orders_and_surfaces_discrepancies() {
    let app = spawn_app().await;
    let shop = shop(&app, "recon", false).await;
    let s = &shop.owner;
    // Order A was paid by the fixture charge's payment intent; order B by the OpenAPI
    // fixture's charge, but our books say 2.00 where Stripe took 1.00.
    let a = paid(&app, s, "REC-A", "20.00", "pi_fakefakefakefakefake0001").await;
    let b = paid(&app, s, "REC-B", "2.00", "ch_1PgafuB7WZ01zgkWXYmPNZs8").await;

    let objects = json!([
        fixture_json("stripe/djstripe_charge_ch_fakefakefakefakefake0001.json"),
        fixture_json(
            "stripe/djstripe_balance_transaction_txn_fake_ch_fakefakefakefakefake0001.json"
        ),
        fixture_json("stripe/openapi_fixtures3_balance_transaction.json"),
        fixture_json("stripe/djstripe_dispute_dp_fakefakefakefake01.json"),
        fixture_json("stripe/djstripe_payout_custom_bank_account.json"),
    ]);
    let done = import(&app, s, "STRIPE_JSON", &objects.to_string()).await;
    assert_eq!(done["userErrors"], json!([]), "{done}");
    let run = &done["run"];
    assert_eq!(
        (
            run["lines"].as_i64(),
            run["matched"].as_i64(),
            run["discrepancies"].as_i64()
        ),
        (Some(4), Some(3), Some(1)),
        "{run}"
    );
    let items = run["items"].as_array().unwrap();
    let by_txn = |t: &str| {
        items
            .iter()
            .find(|i| i["transactionId"] == t)
            .unwrap_or_else(|| panic!("{t} in {run}"))
    };
    let charge = by_txn("txn_fake_ch_fakefakefakefakefake0001");
    assert_eq!(
        (charge["status"].as_str(), charge["orderId"].as_str()),
        (Some("MATCHED"), Some(a.as_str()))
    );
    assert_eq!(charge["fee"], "0.88");
    let mismatch = by_txn("txn_1PgaxNB7WZ01zgkWEV3TLf40");
    assert_eq!(mismatch["discrepancy"], "AMOUNT_MISMATCH");
    assert_eq!(mismatch["expected"], "2.00");
    assert_eq!(mismatch["orderId"], b.as_str());
    let dispute = by_txn("txn_16g5h62eZvKYlo2CQ2AHA89s");
    assert_eq!(
        (dispute["status"].as_str(), dispute["orderId"].as_str()),
        (Some("MATCHED"), Some(a.as_str()))
    );
    assert_eq!(by_txn("po_1JR569QuFmP1Mw5uxasKoRx5")["status"], "MATCHED");

    // A refund made here, then a CSV report: the refund matches ours, a stranger's charge is
    // unmatched, and the fixture charge already imported is a duplicate that books nothing.
    let r = refund(
        &app,
        s,
        json!({ "orderId": a, "amount": "5.00", "idempotencyKey": "rec-a-1" }),
    )
    .await;
    assert_eq!(r["userErrors"], json!([]), "{r}");
    let csv = "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,description,automatic_payout_id,charge_id,payment_intent_id\n\
               txn_csv_refund,2026-11-20 10:00:00,usd,-5.00,0.00,-5.00,refund,re_csv_1,REFUND FOR CHARGE,po_csv_1,ch_fakefakefakefakefake0001,pi_fakefakefakefakefake0001\n\
               txn_csv_stranger,2026-11-20 11:00:00,usd,12.00,0.65,11.35,charge,ch_stranger,Someone else,po_csv_1,ch_stranger,pi_stranger\n\
               txn_fake_ch_fakefakefakefakefake0001,2019-05-16 08:26:17,usd,20.00,0.88,19.12,charge,ch_fakefakefakefakefake0001,Subscription creation,po_csv_1,ch_fakefakefakefakefake0001,pi_fakefakefakefakefake0001\n";
    let done = import(&app, s, "STRIPE_CSV", csv).await;
    let run2 = &done["run"];
    assert_eq!(
        (
            run2["matched"].as_i64(),
            run2["discrepancies"].as_i64(),
            run2["duplicates"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{run2}"
    );
    let stranger = run2["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["transactionId"] == "txn_csv_stranger")
        .unwrap()
        .clone();
    assert_eq!(stranger["discrepancy"], "UNMATCHED");
    assert!(
        stranger["message"]
            .as_str()
            .unwrap()
            .contains("no order has payment pi_stranger"),
        "{stranger}"
    );

    // A file that cannot be read is refused whole, naming the line.
    let bad = import(&app, s, "STRIPE_CSV", "balance_transaction_id,currency,gross,fee,reporting_category\ntxn_x,usd,1.00,0,charge\ntxn_y,usd,twelve,0,charge\n").await;
    assert_eq!(bad["userErrors"][0]["field"], json!(["input", "content"]));
    assert!(
        bad["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 3: gross \"twelve\""),
        "{bad}"
    );

    // Two open discrepancies; write off the mismatch, accept the stranger with a note.
    let open = app
        .gql(
            Some(&s.access),
            "{ discrepancies(first: 10) { edges { node { id transactionId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        open["data"]["discrepancies"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{open}"
    );
    let resolve = "mutation($i: ResolveDiscrepancyInput!) { resolveDiscrepancy(input: $i) { item { resolution resolutionNote } userErrors { field code message } } }";
    let w = ok(&app, s, "resolveDiscrepancy", resolve, json!({ "i": { "itemId": mismatch["id"], "resolution": "WRITTEN_OFF", "note": "test charge, amount changed on Stripe" } })).await;
    assert_eq!(w["item"]["resolution"], "WRITTEN_OFF");
    ok(&app, s, "resolveDiscrepancy", resolve, json!({ "i": { "itemId": stranger["id"], "resolution": "ACCEPTED", "note": "another shop's charge on the shared account" } })).await;
    let again = app
        .gql(
            Some(&s.access),
            resolve,
            json!({ "i": { "itemId": stranger["id"], "resolution": "ACCEPTED" } }),
        )
        .await;
    assert_eq!(
        again["data"]["resolveDiscrepancy"]["userErrors"][0]["code"],
        "CONFLICT"
    );
    let open = app
        .gql(
            Some(&s.access),
            "{ discrepancies(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(open["data"]["discrepancies"]["edges"], json!([]));

    // The books balance; the processor's clearing account is what Stripe holds by our books:
    // 22.00 sold − 5.00 refunded − 0.88 fee − 25.00 chargeback and its fee − 10.00 paid out
    // − 25.47 paid out for the CSV's lines − 1.00 written off.
    let balances = app
        .gql(
            Some(&s.access),
            "{ ledgerBalances { balanced accounts { account currency debit credit balance } } }",
            json!({}),
        )
        .await;
    let balances = &balances["data"]["ledgerBalances"];
    assert_eq!(balances["balanced"], true, "{balances}");
    assert_eq!(balance(balances, "PAYMENT_FEES"), "0.88");
    assert_eq!(balance(balances, "CHARGEBACKS"), "25.00");
    assert_eq!(balance(balances, "RECONCILIATION_ADJUSTMENTS"), "1.00");
    // po_csv_1 had no line of its own: its itemized lines' net (−5.00 + 11.35 + 19.12) was
    // booked as paid out.
    assert_eq!(balance(balances, "BANK"), "35.47");
    assert_eq!(balance(balances, "PROCESSOR_CLEARING"), "-45.35");

    // The order's entries, and the one correction the ledger allows.
    let entries = app.gql(Some(&s.access), "query($o: ID!) { ledgerEntries(first: 20, orderId: $o) { edges { node { id kind lines { account debit credit } } } } }", json!({ "o": a })).await;
    let kinds: Vec<&str> = entries["data"]["ledgerEntries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    for k in ["sale", "fee", "chargeback", "refund"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let fee = entries["data"]["ledgerEntries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["kind"] == "fee")
        .unwrap()["node"]["id"]
        .clone();
    let reverse = "mutation($e: ID!) { reverseLedgerEntry(input: {entryId: $e, reason: \"fee refunded by Stripe\"}) { entry { kind reversesId lines { account debit credit } } userErrors { code message } } }";
    let reversed = ok(&app, s, "reverseLedgerEntry", reverse, json!({ "e": fee })).await;
    assert_eq!(reversed["entry"]["reversesId"], fee);
    let twice = app.gql(Some(&s.access), reverse, json!({ "e": fee })).await;
    assert_eq!(
        twice["data"]["reverseLedgerEntry"]["userErrors"][0]["code"],
        "CONFLICT"
    );

    // CSV exports, authenticated like /graphql.
    let ledger = app
        .client
        .get(app.url("/exports/ledger.csv"))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(ledger.status(), 200);
    let text = ledger.text().await.unwrap();
    assert!(text.starts_with("entry_id,effective_at,recorded_at,kind,memo,source_kind,source_id,order_id,reverses,account,debit,credit"));
    assert!(
        text.contains(",payment_fees,0.88,0.00") && text.contains(",chargebacks,25.00,0.00"),
        "{text}"
    );
    let anonymous = app
        .client
        .get(app.url("/exports/ledger.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let report = app
        .client
        .get(app.url(run["csvUrl"].as_str().unwrap()))
        .bearer_auth(&s.access)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let text = report.text().await.unwrap();
    assert!(
        text.contains("txn_1PgaxNB7WZ01zgkWEV3TLf40")
            && text.contains("amount_mismatch")
            && text.contains("written_off"),
        "{text}"
    );
}
