//! A shop set up over the API the way a merchant's integrator would: an owner, a warehouse in
//! Kentucky with the Shopify fixture's SKUs in stock, a carrier with a ground service, and a
//! Shopify connection; and a way to send it the platform's own signed `orders/create` webhook.

use anyhow::{Context, bail};
use base64::Engine;
use hmac::Mac;
use serde_json::{Value, json};

use crate::orderflow::Orderflow;

pub const PASSWORD: &str = "correct horse battery staple";
const SHOPIFY_SECRET: &str = "shopify secret for the e2e shop";
/// The carrier's tracking webhook secret.
pub const CARRIER_SECRET: &str = "carrier secret for the e2e shop";

/// The fixture order's SKUs.
pub const SKUS: [&str; 5] = [
    "SKU2006-001",
    "LENS-PROTECT-2YR",
    "CASE-LEATHER-PREM",
    "SKU2006-020",
    "SKU2006-035",
];

pub struct Shop {
    pub owner_email: String,
    pub token: String,
    pub warehouse: String,
    /// The Shopify connection's webhook path.
    pub webhook_path: String,
    /// The carrier's tracking webhook path.
    pub carrier_path: String,
}

async fn ok(
    app: &Orderflow,
    token: &str,
    field: &str,
    query: &str,
    vars: Value,
) -> anyhow::Result<Value> {
    app.mutate(token, field, query, vars).await
}

/// Signs up `email` as the owner of a new tenant and sets the shop up.
pub async fn open(app: &Orderflow, name: &str, email: &str) -> anyhow::Result<Shop> {
    let body = app
        .graphql(None, "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken userErrors { message } } }", json!({ "i": { "tenantName": name, "email": email, "password": PASSWORD } }))
        .await?;
    let token = body["data"]["signUp"]["accessToken"]
        .as_str()
        .with_context(|| format!("sign-up failed: {body}"))?
        .to_owned();
    let t = token.as_str();
    let w = ok(app, t, "createWarehouse", "mutation { createWarehouse(input: {code: \"KY1\", name: \"Louisville\", timezone: \"America/New_York\", address: {line1: \"400 W Market St\", city: \"Louisville\", region: \"KY\", postalCode: \"40202\", country: \"US\"}}) { warehouse { id } userErrors { message } } }", json!({})).await?;
    let warehouse = w["warehouse"]["id"]
        .as_str()
        .context("no warehouse id")?
        .to_owned();
    for sku in SKUS.iter().chain(["KETTLE-1"].iter()) {
        ok(app, t, "createProduct", "mutation($s: String!) { createProduct(input: {title: $s, variants: [{sku: $s, price: \"40.00\", weightGrams: 400}]}) { userErrors { message } } }", json!({ "s": sku })).await?;
        ok(app, t, "receiveStock", "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 20}) { userErrors { message } } }", json!({ "s": sku, "w": warehouse })).await?;
    }
    let c = ok(app, t, "createCarrier", "mutation($s: String!) { createCarrier(input: {code: \"ups\", name: \"UPS\", trackingFormat: UPS, account: \"E2E123\", trackingSource: ORDERFLOW, webhookSecret: $s}) { carrier { id trackingWebhookUrl } userErrors { message } } }", json!({ "s": CARRIER_SECRET })).await?;
    let zones: Vec<Value> = (1..=8).map(|z| json!({ "zone": z, "transitDays": 2, "brackets": [{ "upToGrams": 10000, "price": "7.50" }] })).collect();
    ok(app, t, "createCarrierService", "mutation($c: ID!, $r: RateCardInput!) { createCarrierService(input: {carrierId: $c, code: \"ground\", name: \"Ground\", currency: \"USD\", rateCard: $r}) { userErrors { message } } }", json!({ "c": c["carrier"]["id"], "r": { "zones": zones } })).await?;
    let conn = ok(app, t, "createChannelConnection", "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { webhookUrl } userErrors { message } } }", json!({ "i": { "platform": "SHOPIFY", "name": "Main", "shopDomain": "e2e.myshopify.com", "webhookSecret": SHOPIFY_SECRET } })).await?;
    Ok(Shop {
        owner_email: email.to_owned(),
        token,
        warehouse,
        webhook_path: conn["channelConnection"]["webhookUrl"]
            .as_str()
            .context("no webhook URL")?
            .to_owned(),
        carrier_path: c["carrier"]["trackingWebhookUrl"]
            .as_str()
            .context("no tracking webhook URL")?
            .to_owned(),
    })
}

/// Shopify's own `orders/create` fixture, paid and not cancelled.
pub fn shopify_fixture() -> anyhow::Result<Value> {
    let fixture = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../backend/tests/fixtures/shopify/webhook_orders_create.json"),
    )?;
    let mut order: Value = serde_json::from_slice(&fixture)?;
    order["cancelled_at"] = Value::Null;
    order["cancel_reason"] = Value::Null;
    order["financial_status"] = json!("paid");
    Ok(order)
}

/// Posts Shopify's own `orders/create` fixture (paid, not cancelled), signed as Shopify signs.
pub async fn shopify_order(app: &Orderflow, shop: &Shop, webhook_id: &str) -> anyhow::Result<()> {
    let order = shopify_fixture()?;
    shopify_webhook(app, &shop.webhook_path, SHOPIFY_SECRET, webhook_id, &order).await
}

/// Posts `order` as Shopify's `orders/create` webhook to a connection's `path`, signed with
/// its `secret`.
pub async fn shopify_webhook(
    app: &Orderflow,
    path: &str,
    secret: &str,
    webhook_id: &str,
    order: &Value,
) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(order)?;
    let signature = sign(secret, &payload)?;
    post(
        app,
        path,
        &[
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Webhook-Id", webhook_id),
            ("X-Shopify-Hmac-Sha256", &signature),
        ],
        payload,
    )
    .await
}

/// HMAC-SHA256 of `payload` with `secret`, base64: how Shopify and WooCommerce sign.
fn sign(secret: &str, payload: &[u8]) -> anyhow::Result<String> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(payload);
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Posts a webhook's JSON `payload` with `headers` to `path`; it must be taken (200).
async fn post(
    app: &Orderflow,
    path: &str,
    headers: &[(&str, &str)],
    payload: Vec<u8>,
) -> anyhow::Result<()> {
    let mut req = app
        .client()
        .post(app.url(path))
        .header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.body(payload).send().await?;
    if res.status() != 200 {
        bail!("the webhook was answered {}", res.status());
    }
    Ok(())
}

/// Posts WooCommerce's `order.created` fixture (order 727) selling `kettles` kettles and one
/// more item, to a connection's webhook `path` for `domain`, signed with its `secret`.
pub async fn woocommerce_sale(
    app: &Orderflow,
    path: &str,
    domain: &str,
    secret: &str,
    kettles: i64,
) -> anyhow::Result<()> {
    let mut o = crate::fixtures::json("woocommerce/order_created_727_wp_api_v3.json");
    o["line_items"][0]["sku"] = json!("KETTLE-1");
    o["line_items"][0]["quantity"] = json!(kettles);
    o["line_items"][1]["sku"] = json!("SKU2006-020");
    let payload = serde_json::to_vec(&o)?;
    let signature = sign(secret, &payload)?;
    let (delivery, source) = (format!("e2e-{domain}-727"), format!("https://{domain}/"));
    post(
        app,
        path,
        &[
            ("X-WC-Webhook-Topic", "order.created"),
            ("X-WC-Webhook-Signature", &signature),
            ("X-WC-Webhook-Delivery-ID", &delivery),
            ("X-WC-Webhook-Source", &source),
        ],
        payload,
    )
    .await
}

/// Waits until an order named `name` is there; its id.
pub async fn order_named(app: &Orderflow, token: &str, name: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let body = app
            .graphql(
                Some(token),
                "{ orders { edges { node { id name } } } }",
                json!({}),
            )
            .await
            .unwrap_or_default();
        let found = body["data"]["orders"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|e| (e["node"]["name"] == name).then(|| e["node"]["id"].as_str()))
            .flatten();
        if let Some(id) = found {
            return id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no order {name}: {}",
            app.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until the order is in `state`; the order (fields of `query`) then.
pub async fn wait_for_state(
    app: &Orderflow,
    token: &str,
    id: &str,
    state: &str,
) -> anyhow::Result<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let body = app
            .graphql(
                Some(token),
                "query($o: ID!) { order(id: $o) { id name state fraud { score } } }",
                json!({ "o": id }),
            )
            .await?;
        let order = body["data"]["order"].clone();
        if order["state"] == state {
            return Ok(order);
        }
        if std::time::Instant::now() > deadline {
            bail!("order {id} never reached {state}: {order}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
