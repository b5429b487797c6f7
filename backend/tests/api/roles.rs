//! Every guarded field, tried as every role and as API keys: allowed exactly when the
//! permission table says so.

use orderflow::graphql::relay::global_id;
use orderflow::tenancy::{Permission, Role};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Session, TestApp, error_code, spawn_app};

/// (field, permission it needs, an operation calling it that changes nothing when allowed)
pub fn guarded_operations() -> Vec<(&'static str, Permission, String)> {
    let nobody = global_id("User", Uuid::now_v7());
    let no_key = global_id("ApiKey", Uuid::now_v7());
    let no_invitation = global_id("Invitation", Uuid::now_v7());
    vec![
        ("me", Permission::TenantRead, "{ me { id } }".into()),
        (
            "tenant",
            Permission::TenantRead,
            "{ tenant { id name } }".into(),
        ),
        (
            "members",
            Permission::MembersRead,
            "{ members { edges { node { id } } } }".into(),
        ),
        (
            "invitations",
            Permission::MembersRead,
            "{ invitations { edges { node { id } } } }".into(),
        ),
        (
            "apiKeys",
            Permission::ApiKeysManage,
            "{ apiKeys { edges { node { id } } } }".into(),
        ),
        (
            "auditLog",
            Permission::AuditRead,
            "{ auditLog { edges { node { id } } } }".into(),
        ),
        (
            "inviteUser",
            Permission::MembersManage,
            "mutation { inviteUser(input: {email: \"bad\", role: STAFF}) { userErrors { code } } }"
                .into(),
        ),
        (
            "resendInvitation",
            Permission::MembersManage,
            format!(
                "mutation {{ resendInvitation(input: {{id: \"{}\"}}) {{ userErrors {{ code }} }} }}",
                no_invitation.as_str()
            ),
        ),
        (
            "revokeInvitation",
            Permission::MembersManage,
            format!(
                "mutation {{ revokeInvitation(input: {{id: \"{}\"}}) {{ userErrors {{ code }} }} }}",
                no_invitation.as_str()
            ),
        ),
        (
            "createApiKey",
            Permission::ApiKeysManage,
            "mutation { createApiKey(input: {name: \"\", scopes: []}) { userErrors { code } } }"
                .into(),
        ),
        (
            "revokeApiKey",
            Permission::ApiKeysManage,
            format!(
                "mutation {{ revokeApiKey(input: {{id: \"{}\"}}) {{ userErrors {{ code }} }} }}",
                no_key.as_str()
            ),
        ),
        (
            "updateMembershipRole",
            Permission::MembersManage,
            format!(
                "mutation {{ updateMembershipRole(input: {{userId: \"{}\", role: STAFF}}) {{ userErrors {{ code }} }} }}",
                nobody.as_str()
            ),
        ),
        (
            "removeMember",
            Permission::MembersManage,
            format!(
                "mutation {{ removeMember(input: {{userId: \"{}\"}}) {{ userErrors {{ code }} }} }}",
                nobody.as_str()
            ),
        ),
    ]
    .into_iter()
    .chain(catalog_and_stock_operations())
    .chain(order_operations())
    .chain(channel_operations())
    .chain(notify_operations())
    .chain(money_operations())
    .chain(webhook_operations())
    .collect()
}

/// Outbound webhooks, automation rules and reports: reads, and writes refused for their input
/// or unknown ids.
fn webhook_operations() -> Vec<(&'static str, Permission, String)> {
    use Permission::SettingsManage;
    let w = global_id("WebhookSubscription", Uuid::now_v7());
    let d = global_id("WebhookDelivery", Uuid::now_v7());
    let a = global_id("AutomationRule", Uuid::now_v7());
    let s = global_id("Shipment", Uuid::now_v7());
    let t = global_id("StaffTask", Uuid::now_v7());
    let (w, d, a, s, t) = (w.as_str(), d.as_str(), a.as_str(), s.as_str(), t.as_str());
    vec![
        ("webhookSubscriptions", SettingsManage, "{ webhookSubscriptions { id } }".into()),
        ("webhookDeliveries", SettingsManage, "{ webhookDeliveries { edges { node { id } } } }".into()),
        ("createWebhookSubscription", SettingsManage, "mutation { createWebhookSubscription(input: {url: \"http://x\", events: []}) { userErrors { code } } }".into()),
        ("updateWebhookSubscription", SettingsManage, format!("mutation {{ updateWebhookSubscription(input: {{id: \"{w}\"}}) {{ userErrors {{ code }} }} }}")),
        ("rotateWebhookSecret", SettingsManage, format!("mutation {{ rotateWebhookSecret(input: {{id: \"{w}\"}}) {{ userErrors {{ code }} }} }}")),
        ("deleteWebhookSubscription", SettingsManage, format!("mutation {{ deleteWebhookSubscription(input: {{id: \"{w}\"}}) {{ userErrors {{ code }} }} }}")),
        ("redeliverWebhook", SettingsManage, format!("mutation {{ redeliverWebhook(input: {{deliveryId: \"{d}\"}}) {{ userErrors {{ code }} }} }}")),
        ("automationRules", SettingsManage, "{ automationRules { id } }".into()),
        ("automationRuns", SettingsManage, "{ automationRuns { edges { node { id } } } }".into()),
        ("saveAutomationRule", SettingsManage, "mutation { saveAutomationRule(input: {name: \"\", trigger: \"*\", condition: \"\", actions: []}) { userErrors { code } } }".into()),
        ("deleteAutomationRule", SettingsManage, format!("mutation {{ deleteAutomationRule(input: {{id: \"{a}\"}}) {{ userErrors {{ code }} }} }}")),
        ("dryRunAutomationRule", SettingsManage, "mutation { dryRunAutomationRule(input: {trigger: \"*\", condition: \"\"}) { userErrors { code } } }".into()),
        ("staffTasks", Permission::OrdersRead, "{ staffTasks { id } }".into()),
        ("completeStaffTask", Permission::OrdersManage, format!("mutation {{ completeStaffTask(input: {{id: \"{t}\"}}) {{ userErrors {{ code }} }} }}")),
        ("kpis", Permission::ReportsRead, "{ kpis(from: \"2026-01-01\", to: \"2026-01-02\") { timezone } }".into()),
        ("setTenantTimezone", SettingsManage, "mutation { setTenantTimezone(timezone: \"Nowhere/None\") { userErrors { code } } }".into()),
        ("recomputeKpis", SettingsManage, "mutation { recomputeKpis(from: \"2026-01-02\", to: \"2026-01-01\") { userErrors { code } } }".into()),
        ("reportFulfillmentError", Permission::OrdersManage, format!("mutation {{ reportFulfillmentError(input: {{shipmentId: \"{s}\", kind: WRONG_ITEM, detail: \"x\"}}) {{ userErrors {{ code }} }} }}")),
    ]
}

/// Returns, refunds, the ledger and reconciliation: reads, and writes refused for their input
/// or unknown ids.
fn money_operations() -> Vec<(&'static str, Permission, String)> {
    use Permission::{
        FinanceManage, FinanceRead, OrdersManage, OrdersRead, RefundsIssue, SettingsManage,
    };
    let r = global_id("Return", Uuid::now_v7());
    let o = global_id("Order", Uuid::now_v7());
    let e = global_id("LedgerEntry", Uuid::now_v7());
    let i = global_id("ReconciliationItem", Uuid::now_v7());
    let run = global_id("ReconciliationRun", Uuid::now_v7());
    let (r, o, e, i, run) = (r.as_str(), o.as_str(), e.as_str(), i.as_str(), run.as_str());
    let step = |m: &str| {
        format!(
            "mutation {{ {m}(input: {{returnId: \"{r}\", reason: \"x\"}}) {{ userErrors {{ code }} }} }}"
        )
    };
    vec![
        ("returns", OrdersRead, "{ returns { edges { node { id } } } }".into()),
        ("return", OrdersRead, format!("{{ return(id: \"{r}\") {{ id }} }}")),
        ("returnSettings", OrdersRead, "{ returnSettings { windowDays } }".into()),
        ("createReturn", OrdersManage, format!("mutation {{ createReturn(input: {{orderId: \"{o}\", lines: [], reason: \"x\"}}) {{ userErrors {{ code }} }} }}")),
        ("approveReturn", OrdersManage, step("approveReturn")),
        ("rejectReturn", OrdersManage, step("rejectReturn")),
        ("receiveReturn", OrdersManage, step("receiveReturn")),
        ("cancelReturn", OrdersManage, step("cancelReturn")),
        ("resolveReturn", RefundsIssue, step("resolveReturn")),
        ("inspectReturn", OrdersManage, format!("mutation {{ inspectReturn(input: {{returnId: \"{r}\", lines: []}}) {{ userErrors {{ code }} }} }}")),
        ("updateReturnSettings", SettingsManage, "mutation { updateReturnSettings(input: {windowDays: -1}) { userErrors { code } } }".into()),
        ("refundOrder", RefundsIssue, format!("mutation {{ refundOrder(input: {{orderId: \"{o}\", idempotencyKey: \"k\"}}) {{ userErrors {{ code }} }} }}")),
        ("ledgerEntries", FinanceRead, "{ ledgerEntries { edges { node { id } } } }".into()),
        ("ledgerBalances", FinanceRead, "{ ledgerBalances { balanced } }".into()),
        ("reverseLedgerEntry", FinanceManage, format!("mutation {{ reverseLedgerEntry(input: {{entryId: \"{e}\", reason: \"x\"}}) {{ userErrors {{ code }} }} }}")),
        ("reconciliationRuns", FinanceRead, "{ reconciliationRuns { edges { node { id } } } }".into()),
        ("reconciliationRun", FinanceRead, format!("{{ reconciliationRun(id: \"{run}\") {{ id }} }}")),
        ("discrepancies", FinanceRead, "{ discrepancies { edges { node { id } } } }".into()),
        ("importPayoutReport", FinanceManage, "mutation { importPayoutReport(input: {format: STRIPE_CSV, content: \"x\"}) { userErrors { code } } }".into()),
        ("resolveDiscrepancy", FinanceManage, format!("mutation {{ resolveDiscrepancy(input: {{itemId: \"{i}\", resolution: ACCEPTED}}) {{ userErrors {{ code }} }} }}")),
    ]
}

/// Customer communication: reads, and writes refused for their input or unknown ids.
fn notify_operations() -> Vec<(&'static str, Permission, String)> {
    use Permission::{OrdersManage, OrdersRead, SettingsManage};
    let t = global_id("SupportThread", Uuid::now_v7());
    let m = global_id("SupportMessage", Uuid::now_v7());
    let n = global_id("Notification", Uuid::now_v7());
    let (t, m, n) = (t.as_str(), m.as_str(), n.as_str());
    vec![
        ("notifications", OrdersRead, "{ notifications { edges { node { id } } } }".into()),
        ("notificationSettings", SettingsManage, "{ notificationSettings { defaultLocale } }".into()),
        ("notificationTemplates", SettingsManage, "{ notificationTemplates { kind } }".into()),
        ("supportThreads", OrdersRead, "{ supportThreads { edges { node { id } } } }".into()),
        ("supportThread", OrdersRead, format!("{{ supportThread(id: \"{t}\") {{ id }} }}")),
        ("classifySupportMessage", OrdersRead, "{ classifySupportMessage(text: \"where is my order\") { intent } }".into()),
        ("updateNotificationSettings", SettingsManage, "mutation { updateNotificationSettings(input: {reviewRequestDays: -1}) { userErrors { code } } }".into()),
        ("rotateInboundEmailToken", SettingsManage, "mutation { rotateInboundEmailToken { userErrors { code } } }".into()),
        ("updateNotificationTemplate", SettingsManage, "mutation { updateNotificationTemplate(input: {kind: SHIPPED, subject: \"{{\", text: \"\", html: \"\"}) { userErrors { code } } }".into()),
        ("resetNotificationTemplate", SettingsManage, "mutation { resetNotificationTemplate(input: {kind: SHIPPED}) { userErrors { code } } }".into()),
        ("previewNotification", SettingsManage, "mutation { previewNotification(input: {kind: SHIPPED}) { userErrors { code } } }".into()),
        ("resendNotification", OrdersManage, format!("mutation {{ resendNotification(input: {{id: \"{n}\"}}) {{ userErrors {{ code }} }} }}")),
        ("postSupportMessage", OrdersManage, "mutation { postSupportMessage(input: {from: \"\", subject: \"\", text: \"\"}) { userErrors { code } } }".into()),
        ("replyToSupportThread", OrdersManage, format!("mutation {{ replyToSupportThread(input: {{threadId: \"{t}\", text: \"\"}}) {{ userErrors {{ code }} }} }}")),
        ("confirmSupportAction", OrdersManage, format!("mutation {{ confirmSupportAction(input: {{messageId: \"{m}\"}}) {{ userErrors {{ code }} }} }}")),
        ("dismissSupportAction", OrdersManage, format!("mutation {{ dismissSupportAction(input: {{messageId: \"{m}\"}}) {{ userErrors {{ code }} }} }}")),
        ("draftSupportReply", OrdersManage, format!("mutation {{ draftSupportReply(input: {{threadId: \"{t}\"}}) {{ userErrors {{ code }} }} }}")),
        ("closeSupportThread", OrdersManage, format!("mutation {{ closeSupportThread(input: {{threadId: \"{t}\"}}) {{ userErrors {{ code }} }} }}")),
    ]
}

fn channel_operations() -> Vec<(&'static str, Permission, String)> {
    let no_connection = global_id("ChannelConnection", Uuid::now_v7());
    let no_delivery = global_id("ChannelDelivery", Uuid::now_v7());
    let (c, d) = (no_connection.as_str(), no_delivery.as_str());
    use Permission::ChannelsManage;
    vec![
        ("channelConnections", ChannelsManage, "{ channelConnections { id } }".into()),
        ("channelConnection", ChannelsManage, format!("{{ channelConnection(id: \"{c}\") {{ id }} }}")),
        ("channelDeliveries", ChannelsManage, "{ channelDeliveries { edges { node { id } } } }".into()),
        ("createChannelConnection", ChannelsManage, "mutation { createChannelConnection(input: {platform: SHOPIFY, name: \"\", shopDomain: \"\"}) { userErrors { code } } }".into()),
        ("updateChannelConnection", ChannelsManage, format!("mutation {{ updateChannelConnection(input: {{id: \"{c}\"}}) {{ userErrors {{ code }} }} }}")),
        ("syncChannelConnection", ChannelsManage, format!("mutation {{ syncChannelConnection(input: {{id: \"{c}\"}}) {{ userErrors {{ code }} }} }}")),
        ("reprocessChannelDelivery", ChannelsManage, format!("mutation {{ reprocessChannelDelivery(input: {{id: \"{d}\"}}) {{ userErrors {{ code }} }} }}")),
    ]
}

fn order_operations() -> Vec<(&'static str, Permission, String)> {
    let no_order = global_id("Order", Uuid::now_v7());
    let no_customer = global_id("Customer", Uuid::now_v7());
    let (o, c) = (no_order.as_str(), no_customer.as_str());
    use Permission::{OrdersManage, OrdersRead};
    let mut ops = vec![
        (
            "orders",
            OrdersRead,
            "{ orders { edges { node { id } } } }".into(),
        ),
        (
            "order",
            OrdersRead,
            format!("{{ order(id: \"{o}\") {{ id }} }}"),
        ),
        (
            "customers",
            OrdersRead,
            "{ customers { edges { node { id } } } }".into(),
        ),
        (
            "customer",
            OrdersRead,
            format!("{{ customer(id: \"{c}\") {{ id }} }}"),
        ),
        (
            "createOrder",
            OrdersManage,
            "mutation { createOrder(input: {lines: []}) { userErrors { code } } }".into(),
        ),
        (
            "updateOrderTags",
            OrdersManage,
            format!(
                "mutation {{ updateOrderTags(input: {{orderId: \"{o}\", add: [\"x\"]}}) {{ userErrors {{ code }} }} }}"
            ),
        ),
        (
            "updateOrderNote",
            OrdersManage,
            format!(
                "mutation {{ updateOrderNote(input: {{orderId: \"{o}\"}}) {{ userErrors {{ code }} }} }}"
            ),
        ),
        (
            "resolveOrderIssue",
            OrdersManage,
            format!(
                "mutation {{ resolveOrderIssue(input: {{orderId: \"{o}\", code: UNKNOWN_SKU, reason: \"x\"}}) {{ userErrors {{ code }} }} }}"
            ),
        ),
    ];
    for action in [
        "approveOrder",
        "rejectOrder",
        "holdOrder",
        "releaseOrder",
        "cancelOrder",
    ] {
        ops.push((
            action,
            OrdersManage,
            format!("mutation {{ {action}(input: {{orderId: \"{o}\", reason: \"x\"}}) {{ userErrors {{ code }} }} }}"),
        ));
    }
    let job = global_id("Job", Uuid::now_v7());
    let j = job.as_str();
    let [sh, wv, ca, sv, ex, wh] = [
        "Shipment",
        "PickWave",
        "Carrier",
        "CarrierService",
        "DeliveryException",
        "Warehouse",
    ]
    .map(|kind| global_id(kind, Uuid::now_v7()).0);
    ops.extend([
        ("updateOrderShippingAddress", OrdersManage, format!("mutation {{ updateOrderShippingAddress(input: {{orderId: \"{o}\", address: {{line1: \"\", city: \"\", country: \"FR\"}}}}) {{ userErrors {{ code }} }} }}")),
        ("splitOrder", OrdersManage, format!("mutation {{ splitOrder(input: {{orderId: \"{o}\", lines: [{{lineIndex: 0, quantity: 1}}]}}) {{ userErrors {{ code }} }} }}")),
        ("recordChargeback", OrdersManage, format!("mutation {{ recordChargeback(input: {{orderId: \"{o}\", amount: \"1\", reason: \"x\"}}) {{ userErrors {{ code }} }} }}")),
        ("lifecycleSettings", OrdersRead, "{ lifecycleSettings { fraudReviewScore } }".into()),
        ("updateLifecycleSettings", Permission::SettingsManage, "mutation { updateLifecycleSettings(input: {fraudReviewScore: 0}) { userErrors { code } } }".into()),
        ("carriers", OrdersRead, "{ carriers { id } }".into()),
        ("shipment", OrdersRead, format!("{{ shipment(id: \"{sh}\") {{ id }} }}")),
        ("rateQuote", OrdersRead, format!("{{ rateQuote(shipmentId: \"{sh}\") {{ excluded }} }}")),
        ("fulfillmentSettings", OrdersRead, "{ fulfillmentSettings { waveSize } }".into()),
        ("deliveryExceptions", OrdersRead, "{ deliveryExceptions { edges { node { id } } } }".into()),
        ("pickWaves", OrdersRead, "{ pickWaves { edges { node { id } } } }".into()),
        ("pickWave", OrdersRead, format!("{{ pickWave(id: \"{wv}\") {{ id }} }}")),
        ("createCarrier", Permission::SettingsManage, "mutation { createCarrier(input: {code: \"\", name: \"X\", trackingFormat: UPS}) { userErrors { code } } }".into()),
        ("updateCarrier", Permission::SettingsManage, format!("mutation {{ updateCarrier(input: {{id: \"{ca}\"}}) {{ userErrors {{ code }} }} }}")),
        ("createCarrierService", Permission::SettingsManage, format!("mutation {{ createCarrierService(input: {{carrierId: \"{ca}\", code: \"x\", name: \"X\", currency: \"USD\", rateCard: {{zones: []}}}}) {{ userErrors {{ code }} }} }}")),
        ("updateCarrierService", Permission::SettingsManage, format!("mutation {{ updateCarrierService(input: {{id: \"{sv}\"}}) {{ userErrors {{ code }} }} }}")),
        ("updateFulfillmentSettings", Permission::SettingsManage, "mutation { updateFulfillmentSettings(input: {waveSize: 0}) { userErrors { code } } }".into()),
        ("buyShippingLabel", OrdersManage, format!("mutation {{ buyShippingLabel(input: {{shipmentId: \"{sh}\"}}) {{ userErrors {{ code }} }} }}")),
        ("voidShippingLabel", OrdersManage, format!("mutation {{ voidShippingLabel(input: {{shipmentId: \"{sh}\"}}) {{ userErrors {{ code }} }} }}")),
        ("resolveDeliveryException", OrdersManage, format!("mutation {{ resolveDeliveryException(input: {{id: \"{ex}\", action: REFUND}}) {{ userErrors {{ code }} }} }}")),
        ("createPickWaves", OrdersManage, format!("mutation {{ createPickWaves(input: {{warehouseId: \"{wh}\"}}) {{ userErrors {{ code }} }} }}")),
        ("markPicked", OrdersManage, format!("mutation {{ markPicked(input: {{waveId: \"{wv}\"}}) {{ userErrors {{ code }} }} }}")),
        ("packShipment", OrdersManage, format!("mutation {{ packShipment(input: {{shipmentId: \"{sh}\", scans: []}}) {{ userErrors {{ code }} }} }}")),
        ("jobQueue", Permission::JobsManage, "{ jobQueue { kind } }".into()),
        ("deadJobs", Permission::JobsManage, "{ deadJobs { edges { node { id } } } }".into()),
        ("replayJob", Permission::JobsManage, format!("mutation {{ replayJob(input: {{jobId: \"{j}\"}}) {{ userErrors {{ code }} }} }}")),
        ("discardJob", Permission::JobsManage, format!("mutation {{ discardJob(input: {{jobId: \"{j}\"}}) {{ userErrors {{ code }} }} }}")),
    ]);
    ops
}

/// Reads, and writes with input that is refused, so nothing changes when allowed.
fn catalog_and_stock_operations() -> Vec<(&'static str, Permission, String)> {
    let no_product = global_id("Product", Uuid::now_v7());
    let no_variant = global_id("Variant", Uuid::now_v7());
    let no_warehouse = global_id("Warehouse", Uuid::now_v7());
    let no_supplier = global_id("Supplier", Uuid::now_v7());
    let (p, v, w, s) = (
        no_product.as_str(),
        no_variant.as_str(),
        no_warehouse.as_str(),
        no_supplier.as_str(),
    );
    use Permission::{CatalogManage, CatalogRead, InventoryManage, InventoryRead};
    vec![
        ("products", CatalogRead, "{ products { edges { node { id } } } }".into()),
        ("product", CatalogRead, format!("{{ product(id: \"{p}\") {{ id }} }}")),
        ("variant", CatalogRead, "{ variant(sku: \"NONE\") { id } }".into()),
        ("warehouses", CatalogRead, "{ warehouses { edges { node { id } } } }".into()),
        ("warehouse", CatalogRead, format!("{{ warehouse(id: \"{w}\") {{ id }} }}")),
        ("suppliers", CatalogRead, "{ suppliers { edges { node { id } } } }".into()),
        ("supplier", CatalogRead, format!("{{ supplier(id: \"{s}\") {{ id }} }}")),
        ("stockLevels", InventoryRead, "{ stockLevels(sku: \"NONE\") { onHand } }".into()),
        ("lowStock", InventoryRead, "{ lowStock { onHand } }".into()),
        ("inventoryMovements", InventoryRead, "{ inventoryMovements(sku: \"NONE\") { edges { node { id } } } }".into()),
        ("createProduct", CatalogManage, "mutation { createProduct(input: {title: \"\", variants: []}) { userErrors { code } } }".into()),
        ("updateProduct", CatalogManage, format!("mutation {{ updateProduct(input: {{id: \"{p}\"}}) {{ userErrors {{ code }} }} }}")),
        ("createVariant", CatalogManage, format!("mutation {{ createVariant(input: {{productId: \"{p}\", variant: {{sku: \"X\", price: \"1\"}}}}) {{ userErrors {{ code }} }} }}")),
        ("updateVariant", CatalogManage, format!("mutation {{ updateVariant(input: {{id: \"{v}\"}}) {{ userErrors {{ code }} }} }}")),
        ("createWarehouse", CatalogManage, "mutation { createWarehouse(input: {code: \"\", name: \"\", address: {line1: \"\", city: \"\", country: \"\"}}) { userErrors { code } } }".into()),
        ("updateWarehouse", CatalogManage, format!("mutation {{ updateWarehouse(input: {{id: \"{w}\"}}) {{ userErrors {{ code }} }} }}")),
        ("createSupplier", CatalogManage, "mutation { createSupplier(input: {name: \"\"}) { userErrors { code } } }".into()),
        ("updateSupplier", CatalogManage, format!("mutation {{ updateSupplier(input: {{id: \"{s}\"}}) {{ userErrors {{ code }} }} }}")),
        ("setSupplierItem", CatalogManage, format!("mutation {{ setSupplierItem(input: {{supplierId: \"{s}\", sku: \"X\"}}) {{ userErrors {{ code }} }} }}")),
        ("adjustStock", InventoryManage, format!("mutation {{ adjustStock(input: {{sku: \"X\", warehouseId: \"{w}\", delta: 0}}) {{ userErrors {{ code }} }} }}")),
        ("receiveStock", InventoryManage, format!("mutation {{ receiveStock(input: {{sku: \"X\", warehouseId: \"{w}\", quantity: 0}}) {{ userErrors {{ code }} }} }}")),
        ("setBinLocation", InventoryManage, format!("mutation {{ setBinLocation(input: {{sku: \"X\", warehouseId: \"{w}\"}}) {{ userErrors {{ code }} }} }}")),
    ]
}

async fn check(app: &TestApp, who: &str, token: &str, allowed: impl Fn(Permission) -> bool) {
    for (field, permission, op) in guarded_operations() {
        let body = app.gql(Some(token), &op, json!({})).await;
        let code = error_code(&body);
        if allowed(permission) {
            assert!(
                code != "FORBIDDEN" && code != "UNAUTHENTICATED",
                "{who} should be allowed {field}: {body}"
            );
        } else {
            assert_eq!(code, "FORBIDDEN", "{who} should be refused {field}: {body}");
        }
    }
}

#[tokio::test]
async fn every_guarded_field_admits_exactly_the_roles_that_hold_its_permission() {
    let app = spawn_app().await;
    let owner = app.sign_up("Guards", "owner@guards.example").await;
    let members: Vec<(Role, Session)> = vec![
        (
            Role::Admin,
            app.add_member(&owner, "admin@guards.example", "ADMIN")
                .await,
        ),
        (
            Role::Staff,
            app.add_member(&owner, "staff@guards.example", "STAFF")
                .await,
        ),
        (
            Role::Viewer,
            app.add_member(&owner, "viewer@guards.example", "VIEWER")
                .await,
        ),
        (Role::Owner, owner.clone()),
    ];
    for (role, session) in &members {
        check(&app, role.as_str(), &session.access, |p| role.can(p)).await;
    }
}

#[tokio::test]
async fn every_guarded_field_admits_exactly_the_api_keys_scoped_for_it() {
    let app = spawn_app().await;
    let owner = app.sign_up("Scoped", "owner@scoped.example").await;
    let (_, narrow) = app.create_api_key(&owner, &["TENANT_READ"]).await;
    check(&app, "TENANT_READ key", &narrow, |p| {
        p == Permission::TenantRead
    })
    .await;

    let grantable: Vec<&str> = Permission::ALL
        .into_iter()
        .filter(|p| p.grantable_to_api_keys())
        .map(|p| p.as_str())
        .collect();
    let (_, wide) = app.create_api_key(&owner, &grantable).await;
    check(&app, "widest key", &wide, |p| p.grantable_to_api_keys()).await;
}

#[tokio::test]
async fn anonymous_callers_are_asked_to_authenticate_for_every_guarded_field() {
    let app = spawn_app().await;
    for (field, _, op) in guarded_operations() {
        let body = app.gql(None, &op, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{field}: {body}");
    }
}
