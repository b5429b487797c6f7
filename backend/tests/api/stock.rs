//! Stock changes only through the movement ledger: every level is explained by its movements,
//! concurrent claims on the last units never oversell, and bad requests name their field.

use orderflow::domain::{TenantId, VariantId, WarehouseId};
use orderflow::graphql::relay::decode_id;
use orderflow::lifecycle::inventory::decide::MovementKind;
use orderflow::lifecycle::inventory::repo;
use orderflow::lifecycle::inventory::service::{Move, move_stock};
use orderflow::tenancy::{Actor, TenantTx};
use serde_json::{Value, json};

use crate::catalog::{create_product, create_warehouse};
use crate::helpers::{Session, TestApp, spawn_app};

const ADJUST: &str = "mutation($input: AdjustStockInput!) { adjustStock(input: $input) { stockLevel { onHand reserved available } movement { kind onHandDelta onHandAfter reason actor } userErrors { field code message } } }";
const RECEIVE: &str = "mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { stockLevel { onHand available } movement { kind reference } userErrors { field code message } } }";
const LEVELS: &str = "query($sku: String!) { stockLevels(sku: $sku) { sku warehouse { id name } onHand reserved available binLocation } }";

struct Stocked {
    owner: Session,
    warehouse: String,
    variant: String,
}

async fn stocked(app: &TestApp, slug: &str) -> Stocked {
    let owner = app.sign_up(slug, &format!("owner@{slug}.example")).await;
    let warehouse = create_warehouse(app, &owner, "MAIN").await;
    let body = create_product(
        app,
        &owner,
        json!({ "title": "Kettle", "variants": [{ "sku": "KET-1", "price": "40" }] }),
    )
    .await;
    let variant = body["data"]["createProduct"]["product"]["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Stocked {
        owner,
        warehouse,
        variant,
    }
}

async fn adjust(app: &TestApp, s: &Stocked, delta: i64, reason: Option<&str>) -> Value {
    app.gql(Some(&s.owner.access), ADJUST, json!({ "input": { "sku": "KET-1", "warehouseId": s.warehouse, "delta": delta, "reason": reason } })).await
}

fn ids(s: &Stocked) -> (TenantId, VariantId, WarehouseId) {
    (
        TenantId(decode_id(&s.owner.tenant_id, "Tenant", "t").unwrap()),
        VariantId(decode_id(&s.variant, "Variant", "v").unwrap()),
        WarehouseId(decode_id(&s.warehouse, "Warehouse", "w").unwrap()),
    )
}

#[tokio::test]
async fn receipts_and_adjustments_move_stock_and_write_the_ledger() {
    let app = spawn_app().await;
    let s = stocked(&app, "ledger").await;
    let body = app.gql(Some(&s.owner.access), RECEIVE, json!({ "input": { "sku": "KET-1", "warehouseId": s.warehouse, "quantity": 12, "reference": "PO-1001" } })).await;
    assert_eq!(
        body["data"]["receiveStock"]["stockLevel"],
        json!({ "onHand": 12, "available": 12 }),
        "{body}"
    );
    assert_eq!(
        body["data"]["receiveStock"]["movement"],
        json!({ "kind": "RECEIPT", "reference": "PO-1001" })
    );

    let body = adjust(&app, &s, -2, Some("broken in transit")).await;
    let change = &body["data"]["adjustStock"];
    assert_eq!(
        change["stockLevel"],
        json!({ "onHand": 10, "reserved": 0, "available": 10 })
    );
    assert_eq!(change["movement"]["onHandDelta"], -2);
    assert_eq!(change["movement"]["onHandAfter"], 10);
    assert_eq!(change["movement"]["reason"], "broken in transit");
    assert!(
        change["movement"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("user:")
    );

    // The contract shape of stockLevels.
    let body = app
        .gql(Some(&s.owner.access), LEVELS, json!({ "sku": "KET-1" }))
        .await;
    assert_eq!(
        body["data"]["stockLevels"],
        json!([{ "sku": "KET-1", "warehouse": { "id": s.warehouse, "name": "Warehouse MAIN" }, "onHand": 10, "reserved": 0, "available": 10, "binLocation": null }])
    );
    let body = app
        .gql(Some(&s.owner.access), LEVELS, json!({ "sku": "NO-SUCH" }))
        .await;
    assert_eq!(body["data"]["stockLevels"], json!([]));

    let body = app.gql(Some(&s.owner.access), "{ inventoryMovements(sku: \"KET-1\") { edges { node { kind onHandDelta onHandAfter warehouse { code } } } } }", json!({})).await;
    assert_eq!(
        body["data"]["inventoryMovements"]["edges"],
        json!([
            { "node": { "kind": "ADJUSTMENT", "onHandDelta": -2, "onHandAfter": 10, "warehouse": { "code": "MAIN" } } },
            { "node": { "kind": "RECEIPT", "onHandDelta": 12, "onHandAfter": 12, "warehouse": { "code": "MAIN" } } },
        ])
    );

    // Nested: product → variant → stock, batched.
    let body = app.gql(Some(&s.owner.access), "{ products { edges { node { variants { sku available stockLevels { onHand warehouse { code } } } } } } }", json!({})).await;
    assert_eq!(
        body["data"]["products"]["edges"][0]["node"]["variants"][0],
        json!({ "sku": "KET-1", "available": 10, "stockLevels": [{ "onHand": 10, "warehouse": { "code": "MAIN" } }] })
    );
}

#[tokio::test]
async fn refused_stock_changes_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let s = stocked(&app, "refusals").await;
    adjust(&app, &s, 5, Some("opening count")).await;
    let other_warehouse = orderflow::graphql::relay::global_id("Warehouse", uuid::Uuid::now_v7());
    for (input, field, code) in [
        (
            json!({ "sku": "KET-1", "warehouseId": s.warehouse, "delta": -1 }),
            json!(["input", "reason"]),
            "REQUIRED",
        ),
        (
            json!({ "sku": "KET-1", "warehouseId": s.warehouse, "delta": -1, "reason": "  " }),
            json!(["input", "reason"]),
            "REQUIRED",
        ),
        (
            json!({ "sku": "KET-1", "warehouseId": s.warehouse, "delta": 0, "reason": "x" }),
            json!(["input", "delta"]),
            "INVALID",
        ),
        (
            json!({ "sku": "KET-1", "warehouseId": s.warehouse, "delta": -6, "reason": "count" }),
            json!(["input", "delta"]),
            "INSUFFICIENT_STOCK",
        ),
        (
            json!({ "sku": "NOPE", "warehouseId": s.warehouse, "delta": 1, "reason": "x" }),
            json!(["input", "sku"]),
            "NOT_FOUND",
        ),
        (
            json!({ "sku": "KET-1", "warehouseId": other_warehouse, "delta": 1, "reason": "x" }),
            json!(["input", "warehouseId"]),
            "NOT_FOUND",
        ),
    ] {
        let body = app
            .gql(Some(&s.owner.access), ADJUST, json!({ "input": input }))
            .await;
        let err = &body["data"]["adjustStock"]["userErrors"][0];
        assert_eq!(
            (
                err["field"].clone(),
                err["code"].as_str().unwrap_or_default()
            ),
            (field, code),
            "{input}: {body}"
        );
    }
    let body = app
        .gql(
            Some(&s.owner.access),
            RECEIVE,
            json!({ "input": { "sku": "KET-1", "warehouseId": s.warehouse, "quantity": -3 } }),
        )
        .await;
    assert_eq!(
        body["data"]["receiveStock"]["userErrors"][0]["field"],
        json!(["input", "quantity"]),
        "{body}"
    );

    // Units promised to an order cannot be adjusted away.
    let (tenant, variant, warehouse) = ids(&s);
    let tx = TenantTx::begin(&app.state.db, tenant).await.unwrap();
    move_stock(
        &tx,
        Actor::System,
        Move {
            variant,
            warehouse,
            kind: MovementKind::Reservation,
            quantity: 4,
            reason: None,
            reference: Some("order:1"),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let body = adjust(&app, &s, -2, Some("recount")).await;
    assert_eq!(
        body["data"]["adjustStock"]["userErrors"][0]["code"], "INSUFFICIENT_STOCK",
        "{body}"
    );
    assert!(
        body["data"]["adjustStock"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("reserved"),
        "{body}"
    );

    let body = app
        .gql(Some(&s.owner.access), LEVELS, json!({ "sku": "KET-1" }))
        .await;
    assert_eq!(body["data"]["stockLevels"][0]["onHand"], 5);
    assert_eq!(body["data"]["stockLevels"][0]["reserved"], 4);
    assert_eq!(body["data"]["stockLevels"][0]["available"], 1);
}

#[tokio::test]
async fn concurrent_reservations_never_oversell_and_the_ledger_explains_every_unit() {
    let app = spawn_app().await;
    let s = stocked(&app, "rush").await;
    adjust(&app, &s, 7, Some("opening count")).await;
    let (tenant, variant, warehouse) = ids(&s);

    // 30 orders race for 7 units, one unit each.
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let state = app.state.clone();
            tokio::spawn(async move {
                let tx = TenantTx::begin(&state.db, tenant).await.unwrap();
                let reference = format!("order:{i}");
                let request = Move {
                    variant,
                    warehouse,
                    kind: MovementKind::Reservation,
                    quantity: 1,
                    reason: None,
                    reference: Some(&reference),
                };
                let result = move_stock(&tx, Actor::System, request).await;
                tx.commit().await.unwrap();
                result.is_ok()
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 7, "exactly the units on hand were promised");

    // Ship three, release two, restock one return.
    let tx = TenantTx::begin(&app.state.db, tenant).await.unwrap();
    for (kind, quantity) in [
        (MovementKind::Shipment, 3),
        (MovementKind::Release, 2),
        (MovementKind::ReturnRestock, 1),
    ] {
        move_stock(
            &tx,
            Actor::System,
            Move {
                variant,
                warehouse,
                kind,
                quantity,
                reason: None,
                reference: None,
            },
        )
        .await
        .unwrap();
    }
    // Shipping more than is reserved is refused.
    assert!(
        move_stock(
            &tx,
            Actor::System,
            Move {
                variant,
                warehouse,
                kind: MovementKind::Shipment,
                quantity: 3,
                reason: None,
                reference: None
            }
        )
        .await
        .is_err()
    );
    let level = repo::level(&tx, variant, warehouse)
        .await
        .unwrap()
        .unwrap()
        .level;
    let ledger = repo::ledger_totals(&tx, variant, warehouse).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (5, 2));
    assert_eq!(ledger, level, "the ledger sums to the level");

    let body = app
        .gql(Some(&s.owner.access), LEVELS, json!({ "sku": "KET-1" }))
        .await;
    assert_eq!(body["data"]["stockLevels"][0]["available"], 3);
}

#[tokio::test]
async fn bins_and_low_stock_serve_the_warehouse_floor() {
    let app = spawn_app().await;
    let s = stocked(&app, "floor").await;
    create_product(
        &app,
        &s.owner,
        json!({ "title": "Pan", "variants": [{ "sku": "PAN-1", "price": "25" }] }),
    )
    .await;
    adjust(&app, &s, 2, Some("count")).await;
    app.gql(
        Some(&s.owner.access),
        RECEIVE,
        json!({ "input": { "sku": "PAN-1", "warehouseId": s.warehouse, "quantity": 50 } }),
    )
    .await;

    let set = "mutation($input: SetBinLocationInput!) { setBinLocation(input: $input) { stockLevel { binLocation onHand } userErrors { field code } } }";
    let body = app.gql(Some(&s.owner.access), set, json!({ "input": { "sku": "KET-1", "warehouseId": s.warehouse, "binLocation": " A-03-2 " } })).await;
    assert_eq!(
        body["data"]["setBinLocation"]["stockLevel"],
        json!({ "binLocation": "A-03-2", "onHand": 2 })
    );
    let body = app.gql(Some(&s.owner.access), set, json!({ "input": { "sku": "KET-1", "warehouseId": s.warehouse, "binLocation": "x".repeat(41) } })).await;
    assert_eq!(
        body["data"]["setBinLocation"]["userErrors"][0]["field"],
        json!(["input", "binLocation"])
    );

    let body = app
        .gql(
            Some(&s.owner.access),
            "{ lowStock(threshold: 5) { sku available binLocation } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["lowStock"],
        json!([{ "sku": "KET-1", "available": 2, "binLocation": "A-03-2" }])
    );
}
