//! The admin UI in headless Chromium against the real binary (PostgreSQL + Redis in CI), as a
//! merchant works: sign in, watch a Shopify order arrive in the list and the dashboard's
//! counters move, approve a fraud hold from the review queue, buy the label (the shopper's
//! shipped email reaches the SMTP receiver), refund; a reload on the order's URL shows it; a
//! viewer is offered no action. Screenshots of each view are kept under
//! `<target>/e2e-artifacts/admin_ui/`.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::browser::Browser;
use e2e::orderflow::Environment;
use e2e::shop::{self, PASSWORD};
use e2e::smtp::SmtpReceiver;
use serde_json::{Value, json};

const SHOPPER: &str = "xkq9205@mailinator.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_works_orders_from_arrival_to_refund_in_the_browser() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let mut env = Environment::new().await.unwrap();
    env.set_env("SMTP_URL", smtp.url());
    let app = env.start().await.unwrap();
    let shop = shop::open(&app, "Browser Shop", "owner@browser-shop.example")
        .await
        .unwrap();
    let t = shop.token.as_str();
    // Labels are bought by staff here, not automatically.
    app.mutate(t, "updateFulfillmentSettings", "mutation { updateFulfillmentSettings(input: {autoBuyLabels: false}) { userErrors { message } } }", json!({}))
        .await
        .unwrap();
    let b = Browser::start("admin_ui").await.unwrap();

    // A deep link while signed out: the sign-in form, then that page.
    b.goto(&app.url("/orders")).await.unwrap();
    b.fill("#login-email", &shop.owner_email).await.unwrap();
    b.fill("#login-password", "not the password").await.unwrap();
    b.screenshot("login").await.unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    let refused = b
        .wait_text(".login [role=alert]", "a refusal", |t| !t.is_empty())
        .await
        .unwrap();
    assert!(
        refused.to_lowercase().contains("password") || refused.to_lowercase().contains("invalid"),
        "{refused}"
    );
    b.fill("#login-password", PASSWORD).await.unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    b.wait_text("main h1", "the orders page", |t| t == "Orders")
        .await
        .unwrap();
    b.wait_text("main .empty", "an empty list", |t| t.contains("No orders"))
        .await
        .unwrap();

    // A signed Shopify webhook: the order shows in the open list without a reload.
    shop::shopify_order(&app, &shop, "e2e-ui-1").await.unwrap();
    let row = b.find_text("main tbody tr", "shopify").await.unwrap();
    let row_text = row.text().await.unwrap();
    b.screenshot("orders-live").await.unwrap();
    let name = row_text.split_whitespace().next().unwrap().to_owned();
    assert!(name.starts_with('#'), "{row_text}");

    // The dashboard: today's counters, then moving as a risky order arrives and is held.
    b.click_text("nav a", "Dashboard").await.unwrap();
    // The fixture order was placed in 2022: today has none yet.
    b.wait_text("#live-received", "today's orders", |t| t == "0")
        .await
        .unwrap();
    b.find_text(".badge", "live").await.unwrap();
    app.mutate(t, "updateLifecycleSettings", "mutation { updateLifecycleSettings(input: {fraudReviewScore: 20}) { userErrors { message } } }", json!({}))
        .await
        .unwrap();
    let address = json!({ "name": "Grace Hopper", "line1": "5 Harbour Street", "city": "Shippington", "region": "KY", "postalCode": "40003", "country": "US" });
    let risky = app.mutate(t, "createOrder", "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id name } userErrors { field message } } }", json!({ "i": {
        "externalId": "e2e-risky-1", "email": SHOPPER, "firstName": "Grace", "lastName": "Hopper",
        "shippingAddress": address, "billingAddress": { "name": "G H", "line1": "1 Broad St", "city": "Lagos", "postalCode": "100001", "country": "NG" },
        "lines": [{ "sku": "KETTLE-1", "quantity": 2 }],
        "client": { "ip": "203.0.113.9", "deviceId": "dev-e2e", "ipCountry": "RU" },
        "payment": { "status": "PAID", "amountCaptured": "80.00", "avsResult": "Y", "cvvResult": "M" }
    } })).await.unwrap();
    let risky_id = risky["order"]["id"].as_str().unwrap().to_owned();
    let risky_name = risky["order"]["name"].as_str().unwrap().to_owned();
    let held = shop::wait_for_state(&app, t, &risky_id, "FRAUD_REVIEW")
        .await
        .unwrap();
    b.wait_text("#live-received", "the new order", |t| t == "1")
        .await
        .unwrap();
    b.wait_text("#live-held", "the hold", |t| t == "1")
        .await
        .unwrap();
    b.wait(".kpis .kpi").await.unwrap();
    b.screenshot("dashboard").await.unwrap();

    // The session renews itself: an access token about to lapse, then one the server refuses,
    // are each replaced from the refresh token, and the page goes on working.
    let session = || async {
        let v = b
            .client
            .execute(
                "return JSON.parse(localStorage.getItem('orderflow.session'))",
                vec![],
            )
            .await
            .unwrap();
        (
            v["access"].as_str().unwrap().to_owned(),
            v["refresh"].as_str().unwrap().to_owned(),
        )
    };
    let (_, first_refresh) = session().await;
    b.client
        .execute("const s = JSON.parse(localStorage.getItem('orderflow.session')); s.expires_at = 0; localStorage.setItem('orderflow.session', JSON.stringify(s));", vec![])
        .await
        .unwrap();
    b.click_text("nav a", "Orders").await.unwrap();
    b.find_text("main tbody tr", "shopify").await.unwrap();
    let (access, second_refresh) = session().await;
    assert_ne!(first_refresh, second_refresh, "renewed before it lapsed");
    b.client
        .execute("const s = JSON.parse(localStorage.getItem('orderflow.session')); s.access = 'not-a-token'; localStorage.setItem('orderflow.session', JSON.stringify(s));", vec![])
        .await
        .unwrap();
    b.click_text("nav a", "Dashboard").await.unwrap();
    b.wait(".kpis .kpi").await.unwrap();
    let (renewed, third_refresh) = session().await;
    assert!(renewed != "not-a-token" && renewed != access && third_refresh != second_refresh);

    // The review queue: the hold with its reasons, approved from there.
    b.click_text("nav a", "Review queue").await.unwrap();
    let item = format!(".review-item[data-order='{risky_name}']");
    b.wait_text(&item, "the fraud reasons", |t| t.contains("fraud score"))
        .await
        .unwrap();
    b.screenshot("review-queue").await.unwrap();
    b.click(&format!("{item} #confirm-approve")).await.unwrap();
    b.wait(".dialog").await.unwrap();
    // Keyboard users land in the dialog, on its main button (not on the row's button that
    // opened it, which is also "Approve").
    let focused = b
        .client
        .execute("const e = document.activeElement; return [!!(e && e.closest('.dialog')), e && e.textContent]", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused,
        json!([true, "Approve"]),
        "focus moves into the dialog"
    );
    b.click(".dialog button.primary").await.unwrap();
    b.wait_text("main", "the queue emptied", |t| {
        t.contains("Nothing to review")
    })
    .await
    .unwrap();
    let routed = shop::wait_for_state(&app, t, &risky_id, "ROUTED")
        .await
        .unwrap();
    assert!(held["fraud"]["score"].as_i64().unwrap() >= 20, "{held}");

    // The order's own URL, reloaded: the order, its fraud reasons and routing; buy the label.
    b.goto(&app.url(&format!("/orders/{}", routed["id"].as_str().unwrap())))
        .await
        .unwrap();
    b.wait_text("main h1", "the order", |t| t.contains(&risky_name))
        .await
        .unwrap();
    b.wait_text("#fraud-score", "the score", |t| t.starts_with("Score"))
        .await
        .unwrap();
    b.find_text("main table", "chosen").await.unwrap();
    b.screenshot("order-routed").await.unwrap();
    b.click("#confirm-buy-label").await.unwrap();
    b.click(".dialog button.primary").await.unwrap();
    b.wait_text("main .badge", "shipped", |t| t == "shipped")
        .await
        .unwrap();
    b.find_text("#timeline li", "label").await.unwrap();
    b.screenshot("order-shipped").await.unwrap();

    // The shopper's shipped email reaches the SMTP receiver.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let shipped = smtp.messages().into_iter().any(|m| {
            m.rcpt_to.iter().any(|r| r == SHOPPER) && m.data.to_lowercase().contains("shipped")
        });
        if shipped {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no shipped email to {SHOPPER}; got {:?}",
            smtp.messages()
                .iter()
                .map(|m| m.rcpt_to.clone())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A partial refund from the order page, said in the tenant's currency.
    b.find_text("summary", "Refund")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.fill("#refund-amount", "5.00").await.unwrap();
    b.fill("#refund-reason", "dented lid").await.unwrap();
    b.click("#refund-submit").await.unwrap();
    // No processor is set up: the refund is recorded, and the page says nothing was sent.
    let refunded = b.find_text("#flash", "recorded (simulated").await;
    assert!(refunded.unwrap().text().await.unwrap().contains("$5.00"));
    b.find_text("#timeline li", "efund").await.unwrap();
    b.find_text("#refund-route", "Recorded only").await.unwrap();
    b.find_text("#refunds td", "Simulated").await.unwrap();
    b.find_text(".simulated-label", "Simulated label")
        .await
        .unwrap();
    b.screenshot("order-refunded").await.unwrap();

    // The carrier delivers; the shopper sends one kettle back, asked for by staff on the
    // order page; approved, received and inspected in the returns view, refunded by the policy.
    let shipped = app
        .graphql(
            Some(t),
            "query($o: ID!) { order(id: $o) { shipments { trackingNumber } } }",
            json!({ "o": risky_id }),
        )
        .await
        .unwrap();
    let number = shipped["data"]["order"]["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    for status in ["in_transit", "delivered"] {
        let at = chrono::Utc::now().to_rfc3339();
        let code = e2e::tracking::send_scan(
            &app,
            &shop.carrier_path,
            shop::CARRIER_SECRET,
            &number,
            status,
            &at,
        )
        .await
        .unwrap();
        assert_eq!(code, 200);
    }
    shop::wait_for_state(&app, t, &risky_id, "DELIVERED")
        .await
        .unwrap();
    b.goto(&app.url(&format!("/orders/{risky_id}")))
        .await
        .unwrap();
    b.wait_text("main .badge", "delivered", |t| t == "delivered")
        .await
        .unwrap();
    // The delivery email is the last thing the delivery causes; each of its events redraws
    // the live order page (and a form opened before it), so the return is opened after it.
    b.find_text("#timeline li", "the delivery confirmation")
        .await
        .unwrap();
    b.find_text("summary", "Open a return")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.fill("#return-qty-0", "1").await.unwrap();
    b.wait("#return-reason option[value=changed_mind]")
        .await
        .unwrap();
    b.wait("#return-reason")
        .await
        .unwrap()
        .select_by_value("changed_mind")
        .await
        .unwrap();
    b.click("#return-open").await.unwrap();
    b.wait_text("main h1", "the return", |t| t.starts_with("Return #"))
        .await
        .unwrap();
    // Fraud score 49 is over the policy's 40: staff approve it.
    b.find_text("main .badge", "requested").await.unwrap();
    b.click("#confirm-approve-return").await.unwrap();
    b.click(".dialog button.primary").await.unwrap();
    b.find_text("main .badge", "approved").await.unwrap();
    b.click("#confirm-mark-received").await.unwrap();
    b.click(".dialog button.primary").await.unwrap();
    b.click("#inspect-submit").await.unwrap();
    let refunded = b
        .wait_text("#return-refunded", "the refund", |t| t.contains("Refunded"))
        .await
        .unwrap();
    assert!(refunded.contains("$40.00"), "{refunded}");
    b.find_text("#settlement", "$40.00").await.unwrap();
    b.screenshot("return-refunded").await.unwrap();
    b.click_text("nav a", "Returns").await.unwrap();
    b.find_text("main tbody tr", "resolved").await.unwrap();
    b.screenshot("returns").await.unwrap();

    // Payments: a publishable key is refused by name; a test secret key is kept sealed and
    // shown as test mode; refunds are sent through it from now on.
    b.goto(&app.url("/settings/payments")).await.unwrap();
    b.find_text("main .empty", "No Stripe account")
        .await
        .unwrap();
    b.fill("#stripe-secret-key", "pk_test_0123456789abcdef")
        .await
        .unwrap();
    b.click("#stripe-save").await.unwrap();
    b.find_text(".field-error", "must be the key as Stripe shows it")
        .await
        .unwrap();
    b.fill("#stripe-secret-key", "sk_test_e2e0123456789abcdef")
        .await
        .unwrap();
    b.fill("#stripe-webhook-secret", "whsec_e2e0123456789abcdef")
        .await
        .unwrap();
    b.click("#stripe-save").await.unwrap();
    b.find_text("#stripe-account", "Test mode").await.unwrap();
    b.find_text("main code", "/webhooks/payments/")
        .await
        .unwrap();
    b.click("#refund-rule input[value=PROCESSOR]")
        .await
        .unwrap();
    b.find_text("#payments-notice", "Refund route saved")
        .await
        .unwrap();
    b.screenshot("settings-payments").await.unwrap();
    let rule = app
        .graphql(
            Some(t),
            "{ refundSettings { rule } paymentProcessors { testMode } }",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        rule["data"],
        json!({ "refundSettings": { "rule": "PROCESSOR" }, "paymentProcessors": [{ "testMode": true }] })
    );

    // The inbox: the shopper's question with the intent read from it, answered by staff.
    app.mutate(t, "postSupportMessage", "mutation($f: String!) { postSupportMessage(input: {from: $f, fromName: \"Grace Hopper\", subject: \"Can I change my order?\", text: \"Hello, I would like to cancel order #e2e-risky-1 please, I ordered the wrong colour.\"}) { userErrors { message } } }", json!({ "f": SHOPPER }))
        .await
        .unwrap();
    b.click_text("nav a", "Inbox").await.unwrap();
    b.wait("#inbox-filter")
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    b.click_text("main tbody a", "Can I change my order?")
        .await
        .unwrap();
    b.wait_text("main .muted", "the intent", |t| t.contains("cancel"))
        .await
        .unwrap();
    b.fill("#reply-text", "Hello Grace, the order has been delivered already; you can send it back from the link in your email.").await.unwrap();
    b.click("#reply-send").await.unwrap();
    b.find_text("main [role=status]", "Sent").await.unwrap();
    b.screenshot("inbox-thread").await.unwrap();

    // Inventory: a delivery received with its reference, on the SKU's movement history.
    b.click_text("nav a", "Inventory").await.unwrap();
    b.wait("#stock").await.unwrap();
    b.fill("#stock-sku", "KETTLE-1").await.unwrap();
    b.wait(&format!(
        "#stock-warehouse option[value='{}']",
        shop.warehouse
    ))
    .await
    .unwrap();
    b.wait("#stock-warehouse")
        .await
        .unwrap()
        .select_by_value(&shop.warehouse)
        .await
        .unwrap();
    b.fill("#stock-units", "5").await.unwrap();
    b.fill("#stock-reference", "PO-77").await.unwrap();
    b.click("#stock-save").await.unwrap();
    b.find_text("main [role=status]", "Received 5 × KETTLE-1")
        .await
        .unwrap();
    b.click_text("#stock button", "KETTLE-1").await.unwrap();
    b.find_text("#movements tr", "PO-77").await.unwrap();
    b.screenshot("inventory").await.unwrap();

    // Settings: an API key shown once, a rule dry-run then saved, the channel's webhook URL, an
    // outbound subscription with its secret.
    b.click_text("nav a", "Settings").await.unwrap();
    b.wait("#members").await.unwrap();
    b.screenshot("settings-team").await.unwrap();
    b.click_text("nav.tabs a", "API keys").await.unwrap();
    b.fill("#key-name", "ERP").await.unwrap();
    b.click("#key-create").await.unwrap();
    let key = b
        .wait_text("#new-key-secret", "the key", |t| t.len() > 20)
        .await
        .unwrap();
    let me = app
        .graphql(
            Some(&key),
            "{ orders(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await
        .unwrap();
    assert!(
        me["data"]["orders"]["nodes"].is_array(),
        "the key shown works: {me}"
    );
    b.screenshot("settings-api-keys").await.unwrap();
    b.click_text("nav.tabs a", "Automation rules")
        .await
        .unwrap();
    b.fill("#rule-name", "Tag kettle orders").await.unwrap();
    b.fill("#rule-trigger", "order.received").await.unwrap();
    b.fill("#rule-condition", "lines.skus contains \"KETTLE-1\"")
        .await
        .unwrap();
    b.fill("#rule-actions", "ADD_TAG: kettle").await.unwrap();
    b.click("#rule-dry-run").await.unwrap();
    b.wait_text("#dry-run", "the dry run", |t| t.contains("1 of the last 2"))
        .await
        .unwrap();
    b.click("#rule-save").await.unwrap();
    b.find_text("#rules tr", "Tag kettle orders").await.unwrap();
    b.screenshot("settings-rules").await.unwrap();
    b.click_text("nav.tabs a", "Channels").await.unwrap();
    b.find_text(".webhook-url", "/webhooks/shopify/")
        .await
        .unwrap();
    // Each connection shows what Orderflow wrote to its channel (the sync log) and whether
    // the channel emails shoppers about fulfilments.
    b.find_text(".channel h3", "Sync log").await.unwrap();
    b.wait(".channel .notify-customer").await.unwrap();
    // …and its stock: how true its figures are, and the share of free stock it shows, saved
    // from the form.
    b.find_text(".channel h3", "Stock").await.unwrap();
    b.find_text(".channel .stock-health", "matched by SKU")
        .await
        .unwrap();
    b.fill(".channel .stock-share", "50").await.unwrap();
    b.click_text(".channel-stock-settings button", "Save stock settings")
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let c = app
            .graphql(Some(t), "{ channelConnections { stockShare } }", json!({}))
            .await
            .unwrap();
        if c["data"]["channelConnections"][0]["stockShare"] == 50 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the share was not saved: {c}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.screenshot("settings-channels").await.unwrap();
    b.click_text("nav.tabs a", "Outbound webhooks")
        .await
        .unwrap();
    b.fill("#webhook-url", "https://hooks.example.com/orderflow")
        .await
        .unwrap();
    b.click("#webhook-create").await.unwrap();
    b.wait_text("#webhook-secret", "the secret", |t| !t.is_empty())
        .await
        .unwrap();
    b.find_text("#webhooks tr", "hooks.example.com")
        .await
        .unwrap();
    b.screenshot("settings-webhooks").await.unwrap();
    b.click_text("nav.tabs a", "Warehouses").await.unwrap();
    b.find_text("#warehouses tr", "KY1").await.unwrap();
    // A warehouse without a country is refused, the field named; with one it is added.
    for (field, value) in [
        ("code", "TX1"),
        ("name", "Dallas"),
        ("line1", "1 Main St"),
        ("city", "Dallas"),
        ("timezone", "America/Chicago"),
    ] {
        b.fill(&format!("#warehouse-{field}"), value).await.unwrap();
    }
    b.click("#warehouse-create").await.unwrap();
    b.wait_text("#warehouse-country-error", "the missing country", |t| {
        !t.is_empty()
    })
    .await
    .unwrap();
    b.fill("#warehouse-country", "US").await.unwrap();
    b.click("#warehouse-create").await.unwrap();
    b.find_text("#warehouses tr", "TX1").await.unwrap();
    b.screenshot("settings-warehouses").await.unwrap();
    b.click_text("nav.tabs a", "Carriers").await.unwrap();
    b.find_text(".carrier pre", "zone 1, 2 days: 10000 g 7.5")
        .await
        .unwrap();
    b.wait("#service-carrier option:nth-child(2)")
        .await
        .unwrap();
    let ups = b
        .wait("#service-carrier option:nth-child(2)")
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    b.wait("#service-carrier")
        .await
        .unwrap()
        .select_by_value(&ups)
        .await
        .unwrap();
    b.fill("#service-code", "express").await.unwrap();
    b.fill("#service-name", "Express").await.unwrap();
    b.fill("#service-card", "zone 1: 1000 g 12.00")
        .await
        .unwrap();
    b.click("#service-create").await.unwrap();
    b.find_text("main .notice", "line 1").await.unwrap();
    b.fill("#service-card", "zone 1, 1 days: 1000 g 12, then 2 per kg")
        .await
        .unwrap();
    b.click("#service-create").await.unwrap();
    b.find_text(".carrier pre", "zone 1, 1 days: 1000 g 12, then 2 per kg")
        .await
        .unwrap();
    b.screenshot("settings-carriers").await.unwrap();
    b.click_text("nav.tabs a", "Email templates").await.unwrap();
    b.click_text("#templates button", "shipping confirmation")
        .await
        .unwrap();
    b.fill("#template-subject", "On its way: {{ order.name }}")
        .await
        .unwrap();
    b.click("#template-preview").await.unwrap();
    b.wait_text("#template-preview-out h3", "the rendered subject", |t| {
        t.starts_with("Subject: On its way: #")
    })
    .await
    .unwrap();
    b.screenshot("settings-template-preview").await.unwrap();
    b.fill("#template-text", "Hello {{ order.name")
        .await
        .unwrap();
    b.click("#template-save").await.unwrap();
    b.wait_text("#template-text-error", "the syntax error", |t| {
        !t.is_empty()
    })
    .await
    .unwrap();

    // A viewer (invited by mail, accepted) sees the order and is offered no action.
    let viewer = "viewer@browser-shop.example";
    app.mutate(t, "inviteUser", "mutation($e: String!) { inviteUser(input: {email: $e, role: VIEWER}) { invitation { id } userErrors { message } } }", json!({ "e": viewer }))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let token = loop {
        let found = smtp
            .messages()
            .into_iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == viewer));
        if let Some(m) = found {
            let text = e2e::mail::text_plain(&m.data).unwrap();
            break e2e::mail::invitation_token(&text).unwrap();
        }
        assert!(Instant::now() < deadline, "no invitation mail");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The invitation's link: the joining page, a password too short refused, then joined.
    b.click_text("nav button", "Sign out").await.unwrap();
    b.wait("form.login").await.unwrap();
    b.goto(&app.url(&format!("/accept-invite?token={token}")))
        .await
        .unwrap();
    b.fill("#accept-password", "short").await.unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    b.wait_text(".login .field-error", "the length rule", |t| {
        t.contains("12")
    })
    .await
    .unwrap();
    b.fill("#accept-password", PASSWORD).await.unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    b.wait_text("main h1", "the dashboard", |t| t == "Dashboard")
        .await
        .unwrap();
    b.screenshot("joined-as-viewer").await.unwrap();
    // Signed out on the order's page, the viewer signs in there.
    b.goto(&app.url(&format!("/orders/{risky_id}")))
        .await
        .unwrap();
    b.wait("#timeline li").await.unwrap();
    b.click_text("nav button", "Sign out").await.unwrap();
    b.fill("#login-email", viewer).await.unwrap();
    b.fill("#login-password", PASSWORD).await.unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    b.wait_text("main h1", "the same order", |t| t.contains(&risky_name))
        .await
        .unwrap();
    b.wait("#timeline li").await.unwrap();
    let page = b.wait("main").await.unwrap().text().await.unwrap();
    for action in [
        "Hold",
        "Cancel order",
        "Buy label",
        "Edit shipping address",
        "Split into a new order",
    ] {
        assert!(
            !page.contains(action),
            "a viewer is offered {action:?}:\n{page}"
        );
    }
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#refund-submit"))
            .await
            .is_err(),
        "a viewer is offered a refund"
    );
    b.screenshot("order-as-viewer").await.unwrap();
    let nav = b.wait("nav.nav").await.unwrap().text().await.unwrap();
    assert!(
        !nav.contains("Settings"),
        "a viewer is offered settings: {nav}"
    );
    b.click_text("nav a", "Inventory").await.unwrap();
    b.wait("#stock").await.unwrap();
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#stock-save"))
            .await
            .is_err(),
        "a viewer is offered stock changes"
    );
    // A second shop takes the same person on as staff: the switch moves them there.
    let second = app
        .graphql(None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken tenant { id } userErrors { message } } }", json!({ "i": { "tenantName": "Second Shop", "email": "owner@second-shop.example", "password": PASSWORD } }))
        .await
        .unwrap();
    let second_token = second["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_id = second["data"]["signUp"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.mutate(&second_token, "inviteUser", "mutation($e: String!) { inviteUser(input: {email: $e, role: STAFF}) { invitation { id } userErrors { message } } }", json!({ "e": viewer }))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let second_invite = loop {
        let found = smtp
            .messages()
            .into_iter()
            .find(|m| m.rcpt_to.iter().any(|r| r == viewer) && m.data.contains("Second Shop"));
        if let Some(m) = found {
            break e2e::mail::invitation_token(&e2e::mail::text_plain(&m.data).unwrap()).unwrap();
        }
        assert!(Instant::now() < deadline, "no second invitation");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // The link alone does not join an existing account: its owner, signed in, does.
    let refused = app
        .graphql(None, "mutation($t: String!) { acceptInvite(input: {token: $t}) { role userErrors { message } } }", json!({ "t": second_invite }))
        .await
        .unwrap();
    assert_eq!(
        refused["data"]["acceptInvite"]["role"],
        Value::Null,
        "{refused}"
    );
    b.goto(&app.url(&format!("/accept-invite?token={second_invite}")))
        .await
        .unwrap();
    b.wait_text(".login p.muted", "who joins", |t| t.contains(viewer))
        .await
        .unwrap();
    b.click("form.login button[type=submit]").await.unwrap();
    b.wait_text("main h1", "the dashboard", |t| t == "Dashboard")
        .await
        .unwrap();
    b.goto(&app.url("/")).await.unwrap();
    b.wait(&format!("#tenant-switch option[value='{second_id}']"))
        .await
        .unwrap();
    b.wait("#tenant-switch")
        .await
        .unwrap()
        .select_by_value(&second_id)
        .await
        .unwrap();
    b.wait_text("nav .who", "the staff role in the second shop", |t| {
        t.contains("staff")
    })
    .await
    .unwrap();
    b.screenshot("switched-tenant").await.unwrap();
    b.click_text("nav button", "Sign out").await.unwrap();
    b.wait("form.login").await.unwrap();
    b.close().await.unwrap();
    let status = app.terminate(Duration::from_secs(20)).await.unwrap();
    assert!(status.success());
}
