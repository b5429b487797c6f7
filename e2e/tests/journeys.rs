//! User journeys against the real `orderflow` binary: SQLite by default; a fresh PostgreSQL
//! database when DATABASE_URL names a PostgreSQL server; Redis when REDIS_URL is set.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use e2e::mail::{self, Part};
use e2e::orderflow::{Environment, Orderflow, REQUEST_ID};
use e2e::smtp::SmtpReceiver;
use serde_json::{Value, json};

/// A graceful stop drains for at most 30 s (actix's shutdown timeout), plus a margin.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(35);

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken role tenant { id name } userErrors { field message code } } }";
const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken role tenant { id name } userErrors { field message code } } }";
const ACCEPT_INVITE: &str = "mutation($i: AcceptInviteInput!) { acceptInvite(input: $i) { accessToken refreshToken role tenant { id name } userErrors { field message code } } }";
const INVITE_USER: &str = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { id email role emailStatus status } userErrors { field message code } } }";
const ME: &str = "{ me { id email role tenant { id name } } }";

/// `data.<field>` of a response that has no GraphQL errors.
fn field<'a>(body: &'a Value, name: &str) -> &'a Value {
    assert!(
        body.get("errors").is_none(),
        "{name}: GraphQL errors: {body}"
    );
    let value = &body["data"][name];
    assert!(value.is_object(), "{name}: no data: {body}");
    value
}

/// A mutation payload that reports no user errors.
fn succeeded<'a>(body: &'a Value, name: &str) -> &'a Value {
    let payload = field(body, name);
    assert_eq!(payload["userErrors"], json!([]), "{name}: {body}");
    payload
}

fn access_token(payload: &Value) -> String {
    let token = payload["accessToken"].as_str().unwrap_or_default();
    assert!(!token.is_empty(), "no accessToken in {payload}");
    token.to_owned()
}

async fn sign_up(app: &Orderflow, tenant: &str, email: &str, password: &str) -> Value {
    let body = app
        .graphql(
            None,
            SIGN_UP,
            json!({ "i": { "tenantName": tenant, "email": email, "password": password } }),
        )
        .await
        .unwrap();
    succeeded(&body, "signUp").clone()
}

async fn login(app: &Orderflow, email: &str, password: &str) -> Value {
    let body = app
        .graphql(
            None,
            LOGIN,
            json!({ "i": { "email": email, "password": password } }),
        )
        .await
        .unwrap();
    succeeded(&body, "login").clone()
}

async fn me(app: &Orderflow, token: &str) -> Value {
    let body = app.graphql(Some(token), ME, json!({})).await.unwrap();
    field(&body, "me").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_signs_up_logs_in_and_keeps_their_data_across_a_restart() {
    let mut env = Environment::new().await.unwrap();
    let setup = env.describe();
    let app = env.start().await.unwrap();
    let (tenant, email, password) = (
        "Acme Outfitters",
        "owner@acme.example.com",
        "a long and good password",
    );

    // Sign up, then log in with the same credentials.
    let signed_up = sign_up(&app, tenant, email, password).await;
    assert_eq!(signed_up["role"], "OWNER", "{signed_up}");
    assert_eq!(signed_up["tenant"]["name"], tenant, "{signed_up}");
    let tenant_id = signed_up["tenant"]["id"].clone();
    assert!(tenant_id.is_string(), "{signed_up}");
    access_token(&signed_up);

    let logged_in = login(&app, email, password).await;
    assert_eq!(logged_in["role"], "OWNER", "{logged_in}");
    assert_eq!(logged_in["tenant"]["id"], tenant_id, "{logged_in}");
    let token = access_token(&logged_in);

    let who = me(&app, &token).await;
    assert_eq!(who["email"], email, "{who}");
    assert_eq!(who["role"], "OWNER", "{who}");
    assert_eq!(who["tenant"]["id"], tenant_id, "{who}");
    assert_eq!(who["tenant"]["name"], tenant, "{who}");
    let user_id = who["id"].clone();

    // Operations endpoints, and request ids on every answer.
    let health = app.get("/healthz").await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    // Metrics are for the monitoring network's address, not the public one.
    let public = app.get("/metrics").await.unwrap();
    assert_eq!(public.status(), 404);
    let metrics = app.metrics().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.unwrap();
    for name in [
        "orderflow_http_requests_total",
        "orderflow_db_pool_connections",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }
    let echoed = app
        .client()
        .get(app.url("/healthz"))
        .header(REQUEST_ID, "e2e-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), 200);
    assert_eq!(
        echoed
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok()),
        Some("e2e-123")
    );
    let echoed = app
        .client()
        .post(app.url("/graphql"))
        .header(REQUEST_ID, "e2e-456")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        echoed
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok()),
        Some("e2e-456")
    );
    let fresh_ids: Vec<String> = [
        app.get("/healthz").await.unwrap(),
        app.get("/healthz").await.unwrap(),
    ]
    .iter()
    .map(|r| r.headers()[REQUEST_ID].to_str().unwrap().to_owned())
    .collect();
    assert_ne!(fresh_ids[0], fresh_ids[1], "request ids are not unique");

    // A graceful stop on SIGTERM.
    let stopping = Instant::now();
    let status = app.terminate(SHUTDOWN_TIMEOUT).await.unwrap();
    assert!(
        status.success(),
        "orderflow exited with {status} after SIGTERM ({setup})"
    );
    eprintln!(
        "[{setup}] orderflow stopped on SIGTERM in {:?}",
        stopping.elapsed()
    );

    // Same data directory and database: everything is still there.
    let app = env.start().await.unwrap();
    let who = me(&app, &token).await;
    assert_eq!(
        who["id"], user_id,
        "a token from before the restart is still valid (the JWT secret is kept in the data directory): {who}"
    );
    let logged_in = login(&app, email, password).await;
    assert_eq!(logged_in["role"], "OWNER", "{logged_in}");
    let token = access_token(&logged_in);
    let who = me(&app, &token).await;
    assert_eq!(who["id"], user_id, "{who}");
    assert_eq!(who["email"], email, "{who}");
    assert_eq!(who["role"], "OWNER", "{who}");
    assert_eq!(who["tenant"]["id"], tenant_id, "{who}");
    assert_eq!(who["tenant"]["name"], tenant, "{who}");

    let status = app.terminate(SHUTDOWN_TIMEOUT).await.unwrap();
    assert!(status.success(), "second stop: {status} ({setup})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_delivered_over_real_smtp_and_accepted() {
    let smtp = SmtpReceiver::start().await.unwrap();
    let mut env = Environment::new().await.unwrap();
    env.set_env("SMTP_URL", smtp.url());
    env.set_env(
        "ORDERFLOW_MAIL_FROM",
        "Orderflow <no-reply@orderflow.example.com>",
    );
    let app = env.start().await.unwrap();
    let tenant = "Corner Shop";
    let invitee = "new.person@example.com";
    let password = "another good password";

    let owner = sign_up(
        &app,
        tenant,
        "owner@corner.example.com",
        "the owner's password",
    )
    .await;
    let owner_token = access_token(&owner);

    let body = app
        .graphql(
            Some(&owner_token),
            INVITE_USER,
            json!({ "i": { "email": invitee, "role": "STAFF" } }),
        )
        .await
        .unwrap();
    let invitation = &succeeded(&body, "inviteUser")["invitation"];
    assert_eq!(invitation["email"], invitee, "{body}");
    assert_eq!(invitation["role"], "STAFF", "{body}");
    assert_eq!(invitation["emailStatus"], "SENT", "{body}");
    assert_eq!(invitation["status"], "PENDING", "{body}");

    // The owner was sent the confirmation of their address at sign-up; the invitee exactly
    // one message, carrying the link.
    let messages = smtp.messages();
    assert!(
        messages
            .iter()
            .any(|m| m.rcpt_to == ["owner@corner.example.com"]
                && mail::text_plain(&m.data).is_ok_and(|t| t.contains("/verify-email?token="))),
        "{messages:#?}"
    );
    let to_invitee: Vec<_> = messages
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == invitee))
        .collect();
    assert_eq!(to_invitee.len(), 1, "{messages:#?}");
    let message = to_invitee[0];
    assert_eq!(message.rcpt_to, vec![invitee.to_owned()], "{message:#?}");
    assert_eq!(message.mail_from, "no-reply@orderflow.example.com");
    let parsed = Part::parse(&message.data);
    assert!(
        parsed.header("To").is_some_and(|to| to.contains(invitee)),
        "{message:#?}"
    );
    assert!(
        parsed.header("Subject").is_some_and(|s| s.contains(tenant)),
        "{message:#?}"
    );
    let text = mail::text_plain(&message.data).unwrap();
    let token = mail::invitation_token(&text)
        .unwrap_or_else(|| panic!("no invitation link in the text part:\n{text}"));
    assert!(
        mail::is_invitation_token(&token),
        "unexpected token shape {token:?} in:\n{text}"
    );
    assert!(
        text.contains(&format!("{}/accept-invite?token={token}", app.url(""))),
        "the link does not point at this server:\n{text}"
    );

    // The invitee accepts and is a STAFF member of the tenant.
    let body = app
        .graphql(
            None,
            ACCEPT_INVITE,
            json!({ "i": { "token": token, "password": password } }),
        )
        .await
        .unwrap();
    let accepted = succeeded(&body, "acceptInvite");
    assert_eq!(accepted["role"], "STAFF", "{body}");
    assert_eq!(accepted["tenant"]["id"], owner["tenant"]["id"], "{body}");
    let staff_token = access_token(accepted);
    let who = me(&app, &staff_token).await;
    assert_eq!(who["email"], invitee, "{who}");
    assert_eq!(who["role"], "STAFF", "{who}");
    assert_eq!(who["tenant"]["name"], tenant, "{who}");

    // The new password works, and the link works once only.
    let logged_in = login(&app, invitee, password).await;
    assert_eq!(logged_in["role"], "STAFF", "{logged_in}");
    let body = app
        .graphql(
            None,
            ACCEPT_INVITE,
            json!({ "i": { "token": token, "password": password } }),
        )
        .await
        .unwrap();
    let again = field(&body, "acceptInvite");
    assert_eq!(again["accessToken"], Value::Null, "{body}");
    assert_eq!(again["userErrors"][0]["code"], "INVITATION_USED", "{body}");
    assert_eq!(
        smtp.messages().len(),
        messages.len(),
        "no further mail was sent"
    );

    let status = app.terminate(SHUTDOWN_TIMEOUT).await.unwrap();
    assert!(
        status.success(),
        "orderflow exited with {status} after SIGTERM"
    );
}

/// base64 HMAC-SHA256, as Shopify signs.
fn shopify_signature(secret: &str, body: &[u8]) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shopify_webhook_becomes_an_order_through_the_workers_and_an_import_fills_the_catalog() {
    let mut env = Environment::new().await.unwrap();
    let app = env.start().await.unwrap();
    let owner = sign_up(
        &app,
        "Webhook Shop",
        "owner@webhook-shop.example",
        "webhook shop password",
    )
    .await;
    let token = access_token(&owner);
    let secret = "shopify app secret for e2e";
    let body = app
        .graphql(Some(&token), "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } userErrors { field message code } } }",
            json!({ "i": { "platform": "SHOPIFY", "name": "Main", "shopDomain": "e2e.myshopify.com", "webhookSecret": secret } }))
        .await
        .unwrap();
    let path = succeeded(&body, "createChannelConnection")["channelConnection"]["webhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../backend/tests/fixtures/shopify/rest_order.json"),
    )
    .unwrap();
    let order: Value = serde_json::from_slice::<Value>(&order).unwrap()["order"].clone();
    let payload = serde_json::to_vec(&order).unwrap();
    let res = app
        .client()
        .post(app.url(&path))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Webhook-Id", "e2e-delivery-1")
        .header("X-Shopify-Hmac-Sha256", shopify_signature(secret, &payload))
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{env:?}", env = env.describe());

    // The running workers map it, with no one asking.
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let body = app
            .graphql(
                Some(&token),
                "{ orders { edges { node { name channel email events { kind actor } } } } }",
                json!({}),
            )
            .await
            .unwrap();
        let edges = field(&body, "orders")["edges"].as_array().unwrap().clone();
        if let Some(edge) = edges.first() {
            break edge["node"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the order never appeared ({}): {}",
            env.describe(),
            app.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(found["name"], "#1001");
    assert_eq!(found["channel"], "SHOPIFY");
    assert_eq!(found["events"][0]["actor"], "Shopify (e2e.myshopify.com)");
    let slug = field(
        &app.graphql(Some(&token), "{ tenant { slug } }", json!({}))
            .await
            .unwrap(),
        "tenant",
    )["slug"]
        .as_str()
        .unwrap()
        .to_owned();

    // `orderflow import products` beside the running server: good rows in, the bad one reported.
    let csv = env.data_dir().join("products.csv");
    std::fs::write(&csv, "product,sku,price\niPod Nano,IPOD2008GREEN,199.00\niPod Nano,IPOD2008RED,199.00\niPod Nano,IPOD2008BLACK,one ninety-nine\n").unwrap();
    let out = env
        .run(&[
            "import",
            "products",
            csv.to_str().unwrap(),
            "--tenant",
            &slug,
        ])
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !out.status.success(),
        "a refused row makes the command fail: {stdout} {stderr}"
    );
    assert!(stdout.contains("3 rows — 2 created"), "{stdout}");
    assert!(stderr.contains("line 4, price"), "{stderr}");
    let report = std::fs::read_to_string(env.data_dir().join("products.csv.errors.csv")).unwrap();
    assert!(
        report.starts_with("line,column,message\n4,price,"),
        "{report}"
    );
    let body = app
        .graphql(
            Some(&token),
            "{ variant(sku: \"IPOD2008RED\") { price } }",
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(field(&body, "variant")["price"], "199.00");
    app.terminate(SHUTDOWN_TIMEOUT).await.unwrap();
}
