//! CSV in and out: product and stock imports report every refused row by line and column and
//! keep the rest; the order export streams every matching order.

use orderflow::bulk::import::{self, StockMode};
use orderflow::domain::TenantId;
use orderflow::graphql::relay::decode_id;
use serde_json::json;

use crate::catalog::create_warehouse;
use crate::helpers::{Session, TestApp, spawn_app};
use crate::orders::create_order;

fn write(app: &TestApp, name: &str, body: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(&app.data_dir).unwrap();
    let path = app.data_dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

fn tenant(s: &Session) -> TenantId {
    TenantId(decode_id(&s.tenant_id, "Tenant", "t").unwrap())
}

#[tokio::test]
async fn a_product_import_creates_and_updates_and_reports_each_bad_row() {
    let app = spawn_app().await;
    let owner = app.sign_up("Import Co", "owner@import.example").await;
    let slug = app
        .gql(Some(&owner.access), "{ tenant { slug } }", json!({}))
        .await["data"]["tenant"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(slug, "import-co");
    assert_eq!(
        import::find_tenant(&app.state, &slug).await.unwrap(),
        tenant(&owner)
    );
    assert!(
        import::find_tenant(&app.state, "no-such-shop")
            .await
            .is_err()
    );

    let csv = "product,sku,price,cost,option1_name,option1_value,weight_grams,vendor,tags\n\
               Linen Shirt,SHIRT-S,45.00,12.5,Size,S,220,Atelier,\"linen, summer\"\n\
               Linen Shirt,SHIRT-M,45.00,12.5,Size,M,230,Atelier,\n\
               Linen Shirt,SHIRT-L,forty,12.5,Size,L,240,Atelier,\n\
               Wool Scarf,SCARF-1,30,,,,heavy,,\n\
               Wool Scarf,SCARF-2,30,,Colour,,,,\n\
               Silk Tie,TIE-1,25,,,,,,\n";
    let path = write(&app, "products.csv", csv);
    let report = import::products(&app.state, tenant(&owner), &path)
        .await
        .unwrap();
    assert_eq!(
        (report.rows, report.created, report.updated),
        (6, 3, 0),
        "{report:?}"
    );
    let errors: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        errors,
        vec![(4, "price"), (5, "weight_grams"), (6, "option1_value")],
        "{report:?}"
    );

    // A second import updates by SKU and adds to the existing product.
    let path = write(
        &app,
        "products2.csv",
        "product,sku,price\nLinen Shirt,SHIRT-S,49.00\nLinen Shirt,SHIRT-XL,52.00\n",
    );
    let report = import::products(&app.state, tenant(&owner), &path)
        .await
        .unwrap();
    assert_eq!(
        (report.created, report.updated, report.errors.len()),
        (1, 1, 0)
    );
    let body = app.gql(Some(&owner.access), "{ products(filter: {search: \"linen\"}) { edges { node { title tags variants { sku price title weightGrams } } } } }", json!({})).await;
    let shirts = &body["data"]["products"]["edges"];
    assert_eq!(shirts.as_array().unwrap().len(), 1, "one product: {body}");
    assert_eq!(shirts[0]["node"]["tags"], json!(["linen", "summer"]));
    assert_eq!(
        shirts[0]["node"]["variants"],
        json!([
            { "sku": "SHIRT-S", "price": "49.00", "title": "S", "weightGrams": 220 },
            { "sku": "SHIRT-M", "price": "45.00", "title": "M", "weightGrams": 230 },
            { "sku": "SHIRT-XL", "price": "52.00", "title": "Default", "weightGrams": null },
        ])
    );
    let report_path = import::write_error_report(
        &app.data_dir.join("products.csv"),
        &[import::RowError {
            line: 4,
            column: "price".into(),
            message: "bad".into(),
        }],
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(report_path).unwrap(),
        "line,column,message\n4,price,bad\n"
    );
}

#[tokio::test]
async fn a_stock_import_sets_counts_or_adds_receipts_through_the_ledger() {
    let app = spawn_app().await;
    let owner = app
        .sign_up("Stock Import", "owner@stock-import.example")
        .await;
    create_warehouse(&app, &owner, "MAIN").await;
    let path = write(
        &app,
        "p.csv",
        "product,sku,price\nMug,MUG-1,9\nBowl,BOWL-1,12\n",
    );
    import::products(&app.state, tenant(&owner), &path)
        .await
        .unwrap();

    let path = write(
        &app,
        "stock.csv",
        "sku,warehouse,quantity,bin_location\nMUG-1,main,40,A-01-1\nBOWL-1,MAIN,15,\nNOPE-1,MAIN,3,\nMUG-1,ELSEWHERE,3,\nBOWL-1,MAIN,-2,\n",
    );
    let report = import::stock(&app.state, tenant(&owner), &path, StockMode::Set)
        .await
        .unwrap();
    assert_eq!(report.updated, 2, "{report:?}");
    let errors: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(errors, vec![(4, "sku"), (5, "warehouse"), (6, "quantity")]);

    // A recount to 38 adjusts by −2; the same count again changes nothing; `add` receives.
    let path = write(
        &app,
        "count.csv",
        "sku,warehouse,quantity,reason\nMUG-1,MAIN,38,cycle count\nBOWL-1,MAIN,15,\n",
    );
    let report = import::stock(&app.state, tenant(&owner), &path, StockMode::Set)
        .await
        .unwrap();
    assert_eq!((report.updated, report.unchanged), (1, 1));
    let path = write(
        &app,
        "receipt.csv",
        "sku,warehouse,quantity\nBOWL-1,MAIN,5\n",
    );
    import::stock(&app.state, tenant(&owner), &path, StockMode::Add)
        .await
        .unwrap();

    let body = app.gql(Some(&owner.access), "{ mug: stockLevels(sku: \"MUG-1\") { onHand binLocation } bowl: stockLevels(sku: \"BOWL-1\") { onHand } ledger: inventoryMovements(sku: \"MUG-1\") { edges { node { kind onHandDelta reason } } } }", json!({})).await;
    assert_eq!(
        body["data"]["mug"],
        json!([{ "onHand": 38, "binLocation": "A-01-1" }])
    );
    assert_eq!(body["data"]["bowl"], json!([{ "onHand": 20 }]));
    assert_eq!(
        body["data"]["ledger"]["edges"],
        json!([
            { "node": { "kind": "ADJUSTMENT", "onHandDelta": -2, "reason": "cycle count" } },
            { "node": { "kind": "ADJUSTMENT", "onHandDelta": 40, "reason": "stock import" } },
        ])
    );
}

#[tokio::test]
async fn the_order_export_streams_every_matching_order_as_csv() {
    let app = spawn_app().await;
    let owner = app.sign_up("Export Co", "owner@export.example").await;
    for i in 0..7 {
        create_order(&app, &owner, json!({
            "externalId": format!("E-{i}"), "name": format!("#E{i}"), "email": "buyer@example.com",
            "lines": [{ "sku": "WIDGET", "quantity": i + 1, "unitPrice": "2.50", "title": "Widget" }],
            "tags": if i % 2 == 0 { json!(["even"]) } else { json!([]) },
            "note": if i == 0 { "=HYPERLINK(\"http://evil.example\")" } else { "" }
        })).await;
    }
    let get = |query: &str, token: Option<&str>| {
        let mut req = app
            .client
            .get(app.url(&format!("/exports/orders.csv{query}")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let res = get("", Some(&owner.access)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        orderflow::bulk::export::COLUMNS.to_vec()
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(&rows[2][0], "#E2");
    assert_eq!(&rows[2][12], "7.50", "3 × 2.50");
    assert_eq!(&rows[2][16], "WIDGET x3");
    assert_eq!(&rows[2][15], "even");
    assert_eq!(
        &rows[0][20], "'=HYPERLINK(\"http://evil.example\")",
        "no formula runs in a spreadsheet"
    );

    let even = get("?tag=even&channel=api", Some(&owner.access))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(even.lines().count(), 1 + 4);
    assert_eq!(get("", None).await.unwrap().status(), 401);
    let (_, narrow) = app.create_api_key(&owner, &["CATALOG_READ"]).await;
    assert_eq!(get("", Some(&narrow)).await.unwrap().status(), 403);
    let bad = get("?state=lost", Some(&owner.access)).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("state"));
    // Another tenant exports only its own.
    let other = app.sign_up("Other Co", "owner@other-export.example").await;
    let theirs = get("", Some(&other.access))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(theirs.lines().count(), 1, "only the header");
}

#[tokio::test]
async fn the_export_crosses_batches_without_losing_or_repeating_an_order() {
    use orderflow::lifecycle::capture::service::{Source, capture};
    use orderflow::order::canonical::{CanonicalOrder, Line, Totals};
    use orderflow::tenancy::{Actor, TenantTx};
    let app = spawn_app().await;
    let owner = app.sign_up("Big Export", "owner@big-export.example").await;
    let tx = TenantTx::begin(&app.state.db, tenant(&owner))
        .await
        .unwrap();
    let source = Source {
        channel: "api".into(),
        connection: None,
        actor: Actor::System,
        actor_label: None,
    };
    let one = rust_decimal::Decimal::ONE;
    for i in 0..1_203 {
        let order = CanonicalOrder {
            external_id: format!("B-{i}"),
            name: format!("#B{i}"),
            placed_at: chrono::Utc::now(),
            currency: "USD".into(),
            lines: vec![Line {
                sku: Some("X".into()),
                title: "X".into(),
                quantity: 1,
                unit_price: one,
                requires_shipping: false,
                ..Default::default()
            }],
            totals: Totals {
                subtotal: one,
                total: one,
                ..Default::default()
            },
            ..Default::default()
        };
        capture(&tx, &source, order).await.unwrap();
    }
    tx.commit().await.unwrap();
    let text = app
        .client
        .get(app.url("/exports/orders.csv"))
        .bearer_auth(&owner.access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let names: std::collections::BTreeSet<String> =
        reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(
        text.lines().count(),
        1 + 1_203,
        "one header, then each order once"
    );
    assert_eq!(names.len(), 1_203);
}
