//! The catalog over GraphQL: products with variants, warehouses, suppliers; every bad input
//! answered with the field at fault.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, spawn_app, user_error_code};

pub const CREATE_PRODUCT: &str = "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id title status tags variants { id sku title price cost currency barcode options { name value } weightGrams } } userErrors { field code message } } }";
pub const CREATE_WAREHOUSE: &str = "mutation($input: CreateWarehouseInput!) { createWarehouse(input: $input) { warehouse { id code name active address { line1 city country postalCode } latitude dailyCapacity } userErrors { field code message } } }";

pub async fn create_product(app: &TestApp, session: &Session, input: Value) -> Value {
    app.gql(
        Some(&session.access),
        CREATE_PRODUCT,
        json!({ "input": input }),
    )
    .await
}

pub async fn create_warehouse(app: &TestApp, session: &Session, code: &str) -> String {
    let body = app
        .gql(
            Some(&session.access),
            CREATE_WAREHOUSE,
            json!({ "input": {
                "code": code, "name": format!("Warehouse {code}"),
                "address": { "line1": "1 Dock Road", "city": "Leeds", "postalCode": "LS1 4AP", "country": "gb" },
                "latitude": 53.8, "longitude": -1.55, "dailyCapacity": 500
            }}),
        )
        .await;
    assert_eq!(
        body["data"]["createWarehouse"]["userErrors"],
        json!([]),
        "{body}"
    );
    body["data"]["createWarehouse"]["warehouse"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn errors(body: &Value, mutation: &str) -> Value {
    body["data"][mutation]["userErrors"].clone()
}

#[tokio::test]
async fn a_product_is_created_with_its_variants_and_read_back_exactly() {
    let app = spawn_app().await;
    let owner = app.sign_up("Tees", "owner@tees.example").await;
    let body = create_product(
        &app,
        &owner,
        json!({
            "title": "  Organic Tee ", "vendor": "Acme", "tags": ["summer", "cotton", "summer"],
            "variants": [
                { "sku": "TEE-S", "price": "19.99", "cost": "7.5", "barcode": "0123456789012",
                  "options": [{ "name": "Size", "value": "S" }], "weightGrams": 180 },
                { "sku": "TEE-M", "price": "19.99", "options": [{ "name": "Size", "value": "M" }] }
            ]
        }),
    )
    .await;
    assert_eq!(errors(&body, "createProduct"), json!([]), "{body}");
    let product = &body["data"]["createProduct"]["product"];
    assert_eq!(product["title"], "Organic Tee");
    assert_eq!(product["status"], "ACTIVE");
    assert_eq!(product["tags"], json!(["summer", "cotton"]));
    let variants = product["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["sku"], "TEE-S");
    assert_eq!(variants[0]["title"], "S");
    assert_eq!(variants[0]["price"], "19.99");
    assert_eq!(variants[0]["cost"], "7.50");
    assert_eq!(variants[0]["currency"], "USD");
    assert_eq!(variants[0]["weightGrams"], 180);
    assert_eq!(variants[1]["cost"], Value::Null);

    let id = product["id"].as_str().unwrap();
    let read = app
        .gql(
            Some(&owner.access),
            "query($id: ID!) { product(id: $id) { title vendor variants { sku price } } variant(sku: \"TEE-M\") { title productId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["data"]["product"]["vendor"], "Acme");
    assert_eq!(read["data"]["product"]["variants"][1]["sku"], "TEE-M");
    assert_eq!(read["data"]["variant"]["title"], "M");
    assert_eq!(read["data"]["variant"]["productId"], id);
}

#[tokio::test]
async fn bad_product_input_names_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let owner = app.sign_up("Strict", "owner@strict.example").await;
    let first = create_product(
        &app,
        &owner,
        json!({ "title": "Mug", "variants": [{ "sku": "MUG-1", "price": "9" }] }),
    )
    .await;
    assert_eq!(errors(&first, "createProduct"), json!([]), "{first}");

    for (input, field, code) in [
        (
            json!({ "title": " ", "variants": [{ "sku": "A", "price": "1" }] }),
            json!(["input", "title"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "variants": [] }),
            json!(["input", "variants"]),
            "REQUIRED",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "OK-1", "price": "1" }, { "sku": "MUG-1", "price": "2" }] }),
            json!(["input", "variants", "1", "sku"]),
            "TAKEN",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "D", "price": "1" }, { "sku": "D", "price": "2" }] }),
            json!(["input", "variants", "1", "sku"]),
            "TAKEN",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "N", "price": "-1" }] }),
            json!(["input", "variants", "0", "price"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "P", "price": "1.00001" }] }),
            json!(["input", "variants", "0", "price"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "Q", "price": "1", "cost": "cheap" }] }),
            json!(["input", "variants", "0", "cost"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "R", "price": "twelve" }] }),
            json!(["input", "variants", "0", "price"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": " ", "price": "1" }] }),
            json!(["input", "variants", "0", "sku"]),
            "REQUIRED",
        ),
        (
            json!({ "title": "X", "variants": [{ "sku": "W", "price": "1", "weightGrams": -5 }] }),
            json!(["input", "variants", "0", "weightGrams"]),
            "INVALID",
        ),
        (
            json!({ "title": "X", "tags": [""], "variants": [{ "sku": "T", "price": "1" }] }),
            json!(["input", "tags"]),
            "INVALID",
        ),
    ] {
        let body = create_product(&app, &owner, input.clone()).await;
        let errs = errors(&body, "createProduct");
        assert_eq!(errs[0]["field"], field, "{input}: {body}");
        assert_eq!(errs[0]["code"], code, "{input}: {body}");
        assert_eq!(body["data"]["createProduct"]["product"], Value::Null);
    }
    // Numbers are taken as well as strings.
    let body = create_product(
        &app,
        &owner,
        json!({ "title": "Y", "variants": [{ "sku": "NUM", "price": 4.5 }] }),
    )
    .await;
    assert_eq!(
        body["data"]["createProduct"]["product"]["variants"][0]["price"], "4.50",
        "{body}"
    );

    let all = app
        .gql(
            Some(&owner.access),
            "{ products(first: 100) { edges { node { variants { sku } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["data"]["products"]["edges"].as_array().unwrap().len(),
        2,
        "only the mug and Y: {all}"
    );
}

#[tokio::test]
async fn products_are_searched_by_title_vendor_sku_and_barcode_and_paged() {
    let app = spawn_app().await;
    let owner = app.sign_up("Search", "owner@search.example").await;
    for i in 0..5 {
        let body = create_product(&app, &owner, json!({
            "title": format!("Lamp {i}"), "vendor": if i == 3 { "Lumen_Co" } else { "Other" },
            "status": if i == 4 { "DRAFT" } else { "ACTIVE" },
            "variants": [{ "sku": format!("LAMP-{i}"), "price": "30", "barcode": format!("99{i}") }]
        })).await;
        assert_eq!(errors(&body, "createProduct"), json!([]));
    }
    let search = |q: &str| {
        let q = q.to_owned();
        let app = &app;
        let token = owner.access.clone();
        async move {
            let body = app.gql(Some(&token), "query($q: String) { products(filter: {search: $q}) { edges { node { title } } } }", json!({ "q": q })).await;
            body["data"]["products"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("lamp-2").await, vec!["Lamp 2"], "by SKU, any case");
    assert_eq!(
        search("lumen_").await,
        vec!["Lamp 3"],
        "by vendor, _ taken literally"
    );
    assert_eq!(search("991").await, vec!["Lamp 1"], "by barcode");
    assert_eq!(search("LAMP").await.len(), 5);
    assert_eq!(search("%").await.len(), 0, "% is literal");

    let drafts = app
        .gql(
            Some(&owner.access),
            "{ products(filter: {status: DRAFT}) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        drafts["data"]["products"]["edges"][0]["node"]["title"],
        "Lamp 4"
    );

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.gql(Some(&owner.access), "query($a: String) { products(first: 2, after: $a) { edges { node { title } } pageInfo { hasNextPage endCursor } } }", json!({ "a": after })).await;
        let conn = &page["data"]["products"];
        for e in conn["edges"].as_array().unwrap() {
            seen.push(e["node"]["title"].as_str().unwrap().to_owned());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        vec!["Lamp 4", "Lamp 3", "Lamp 2", "Lamp 1", "Lamp 0"],
        "newest first, each once"
    );
}

#[tokio::test]
async fn variants_are_added_and_changed_with_skus_kept_unique() {
    let app = spawn_app().await;
    let owner = app.sign_up("Variants", "owner@variants.example").await;
    let body = create_product(
        &app,
        &owner,
        json!({ "title": "Cap", "variants": [{ "sku": "CAP-RED", "price": "12" }] }),
    )
    .await;
    let product = body["data"]["createProduct"]["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let red = body["data"]["createProduct"]["product"]["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let add = "mutation($input: CreateVariantInput!) { createVariant(input: $input) { variant { id sku price } userErrors { field code } } }";
    let body = app.gql(Some(&owner.access), add, json!({ "input": { "productId": product, "variant": { "sku": "CAP-BLUE", "price": "12.5" } } })).await;
    assert_eq!(body["data"]["createVariant"]["variant"]["price"], "12.50");
    let body = app.gql(Some(&owner.access), add, json!({ "input": { "productId": product, "variant": { "sku": "CAP-RED", "price": "1" } } })).await;
    assert_eq!(
        body["data"]["createVariant"]["userErrors"][0],
        json!({ "field": ["input", "sku"], "code": "TAKEN" })
    );

    let update = "mutation($input: UpdateVariantInput!) { updateVariant(input: $input) { variant { sku price barcode } userErrors { field code } } }";
    let body = app
        .gql(
            Some(&owner.access),
            update,
            json!({ "input": { "id": red, "sku": "CAP-BLUE" } }),
        )
        .await;
    assert_eq!(user_error_code(&body, "updateVariant"), "TAKEN");
    let body = app
        .gql(
            Some(&owner.access),
            update,
            json!({ "input": { "id": red, "price": "14.00", "barcode": "4006381333931" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateVariant"]["variant"],
        json!({ "sku": "CAP-RED", "price": "14.00", "barcode": "4006381333931" })
    );

    let body = app.gql(Some(&owner.access), "mutation($id: ID!) { updateProduct(input: {id: $id, status: ARCHIVED, title: \"Old cap\"}) { product { title status } userErrors { code } } }", json!({ "id": product })).await;
    assert_eq!(
        body["data"]["updateProduct"]["product"],
        json!({ "title": "Old cap", "status": "ARCHIVED" })
    );
}

#[tokio::test]
async fn warehouses_are_validated_unique_by_code_and_hidden_when_inactive() {
    let app = spawn_app().await;
    let owner = app.sign_up("Depots", "owner@depots.example").await;
    let id = create_warehouse(&app, &owner, "uk-1").await;

    let attempt = |input: Value| {
        let app = &app;
        let token = owner.access.clone();
        async move {
            app.gql(Some(&token), CREATE_WAREHOUSE, json!({ "input": input }))
                .await
        }
    };
    let address = json!({ "line1": "2 Quay", "city": "Hull", "country": "GB" });
    for (input, field, code) in [
        (
            json!({ "code": "UK-1", "name": "Again", "address": address }),
            json!(["input", "code"]),
            "TAKEN",
        ),
        (
            json!({ "code": "bad code!", "name": "X", "address": address }),
            json!(["input", "code"]),
            "INVALID",
        ),
        (
            json!({ "code": "X2", "name": "X", "address": { "line1": "2 Quay", "city": "Hull", "country": "Britain" } }),
            json!(["input", "address", "country"]),
            "INVALID",
        ),
        (
            json!({ "code": "X3", "name": "X", "address": { "line1": " ", "city": "Hull", "country": "GB" } }),
            json!(["input", "address", "line1"]),
            "INVALID",
        ),
        (
            json!({ "code": "X4", "name": "X", "address": address, "latitude": 91.0 }),
            json!(["input", "latitude"]),
            "INVALID",
        ),
        (
            json!({ "code": "X5", "name": "X", "address": address, "dailyCapacity": -1 }),
            json!(["input", "dailyCapacity"]),
            "INVALID",
        ),
    ] {
        let body = attempt(input.clone()).await;
        let err = &body["data"]["createWarehouse"]["userErrors"][0];
        assert_eq!(
            (err["field"].clone(), err["code"].as_str().unwrap()),
            (field, code),
            "{input}: {body}"
        );
    }

    let list = "query($all: Boolean!) { warehouses(includeInactive: $all) { edges { node { code active address { country postalCode } } } } }";
    let body = app
        .gql(Some(&owner.access), list, json!({ "all": false }))
        .await;
    assert_eq!(
        body["data"]["warehouses"]["edges"],
        json!([{ "node": { "code": "UK-1", "active": true, "address": { "country": "GB", "postalCode": "LS1 4AP" } } }])
    );

    let body = app.gql(Some(&owner.access), "mutation($id: ID!) { updateWarehouse(input: {id: $id, active: false, currentWorkload: 40}) { warehouse { active currentWorkload } userErrors { code } } }", json!({ "id": id })).await;
    assert_eq!(
        body["data"]["updateWarehouse"]["warehouse"],
        json!({ "active": false, "currentWorkload": 40 })
    );
    let body = app
        .gql(Some(&owner.access), list, json!({ "all": false }))
        .await;
    assert_eq!(body["data"]["warehouses"]["edges"], json!([]));
    let body = app
        .gql(Some(&owner.access), list, json!({ "all": true }))
        .await;
    assert_eq!(
        body["data"]["warehouses"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn suppliers_record_per_sku_availability_lead_time_minimum_and_cost() {
    let app = spawn_app().await;
    let owner = app.sign_up("Supply", "owner@supply.example").await;
    create_product(
        &app,
        &owner,
        json!({ "title": "Bolt", "variants": [{ "sku": "BOLT-8", "price": "0.40" }] }),
    )
    .await;
    let body = app.gql(Some(&owner.access), "mutation { createSupplier(input: {name: \"Fasteners Ltd\", email: \"Orders@Fasteners.example\", leadTimeDays: 10}) { supplier { id email leadTimeDays } userErrors { code } } }", json!({})).await;
    let supplier = body["data"]["createSupplier"]["supplier"].clone();
    assert_eq!(supplier["email"], "orders@fasteners.example");
    let id = supplier["id"].as_str().unwrap();

    let set = "mutation($input: SetSupplierItemInput!) { setSupplierItem(input: $input) { supplierItem { sku supplierSku availableQuantity leadTimeDays minimumOrderQuantity cost } userErrors { field code } } }";
    let body = app.gql(Some(&owner.access), set, json!({ "input": { "supplierId": id, "sku": "BOLT-8", "supplierSku": "F-8", "availableQuantity": 5000, "minimumOrderQuantity": 100, "cost": "0.1234" } })).await;
    assert_eq!(
        body["data"]["setSupplierItem"]["supplierItem"],
        json!({ "sku": "BOLT-8", "supplierSku": "F-8", "availableQuantity": 5000, "leadTimeDays": 10, "minimumOrderQuantity": 100, "cost": "0.1234" })
    );
    // Setting it again replaces it, with the item's own lead time.
    let body = app.gql(Some(&owner.access), set, json!({ "input": { "supplierId": id, "sku": "BOLT-8", "leadTimeDays": 3, "cost": "0.12" } })).await;
    assert_eq!(
        body["data"]["setSupplierItem"]["supplierItem"]["leadTimeDays"],
        3
    );
    for (input, field, code) in [
        (
            json!({ "supplierId": id, "sku": "NOPE" }),
            json!(["input", "sku"]),
            "NOT_FOUND",
        ),
        (
            json!({ "supplierId": id, "sku": "BOLT-8", "minimumOrderQuantity": 0 }),
            json!(["input", "minimumOrderQuantity"]),
            "INVALID",
        ),
        (
            json!({ "supplierId": id, "sku": "BOLT-8", "availableQuantity": -1 }),
            json!(["input", "availableQuantity"]),
            "INVALID",
        ),
    ] {
        let body = app
            .gql(Some(&owner.access), set, json!({ "input": input }))
            .await;
        assert_eq!(
            body["data"]["setSupplierItem"]["userErrors"][0],
            json!({ "field": field, "code": code }),
            "{body}"
        );
    }
    let body = app
        .gql(
            Some(&owner.access),
            "{ suppliers { edges { node { name items { sku leadTimeDays cost } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["suppliers"]["edges"][0]["node"]["items"],
        json!([{ "sku": "BOLT-8", "leadTimeDays": 3, "cost": "0.12" }])
    );
}
