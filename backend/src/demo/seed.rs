//! The demo shop's setup, once: two warehouses with stock and bins, the catalogue, a supplier
//! for the scarce items, a carrier with rate cards whose tracking webhooks the demo's "carrier"
//! signs, Shopify and WooCommerce connections, fraud settings, a review-request delay of none,
//! and the example automation rule. All through the GraphQL API.

use serde_json::{Value, json};

use super::gql::Api;
use super::shoppers::CATALOG;

/// Secrets the demo's simulated platforms sign with (local only; a real shop sets its own).
pub const SHOPIFY_SECRET: &str = "demo-shopify-webhook-secret";
pub const WOO_SECRET: &str = "demo-woocommerce-webhook-secret";
pub const CARRIER_SECRET: &str = "demo-carrier-webhook-secret";

/// What the stream needs to know of the shop.
#[derive(Clone, Debug)]
pub struct Shop {
    /// The EAST warehouse's id, where the supplier delivers.
    pub east: String,
    pub shopify: uuid::Uuid,
    pub woocommerce: uuid::Uuid,
    pub carrier: uuid::Uuid,
}

fn id_of(v: &Value, type_name: &str) -> anyhow::Result<uuid::Uuid> {
    let raw = v.as_str().unwrap_or_default();
    crate::graphql::relay::decode_id(raw, type_name, "id")
        .map_err(|e| anyhow::anyhow!("{type_name} id: {}", e.public_message()))
}

/// The rate card of a service: ground 5.50 + 0.75 a zone up to 1 kg, 8.00 + 1.25 a zone up to
/// 5 kg, then 1.00 a kilogram; express 18.00 + 2.00 a zone.
fn rate_card(express: bool) -> Value {
    let zones: Vec<Value> = (1..=8)
        .map(|z: i32| {
            let z100 = i64::from(z) * 100;
            let price = |base: i64, per: i64| {
                let cents = base + per * z100 / 100;
                format!("{}.{:02}", cents / 100, cents % 100)
            };
            if express {
                json!({ "zone": z, "transitDays": 1, "brackets": [{ "upToGrams": 5000, "price": price(1800, 200) }] })
            } else {
                json!({ "zone": z, "transitDays": 1 + z / 2, "extraPerKg": "1.00", "brackets": [
                    { "upToGrams": 1000, "price": price(550, 75) },
                    { "upToGrams": 5000, "price": price(800, 125) }
                ] })
            }
        })
        .collect();
    json!({ "dimDivisor": 5000, "maxWeightGrams": 30000, "zones": zones })
}

/// Sets the shop up unless it is (its carrier exists); either way returns what the stream
/// needs.
pub async fn ensure(api: &Api) -> anyhow::Result<Shop> {
    let existing = api
        .call(
            "{ carriers { id code } channelConnections { id platform } warehouses { edges { node { id code } } } }",
            json!({}),
        )
        .await?;
    let carrier = existing["carriers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["code"] == "demo-parcel"))
        .map(|c| c["id"].clone());
    if let Some(carrier) = carrier {
        let conn = |p: &str| {
            existing["channelConnections"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["platform"] == p))
                .map(|c| c["id"].clone())
                .unwrap_or_default()
        };
        let east = existing["warehouses"]["edges"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["node"]["code"] == "EAST"))
            .and_then(|w| w["node"]["id"].as_str())
            .unwrap_or_default()
            .to_owned();
        return Ok(Shop {
            east,
            shopify: id_of(&conn("SHOPIFY"), "ChannelConnection")?,
            woocommerce: id_of(&conn("WOOCOMMERCE"), "ChannelConnection")?,
            carrier: id_of(&carrier, "Carrier")?,
        });
    }
    create(api).await
}

async fn create(api: &Api) -> anyhow::Result<Shop> {
    api.mutate("setTenantTimezone", "mutation { setTenantTimezone(timezone: \"America/New_York\") { timezone userErrors { field message } } }", json!({})).await?;
    let mut warehouses = Vec::new();
    for (code, name, address, tz) in [
        (
            "EAST",
            "Louisville fulfillment centre",
            json!({ "line1": "400 W Market St", "city": "Louisville", "region": "KY", "postalCode": "40202", "country": "US" }),
            "America/New_York",
        ),
        (
            "WEST",
            "Oakland fulfillment centre",
            json!({ "line1": "1 Embarcadero W", "city": "Oakland", "region": "CA", "postalCode": "94607", "country": "US" }),
            "America/Los_Angeles",
        ),
    ] {
        let w = api.mutate("createWarehouse", "mutation($i: CreateWarehouseInput!) { createWarehouse(input: $i) { warehouse { id } userErrors { field message } } }", json!({ "i": { "code": code, "name": name, "address": address, "dailyCapacity": 500, "timezone": tz } })).await?;
        warehouses.push(w["warehouse"]["id"].clone());
    }
    let supplier = api.mutate("createSupplier", "mutation { createSupplier(input: {name: \"Kyoto Ironworks\", email: \"orders@ironworks.example\", leadTimeDays: 12}) { supplier { id } userErrors { field message } } }", json!({})).await?;
    let supplier = supplier["supplier"]["id"].clone();
    for (i, it) in CATALOG.iter().enumerate() {
        let price = format!("{}.{:02}", it.price_cents / 100, it.price_cents % 100);
        let cost = format!("{}.{:02}", it.cost_cents / 100, it.cost_cents % 100);
        let barcode = ean13(4_006_381_000_000 + i as u64);
        api.mutate("createProduct", "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id } userErrors { field message } } }", json!({ "i": { "title": it.title, "vendor": "Orderflow Demo", "variants": [{ "sku": it.sku, "price": price, "cost": cost, "barcode": barcode, "weightGrams": it.grams, "lengthMm": 250, "widthMm": 200, "heightMm": 150 }] } })).await?;
        for (w, units) in warehouses.iter().zip(it.stock) {
            if units > 0 {
                api.mutate("receiveStock", "mutation($s: String!, $w: ID!, $q: Int!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: $q, reference: \"opening stock\"}) { userErrors { field message } } }", json!({ "s": it.sku, "w": w, "q": units })).await?;
            }
            let bin = format!("{}-{:02}", (b'A' + (i % 4) as u8) as char, i + 1);
            api.mutate("setBinLocation", "mutation($s: String!, $w: ID!, $b: String) { setBinLocation(input: {sku: $s, warehouseId: $w, binLocation: $b}) { userErrors { field message } } }", json!({ "s": it.sku, "w": w, "b": bin })).await?;
        }
        if it.stock.iter().sum::<i64>() < 10 {
            api.mutate("setSupplierItem", "mutation($i: SetSupplierItemInput!) { setSupplierItem(input: $i) { userErrors { field message } } }", json!({ "i": { "supplierId": supplier, "sku": it.sku, "availableQuantity": 200, "leadTimeDays": 12, "cost": cost } })).await?;
        }
    }
    let carrier = api.mutate("createCarrier", "mutation($i: CreateCarrierInput!) { createCarrier(input: $i) { carrier { id } userErrors { field message } } }", json!({ "i": { "code": "demo-parcel", "name": "Demo Parcel", "trackingFormat": "ORDERFLOW", "trackingSource": "ORDERFLOW", "webhookSecret": CARRIER_SECRET } })).await?;
    let carrier_id = carrier["carrier"]["id"].clone();
    for (code, name, express, cutoff) in [
        ("ground", "Ground", false, "17:00"),
        ("express", "Express", true, "15:00"),
    ] {
        api.mutate("createCarrierService", "mutation($i: CreateCarrierServiceInput!) { createCarrierService(input: $i) { service { id } userErrors { field message } } }", json!({ "i": { "carrierId": carrier_id, "code": code, "name": name, "currency": "USD", "rateCard": rate_card(express), "cutoff": cutoff } })).await?;
    }
    // No API credentials: nothing real stands behind the demo's shop domains, so Orderflow
    // neither reconciles with them nor writes fulfilments back (both need API access).
    let connect = "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { id } userErrors { field message } } }";
    let shopify = api.mutate("createChannelConnection", connect, json!({ "i": { "platform": "SHOPIFY", "name": "Demo Shopify store", "shopDomain": "orderflow-demo.myshopify.com", "webhookSecret": SHOPIFY_SECRET } })).await?;
    let woo = api.mutate("createChannelConnection", connect, json!({ "i": { "platform": "WOOCOMMERCE", "name": "Demo WooCommerce store", "shopDomain": "shop.orderflow-demo.example", "webhookSecret": WOO_SECRET } })).await?;
    // The demo's channels are not real shops: its refunds are recorded, never sent.
    api.mutate("updateRefundSettings", "mutation { updateRefundSettings(rule: SIMULATED) { settings { rule } userErrors { field message } } }", json!({})).await?;
    api.mutate("updateLifecycleSettings", "mutation { updateLifecycleSettings(input: {fraudReviewScore: 40, fraudRejectScore: 90, highRiskCountries: [\"NG\"], lowStockThreshold: 10}) { userErrors { field message } } }", json!({})).await?;
    api.mutate("saveAutomationRule", "mutation($i: SaveAutomationRuleInput!) { saveAutomationRule(input: $i) { rule { id } userErrors { field message } } }", json!({ "i": { "name": "Big and risky: hold for a look", "trigger": "order.screened", "condition": "fraud.score > 70 and order.total > 500", "actions": [{ "kind": "HOLD", "value": "big and risky" }, { "kind": "ADD_TAG", "value": "fraud-check" }] } })).await?;
    api.mutate("saveAutomationRule", "mutation($i: SaveAutomationRuleInput!) { saveAutomationRule(input: $i) { rule { id } userErrors { field message } } }", json!({ "i": { "name": "Tag big orders VIP", "trigger": "order.received", "condition": "order.total >= 150", "actions": [{ "kind": "ADD_TAG", "value": "vip" }] } })).await?;
    api.mutate("saveAutomationRule", "mutation($i: SaveAutomationRuleInput!) { saveAutomationRule(input: $i) { rule { id } userErrors { field message } } }", json!({ "i": { "name": "Running low: reorder", "trigger": "order.stock_low", "condition": "stock.available < 10", "actions": [{ "kind": "CREATE_TASK", "value": "Reorder stock running low" }] } })).await?;
    Ok(Shop {
        east: warehouses[0].as_str().unwrap_or_default().to_owned(),
        shopify: id_of(&shopify["channelConnection"]["id"], "ChannelConnection")?,
        woocommerce: id_of(&woo["channelConnection"]["id"], "ChannelConnection")?,
        carrier: id_of(&carrier_id, "Carrier")?,
    })
}

/// A valid EAN-13 from its first twelve digits.
fn ean13(first12: u64) -> String {
    let digits: Vec<u32> = format!("{first12:012}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    format!("{first12:012}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcodes_carry_their_check_digit() {
        // 4006381333931 is a well-known valid EAN-13.
        assert_eq!(ean13(400_638_133_393), "4006381333931");
    }
}
