//! A user of tenant B cannot read or change anything of tenant A, through any field of the
//! schema. The test enumerates the schema: a new field without a case here fails it.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::catalog::{create_product, create_warehouse};
use crate::helpers::{PASSWORD, Session, TestApp, spawn_app, user_error_code};
use crate::orders::create_order;
use crate::subscriptions::{AUDIT_EVENTS, next_json, subscribe};
use crate::webhooks::{connect_orders_only, shopify_delivery};

struct TenantA {
    owner: Session,
    staff: Session,
    staff_id: String,
    key_id: String,
    key_secret: String,
    invitation_id: String,
    markers: Vec<String>,
}

async fn tenant_a(app: &TestApp) -> TenantA {
    let owner = app
        .sign_up("Alpha Confidential", "alpha.owner@example.com")
        .await;
    let staff = app
        .add_member(&owner, "alpha.staff@example.com", "STAFF")
        .await;
    let staff_id = app
        .gql(Some(&staff.access), "{ me { id } }", json!({}))
        .await["data"]["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner_id = app
        .gql(Some(&owner.access), "{ me { id } }", json!({}))
        .await["data"]["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key_id, key_secret) = app
        .create_api_key(&owner, &["TENANT_READ", "MEMBERS_READ", "AUDIT_READ"])
        .await;
    let body = app.gql(Some(&owner.access), "mutation { inviteUser(input: {email: \"alpha.pending@example.com\", role: ADMIN}) { invitation { id } } }", json!({})).await;
    let invitation_id = body["data"]["inviteUser"]["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = vec![
        "Alpha Confidential".into(),
        "alpha.owner@example.com".into(),
        "alpha.staff@example.com".into(),
        "alpha.pending@example.com".into(),
        owner.tenant_id.clone(),
        owner_id,
        staff_id.clone(),
        key_id.clone(),
        invitation_id.clone(),
    ];
    TenantA {
        owner,
        staff,
        staff_id,
        key_id,
        key_secret,
        invitation_id,
        markers,
    }
}

fn assert_no_leak(field: &str, body: &Value, a: &TenantA) {
    let text = body.to_string();
    for marker in &a.markers {
        assert!(
            !text.contains(marker.as_str()),
            "{field} leaked {marker:?} of tenant A: {text}"
        );
    }
}

/// Forges a token of `kind` that names tenant A but carries B's random part.
fn retarget(token: &str, a_tenant_gid: &str) -> String {
    let decoded = String::from_utf8(base64_decode(a_tenant_gid)).unwrap();
    let uuid = uuid::Uuid::parse_str(decoded.trim_start_matches("Tenant:")).unwrap();
    let mut parts = token.splitn(3, '_');
    let (kind, _, secret) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    format!("{kind}_{}_{secret}", uuid.simple())
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

async fn schema_fields(app: &TestApp) -> BTreeSet<String> {
    let body = app
        .gql(None, "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }", json!({}))
        .await;
    let mut names = BTreeSet::new();
    for root in ["queryType", "mutationType", "subscriptionType"] {
        for f in body["data"]["__schema"][root]["fields"].as_array().unwrap() {
            names.insert(f["name"].as_str().unwrap().to_owned());
        }
    }
    names
}

#[tokio::test]
async fn tenant_b_can_neither_read_nor_change_tenant_a_through_any_field() {
    let app = spawn_app().await;
    let a = tenant_a(&app).await;
    let b = app.sign_up("Beta", "beta.owner@example.com").await;
    let (_, b_key) = app
        .create_api_key(&b, &["TENANT_READ", "MEMBERS_READ", "AUDIT_READ"])
        .await;
    let mut covered = BTreeSet::new();
    let mut case = |name: &str| {
        covered.insert(name.to_owned());
    };

    // Reads, as B's owner and as B's API key.
    for (field, query) in [
        (
            "me",
            "{ me { id email tenant { id name } memberships { tenant { id name } } } }",
        ),
        ("tenant", "{ tenant { id name } }"),
        (
            "members",
            "{ members(first: 100) { edges { node { id user { email } } } } }",
        ),
        (
            "invitations",
            "{ invitations(first: 100) { edges { node { id email } } } }",
        ),
        (
            "apiKeys",
            "{ apiKeys(first: 100) { edges { node { id name } } } }",
        ),
        (
            "auditLog",
            "{ auditLog(first: 100) { edges { node { id target detail } } } }",
        ),
    ] {
        case(field);
        for token in [&b.access, &b_key] {
            let body = app.gql(Some(token), query, json!({})).await;
            assert_no_leak(field, &body, &a);
        }
    }

    // Public mutations aimed at A.
    case("signUp");
    // A's address with another password: a shop of the caller's own, nothing of A's, and no
    // word on whether the address was registered.
    let body = app.gql(None, "mutation { signUp(input: {tenantName: \"Grab\", email: \"alpha.owner@example.com\", password: \"guessing the password\"}) { accessToken tenant { id } userErrors { code } } }", json!({})).await;
    assert_eq!(body["data"]["signUp"]["userErrors"], json!([]), "{body}");
    assert_ne!(
        body["data"]["signUp"]["tenant"]["id"],
        json!(a.owner.tenant_id)
    );
    assert_no_leak("signUp", &body, &a);

    case("login");
    let body = app
        .login("beta.owner@example.com", PASSWORD, Some(&a.owner.tenant_id))
        .await;
    assert_eq!(user_error_code(&body, "login"), "NOT_A_MEMBER");
    assert_eq!(body["data"]["login"]["accessToken"], json!(null));

    case("switchTenant");
    let body = app.gql(Some(&b.access), "mutation($t: ID!) { switchTenant(input: {tenantId: $t}) { accessToken userErrors { code } } }", json!({ "t": a.owner.tenant_id })).await;
    assert_eq!(user_error_code(&body, "switchTenant"), "NOT_A_MEMBER");

    case("refreshToken");
    let forged = retarget(&b.refresh, &a.owner.tenant_id);
    let body = app.gql(None, "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken userErrors { code } } }", json!({ "t": forged })).await;
    assert_eq!(user_error_code(&body, "refreshToken"), "TOKEN_INVALID");

    case("logout");
    let body = app
        .gql(
            Some(&b.access),
            "mutation($t: String) { logout(input: {refreshToken: $t}) { success } }",
            json!({ "t": forged }),
        )
        .await;
    assert_no_leak("logout", &body, &a);

    case("acceptInvite");
    let body = app.gql(None, "mutation($t: String!) { acceptInvite(input: {token: $t, password: \"whatever you like\"}) { accessToken userErrors { code } } }", json!({ "t": retarget("ofi_x_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &a.owner.tenant_id) })).await;
    assert_eq!(user_error_code(&body, "acceptInvite"), "TOKEN_INVALID");

    // A reset request for A's owner answers as for anyone; a made-up token opens nothing.
    case("requestPasswordReset");
    let body = app.gql(None, "mutation { requestPasswordReset(input: {email: \"alpha.owner@example.com\"}) { success userErrors { code } } }", json!({})).await;
    assert_eq!(
        body["data"]["requestPasswordReset"]["success"], true,
        "{body}"
    );
    assert_no_leak("requestPasswordReset", &body, &a);
    case("resetPassword");
    let body = app.gql(None, "mutation { resetPassword(input: {token: \"made-up\", newPassword: \"taken over at last\"}) { success userErrors { code } } }", json!({})).await;
    assert_eq!(user_error_code(&body, "resetPassword"), "TOKEN_INVALID");

    // A's address cannot be confirmed from B's session: the link is A's (mailed to A), and
    // B's own account is not A's.
    case("verifyEmail");
    let token = app.link_token_for("alpha.owner@example.com", "verify-email?token=");
    let body = app.gql(Some(&b.access), "mutation($t: String!) { verifyEmail(input: {token: $t}) { success userErrors { code } } }", json!({ "t": token })).await;
    assert_eq!(
        user_error_code(&body, "verifyEmail"),
        "TOKEN_INVALID",
        "{body}"
    );
    case("resendVerificationEmail");
    let body = app
        .gql(
            Some(&b.access),
            "mutation { resendVerificationEmail { success userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        user_error_code(&body, "resendVerificationEmail"),
        "INVALID",
        "B's own address is confirmed: {body}"
    );
    assert_no_leak("resendVerificationEmail", &body, &a);

    case("changePassword");
    let body = app.gql(Some(&b.access), "mutation { changePassword(input: {currentPassword: \"correct horse battery\", newPassword: \"beta changed password\"}) { accessToken userErrors { code } } }", json!({})).await;
    assert_eq!(body["data"]["changePassword"]["userErrors"], json!([]));

    // Tenant-scoped mutations with A's ids: each is NOT_FOUND in B's scope.
    case("inviteUser");
    let body = app.gql(Some(&b.access), "mutation { inviteUser(input: {email: \"alpha.staff@example.com\", role: STAFF}) { invitation { email } userErrors { code } } }", json!({})).await;
    assert_eq!(
        body["data"]["inviteUser"]["userErrors"],
        json!([]),
        "A's member is not B's member: {body}"
    );

    for (field, query, id) in [
        (
            "resendInvitation",
            "mutation($id: ID!) { resendInvitation(input: {id: $id}) { invitation { id } userErrors { code } } }",
            &a.invitation_id,
        ),
        (
            "revokeInvitation",
            "mutation($id: ID!) { revokeInvitation(input: {id: $id}) { invitation { id } userErrors { code } } }",
            &a.invitation_id,
        ),
        (
            "revokeApiKey",
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } userErrors { code } } }",
            &a.key_id,
        ),
    ] {
        case(field);
        let body = app.gql(Some(&b.access), query, json!({ "id": id })).await;
        assert_eq!(
            user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
        assert_no_leak(field, &body, &a);
    }
    for (field, query) in [
        (
            "updateMembershipRole",
            "mutation($u: ID!) { updateMembershipRole(input: {userId: $u, role: VIEWER}) { member { id } userErrors { code } } }",
        ),
        (
            "removeMember",
            "mutation($u: ID!) { removeMember(input: {userId: $u}) { member { id } userErrors { code } } }",
        ),
    ] {
        case(field);
        let body = app
            .gql(Some(&b.access), query, json!({ "u": a.staff_id }))
            .await;
        assert_eq!(
            user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
    }

    case("createApiKey");
    let (_, _) = app.create_api_key(&b, &["TENANT_READ"]).await;

    for field in catalog_and_stock(&app, &a.owner, &b).await {
        case(field);
    }
    for field in orders(&app, &a.owner, &b).await {
        case(field);
    }
    for field in channels(&app, &a.owner, &b).await {
        case(field);
    }
    for field in crate::fulfillment::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::notify::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::returns::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::refund_providers::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::outbound::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::automation::isolation_cases(&app, &b).await {
        case(field);
    }
    for field in crate::reporting::isolation_cases(&app, &b).await {
        case(field);
    }

    case("auditEvents");
    let mut ws = subscribe(&app, Some(&b_key), AUDIT_EVENTS).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.create_api_key(&a.owner, &["TENANT_READ"]).await;
    assert_eq!(
        next_json(&mut ws, Duration::from_millis(800)).await,
        None,
        "B hears nothing of A"
    );

    // Every field of the schema had a case.
    let fields = schema_fields(&app).await;
    let missing: Vec<_> = fields.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fields without an isolation case: {missing:?}"
    );

    // And A is exactly as it was.
    let me = app.gql(Some(&a.key_secret), "{ me { id } members { edges { node { id role } } } invitations { edges { node { id status } } } }", json!({})).await;
    assert!(me["errors"].is_null(), "A's key still works: {me}");
    let members = me["data"]["members"]["edges"].as_array().unwrap();
    let staff = members
        .iter()
        .find(|e| e["node"]["id"] == a.staff_id.as_str())
        .expect("A's staff still a member");
    assert_eq!(staff["node"]["role"], "STAFF");
    let invitation = &me["data"]["invitations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == a.invitation_id.as_str())
        .unwrap()["node"];
    assert_eq!(invitation["status"], "PENDING");
    let refreshed = app
        .gql(
            None,
            "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }",
            json!({ "t": a.staff.refresh }),
        )
        .await;
    assert!(
        refreshed["data"]["refreshToken"]["accessToken"].is_string(),
        "A's sessions survive: {refreshed}"
    );
    assert!(
        app.login("alpha.owner@example.com", PASSWORD, None).await["data"]["login"]["accessToken"]
            .is_string()
    );
}

/// Tenant A's catalog and stock, invisible and untouchable from tenant B; returns the fields
/// it covered.
async fn catalog_and_stock(app: &TestApp, a: &Session, b: &Session) -> Vec<&'static str> {
    let warehouse = create_warehouse(app, a, "ALPHAWH").await;
    let body = create_product(app, a, json!({ "title": "Alpha Secret Widget", "variants": [{ "sku": "ALPHA-SKU-1", "price": "99", "barcode": "ALPHABARCODE" }] })).await;
    let product = body["data"]["createProduct"]["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let variant = body["data"]["createProduct"]["product"]["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .gql(
            Some(&a.access),
            "mutation { createSupplier(input: {name: \"Alpha Supplier Co\"}) { supplier { id } } }",
            json!({}),
        )
        .await;
    let supplier = body["data"]["createSupplier"]["supplier"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stock = json!({ "sku": "ALPHA-SKU-1", "warehouseId": warehouse, "quantity": 10 });
    app.gql(Some(&a.access), "mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { userErrors { code } } }", json!({ "input": stock })).await;
    let markers = [
        "Alpha Secret Widget",
        "ALPHA-SKU-1",
        "ALPHABARCODE",
        "Alpha Supplier Co",
        "ALPHAWH",
        &product,
        &variant,
        &warehouse,
        &supplier,
    ];
    let no_leak = |field: &str, body: &Value| {
        let text = body.to_string();
        for marker in markers {
            assert!(
                !text.contains(marker),
                "{field} leaked {marker:?} of tenant A: {text}"
            );
        }
    };
    let (_, b_key) = app
        .create_api_key(
            b,
            &[
                "CATALOG_READ",
                "INVENTORY_READ",
                "CATALOG_MANAGE",
                "INVENTORY_MANAGE",
            ],
        )
        .await;
    let mut covered = Vec::new();

    for (field, query) in [
        (
            "products",
            "{ products(first: 100) { edges { node { id title variants { sku barcode stockLevels { onHand } } } } } }",
        ),
        ("product", "query($p: ID!) { product(id: $p) { title } }"),
        (
            "variant",
            "query($v: ID!) { byId: variant(id: $v) { sku } bySku: variant(sku: \"ALPHA-SKU-1\") { sku } }",
        ),
        (
            "warehouses",
            "{ warehouses(first: 100, includeInactive: true) { edges { node { id code name } } } }",
        ),
        ("warehouse", "query($w: ID!) { warehouse(id: $w) { code } }"),
        (
            "suppliers",
            "{ suppliers(first: 100) { edges { node { id name items { sku } } } } }",
        ),
        ("supplier", "query($s: ID!) { supplier(id: $s) { name } }"),
        (
            "stockLevels",
            "{ stockLevels(sku: \"ALPHA-SKU-1\") { onHand warehouse { code } } }",
        ),
        (
            "lowStock",
            "{ lowStock(threshold: 1000000) { sku onHand } }",
        ),
        (
            "inventoryMovements",
            "{ inventoryMovements(sku: \"ALPHA-SKU-1\") { edges { node { id sku } } } }",
        ),
    ] {
        covered.push(field);
        let vars = json!({ "p": product, "v": variant, "w": warehouse, "s": supplier });
        for token in [&b.access, &b_key] {
            let body = app.gql(Some(token), query, vars.clone()).await;
            assert!(body["errors"].is_null(), "{field}: {body}");
            no_leak(field, &body);
        }
    }

    let vars = json!({ "p": product, "v": variant, "w": warehouse, "s": supplier });
    for (field, query) in [
        (
            "updateProduct",
            "mutation($p: ID!) { updateProduct(input: {id: $p, title: \"Mine\"}) { product { id } userErrors { code } } }",
        ),
        (
            "createVariant",
            "mutation($p: ID!) { createVariant(input: {productId: $p, variant: {sku: \"B-1\", price: \"1\"}}) { variant { id } userErrors { code } } }",
        ),
        (
            "updateVariant",
            "mutation($v: ID!) { updateVariant(input: {id: $v, price: \"0.01\"}) { variant { id } userErrors { code } } }",
        ),
        (
            "updateWarehouse",
            "mutation($w: ID!) { updateWarehouse(input: {id: $w, active: false}) { warehouse { id } userErrors { code } } }",
        ),
        (
            "updateSupplier",
            "mutation($s: ID!) { updateSupplier(input: {id: $s, name: \"Mine\"}) { supplier { id } userErrors { code } } }",
        ),
        (
            "setSupplierItem",
            "mutation($s: ID!) { setSupplierItem(input: {supplierId: $s, sku: \"ALPHA-SKU-1\"}) { supplierItem { sku } userErrors { code } } }",
        ),
        (
            "adjustStock",
            "mutation($w: ID!) { adjustStock(input: {sku: \"ALPHA-SKU-1\", warehouseId: $w, delta: -10, reason: \"theft\"}) { stockLevel { onHand } userErrors { code } } }",
        ),
        (
            "receiveStock",
            "mutation($w: ID!) { receiveStock(input: {sku: \"ALPHA-SKU-1\", warehouseId: $w, quantity: 5}) { stockLevel { onHand } userErrors { code } } }",
        ),
        (
            "setBinLocation",
            "mutation($w: ID!) { setBinLocation(input: {sku: \"ALPHA-SKU-1\", warehouseId: $w, binLocation: \"X\"}) { stockLevel { onHand } userErrors { code } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert_eq!(
            user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
        no_leak(field, &body);
    }

    // B's own catalog may reuse A's codes and SKUs: they are unique per tenant only.
    covered.extend(["createWarehouse", "createProduct", "createSupplier"]);
    create_warehouse(app, b, "ALPHAWH").await;
    let body = create_product(
        app,
        b,
        json!({ "title": "Beta's", "variants": [{ "sku": "ALPHA-SKU-1", "price": "1" }] }),
    )
    .await;
    assert_eq!(
        body["data"]["createProduct"]["userErrors"],
        json!([]),
        "{body}"
    );
    let body = app
        .gql(
            Some(&b.access),
            "mutation { createSupplier(input: {name: \"Beta Supplies\"}) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["createSupplier"]["userErrors"], json!([]));

    // A's stock and catalog are exactly as they were.
    let body = app.gql(Some(&a.access), "{ stockLevels(sku: \"ALPHA-SKU-1\") { onHand binLocation } variant(sku: \"ALPHA-SKU-1\") { price } products { edges { node { title } } } }", json!({})).await;
    assert_eq!(
        body["data"]["stockLevels"],
        json!([{ "onHand": 10, "binLocation": null }])
    );
    assert_eq!(body["data"]["variant"]["price"], "99.00");
    assert_eq!(
        body["data"]["products"]["edges"],
        json!([{ "node": { "title": "Alpha Secret Widget" } }])
    );
    covered
}

/// Tenant A's orders and customers, invisible and untouchable from tenant B.
async fn orders(app: &TestApp, a: &Session, b: &Session) -> Vec<&'static str> {
    let body = create_order(app, a, json!({ "externalId": "ALPHA-ORDER-77", "name": "#ALPHA77", "email": "alpha.shopper@example.com", "lines": [{ "sku": "ALPHA-SKU-1", "quantity": 1 }], "note": "alpha secret note" })).await;
    let order = body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let customer = app
        .gql(
            Some(&a.access),
            "{ customers { edges { node { id } } } }",
            json!({}),
        )
        .await["data"]["customers"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let markers = [
        "ALPHA-ORDER-77",
        "#ALPHA77",
        "alpha.shopper@example.com",
        "alpha secret note",
        &order,
        &customer,
    ];
    let no_leak = |field: &str, body: &Value| {
        let text = body.to_string();
        for marker in markers {
            assert!(
                !text.contains(marker),
                "{field} leaked {marker:?} of tenant A: {text}"
            );
        }
    };
    let (_, b_key) = app
        .create_api_key(b, &["ORDERS_READ", "ORDERS_MANAGE"])
        .await;
    let vars = json!({ "o": order, "c": customer });
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "orders",
            "{ orders(first: 100, filter: {search: \"ALPHA\"}) { edges { node { id name } } } all: orders(first: 100) { edges { node { id name email note } } } }",
        ),
        ("order", "query($o: ID!) { order(id: $o) { name } }"),
        (
            "customers",
            "{ customers(first: 100) { edges { node { id email } } } }",
        ),
        ("customer", "query($c: ID!) { customer(id: $c) { email } }"),
    ] {
        covered.push(field);
        for token in [&b.access, &b_key] {
            let body = app.gql(Some(token), query, vars.clone()).await;
            assert!(body["errors"].is_null(), "{field}: {body}");
            no_leak(field, &body);
        }
    }
    for (field, query) in [
        (
            "updateOrderTags",
            "mutation($o: ID!) { updateOrderTags(input: {orderId: $o, add: [\"b\"]}) { order { id } userErrors { code } } }",
        ),
        (
            "updateOrderNote",
            "mutation($o: ID!) { updateOrderNote(input: {orderId: $o, note: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "resolveOrderIssue",
            "mutation($o: ID!) { resolveOrderIssue(input: {orderId: $o, code: UNKNOWN_SKU, reason: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "approveOrder",
            "mutation($o: ID!) { approveOrder(input: {orderId: $o}) { order { id } userErrors { code } } }",
        ),
        (
            "rejectOrder",
            "mutation($o: ID!) { rejectOrder(input: {orderId: $o, reason: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "holdOrder",
            "mutation($o: ID!) { holdOrder(input: {orderId: $o, reason: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "releaseOrder",
            "mutation($o: ID!) { releaseOrder(input: {orderId: $o}) { order { id } userErrors { code } } }",
        ),
        (
            "cancelOrder",
            "mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "splitOrder",
            "mutation($o: ID!) { splitOrder(input: {orderId: $o, lines: [{lineIndex: 0, quantity: 1}]}) { order { id } userErrors { code } } }",
        ),
        (
            "recordChargeback",
            "mutation($o: ID!) { recordChargeback(input: {orderId: $o, amount: \"1\", reason: \"b\"}) { order { id } userErrors { code } } }",
        ),
        (
            "updateOrderShippingAddress",
            "mutation($o: ID!) { updateOrderShippingAddress(input: {orderId: $o, address: {line1: \"1 B St\", city: \"Paris\", postalCode: \"75001\", country: \"FR\"}}) { order { id } userErrors { code } } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, vars.clone()).await;
        assert_eq!(
            user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
        no_leak(field, &body);
    }
    covered.extend(engine_and_jobs(app, a, b, &b_key).await);

    // B's order with A's external id is B's own; A's order and customer are untouched.
    covered.push("createOrder");
    let body = create_order(app, b, json!({ "externalId": "ALPHA-ORDER-77", "lines": [{ "sku": "B-ONLY", "quantity": 1, "unitPrice": "1" }] })).await;
    assert_eq!(body["data"]["createOrder"]["result"], "CREATED", "{body}");

    covered.push("orderEvents");
    let mut ws = subscribe(
        app,
        Some(&b.access),
        "subscription { orderEvents { kind message } }",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.gql(Some(&a.access), "mutation($o: ID!) { updateOrderTags(input: {orderId: $o, add: [\"seen-by-a-only\"]}) { userErrors { code } } }", json!({ "o": order })).await;
    assert_eq!(
        next_json(&mut ws, Duration::from_millis(800)).await,
        None,
        "B hears nothing of A's orders"
    );

    let body = app.gql(Some(&a.access), "query($o: ID!) { order(id: $o) { note tags lines { sku } customer { history { orderCount } } } }", json!({ "o": order })).await;
    assert_eq!(
        body["data"]["order"],
        json!({ "note": "alpha secret note", "tags": ["seen-by-a-only"], "lines": [{ "sku": "ALPHA-SKU-1" }], "customer": { "history": { "orderCount": 1 } } })
    );
    covered
}

/// Tenant A's channel connections and deliveries, invisible from tenant B; B's secret does
/// not open A's webhook endpoint.
async fn channels(app: &TestApp, a: &Session, b: &Session) -> Vec<&'static str> {
    let c = connect_orders_only(
        app,
        a,
        "SHOPIFY",
        "alpha-secret-shop.myshopify.com",
        "alpha webhook secret 123",
        json!({ "accessToken": "alpha-token" }),
    )
    .await;
    let path = c["webhookUrl"].as_str().unwrap().to_owned();
    let id = c["id"].as_str().unwrap().to_owned();
    let payload = crate::connectors::fixture("shopify/webhook_orders_create.json");
    shopify_delivery(
        app,
        &path,
        "orders/create",
        "alpha-delivery",
        &payload,
        "alpha webhook secret 123",
    )
    .await;
    orderflow::jobs::worker::drain(&app.state).await.unwrap();
    // A listing of A's channel, as a catalog read writes it.
    let a_tenant = orderflow::domain::TenantId(
        orderflow::graphql::relay::decode_id(&a.tenant_id, "Tenant", "t").unwrap(),
    );
    let connection = orderflow::domain::ConnectionId(
        orderflow::graphql::relay::decode_id(&id, "ChannelConnection", "c").unwrap(),
    );
    let tx = orderflow::tenancy::TenantTx::begin(&app.state.db, a_tenant)
        .await
        .unwrap();
    orderflow::channels::stock::listings::import(
        &tx,
        connection,
        &[orderflow::channels::stock::listings::Seen {
            remote_key: "alpha-listing/1".into(),
            product: "alpha-listing".into(),
            variant: Some("1".into()),
            item: None,
            sku: "ALPHA-LISTING-SKU".into(),
            title: "alpha listing title".into(),
            quantity: Some(3),
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let listings = app
        .gql(
            Some(&a.access),
            "query($c: ID!) { channelListings(connectionId: $c) { edges { node { id } } } }",
            json!({ "c": id }),
        )
        .await;
    let listing = listings["data"]["channelListings"]["edges"][0]["node"]["id"].clone();
    assert!(listing.is_string(), "{listings}");
    let markers = [
        "alpha-secret-shop",
        "alpha-delivery",
        &id,
        "ALPHA-LISTING-SKU",
        "alpha-listing",
    ];
    let no_leak = |field: &str, body: &Value| {
        let text = body.to_string();
        for marker in markers {
            assert!(
                !text.contains(marker),
                "{field} leaked {marker:?} of tenant A: {text}"
            );
        }
    };
    let mut covered = Vec::new();
    for (field, query) in [
        (
            "channelConnections",
            "{ channelConnections { id shopDomain } }",
        ),
        (
            "channelConnection",
            "query($c: ID!) { channelConnection(id: $c) { id } }",
        ),
        (
            "channelDeliveries",
            "{ channelDeliveries(first: 100) { edges { node { id deliveryId payload } } } }",
        ),
        (
            "channelSyncLog",
            "query($c: ID!) { channelSyncLog(connectionId: $c) { id summary answer } }",
        ),
        (
            "channelListings",
            "query($c: ID!) { channelListings(connectionId: $c) { edges { node { id sku title remoteProductId } } } }",
        ),
        (
            "channelStockLog",
            "query($c: ID!) { channelStockLog(connectionId: $c) { id summary answer } }",
        ),
    ] {
        covered.push(field);
        let body = app.gql(Some(&b.access), query, json!({ "c": id })).await;
        assert!(body["errors"].is_null(), "{field}: {body}");
        no_leak(field, &body);
    }
    covered.push("updateChannelConnection");
    let body = app.gql(Some(&b.access), "mutation($c: ID!) { updateChannelConnection(input: {id: $c, active: false}) { userErrors { code } } }", json!({ "c": id })).await;
    assert_eq!(
        user_error_code(&body, "updateChannelConnection"),
        "NOT_FOUND"
    );
    covered.push("channelStock");
    let body = app
        .gql(
            Some(&b.access),
            "query($c: ID!) { channelStock(connectionId: $c) { listed matched } }",
            json!({ "c": id }),
        )
        .await;
    assert_eq!(
        body["data"]["channelStock"],
        json!({ "listed": 0, "matched": 0 }),
        "{body}"
    );
    covered.push("mapChannelListing");
    let body = app.gql(Some(&b.access), "mutation($l: ID!) { mapChannelListing(input: {listingId: $l, sku: \"ALPHA-SKU-1\"}) { channelListing { id } userErrors { code } } }", json!({ "l": listing })).await;
    assert_eq!(user_error_code(&body, "mapChannelListing"), "NOT_FOUND");
    covered.push("checkChannelStock");
    let body = app.gql(Some(&b.access), "mutation($c: ID!) { checkChannelStock(input: {connectionId: $c}) { queued userErrors { code } } }", json!({ "c": id })).await;
    assert_eq!(user_error_code(&body, "checkChannelStock"), "NOT_FOUND");
    covered.push("syncChannelConnection");
    let body = app
        .gql(
            Some(&b.access),
            "mutation($c: ID!) { syncChannelConnection(input: {id: $c}) { userErrors { code } } }",
            json!({ "c": id }),
        )
        .await;
    assert_eq!(user_error_code(&body, "syncChannelConnection"), "NOT_FOUND");
    covered.push("reprocessChannelDelivery");
    let deliveries = app
        .gql(
            Some(&a.access),
            "{ channelDeliveries { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let delivery = deliveries["data"]["channelDeliveries"]["edges"][0]["node"]["id"].clone();
    let body = app.gql(Some(&b.access), "mutation($d: ID!) { reprocessChannelDelivery(input: {id: $d}) { userErrors { code } } }", json!({ "d": delivery })).await;
    assert_eq!(
        user_error_code(&body, "reprocessChannelDelivery"),
        "NOT_FOUND"
    );
    covered.push("createChannelConnection");
    let own = connect_orders_only(
        app,
        b,
        "SHOPIFY",
        "alpha-secret-shop.myshopify.com",
        "beta webhook secret 456",
        json!({ "accessToken": "b" }),
    )
    .await;
    assert_ne!(
        own["id"], c["id"],
        "the same shop may be connected by another tenant"
    );
    // B's secret does not sign for A's endpoint.
    let (status, _) = shopify_delivery(
        app,
        &path,
        "orders/create",
        "beta-forged",
        &payload,
        "beta webhook secret 456",
    )
    .await;
    assert_eq!(status, 401);
    covered
}

/// Tenant A's lifecycle settings and background jobs, invisible and untouchable from B. Runs
/// while A's order is the only order (its advance job is the only one of its kind).
async fn engine_and_jobs(
    app: &TestApp,
    a: &Session,
    b: &Session,
    b_key: &str,
) -> Vec<&'static str> {
    let mut covered = vec!["lifecycleSettings", "updateLifecycleSettings"];
    let body = app.gql(Some(&a.access), "mutation { updateLifecycleSettings(input: {highRiskCountries: [\"KP\"], forwarderAddresses: [\"Alpha Secret Forwarder\"]}) { userErrors { code } } }", json!({})).await;
    assert_eq!(
        body["data"]["updateLifecycleSettings"]["userErrors"],
        json!([]),
        "{body}"
    );
    for token in [&b.access, &b_key.to_owned()] {
        let body = app
            .gql(
                Some(token),
                "{ lifecycleSettings { highRiskCountries forwarderAddresses } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["lifecycleSettings"]["highRiskCountries"],
            json!([]),
            "{body}"
        );
        assert!(!body.to_string().contains("Alpha Secret"), "{body}");
    }
    let body = app.gql(Some(&b.access), "mutation { updateLifecycleSettings(input: {highRiskCountries: [\"RU\"]}) { userErrors { code } } }", json!({})).await;
    assert_eq!(
        body["data"]["updateLifecycleSettings"]["userErrors"],
        json!([]),
        "{body}"
    );
    let body = app
        .gql(
            Some(&a.access),
            "{ lifecycleSettings { highRiskCountries } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"]["lifecycleSettings"]["highRiskCountries"],
        json!(["KP"])
    );

    // A's order job dies with a secret in its error.
    let db = crate::helpers::owner_connection(app).await;
    sea_orm::ConnectionTrait::execute_unprepared(&db, "UPDATE jobs SET status = 'dead', last_error = 'alpha secret failure' WHERE kind = 'order.advance'").await.unwrap();
    let body = app
        .gql(
            Some(&a.access),
            "{ deadJobs { edges { node { id lastError } } } }",
            json!({}),
        )
        .await;
    let job = body["data"]["deadJobs"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("A sees its dead job")
        .to_owned();
    covered.extend(["jobQueue", "deadJobs"]);
    let body = app
        .gql(
            Some(&b.access),
            "{ jobQueue { kind ready dead } deadJobs(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["deadJobs"]["edges"], json!([]), "{body}");
    assert!(
        body["data"]["jobQueue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["dead"] == 0),
        "{body}"
    );
    assert!(!body.to_string().contains("alpha secret"), "{body}");
    for field in ["replayJob", "discardJob"] {
        covered.push(field);
        let body = app.gql(Some(&b.access), &format!("mutation($j: ID!) {{ {field}(input: {{jobId: $j}}) {{ job {{ id }} userErrors {{ code }} }} }}"), json!({ "j": job })).await;
        assert_eq!(
            user_error_code(&body, field),
            "NOT_FOUND",
            "{field}: {body}"
        );
    }
    let body = app
        .gql(Some(&a.access), "{ jobQueue { kind dead } }", json!({}))
        .await;
    assert!(
        body["data"]["jobQueue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "order.advance" && k["dead"] == 1),
        "A's dead job is still there: {body}"
    );
    covered
}
